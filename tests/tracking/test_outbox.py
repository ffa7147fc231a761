"""Notifications are owed in the transaction that causes them and always delivered.

Broker down, worker gone, mail relay failing: the outbox keeps the notification
and the sweep sends it later. (The real broker outage, with a real worker, is in
test_reliability.py.)
"""

from __future__ import annotations

from datetime import timedelta
from smtplib import SMTPServerDisconnected

import pytest
from django.db import transaction
from django_celery_beat.models import PeriodicTask

from tests.factories import DepartmentFactory, aware, case_in_state, liaison, officer
from tracking import outbox, tasks
from tracking import services as svc
from tracking.models import OutboxMessage

pytestmark = pytest.mark.django_db

NOW = aware(2026, 3, 18, 10)


@pytest.fixture
def department():
    return DepartmentFactory(name="路灯管理所", email="ldglc@example.gov.cn")


@pytest.fixture
def relay(monkeypatch):
    """The mail relay of the department notices; ``relay.down = True`` breaks it."""
    from django.core import mail

    class Relay:
        down = False

        def send_mail(self, *args, **kwargs):
            if self.down:
                raise SMTPServerDisconnected("Connection unexpectedly closed")
            return mail.send_mail(*args, **kwargs)

    relay = Relay()
    monkeypatch.setattr(tasks, "send_mail", relay.send_mail)
    return relay


def dispatch(case, department, capture):
    with capture(execute=True):
        svc.case_dispatch(case=case, user=officer(), department=department, now=NOW)


def test_the_notification_is_written_with_the_change_and_sent_after_commit(
    department, mailoutbox, django_capture_on_commit_callbacks
):
    liaison(department)
    case = case_in_state("accepted", department=department)

    dispatch(case, department, django_capture_on_commit_callbacks)

    message = OutboxMessage.objects.get()
    assert message.task == "tracking.tasks.notify_case_event"
    assert message.args == [case.events.get(action="dispatch").pk]
    assert message.sent_at is not None
    assert message.attempts == 1
    assert message.due_at is None
    assert len(mailoutbox) == 1


def test_a_rolled_back_change_owes_no_notification(
    department, django_capture_on_commit_callbacks
):
    case = case_in_state("accepted", department=department)

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            svc.case_dispatch(
                case=case, user=officer(), department=department, now=NOW
            )
            raise RuntimeError("the caller's transaction fails afterwards")

    assert not OutboxMessage.objects.exists()


def test_broker_down_the_change_stands_and_the_sweep_sends_it_later(
    department, broker_down, mailoutbox, django_capture_on_commit_callbacks
):
    liaison(department)
    case = case_in_state("accepted", department=department)

    dispatch(case, department, django_capture_on_commit_callbacks)

    case.refresh_from_db()
    assert case.state == "dispatched"
    message = OutboxMessage.objects.get()
    assert message.sent_at is None
    assert mailoutbox == []

    # Not before its grace period: the worker may still be sending it.
    assert outbox.deliver_due(now=NOW + timedelta(seconds=30)) == 0
    assert outbox.deliver_due(now=NOW + timedelta(minutes=3)) == 1

    assert len(mailoutbox) == 1
    assert case.reference in mailoutbox[0].subject
    message.refresh_from_db()
    assert message.sent_at == NOW + timedelta(minutes=3)
    assert outbox.deliver_due(now=NOW + timedelta(hours=1)) == 0
    assert len(mailoutbox) == 1


def test_a_relay_failure_is_retried_with_growing_pauses(
    department, broker_down, relay, mailoutbox, django_capture_on_commit_callbacks
):
    liaison(department)
    case = case_in_state("accepted", department=department)
    relay.down = True
    dispatch(case, department, django_capture_on_commit_callbacks)
    start = NOW + timedelta(minutes=2)

    assert outbox.deliver_due(now=start) == 0

    message = OutboxMessage.objects.get()
    assert message.sent_at is None
    assert message.attempts == 1
    assert "SMTPServerDisconnected" in message.last_error
    assert message.due_at == start + timedelta(minutes=1)
    case.refresh_from_db()
    assert case.state == "dispatched"  # the failure rolled nothing back

    assert outbox.deliver_due(now=start + timedelta(minutes=1)) == 0
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.due_at == start + timedelta(minutes=3)

    relay.down = False
    assert outbox.deliver_due(now=start + timedelta(minutes=2)) == 0  # not yet due
    assert outbox.deliver_due(now=start + timedelta(minutes=3)) == 1
    assert len(mailoutbox) == 1
    message.refresh_from_db()
    assert (message.attempts, message.due_at) == (3, None)


