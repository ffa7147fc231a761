"""The transactional outbox: notifications that survive broker and relay outages.

``send()`` records the notification in the transaction of the change that causes
it, so a rolled-back change owes nothing and a committed one owes it for sure.
After the commit the message is queued to a worker; ``deliver()`` runs its handler
under a row lock and marks it sent in the same transaction. Whatever was not sent
(broker down, worker killed, mail relay failing) is picked up by ``deliver_due()``,
which beat runs every minute, with growing pauses between attempts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import OutboxMessage

logger = logging.getLogger(__name__)


def send(task: str, *args, now: datetime | None = None) -> OutboxMessage:
    """Owe ``task(*args)`` once the current transaction commits.

    ``task`` is the dotted path of a callable (a Celery task or a function) that
    takes JSON-serialisable arguments and is safe to run twice.
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
    from .tasks import deliver_notification

    try:
        deliver_notification.delay(message_id)
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


def deliver(message_id: int, *, now: datetime | None = None) -> bool:
    """Run one message's handler unless it was sent already; True if sent now."""
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return False  # sent already, or another worker is sending it
        message.attempts += 1
        try:
            with transaction.atomic():
                import_string(message.task)(*message.args)
        except Exception as exc:
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                message.due_at = None
                logger.error(
                    "giving up notification %s (%s) after %s attempts: %s",
                    message.pk, message.task, message.attempts, message.last_error,
                )
            else:
                message.due_at = now + backoff(message.attempts)
                logger.warning(
                    "notification %s (%s) failed, retrying at %s: %s",
                    message.pk, message.task, message.due_at, message.last_error,
                )
            message.save(update_fields=["attempts", "last_error", "due_at"])
            return False
        message.sent_at = now
        message.due_at = None
        message.save(update_fields=["attempts", "sent_at", "due_at"])
        return True


def deliver_due(*, now: datetime | None = None, batch_size: int = 100) -> int:
    """Deliver every message whose time has come; returns how many were sent.

    Parallel sweeps split the work (each message is locked while it is sent), and
    a failing message moves its next attempt into the future, so a pass ends.
    """
    now = now or timezone.now()
    sent = 0
    tried: set[int] = set()
    while True:
        due = list(
            OutboxMessage.objects.filter(due_at__lte=now)
            .exclude(pk__in=tried)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not due:
            break
        for pk in due:
            tried.add(pk)
            sent += deliver(pk, now=now)
    keep = now - timedelta(days=settings.OUTBOX_KEEP_SENT_DAYS)
    OutboxMessage.objects.filter(sent_at__lt=keep).delete()
    return sent
