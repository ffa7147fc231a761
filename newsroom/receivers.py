"""How the newsroom reacts to the case workflow and to publishing."""

from __future__ import annotations

from dataclasses import dataclass

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
    from .tasks import notify_editors_of_case_event

    if not HotTrackingPage.objects.filter(case_id=case_id).exists():
        return
    # The story renders the case live: its cached HTML is now stale.
    cache.invalidate()
    if action in FOLLOW_UP_ACTIONS:
        notify_editors_of_case_event.delay(event_id)


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
