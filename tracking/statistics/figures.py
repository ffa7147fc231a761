"""The hotline's figures, read from the daily rollups (never from all cases).

One :class:`Report` reads what a public page or the API shows in a fixed number
of queries, whatever the size of the history: the rollups grouped by month and
department (a few hundred rows a year), the call days (one row a day), and two
reads of open cases through the partial index of cases awaiting a department.

Definitions (the three rates of China's 12345 lines, per department):

- **response rate** (响应率): acknowledgements within the limit ÷ dispatches;
- **resolution rate** (办结率): cases completed (closed) ÷ dispatches;
- **satisfaction rate** (满意率): satisfied ÷ callbacks that reached the citizen;
- each is over the events of the period, and shows its sample size; one over
  fewer than ``STATISTICS_MIN_SAMPLE`` cases is "too few cases" (样本不足), and a
  department with fewer dispatches than that is listed but not ranked.

The media effect compares escalated cases, from the first publication of their
story, with efficiency complaints that went overdue and were never reported, from
the day their deadline passed: the median days to the department's reply, and
the share closed within 7 days.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Min, Q, Sum, Window
from django.db.models.functions import RowNumber, TruncMonth
from django.utils import timezone

from .. import calendar
from ..models import CallDay, Case, CaseDay, Department, MediaEffectDay, ReplyDays
from ..models.statistics import CASE_COUNTERS, NO_RESPONSE
from . import periods
from .attribution import attribution
from .periods import Period

CALLBACK_METHODS = ("phone", "home_visit", "media_joint")
# Age of open cases, in calendar days since registration: (label key, from, to).
AGE_BUCKETS = ((0, 7), (7, 30), (30, 90), (90, 365), (365, None))


def min_sample() -> int:
    return settings.STATISTICS_MIN_SAMPLE


@dataclass(frozen=True)
class Rate:
    """``numerator`` of ``sample``; no value below the threshold (样本不足)."""

    numerator: int
    sample: int

    @property
    def sufficient(self) -> bool:
        return self.sample >= min_sample() and self.sample > 0

    @property
    def value(self) -> float | None:
        return self.numerator / self.sample if self.sufficient else None

    @property
    def percent(self) -> str:
        """ "98.6%", or "" when the sample is too small."""
        value = self.value
        return "" if value is None else f"{value * 100:.1f}%"

    def as_dict(self) -> dict:
        value = self.value
        return {
            "rate": None if value is None else round(value, 4),
            "numerator": self.numerator,
            "sample": self.sample,
            "sufficient": self.sufficient,
        }


def median_of(histogram: dict[int, int]) -> float | None:
    """The median of values given as {value: how many}."""
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted(histogram.items())

    def nth(n: int) -> int:  # 0-based
        seen = 0
        for value, count in ordered:
            seen += count
            if n < seen:
                return value
        raise IndexError(n)

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


@dataclass
class Callbacks:
    satisfied: int = 0
    dissatisfied: int = 0
    unreachable: int = 0
    by_method: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, counts) -> Callbacks:
        return cls(
            satisfied=counts.get("callbacks_satisfied", 0),
            dissatisfied=counts.get("callbacks_dissatisfied", 0),
            unreachable=counts.get("callbacks_unreachable", 0),
            by_method={m: counts.get(f"callbacks_{m}", 0) for m in CALLBACK_METHODS},
        )

    @property
    def total(self) -> int:
        return self.satisfied + self.dissatisfied + self.unreachable

    @property
    def reached(self) -> int:
        return self.satisfied + self.dissatisfied

    @property
    def satisfaction(self) -> Rate:
        return Rate(self.satisfied, self.reached)

    @property
    def unreachable_share(self) -> Rate:
        return Rate(self.unreachable, self.total)

    def as_dict(self) -> dict:
        return {
            "callbacks": self.total,
            "reached": self.reached,
            "satisfied": self.satisfied,
            "dissatisfied": self.dissatisfied,
            "unreachable": self.unreachable,
            "satisfaction": self.satisfaction.as_dict(),
            "unreachable_share": self.unreachable_share.as_dict(),
            "by_method": dict(self.by_method),
        }


@dataclass
class Headline:
    period: Period
    calls: int
    busiest_day: date | None
    busiest_day_calls: int
    registered: int
    accepted: int
    completed: int
    callbacks: Callbacks

    @property
    def satisfaction(self) -> Rate:
        return self.callbacks.satisfaction

    def as_dict(self) -> dict:
        return {
            "period": self.period.value,
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "calls": self.calls,
            "busiest_day": {
                "date": self.busiest_day.isoformat() if self.busiest_day else None,
                "calls": self.busiest_day_calls,
            },
            "registered": self.registered,
            "accepted": self.accepted,
            "completed": self.completed,
            "satisfaction": self.satisfaction.as_dict(),
            "callbacks": self.callbacks.as_dict(),
        }


@dataclass
class Backlog:
    """Unfinished efficiency complaints now and on the same date a year earlier,
    and the ages of all open cases."""

    today: date
    now: int
    year_ago_date: date
    year_ago: int
    ages: list[tuple[int, int | None, int]]  # (from days, to days or None, cases)

    def as_dict(self) -> dict:
        return {
            "date": self.today.isoformat(),
            "unfinished_efficiency_complaints": self.now,
            "year_ago_date": self.year_ago_date.isoformat(),
            "year_ago": self.year_ago,
            "open_cases_by_age": [
                {"from_days": low, "to_days": high, "cases": n}
                for low, high, n in self.ages
            ],
        }


@dataclass
class DepartmentFigures:
    department_id: int
    name: str
    dispatched: int
    response: Rate
    resolution: Rate
    callbacks: Callbacks
    median_reply_days: float | None
    replies: int
    returned: int
    escalated: int
    overdue_now: int
    rank: int | None = None

    @property
    def satisfaction(self) -> Rate:
        return self.callbacks.satisfaction

    @property
    def ranked(self) -> bool:
        return self.dispatched >= min_sample()

    @property
    def score(self) -> float | None:
        """The ranking's measure: the mean of the rates that have enough cases."""
        values = [
            rate.value
            for rate in (self.response, self.resolution, self.satisfaction)
            if rate.value is not None
        ]
        return sum(values) / len(values) if values else None

    def as_dict(self) -> dict:
        return {
            "department": {"id": self.department_id, "name": self.name},
            "rank": self.rank,
            "dispatched": self.dispatched,
            "response_rate": self.response.as_dict(),
            "resolution_rate": self.resolution.as_dict(),
            "satisfaction_rate": self.satisfaction.as_dict(),
            "callbacks": self.callbacks.as_dict(),
            "median_working_days_to_reply": self.median_reply_days,
            "replies": self.replies,
            "returned": self.returned,
            "escalated": self.escalated,
            "overdue_now": self.overdue_now,
        }


