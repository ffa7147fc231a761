"""A supervisor may hand a case to the media before the scan's threshold, with a
reason; the timeline records it as their decision, the figures the paper reports
stay right, and the story is made as for a case the scan escalated. The scan keeps
the threshold rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import translation
from wagtail.users.models import UserProfile

from newsroom.models import HotTrackingPage
from tests.factories import CaseFactory, CategoryFactory, aware, officer, supervisor
from tracking import services as svc
from tracking.escalation import scan_overdue
from tracking.exceptions import CasePermissionDenied, InvalidInput, TransitionRefused
from tracking.models import Case, CaseEvent, State

pytestmark = pytest.mark.django_db

# Thursday 2026-11-26, 10:00 in Shanghai.
NOW = aware(2026, 11, 26, 10)
REASON = "连续三次催办无回应，市民再次来电反映。"


@pytest.fixture(autouse=True)
def _calendar(calendar_2026):
    return calendar_2026


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def complaint(due_at, **fields) -> Case:
    fields.setdefault("state", State.IN_PROGRESS)
    return CaseFactory(
        is_efficiency=True,
        category=CategoryFactory(escalation_threshold_days=3),
        dispatched_at=due_at - timedelta(days=7),
        due_at=due_at,
        **fields,
    )


def named_supervisor():
    return supervisor(username="chen.gang", first_name="督办员 陈刚", last_name="")


def test_a_supervisor_escalates_before_the_deadline_with_a_reason():
    due = aware(2026, 11, 30, 17, 30)  # not even overdue yet
    case = complaint(due)
    user = named_supervisor()

    escalated = svc.case_escalate(case=case, user=user, reason=REASON, now=NOW)

    assert escalated.state == State.SUPERVISED
    assert escalated.escalated_at == NOW
    # What the paper reports: the deadline in force, 0 working days overdue.
    assert escalated.escalated_due_at == due
    assert escalated.escalated_days_overdue == 0
    event = CaseEvent.objects.get(case=case, action="escalate")
    assert (event.actor, event.note, event.public) == (user, REASON, True)


def test_a_supervisor_escalates_an_overdue_case_before_the_threshold():
    # Due Monday 23 Nov 17:30: by Thursday 10:00, 24th and 25th have ended.
    case = complaint(aware(2026, 11, 23, 17, 30))

    escalated = svc.case_escalate(
        case=case, user=named_supervisor(), reason=REASON, now=NOW
    )

    assert escalated.escalated_days_overdue == 2


def test_the_scan_keeps_the_threshold():
    case = complaint(aware(2026, 11, 23, 17, 30))

    with pytest.raises(TransitionRefused, match="not yet 3 working days overdue"):
        svc.case_escalate(case=case, user=None, now=NOW)
    scan_overdue(now=NOW)

    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    assert case.escalated_at is None


def test_a_reason_is_required():
    case = complaint(aware(2026, 11, 30, 17, 30))

    with pytest.raises(InvalidInput, match="reason"):
        svc.case_escalate(case=case, user=named_supervisor(), reason="  ", now=NOW)

    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS


def test_an_officer_may_not_escalate():
    case = complaint(aware(2026, 11, 30, 17, 30))

    with pytest.raises(CasePermissionDenied):
        svc.case_escalate(case=case, user=officer(), reason=REASON, now=NOW)


def test_a_case_handed_to_the_media_before_is_not_escalated_again():
    first = aware(2026, 11, 10, 10)
    case = complaint(aware(2026, 12, 3, 17, 30), state=State.REOPENED)
    Case.objects.filter(pk=case.pk).update(escalated_at=first, escalated_days_overdue=4)

    with pytest.raises(TransitionRefused, match="already"):
        svc.case_escalate(case=case, user=named_supervisor(), reason=REASON, now=NOW)

    case.refresh_from_db()
    assert (case.state, case.escalated_at) == (State.REOPENED, first)
    assert case.escalated_days_overdue == 4


@pytest.mark.parametrize("state", [State.ACCEPTED, State.SUPERVISED, State.REPLIED])
def test_a_case_in_a_state_that_cannot_be_escalated_is_refused(state):
    case = complaint(aware(2026, 11, 30, 17, 30), state=state)

    with pytest.raises(TransitionRefused, match="cannot be escalated"):
        svc.case_escalate(case=case, user=named_supervisor(), reason=REASON, now=NOW)


# --- the case page --------------------------------------------------------------------


def client_for(user) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def offered(page: BeautifulSoup) -> set[str]:
    return {node["data-case-action"] for node in page.select("[data-case-action]")}


def test_the_page_offers_supervisors_the_early_escalation_and_records_it_as_theirs():
    case = complaint(aware(2026, 12, 30, 17, 30))
    user = named_supervisor()
    client = client_for(user)
    page = BeautifulSoup(
        client.get(f"/admin/tracking/cases/{case.pk}/").content, "html.parser"
    )
    assert "escalate" in offered(page)
    other = BeautifulSoup(
        client_for(officer()).get(f"/admin/tracking/cases/{case.pk}/").content,
        "html.parser",
    )
    assert "escalate" not in offered(other)

    response = client.post(
        f"/admin/tracking/cases/{case.pk}/transitions/escalate/",
        {"expect_state": case.state, "reason": REASON},
        follow=True,
    )

    case.refresh_from_db()
    assert case.state == State.SUPERVISED
    page = BeautifulSoup(response.content.decode(), "html.parser")
    row = page.select_one('#case-timeline-table tr[data-event-action="escalate"]')
    decision = row.select_one("[data-escalation-decision]").get_text(strip=True)
    # In Chinese: "督办员 陈刚 提前转媒体督办：<reason>".
    assert decision == f"督办员 陈刚 escalated it ahead of the threshold: {REASON}"


def test_a_refused_escalation_says_why_without_an_error_page():
    case = complaint(aware(2026, 12, 30, 17, 30))
    client = client_for(named_supervisor())

    response = client.post(
        f"/admin/tracking/cases/{case.pk}/transitions/escalate/",
        {"expect_state": case.state, "reason": ""},
        follow=True,
    )

    assert response.status_code == 200
    assert "A reason is required to escalate a case by hand." in (
        response.content.decode()
    )
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS


# --- the story ------------------------------------------------------------------------


def test_a_hand_escalated_case_gets_its_story_as_a_scanned_one(hot_tracking_site):
    scanned = complaint(aware(2026, 11, 18, 17, 30))  # 5 working days overdue
    scan_overdue(now=NOW)
    by_hand = complaint(aware(2026, 11, 30, 17, 30))

    svc.case_escalate(case=by_hand, user=named_supervisor(), reason=REASON, now=NOW)

    for case in (scanned, by_hand):
        story = HotTrackingPage.objects.get(case=case)
        event = CaseEvent.objects.get(case=case, action="story")
        assert (event.actor, event.public, event.note) == (None, False, story.title)
    # The scan finds nothing more to do for either.
    assert scan_overdue(now=NOW + timedelta(minutes=5)).stories == 0
    assert HotTrackingPage.objects.filter(case=by_hand).count() == 1
