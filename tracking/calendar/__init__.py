"""Chinese working days: official holidays and make-up workdays (调休).

Where a year's days come from, most trusted first:

1. a year imported as a whole (a :class:`~tracking.calendar.models.CalendarYear`
   row): the :class:`~tracking.calendar.models.WorkingCalendar` rows of that year
   are the days that differ from Monday–Friday, and nothing else counts;
2. a year the ``chinesecalendar`` package knows (it transcribes the State Council's
   notices): the package's days, with the table's rows of that year on top;
3. any other year has no official calendar yet (the State Council publishes each
   year's in the preceding winter): Monday–Friday minus the statutory holidays,
   the days fixed by law or by the lunar calendar that every official calendar
   keeps, with the table's rows on top. Bridging days and make-up workdays are
   unknown until then, so such a year logs a warning; it never raises.

The data migration imports every year the package knows, so (2) only serves a year
that a newer package brought before anyone imported it, or a table emptied by hand.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, DateField, Value
from django.utils import timezone
from django.utils.formats import date_format

from .models import CalendarYear, WorkingCalendar

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

ONE_DAY = timedelta(days=1)
# Chinese holidays never run longer than this many days in a row; a search that
# walks further than this many days for one working day has a bug, not a holiday.
_MAX_DAYS_PER_WORKDAY = 30

PACKAGE_SOURCE = "chinesecalendar"


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- names ---------------------------------------------------------------------------

# chinesecalendar names its days in English; the calendar stores and shows them in
# Chinese, as the State Council's notices name them.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
# A make-up workday is named after the holiday it makes up for: 春节调休上班.
MAKE_UP_WORKDAY = "调休上班"


_HOLIDAY_NAMES_FOLDED = {
    english.casefold(): chinese for english, chinese in HOLIDAY_NAMES.items()
}


def local_day(moment: datetime) -> date:
    """The day ``moment`` falls on in the hotline's time zone."""
    return timezone.localtime(moment, local_zone()).date()


def local_day_range(start: date, end: date) -> tuple[datetime, datetime]:
    """From the first instant of the local day ``start`` to the first instant
    after the local day ``end``: the bounds of a filter on a timestamp."""
    zone = local_zone()
    return (
        datetime.combine(start, datetime.min.time(), tzinfo=zone),
        datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=zone),
    )


def local_format(moment: datetime, format_name: str) -> str:
    """``moment`` in the hotline's time zone, written with a Django date format
    (a name such as ``"MONTH_DAY_FORMAT"`` or a format string) of the active
    language: "12月3日", "2026-12-03 17:30"."""
    return date_format(timezone.localtime(moment, local_zone()), format_name)


def chinese_name(name: str, *, workday: bool) -> str:
    """The name to store for a day: English holiday names (chinesecalendar's, or a
    CSV file's in any case and spacing) in Chinese, a make-up workday after its
    holiday; other names as they are."""
    name = name.strip()
    folded = " ".join(name.split()).casefold()
    chinese = _HOLIDAY_NAMES_FOLDED.get(folded)
    if chinese is None:
        # A holiday a newer chinesecalendar knows and this table does not.
        chinese = next(
            (
                holiday.chinese
                for holiday in chinese_calendar.Holiday
                if holiday.value.casefold() == folded
            ),
            None,
        )
    if chinese is not None:
        return chinese + MAKE_UP_WORKDAY if workday else chinese
    if workday and not name:
        return MAKE_UP_WORKDAY
    return name


# --- the sources besides the table ---------------------------------------------------


@cache
def _package_days() -> dict[int, dict[date, tuple[bool, str]]]:
    """chinesecalendar's days by year: (is_workday, English name)."""
    years: dict[int, dict[date, tuple[bool, str]]] = {}
    for day, name in chinese_calendar.holidays.items():
        years.setdefault(day.year, {})[day] = (False, name or "")
    for day, name in chinese_calendar.workdays.items():
        years.setdefault(day.year, {})[day] = (True, name or "")
    return years


def chinesecalendar_years() -> frozenset[int]:
    """The years whose official calendar the installed chinesecalendar knows."""
    return frozenset(_package_days())