@dataclass
class EffectGroup:
    cases: int
    responded: int
    median_days_to_response: float | None
    solved_within_7: Rate

    def as_dict(self) -> dict:
        return {
            "cases": self.cases,
            "responded": self.responded,
            "median_days_to_response": self.median_days_to_response,
            "solved_within_7_days": self.solved_within_7.as_dict(),
        }


@dataclass
class MediaEffect:
    reported: EffectGroup
    unreported: EffectGroup

    def as_dict(self) -> dict:
        return {
            "reported": self.reported.as_dict(),
            "not_reported": self.unreported.as_dict(),
        }


@dataclass
class OverdueCase:
    reference: str
    category: str
    department_id: int
    working_days_overdue: int
    escalated: bool


@dataclass
class Silence:
    """A department's open overdue cases (the longest overdue first)."""

    department_id: int
    name: str
    overdue: int
    cases: list[OverdueCase]

    def as_dict(self) -> dict:
        return {
            "department": {"id": self.department_id, "name": self.name},
            "overdue": self.overdue,
            "cases": [
                {
                    "reference": case.reference,
                    "category": case.category,
                    "working_days_overdue": case.working_days_overdue,
                    "escalated": case.escalated,
                }
                for case in self.cases
            ],
        }


# --- reading the rollups ------------------------------------------------------


def _sums() -> dict:
    return {name: Sum(name) for name in CASE_COUNTERS}


def _month(day: date) -> date:
    return day.replace(day=1)


def _month_aligned(period: Period) -> bool:
    following = period.end + timedelta(days=1)
    return period.start.day == 1 and following.day == 1


