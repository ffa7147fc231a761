"""Writes of the newsroom: turning a case into a Hot Tracking story draft."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from wagtail.models import Page

from cms import tasks_backend
from tracking.exceptions import TransitionRefused
from tracking.models import Case
from tracking.redaction import redact, rules_for

from .models import ColumnPage, HotTrackingPage, YearIndexPage

logger = logging.getLogger(__name__)


class NoHotTrackingColumn(TransitionRefused):
    """There is no column marked as the Hot Tracking column: a refusal with its
    message, like any other a case action can meet."""


def hot_tracking_column() -> ColumnPage:
    column = ColumnPage.objects.filter(is_hot_tracking=True).order_by("pk").first()
    if column is None:
        raise NoHotTrackingColumn(_("No column is marked as the Hot Tracking column."))
    return column


def _year_index(column: ColumnPage, year: int) -> YearIndexPage:
    """The column's index page for ``year``, created under a lock on the column."""
    existing = YearIndexPage.objects.child_of(column).filter(year=year).first()
    if existing:
        return existing
    with transaction.atomic():
        # Lock the column row: treebeard computes the new child's path from the
        # last sibling, so two workers adding children at once would collide.
        column = ColumnPage.objects.select_for_update().get(pk=column.pk)
        existing = YearIndexPage.objects.child_of(column).filter(year=year).first()
        if existing:
            return existing
        index = YearIndexPage(title=str(year), slug=str(year), year=year, live=True)
        column.add_child(instance=index)
        index.save_revision().publish()
        return index


def story_draft_content(case: Case) -> dict:
    """Title, standfirst and body for a new story, redacted, from the case."""
    rules = rules_for(case)
    description = redact(case.description, case=case, rules=rules)
    standfirst = Truncator(description).chars(140)
    location = redact(case.location_text, case=case, rules=rules)
    body = [("paragraph", f"<p>{escape(description)}</p>")]
    if location:
        body.insert(0, ("paragraph", f"<p>{escape(location)}</p>"))
    return {
        "title": redact(case.title, case=case, rules=rules)[:255],
        "standfirst": standfirst,
        "body": body,
    }


def story_create_for_case(
    *,
    case: Case | int,
    user=None,
    now: datetime | None = None,
    on_created: Callable[[HotTrackingPage], object] | None = None,
) -> HotTrackingPage:
    """The Hot Tracking story draft of a case, created once and put into review.

    Idempotent: a second call returns the same page (and one story per case is
    enforced by a unique constraint). The page goes under the column's year index,
    is saved as a draft revision and starts the column's review workflow, whose
    first task belongs to the Editors (they write it and pass it on) and whose
    second to the Chief editors (their approval publishes it).

    Made in two short transactions, so that parallel scans add stories side by
    side: the first only adds the page under the year index, whose row lock
    serialises additions under one parent and is held this long and no longer;
    the second saves the draft revision, starts the workflow and calls
    ``on_created(story)`` (where the case records its story), all or nothing. A
    story left without its second transaction (a crash between the two) is
    completed by the next call. Search- and reference-index updates run once, after
    both (``cms.tasks_backend``). Call it outside any transaction of the case.
    """
    case_id = case.pk if isinstance(case, Case) else case
    story = HotTrackingPage.objects.filter(case_id=case_id).first()
    if story is not None and story.latest_revision_id:
        return story
    with tasks_backend.hold():  # index the story once, not after each transaction
        # The workflow is read before the transaction. A new page has none of its
        # own and takes its year index's (the nearest ancestor's that has one).
        if story is None:
            story, year_index = _add_story_page(case_id, now or timezone.now(), user)
            workflow = year_index.get_workflow()
        else:  # left incomplete by an earlier call
            workflow = story.get_workflow()
        return _complete_story(story, workflow, user, on_created)


def _add_story_page(
    case_id: int, now: datetime, user
) -> tuple[HotTrackingPage, YearIndexPage]:
    """The story's page under its year index (and the index), in a transaction of
    its own."""
    # Everything the page needs is read before the lock.
    case = Case.objects.select_related("citizen", "department").get(pk=case_id)
    year_index = _year_index(hot_tracking_column(), timezone.localdate(now).year)
    content = story_draft_content(case)
    page = HotTrackingPage(
        title=content["title"],
        slug=case.reference.lower(),
        standfirst=content["standfirst"],
        body=content["body"],
        case=case,
        live=False,
        owner=user,
        locale_id=year_index.locale_id,
    )
    try:
        with transaction.atomic():
            # Serialise additions under the same parent (see _year_index); the
            # parent is read again under the lock, as treebeard needs it current.
            parent = YearIndexPage.objects.select_for_update().get(pk=year_index.pk)
            if HotTrackingPage.objects.filter(case_id=case_id).exists():
                return HotTrackingPage.objects.get(case_id=case_id), year_index
            parent.add_child(instance=page)
    except IntegrityError:
        # Another worker added this case's story first.
        return HotTrackingPage.objects.get(case_id=case_id), year_index
    return page, year_index


def _complete_story(
    story: HotTrackingPage, workflow, user, on_created
) -> HotTrackingPage:
    """The draft revision and the review workflow of a new story, once."""
    with transaction.atomic():
        # One completion per story: a second worker waits here, then finds it done.
        revision_id = (
            Page.objects.select_for_update()
            .filter(pk=story.pk)
            .values_list("latest_revision_id", flat=True)
            .get()
        )
        if revision_id is not None:
            return HotTrackingPage.objects.get(pk=story.pk)
        # Validated when the page was added, and unchanged since (as in Wagtail's
        # own create view).
        revision = story.save_revision(user=user, clean=False, log_action=True)
        if workflow is not None:
            workflow.start(story, user)
        if on_created is not None:
            on_created(story)
        logger.info(
            "story %s created for case %s (revision %s)",
            story.pk, story.case.reference, revision.pk,
        )
    return story
