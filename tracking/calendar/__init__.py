"""Chinese working days: official holidays and make-up workdays (调休).

The :class:`~tracking.calendar.models.WorkingCalendar` table holds the days that
differ from Monday–Friday. A year with no row at all has no official calendar yet
(the State Council publishes each year's in the preceding winter): such a year
falls back to Monday–Friday and logs a warning; it never raises.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import WorkingCalendar

logger = logging.getLogger(__name__)

ONE_DAY = timedelta(days=1)
# Chinese holidays never run longer than this many days in a row; a search that
# walks further than this many days for one working day has a bug, not a holiday.
_MAX_DAYS_PER_WORKDAY = 30


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass
class WorkCalendar:
    """Working days read from the database, one query per year touched."""

    _years: dict[int, dict[date, bool] | None] = field(default_factory=dict)

    def _exceptions(self, year: int) -> dict[date, bool] | None:
        if year not in self._years:
            rows = WorkingCalendar.objects.filter(
                date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
            ).values_list("date", "is_workday")
            self._years[year] = dict(rows) or None
            if self._years[year] is None:
                warn_missing_year(year)
        return self._years[year]

    def has_official_data(self, year: int) -> bool:
        return self._exceptions(year) is not None

    def is_workday(self, day: date) -> bool:
        exceptions = self._exceptions(day.year) or {}
        if day in exceptions:
            return exceptions[day]
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` never counts)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        remaining = days
        limit = (days + 1) * _MAX_DAYS_PER_WORKDAY
        while remaining:
            day += ONE_DAY
            limit -= 1
            if limit < 0:
                raise RuntimeError("working calendar has no working day in sight")
            if self.is_workday(day):
                remaining -= 1
        return day

    def nth_workday_back(self, end: date, n: int) -> date:
        """The ``n``-th working day counting back from ``end`` (``end`` counts if it
        is a working day); ``n`` >= 1."""
        day = end
        while not self.is_workday(day):
            day -= ONE_DAY
        for _ in range(n - 1):
            day -= ONE_DAY
            while not self.is_workday(day):
                day -= ONE_DAY
        return day

    def last_completed_workday(self, now: datetime) -> date:
        """The latest working day whose office hours have ended by ``now``."""
        local = timezone.localtime(now, local_zone())
        today = local.date()
        closed = local.time() >= settings.TRACKING_OFFICE_CLOSING_TIME
        if closed and self.is_workday(today):
            return today
        return self.nth_workday_back(today - ONE_DAY, 1)

    def working_days_between(self, after: date, until: date) -> int:
        """Working days in (``after``, ``until``]."""
        count = 0
        day = after + ONE_DAY
        while day <= until:
            if self.is_workday(day):
                count += 1
            day += ONE_DAY
        return count


_shared: ContextVar[WorkCalendar | None] = ContextVar("work_calendar", default=None)


def current() -> WorkCalendar:
    """The calendar shared by the enclosing :func:`shared`, else a fresh one."""
    return _shared.get() or WorkCalendar()


@contextmanager
def shared():
    """Within the block, deadline arithmetic reads each year's calendar once.

    For work that computes many deadlines at one moment (a scan pass): it neither
    re-reads the table per case nor repeats a missing year's warning per case.
    Calendar edits made inside the block are not seen until it ends.
    """
    if _shared.get() is not None:
        yield _shared.get()
        return
    token = _shared.set(WorkCalendar())
    try:
        yield _shared.get()
    finally:
        _shared.reset(token)


def warn_missing_year(year: int) -> None:
    """Say loudly that deadlines in ``year`` are counted Monday–Friday."""
    logger.warning(
        "No official working calendar for %s: deadlines fall back to Monday-Friday. "
        "Import it with `manage.py import_working_calendar --csv FILE`.",
        year,
    )


def is_workday(day: date) -> bool:
    return current().is_workday(day)


def add_working_days(start: date, days: int) -> date:
    """The Nth working day after ``start``; ``start`` itself never counts."""
    return current().add_working_days(start, days)


def end_of_day(day: date) -> datetime:
    """Office closing time on ``day`` in the hotline's time zone."""
    return datetime.combine(day, settings.TRACKING_OFFICE_CLOSING_TIME, local_zone())


def deadline_after(start: datetime, days: int) -> datetime:
    """Closing time of the ``days``-th working day after the day of ``start``."""
    local_day = timezone.localtime(start, local_zone()).date()
    return end_of_day(add_working_days(local_day, days))


def working_days_overdue(due_at: datetime, now: datetime) -> int:
    """Full working days past ``due_at`` whose office hours have ended by ``now``."""
    if due_at >= now:
        return 0
    cal = current()
    due_day = timezone.localtime(due_at, local_zone()).date()
    return cal.working_days_between(due_day, cal.last_completed_workday(now))


