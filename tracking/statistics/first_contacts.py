"""Keeping the first contact of every phone number, and the first-time callers
of each day, current (the rollup behind :mod:`.attribution`).

A number's first contact is its earliest call or case (:mod:`.attribution` says
why, and how ties are broken). Two tables hold it:

- :class:`~tracking.models.FirstContact`, one row per number: which contact is
  first, when, and what it says of how the caller heard of 8890. It is what a new
  contact is compared with, by its primary key, so a call costs two statements
  whatever the size of the history.
- :class:`~tracking.models.FirstContactDay`, the count of first contacts per
  local day, answer and visit day: what the statistics read.

They change in the transaction of the contact:

- :func:`contacts_added` for new calls and cases (the receivers, and the call
  import for its bulk insert): a number never seen is inserted; a contact earlier
  than the number's first (a back-dated import) takes its place;
- :func:`answer_changed` when a contact's answer is edited;
- :func:`phones_changed` when anything else moved (a contact's time or number, a
  citizen's phone, a deletion): the number's first contact is found again from
  the raw rows.

``manage.py rebuild_statistics`` computes both again from the raw rows
(:func:`computed`) with the other rollups, and reports every difference.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from .. import calendar

CALL, CASE = "call", "case"
#: On the same instant a call comes before a case (a case is registered from
#: its call).
RANK = {CALL: 0, CASE: 1}
DAY_KEYS = ("day", "heard_of", "visit_id")


@dataclass(frozen=True)
class Contact:
    """A call or a case as the first contact of its number."""

    phone: str
    at: datetime
    kind: str  # CALL or CASE
    contact_id: int
    heard_of: str = ""
    visit_id: int = 0

    @property
    def order(self) -> tuple:
        return (self.at, RANK[self.kind], self.contact_id)

    @property
    def day_key(self) -> tuple:
        return (calendar.local_day(self.at), self.heard_of or "", self.visit_id or 0)

    def fields(self) -> dict:
        return {
            "at": self.at,
            "kind": self.kind,
            "contact_id": self.contact_id,
            "heard_of": self.heard_of or "",
            "visit_id": self.visit_id or 0,
        }


def of_call(call) -> Contact | None:
    if not call.caller_phone or call.pk is None:
        return None
    return Contact(
        call.caller_phone,
        call.received_at,
        CALL,
        call.pk,
        call.heard_of,
        call.heard_of_visit_id or 0,
    )


def of_case(case, phone: str) -> Contact | None:
    if not phone or case.pk is None:
        return None
    return Contact(
        phone,
        case.registered_at,
        CASE,
        case.pk,
        case.heard_of,
        case.heard_of_visit_id or 0,
    )


def _models():
    from .. import models as m

    return m


def _in_a_transaction(function):
    """Run in the caller's transaction, or in one of its own when there is none
    (a save in autocommit mode, a shell): the rows are locked while compared.
    No savepoint: inside a transaction this costs no statement."""

    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        with transaction.atomic(savepoint=False):
            return function(*args, **kwargs)

    return wrapped


def _stored(row) -> Contact:
    return Contact(
        row.phone, row.at, row.kind, row.contact_id, row.heard_of, row.visit_id
    )


def _count(deltas: Counter) -> None:
    from .rollups import _upsert

    _upsert(
        _models().FirstContactDay,
        DAY_KEYS,
        {key: Counter(callers=n) for key, n in deltas.items()},
    )


def _chunks(items: list, size: int | None = None):
    """``items`` in lists that fit a statement: 1000 rows of 6 parameters, or
    what the database's limit of parameters allows."""
    limit = connection.features.max_query_params
    size = size or (max(1, limit // 6) if limit else 1000)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_new(contacts: list[Contact]) -> set[str]:
    """Insert the numbers not yet known; the set of those inserted. A number a
    concurrent transaction inserted first is left to it (PostgreSQL waits for
    that transaction and then skips the row; the caller then compares)."""
    model = _models().FirstContact
    table = connection.ops.quote_name(model._meta.db_table)
    names = ("phone", "at", "kind", "contact_id", "heard_of", "visit_id")
    columns = ", ".join(
        connection.ops.quote_name(model._meta.get_field(name).column) for name in names
    )
    phone_column = connection.ops.quote_name(model._meta.get_field("phone").column)
    inserted: set[str] = set()
    for chunk in _chunks(contacts):
        params: list = []
        for contact in chunk:
            fields = contact.fields()
            params.append(contact.phone)
            params.extend(fields[name] for name in names[1:])
        values = ", ".join(["(" + ", ".join(["%s"] * len(names)) + ")"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} "
                f"ON CONFLICT ({phone_column}) DO NOTHING RETURNING {phone_column}",
                params,
            )
            inserted.update(phone for (phone,) in cursor.fetchall())
    return inserted


@_in_a_transaction
def contacts_added(contacts: Iterable[Contact | None]) -> None:
    """New contacts (in the caller's transaction): each number's earliest of
    them becomes its first contact if it has none yet or is earlier than it."""
    m = _models()
    earliest: dict[str, Contact] = {}
    for contact in contacts:
        if contact is None:
            continue
        known = earliest.get(contact.phone)
        if known is None or contact.order < known.order:
            earliest[contact.phone] = contact
    if not earliest:
        return
    deltas: Counter = Counter()
    # In the order of the numbers: two transactions lock their rows in turn.
    inserted = _insert_new(sorted(earliest.values(), key=lambda c: c.phone))
    for phone in inserted:
        deltas[earliest[phone].day_key] += 1
    known = sorted(phone for phone in earliest if phone not in inserted)
    replaced = []
    for chunk in _chunks(known, 500):
        # Locked: two transactions adding contacts of one number compare in turn.
        for row in m.FirstContact.objects.select_for_update().filter(phone__in=chunk):
            new, old = earliest[row.phone], _stored(row)
            if new.order < old.order:
                deltas[old.day_key] -= 1
                deltas[new.day_key] += 1
                for name, value in new.fields().items():
                    setattr(row, name, value)
                replaced.append(row)
    if replaced:
        m.FirstContact.objects.bulk_update(
            replaced, ["at", "kind", "contact_id", "heard_of", "visit_id"]
        )
    _count(deltas)


@_in_a_transaction
def answer_changed(contact: Contact | None) -> None:
    """``contact``'s answer (how the caller heard of 8890) was edited: if it is
    its number's first contact, the number's first-time caller moves with it."""
    if contact is None:
        return
    m = _models()
    row = (
        m.FirstContact.objects.select_for_update()
        .filter(phone=contact.phone, kind=contact.kind, contact_id=contact.contact_id)
        .first()
    )
    if row is None:
        return
    old = _stored(row)
    if old.day_key == contact.day_key:
        return
    row.heard_of, row.visit_id = contact.heard_of or "", contact.visit_id or 0
    row.save(update_fields=["heard_of", "visit_id"])
    _count(Counter({old.day_key: -1, contact.day_key: 1}))


def first_contact_of(phone: str, m=None) -> Contact | None:
    """The first contact of ``phone`` read from the calls and cases (two
    queries, on the indexes of the number)."""
    m = m or _models()
    found = []
    call = (
        m.Call.objects.filter(caller_phone=phone)
        .order_by("received_at", "pk")
        .values_list("received_at", "pk", "heard_of", "heard_of_visit_id")
        .first()
    )
    if call:
        found.append(Contact(phone, call[0], CALL, call[1], call[2], call[3] or 0))
    case = (
        m.Case.objects.filter(citizen__phone=phone)
        .order_by("registered_at", "pk")
        .values_list("registered_at", "pk", "heard_of", "heard_of_visit_id")
        .first()
    )
    if case:
        found.append(Contact(phone, case[0], CASE, case[1], case[2], case[3] or 0))
    return min(found, key=lambda contact: contact.order, default=None)


@_in_a_transaction
def phones_changed(phones: Iterable[str]) -> None:
    """Find the first contact of each of ``phones`` again from the raw rows
    (after a contact moved, changed its number or was deleted)."""
    m = _models()
    deltas: Counter = Counter()
    for phone in sorted({phone for phone in phones if phone}):
        row = m.FirstContact.objects.select_for_update().filter(phone=phone).first()
        old = _stored(row) if row is not None else None
        new = first_contact_of(phone)
        if old == new:
            continue
        if old is not None:
            deltas[old.day_key] -= 1
        if new is None:
            row.delete()
            continue
        deltas[new.day_key] += 1
        if row is None:
            if not _insert_new([new]):
                # Inserted meanwhile by a new contact's transaction: compare.
                deltas[new.day_key] -= 1
                contacts_added([new])
            continue
        for name, value in new.fields().items():
            setattr(row, name, value)
        row.save()
    _count(deltas)


# --- rebuilding from the raw rows ----------------------------------------------


def computed(m=None) -> tuple[dict, dict]:
    """The first contact of every number, and the first-time callers per day,
    from the calls and cases: ({(phone,): fields}, {day key: {"callers": n}})."""
    from .attribution import first_calls, first_cases

    m = m or _models()
    rows: dict[tuple, dict] = {}
    days: Counter = Counter()
    sources = (
        (CALL, first_calls(None, m), "caller_phone", "received_at"),
        (CASE, first_cases(None, m), "citizen__phone", "registered_at"),
    )
    for kind, queryset, phone_field, at_field in sources:
        values = queryset.values_list(
            phone_field, at_field, "pk", "heard_of", "heard_of_visit_id"
        ).iterator(chunk_size=5000)
        for phone, at, pk, heard_of, visit_id in values:
            contact = Contact(phone, at, kind, pk, heard_of, visit_id or 0)
            rows[(phone,)] = contact.fields()
            days[contact.day_key] += 1
    return rows, {key: {"callers": n} for key, n in days.items()}


@_in_a_transaction
def visit_deleted(visit_id: int) -> None:
    """A community visit day was deleted: its contacts no longer name it (their
    ``heard_of_visit`` is set to none), and neither do their first-time callers."""
    m = _models()
    deltas: Counter = Counter()
    rows = m.FirstContactDay.objects.filter(visit_id=visit_id, callers__gt=0)
    for day, heard_of, callers in rows.values_list("day", "heard_of", "callers"):
        deltas[(day, heard_of, visit_id)] -= callers
        deltas[(day, heard_of, 0)] += callers
    m.FirstContact.objects.filter(visit_id=visit_id).update(visit_id=0)
    _count(deltas)
