"""``GET /healthz`` for a load balancer: the database, the broker and beat's
heartbeat, each reported; 503 only when this process cannot serve."""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError, connection
from django.test import override_settings

from cms import beat

pytestmark = pytest.mark.django_db


def health(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return response, response.json()


def test_all_well_is_200_with_each_check(client):
    beat.record_heartbeat()
    response, body = health(client)
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert 0 <= body["checks"]["beat"]["age_seconds"] < 5


def test_a_stale_or_missing_heartbeat_is_degraded_but_still_serving(client, settings):
    settings.HEALTHZ_BEAT_MAX_AGE = 120
    _, body = health(client)
    assert body["status"] == "degraded"
    assert body["checks"]["beat"] == {
        "ok": False, "age_seconds": None, "max_age_seconds": 120
    }

    beat.record_heartbeat(time.time() - 600)
    response, body = health(client)
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["beat"]["ok"] is False
    assert body["checks"]["beat"]["age_seconds"] >= 600


def test_the_database_down_is_503(client, monkeypatch):
    beat.record_heartbeat()

    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server")

    # Sessions and the like are not touched by the view; only its own check fails.
    monkeypatch.setattr(connection, "cursor", refuse)
    response, body = health(client)
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["database"] == {
        "ok": False, "error": "OperationalError", "ms": body["checks"]["database"]["ms"]
    }


@override_settings(CELERY_BROKER_CONNECTION_TIMEOUT=0.5)
def test_the_broker_down_is_503(client, monkeypatch):
    from cms.celery import app

    beat.record_heartbeat()
    # A port nothing listens on: the real connection attempt fails.
    for name in ("broker_url", "broker_write_url"):
        monkeypatch.setattr(app.conf, name, "redis://127.0.0.1:9/0")
    response, body = health(client)
    assert response.status_code == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_only_get_and_head(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code in (200, 503)


def test_the_scheduler_records_a_heartbeat_each_tick_at_most_every_few_seconds(
    monkeypatch,
):
    from django_celery_beat.schedulers import DatabaseScheduler

    monkeypatch.setattr(DatabaseScheduler, "tick", lambda self, *a, **k: 5.0)
    scheduler = beat.Scheduler.__new__(beat.Scheduler)  # tick needs no set-up here
    assert beat.last_heartbeat() is None
    assert scheduler.tick() == 5.0
    first = beat.last_heartbeat()
    assert first is not None and abs(first - time.time()) < 5
    beat.record_heartbeat(1.0)
    scheduler.tick()  # within HEARTBEAT_EVERY: not written again
    assert beat.last_heartbeat() == 1.0
