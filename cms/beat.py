"""Celery beat's scheduler, with a heartbeat that ``/healthz`` reads.

Beat keeps its schedule in the database (django-celery-beat) and wakes at least
every few seconds. Each wake-up, at most every ``HEARTBEAT_EVERY`` seconds, it
stores the time in the shared cache, so any web process can tell how long ago the
one beat of the deployment was last alive.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "newsplus:beat-heartbeat"
HEARTBEAT_EVERY = 15  # seconds between two writes


def record_heartbeat(now: float | None = None) -> None:
    cache.set(HEARTBEAT_KEY, time.time() if now is None else now, timeout=None)


def last_heartbeat() -> float | None:
    """When beat last said it was alive (seconds since the epoch), or None."""
    value = cache.get(HEARTBEAT_KEY)
    return float(value) if isinstance(value, int | float) else None


class Scheduler(DatabaseScheduler):
    _heartbeat_at = 0.0

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        now = time.time()
        if now - self._heartbeat_at >= HEARTBEAT_EVERY:
            try:
                record_heartbeat(now)
                self._heartbeat_at = now
            except Exception:  # the cache being down must not stop the schedule
                logger.exception("could not record beat's heartbeat")
        return interval
