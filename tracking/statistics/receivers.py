"""Calls, cases and citizens counted in the rollups however they are written:
by the services, the admin or a shell (``bulk_create`` and queryset updates send
no signals: the import and the services count their own).

What a row held when it was loaded is kept on the instance (from ``__dict__``:
a field loaded later, or never, is not read for it), so that a save can tell
what moved."""

from __future__ import annotations

from . import first_contacts, rollups

SNAPSHOT = "_stats_loaded"
CALL_FIELDS = ("received_at", "caller_phone", "heard_of", "heard_of_visit_id")
CASE_FIELDS = ("registered_at", "citizen_id", "heard_of", "heard_of_visit_id")
MOVED = {"received_at", "caller_phone", "registered_at", "citizen_id"}


def _snapshot(instance, fields) -> dict:
    loaded = instance.__dict__
    return {name: loaded[name] for name in fields if name in loaded}


def _changed(instance, fields) -> set[str]:
    before = getattr(instance, SNAPSHOT, {})
    now = _snapshot(instance, fields)
    return {name for name in before.keys() & now.keys() if before[name] != now[name]}


def _loaded(fields):
    def receiver(sender, instance, **kwargs):
        if instance.pk is not None:
            setattr(instance, SNAPSHOT, _snapshot(instance, fields))

    return receiver


call_loaded = _loaded(CALL_FIELDS)


def call_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, SNAPSHOT, {}).get("received_at")
    if created:
        rollups.calls_received([instance.received_at])
        first_contacts.contacts_added([first_contacts.of_call(instance)])
    else:
        if before is not None and before != instance.received_at:
            rollups.calls_received([before], sign=-1)
            rollups.calls_received([instance.received_at])
        changed = _changed(instance, CALL_FIELDS)
        if changed & MOVED:
            old = getattr(instance, SNAPSHOT, {}).get("caller_phone")
            first_contacts.phones_changed([old, instance.caller_phone])
        elif changed:
            first_contacts.answer_changed(first_contacts.of_call(instance))
    setattr(instance, SNAPSHOT, _snapshot(instance, CALL_FIELDS))


def call_deleted(sender, instance, **kwargs):
    loaded = getattr(instance, SNAPSHOT, {}).get("received_at")
    rollups.calls_received([loaded or instance.received_at], sign=-1)
    first_contacts.phones_changed([instance.caller_phone])


def _phone_of(citizen_id) -> str:
    if not citizen_id:
        return ""
    from ..models import Citizen

    return (
        Citizen.objects.filter(pk=citizen_id).values_list("phone", flat=True).first()
        or ""
    )


def _case_phone(case) -> str:
    if not case.citizen_id:
        return ""
    if "citizen" in case._state.fields_cache:
        citizen = case._state.fields_cache["citizen"]
        if citizen is not None and citizen.pk == case.citizen_id:
            return citizen.phone
    return _phone_of(case.citizen_id)


case_loaded = _loaded(CASE_FIELDS)


def case_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    if created:
        first_contacts.contacts_added(
            [first_contacts.of_case(instance, _case_phone(instance))]
        )
    else:
        changed = _changed(instance, CASE_FIELDS)
        if changed & MOVED:
            old = getattr(instance, SNAPSHOT, {}).get("citizen_id")
            first_contacts.phones_changed([_phone_of(old), _case_phone(instance)])
        elif changed:
            first_contacts.answer_changed(
                first_contacts.of_case(instance, _case_phone(instance))
            )
    setattr(instance, SNAPSHOT, _snapshot(instance, CASE_FIELDS))


def case_deleted(sender, instance, **kwargs):
    old = getattr(instance, SNAPSHOT, {}).get("citizen_id", instance.citizen_id)
    first_contacts.phones_changed([_phone_of(old)])


citizen_loaded = _loaded(("phone",))


def citizen_saved(sender, instance, created, raw=False, **kwargs):
    if raw or created:
        return
    if _changed(instance, ("phone",)):
        first_contacts.phones_changed(
            [getattr(instance, SNAPSHOT)["phone"], instance.phone]
        )
    setattr(instance, SNAPSHOT, _snapshot(instance, ("phone",)))


def citizen_deleted(sender, instance, **kwargs):
    first_contacts.phones_changed([instance.phone])


def visit_deleted(sender, instance, **kwargs):
    first_contacts.visit_deleted(instance.pk)
