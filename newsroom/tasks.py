"""Thin Celery tasks of the newsroom: primary keys in, database re-read."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext as _

from tracking import outbox, roles
from tracking.models import CaseEvent

from . import search
from .models import EditorNotice, HotTrackingPage


@shared_task(acks_late=True, outbox_transactional=True)
def notify_editors_of_case_event(event_id: int) -> int:
    """Tell the column's editors that a tracked case moved: a follow-up may be due.

    Each editor gets one admin notice per case event, written in the outbox's
    transaction (so exactly once, however often this runs), and owes one e-mail,
    sent by :func:`mail_editor_notices` outside any transaction. Returns the
    number of editors newly notified.
    """
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
    already = set(
        EditorNotice.objects.filter(event_id=event.pk).values_list("user_id", flat=True)
    )
    notices = [
        EditorNotice.objects.create(
            user=editor, story=story, message=message[:255], event_id=event.pk
        )
        for editor in editors
        if editor.pk not in already
    ]
    mailed = [notice.pk for notice in notices if notice.user.email]
    if mailed:
        outbox.send("newsroom.tasks.mail_editor_notices", mailed)
    return len(notices)


@shared_task(acks_late=True)
def mail_editor_notices(notice_ids: list[int]) -> int:
    """E-mail editors their notices, one message each (editors need not see who
    else was told). At least once: a relay failure retries them all."""
    notices = EditorNotice.objects.filter(pk__in=notice_ids).select_related(
        "user", "story"
    )
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for notice in notices:
            if not notice.user.email:
                continue
            subject = _("[Hot Tracking] %(message)s") % {"message": notice.message}
            link = (
                f"{settings.WAGTAILADMIN_BASE_URL}/admin/pages/{notice.story_id}/edit/"
            )
            messages.append(
                (subject, f"{notice.message}\n{link}", None, [notice.user.email])
            )
    if messages:
        send_mass_mail(messages)
    return len(messages)


@shared_task(acks_late=True)
def publish_scheduled() -> None:
    """Publish and unpublish pages whose scheduled time has come (beat)."""
    call_command("publish_scheduled", verbosity=0)


def reindex_for_censor_rule(case_id: int | None) -> int:
    """Reindex what a censor rule may change: its case's pages, or every page for
    a global rule. Run by a worker through the outbox, never in the request that
    saved the rule. Returns the number of pages indexed."""
    if case_id:
        return search.reindex_case_pages(case_id)
    return search.index_all()
