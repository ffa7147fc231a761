"""Case.escalates_at names the instant the overdue scan hands a case to the media:
the scan's own rule (escalation_candidates) agrees with it on both sides."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import CaseFactory, CategoryFactory, aware
from tracking.calendar import local_zone
from tracking.escalation import escalation_candidates
from tracking.models import Case, State

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _calendar(calendar_2026):
    return calendar_2026


def overdue_case(due_at, *, threshold=3, **kwargs):
    return CaseFactory(
        state=kwargs.pop("state", State.DISPATCHED),
        is_efficiency=kwargs.pop("is_efficiency", True),
        category=CategoryFactory(escalation_threshold_days=threshold),
        dispatched_at=due_at - timedelta(days=7),
        due_at=due_at,
        **kwargs,
    )


def candidate(case, now) -> bool:
    return escalation_candidates(now).filter(pk=case.pk).exists()


def test_a_case_due_on_a_friday_escalates_at_the_close_of_the_third_working_day():
    # Due Friday 2026-11-27 17:30; Mon 30, Tue 1, Wed 2 December are working days.
    case = overdue_case(aware(2026, 11, 27, 17, 30), threshold=3)
    at = case.escalates_at()

    local = at.astimezone(local_zone())
    assert local.date().isoformat() == "2026-12-02"
    assert local.time() == django_settings.TRACKING_OFFICE_CLOSING_TIME
    assert not candidate(case, at - SECOND)
    assert candidate(case, at)


def test_the_national_day_holiday_and_its_make_up_workday_count_as_the_calendar_says():
    # Due Tuesday 2026-09-29: 1-7 October are holidays, Sunday 27 Sept and Saturday
    # 10 Oct are make-up workdays (2026 calendar).
    case = overdue_case(aware(2026, 9, 29, 17, 30), threshold=2)
    local = case.escalates_at().astimezone(local_zone())
    assert not candidate(case, case.escalates_at() - SECOND)
    assert candidate(case, case.escalates_at())
    assert local.date().isoformat() == "2026-10-08"


@settings(max_examples=40, deadline=None)
@given(
    days_back=st.integers(min_value=0, max_value=40),
    threshold=st.integers(min_value=1, max_value=8),
)
def test_the_scan_and_the_forecast_agree(days_back, threshold):
    due_at = aware(2026, 11, 20, 17, 30) - timedelta(days=days_back)
    case = overdue_case(due_at, threshold=threshold)
    at = case.escalates_at()
    assert not candidate(case, at - SECOND)
    assert candidate(case, at)
    Case.objects.filter(pk=case.pk).delete()


@pytest.mark.parametrize(
    "change",
    [
        {"is_efficiency": False},
        {"state": State.SUPERVISED},
        {"state": State.CLOSED},
        {"escalated_at": aware(2026, 11, 1, 9)},
    ],
)
def test_no_forecast_for_a_case_the_scan_will_not_escalate(change):
    case = overdue_case(aware(2026, 11, 27, 17, 30), **change)
    assert case.escalates_at() is None
