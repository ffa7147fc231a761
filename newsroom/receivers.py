"""How the newsroom reacts to the case workflow and to publishing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.urls import reverse
from django.utils import timezone
from wagtail.admin import signal_handlers as wagtail_mail
from wagtail.models import Page, PageViewRestriction, Site, TaskState, WorkflowState
from wagtail.permission_policies.pages import PagePermissionPolicy
from wagtail.signals import (
    page_published,
    page_slug_changed,
    page_unpublished,
    post_page_move,
    task_submitted,
    workflow_approved,
    workflow_rejected,
    workflow_submitted,
)

from tracking import actions, outbox
from tracking.models import Case, CensorRule, Citizen, Department
from tracking.partners.models import CommunityVisit, CommunityVisitPhoto, ServiceTeam
from tracking.services import case_story_published

from . import cache
from .models import ColumnPage, HotTrackingPage
from .services import story_create_for_case
from .sites import forget_sites


def create_story(case_id: int, user=None, on_created=None):
    """The ``create_story`` hook of tracking: the case's story draft;
    ``on_created(story)`` runs in the transaction that completes a new one."""
    return story_create_for_case(case=case_id, user=user, on_created=on_created)


def on_case_changed(sender, *, case_id: int, action: str, event_id: int, **kwargs):
    if action == "register":
        return  # A case registered a moment ago has no story yet.
    if HotTrackingPage.objects.filter(case_id=case_id).exists():
        # The story renders the case live, the listings show its status: their
        # cached HTML is now stale. Other stories' pages are not.
        cache.invalidate(cache.case_tag(case_id), cache.LISTINGS)


def on_statistics_changed(sender, **kwargs):
    """Sent after the commit of a change to the rollups: the pages showing figures
    read from them are stale."""
    cache.invalidate(cache.STATISTICS)


def on_working_day_ended(sender, **kwargs):
    """Every "overdue by N working days" shown in public has grown by one."""
    cache.invalidate(cache.OVERDUE)


def on_case_event_recorded(sender, *, case, event, **kwargs):
    """Inside the case's transaction: owe the editors a notice of a follow-up."""
    if not actions.get(event.action).editors_follow:
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


def _invalidate_site(**kwargs):
    """Structural changes (a page moved, renamed, unpublished, deleted, restricted;
    a department renamed) may change any page's links or visibility. After the
    commit too: a page rendered in between would be kept under the new version."""
    cache.invalidate_on_commit(cache.SITE)


def _on_page_published(sender, instance, **kwargs):
    """The page, its parent (which lists it) and the listings change; a story's
    first publication is recorded on its case (the statistics measure from it)."""
    if isinstance(instance, HotTrackingPage):
        case_story_published(
            case=instance.case_id, now=instance.first_published_at or timezone.now()
        )
    tags = [cache.page_tag(instance.pk), cache.LISTINGS]
    parent_path = instance.path[: -instance.steplen]
    if parent_path:
        tags.extend(
            cache.page_tag(pk)
            for pk in Page.objects.filter(path=parent_path).values_list("pk", flat=True)
        )
    cache.invalidate_on_commit(*tags)


def _on_censor_rule_changed(sender, instance, **kwargs):
    """An emergency mask applies now, and a removed one stops at once."""
    case_ids = instance.affected_case_ids()
    if None in case_ids:
        tags = (cache.SITE,)
    else:
        tags = (*map(cache.case_tag, case_ids), cache.LISTINGS)
    cache.invalidate_on_commit(*tags)


def _on_citizen_changed(sender, instance, created=False, **kwargs):
    """A citizen's own data is masked on their cases' pages: those change."""
    if created:
        return
    case_ids = HotTrackingPage.objects.filter(case__citizen_id=instance.pk).values_list(
        "case_id", flat=True
    )
    tags = [cache.case_tag(case_id) for case_id in case_ids]
    if tags:
        cache.invalidate_on_commit(*tags, cache.LISTINGS)


def _on_community_visit_changed(sender, **kwargs):
    """A visit day (or a team's name) changed: the columns listing the visit
    days (``lists_community_visits``) are stale, through their own page tag."""
    action = kwargs.get("action")  # m2m_changed: once the teams have changed
    if action is not None and not action.startswith("post_"):
        return
    column_ids = ColumnPage.objects.filter(lists_community_visits=True).values_list(
        "pk", flat=True
    )
    tags = [cache.page_tag(pk) for pk in column_ids]
    if tags:
        cache.invalidate_on_commit(*tags)


def connect_page_signals():
    page_published.connect(_on_page_published, dispatch_uid="newsroom-published")
    page_unpublished.connect(_invalidate_site, dispatch_uid="newsroom-unpublished")
    page_slug_changed.connect(_invalidate_site, dispatch_uid="newsroom-slug")
    post_page_move.connect(_invalidate_site, dispatch_uid="newsroom-moved")
    post_delete.connect(_invalidate_site, sender=Page, dispatch_uid="newsroom-deleted")
    for signal, suffix in ((post_save, "saved"), (post_delete, "deleted")):
        signal.connect(
            _invalidate_site,
            sender=PageViewRestriction,
            dispatch_uid=f"newsroom-restriction-{suffix}",
        )
        signal.connect(
            _on_censor_rule_changed,
            sender=CensorRule,
            dispatch_uid=f"newsroom-cache-censor-rule-{suffix}",
        )
        signal.connect(
            forget_sites, sender=Site, dispatch_uid=f"newsroom-sites-{suffix}"
        )
        signal.connect(
            _invalidate_site,
            sender=Department,
            dispatch_uid=f"newsroom-cache-department-{suffix}",
        )
    m2m_changed.connect(
        _invalidate_site,
        sender=PageViewRestriction.groups.through,
        dispatch_uid="newsroom-restriction-groups",
    )
    post_save.connect(
        _on_citizen_changed, sender=Citizen, dispatch_uid="newsroom-cache-citizen"
    )
    for signal, suffix in ((post_save, "saved"), (post_delete, "deleted")):
        for model in (CommunityVisit, CommunityVisitPhoto, ServiceTeam):
            signal.connect(
                _on_community_visit_changed,
                sender=model,
                dispatch_uid=f"newsroom-cache-{model._meta.model_name}-{suffix}",
            )
    m2m_changed.connect(
        _on_community_visit_changed,
        sender=CommunityVisit.teams.through,
        dispatch_uid="newsroom-cache-community-visit-teams",
    )


@dataclass(frozen=True)
class StoryRef:
    """What the case workflow may know of a story: no page object crosses over."""

    pk: int
    title: str
    live: bool
    edit_url: str


def get_story(case_id: int) -> StoryRef | None:
    """The ``get_story`` hook of tracking."""
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
    queryset) that have no story, or one left without its draft revision (see
    ``story_create_for_case``), oldest escalation first."""
    complete = HotTrackingPage.objects.filter(
        case_id=OuterRef("pk"), latest_revision__isnull=False
    )
    return list(
        cases.exclude(Exists(complete))
        .order_by("escalated_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def story_cases_editable_by(user):
    """The ``story_cases_editable_by`` hook of tracking: cases whose story ``user``
    may edit (by Wagtail's page permissions)."""
    editable = PagePermissionPolicy().instances_user_has_permission_for(user, "change")
    return Case.objects.filter(
        pk__in=HotTrackingPage.objects.filter(pk__in=editable.values("pk")).values(
            "case_id"
        )
    )