def overdue_cutoff(now: datetime, by_working_days: int = 0) -> datetime:
    """The instant before which ``due_at`` must lie for a case to be overdue by at
    least ``by_working_days`` full working days at ``now``.

    With 0 that is ``now`` itself. With N, a case due on day D is N days overdue
    once N working days after D have ended, i.e. when D is before the N-th working
    day counted back from the last completed one.
    """
    if by_working_days <= 0:
        return now
    cal = current()
    last = cal.last_completed_workday(now)
    first_counted = cal.nth_workday_back(last, by_working_days)
    return datetime.combine(first_counted, datetime.min.time(), local_zone())


def missing_years(years: Iterable[int]) -> list[int]:
    """Which of ``years`` have no official calendar in the database."""

    years = sorted(set(years))
    if not years:
        return []
    known = {
        d.year
        for d in WorkingCalendar.objects.filter(
            date__gte=date(years[0], 1, 1), date__lte=date(years[-1], 12, 31)
        ).dates("date", "year")
    }
    return [y for y in years if y not in known]


def upcoming_missing_years(today: date | None = None) -> list[int]:
    """This year and next, where no official calendar has been loaded."""
    today = today or timezone.localdate()
    return missing_years([today.year, today.year + 1])


# --- import ------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    years: set[int] = field(default_factory=set)


def _store(days: Iterable[tuple[date, bool, str]], source: str) -> ImportResult:

    result = ImportResult()
    with transaction.atomic():
        for day, workday, name in days:
            _, created = WorkingCalendar.objects.update_or_create(
                date=day,
                defaults={"is_workday": workday, "name": name, "source": source},
            )
            result.years.add(day.year)
            if created:
                result.created += 1
            else:
                result.updated += 1
    return result


def import_chinesecalendar(years: Iterable[int]) -> ImportResult:
    """Load holidays and make-up workdays of ``years`` from ``chinesecalendar``."""
    import chinese_calendar

    wanted = set(years)
    known = {d.year for d in chinese_calendar.holidays}
    unknown = wanted - known
    if unknown:
        raise ValueError(
            "chinesecalendar has no data for "
            + ", ".join(str(y) for y in sorted(unknown))
        )
    days = [
        (day, False, name or "")
        for day, name in chinese_calendar.holidays.items()
        if day.year in wanted
    ] + [
        (day, True, name or "")
        for day, name in chinese_calendar.workdays.items()
        if day.year in wanted
    ]
    return _store(sorted(days), source="chinesecalendar")


_TRUE = {"1", "true", "yes", "y", "workday", "是", "班", "上班"}
_FALSE = {"0", "false", "no", "n", "holiday", "否", "休", "休息"}


class CalendarFileError(ValueError):
    pass


def parse_calendar_csv(lines: Iterable[str]) -> list[tuple[date, bool, str]]:
    """Rows ``date,is_workday,name`` (header required), e.g. ``2027-02-06,1,春节``."""
    reader = csv.DictReader(lines)
    if not reader.fieldnames or not {"date", "is_workday"} <= set(reader.fieldnames):
        raise CalendarFileError("the CSV needs a header with date,is_workday[,name]")
    days = []
    for number, row in enumerate(reader, start=2):
        try:
            day = date.fromisoformat((row["date"] or "").strip())
        except ValueError as exc:
            raise CalendarFileError(f"line {number}: bad date {row['date']!r}") from exc
        flag = (row["is_workday"] or "").strip().lower()
        if flag in _TRUE:
            workday = True
        elif flag in _FALSE:
            workday = False
        else:
            raise CalendarFileError(
                f"line {number}: is_workday must be 1 or 0, not {row['is_workday']!r}"
            )
        days.append((day, workday, (row.get("name") or "").strip()))
    if not days:
        raise CalendarFileError("the CSV has no rows")
    return days


def import_csv(lines: Iterable[str], source: str = "csv") -> ImportResult:
    """Load days from a CSV file; all rows or none."""
    return _store(parse_calendar_csv(lines), source=source)


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The instant ``hours`` office hours after ``start``, skipping nights,
    weekends and holidays (office hours: the opening and closing time settings)."""
    cal = current()
    zone = local_zone()
    opening = settings.TRACKING_OFFICE_OPENING_TIME
    closing = settings.TRACKING_OFFICE_CLOSING_TIME
    remaining = timedelta(hours=hours)
    moment = timezone.localtime(start, zone)
    for _ in range(366):
        day = moment.date()
        day_open = datetime.combine(day, opening, zone)
        day_close = datetime.combine(day, closing, zone)
        if cal.is_workday(day) and moment < day_close:
            moment = max(moment, day_open)
            available = day_close - moment
            if remaining <= available:
                return moment + remaining
            remaining -= available
        moment = datetime.combine(day + ONE_DAY, opening, zone)
    raise RuntimeError("no working hours within a year")