class Report:
    """The public figures of ``period`` as of ``now``, read once.

    Rows are read lazily and shared: the headline, the department table, the
    monthly ranking and the charts all come from the same monthly rollup rows.
    """

    def __init__(self, period: Period | None = None, now: datetime | None = None):
        self.now = now or timezone.now()
        self.today = timezone.localtime(self.now, calendar.local_zone()).date()
        self._period = period or periods.parse(periods.ALL)
        self._cache: dict = {}

    @property
    def period(self) -> Period:
        """The period asked for; "since launch" starts on the first day with any
        figure (read from the rows the report reads anyway)."""
        if not self._period.is_all:
            return self._period
        return self._once("launch", self._since_launch)

    def _since_launch(self) -> Period:
        self.case_months()
        days = [*self.call_days(), *self._cache["first_case_days"]]
        return periods.since_launch(min(days, default=None), self.today)

    def _once(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    # Raw rows ---------------------------------------------------------------------

    def call_days(self) -> dict[date, int]:
        """Every day's calls (one row a day, the whole history)."""
        return self._once(
            "calls",
            lambda: dict(
                CallDay.objects.filter(calls__gt=0).values_list("day", "calls")
            ),
        )

    def case_months(self) -> dict[tuple[date, int], Counter]:
        """{(month, department id): counters}, the whole history."""

        def compute():
            rows = (
                CaseDay.objects.annotate(month=TruncMonth("day"))
                .values("month", "department_id")
                .annotate(**_sums(), first_day=Min("day"))
                .order_by()
            )
            # The first day with a figure, for "since launch" (not the 1st of
            # its month).
            self._cache["first_case_days"] = [row["first_day"] for row in rows]
            return {
                (_as_date(row["month"]), row["department_id"]): Counter(
                    {name: row[name] or 0 for name in CASE_COUNTERS}
                )
                for row in rows
            }

        return self._once("case_months", compute)

    def reply_months(self) -> dict[tuple[date, int], Counter]:
        """{(month, department id): {working days: replies}}."""

        def compute():
            result: dict = defaultdict(Counter)
            rows = (
                ReplyDays.objects.annotate(month=TruncMonth("day"))
                .values("month", "department_id", "working_days")
                .annotate(replies=Sum("replies"))
                .order_by()
            )
            for row in rows:
                key = (_as_date(row["month"]), row["department_id"])
                result[key][row["working_days"]] += row["replies"] or 0
            return result

        return self._once("reply_months", compute)

    def _case_counts(self, period: Period) -> dict[int, Counter]:
        """{department id: counters} over ``period``."""
        if period.is_all or _month_aligned(period):
            result: dict = defaultdict(Counter)
            for (month, department), counts in self.case_months().items():
                # "Since launch" starts on its first day, within its first month.
                if _month(period.start) <= month <= period.end:
                    result[department].update(counts)
            return result

        def compute():
            rows = (
                CaseDay.objects.filter(day__gte=period.start, day__lte=period.end)
                .values("department_id")
                .annotate(**_sums())
                .order_by()
            )
            return {
                row["department_id"]: Counter(
                    {name: row[name] or 0 for name in CASE_COUNTERS}
                )
                for row in rows
            }

        return self._once(("case_counts", period), compute)

    def _reply_counts(self, period: Period) -> dict[int, Counter]:
        if period.is_all or _month_aligned(period):
            result: dict = defaultdict(Counter)
            for (month, department), counts in self.reply_months().items():
                # "Since launch" starts on its first day, within its first month.
                if _month(period.start) <= month <= period.end:
                    result[department].update(counts)
            return result

        def compute():
            result: dict = defaultdict(Counter)
            rows = (
                ReplyDays.objects.filter(day__gte=period.start, day__lte=period.end)
                .values("department_id", "working_days")
                .annotate(replies=Sum("replies"))
                .order_by()
            )
            for row in rows:
                result[row["department_id"]][row["working_days"]] += row["replies"]
            return result

        return self._once(("reply_counts", period), compute)

    def department_names(self) -> dict[int, str]:
        return self._once(
            "names", lambda: dict(Department.objects.values_list("pk", "name"))
        )

    def overdue_counts(self) -> dict[int, int]:
        def compute():
            rows = (
                Case.objects.overdue(self.now)
                .values("department_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
            return {row["department_id"] or 0: row["n"] for row in rows}

        return self._once("overdue", compute)

    # Figures --------------------------------------------------------------------------

    def headline(self, period: Period | None = None) -> Headline:
        period = period or self.period
        days = {
            day: n
            for day, n in self.call_days().items()
            if period.start <= day <= period.end
        }
        busiest = min(days.items(), key=lambda item: (-item[1], item[0]), default=None)
        totals: Counter = Counter()
        for counts in self._case_counts(period).values():
            totals.update(counts)
        return Headline(
            period=period,
            calls=sum(days.values()),
            busiest_day=busiest[0] if busiest else None,
            busiest_day_calls=busiest[1] if busiest else 0,
            registered=totals["registered"],
            accepted=totals["accepted"],
            completed=totals["completed"],
            callbacks=Callbacks.of(totals),
        )

    def years(self) -> list[Headline]:
        """The headline of each year with any figure, the latest first."""
        found = {day.year for day in self.call_days()}
        found |= {month.year for month, _department in self.case_months()}
        return [self.headline(periods.year(y)) for y in sorted(found, reverse=True)]

    def months(self, count: int = 12) -> list[tuple[date, int, int, int]]:
        """(month, calls, accepted, completed) of the last ``count`` months up to
        the end of the period, oldest first."""
        last = _month(min(self.period.end, self.today))
        months = []
        month = last
        for _i in range(count):
            months.append(month)
            month = _month(month - timedelta(days=1))
        months.reverse()
        calls: Counter = Counter()
        for day, n in self.call_days().items():
            calls[_month(day)] += n
        cases: dict = defaultdict(Counter)
        for (month, _department), counts in self.case_months().items():
            cases[month].update(counts)
        return [
            (month, calls[month], cases[month]["accepted"], cases[month]["completed"])
            for month in months
        ]

    def daily_calls(self, days: int = 90) -> list[tuple[date, int]]:
        """Calls of each of the last ``days`` days of the period (0 included)."""
        end = min(self.period.end, self.today)
        start = max(self.period.start, end - timedelta(days=days - 1))
        calls = self.call_days()
        span = (end - start).days + 1
        return [
            (start + timedelta(days=i), calls.get(start + timedelta(days=i), 0))
            for i in range(max(span, 0))
        ]

    def backlog(self) -> Backlog:
        year_ago = periods.Period(self.today, self.today, "").year_earlier().start
        row = CaseDay.objects.filter(is_efficiency=True).aggregate(
            now=Sum(F("registered") - F("finished"), filter=Q(day__lte=self.today)),
            year_ago=Sum(F("registered") - F("finished"), filter=Q(day__lte=year_ago)),
        )
        zone = calendar.local_zone()
        midnight = datetime.combine(self.today, datetime.min.time(), zone)
        counts = {}
        for low, high in AGE_BUCKETS:
            # Registered on a local day at least ``low`` and under ``high`` days ago.
            condition = Q(registered_at__lt=midnight - timedelta(days=low - 1))
            if low == 0:
                condition = Q()
            if high is not None:
                condition &= Q(registered_at__gte=midnight - timedelta(days=high - 1))
            counts[f"age_{low}"] = Count("pk", filter=condition)
        ages = Case.objects.open().aggregate(**counts)
        return Backlog(
            today=self.today,
            now=row["now"] or 0,
            year_ago_date=year_ago,
            year_ago=row["year_ago"] or 0,
            ages=[(low, high, ages[f"age_{low}"]) for low, high in AGE_BUCKETS],
        )

    def departments(self, period: Period | None = None) -> list[DepartmentFigures]:
        """Every department with cases in the period: ranked ones first, by their
        score, then those with too few cases (not ranked)."""
        period = period or self.period
        return department_table(
            self._case_counts(period),
            self._reply_counts(period),
            self.overdue_counts(),
            self.department_names(),
        )

    def ranking_month(self) -> Period:
        """The month the monthly ranking is of: the period's last complete month
        (the current one while a month is asked for)."""
        end = min(self.period.end, self.today)
        if _month_aligned(self.period) and self.period.days <= 31:
            return periods.month(self.period.start.year, self.period.start.month)
        if end == self.today:
            end = _month(end) - timedelta(days=1)
        return periods.month(end.year, end.month)

    def media_effect(self, period: Period | None = None) -> MediaEffect:
        period = period or self.period

        def compute():
            rows = (
                MediaEffectDay.objects.filter(
                    day__gte=period.start, day__lte=period.end
                )
                .values("reported", "response_days", "solved_within_7")
                .annotate(n=Sum("cases"))
                .order_by()
            )
            return [tuple(row.values()) for row in rows]

        rows = self._once(("media", period), compute)
        return media_effect_of(rows)

    def silence(self, per_department: int = 10) -> list[Silence]:
        """Each department's open overdue cases, the longest overdue first: at
        most ``per_department`` listed, all counted."""
        cases = (
            Case.objects.overdue(self.now)
            .annotate(
                place=Window(
                    RowNumber(),
                    partition_by=F("department_id"),
                    order_by=(F("awaiting_due_at").asc(), F("pk").asc()),
                )
            )
            .filter(place__lte=per_department)
            .order_by("awaiting_due_at", "pk")
            .values_list(
                "reference",
                "category__name",
                "department_id",
                "due_at",
                "escalated_at",
            )
        )
        names = self.department_names()
        listed: dict[int, list[OverdueCase]] = defaultdict(list)
        # One read of the working calendar for every case listed.
        with calendar.shared():
            for reference, category, department_id, due_at, escalated_at in cases:
                department_id = department_id or 0
                if len(listed[department_id]) < per_department:
                    listed[department_id].append(
                        OverdueCase(
                            reference=reference,
                            category=category or "",
                            department_id=department_id,
                            working_days_overdue=calendar.working_days_overdue(
                                due_at, self.now
                            ),
                            escalated=escalated_at is not None,
                        )
                    )
        result = [
            Silence(
                department_id=department_id,
                name=names.get(department_id, ""),
                overdue=count,
                cases=listed.get(department_id, []),
            )
            for department_id, count in self.overdue_counts().items()
        ]
        return sorted(result, key=lambda s: (-s.overdue, s.name))

    def first_time_callers(self, period: Period | None = None, *, rules=None):
        """First-time callers and how they heard of 8890 (:mod:`.attribution`),
        counted from the calls and cases themselves. ``rules`` (a tuple of
        redaction rules, or None for the global ones) is part of the key: the
        places are redacted with them."""
        period = period or self.period
        return self._once(
            ("attribution", period, rules), lambda: attribution(period, rules=rules)
        )

    def as_dict(self) -> dict:
        """Everything, as the public API gives it."""
        ranking = self.ranking_month()
        return {
            "generated_at": self.now.isoformat(),
            "minimum_sample": min_sample(),
            "headline": self.headline().as_dict(),
            "years": [headline.as_dict() for headline in self.years()],
            "months": [
                {
                    "month": month.strftime("%Y-%m"),
                    "calls": calls,
                    "accepted": accepted,
                    "completed": completed,
                }
                for month, calls, accepted, completed in self.months()
            ],
            "daily_calls": [
                {"date": day.isoformat(), "calls": n} for day, n in self.daily_calls()
            ],
            "backlog": self.backlog().as_dict(),
            "departments": [d.as_dict() for d in self.departments()],
            "ranking": {
                "month": ranking.value,
                "departments": [d.as_dict() for d in self.departments(ranking)],
            },
            "media_effect": self.media_effect().as_dict(),
            "overdue": [s.as_dict() for s in self.silence()],
            "first_time_callers": self.first_time_callers().as_dict(),
        }


def media_effect_of(rows) -> MediaEffect:
    """The media effect from MediaEffectDay rows summed as (reported,
    response_days, solved_within_7, cases)."""
    groups = {}
    for reported in (True, False):
        histogram: Counter = Counter()
        cases = solved = 0
        for is_reported, days, is_solved, n in rows:
            if is_reported != reported or not n:
                continue
            cases += n
            solved += n if is_solved else 0
            if days != NO_RESPONSE:
                histogram[days] += n
        groups[reported] = EffectGroup(
            cases=cases,
            responded=sum(histogram.values()),
            median_days_to_response=median_of(histogram),
            solved_within_7=Rate(solved, cases),
        )
    return MediaEffect(reported=groups[True], unreported=groups[False])


def department_table(
    counts: dict[int, Counter],
    replies: dict[int, Counter],
    overdue: dict[int, int],
    names: dict[int, str],
) -> list[DepartmentFigures]:
    """Each department's figures from its counters ({department id: CaseDay
    counters}), reply-time histograms and overdue cases, ranked (:func:`rank`)."""
    found = []
    for department_id in sorted((set(counts) | set(overdue)) - {0}):
        c = counts.get(department_id, Counter())
        histogram = replies.get(department_id, Counter())
        found.append(
            DepartmentFigures(
                department_id=department_id,
                name=names.get(department_id, str(department_id)),
                dispatched=c["dispatched"],
                response=Rate(c["acknowledged_on_time"], c["dispatched"]),
                resolution=Rate(c["completed"], c["dispatched"]),
                callbacks=Callbacks.of(c),
                median_reply_days=median_of(histogram),
                replies=sum(histogram.values()),
                returned=c["returned"],
                escalated=c["escalated"],
                overdue_now=overdue.get(department_id, 0),
            )
        )
    return rank(found)


def rank(found: list[DepartmentFigures]) -> list[DepartmentFigures]:
    """Departments with enough cases first, by their score, numbered; then the
    others (not ranked) by name."""
    ranked = sorted(
        (d for d in found if d.ranked and d.score is not None),
        key=lambda d: (-d.score, d.name),
    )
    for position, department in enumerate(ranked, start=1):
        department.rank = position
    rest = sorted((d for d in found if d.rank is None), key=lambda d: d.name)
    return ranked + rest


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def story_silence(case, now: datetime | None = None) -> int | None:
    """Working days a department has left a case unanswered past its deadline
    ("未回复，已逾期 N 个工作日"), or ``None`` when it is not overdue."""
    now = now or timezone.now()
    if case.is_overdue(now):
        return calendar.working_days_overdue(case.due_at, now)
    return None