def test_after_the_last_attempt_the_outbox_gives_up_loudly(
    department, broker_down, relay, settings, caplog, django_capture_on_commit_callbacks
):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    liaison(department)
    relay.down = True
    dispatch(
        case_in_state("accepted", department=department),
        department,
        django_capture_on_commit_callbacks,
    )

    assert outbox.deliver_due(now=NOW + timedelta(days=1)) == 0
    assert outbox.deliver_due(now=NOW + timedelta(days=2)) == 0

    message = OutboxMessage.objects.get()
    assert message.given_up
    assert message.attempts == 2
    assert "giving up notification" in caplog.text
    assert outbox.deliver_due(now=NOW + timedelta(days=30)) == 0
    assert OutboxMessage.objects.get().attempts == 2


def test_a_message_is_delivered_once_however_often_it_is_queued(
    department, broker_down, mailoutbox, django_capture_on_commit_callbacks
):
    liaison(department)
    dispatch(
        case_in_state("accepted", department=department),
        department,
        django_capture_on_commit_callbacks,
    )
    message = OutboxMessage.objects.get()

    assert outbox.deliver(message.pk, now=NOW) is True
    assert outbox.deliver(message.pk, now=NOW) is False
    assert tasks.deliver_notification.apply(args=[message.pk]).get() is False

    assert len(mailoutbox) == 1


def test_events_no_one_must_hear_about_owe_nothing(
    department, django_capture_on_commit_callbacks
):
    case = case_in_state("registered", department=department)

    with django_capture_on_commit_callbacks(execute=True):
        svc.case_accept(case=case, user=officer(), now=NOW)

    assert not OutboxMessage.objects.exists()


def test_sent_messages_are_purged_after_the_keeping_period(
    department, broker_down, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_KEEP_SENT_DAYS = 30
    dispatch(
        case_in_state("accepted", department=department),
        department,
        django_capture_on_commit_callbacks,
    )

    assert outbox.deliver_due(now=NOW + timedelta(minutes=5)) == 1
    outbox.deliver_due(now=NOW + timedelta(days=29))
    assert OutboxMessage.objects.exists()
    outbox.deliver_due(now=NOW + timedelta(days=31))
    assert not OutboxMessage.objects.exists()


def test_beat_runs_the_sweep_every_minute(django_db_setup):
    task = PeriodicTask.objects.get(name="Deliver notifications")

    assert task.task == "tracking.tasks.deliver_due_notifications"
    assert (task.interval.every, task.interval.period) == (1, "minutes")
    assert task.enabled


def test_given_up_messages_can_be_retried_after_the_relay_is_repaired(
    department, broker_down, relay, settings, mailoutbox,
    django_capture_on_commit_callbacks,
):
    from io import StringIO

    from django.core.management import call_command

    settings.OUTBOX_MAX_ATTEMPTS = 1
    liaison(department)
    relay.down = True
    dispatch(
        case_in_state("accepted", department=department),
        department,
        django_capture_on_commit_callbacks,
    )
    outbox.deliver_due(now=NOW + timedelta(minutes=5))
    assert OutboxMessage.objects.get().given_up

    relay.down = False
    call_command("deliver_notifications", stdout=StringIO())
    assert mailoutbox == []  # given up stays given up

    out = StringIO()
    call_command("deliver_notifications", "--retry-given-up", stdout=out)
    assert "sent 1" in out.getvalue()
    assert len(mailoutbox) == 1


# --- the administrators' listing ------------------------------------------------

OUTBOX_URL = "/admin/tracking/outbox/"


def test_administrators_see_what_waits_and_why_it_failed(
    department, broker_down, relay, admin_client, django_capture_on_commit_callbacks
):
    liaison(department)
    relay.down = True
    for _ in range(2):
        dispatch(
            case_in_state("accepted", department=department),
            department,
            django_capture_on_commit_callbacks,
        )
    failing = OutboxMessage.objects.earliest("pk")
    outbox.deliver(failing.pk, now=NOW)

    response = admin_client.get(OUTBOX_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "SMTPServerDisconnected" in html
    assert "tracking.tasks.notify_case_event" in html
    assert f"{OUTBOX_URL}edit/" not in html
    assert f"{OUTBOX_URL}new/" not in html
    assert admin_client.get(f"{OUTBOX_URL}inspect/{failing.pk}/").status_code == 200

    pending = admin_client.get(OUTBOX_URL, {"status": "pending"}).content.decode()
    assert pending.count(f"{OUTBOX_URL}inspect/") == 2
    sent = admin_client.get(OUTBOX_URL, {"status": "sent"}).content.decode()
    assert f"{OUTBOX_URL}inspect/" not in sent


def test_staff_without_the_permission_cannot_see_the_outbox(client):
    from tests.factories import supervisor

    client.force_login(supervisor())

    response = client.get(OUTBOX_URL)

    assert response.status_code in (302, 403)
