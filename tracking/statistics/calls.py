"""Figures of the call log: calls received in a period and its busiest day.

Days are the hotline's local days (``TIME_ZONE``, Asia/Shanghai): a call at
23:30 local time on the 1st counts on the 1st, although it is the 1st at 15:30
in UTC, and one at 00:30 on the 2nd counts on the 2nd. The database groups the
calls, so the cost does not depend on how many there are in Python.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count
from django.db.models.functions import TruncDate

from ..calendar import local_day_range, local_zone
from ..models import Call


def _calls_between(start: date, end: date):
    since, until = local_day_range(start, end)
    return Call.objects.filter(received_at__gte=since, received_at__lt=until)


def calls_received(start: date, end: date) -> int:
    """Calls received from local day ``start`` to local day ``end``, inclusive."""
    return _calls_between(start, end).count()


def calls_per_day(start: date, end: date) -> dict[date, int]:
    """Calls received on each local day of the period that had any."""
    rows = (
        _calls_between(start, end)
        .annotate(day=TruncDate("received_at", tzinfo=local_zone()))
        .values("day")
        .annotate(calls=Count("pk"))
        .order_by("day")
    )
    return {row["day"]: row["calls"] for row in rows}


def busiest_day(start: date, end: date) -> tuple[date, int] | None:
    """The local day of the period with the most calls and their number (the
    earliest such day on a tie), or ``None`` when no call came in."""
    row = (
        _calls_between(start, end)
        .annotate(day=TruncDate("received_at", tzinfo=local_zone()))
        .values("day")
        .annotate(calls=Count("pk"))
        .order_by("-calls", "day")
        .first()
    )
    return (row["day"], row["calls"]) if row else None
