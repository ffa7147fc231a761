"""Thin Celery tasks: take primary keys, re-read the database, safe to run twice."""

from __future__ import annotations

import logging
from dataclasses import asdict

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from . import actions, escalation, outbox
from .actions import DEPARTMENT
from .models import CaseEvent

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def notify_case_event(event_id: int) -> int:
    """E-mail the department's liaisons about an event on one of their cases.

    Returns the number of recipients. Queued through the outbox, which retries a
    failure. Sending twice sends the same mail twice, which the liaison can bear;
    losing it would be worse.
    """
    event = (
        CaseEvent.objects.select_related("case", "case__department")
        .filter(pk=event_id)
        .first()
    )
    if event is None or not actions.get(event.action).notifies(DEPARTMENT):
        return 0
    department = event.case.department
    if department is None:
        return 0
    recipients = set(
        get_user_model()
        .objects.filter(
            staff_profile__department=department, is_active=True, email__gt=""
        )
        .values_list("email", flat=True)
    )
    if department.email:
        recipients.add(department.email)
    if not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[8890] %(action)s: %(reference)s %(title)s") % {
            "action": event.action_label,
            "reference": event.case.reference,
            "title": event.case.title,
        }
        body = "\n".join(
            filter(
                None,
                [
                    str(event.action_label),
                    event.note,
                    event.due_text(),
                    event.staff_note,
                    f"{settings.WAGTAILADMIN_BASE_URL}/admin/tracking/cases/"
                    f"{event.case_id}/",
                ],
            )
        )
    send_mail(subject, body, None, sorted(recipients))
    return len(recipients)


@shared_task(acks_late=True)
def deliver_notification(message_id: int) -> bool:
    """Send one outbox message now (queued right after the commit that owes it)."""
    return outbox.deliver(message_id)


@shared_task(acks_late=True)
def deliver_due_notifications() -> int:
    """The outbox sweep: send what was not sent in time, retry failures (beat)."""
    return outbox.deliver_due()


@shared_task(acks_late=True)
def scan_overdue() -> dict:
    """One pass of the overdue scan (beat runs it every few minutes)."""
    return asdict(escalation.scan_overdue())


@shared_task
def check_statistics() -> int:
    """Compare the live statistics rollups with the raw rows (beat: nightly) and
    log an error listing what differs; ``manage.py rebuild_statistics`` repairs.
    Returns the number of differing rows."""
    from .statistics import rollups

    found = rollups.differences(rollups.stored(), rollups.computed())
    if found:
        logger.error(
            "statistics rollups differ from the raw rows in %d rows (first: %s); "
            "run manage.py rebuild_statistics",
            len(found),
            "; ".join(f"{d.table} {d.key!r}" for d in found[:5]),
        )
    return len(found)
