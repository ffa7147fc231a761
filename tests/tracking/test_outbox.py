"""Notifications are owed in the transaction that causes them and always delivered.

Broker down, worker gone, mail relay failing: the outbox keeps the notification
and the sweep sends it later. (The real broker outage, with a real worker, is in
test_reliability.py.)
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import partial
from smtplib import SMTPServerDisconnected

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from tests.concurrency import race
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
    assert message.claimed_until is None  # free for the retry when it is due
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


# --- claims: nothing is held while a handler runs -------------------------------

ORDINARY = "tests.tracking.test_outbox.ordinary_handler"
TRANSACTIONAL = "tests.tracking.test_outbox.transactional_handler"
FOLLOW_UP = "tests.tracking.test_outbox.follow_up_handler"
LEASE = outbox.CLAIM_LEASE
TRIALS = 20


class WorkerKilled(BaseException):
    """The worker process dies here: no ``except Exception`` sees it, nothing after
    it runs, only what was committed before stays."""


class Probe:
    """What the test handlers were called with and whether a transaction was open;
    ``during(label)`` runs inside the handler, to act while it is running."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.calls = []
        self.in_transaction = []
        self.during = None

    def __call__(self, label):
        self.calls.append(label)
        self.in_transaction.append(connection.in_atomic_block)
        if self.during is not None:
            self.during(label)


probe = Probe()


def ordinary_handler(label):
    probe(label)


@outbox.transactional
def transactional_handler(label):
    # Its database effect: the follow-up it owes. Written before anything can go
    # wrong below, as a handler that dies after its writes.
    outbox.send(FOLLOW_UP, label)
    probe(label)


def follow_up_handler(label):
    pass


def follow_ups() -> int:
    return OutboxMessage.objects.filter(task=FOLLOW_UP).count()


@pytest.fixture
def handlers(broker_down):
    """The test handlers, with nothing delivered on commit: each test delivers."""
    probe.reset()
    yield probe
    probe.reset()


def die_the_first_time(label):
    if len(probe.calls) == 1:
        raise WorkerKilled


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_the_handler_runs(handlers):
    message = outbox.send(ORDINARY, "slow", now=NOW)
    seen = {}
    handlers.during = lambda label: seen.update(
        OutboxMessage.objects.values("sent_at", "attempts", "claimed_until").get(
            pk=message.pk
        )
    )

    assert outbox.deliver(message.pk, now=NOW) is True

    assert handlers.in_transaction == [False]
    # Claimed and committed before the handler ran; sent once it had.
    assert seen == {"sent_at": None, "attempts": 1, "claimed_until": NOW + LEASE}
    message.refresh_from_db()
    assert (message.sent_at, message.due_at, message.claimed_until) == (NOW, None, None)


@pytest.mark.django_db(transaction=True)
def test_others_write_while_a_slow_handler_runs_and_leave_its_message_alone(
    handlers,
):
    message = outbox.send(ORDINARY, "slow", now=NOW)
    other = outbox.send(ORDINARY, "other", now=NOW)
    meanwhile = []

    def another_worker():
        # On its own connection: another row is written, this message's row is
        # not locked (PostgreSQL; SQLite has one write lock, the update needs it),
        # and its claim is respected.
        OutboxMessage.objects.filter(pk=other.pk).update(last_error="touched")
        with transaction.atomic():
            OutboxMessage.objects.select_for_update(nowait=True).get(pk=message.pk)
        return outbox.deliver(message.pk, now=NOW + timedelta(minutes=3))

    def slow(label):
        if not meanwhile:
            meanwhile.extend(race(another_worker, timeout=30))

    handlers.during = slow

    assert outbox.deliver(message.pk, now=NOW) is True

    assert meanwhile == [False]
    assert handlers.calls == ["slow"]
    assert OutboxMessage.objects.get(pk=other.pk).last_error == "touched"


