"""A real ``celery beat`` process keeps ``/healthz``'s heartbeat fresh, through
the shared cache (a private Redis), on PostgreSQL."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytest_plugins = ["tests.processes"]
pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_running_beat_is_healthy_and_a_stopped_one_goes_stale(
    celery_processes, redis_server, client, on_postgres, settings
):
    if not on_postgres:
        pytest.skip("other processes cannot see SQLite's in-memory test database")
    shared = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"{redis_server.url}/5",
        }
    }
    with override_settings(CACHES=shared):
        from django.core.cache import cache

        cache.delete("newsplus:beat-heartbeat")
        assert client.get("/healthz").json()["checks"]["beat"]["age_seconds"] is None
        beat = celery_processes.beat("beat1", CACHE_URL=f"{redis_server.url}/5")
        celery_processes.wait_until(
            lambda: client.get("/healthz").json()["checks"]["beat"]["ok"],
            timeout=60,
            what="beat's first heartbeat",
        )
        assert beat.stop() == 0, beat.tail()
        settings.HEALTHZ_BEAT_MAX_AGE = 1
        celery_processes.wait_until(
            lambda: client.get("/healthz").json()["status"] == "degraded",
            timeout=10,
            what="the heartbeat to go stale",
        )
