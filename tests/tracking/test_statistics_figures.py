"""The public figures read from the rollups: rates and their threshold, medians,
periods, and each part of :class:`~tracking.statistics.figures.Report`, on data
made through the real services."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import CaseFactory, CategoryFactory, DepartmentFactory, aware
from tracking import hooks
from tracking import services as svc
from tracking.escalation import scan_overdue
from tracking.models import Case, State
from tracking.statistics import periods
from tracking.statistics.figures import Rate, Report, median_of
from tracking.statistics.periods import PeriodError

ROLLUP_TABLES = (
    "tracking_callday",
    "tracking_caseday",
    "tracking_replydays",
    "tracking_mediaeffectday",
)


@pytest.fixture
def without_newsroom(monkeypatch):
    """The scan escalates without making Wagtail stories."""
    for name in list(hooks._registry):
        monkeypatch.delitem(hooks._registry, name)


def register(now, **kwargs):
    defaults = {"kind": "help", "title": "路灯不亮", "description": "门口路灯坏了。"}
    return svc.case_register(now=now, **{**defaults, **kwargs}).pk


def dispatched(now, department, **kwargs):
    """A case registered, accepted and dispatched to ``department`` at ``now``."""
    case = register(now, **kwargs)
    svc.case_accept(case=case, user=None, now=now)
    svc.case_dispatch(case=case, user=None, department=department, now=now)
    return case


def call_at(moment):
    svc.call_register(
        user=None, caller_phone="13900001111", outcome="answered", received_at=moment
    )


def answered_and_called_back(case, now, outcome):
    svc.case_accept(case=case, user=None, now=now)
    svc.case_answer(case=case, user=None, answer="已解答", now=now)
    svc.callback_record(case=case, user=None, outcome=outcome, now=now)


# --- rates, medians, periods ---------------------------------------------------------


@override_settings(STATISTICS_MIN_SAMPLE=3)
def test_a_rate_has_a_value_only_from_the_threshold_on():
    assert Rate(2, 3).value == pytest.approx(2 / 3)
    assert Rate(2, 3).percent == "66.7%"
    assert Rate(2, 3).as_dict() == {
        "rate": 0.6667,
        "numerator": 2,
        "sample": 3,
        "sufficient": True,
    }
    too_few = Rate(2, 2)
    assert (too_few.sufficient, too_few.value, too_few.percent) == (False, None, "")
    assert too_few.as_dict() == {
        "rate": None,
        "numerator": 2,
        "sample": 2,
        "sufficient": False,
    }


@override_settings(STATISTICS_MIN_SAMPLE=0)
def test_a_rate_over_no_case_has_no_value_even_without_a_threshold():
    assert Rate(0, 0).value is None
    assert Rate(0, 1).value == 0.0


def test_median_of_a_histogram():
    assert median_of({}) is None
    assert median_of({4: 0}) is None
    assert median_of({3: 1}) == 3.0
    assert median_of({1: 1, 6: 1}) == 3.5
    assert median_of({2: 2, 9: 1}) == 2.0
    assert median_of({0: 1, 10: 3}) == 10.0


@given(st.dictionaries(st.integers(-5, 40), st.integers(0, 6), max_size=8))
def test_median_of_equals_the_median_of_the_values_spelled_out(histogram):
    values = [value for value, n in histogram.items() for _i in range(n)]
    expected = statistics.median(values) if values else None
    assert median_of(histogram) == expected


def test_periods_parse_years_months_and_spans():
    assert periods.parse("2026") == periods.Period(
        date(2026, 1, 1), date(2026, 12, 31), "2026"
    )
    assert periods.parse(" 2024-02 ").end == date(2024, 2, 29)
    assert periods.parse("2026-02").end == date(2026, 2, 28)
    span = periods.parse("2026-01-15..2026-03-02")
    assert (span.start, span.end, span.days) == (
        date(2026, 1, 15),
        date(2026, 3, 2),
        47,
    )
    one_day = periods.parse("2026-03-02..2026-03-02")
    assert one_day.days == 1
    for nothing in (None, "", "all"):
        whole = periods.parse(nothing, first_day=date(2025, 6, 1))
        assert whole.is_all
        assert whole.start == date(2025, 6, 1)
        assert whole.end == periods.today()


@pytest.mark.parametrize(
    "junk",
    [
        "1999",
        "2101",
        "2026-13",
        "2026-00",
        "2026-1",
        "26",
        "2026-02-30..2026-03-01",
        "2026-03-02..2026-03-01",
        "2000-01-01..2031-01-01",
        "２０２６",
        "2026-01-01...2026-02-01",
        "yesterday",
    ],
)
def test_periods_refuse_what_means_nothing(junk):
    with pytest.raises(PeriodError):
        periods.parse(junk)


JUNK = st.one_of(
    st.text(max_size=30),
    st.from_regex(
        r"\A\d{1,5}(-\d{1,3}){0,2}(\.\.\d{1,5}(-\d{1,3}){0,2})?\Z", fullmatch=True
    ),
)


@given(JUNK)
def test_periods_parse_raises_nothing_but_period_error(value):
    try:
        period = periods.parse(value)
    except PeriodError as exc:
        assert str(exc)
    else:
        assert period.start <= period.end
        assert period.days <= periods.MAX_DAYS


# --- the headline ---------------------------------------------------------------------


@pytest.fixture
def two_months(db):
    """Calls and cases around the turn of 2025/2026 and of January/February."""
    for moment in (
        aware(2025, 12, 20, 10),
        aware(2026, 1, 31, 23, 30),  # 15:30 UTC, but the 31st in Shanghai
        aware(2026, 2, 1, 0, 30),
        aware(2026, 2, 1, 9),
        aware(2026, 2, 3, 12),
        aware(2026, 2, 3, 13),
    ):
        call_at(moment)
    december = register(aware(2025, 12, 20, 10))
    answered_and_called_back(december, aware(2025, 12, 20, 11), "satisfied")
    svc.case_close(case=december, user=None, now=aware(2025, 12, 20, 12))
    january = register(aware(2026, 1, 31, 23, 30))
    answered_and_called_back(january, aware(2026, 2, 1, 0, 30), "dissatisfied")


def test_headline_since_launch(two_months):
    headline = Report(now=aware(2026, 2, 10, 12)).headline()

    assert (headline.period.start, headline.period.end) == (
        date(2025, 12, 20),
        date(2026, 2, 10),
    )
    assert headline.calls == 6
    # 1 and 3 February both had two calls: the earlier day is the busiest.
    assert (headline.busiest_day, headline.busiest_day_calls) == (date(2026, 2, 1), 2)
    assert (headline.registered, headline.accepted, headline.completed) == (2, 2, 1)
    assert (headline.callbacks.satisfied, headline.callbacks.dissatisfied) == (1, 1)
    assert headline.satisfaction.sample == 2
    assert headline.satisfaction.value is None  # 2 < STATISTICS_MIN_SAMPLE
    with override_settings(STATISTICS_MIN_SAMPLE=2):
        assert Report(now=aware(2026, 2, 10, 12)).headline().satisfaction.value == 0.5


def test_headline_per_year_and_per_month(two_months):
    report = Report(now=aware(2026, 2, 10, 12))

    years = report.years()
    assert [(h.period.value, h.calls, h.registered, h.completed) for h in years] == [
        ("2026", 5, 1, 0),
        ("2025", 1, 1, 1),
    ]
    january = report.headline(periods.month(2026, 1))
    assert (january.calls, january.busiest_day, january.registered) == (
        1,
        date(2026, 1, 31),
        1,
    )
    assert january.accepted == 0  # accepted at 00:30 on 1 February
    february = report.headline(periods.parse("2026-02"))
    assert (february.calls, february.accepted, february.registered) == (4, 1, 0)
    assert february.callbacks.dissatisfied == 1
    march = report.headline(periods.month(2026, 3))
    assert (march.calls, march.busiest_day, march.busiest_day_calls) == (0, None, 0)


def test_headline_of_a_span_that_is_not_whole_months(two_months):
    span = periods.parse("2026-01-31..2026-02-01")

    headline = Report(span, now=aware(2026, 2, 10, 12)).headline()

    assert headline.period == span
    assert headline.calls == 3
    assert (headline.busiest_day, headline.busiest_day_calls) == (date(2026, 2, 1), 2)
    assert (headline.registered, headline.accepted) == (1, 1)
    assert headline.as_dict()["start"] == "2026-01-31"
    later = Report(periods.parse("2026-02-02..2026-02-09"), now=aware(2026, 2, 10))
    assert (later.headline().calls, later.headline().registered) == (2, 0)


# --- the backlog ----------------------------------------------------------------------


def test_backlog_now_and_a_year_earlier(db):
    now = aware(2026, 11, 20, 12)

    def complaint(registered, efficiency=True):
        return register(registered, kind="complaint", is_efficiency=efficiency)

    complaint(aware(2025, 10, 1, 10))  # open all along
    withdrawn = complaint(aware(2025, 10, 5, 10))
    svc.case_withdraw(case=withdrawn, user=None, now=aware(2026, 3, 1, 10))
    rejected = complaint(aware(2025, 11, 10, 10))
    svc.case_reject(
        case=rejected, user=None, reason="不属于受理范围", now=aware(2025, 11, 15, 10)
    )
    complaint(aware(2025, 11, 21, 10))  # the day after the date a year earlier
    complaint(aware(2026, 5, 1, 10))
    complaint(aware(2025, 10, 1, 10), efficiency=False)  # not an efficiency one
    register(aware(2026, 11, 20, 9))  # today
    register(aware(2026, 11, 14, 0, 1))  # 6 days ago
    register(aware(2026, 11, 13, 23, 59))  # 7 days ago

    backlog = Report(now=now).backlog()

    assert backlog.year_ago_date == date(2025, 11, 20)
    assert (backlog.now, backlog.year_ago) == (3, 2)
    assert backlog.ages == [
        (0, 7, 2),
        (7, 30, 1),
        (30, 90, 0),
        (90, 365, 2),  # 1 May; 21 November 2025 is 364 days ago
        (365, None, 2),
    ]


# --- departments ----------------------------------------------------------------------


@pytest.fixture
def three_departments(db, calendar_2026):
    monday = aware(2026, 3, 2, 10)
    a, b, c = (DepartmentFactory(name=n) for n in ("A 道路", "B 水务", "C 城管"))
    a1, a2 = dispatched(monday, a), dispatched(monday, a)
    b1, b2 = dispatched(monday, b), dispatched(monday, b)
    c1 = dispatched(monday, c)
    for case in (a1, a2, c1):
        svc.case_acknowledge(case=case, user=None, now=monday + timedelta(hours=1))
    for case in (b1, b2):  # the limit was one working day
        svc.case_acknowledge(case=case, user=None, now=aware(2026, 3, 5, 10))
    svc.case_return(case=b1, user=None, reason="非本单位职责", now=aware(2026, 3, 5))
    svc.case_reply(case=a1, user=None, text="已处理", now=aware(2026, 3, 3, 10))
    svc.callback_record(
        case=a1, user=None, outcome="satisfied", now=aware(2026, 3, 3, 11)
    )
    svc.case_close(case=a1, user=None, now=aware(2026, 3, 3, 12))
    svc.case_reply(case=a2, user=None, text="已处理", now=aware(2026, 3, 4, 10))
    return a, b, c


@override_settings(STATISTICS_MIN_SAMPLE=2)
def test_departments_are_ranked_by_their_rates_with_samples(three_departments):
    a, b, c = three_departments

    found = Report(now=aware(2026, 3, 10, 12)).departments()

    assert [(d.name, d.rank) for d in found] == [
        ("A 道路", 1),
        ("B 水务", 2),
        ("C 城管", None),  # one dispatch: listed, not ranked
    ]
    first, second, third = found
    assert (first.dispatched, first.response.numerator, first.resolution.numerator) == (
        2,
        2,
        1,
    )
    assert (first.response.value, first.resolution.value) == (1.0, 0.5)
    assert first.satisfaction.as_dict() == {
        "rate": None,
        "numerator": 1,
        "sample": 1,
        "sufficient": False,
    }
    assert first.score == 0.75
    assert (first.median_reply_days, first.replies) == (1.5, 2)
    assert (second.response.value, second.resolution.value, second.score) == (0, 0, 0)
    assert second.returned == 1
    # Due on 9 March at 18:00 (five working days): B's two and C's one are overdue.
    assert [d.overdue_now for d in found] == [0, 2, 1]
    assert third.as_dict()["response_rate"]["sample"] == 1


@override_settings(STATISTICS_MIN_SAMPLE=3)
def test_departments_under_the_threshold_are_not_ranked(three_departments):
    found = Report(now=aware(2026, 3, 10, 12)).departments()

    assert [(d.name, d.rank) for d in found] == [
        ("A 道路", None),
        ("B 水务", None),
        ("C 城管", None),
    ]
    assert all(d.response.value is None for d in found)


@override_settings(STATISTICS_MIN_SAMPLE=2)
def test_the_monthly_ranking_is_of_the_last_complete_month(three_departments):
    report = Report(now=aware(2026, 4, 10, 12))

    assert report.ranking_month() == periods.month(2026, 3)
    assert [d.rank for d in report.departments(report.ranking_month())] == [
        1,
        2,
        None,
    ]
    assert report.departments(periods.month(2026, 4)) != []  # overdue still shown
    assert all(d.dispatched == 0 for d in report.departments(periods.month(2026, 4)))


# --- the media effect -----------------------------------------------------------------


@override_settings(STATISTICS_MIN_SAMPLE=1)
def test_media_effect_compares_reported_with_unreported_overdue_complaints(
    db, calendar_2026, without_newsroom
):
    department = DepartmentFactory(name="道路部门")
    escalating = CategoryFactory(handling_days=1, escalation_threshold_days=1)
    patient = CategoryFactory(handling_days=1, escalation_threshold_days=30)
    monday = aware(2026, 3, 2, 10)  # both due on Tuesday 3 March at 18:00
    reported = dispatched(
        monday, department, kind="complaint", is_efficiency=True, category=escalating
    )
    unreported = dispatched(
        monday, department, kind="complaint", is_efficiency=True, category=patient
    )

    scan = scan_overdue(now=aware(2026, 3, 5, 19))  # two working days overdue
    assert (scan.reminded, scan.escalated) == (2, 1)
    assert Case.objects.get(pk=reported).state == State.SUPERVISED
    svc.case_story_published(case=reported, now=aware(2026, 3, 6, 10))
    svc.case_reply(case=reported, user=None, text="已修复", now=aware(2026, 3, 8, 10))
    svc.callback_record(
        case=reported, user=None, outcome="satisfied", now=aware(2026, 3, 9, 9)
    )
    svc.case_close(case=reported, user=None, now=aware(2026, 3, 9, 10))
    svc.case_reply(
        case=unreported, user=None, text="已修复", now=aware(2026, 3, 15, 19)
    )

    effect = Report(now=aware(2026, 3, 20)).media_effect()

    assert effect.as_dict() == {
        "reported": {
            "cases": 1,
            "responded": 1,
            "median_days_to_response": 2.0,
            "solved_within_7_days": {
                "rate": 1.0,
                "numerator": 1,
                "sample": 1,
                "sufficient": True,
            },
        },
        "not_reported": {
            "cases": 1,
            "responded": 1,
            "median_days_to_response": 10.0,
            "solved_within_7_days": {
                "rate": 0.0,
                "numerator": 0,
                "sample": 1,
                "sufficient": True,
            },
        },
    }
    # Counted in the period its comparison started: March, not February.
    march = Report(periods.month(2026, 3), now=aware(2026, 3, 20)).media_effect()
    assert (march.reported.cases, march.unreported.cases) == (1, 1)
    february = Report(periods.month(2026, 2), now=aware(2026, 3, 20)).media_effect()
    assert (february.reported.cases, february.unreported.cases) == (0, 0)


# --- silence --------------------------------------------------------------------------


def test_silence_lists_overdue_cases_by_department_in_working_days(db, calendar_2026):
    now = aware(2026, 11, 26, 10)  # Thursday; Wednesday's office hours are over
    slow, slower = (DepartmentFactory(name=n) for n in ("A 道路", "B 水务"))

    def waiting(department, due_at, **kwargs):
        return CaseFactory(
            state=kwargs.pop("state", "dispatched"),
            department=department,
            dispatched_at=due_at - timedelta(days=7),
            due_at=due_at,
            **kwargs,
        )

    two = waiting(slow, aware(2026, 11, 23, 18))
    three = waiting(slow, aware(2026, 11, 20, 18))
    waiting(slow, aware(2026, 11, 25, 18))  # overdue, not yet a full working day
    escalated = waiting(
        slower, aware(2026, 11, 24, 18), state="supervised", escalated_at=now
    )
    waiting(slow, aware(2026, 11, 27, 18))  # not due yet
    waiting(slow, aware(2026, 11, 2, 18), state="closed")

    silence = Report(now=now).silence(per_department=2)

    assert [(s.name, s.overdue) for s in silence] == [("A 道路", 3), ("B 水务", 1)]
    assert [
        (c.reference, c.working_days_overdue, c.escalated) for c in silence[0].cases
    ] == [(three.reference, 3, False), (two.reference, 2, False)]
    assert [
        (c.reference, c.working_days_overdue, c.escalated) for c in silence[1].cases
    ] == [(escalated.reference, 1, True)]
    assert "phone" not in str(silence[0].as_dict())


# --- cost -----------------------------------------------------------------------------


def _history(count, start):
    """``count`` cases through several departments, months and states."""
    departments = [
        DepartmentFactory(name=f"部门{start:%m%d}-{n}") for n in range(count)
    ]
    for n in range(count):
        now = start + timedelta(days=7 * n, hours=n)
        case = dispatched(now, departments[n], kind="complaint", is_efficiency=n % 2)
        call_at(now)
        if n % 3 == 0:
            svc.case_acknowledge(case=case, user=None, now=now + timedelta(hours=1))
            svc.case_reply(case=case, user=None, text="已处理", now=now + timedelta(1))
            svc.callback_record(
                case=case, user=None, outcome="satisfied", now=now + timedelta(2)
            )


def test_report_queries_do_not_grow_with_the_history(
    db, calendar_2026, django_assert_num_queries
):
    now = aware(2026, 11, 26, 10)
    _history(3, aware(2026, 1, 5, 10))
    with CaptureQueriesContext(connection) as small:
        small_figures = Report(now=now).as_dict()
    assert len(small_figures["departments"]) == 3

    _history(27, aware(2026, 1, 6, 10))

    with django_assert_num_queries(len(small)):
        figures = Report(now=now).as_dict()
    assert len(figures["departments"]) == 30
    assert figures["headline"]["registered"] == 30
    assert len(small) <= 15


def test_keeping_the_rollups_costs_a_transition_at_most_three_queries(
    db, calendar_2026, without_newsroom
):
    department = DepartmentFactory(name="道路部门")
    monday = aware(2026, 3, 2, 10)
    case = register(monday, kind="complaint", is_efficiency=True)
    svc.case_accept(case=case, user=None, now=monday)
    steps = [
        lambda now: svc.case_dispatch(
            case=case, user=None, department=department, now=now
        ),
        lambda now: svc.case_acknowledge(case=case, user=None, now=now),
        # Overdue and reminded: the reply also moves the media effect.
        lambda now: scan_overdue(now=now),
        lambda now: svc.case_reply(case=case, user=None, text="已处理", now=now),
    ]
    moments = [monday, monday, aware(2026, 3, 20, 10), aware(2026, 3, 23, 10)]
    touched = []
    for step, moment in zip(steps, moments, strict=True):
        with CaptureQueriesContext(connection) as queries:
            step(moment)
        touched.append(
            sum(
                any(table in query["sql"] for table in ROLLUP_TABLES)
                for query in queries
            )
        )
    dispatch, acknowledge, _scan, reply = touched
    assert 1 <= dispatch <= 3
    assert 1 <= acknowledge <= 3
    assert reply == 3  # the day's counts, the reply time, the media effect
