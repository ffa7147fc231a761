"""The overdue scan: warnings and reminders once per deadline, media escalation
once per case, with its Hot Tracking story, decided from the database alone."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from newsroom.models import HotTrackingPage
from tests.factories import CaseFactory, CategoryFactory, aware, supervisor
from tracking import services
from tracking.calendar import add_working_hours
from tracking.escalation import scan_overdue
from tracking.models import Case, CaseEvent, CaseNotice, State
from tracking.tasks import scan_overdue as scan_task

pytestmark = pytest.mark.django_db

# Thursday 2026-11-26, 10:00 in Shanghai; the 2026 calendar is loaded.
NOW = aware(2026, 11, 26, 10)


@pytest.fixture(autouse=True)
def _calendar(calendar_2026):
    return calendar_2026


def dispatched(due_at, *, efficiency=True, category=None, state=State.DISPATCHED):
    category = category or CategoryFactory(escalation_threshold_days=3)
    return CaseFactory(
        state=state,
        is_efficiency=efficiency,
        category=category,
        dispatched_at=due_at - timedelta(days=7),
        due_at=due_at,
    )


def events(case, action):
    return CaseEvent.objects.filter(case=case, action=action).count()


def test_a_case_past_its_deadline_is_reminded_once_per_deadline():
    case = dispatched(aware(2026, 11, 25, 18), efficiency=False)

    assert scan_overdue(now=NOW).reminded == 1
    assert scan_overdue(now=NOW + timedelta(hours=1)).reminded == 0
    assert events(case, "reminder") == 1

    services.case_extend_deadline(
        case=Case.objects.get(pk=case.pk), user=supervisor(), working_days=1,
        reason="部门申请延期", now=NOW,
    )
    later = NOW + timedelta(days=2)
    assert scan_overdue(now=later).reminded == 1
    assert events(case, "reminder") == 2
    assert CaseNotice.objects.filter(case=case, kind="reminder").count() == 2


def test_a_department_is_warned_once_when_the_deadline_is_near():
    near = dispatched(add_working_hours(NOW, 2), efficiency=False)
    far = dispatched(NOW + timedelta(days=10), efficiency=False)

    assert scan_overdue(now=NOW).warned == 1
    assert scan_overdue(now=NOW).warned == 0
    assert events(near, "warning") == 1
    assert events(far, "warning") == 0


def test_working_hours_skip_nights_and_weekends():
    friday_afternoon = aware(2026, 11, 27, 16)
    assert add_working_hours(friday_afternoon, 4) == aware(2026, 11, 30, 11)
    assert add_working_hours(aware(2026, 11, 28, 12), 1) == aware(2026, 11, 30, 10)


def test_an_efficiency_complaint_overdue_past_the_threshold_goes_to_the_paper_once():
    case = dispatched(aware(2026, 11, 18, 18))  # 5 working days overdue

    result = scan_overdue(now=NOW)

    case.refresh_from_db()
    assert result.escalated == 1
    assert case.state == State.SUPERVISED
    assert case.escalated_at == NOW
    event = CaseEvent.objects.get(case=case, action="escalate")
    assert event.public and event.actor is None
    story = HotTrackingPage.objects.get(case=case)
    assert story.current_workflow_state is not None
    assert result.stories == 1

    again = scan_overdue(now=NOW + timedelta(minutes=5))
    assert (again.escalated, again.stories) == (0, 0)
    assert events(case, "escalate") == 1
    assert HotTrackingPage.objects.filter(case=case).count() == 1


def test_a_category_that_escalates_takes_ordinary_cases_to_the_paper_too():
    escalating = CategoryFactory(escalates=True, escalation_threshold_days=1)
    quiet = CategoryFactory(escalates=False, escalation_threshold_days=1)
    taken = dispatched(aware(2026, 11, 20, 18), efficiency=False, category=escalating)
    left = dispatched(aware(2026, 11, 20, 18), efficiency=False, category=quiet)

    scan_overdue(now=NOW)

    assert Case.objects.get(pk=taken.pk).state == State.SUPERVISED
    assert Case.objects.get(pk=left.pk).state == State.DISPATCHED
    assert events(left, "reminder") == 1


def test_nothing_is_escalated_before_the_threshold():
    case = dispatched(aware(2026, 11, 24, 18))  # 1 full working day overdue

    assert scan_overdue(now=NOW).escalated == 0
    assert Case.objects.get(pk=case.pk).state == State.DISPATCHED


def test_a_case_due_before_national_day_is_not_overdue_during_the_holiday():
    category = CategoryFactory(escalation_threshold_days=1)
    case = dispatched(aware(2026, 9, 30, 18), category=category)

    assert scan_overdue(now=aware(2026, 10, 5, 10)).escalated == 0
    assert scan_overdue(now=aware(2026, 10, 8, 17)).escalated == 0
    assert Case.objects.get(pk=case.pk).state == State.DISPATCHED

    assert scan_overdue(now=aware(2026, 10, 8, 18, 30)).escalated == 1
    assert Case.objects.get(pk=case.pk).state == State.SUPERVISED


def test_a_case_that_already_has_a_story_is_never_escalated_again():
    from newsroom.services import story_create_for_case

    case = dispatched(aware(2026, 11, 18, 18), state=State.REOPENED)
    story_create_for_case(case=case, now=NOW)

    assert scan_overdue(now=NOW).escalated == 0
    assert Case.objects.get(pk=case.pk).state == State.REOPENED
    assert HotTrackingPage.objects.filter(case=case).count() == 1


def test_an_escalated_case_without_a_story_gets_one_on_the_next_pass():
    case = dispatched(aware(2026, 11, 18, 18))
    services.case_escalate(case=case, user=None, now=NOW)
    HotTrackingPage.objects.filter(case=case).delete()
    assert not HotTrackingPage.objects.filter(case=case).exists()

    assert scan_overdue(now=NOW).stories == 1
    assert HotTrackingPage.objects.filter(case=case).exists()


def test_the_command_and_the_task_run_the_same_pass(capsys):
    import time_machine

    case = dispatched(aware(2026, 11, 18, 18))

    with time_machine.travel(NOW, tick=False):
        assert scan_task.run()["escalated"] == 1
        call_command("scan_overdue")
    assert Case.objects.get(pk=case.pk).state == State.SUPERVISED
    assert "escalated 0, stories 0" in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_scans_escalate_and_remind_every_case_exactly_once(hot_tracking_site):
    from tests.concurrency import race
    from tracking.calendar import import_chinesecalendar

    import_chinesecalendar([2025, 2026])
    cases = [dispatched(aware(2026, 11, 18, 18)) for _ in range(24)]

    outcomes = race(*[lambda: scan_overdue(now=NOW, batch_size=5)] * 3)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o.escalated for o in outcomes) == len(cases)
    assert sum(o.reminded for o in outcomes) == len(cases)
    ids = [c.pk for c in cases]
    assert CaseEvent.objects.filter(case_id__in=ids, action="escalate").count() == 24
    assert CaseEvent.objects.filter(case_id__in=ids, action="reminder").count() == 24
    assert HotTrackingPage.objects.filter(case_id__in=ids).count() == 24
    assert set(Case.objects.filter(pk__in=ids).values_list("state", flat=True)) == {
        State.SUPERVISED
    }


def _calendar_reads(queries) -> int:
    return sum("tracking_workingcalendar" in q["sql"] for q in queries)


def test_a_pass_reads_the_working_calendar_once_however_many_cases_it_escalates():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reads = []
    for count in (2, 12):
        category = CategoryFactory(escalation_threshold_days=3)
        for _ in range(count):
            dispatched(aware(2026, 11, 18, 18), category=category)
        with CaptureQueriesContext(connection) as captured:
            assert scan_overdue(now=NOW).escalated == count
        reads.append(_calendar_reads(captured.captured_queries))

    assert reads[0] == reads[1]
    assert reads[0] <= 2  # at most one query per year touched


def test_a_missing_year_is_warned_about_once_per_pass(caplog):
    from tracking.models import WorkingCalendar

    WorkingCalendar.objects.all().delete()
    # 2027: no source knows it (2026 is known to chinesecalendar at runtime).
    for _ in range(5):
        dispatched(aware(2027, 2, 4, 18))

    assert scan_overdue(now=aware(2027, 2, 16, 19)).escalated == 5

    warnings = [r for r in caplog.records if "No official working" in r.message]
    assert len(warnings) == 1


@pytest.mark.parametrize(
    "moment, days_overdue, supervised",
    [
        (aware(2026, 10, 1, 10), 0, False),  # National Day
        (aware(2026, 10, 7, 20), 0, False),  # last day of the holiday
        (aware(2026, 10, 8, 17), 0, False),  # first working day, office open
        (aware(2026, 10, 8, 18, 30), 1, True),  # ... and after it closed
    ],
)
def test_with_the_clock_at_national_day_the_beat_task_escalates_only_after_it(
    moment, days_overdue, supervised
):
    import time_machine

    category = CategoryFactory(escalation_threshold_days=1)
    case = dispatched(aware(2026, 9, 30, 18), category=category)

    with time_machine.travel(moment, tick=False):
        assert Case.objects.get(pk=case.pk).working_days_overdue() == days_overdue
        assert Case.objects.overdue(by_working_days=1).filter(pk=case.pk).exists() is (
            supervised
        )
        result = scan_task.run()

    assert result["escalated"] == int(supervised)
    assert Case.objects.get(pk=case.pk).state == (
        State.SUPERVISED if supervised else State.DISPATCHED
    )
