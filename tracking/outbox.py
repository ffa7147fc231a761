"""The transactional outbox: notifications that survive broker and relay outages.

``send()`` records the notification in the transaction of the change that causes
it, so a rolled-back change owes nothing and a committed one owes it for sure.
After the commit the message is queued to a worker; whatever was not sent (broker
down, worker killed, mail relay failing) is picked up by ``deliver_due()``, which
beat runs every minute, with growing pauses between attempts.

A delivery holds no transaction while it talks to the outside world:

1. **Claim**, in one short transaction: the message is taken if it is unsent, not
   given up and not claimed by a live worker, and leased to this worker for
   ``CLAIM_LEASE``. Each claim counts as an attempt.
2. **Send**: the handler runs with no transaction open, so a slow mail relay holds
   no row lock and, on SQLite, not the database's write lock.
3. **Record**, in another short transaction and only if the claim is still ours:
   sent, or the failure with the next attempt after a pause; after
   ``OUTBOX_MAX_ATTEMPTS`` attempts the outbox gives up, loudly.

A worker killed mid-send never records: its lease runs out, and the sweep claims
the message again (the lost attempt is counted and noted in ``last_error``).

What this guarantees:

- Every committed message is delivered, or given up after
  ``OUTBOX_MAX_ATTEMPTS`` attempts; none is lost.
- At most one live claim per message: two workers, or the sweep and the queued
  task, never run a handler at the same time unless a claim outlived its lease.
- Handlers are **at least once**: a worker that dies between sending and recording,
  or that outlives its lease, leaves the message to be sent again. Mail may go out
  twice; a handler must bear that, and manages its own transactions.
- Handlers declared ``transactional`` have **exactly once** database effects: they
  run inside the transaction that marks the message sent, after it checked that
  the claim is still ours, so their writes commit together with the mark or not at
  all. Such a handler must be quick and must not talk to the outside world; mail it
  owes is a further ``send()`` in the same transaction.

Declare a handler transactional with ``@transactional`` (a function) or with the
task option ``@shared_task(..., outbox_transactional=True)`` (a Celery task).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import OutboxMessage

logger = logging.getLogger(__name__)

# How long a worker may take to send one message before the sweep may try again.
# Longer than any handler should take; a handler that outlives it may run twice.
CLAIM_LEASE = timedelta(minutes=10)

# By name, like every handler: tracking.tasks imports this module.
DELIVER_TASK = "tracking.tasks.deliver_notification"

# Marks a handler whose effects are database writes (see ``transactional``).
TRANSACTIONAL = "outbox_transactional"


def transactional(handler: Callable) -> Callable:
    """Declare that ``handler`` only writes to the database.

    It then runs in the transaction that marks its message sent, so its writes are
    applied exactly once, however often the message is delivered.
    """
    setattr(handler, TRANSACTIONAL, True)
    return handler


def send(task: str, *args, now: datetime | None = None) -> OutboxMessage:
    """Owe ``task(*args)`` once the current transaction commits.

    ``task`` is the dotted path of a callable (a Celery task or a function) that
    takes JSON-serialisable arguments and is safe to run twice (or is declared
    ``transactional``).
    """
    now = now or timezone.now()
    message = OutboxMessage.objects.create(
        task=task,
        args=list(args),
        created_at=now,
        due_at=now + timedelta(seconds=settings.OUTBOX_REDELIVER_AFTER_SECONDS),
    )
    transaction.on_commit(partial(_queue, message.pk))
    return message


def _queue(message_id: int) -> None:
    try:
        import_string(DELIVER_TASK).delay(message_id)
    except Exception as exc:
        # Committed is committed: the sweep delivers it when the broker is back.
        logger.warning(
            "could not queue notification %s (%s); the outbox sweep will send it",
            message_id,
            exc,
        )


def backoff(attempts: int) -> timedelta:
    """Pause after the n-th failed attempt: 1, 2, 4 … minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=6))


def _claimable(now: datetime) -> Q:
    """Unsent, not given up, and claimed by no one or by a worker whose lease ran
    out."""
    return Q(sent_at__isnull=True, due_at__isnull=False) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )


@dataclass(frozen=True)
class Claim:
    """One worker's lease on one message: the right to send it and record how it
    went. ``attempt`` and ``until`` together tell this claim from any later one."""

    message_id: int
    task: str
    args: list
    attempt: int
    until: datetime

    def still_ours(self):
        """The message, if it is unsent and this claim was not replaced."""
        return OutboxMessage.objects.filter(
            pk=self.message_id,
            attempts=self.attempt,
            claimed_until=self.until,
            sent_at__isnull=True,
        )


