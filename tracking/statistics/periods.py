"""The periods figures are asked for: since launch, a year, a month, or any span
of local days, parsed from one public parameter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from ..calendar import local_zone

ALL = "all"
# Spans longer than this are refused (a junk parameter must not ask for 9999 years).
MAX_DAYS = 366 * 30
_YEAR = re.compile(r"^(\d{4})$", re.ASCII)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
_SPAN = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$", re.ASCII)
FIRST_YEAR, LAST_YEAR = 2000, 2100


class PeriodError(ValueError):
    """A period parameter that means nothing; the message says what is expected."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    #: What the period was asked as: "all", "2026", "2026-11", "2026-01-01..2026-03-31".
    value: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def is_all(self) -> bool:
        return self.value == ALL

    def year_earlier(self) -> Period:
        return Period(_minus_year(self.start), _minus_year(self.end), "")

    def label(self) -> str:
        if self.is_all:
            return _("Since launch")
        if _YEAR.match(self.value):
            return _("%(year)s") % {"year": self.start.year}
        if _MONTH.match(self.value):
            return _("%(year)s-%(month)02d") % {
                "year": self.start.year,
                "month": self.start.month,
            }
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def _minus_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def today() -> date:
    return timezone.localtime(timezone.now(), local_zone()).date()


def since_launch(first_day: date | None, until: date | None = None) -> Period:
    until = until or today()
    return Period(min(first_day or until, until), until, ALL)


def year(number: int) -> Period:
    return Period(date(number, 1, 1), date(number, 12, 31), f"{number:04d}")


def month(number_year: int, number_month: int) -> Period:
    start = date(number_year, number_month, 1)
    following = (start + timedelta(days=32)).replace(day=1)
    return Period(
        start, following - timedelta(days=1), f"{number_year:04d}-{number_month:02d}"
    )


def parse(value: str | None, *, first_day: date | None = None) -> Period:
    """``all`` (or nothing), ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD..YYYY-MM-DD``."""
    value = (value or ALL).strip()
    if value == ALL:
        return since_launch(first_day)
    if found := _YEAR.match(value):
        number = int(found[1])
        if FIRST_YEAR <= number <= LAST_YEAR:
            return year(number)
    elif found := _MONTH.match(value):
        number_year, number_month = int(found[1]), int(found[2])
        if FIRST_YEAR <= number_year <= LAST_YEAR and 1 <= number_month <= 12:
            return month(number_year, number_month)
    elif found := _SPAN.match(value):
        try:
            start, end = date.fromisoformat(found[1]), date.fromisoformat(found[2])
        except ValueError:
            raise PeriodError(_("That date does not exist.")) from None
        if not (FIRST_YEAR <= start.year and end.year <= LAST_YEAR):
            raise PeriodError(
                _("Choose dates from %(first)s to %(last)s.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
        if start > end:
            raise PeriodError(_("The period ends before it starts."))
        if (end - start).days >= MAX_DAYS:
            raise PeriodError(_("Choose a period of at most 30 years."))
        return Period(start, end, value)
    raise PeriodError(
        _(
            "Give the period as “all”, a year (2026), a month (2026-11) or two "
            "dates (2026-01-01..2026-03-31)."
        )
    )
