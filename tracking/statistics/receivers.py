"""Calls counted in the rollups however they are written: by the services, the
admin or a shell (``bulk_create`` sends no signals: the import counts its own)."""

from __future__ import annotations

from . import rollups

LOADED = "_stats_received_at"


def call_loaded(sender, instance, **kwargs):
    # From __dict__: a row loaded without its time (``only()``) is not read again.
    if instance.pk is not None:
        setattr(instance, LOADED, instance.__dict__.get("received_at"))


def call_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, LOADED, None)
    if created:
        rollups.calls_received([instance.received_at])
    elif before is not None and before != instance.received_at:
        rollups.calls_received([before], sign=-1)
        rollups.calls_received([instance.received_at])
    setattr(instance, LOADED, instance.received_at)


def call_deleted(sender, instance, **kwargs):
    rollups.calls_received(
        [getattr(instance, LOADED, None) or instance.received_at], sign=-1
    )