@cache
def _statutory(year: int, *, observed: bool) -> tuple[frozenset[date], frozenset[date]]:
    # Heavy (about 0.3 s to import): only a year that no source has needs it.
    import holidays

    china = holidays.China(years=year, language="zh_CN", observed=observed)
    return (
        frozenset(day for day in china if day.year == year),
        frozenset(day for day in china.weekend_workdays if day.year == year),
    )


def statutory_holidays(year: int) -> frozenset[date]:
    """The holidays of ``year`` fixed by law or by the lunar calendar (元旦, 春节
    with 除夕, 清明节, 劳动节, 端午节, 中秋节, 国庆节): every official calendar keeps
    them, whatever it arranges around them."""
    return _statutory(year, observed=False)[0]


def estimated_days(year: int) -> dict[date, bool]:
    """The days of ``year`` that differ from Monday–Friday as far as they are known
    without the State Council's notice: the statutory holidays and the weekday given
    in lieu of one that falls on a weekend (补假), as the law says. Make-up workdays
    too, in the rare case the ``holidays`` package already knows them."""
    days, weekend_workdays = _statutory(year, observed=True)
    return dict.fromkeys(days, False) | dict.fromkeys(weekend_workdays, True)


# --- working days --------------------------------------------------------------------


def _read_year(year: int) -> tuple[bool, dict[date, bool]]:
    """Whether ``year`` was imported as a whole, and its rows, in one query."""
    rows = (
        WorkingCalendar.objects.filter(
            date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
        )
        .order_by()
        .values_list("date", "is_workday")
    )
    # The year's CalendarYear row comes back as a row without a date.
    imported = (
        CalendarYear.objects.filter(year=year)
        .order_by()
        .values_list(
            Value(None, output_field=DateField()),
            Value(None, output_field=BooleanField()),
        )
    )
    days = dict(rows.union(imported, all=True))
    is_imported = None in days
    days.pop(None, None)
    return is_imported, days


