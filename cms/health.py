"""``GET /healthz``: may a load balancer send this process requests?

It answers 200 when the database and the message broker answer, and 503 when one
of them does not, with a JSON body of each check. Beat's heartbeat age is
reported too (``cms.beat``); a stale or missing heartbeat makes the status
``degraded`` but not 503: a dead beat stops the scans and reminders, which a
monitor must report, yet every web process can still serve, so it must not be
taken out of the pool for it. Nothing here names a host, a user or a URL.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import beat


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        check()
    except Exception as exc:  # any failure is the answer, not a 500
        result = {"ok": False, "error": type(exc).__name__}
    else:
        result = {"ok": True}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    from .celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(
            max_retries=1, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT
        )


def _beat(now: float) -> dict:
    try:
        last = beat.last_heartbeat()
    except Exception as exc:
        return {"ok": False, "age_seconds": None, "error": type(exc).__name__}
    limit = settings.HEALTHZ_BEAT_MAX_AGE
    if last is None:
        return {"ok": False, "age_seconds": None, "max_age_seconds": limit}
    age = max(0.0, now - last)
    return {"ok": age <= limit, "age_seconds": round(age, 1), "max_age_seconds": limit}


@never_cache
@require_safe
def healthz(request):
    checks = {"database": _timed(_database), "broker": _timed(_broker)}
    checks["beat"] = _beat(time.time())
    serving = checks["database"]["ok"] and checks["broker"]["ok"]
    if not serving:
        status = "fail"
    elif not checks["beat"]["ok"]:
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse(
        {"status": status, "checks": checks}, status=200 if serving else 503
    )
