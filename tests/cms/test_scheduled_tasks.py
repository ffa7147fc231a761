"""Settings → Scheduled tasks: administrators see beat's schedule and pause a task."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from tests.factories import supervisor

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator():
    return get_user_model().objects.create_superuser(
        "root", "root@example.org", "root-pw-8890"
    )


def test_an_administrator_sees_the_schedule_the_migrations_made(client, administrator):
    client.force_login(administrator)
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("scheduled_tasks:index") in home

    listing = client.get(reverse("scheduled_tasks:index")).content.decode()
    for task in (
        "tracking.tasks.scan_overdue",
        "tracking.tasks.deliver_due_notifications",
        "newsroom.tasks.publish_scheduled",
    ):
        assert task in listing


def test_an_administrator_pauses_a_task(client, administrator):
    scan = PeriodicTask.objects.get(task="tracking.tasks.scan_overdue")
    client.force_login(administrator)
    edit = reverse("scheduled_tasks:edit", args=[scan.pk])

    response = client.post(
        edit, {"interval": scan.interval_id, "crontab": "", "description": "维护中"}
    )

    assert response.status_code == 302
    scan.refresh_from_db()
    assert (scan.enabled, scan.description) == (False, "维护中")


def test_nobody_else_sees_or_changes_the_schedule(client):
    scan = PeriodicTask.objects.get(task="tracking.tasks.scan_overdue")
    client.force_login(supervisor())
    assert (
        reverse("scheduled_tasks:index")
        not in client.get(reverse("wagtailadmin_home")).content.decode()
    )
    edit = reverse("scheduled_tasks:edit", args=[scan.pk])
    for response in (
        client.get(reverse("scheduled_tasks:index")),
        client.get(edit),
        client.post(edit, {"interval": scan.interval_id}),
    ):
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
    assert PeriodicTask.objects.get(pk=scan.pk).enabled
