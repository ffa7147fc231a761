"""Chinese working days: holidays, make-up workdays (调休), deadlines and imports.

Dates are those the State Council published for 2026, as shipped in the
``chinesecalendar`` package: Spring Festival 15–23 February with make-up workdays
on Saturday 14 and Saturday 28 February; National Day 1–7 October with make-up
workdays on Sunday 20 September and Saturday 10 October.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from wagtail.admin.utils import get_user_display_name
from wagtail.users.models import UserProfile

from tests.factories import (
    CallbackFactory,
    CaseFactory,
    CategoryFactory,
    DepartmentFactory,
    aware,
    case_in_state,
    officer,
    supervisor,
)
from tracking import services as svc
from tracking.calendar import (
    WorkCalendar,
    add_working_days,
    deadline_after,
    is_workday,
    missing_years,
    overdue_cutoff,
    shared,
    upcoming_missing_years,
    working_days_overdue,
)
from tracking.escalation import scan_overdue
from tracking.exceptions import InvalidInput, TransitionRefused
from tracking.models import CalendarYear, Case, CaseEvent, WorkingCalendar

pytestmark = pytest.mark.django_db

D = date


# --- is_workday -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 2, 13), True),  # Friday before the holiday
        (D(2026, 2, 14), True),  # Saturday, make-up workday
        (D(2026, 2, 15), False),  # Sunday, first day of the holiday
        (D(2026, 2, 16), False),  # Monday within the holiday
        (D(2026, 2, 20), False),
        (D(2026, 2, 23), False),  # Monday, last day of the holiday
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),  # Saturday, make-up workday
        (D(2026, 3, 1), False),  # an ordinary Sunday
        (D(2026, 3, 7), False),  # an ordinary Saturday
        (D(2026, 3, 4), True),  # an ordinary Wednesday
    ],
)
def test_is_workday_around_spring_festival_2026(calendar_2026, day, expected):
    assert is_workday(day) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 9, 19), False),  # an ordinary Saturday
        (D(2026, 9, 20), True),  # Sunday, make-up workday
        (D(2026, 9, 30), True),
        *[(D(2026, 10, n), False) for n in range(1, 8)],
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # Saturday, make-up workday
        (D(2026, 10, 11), False),
    ],
)
def test_is_workday_around_national_day_2026(calendar_2026, day, expected):
    assert is_workday(day) is expected


# --- add_working_days and deadlines ---------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2026, 3, 2), 0, D(2026, 3, 2)),
        (D(2026, 3, 2), 1, D(2026, 3, 3)),  # the start day itself never counts
        (D(2026, 3, 6), 1, D(2026, 3, 9)),  # over an ordinary weekend
        (D(2026, 3, 7), 1, D(2026, 3, 9)),  # from a Saturday
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # onto the make-up Saturday
        (D(2026, 2, 13), 2, D(2026, 2, 24)),  # across the whole Spring Festival
        (D(2026, 2, 14), 1, D(2026, 2, 24)),
        (D(2026, 2, 24), 4, D(2026, 2, 28)),  # onto the second make-up Saturday
        (D(2026, 9, 18), 1, D(2026, 9, 20)),  # onto the make-up Sunday
        (D(2026, 9, 30), 1, D(2026, 10, 8)),  # across National Day
        (D(2026, 9, 30), 3, D(2026, 10, 10)),
        (D(2026, 9, 30), 4, D(2026, 10, 12)),
        (D(2026, 10, 3), 1, D(2026, 10, 8)),  # from inside the holiday
    ],
)
def test_add_working_days_counts_only_working_days_after_start(
    calendar_2026, start, days, expected
):
    assert add_working_days(start, days) == expected


def test_add_working_days_refuses_negative_counts(calendar_2026):
    with pytest.raises(ValueError):
        add_working_days(D(2026, 3, 2), -1)


def test_deadline_is_office_closing_time_of_the_nth_working_day(calendar_2026):
    deadline = deadline_after(aware(2026, 9, 29, 15, 0), 5)

    assert deadline == aware(2026, 10, 12, 18, 0)
    assert deadline.tzinfo is not None


def test_deadline_follows_the_office_closing_time_setting(calendar_2026, settings):
    settings.TRACKING_OFFICE_CLOSING_TIME = time(17, 30)

    assert deadline_after(aware(2026, 9, 29, 15), 1) == aware(2026, 9, 30, 17, 30)


def test_deadline_counts_from_the_day_in_shanghai_not_utc(calendar_2026):
    # 17:00 UTC on 29 September is already 01:00 on 30 September in Shanghai.
    start = datetime(2026, 9, 29, 17, 0, tzinfo=UTC)

    assert deadline_after(start, 1) == aware(2026, 10, 8, 18)


def test_dispatch_sets_due_at_across_national_day(calendar_2026):
    case = case_in_state("accepted", category=CategoryFactory(handling_days=5))
    dept = case.department

    dispatched = svc.case_dispatch(
        case=case, user=officer(), department=dept, now=aware(2026, 9, 29, 15)
    )

    # 30 Sept, 8, 9, 10 (make-up Saturday) and 12 October.
    assert dispatched.due_at == aware(2026, 10, 12, 18)
    assert Case.objects.get(pk=case.pk).due_at == aware(2026, 10, 12, 18)


def test_dispatch_sets_due_at_across_spring_festival(calendar_2026):
    case = case_in_state("accepted", category=CategoryFactory(handling_days=3))

    dispatched = svc.case_dispatch(
        case=case,
        user=officer(),
        department=case.department,
        now=aware(2026, 2, 12, 9),
    )

    # Friday 13, make-up Saturday 14, then Tuesday 24 February.
    assert dispatched.due_at == aware(2026, 2, 24, 18)


def test_case_without_category_uses_default_handling_days(calendar_2026, settings):
    settings.TRACKING_DEFAULT_HANDLING_DAYS = 2
    dept = DepartmentFactory()
    case = case_in_state("accepted", category=None, department=dept)

    dispatched = svc.case_dispatch(
        case=case, user=officer(), department=dept, now=aware(2026, 9, 29, 15)
    )

    assert dispatched.due_at == aware(2026, 10, 8, 18)


def test_reopen_sets_a_new_deadline(calendar_2026):
    case = case_in_state(
        "replied",
        dispatched_at=aware(2026, 9, 1, 10),
        due_at=aware(2026, 9, 8, 18),
        replied_at=aware(2026, 9, 7, 10),
    )
    CallbackFactory(case=case, outcome="dissatisfied", called_at=aware(2026, 9, 28, 9))

    reopened = svc.case_reopen(case=case, user=officer(), now=aware(2026, 9, 29, 15))

    assert reopened.due_at == aware(2026, 10, 12, 18)


def test_redispatch_after_return_sets_a_new_deadline(calendar_2026):
    case = case_in_state(
        "returned",
        dispatched_at=aware(2026, 9, 1, 10),
        due_at=aware(2026, 9, 8, 18),
        bounce_count=1,
    )

    again = svc.case_dispatch(
        case=case,
        user=officer(),
        department=case.department,
        now=aware(2026, 9, 30, 10),
    )

    assert again.dispatched_at == aware(2026, 9, 30, 10)
    assert again.due_at == aware(2026, 10, 13, 18)


# --- extending a deadline -------------------------------------------------------------


def _due_before_national_day():
    return case_in_state(
        "in_progress",
        dispatched_at=aware(2026, 9, 23, 10),
        due_at=aware(2026, 9, 30, 18),
    )


def test_extend_moves_due_at_by_working_days_and_logs_it(calendar_2026):
    case = _due_before_national_day()

    extended = svc.case_extend_deadline(
        case=case,
        user=supervisor(),
        working_days=2,
        reason="需协调多部门",
        now=aware(2026, 9, 30, 9),
    )

    assert extended.due_at == aware(2026, 10, 9, 18)
    assert extended.state == "in_progress"
    event = CaseEvent.objects.get(case=case, action="extend")
    assert "需协调多部门" in event.note
    assert "2026-09-30 18:00" in event.note
    assert "2026-10-09 18:00" in event.note
    assert CaseEvent.objects.filter(case=case).count() == 1


@pytest.mark.parametrize(
    ("working_days", "reason"), [(2, ""), (2, "   "), (0, "理由"), (-1, "理由")]
)
def test_extend_requires_a_reason_and_a_positive_count(
    calendar_2026, working_days, reason
):
    case = _due_before_national_day()

    with pytest.raises(InvalidInput):
        svc.case_extend_deadline(
            case=case,
            user=supervisor(),
            working_days=working_days,
            reason=reason,
            now=aware(2026, 9, 30, 9),
        )

    assert Case.objects.get(pk=case.pk).due_at == aware(2026, 9, 30, 18)
    assert not CaseEvent.objects.filter(case=case).exists()


@pytest.mark.parametrize("state", ["accepted", "replied", "closed"])
def test_only_a_case_awaiting_a_department_can_be_extended(calendar_2026, state):
    case = case_in_state(state, due_at=aware(2026, 9, 30, 18))

    with pytest.raises(TransitionRefused):
        svc.case_extend_deadline(
            case=case,
            user=supervisor(),
            working_days=2,
            reason="理由",
            now=aware(2026, 9, 30, 9),
        )

    assert not CaseEvent.objects.filter(case=case).exists()


# --- overdue in working days ----------------------------------------------------------


def test_case_due_before_national_day_is_not_overdue_in_working_days_during_it(
    calendar_2026,
):
    case = _due_before_national_day()
    holiday = aware(2026, 10, 5, 12)

    assert case.is_overdue(holiday)
    assert case.working_days_overdue(holiday) == 0
    assert not case.is_overdue_for_escalation(holiday)
    assert list(Case.objects.overdue(holiday)) == [case]
    assert not Case.objects.overdue(holiday, by_working_days=1).exists()


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (aware(2026, 10, 8, 17, 59), 0),
        (aware(2026, 10, 8, 18, 0), 1),
        (aware(2026, 10, 9, 18, 0), 2),
        (aware(2026, 10, 10, 18, 0), 3),  # the make-up Saturday counts
        (aware(2026, 10, 11, 12, 0), 3),  # an ordinary Sunday does not
        (aware(2026, 10, 12, 9, 0), 3),
        (aware(2026, 10, 12, 18, 0), 4),
    ],
)
def test_working_days_overdue_counts_ended_working_days(calendar_2026, now, days):
    case = _due_before_national_day()

    assert case.working_days_overdue(now) == days
    assert working_days_overdue(case.due_at, now) == days


def test_overdue_cutoff_agrees_with_working_days_overdue(calendar_2026):
    """For every deadline and instant around National Day, a case is in
    ``overdue(by_working_days=N)`` exactly when it is N working days overdue."""
    dues = [
        aware(2026, 9, 29, 18),
        aware(2026, 9, 30, 12),
        aware(2026, 9, 30, 18),
        aware(2026, 10, 8, 18),
        aware(2026, 10, 10, 18),
        aware(2026, 10, 12, 18),
    ]
    cases = [case_in_state("dispatched", due_at=due) for due in dues]
    instants = [
        aware(2026, 9, 30, 17) + timedelta(hours=h) for h in range(0, 14 * 24, 7)
    ]
    for now in instants:
        for n in range(0, 5):
            found = set(
                Case.objects.overdue(now, by_working_days=n).values_list(
                    "pk", flat=True
                )
            )
            expected = {
                case.pk
                for case in cases
                if case.is_overdue(now) and case.working_days_overdue(now) >= n
            }
            assert found == expected, (now, n)


def test_overdue_cutoff_is_now_without_working_days(calendar_2026):
    now = aware(2026, 10, 5, 12)

    assert overdue_cutoff(now) == now
    # Last completed working day: 30 September; one working day back from it.
    assert overdue_cutoff(now, 1) == aware(2026, 9, 30, 0)
    assert overdue_cutoff(now, 2) == aware(2026, 9, 29, 0)


def test_last_completed_working_day_waits_for_closing_time(calendar_2026):
    cal = WorkCalendar()

    assert cal.last_completed_workday(aware(2026, 10, 8, 17, 59)) == D(2026, 9, 30)
    assert cal.last_completed_workday(aware(2026, 10, 8, 18)) == D(2026, 10, 8)
    assert cal.last_completed_workday(aware(2026, 10, 11, 9)) == D(2026, 10, 10)


# --- years without an official calendar -----------------------------------------------


def test_year_without_calendar_falls_back_to_statutory_holidays_with_a_warning(
    calendar_2026, caplog
):
    with caplog.at_level(logging.WARNING, logger="tracking.calendar"):
        deadline = deadline_after(aware(2026, 12, 29, 10), 5)

    # 30 and 31 December, then Monday 4, Tuesday 5 and Wednesday 6 January:
    # New Year's Day, Friday 1 January, is a holiday by law.
    assert deadline == aware(2027, 1, 6, 18)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings
    assert any("2027" in r.getMessage() for r in warnings)


def test_missing_years_report_the_year_without_calendar(calendar_2026):
    assert missing_years([2025, 2026, 2027]) == [2027]
    assert missing_years([]) == []
    assert upcoming_missing_years(D(2026, 12, 1)) == [2027]
    assert upcoming_missing_years(D(2025, 6, 1)) == []


def _write_csv(tmp_path, text: str):
    path = tmp_path / "calendar.csv"
    path.write_text(text, encoding="utf-8")
    return path


# A made-up 2027 calendar, whole by the import's rule: it lists every statutory
# holiday of 2027 that falls on a weekday (1 Jan, 5 and 8 Feb, 5 Apr, 9 Jun, 15 Sep,
# 1 Oct) and adds bridging days and make-up workdays, such as Saturday 9 January.
CSV_2027 = """date,is_workday,name
2027-01-01,0,元旦
2027-01-09,1,调休
2027-02-05,0,春节
2027-02-08,0,春节
2027-02-09,0,春节
2027-02-10,0,春节
2027-02-11,0,春节
2027-02-20,1,春节调休上班
2027-04-05,0,清明节
2027-05-03,0,劳动节
2027-05-04,0,劳动节
2027-06-09,0,端午节
2027-09-15,0,中秋节
2027-10-01,0,国庆节
2027-10-04,0,国庆节
2027-10-05,0,国庆节
2027-10-06,0,国庆节
2027-10-07,0,国庆节
2027-10-09,1,国庆节调休上班
"""
# Two days of 2027: stored, but not the year as a whole.
PARTIAL_CSV_2027 = """date,is_workday,name
2027-01-01,0,元旦
2027-01-09,1,调休
"""


def test_importing_next_year_moves_deadlines_that_reach_into_it(
    calendar_2026, tmp_path, caplog
):
    before = deadline_after(aware(2026, 12, 29, 10), 5)
    within = deadline_after(aware(2027, 1, 5, 10), 4)
    # Without the calendar: New Year's Day is off by law, Saturday 9 January is not
    # known to be a make-up workday yet.
    assert (before, within) == (aware(2027, 1, 6, 18), aware(2027, 1, 11, 18))

    call_command(
        "import_working_calendar",
        "--no-package",
        "--csv",
        str(_write_csv(tmp_path, CSV_2027)),
    )

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tracking.calendar"):
        # 30, 31 December, then 4, 5, 6 January: New Year's Day is still a holiday.
        assert deadline_after(aware(2026, 12, 29, 10), 5) == aware(2027, 1, 6, 18)
        # Saturday 9 January is a make-up workday.
        assert deadline_after(aware(2027, 1, 5, 10), 4) == aware(2027, 1, 9, 18)
    assert not caplog.records
    assert missing_years([2026, 2027]) == []
    assert not is_workday(D(2027, 1, 1))
    assert is_workday(D(2027, 1, 9))
    assert is_workday(D(2027, 1, 8))  # days without a row still follow Mon–Fri


def test_dispatch_deadline_into_next_year_moves_after_import(calendar_2026, tmp_path):
    case = case_in_state("accepted", category=CategoryFactory(handling_days=5))
    first = svc.case_dispatch(
        case=case,
        user=officer(),
        department=case.department,
        now=aware(2027, 1, 4, 10),
    )
    # 5, 6, 7, 8 and 11 January: the make-up Saturday is not known yet.
    assert first.due_at == aware(2027, 1, 11, 18)

    call_command(
        "import_working_calendar",
        "--no-package",
        "--csv",
        str(_write_csv(tmp_path, CSV_2027)),
    )
    other = case_in_state("accepted", category=CategoryFactory(handling_days=5))
    second = svc.case_dispatch(
        case=other,
        user=officer(),
        department=other.department,
        now=aware(2027, 1, 4, 10),
    )

    # 5, 6, 7, 8 and the make-up Saturday, 9 January.
    assert second.due_at == aware(2027, 1, 9, 18)
    # A deadline once set is stored, not recomputed.
    assert Case.objects.get(pk=case.pk).due_at == aware(2027, 1, 11, 18)


def test_csv_import_updates_existing_days(tmp_path):
    path = _write_csv(tmp_path, PARTIAL_CSV_2027)
    call_command("import_working_calendar", "--no-package", "--csv", str(path))
    path.write_text("date,is_workday,name\n2027-01-01,1,改\n", encoding="utf-8")

    call_command("import_working_calendar", "--no-package", "--csv", str(path))

    assert WorkingCalendar.objects.filter(date__year=2027).count() == 2
    day = WorkingCalendar.objects.get(date=D(2027, 1, 1))
    assert (day.is_workday, day.name, day.source) == (True, "改", "csv:calendar.csv")


@pytest.mark.parametrize(
    "text",
    [
        "date,is_workday,name\n2027-01-01,0,元旦\n2027-02-30,0,春节\n",  # bad date
        "date,is_workday,name\n2027-01-01,0,元旦\n2027-02-06,maybe,春节\n",  # bad flag
        "2027-01-01,0,元旦\n2027-02-06,1,春节\n",  # no header
        "day,workday\n2027-01-01,0\n",  # wrong header
        "date,is_workday,name\n",  # no rows
        "",
    ],
    ids=["bad-date", "bad-flag", "no-header", "wrong-header", "no-rows", "empty"],
)
def test_bad_csv_is_refused_and_imports_nothing(calendar_2026, tmp_path, text):
    before = WorkingCalendar.objects.count()

    with pytest.raises(CommandError):
        call_command(
            "import_working_calendar",
            "--no-package",
            "--csv",
            str(_write_csv(tmp_path, text)),
        )

    assert WorkingCalendar.objects.count() == before
    assert not WorkingCalendar.objects.filter(date__year=2027).exists()


def test_missing_csv_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError):
        call_command(
            "import_working_calendar",
            "--no-package",
            "--csv",
            str(tmp_path / "nope.csv"),
        )


def test_bad_csv_with_package_import_leaves_the_calendar_untouched(tmp_path):
    """One command, one transaction: a bad file also undoes the package years."""
    WorkingCalendar.objects.all().delete()  # the migrations seeded them
    CalendarYear.objects.all().delete()

    with pytest.raises(CommandError):
        call_command(
            "import_working_calendar",
            "2026",
            "--csv",
            str(_write_csv(tmp_path, "date,is_workday\n2027-13-01,0\n")),
        )

    assert not WorkingCalendar.objects.exists()
    assert not CalendarYear.objects.exists()


def test_import_year_from_chinesecalendar_loads_its_make_up_days():
    WorkingCalendar.objects.all().delete()  # the migrations seeded them

    call_command("import_working_calendar", "2026")

    rows = WorkingCalendar.objects.filter(date__year=2026)
    days = dict(rows.values_list("date", "is_workday"))
    for make_up in (D(2026, 2, 14), D(2026, 2, 28), D(2026, 9, 20), D(2026, 10, 10)):
        assert days[make_up] is True
    for holiday in (D(2026, 2, 15), D(2026, 2, 23), D(2026, 10, 1), D(2026, 10, 7)):
        assert days[holiday] is False
    assert not WorkingCalendar.objects.exclude(date__year=2026).exists()
    assert set(WorkingCalendar.objects.values_list("source", flat=True).distinct()) == {
        "chinesecalendar"
    }


def test_importing_a_year_twice_changes_nothing():
    call_command("import_working_calendar", "2026")
    count = WorkingCalendar.objects.count()

    call_command("import_working_calendar", "2026")

    assert WorkingCalendar.objects.count() == count


def test_year_the_package_does_not_know_is_a_command_error():
    WorkingCalendar.objects.all().delete()  # the migrations seeded them

    with pytest.raises(CommandError, match="2027"):
        call_command("import_working_calendar", "2027")

    assert not WorkingCalendar.objects.exists()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_import_warns_about_missing_years():
    err = io.StringIO()

    with time_machine.travel(aware(2026, 11, 28, 10), tick=False):
        call_command(
            "import_working_calendar", "2026", stdout=io.StringIO(), stderr=err
        )

    assert "No official working calendar for 2027" in err.getvalue()


# --- 2027: no source has it yet -------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2027, 1, 1), False),  # 元旦, a Friday
        (D(2027, 1, 4), True),
        (D(2027, 2, 4), True),
        (D(2027, 2, 5), False),  # 除夕, a Friday
        (D(2027, 2, 8), False),  # 正月初三, a Monday
        (D(2027, 2, 9), False),  # in lieu of 初一 on Saturday (补假)
        (D(2027, 2, 10), False),  # in lieu of 初二 on Sunday
        (D(2027, 2, 11), True),
        (D(2027, 4, 5), False),  # 清明节
        (D(2027, 6, 9), False),  # 端午节
        (D(2027, 9, 15), False),  # 中秋节
        (D(2027, 10, 1), False),  # 国庆节, a Friday
        (D(2027, 10, 4), False),  # in lieu of 2 October, a Saturday
        (D(2027, 10, 5), False),  # in lieu of 3 October, a Sunday
        (D(2027, 10, 6), True),
        (D(2027, 10, 9), False),  # an ordinary Saturday: no make-up day known
    ],
)
def test_2027_without_a_calendar_skips_the_statutory_holidays(day, expected):
    assert is_workday(day) is expected


def test_2027_deadlines_skip_new_year_spring_festival_and_national_day():
    # 元旦 on Friday 1 January.
    assert deadline_after(aware(2026, 12, 31, 10), 1) == aware(2027, 1, 4, 18)
    # 除夕 5 February to the in-lieu day 10 February.
    assert deadline_after(aware(2027, 2, 4, 10), 1) == aware(2027, 2, 11, 18)
    # 国庆节 1 October to the in-lieu day 5 October.
    assert deadline_after(aware(2027, 9, 30, 10), 1) == aware(2027, 10, 6, 18)
    # Over the whole year and into the next, which nobody knows either.
    assert deadline_after(aware(2027, 1, 4, 10), 300) > aware(2028, 1, 1)


def test_a_pass_warns_once_about_a_year_without_a_calendar(caplog):
    with caplog.at_level(logging.WARNING, logger="tracking.calendar"):
        with shared():
            for day in range(1, 20):
                deadline_after(aware(2027, 3, day, 10), 5)
                working_days_overdue(aware(2027, 3, day, 18), aware(2027, 4, 1, 12))
        with shared():
            deadline_after(aware(2027, 3, 1, 10), 5)

    warnings = [r for r in caplog.records if "No official working" in r.getMessage()]
    assert len(warnings) == 2  # once per pass
    assert all("2027" in r.getMessage() for r in warnings)


def test_a_scan_pass_in_2027_warns_once_and_does_not_raise(caplog):
    category = CategoryFactory(escalation_threshold_days=1)
    for _ in range(4):
        CaseFactory(
            state="dispatched",
            category=category,
            is_efficiency=True,
            dispatched_at=aware(2027, 1, 25, 10),
            due_at=aware(2027, 2, 4, 18),
        )

    with caplog.at_level(logging.WARNING, logger="tracking.calendar"):
        # Friday 5 to Wednesday 10 February are off: nothing is a day overdue yet.
        assert scan_overdue(now=aware(2027, 2, 10, 20)).escalated == 0
        # Thursday 11 February has ended.
        assert scan_overdue(now=aware(2027, 2, 11, 19)).escalated == 4

    warnings = [r for r in caplog.records if "No official working" in r.getMessage()]
    assert len(warnings) == 2


def test_a_row_added_by_hand_counts_on_top_of_the_statutory_holidays():
    WorkingCalendar.objects.create(
        date=D(2027, 2, 11), is_workday=False, name="春节", source=""
    )
    WorkingCalendar.objects.create(
        date=D(2027, 2, 20), is_workday=True, name="春节调休上班", source=""
    )

    assert not is_workday(D(2027, 2, 11))
    assert is_workday(D(2027, 2, 20))
    assert not is_workday(D(2027, 2, 8))  # the statutory holiday still
    assert missing_years([2027]) == [2027]


# --- the banner -----------------------------------------------------------------------


def _english_client(user):
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


MISSING_2027 = "No official working calendar for 2027"
CALENDAR_URL = "/admin/tracking/calendar/"


def test_banner_stays_on_when_a_day_of_2027_is_added_by_hand(tmp_path):
    client = _english_client(supervisor())

    with time_machine.travel(aware(2026, 12, 2, 10), tick=False):
        assert MISSING_2027 in client.get("/admin/").content.decode()
        assert MISSING_2027 in client.get(CALENDAR_URL).content.decode()

        response = client.post(
            f"{CALENDAR_URL}new/",
            {"date": "2027-01-01", "is_workday": "", "name": "元旦", "source": ""},
        )
        assert response.status_code == 302
        assert WorkingCalendar.objects.filter(date=D(2027, 1, 1)).exists()

        dashboard = client.get("/admin/").content.decode()
        assert MISSING_2027 in dashboard
        assert "minus the statutory holidays" in dashboard
        assert MISSING_2027 in client.get(CALENDAR_URL).content.decode()

        call_command(
            "import_working_calendar",
            "--no-package",
            "--csv",
            str(_write_csv(tmp_path, CSV_2027)),
            stdout=io.StringIO(),
        )

        for url in ("/admin/", CALENDAR_URL):
            page = client.get(url).content.decode()
            assert "No official working calendar" not in page, url


def test_calendar_screen_lists_the_years_imported_as_a_whole(tmp_path):
    user = supervisor(username="wangfang")
    call_command(
        "import_working_calendar",
        "--no-package",
        "--csv",
        str(_write_csv(tmp_path, CSV_2027)),
        "--by",
        "wangfang",
        stdout=io.StringIO(),
    )

    page = _english_client(user).get(CALENDAR_URL).content.decode()

    section = page[page.index("data-imported-years") :]
    assert "2004–2026" in section
    assert "chinesecalendar" in section
    assert "the system" in section
    assert "csv:calendar.csv" in section
    assert get_user_display_name(user) in section


# --- what an import records -----------------------------------------------------------


def test_import_records_the_year_its_source_and_who_imported_it(tmp_path):
    user = supervisor(username="lihua")
    CalendarYear.objects.filter(year=2026).delete()

    with time_machine.travel(aware(2026, 12, 2, 10), tick=False):
        call_command(
            "import_working_calendar", "2026", "--by", "lihua", stdout=io.StringIO()
        )
        call_command(
            "import_working_calendar",
            "--no-package",
            "--csv",
            str(_write_csv(tmp_path, CSV_2027)),
            "--by",
            "lihua",
            stdout=io.StringIO(),
        )

    year_2026 = CalendarYear.objects.get(year=2026)
    assert (year_2026.source, year_2026.imported_by) == ("chinesecalendar", user)
    assert year_2026.imported_at == aware(2026, 12, 2, 10)
    year_2027 = CalendarYear.objects.get(year=2027)
    assert (year_2027.source, year_2027.imported_by) == ("csv:calendar.csv", user)
    assert missing_years([2026, 2027]) == []


def test_import_without_by_is_recorded_as_the_system():
    CalendarYear.objects.filter(year=2025).delete()

    call_command("import_working_calendar", "2025", stdout=io.StringIO())

    assert CalendarYear.objects.get(year=2025).imported_by is None


def test_import_by_an_unknown_user_is_refused_and_changes_nothing():
    WorkingCalendar.objects.filter(date__year=2026).delete()
    CalendarYear.objects.filter(year=2026).delete()

    with pytest.raises(CommandError, match="nobody"):
        call_command("import_working_calendar", "2026", "--by", "nobody")

    assert not WorkingCalendar.objects.filter(date__year=2026).exists()
    assert not CalendarYear.objects.filter(year=2026).exists()


def test_a_csv_without_every_statutory_holiday_is_stored_but_not_official(tmp_path):
    err = io.StringIO()

    call_command(
        "import_working_calendar",
        "--no-package",
        "--csv",
        str(_write_csv(tmp_path, PARTIAL_CSV_2027)),
        stdout=io.StringIO(),
        stderr=err,
    )

    assert WorkingCalendar.objects.filter(date__year=2027).count() == 2
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert missing_years([2027]) == [2027]
    assert "2027 is not imported as a whole" in err.getvalue()
    assert "2027-02-05" in err.getvalue()
    assert not is_workday(D(2027, 1, 1))
    assert is_workday(D(2027, 1, 9))  # the file's make-up Saturday counts


def test_a_csv_covering_one_whole_year_and_part_of_another(tmp_path):
    text = CSV_2027 + "2028-01-03,0,元旦\n"

    call_command(
        "import_working_calendar",
        "--no-package",
        "--csv",
        str(_write_csv(tmp_path, text)),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    assert set(
        CalendarYear.objects.filter(year__gte=2027).values_list("year", flat=True)
    ) == {2027}


def test_imports_store_chinese_names(tmp_path):
    WorkingCalendar.objects.filter(date__year=2026).delete()
    call_command("import_working_calendar", "2026", stdout=io.StringIO())
    call_command(
        "import_working_calendar",
        "--no-package",
        "--csv",
        str(
            _write_csv(
                tmp_path,
                "date,is_workday,name\n"
                "2028-10-01,0,National Day\n"
                "2028-10-08,1,National Day\n"
                "2028-10-14,1,\n",
            )
        ),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    names = dict(WorkingCalendar.objects.values_list("date", "name"))
    assert names[D(2026, 10, 1)] == "国庆节"
    assert names[D(2026, 9, 25)] == "中秋节"
    assert names[D(2026, 4, 4)] == "清明节"
    assert names[D(2026, 6, 19)] == "端午节"
    assert names[D(2026, 9, 20)] == "国庆节调休上班"
    assert names[D(2026, 1, 4)] == "元旦调休上班"
    assert names[D(2028, 10, 1)] == "国庆节"
    assert names[D(2028, 10, 8)] == "国庆节调休上班"
    assert names[D(2028, 10, 14)] == "调休上班"