def test_a_claimed_message_is_left_to_its_worker_until_the_claim_runs_out(handlers):
    message = outbox.send(ORDINARY, "claimed", now=NOW)
    claimed = outbox.claim(message.pk, now=NOW)
    assert claimed is not None

    almost = NOW + LEASE - timedelta(seconds=1)
    assert outbox.claim(message.pk, now=almost) is None
    assert outbox.deliver(message.pk, now=NOW + timedelta(minutes=3)) is False
    assert outbox.deliver_due(now=almost) == 0
    assert handlers.calls == []

    assert outbox.deliver_claimed(claimed, now=NOW + timedelta(minutes=1)) is True
    assert handlers.calls == ["claimed"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deliveries_of_one_message_at_once_send_it_once(handlers):
    handlers.during = lambda label: time.sleep(0.05)  # the others arrive meanwhile
    for trial in range(TRIALS):
        message = outbox.send(ORDINARY, trial, now=NOW)

        outcomes = race(
            partial(outbox.deliver, message.pk, now=NOW),
            partial(outbox.deliver, message.pk, now=NOW),
            partial(outbox.deliver_due, now=NOW + timedelta(minutes=3)),
        )

        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert sorted(outcomes) == [0, 0, 1], outcomes
        assert handlers.calls.count(trial) == 1
        assert OutboxMessage.objects.get(pk=message.pk).attempts == 1


def test_a_worker_killed_mid_send_is_retried_once_its_claim_runs_out(handlers):
    handlers.during = die_the_first_time
    message = outbox.send(ORDINARY, "killed", now=NOW)

    with pytest.raises(WorkerKilled):
        outbox.deliver(message.pk, now=NOW)

    message.refresh_from_db()
    assert (message.sent_at, message.attempts) == (None, 1)
    assert message.claimed_until == message.due_at == NOW + LEASE
    assert outbox.deliver_due(now=NOW + LEASE - timedelta(seconds=1)) == 0
    assert handlers.calls == ["killed"]

    assert outbox.deliver_due(now=NOW + LEASE) == 1

    assert handlers.calls == ["killed", "killed"]
    message.refresh_from_db()
    assert (message.sent_at, message.attempts) == (NOW + LEASE, 2)
    assert "LeaseExpired: attempt 1" in message.last_error


def test_a_lost_last_attempt_gives_up_loudly(handlers, settings, caplog):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    handlers.during = die_the_first_time
    message = outbox.send(ORDINARY, "killed", now=NOW)
    with pytest.raises(WorkerKilled):
        outbox.deliver(message.pk, now=NOW)

    assert outbox.deliver_due(now=NOW + LEASE) == 0

    message.refresh_from_db()
    assert message.given_up
    assert (message.attempts, message.claimed_until) == (1, None)
    assert "LeaseExpired" in message.last_error
    assert "giving up notification" in caplog.text
    assert handlers.calls == ["killed"]


def test_a_worker_whose_claim_ran_out_records_nothing_over_the_next(handlers):
    message = outbox.send(ORDINARY, "late", now=NOW)
    late = outbox.claim(message.pk, now=NOW)
    assert outbox.deliver(message.pk, now=NOW + LEASE) is True  # the sweep's retry

    # The first worker comes back: it sends again (at least once), records nothing.
    assert outbox.deliver_claimed(late, now=NOW + LEASE + timedelta(minutes=1)) is False
    handlers.during = lambda label: 1 / 0
    assert outbox.deliver_claimed(late, now=NOW + LEASE + timedelta(minutes=2)) is False

    assert handlers.calls == ["late"] * 3
    message.refresh_from_db()
    assert (message.sent_at, message.attempts, message.due_at) == (NOW + LEASE, 2, None)
    assert "ZeroDivisionError" not in message.last_error


def test_a_slow_worker_still_records_when_no_one_took_over(handlers):
    message = outbox.send(ORDINARY, "slow", now=NOW)
    slow = outbox.claim(message.pk, now=NOW)

    assert outbox.deliver_claimed(slow, now=NOW + LEASE * 2) is True

    message.refresh_from_db()
    assert (message.sent_at, message.attempts) == (NOW + LEASE * 2, 1)


def test_the_sweep_works_through_every_due_message_in_bounded_batches(handlers):
    for label in range(5):
        outbox.send(ORDINARY, label, now=NOW)

    with CaptureQueriesContext(connection) as queries:
        assert outbox.deliver_due(now=NOW + timedelta(minutes=3), batch_size=2) == 5

    assert sorted(handlers.calls) == [0, 1, 2, 3, 4]
    # Three batches of at most two, then one that finds nothing.
    assert sum("LIMIT 2" in query["sql"] for query in queries) == 4


# --- handlers whose effects are database writes: exactly once -------------------


@pytest.mark.django_db(transaction=True)
def test_a_transactional_handler_runs_in_the_transaction_that_marks_it_sent(
    handlers,
):
    message = outbox.send(TRANSACTIONAL, "t", now=NOW)
    seen = {}
    handlers.during = lambda label: seen.update(
        sent_at=OutboxMessage.objects.get(pk=message.pk).sent_at
    )

    assert outbox.deliver(message.pk, now=NOW) is True

    assert handlers.in_transaction == [True]
    assert seen == {"sent_at": NOW}
    assert follow_ups() == 1


def test_a_transactional_handler_killed_before_its_commit_applies_its_writes_once(
    handlers,
):
    handlers.during = die_the_first_time
    message = outbox.send(TRANSACTIONAL, "t", now=NOW)

    with pytest.raises(WorkerKilled):
        outbox.deliver(message.pk, now=NOW)
    assert follow_ups() == 0  # rolled back with the mark
    assert OutboxMessage.objects.get(pk=message.pk).sent_at is None

    assert outbox.deliver_due(now=NOW + LEASE) == 1
    assert outbox.deliver(message.pk, now=NOW + LEASE) is False
    assert outbox.deliver_due(now=NOW + timedelta(days=1)) == 0

    assert handlers.calls == ["t", "t"]
    assert follow_ups() == 1


def test_a_failing_transactional_handler_leaves_nothing_and_is_retried_later(
    handlers,
):
    def fail_the_first_time(label):
        if len(handlers.calls) == 1:
            raise RuntimeError("the follow-up cannot be owed yet")

    handlers.during = fail_the_first_time
    message = outbox.send(TRANSACTIONAL, "t", now=NOW)

    assert outbox.deliver(message.pk, now=NOW) is False

    message.refresh_from_db()
    assert (message.sent_at, message.attempts) == (None, 1)
    assert message.due_at == NOW + timedelta(minutes=1)
    assert "RuntimeError: the follow-up cannot be owed yet" in message.last_error
    assert follow_ups() == 0

    assert outbox.deliver_due(now=NOW + timedelta(minutes=1)) == 1
    assert follow_ups() == 1


def test_a_transactional_handler_whose_claim_ran_out_applies_nothing(handlers):
    message = outbox.send(TRANSACTIONAL, "t", now=NOW)
    late = outbox.claim(message.pk, now=NOW)
    assert outbox.deliver(message.pk, now=NOW + LEASE) is True

    assert outbox.deliver_claimed(late, now=NOW + LEASE + timedelta(minutes=1)) is False

    assert handlers.calls == ["t"]
    assert follow_ups() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_transactional_deliveries_at_once_apply_the_writes_once(handlers):
    handlers.during = lambda label: time.sleep(0.05)
    for trial in range(TRIALS):
        message = outbox.send(TRANSACTIONAL, trial, now=NOW)

        outcomes = race(
            partial(outbox.deliver, message.pk, now=NOW),
            partial(outbox.deliver, message.pk, now=NOW),
            partial(outbox.deliver_due, now=NOW + timedelta(minutes=3)),
        )

        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert sorted(outcomes) == [0, 0, 1], outcomes
        assert handlers.calls.count(trial) == 1
    assert follow_ups() == TRIALS
