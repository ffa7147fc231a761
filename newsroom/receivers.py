"""How the newsroom reacts to the case workflow and to publishing."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db.models.signals import post_delete

from . import cache

logger = logging.getLogger(__name__)

# Case events after which a story's editors may owe the public a follow-up.
FOLLOW_UP_ACTIONS = {"reply", "close", "reopen"}


def create_story(case_id: int, user=None):
    """The ``create_story`` hook of tracking: the case's story draft."""
    from .services import story_create_for_case

    return story_create_for_case(case=case_id, user=user)


def on_case_changed(sender, *, case_id: int, action: str, event_id: int, **kwargs):
    from .models import HotTrackingPage
    from .tasks import notify_editors_of_case_event

    if not HotTrackingPage.objects.filter(case_id=case_id).exists():
        return
    # The story renders the case live: its cached HTML is now stale.
    cache.invalidate()
    if action in FOLLOW_UP_ACTIONS:
        try:
            notify_editors_of_case_event.delay(event_id)
        except Exception:
            # The case change is committed; a broker outage must not turn it into
            # an error for the user. The editors see the change on the story.
            logger.exception("could not queue the editors' notice for %s", event_id)


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


def without_story(case_ids: list[int]) -> list[int]:
    """The ``without_story`` hook of tracking: which of these cases lack a story."""
    from .models import HotTrackingPage

    have = set(
        HotTrackingPage.objects.filter(case_id__in=case_ids).values_list(
            "case_id", flat=True
        )
    )
    return [pk for pk in case_ids if pk not in have]
