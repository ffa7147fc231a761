"""Keeping the daily rollups current, and rebuilding them from the raw rows.

The raw rows are the append-only timeline (:class:`~tracking.models.CaseEvent`,
which records the department in charge and the limits kept at the time), the
callbacks and the calls. Every figure is a count over those rows, so:

- a change adds its counts to the rollups in its own transaction
  (:func:`event_recorded`, :func:`calls_received`), by one upsert per table;
- :func:`rebuild` computes every rollup again by aggregate queries over the raw
  rows, and :func:`differences` compares the two.

The media effect is the one figure that is not a plain count of events: a case
enters it once (its first publication, or its deadline passing if it is never
reported), and moves as its department answers and it is closed. Its rows are
kept as the difference between the case's contribution before and after the
event (:func:`media_contribution`), computed from the case's few relevant events.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from .. import calendar
from ..models.statistics import (
    CASE_COUNTERS,
    CASE_DIMENSIONS,
    NO_RESPONSE,
)
from . import first_contacts

# The actions whose events count in CaseDay: action -> counter.
ACTION_COUNTERS = {
    "register": "registered",
    "accept": "accepted",
    "answer": "answered",
    "dispatch": "dispatched",
    "acknowledge": "acknowledged",
    "return_case": "returned",
    "escalate": "escalated",
    "publish": "published",
    "reply": "replied",
    "close": "completed",
    "reopen": "reopened",
}
# Counted again when the event kept its limit (CaseEvent.on_time).
ON_TIME_COUNTERS = {"acknowledge": "acknowledged_on_time", "reply": "replied_on_time"}
# Events that end a case whatever the end (its backlog stops counting it).
FINISHING_STATES = ("rejected", "closed", "withdrawn", "merged")
# The events the media effect of a case is computed from.
MEDIA_ACTIONS = ("publish", "reminder", "reply", "close")
SOLVED_WITHIN = timedelta(days=7)


local_day = calendar.local_day


# --- what one event counts -----------------------------------------------------


def case_dimensions(case, department_id, day: date) -> tuple:
    return (
        day,
        department_id or 0,
        case.category_id or 0,
        case.kind,
        bool(case.is_efficiency),
    )


def event_counts(action: str, to_state: str, on_time: bool | None) -> Counter:
    """The CaseDay counters one event adds to."""
    counts: Counter = Counter()
    counter = ACTION_COUNTERS.get(action)
    if counter:
        counts[counter] += 1
    if on_time and action in ON_TIME_COUNTERS:
        counts[ON_TIME_COUNTERS[action]] += 1
    if to_state in FINISHING_STATES:
        counts["finished"] += 1
    return counts


def callback_counts(outcome: str, method: str) -> Counter:
    return Counter({f"callbacks_{outcome}": 1, f"callbacks_{method}": 1})


@dataclass(frozen=True)
class MediaEvent:
    action: str
    created_at: datetime
    department_id: int | None


def media_contribution(is_efficiency: bool, events: Iterable[MediaEvent]):
    """The MediaEffectDay key a case counts under (or ``None``), from its
    ``publish``, ``reminder``, ``reply`` and ``close`` events in time order."""
    events = list(events)
    start = next((e for e in events if e.action == "publish"), None)
    reported = start is not None
    if start is None and is_efficiency:
        start = next((e for e in events if e.action == "reminder"), None)
    if start is None:
        return None
    later = [e for e in events if e.created_at >= start.created_at]
    reply = next((e for e in later if e.action == "reply"), None)
    close = next((e for e in later if e.action == "close"), None)
    return (
        local_day(start.created_at),
        start.department_id or 0,
        reported,
        (local_day(reply.created_at) - local_day(start.created_at)).days
        if reply
        else NO_RESPONSE,
        close is not None and close.created_at - start.created_at <= SOLVED_WITHIN,
    )


# --- applying counts -----------------------------------------------------------


def _changed() -> None:
    from ..signals import statistics_changed

    statistics_changed.send(sender=None)


def _upsert(model, keys: tuple[str, ...], rows: dict[tuple, Counter]) -> None:
    """Add ``rows`` ({key values: {counter: delta}}) to ``model``'s table in one
    statement (``INSERT … ON CONFLICT DO UPDATE``, PostgreSQL and SQLite)."""
    rows = {key: counts for key, counts in rows.items() if any(counts.values())}
    if not rows:
        return
    transaction.on_commit(_changed)
    counters = sorted({name for counts in rows.values() for name in counts})
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [model._meta.get_field(name).column for name in (*keys, *counters)]
    quoted = [connection.ops.quote_name(column) for column in columns]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(
        f"{q} = {table}.{q} + excluded.{q}" for q in quoted[len(keys) :]
    )
    params: list = []
    # In key order: two transactions that touch the same rows lock them in the
    # same order, so they wait for each other instead of deadlocking.
    for key, counts in sorted(rows.items()):
        params.extend(key)
        params.extend(counts.get(name, 0) for name in counters)
    sql = (
        f"INSERT INTO {table} ({', '.join(quoted)}) VALUES "
        + ", ".join([placeholders] * len(rows))
        + f" ON CONFLICT ({', '.join(quoted[: len(keys)])}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _models():
    from .. import models as m

    return m


REPLY_KEYS = (*CASE_DIMENSIONS, "working_days")
MEDIA_KEYS = ("day", "department_id", "reported", "response_days", "solved_within_7")


def event_recorded(case, event, callback=None) -> None:
    """Count ``event`` (just written, in the caller's transaction) in the rollups."""
    m = _models()
    day = local_day(event.created_at)
    counts = event_counts(event.action, event.to_state, event.on_time)
    if callback is not None:
        counts += callback_counts(callback.outcome, callback.method)
        department_id = callback.department_id
    else:
        department_id = event.department_id
    if counts:
        _upsert(
            m.CaseDay,
            CASE_DIMENSIONS,
            {case_dimensions(case, department_id, day): counts},
        )
    if event.action == "reply" and event.working_days is not None:
        key = (*case_dimensions(case, department_id, day), event.working_days)
        _upsert(m.ReplyDays, REPLY_KEYS, {key: Counter(replies=1)})
    # Only efficiency complaints and cases reported in the paper (any case may
    # have a story, not only escalated ones) are in the comparison.
    if event.action in MEDIA_ACTIONS and (case.is_efficiency or case.reported_at):
        _media_changed(case, event)


def _media_changed(case, event) -> None:
    m = _models()
    rows = (
        m.CaseEvent.objects.filter(case_id=case.pk, action__in=MEDIA_ACTIONS)
        .order_by("created_at", "pk")
        .values_list("pk", "action", "created_at", "department_id")
    )
    events = [(pk, MediaEvent(*rest)) for pk, *rest in rows]
    before = media_contribution(
        case.is_efficiency, [e for pk, e in events if pk != event.pk]
    )
    after = media_contribution(case.is_efficiency, [e for _pk, e in events])
    if before == after:
        return
    rows: dict[tuple, Counter] = defaultdict(Counter)
    if before is not None:
        rows[before]["cases"] -= 1
    if after is not None:
        rows[after]["cases"] += 1
    _upsert(m.MediaEffectDay, MEDIA_KEYS, rows)


def calls_received(moments: Iterable[datetime], *, sign: int = 1) -> None:
    """Count calls received at ``moments`` (``sign=-1``: no longer count them)."""
    per_day = Counter(local_day(moment) for moment in moments)
    if per_day:
        _upsert(
            _models().CallDay,
            ("day",),
            {(day,): Counter(calls=sign * n) for day, n in per_day.items()},
        )


# --- rebuilding from the raw rows ----------------------------------------------


def _day(field: str):
    return TruncDate(field, tzinfo=calendar.local_zone())


def computed(m=None) -> dict[str, dict[tuple, dict[str, int]]]:
    """Every rollup computed from the raw rows: {table: {key: {counter: n}}},
    without zero counts. ``m`` holds the models (migrations pass their own)."""
    m = m or _models()
    case_days: dict[tuple, Counter] = defaultdict(Counter)
    case_fields = ("case__category_id", "case__kind", "case__is_efficiency")
    aggregates = {
        counter: Count("pk", filter=Q(action=action))
        for action, counter in ACTION_COUNTERS.items()
    }
    aggregates.update(
        {
            counter: Count("pk", filter=Q(action=action, on_time=True))
            for action, counter in ON_TIME_COUNTERS.items()
        }
    )
    aggregates["finished"] = Count("pk", filter=Q(to_state__in=FINISHING_STATES))
    relevant = [*ACTION_COUNTERS, *ON_TIME_COUNTERS]
    rows = (
        m.CaseEvent.objects.filter(
            Q(action__in=relevant) | Q(to_state__in=FINISHING_STATES)
        )
        .annotate(day=_day("created_at"))
        .values("day", "department_id", *case_fields)
        .annotate(**aggregates)
        .order_by()
    )
    for row in rows:
        key = (
            row["day"],
            row["department_id"] or 0,
            row["case__category_id"] or 0,
            row["case__kind"],
            bool(row["case__is_efficiency"]),
        )
        case_days[key].update({name: row[name] for name in aggregates})
    callback_aggregates = {}
    for outcome in ("satisfied", "dissatisfied", "unreachable"):
        callback_aggregates[f"callbacks_{outcome}"] = Count(
            "pk", filter=Q(outcome=outcome)
        )
    for method in ("phone", "home_visit", "media_joint"):
        callback_aggregates[f"callbacks_{method}"] = Count(
            "pk", filter=Q(method=method)
        )
    rows = (
        m.Callback.objects.annotate(day=_day("called_at"))
        .values("day", "department_id", *case_fields)
        .annotate(**callback_aggregates)
        .order_by()
    )
    for row in rows:
        key = (
            row["day"],
            row["department_id"] or 0,
            row["case__category_id"] or 0,
            row["case__kind"],
            bool(row["case__is_efficiency"]),
        )
        case_days[key].update({name: row[name] for name in callback_aggregates})

    reply_days: dict[tuple, Counter] = {}
    rows = (
        m.CaseEvent.objects.filter(action="reply", working_days__isnull=False)
        .annotate(day=_day("created_at"))
        .values("day", "department_id", *case_fields, "working_days")
        .annotate(replies=Count("pk"))
        .order_by()
    )
    for row in rows:
        key = (
            row["day"],
            row["department_id"] or 0,
            row["case__category_id"] or 0,
            row["case__kind"],
            bool(row["case__is_efficiency"]),
            row["working_days"],
        )
        reply_days[key] = Counter(replies=row["replies"])

    media: Counter = Counter()
    events = (
        m.CaseEvent.objects.filter(action__in=MEDIA_ACTIONS)
        .filter(
            Q(case__is_efficiency=True)
            | Q(case__in=m.CaseEvent.objects.filter(action="publish").values("case_id"))
        )
        .order_by("case_id", "created_at", "pk")
        .values_list(
            "case_id", "case__is_efficiency", "action", "created_at", "department_id"
        )
        .iterator(chunk_size=5000)
    )
    current, efficiency, batch = None, False, []
    for case_id, is_efficiency, action, created_at, department_id in events:
        if case_id != current:
            if batch:
                key = media_contribution(efficiency, batch)
                if key is not None:
                    media[key] += 1
            current, efficiency, batch = case_id, is_efficiency, []
        batch.append(MediaEvent(action, created_at, department_id))
    if batch:
        key = media_contribution(efficiency, batch)
        if key is not None:
            media[key] += 1

    calls = {
        (row["day"],): Counter(calls=row["calls"])
        for row in m.Call.objects.annotate(day=_day("received_at"))
        .values("day")
        .annotate(calls=Count("pk"))
        .order_by()
    }
    result = {
        "CallDay": _nonzero(calls),
        "CaseDay": _nonzero(case_days),
        "ReplyDays": _nonzero(reply_days),
        "MediaEffectDay": _nonzero({key: Counter(cases=n) for key, n in media.items()}),
    }
    if hasattr(m, "FirstContact"):  # a migration before them has no such tables
        contacts, contact_days = first_contacts.computed(m)
        result["FirstContact"] = _nonzero(contacts)
        result["FirstContactDay"] = _nonzero(contact_days)
    return result


#: Every rollup table: (its key fields, its other fields). A field left out of
#: a row of :func:`computed` (a zero, an empty answer) takes its default.
TABLES = {
    "CallDay": (("day",), ("calls",)),
    "CaseDay": (CASE_DIMENSIONS, CASE_COUNTERS),
    "ReplyDays": (REPLY_KEYS, ("replies",)),
    "MediaEffectDay": (MEDIA_KEYS, ("cases",)),
    "FirstContact": (("phone",), ("at", "kind", "contact_id", "heard_of", "visit_id")),
    "FirstContactDay": (first_contacts.DAY_KEYS, ("callers",)),
}


def _nonzero(rows) -> dict[tuple, dict[str, int]]:
    result = {}
    for key, counts in rows.items():
        kept = {name: n for name, n in counts.items() if n}
        if kept:
            result[key] = kept
    return result


def stored(m=None) -> dict[str, dict[tuple, dict[str, int]]]:
    """The rollups as they are in the tables, in the form :func:`computed` gives."""
    m = m or _models()
    result = {}
    for name, (keys, counters) in TABLES.items():
        model = getattr(m, name)
        rows = {}
        for row in model.objects.values_list(*keys, *counters).iterator(
            chunk_size=5000
        ):
            rows[tuple(row[: len(keys)])] = dict(
                zip(counters, row[len(keys) :], strict=True)
            )
        result[name] = _nonzero(rows)
    return result


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple
    stored: dict
    computed: dict


def differences(stored_rows, computed_rows) -> list[Difference]:
    found = []
    for table in TABLES:
        if table not in computed_rows:
            continue
        have, want = stored_rows.get(table, {}), computed_rows.get(table, {})
        for key in sorted(set(have) | set(want), key=repr):
            if have.get(key, {}) != want.get(key, {}):
                found.append(
                    Difference(table, key, have.get(key, {}), want.get(key, {}))
                )
    return found


def replace(computed_rows, m=None) -> None:
    """Write ``computed_rows`` as the whole content of the rollup tables."""
    m = m or _models()
    with transaction.atomic():
        for name, (keys, counters) in TABLES.items():
            if name not in computed_rows:
                continue
            model = getattr(m, name)
            model.objects.all().delete()
            defaults = {c: model._meta.get_field(c).get_default() for c in counters}
            model.objects.bulk_create(
                (
                    model(
                        **dict(zip(keys, key, strict=True)),
                        **{c: counts.get(c, defaults[c]) for c in counters},
                    )
                    for key, counts in computed_rows[name].items()
                ),
                batch_size=2000,
            )


def lock_tables() -> None:
    """Hold off every live update of the rollups until this transaction ends:
    changes committed before are in the rows it reads, later ones apply after it.
    (PostgreSQL: a table lock that lets readers through; SQLite: its one write
    lock, taken by a statement that writes nothing.)"""
    m = _models()
    tables = [
        connection.ops.quote_name(getattr(m, name)._meta.db_table) for name in TABLES
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
        else:
            cursor.execute(f"DELETE FROM {tables[0]} WHERE 0 = 1")


class _Historical:
    """Models of a migration's state under the names this module uses."""

    def __init__(self, apps):
        for name in ("CaseEvent", "Callback", "Call", "Case", *TABLES):
            try:
                setattr(self, name, apps.get_model("tracking", name))
            except LookupError:  # a table of a later migration
                pass


def rebuild_in_migration(apps, schema_editor, only=None) -> None:
    """Rebuild the rollups (``only``: those tables) in a migration."""
    models = _Historical(apps)
    rows = computed(models)
    if only is not None:
        rows = {name: rows[name] for name in only}
    replace(rows, models)