@dataclass
class WorkCalendar:
    """Working days read from the database, one query per year touched."""

    _years: dict[int, dict[date, bool]] = field(default_factory=dict)
    _estimated: set[int] = field(default_factory=set)

    def _exceptions(self, year: int) -> dict[date, bool]:
        if year not in self._years:
            self._years[year] = self._load(year)
        return self._years[year]

    def _load(self, year: int) -> dict[date, bool]:
        imported, rows = _read_year(year)
        if imported:
            return rows
        package = _package_days().get(year)
        if package is not None:
            return {day: workday for day, (workday, _) in package.items()} | rows
        self._estimated.add(year)
        warn_missing_year(year)
        return estimated_days(year) | rows

    def has_official_data(self, year: int) -> bool:
        self._exceptions(year)
        return year not in self._estimated

    def is_workday(self, day: date) -> bool:
        exceptions = self._exceptions(day.year)
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
    """Say loudly that deadlines in ``year`` skip only the statutory holidays."""
    logger.warning(
        "No official working calendar for %s: deadlines fall back to Monday-Friday "
        "minus the statutory holidays, without the State Council's bridging days "
        "and make-up workdays. Import it with "
        "`manage.py import_working_calendar --csv FILE`.",
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
    return end_of_day(add_working_days(local_day(start), days))


def working_days_overdue(due_at: datetime, now: datetime) -> int:
    """Full working days past ``due_at`` whose office hours have ended by ``now``."""
    if due_at >= now:
        return 0
    cal = current()
    due_day = timezone.localtime(due_at, local_zone()).date()
    return cal.working_days_between(due_day, cal.last_completed_workday(now))


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days after the local day of ``start`` up to that of ``end``: a reply
    on the day of dispatch took 0, one on the next working day 1."""
    zone = local_zone()
    return current().working_days_between(
        timezone.localtime(start, zone).date(), timezone.localtime(end, zone).date()
    )


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


def official_years(years: Iterable[int]) -> set[int]:
    """Which of ``years`` were imported as a whole."""
    return set(
        CalendarYear.objects.filter(year__in=set(years)).values_list("year", flat=True)
    )


def missing_years(years: Iterable[int]) -> list[int]:
    """Which of ``years`` have no official calendar from any source, so that their
    deadlines skip only the statutory holidays.

    A day added by hand does not make its year known: only an import of the whole
    year does, or the chinesecalendar package knowing it.
    """
    candidates = sorted(set(years) - chinesecalendar_years())
    if not candidates:
        return []
    known = official_years(candidates)
    return [year for year in candidates if year not in known]


def upcoming_missing_years(today: date | None = None) -> list[int]:
    """This year and next, where no official calendar has been loaded."""
    today = today or timezone.localdate()
    return missing_years([today.year, today.year + 1])


def imported_years():
    """The years imported as a whole, with who imported them."""
    return CalendarYear.objects.select_related("imported_by").order_by("year")


# --- import ------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    years: set[int] = field(default_factory=set)
    # Years recorded as imported as a whole; years of a CSV file that were not, each
    # with the statutory holidays on weekdays that the file lacks.
    official: set[int] = field(default_factory=set)
    incomplete: dict[int, list[date]] = field(default_factory=dict)


def _store(
    days: Iterable[tuple[date, bool, str]],
    *,
    source: str,
    whole_years: Iterable[int],
    by: AbstractBaseUser | None = None,
) -> ImportResult:
    """Write ``days`` and record ``whole_years`` as imported from ``source`` by
    ``by`` (``None``: the system); all or nothing."""
    day_source = source[: WorkingCalendar._meta.get_field("source").max_length]
    year_source = source[: CalendarYear._meta.get_field("source").max_length]
    result = ImportResult()
    now = timezone.now()
    with transaction.atomic():
        for day, workday, name in days:
            _, created = WorkingCalendar.objects.update_or_create(
                date=day,
                defaults={
                    "is_workday": workday,
                    "name": chinese_name(name, workday=workday),
                    "source": day_source,
                },
            )
            result.years.add(day.year)
            if created:
                result.created += 1
            else:
                result.updated += 1
        for year in sorted(set(whole_years)):
            CalendarYear.objects.update_or_create(
                year=year,
                defaults={
                    "source": year_source,
                    "imported_at": now,
                    "imported_by": by,
                },
            )
            result.official.add(year)
    return result


def import_chinesecalendar(
    years: Iterable[int], *, by: AbstractBaseUser | None = None
) -> ImportResult:
    """Load holidays and make-up workdays of ``years`` from ``chinesecalendar``; each
    year counts as imported as a whole, by ``by`` (``None``: the system)."""
    wanted = set(years)
    unknown = wanted - chinesecalendar_years()
    if unknown:
        raise ValueError(
            "chinesecalendar has no data for "
            + ", ".join(str(y) for y in sorted(unknown))
        )
    package = _package_days()
    days = sorted(
        (day, workday, name)
        for year in wanted
        for day, (workday, name) in package[year].items()
    )
    return _store(days, source=PACKAGE_SOURCE, whole_years=wanted, by=by)


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


def lacking_statutory_holidays(
    days: Iterable[tuple[date, bool, str]], year: int
) -> list[date]:
    """The statutory holidays of ``year`` on Monday–Friday that ``days`` does not
    list as holidays. A file lists a year as a whole when there are none: every
    official calendar has them, and a file cut short or of another year lacks some.
    (A statutory holiday on a weekend is off anyway, so a file need not list it.)"""
    listed = {day for day, workday, _ in days if not workday}
    return sorted(
        day
        for day in statutory_holidays(year)
        if day.weekday() < 5 and day not in listed
    )


def import_csv(
    lines: Iterable[str],
    source: str = "csv",
    *,
    by: AbstractBaseUser | None = None,
) -> ImportResult:
    """Load days from a CSV file; all rows or none. A year of the file counts as
    imported as a whole when the file lists every statutory holiday of that year
    that falls on a weekday (see :func:`lacking_statutory_holidays`)."""
    days = parse_calendar_csv(lines)
    incomplete = {}
    for year in sorted({day.year for day, _, _ in days}):
        if lacking := lacking_statutory_holidays(days, year):
            incomplete[year] = lacking
    whole = {day.year for day, _, _ in days} - set(incomplete)
    result = _store(days, source=source, whole_years=whole, by=by)
    result.incomplete = incomplete
    return result


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
