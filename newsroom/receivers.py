"""How the newsroom reacts to the case workflow and to publishing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete

from . import cache

# Case events after which a story's editors may owe the public a follow-up.
FOLLOW_UP_ACTIONS = {"reply", "close", "reopen"}


def create_story(case_id: int, user=None):
    """The ``create_story`` hook of tracking: the case's story draft."""
    from .services import story_create_for_case

    return story_create_for_case(case=case_id, user=user)


def on_case_changed(sender, *, case_id: int, action: str, event_id: int, **kwargs):
    from .models import HotTrackingPage

    if HotTrackingPage.objects.filter(case_id=case_id).exists():
        # The story renders the case live: its cached HTML is now stale.
        cache.invalidate()


def on_case_event_recorded(sender, *, case, event, **kwargs):
    """Inside the case's transaction: owe the editors a notice of a follow-up."""
    from tracking import outbox

    from .models import HotTrackingPage

    if event.action not in FOLLOW_UP_ACTIONS:
        return
    if HotTrackingPage.objects.filter(case_id=case.pk).exists():
        outbox.send(
            "newsroom.tasks.notify_editors_of_case_event",
            event.pk,
            now=event.created_at,
        )


def defer_workflow_mail():
    """Send Wagtail's review e-mails after the commit, not inside the transaction.

    A story draft is created and put into review inside the scan's transaction; if
    that rolled back, editors would have been told of a draft that does not exist.
    """
    from wagtail.admin import signal_handlers as wagtail_mail
    from wagtail.models import TaskState, WorkflowState
    from wagtail.signals import (
        task_submitted,
        workflow_approved,
        workflow_rejected,
        workflow_submitted,
    )

    for signal, notifier, sender, uid in (
        (
            task_submitted,
            wagtail_mail.task_submission_email_notifier,
            TaskState,
            "group_approval_task_submitted_email_notification",
        ),
        (
            workflow_submitted,
            wagtail_mail.workflow_submission_email_notifier,
            WorkflowState,
            "workflow_state_submitted_email_notification",
        ),
        (
            workflow_rejected,
            wagtail_mail.workflow_rejection_email_notifier,
            WorkflowState,
            "workflow_state_rejected_email_notification",
        ),
        (
            workflow_approved,
            wagtail_mail.workflow_approval_email_notifier,
            WorkflowState,
            "workflow_state_approved_email_notification",
        ),
    ):
        signal.disconnect(sender=sender, dispatch_uid=uid)
        signal.connect(
            partial(_after_commit, notifier),
            sender=sender,
            weak=False,
            dispatch_uid=f"newsroom-{uid}",
        )


def _after_commit(notifier, sender, **kwargs):
    transaction.on_commit(partial(notifier, sender=sender, **kwargs))


def _invalidate(**kwargs):
    cache.invalidate()


def connect_page_signals():
    from wagtail.models import Page
    from wagtail.signals import page_published, page_slug_changed, page_unpublished

    page_published.connect(_invalidate, dispatch_uid="newsroom-published")
    page_unpublished.connect(_invalidate, dispatch_uid="newsroom-unpublished")
    page_slug_changed.connect(_invalidate, dispatch_uid="newsroom-slug")
    post_delete.connect(_invalidate, sender=Page, dispatch_uid="newsroom-deleted")


@dataclass(frozen=True)
class StoryRef:
    """What the case workflow may know of a story: no page object crosses over."""

    pk: int
    title: str
    live: bool
    edit_url: str


def get_story(case_id: int) -> StoryRef | None:
    """The ``get_story`` hook of tracking."""
    from django.urls import reverse

    from .models import HotTrackingPage

    story = (
        HotTrackingPage.objects.filter(case_id=case_id)
        .values("pk", "title", "live")
        .first()
    )
    if story is None:
        return None
    return StoryRef(
        pk=story["pk"],
        title=story["title"],
        live=story["live"],
        edit_url=reverse("wagtailadmin_pages:edit", args=[story["pk"]]),
    )


def without_story(cases, limit: int) -> list[int]:
    """The ``without_story`` hook of tracking: up to ``limit`` of ``cases`` (a
    queryset) that have no story, oldest escalation first."""
    from django.db.models import Exists, OuterRef

    from .models import HotTrackingPage

    return list(
        cases.exclude(Exists(HotTrackingPage.objects.filter(case_id=OuterRef("pk"))))
        .order_by("escalated_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
