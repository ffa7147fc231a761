"""Writes of the newsroom: turning a case into a Hot Tracking story draft."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

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
    # Lock the column row: treebeard computes the new child's path from the last
    # sibling, so two workers adding children at once would collide.
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
    body = [("paragraph", f"<p>{_escape(description)}</p>")]
    if location:
        body.insert(0, ("paragraph", f"<p>{_escape(location)}</p>"))
    return {
        "title": redact(case.title, case=case, rules=rules)[:255],
        "standfirst": standfirst,
        "body": body,
    }


def _escape(text: str) -> str:
    from django.utils.html import escape

    return escape(text)


def story_create_for_case(
    *, case: Case | int, user=None, now: datetime | None = None
) -> HotTrackingPage:
    """The Hot Tracking story draft of a case, created once and put into review.

    Idempotent: a second call returns the same page (and one story per case is
    enforced by a unique constraint). The page goes under the column's year index,
    is saved as a draft revision and starts the column's review workflow, whose
    first task belongs to the Editors (they write it and pass it on) and whose
    second to the Chief editors (their approval publishes it).
    """
    case_id = case.pk if isinstance(case, Case) else case
    existing = HotTrackingPage.objects.filter(case_id=case_id).first()
    if existing:
        return existing
    now = now or timezone.now()
    case = Case.objects.select_related("citizen", "department").get(pk=case_id)
    column = hot_tracking_column()
    try:
        with transaction.atomic():
            year_index = _year_index(column, timezone.localdate(now).year)
            # Serialise additions under the same parent (see _year_index).
            year_index = YearIndexPage.objects.select_for_update().get(pk=year_index.pk)
            if HotTrackingPage.objects.filter(case_id=case_id).exists():
                return HotTrackingPage.objects.get(case_id=case_id)
            content = story_draft_content(case)
            page = HotTrackingPage(
                title=content["title"],
                slug=case.reference.lower(),
                standfirst=content["standfirst"],
                body=content["body"],
                case=case,
                live=False,
                owner=user,
            )
            year_index.add_child(instance=page)
            revision = page.save_revision(user=user, log_action=True)
            workflow = page.get_workflow()
            if workflow is not None:
                workflow.start(page, user)
            logger.info(
                "story %s created for case %s (revision %s)",
                page.pk, case.reference, revision.pk,
            )
    except IntegrityError:
        # Another worker created this case's story first.
        return HotTrackingPage.objects.get(case_id=case_id)
    return page