def claim(message_id: int, *, now: datetime | None = None) -> Claim | None:
    """Lease a message to the caller for ``CLAIM_LEASE``; None if it is sent, given
    up or claimed by a live worker.

    On PostgreSQL a message another transaction is claiming is skipped, not waited
    for. The update compares and sets, so two claimers cannot both win where
    ``select_for_update`` does nothing (SQLite).
    """
    now = now or timezone.now()
    until = now + CLAIM_LEASE
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now), pk=message_id)
            .only("task", "args", "attempts", "claimed_until")
            .first()
        )
        if message is None:
            return None
        unchanged = OutboxMessage.objects.filter(
            _claimable(now), pk=message_id, attempts=message.attempts
        )
        changes = {}
        if message.claimed_until is not None:
            # Its last worker never came back: killed, or lost its connection.
            lost = (
                f"LeaseExpired: attempt {message.attempts} did not finish by "
                f"{message.claimed_until.isoformat()}"
            )
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                if unchanged.update(claimed_until=None, due_at=None, last_error=lost):
                    _log_giving_up(message_id, message.task, message.attempts, lost)
                return None
            changes["last_error"] = lost
        if not unchanged.update(
            attempts=message.attempts + 1, claimed_until=until, due_at=until, **changes
        ):
            return None  # another claimer was quicker
    return Claim(
        message_id=message_id,
        task=message.task,
        args=message.args,
        attempt=message.attempts + 1,
        until=until,
    )


def deliver_claimed(claimed: Claim, *, now: datetime | None = None) -> bool:
    """Run a claimed message's handler and record the outcome; True if this call
    sent it and marked it sent."""
    try:
        handler = import_string(claimed.task)
        if getattr(handler, TRANSACTIONAL, False):
            with transaction.atomic():
                # Mark first: if the claim was lost, nothing runs; if anything
                # below fails, the mark and the handler's writes roll back together.
                if not _mark_sent(claimed, now):
                    logger.info(
                        "notification %s (%s): claim of attempt %s was taken over",
                        claimed.message_id, claimed.task, claimed.attempt,
                    )
                    return False
                handler(*claimed.args)
            return True
        handler(*claimed.args)
    except Exception as exc:
        _record_failure(claimed, exc, now)
        return False
    if _mark_sent(claimed, now):
        return True
    logger.warning(
        "notification %s (%s) was sent, but the claim of attempt %s ran out and was "
        "taken over: it may be sent twice",
        claimed.message_id, claimed.task, claimed.attempt,
    )
    return False


def deliver(message_id: int, *, now: datetime | None = None) -> bool:
    """Claim one message, run its handler and record the outcome; True if sent now.

    False if it was sent already, is given up, is being sent by another worker, or
    failed (then retried later). Meant to run outside any transaction, as workers
    do: inside one, nothing is released until the caller commits.
    """
    claimed = claim(message_id, now=now)
    return claimed is not None and deliver_claimed(claimed, now=now)


def _mark_sent(claimed: Claim, now: datetime | None) -> bool:
    return bool(
        claimed.still_ours().update(
            sent_at=now or timezone.now(), due_at=None, claimed_until=None
        )
    )


def _record_failure(claimed: Claim, exc: Exception, now: datetime | None) -> None:
    now = now or timezone.now()
    error = f"{type(exc).__name__}: {exc}"[:2000]
    gives_up = claimed.attempt >= settings.OUTBOX_MAX_ATTEMPTS
    due_at = None if gives_up else now + backoff(claimed.attempt)
    if not claimed.still_ours().update(
        last_error=error, due_at=due_at, claimed_until=None
    ):
        return  # taken over after the lease ran out: the new claim records
    if gives_up:
        _log_giving_up(claimed.message_id, claimed.task, claimed.attempt, error)
    else:
        logger.warning(
            "notification %s (%s) failed, retrying at %s: %s",
            claimed.message_id, claimed.task, due_at, error,
        )


def _log_giving_up(message_id: int, task: str, attempts: int, error: str) -> None:
    logger.error(
        "giving up notification %s (%s) after %s attempts: %s",
        message_id, task, attempts, error,
    )


def deliver_due(*, now: datetime | None = None, batch_size: int = 100) -> int:
    """Deliver every message whose time has come; returns how many were sent.

    Due are messages never sent within their grace period, failures whose pause
    is over, and claims whose lease ran out. The pass reads them in batches in
    (due_at, pk) order and never goes back, so it ends even when messages fail;
    parallel sweeps split the work, as each message is claimed before it is sent.
    With ``now`` given, every step uses it; otherwise each claim uses the clock.
    """
    cutoff = now or timezone.now()
    sent = 0
    after = Q()
    while True:
        due = list(
            OutboxMessage.objects.filter(after, due_at__lte=cutoff)
            .order_by("due_at", "pk")
            .values_list("due_at", "pk")[:batch_size]
        )
        if not due:
            break
        for _due_at, pk in due:
            sent += deliver(pk, now=now)
        last_due_at, last_pk = due[-1]
        after = Q(due_at__gt=last_due_at) | Q(due_at=last_due_at, pk__gt=last_pk)
    keep = cutoff - timedelta(days=settings.OUTBOX_KEEP_SENT_DAYS)
    OutboxMessage.objects.filter(sent_at__lt=keep).delete()
    return sent
