"""The work queues of the newsroom's home screens: editors and chief editors.

Like :mod:`tracking.queues`: one function per queue, each a queryset that gives
both the count and the first rows, in the order the work is done.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import DateTimeField, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.home import (
    UserObjectsInWorkflowModerationPanel,
    WorkflowObjectsToModeratePanel,
)
from wagtail.models import Revision, TaskState

from tracking import actions, roles
from tracking.models import CaseEvent
from tracking.views.home import ROWS, Cell, Queue, QueuePanel

from .models import FollowUpPage, HotTrackingPage


def awaiting_review(user):
    """The Hot Tracking stories' review tasks ``user`` may act on now, the oldest
    first: for an editor, drafts to write and pass on; for a chief editor, stories
    waiting for approval."""
    story_type = ContentType.objects.get_for_model(HotTrackingPage)
    return (
        TaskState.objects.reviewable_by(user)
        .filter(workflow_state__content_type=story_type)
        .select_related("task", "workflow_state")
        .order_by("started_at", "pk")
    )


def stories_of(task_states) -> dict[int, HotTrackingPage]:
    """The stories of these task states, by page id (one query)."""
    ids = [int(state.workflow_state.object_id) for state in task_states]
    return HotTrackingPage.objects.select_related("case").in_bulk(ids)


def follow_up_actions() -> list[str]:
    """The case actions after which the public is owed a follow-up report."""
    return [action.name for action in actions.ACTIONS.values() if action.editors_follow]


def follow_ups_due():
    """Published stories whose case moved (a reply, a close, a reopen) since the
    story or its latest follow-up was published, the longest waiting first.

    Each row carries ``changed_at`` and ``change`` (the action) of the case's
    latest such event.
    """
    changes = CaseEvent.objects.filter(
        case_id=OuterRef("case_id"), action__in=follow_up_actions()
    ).order_by("-created_at", "-pk")
    latest_follow_up = (
        FollowUpPage.objects.live()
        .filter(path__startswith=OuterRef("path"), depth=OuterRef("depth") + 1)
        .values("depth")
        .annotate(at=Max("first_published_at"))
        .values("at")
    )
    return (
        HotTrackingPage.objects.live()
        .annotate(
            changed_at=Subquery(changes.values("created_at")[:1]),
            change=Subquery(changes.values("action")[:1]),
            reported_until=Greatest(
                F("last_published_at"),
                Coalesce(
                    Subquery(latest_follow_up, output_field=DateTimeField()),
                    F("last_published_at"),
                ),
            ),
        )
        .filter(Q(changed_at__gt=F("reported_until")))
        .select_related("case")
        .order_by("changed_at", "pk")
    )


def scheduled_publications():
    """Page revisions approved to go live at a set time, the soonest first."""
    return Revision.page_revisions.filter(approved_go_live_at__isnull=False).order_by(
        "approved_go_live_at", "pk"
    )


# --- the home panels of these queues ----------------------------------------------

# Wagtail's review panels, which the newsroom's queues replace for its roles.
REPLACED_REVIEW_PANELS = (
    WorkflowObjectsToModeratePanel,
    UserObjectsInWorkflowModerationPanel,
)


def _review_queue(key, title, task_states, empty, now) -> Queue:
    states = list(task_states[:ROWS])
    stories = stories_of(states)
    rows = []
    for state in states:
        story = stories.get(int(state.workflow_state.object_id))
        if story is None:
            continue
        rows.append(
            [
                Cell(
                    story.title,
                    url=reverse("wagtailadmin_pages:edit", args=[story.pk]),
                ),
                Cell(story.case.reference),
                Cell(state.task.name),
                Cell(at=state.started_at),
                Cell(timesince(state.started_at, now, depth=1)),
            ]
        )
    return Queue(
        key=key,
        title=str(title),
        count=task_states.count(),
        url=reverse("wagtailadmin_reports:workflow_tasks") + "?reviewable=true",
        columns=[
            str(_("Story")),
            str(_("Case")),
            str(_("Task")),
            str(_("Waiting since")),
            str(_("Age")),
        ],
        rows=rows,
        empty=str(empty),
    )


def _follow_up_queue(now) -> Queue:
    stories = follow_ups_due()
    rows = [
        [
            Cell(story.title, url=reverse("wagtailadmin_pages:edit", args=[story.pk])),
            Cell(story.case.reference),
            Cell(str(actions.get(story.change).label), at=None),
            Cell(at=story.changed_at),
            Cell(
                str(_("Write the follow-up")),
                url=reverse(
                    "wagtailadmin_pages:add",
                    args=["newsroom", "followuppage", story.pk],
                ),
            ),
        ]
        for story in stories[:ROWS]
    ]
    return Queue(
        key="follow_ups_due",
        title=str(_("Follow-ups to write")),
        count=stories.count(),
        url=None,
        columns=[
            str(_("Story")),
            str(_("Case")),
            str(_("What happened")),
            str(_("When")),
            str(_("Follow-up")),
        ],
        rows=rows,
        empty=str(_("No story's case has moved since it was reported.")),
    )


def _scheduled_queue() -> Queue:
    revisions = scheduled_publications()
    rows = [
        [
            Cell(
                revision.object_str,
                url=reverse("wagtailadmin_pages:edit", args=[int(revision.object_id)]),
            ),
            Cell(at=revision.approved_go_live_at),
        ]
        for revision in revisions[:ROWS]
    ]
    return Queue(
        key="scheduled",
        title=str(_("Scheduled publications")),
        count=revisions.count(),
        url=None,
        columns=[str(_("Page")), str(_("Goes live"))],
        rows=rows,
        empty=str(_("Nothing is scheduled.")),
    )


def newsroom_panels(user, now=None) -> list[QueuePanel]:
    """The queue panels of an editor, a chief editor (or a superuser)."""
    now = now or timezone.now()
    names = set(user.groups.values_list("name", flat=True))
    if user.is_superuser or roles.EDITORS in names:
        drafts = _review_queue(
            "drafts_waiting",
            _("Hot Tracking drafts waiting"),
            awaiting_review(user),
            _("No Hot Tracking draft waits for you."),
            now,
        )
        return [
            QueuePanel(
                name="editor_queues",
                heading=str(_("Newsroom work")),
                queues=[drafts, _follow_up_queue(now), _scheduled_queue()],
            )
        ]
    if roles.CHIEF_EDITORS in names:
        approvals = _review_queue(
            "awaiting_approval",
            _("Waiting for your approval"),
            awaiting_review(user),
            _("No story waits for your approval."),
            now,
        )
        return [
            QueuePanel(
                name="chief_queues",
                heading=str(_("Newsroom work")),
                queues=[approvals, _follow_up_queue(now), _scheduled_queue()],
            )
        ]
    return []
