"""Thin Celery tasks of the newsroom: primary keys in, database re-read."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from tracking import roles


@shared_task(acks_late=True)
def notify_editors_of_case_event(event_id: int) -> int:
    """Tell the column's editors that a tracked case moved: a follow-up may be due.

    Each editor gets one admin notice and one e-mail per case event, however often
    this runs (it is queued through the outbox, which retries failures). Returns
    the number of editors newly notified.
    """
    from tracking.models import CaseEvent

    from .models import EditorNotice, HotTrackingPage

    event = CaseEvent.objects.filter(pk=event_id).select_related("case").first()
    if event is None:
        return 0
    story = HotTrackingPage.objects.filter(case_id=event.case_id).first()
    if story is None:
        return 0
    editors = get_user_model().objects.filter(
        groups__name__in=[roles.EDITORS, roles.CHIEF_EDITORS], is_active=True
    ).distinct()
    with translation.override(settings.LANGUAGE_CODE):
        message = _("%(action)s on “%(title)s”: a follow-up report may be due.") % {
            "action": event.action_label,
            "title": story.title,
        }
        subject = _("[Hot Tracking] %(message)s") % {"message": message}
    link = f"{settings.WAGTAILADMIN_BASE_URL}/admin/pages/{story.pk}/edit/"
    already = set(
        EditorNotice.objects.filter(event_id=event.pk).values_list("user_id", flat=True)
    )
    notified = [e for e in editors if e.pk not in already]
    # Notices and mail together: if the mail relay fails, nothing is recorded and
    # the retry does both again.
    with transaction.atomic():
        for editor in notified:
            EditorNotice.objects.create(
                user=editor, story=story, message=message[:255], event_id=event.pk
            )
        recipients = [e.email for e in notified if e.email]
        if recipients:
            # One message each: editors need not see who else was told.
            send_mass_mail(
                [(subject, f"{message}\n{link}", None, [r]) for r in recipients]
            )
    return len(notified)


@shared_task(acks_late=True)
def publish_scheduled() -> None:
    """Publish and unpublish pages whose scheduled time has come (beat)."""
    from django.core.management import call_command

    call_command("publish_scheduled", verbosity=0)


def reindex_for_censor_rule(case_id: int | None) -> int:
    """Reindex what a censor rule may change: its case's pages, or every page for
    a global rule. Run by a worker through the outbox, never in the request that
    saved the rule. Returns the number of pages indexed."""
    from . import search

    if case_id:
        return search.reindex_case_pages(case_id)
    return search.index_all()
