"""The staff dashboard's figures: the public figures of :mod:`.figures`, read
from the same rollups but for a filtered set of cases.

The filters are the rollups' own dimensions (department, category, kind,
efficiency complaint) and a span of days, so every read is one grouped query
over the rollup rows of that span, whatever the number of cases:

- the call log has none of the case dimensions: calls are shown only when no
  dimension is filtered (:attr:`DashboardFilters.narrowed`);
- the media effect rollup has the department only: it is shown under a
  department filter, not under a category, kind or efficiency filter;
- the department table ranks every department under the other filters, then
  keeps the one asked for, so that a department sees its place among all.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from .. import calendar
from ..models import (
    CallDay,
    Case,
    CaseDay,
    Department,
    FirstContactDay,
    MediaEffectDay,
    ReplyDays,
)
from ..models.statistics import CASE_COUNTERS
from .attribution import Attribution, attribution
from .figures import (
    Callbacks,
    DepartmentFigures,
    Headline,
    MediaEffect,
    department_table,
    media_effect_of,
)
from .periods import Period


@dataclass(frozen=True)
class DashboardFilters:
    """What the dashboard is asked for; ``None`` means "any"."""

    period: Period
    department_id: int | None = None
    category_id: int | None = None
    kind: str | None = None
    efficiency_only: bool = False

    @property
    def narrowed(self) -> bool:
        """Whether the cases are narrowed by a dimension the call log lacks."""
        return bool(
            self.department_id is not None
            or self.category_id is not None
            or self.kind
            or self.efficiency_only
        )

    @property
    def media_effect_applies(self) -> bool:
        """Whether the media effect rollup can answer (it has the department
        only)."""
        return self.category_id is None and not self.kind and not self.efficiency_only

    def case_rows(self, *, with_department: bool = True) -> Q:
        """The CaseDay / ReplyDays rows of these filters."""
        condition = Q(day__gte=self.period.start, day__lte=self.period.end)
        if with_department and self.department_id is not None:
            condition &= Q(department_id=self.department_id)
        if self.category_id is not None:
            condition &= Q(category_id=self.category_id)
        if self.kind:
            condition &= Q(kind=self.kind)
        if self.efficiency_only:
            condition &= Q(is_efficiency=True)
        return condition

    def open_cases(self, *, with_department: bool = True) -> Q:
        """The same filters on cases (for the cases overdue now)."""
        condition = Q()
        if with_department and self.department_id is not None:
            condition &= Q(department_id=self.department_id)
        if self.category_id is not None:
            condition &= Q(category_id=self.category_id)
        if self.kind:
            condition &= Q(kind=self.kind)
        if self.efficiency_only:
            condition &= Q(is_efficiency=True)
        return condition


@dataclass
class DayRow:
    """One day of the daily table."""

    day: date
    calls: int | None  # None when the filters narrow the cases
    counts: Counter
    #: First-time callers of the day (None, as calls, when the filters narrow
    #: the cases).
    first_time: int | None = None

    @property
    def cells(self) -> list[int]:
        """The counters of :data:`DAILY_COUNTERS`, in order."""
        return [self.counts[name] for name in DAILY_COUNTERS]


#: The columns of the daily table, in order (counters of CaseDay).
DAILY_COUNTERS = (
    "registered",
    "accepted",
    "dispatched",
    "acknowledged",
    "acknowledged_on_time",
    "returned",
    "escalated",
    "replied",
    "completed",
    "callbacks_satisfied",
    "callbacks_dissatisfied",
    "callbacks_unreachable",
)


def _sums() -> dict:
    return {name: Sum(name) for name in CASE_COUNTERS}


def _counter(row) -> Counter:
    return Counter({name: row[name] or 0 for name in CASE_COUNTERS})


def launch_day() -> date | None:
    """The first day with any figure (where "since launch" starts)."""
    days = [
        CallDay.objects.filter(calls__gt=0).aggregate(first=Min("day"))["first"],
        CaseDay.objects.aggregate(first=Min("day"))["first"],
    ]
    return min((day for day in days if day is not None), default=None)


class Dashboard:
    """The dashboard's figures for ``filters`` as of ``now``, each read once."""

    def __init__(self, filters: DashboardFilters, now: datetime | None = None):
        self.filters = filters
        self.now = now or timezone.now()
        self.today = timezone.localtime(self.now, calendar.local_zone()).date()
        self._cache: dict = {}

    def _once(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def period(self) -> Period:
        return self.filters.period

    @property
    def calls_known(self) -> bool:
        return not self.filters.narrowed

    # Raw rows -------------------------------------------------------------------

    def call_days(self) -> dict[date, int]:
        if not self.calls_known:
            return {}
        return self._once(
            "calls",
            lambda: dict(
                CallDay.objects.filter(
                    day__gte=self.period.start, day__lte=self.period.end, calls__gt=0
                ).values_list("day", "calls")
            ),
        )

    def first_time_days(self) -> dict[date, int]:
        """First-time callers per day of the period (``FirstContactDay``); none
        when the filters narrow the cases, as for calls."""
        if not self.calls_known:
            return {}

        def compute():
            rows = (
                FirstContactDay.objects.filter(
                    day__gte=self.period.start, day__lte=self.period.end
                )
                .values("day")
                .annotate(callers=Sum("callers"))
                .filter(callers__gt=0)
                .order_by()
            )
            return {row["day"]: row["callers"] for row in rows}

        return self._once("first_time_days", compute)

    def department_counts(self) -> dict[int, Counter]:
        """{department id: counters} under every filter but the department's."""

        def compute():
            rows = (
                CaseDay.objects.filter(self.filters.case_rows(with_department=False))
                .values("department_id")
                .annotate(**_sums())
                .order_by()
            )
            return {row["department_id"]: _counter(row) for row in rows}

        return self._once("department_counts", compute)

    def totals(self) -> Counter:
        """The counters of the filtered cases, all their days together."""
        department = self.filters.department_id
        totals: Counter = Counter()
        for department_id, counts in self.department_counts().items():
            if department is None or department_id == department:
                totals.update(counts)
        return totals

    def reply_histograms(self) -> dict[int, Counter]:
        def compute():
            result: dict = defaultdict(Counter)
            rows = (
                ReplyDays.objects.filter(self.filters.case_rows(with_department=False))
                .values("department_id", "working_days")
                .annotate(replies=Sum("replies"))
                .order_by()
            )
            for row in rows:
                result[row["department_id"]][row["working_days"]] += row["replies"] or 0
            return result

        return self._once("replies", compute)

    def overdue_counts(self) -> dict[int, int]:
        def compute():
            rows = (
                Case.objects.overdue(self.now)
                .filter(self.filters.open_cases(with_department=False))
                .values("department_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
            return {row["department_id"] or 0: row["n"] for row in rows}

        return self._once("overdue", compute)

    def department_names(self) -> dict[int, str]:
        return self._once(
            "names", lambda: dict(Department.objects.values_list("pk", "name"))
        )

    # Figures ----------------------------------------------------------------------

    def headline(self) -> Headline:
        """The filtered cases' headline; ``calls`` and the busiest day are
        ``None`` when the filters narrow the cases (:attr:`calls_known`)."""
        totals = self.totals()
        days = self.call_days()
        busiest = min(days.items(), key=lambda item: (-item[1], item[0]), default=None)
        return Headline(
            period=self.period,
            calls=sum(days.values()) if self.calls_known else None,
            busiest_day=busiest[0] if busiest else None,
            busiest_day_calls=busiest[1] if busiest else 0,
            registered=totals["registered"],
            accepted=totals["accepted"],
            completed=totals["completed"],
            callbacks=Callbacks.of(totals),
        )

    def callbacks(self) -> Callbacks:
        return Callbacks.of(self.totals())

    def all_departments(self) -> list[DepartmentFigures]:
        """Every department with figures under the filters but the department
        filter, ranked."""

        def compute():
            return department_table(
                self.department_counts(),
                self.reply_histograms(),
                self.overdue_counts(),
                self.department_names(),
            )

        return self._once("departments", compute)

    def departments(self) -> list[DepartmentFigures]:
        """The department table: the department asked for (with its rank among
        all), or every department."""
        department = self.filters.department_id
        return [
            figures
            for figures in self.all_departments()
            if department is None or figures.department_id == department
        ]

    def media_effect(self) -> MediaEffect | None:
        """Reported against unreported cases, or ``None`` under a filter the
        media effect rollup has no dimension for."""
        if not self.filters.media_effect_applies:
            return None

        def compute():
            condition = Q(day__gte=self.period.start, day__lte=self.period.end)
            if self.filters.department_id is not None:
                condition &= Q(department_id=self.filters.department_id)
            return list(
                MediaEffectDay.objects.filter(condition)
                .values_list("reported", "response_days", "solved_within_7")
                .annotate(n=Sum("cases"))
                .order_by()
            )

        rows = self._once("media", compute)
        return media_effect_of(rows)

    def first_time_callers(self) -> Attribution | None:
        """First-time callers of the period and how they heard of 8890, or
        ``None`` when the filters narrow the cases: a caller's first contact may
        be a call, which has no department, category or kind."""
        if not self.calls_known:
            return None
        return self._once("attribution", lambda: attribution(self.period))

    def daily(self) -> list[DayRow]:
        """Every day of the period up to today, from the first day with any
        figure, the latest first."""

        def compute():
            rows = (
                CaseDay.objects.filter(self.filters.case_rows())
                .values("day")
                .annotate(**_sums())
                .order_by()
            )
            counts = {row["day"]: _counter(row) for row in rows}
            calls = self.call_days()
            first_time = self.first_time_days()
            known = [*counts, *calls]
            if not known:
                return []
            end = min(self.period.end, max(self.today, *known))
            start = max(self.period.start, min(known))
            span = (end - start).days + 1
            result = []
            for offset in range(span):
                day = end - timedelta(days=offset)
                result.append(
                    DayRow(
                        day=day,
                        calls=calls.get(day, 0) if self.calls_known else None,
                        counts=counts.get(day, Counter()),
                        first_time=(
                            first_time.get(day, 0) if self.calls_known else None
                        ),
                    )
                )
            return result

        return self._once("daily", compute)
