"""Newsroom additions to the Wagtail admin: editors' follow-up notices, censor
rules, and what the page chooser offers."""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.permissions import page_permission_policy

from . import workflow_hooks  # noqa: F401  (registers its hooks)
from .models import EditorNotice


class FollowUpNoticesPanel(Component):
    """Dashboard panel: tracked cases that moved, so a follow-up may be due."""

    name = "follow_up_notices"
    order = 50
    template_name = "newsroom/admin/follow_up_notices_panel.html"

    def __init__(self, notices):
        self.notices = notices

    def get_context_data(self, parent_context=None):
        return {
            "notices": self.notices,
            "mark_read_url": reverse("newsroom_notices_read"),
        }


@hooks.register("construct_homepage_panels")
def add_newsroom_home_panels(request, panels):
    """Editors' and chief editors' home is their queue; Wagtail's review panels
    give way to it (it lists the same tasks, with their age)."""
    from .queues import REPLACED_REVIEW_PANELS, newsroom_panels

    user = request.user
    notices = list(
        EditorNotice.objects.filter(user=user, read_at__isnull=True)
        .select_related("story")
        .order_by("-created_at")[:20]
    )
    if notices:
        panels.insert(0, FollowUpNoticesPanel(notices))
    own = newsroom_panels(user)
    if own and not user.is_superuser:
        panels[:] = [p for p in panels if not isinstance(p, REPLACED_REVIEW_PANELS)]
    panels.extend(own)


@require_POST
def mark_notices_read(request):
    EditorNotice.objects.filter(user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("wagtailadmin_home")


@hooks.register("register_admin_urls")
def register_notice_urls():
    return [
        path("newsroom/notices/read/", mark_notices_read, name="newsroom_notices_read")
    ]


def choosable_pages(pages, user):
    """``pages`` narrowed to what ``user`` may see: pages that are live and public,
    and every page under one the user holds any page permission on.

    A department liaison holds none, so drafts and stories in review stay out of
    the page chooser; editors keep their drafts. A permission covers the page's
    subtree, so each becomes one path prefix, a filter the search backend can
    apply to chooser searches too.
    """
    if not user.is_active:
        return pages.none()
    if user.is_superuser:
        return pages
    visible = pages.live_q() & ~pages.private_q()
    for permission in page_permission_policy.get_cached_permissions_for_user(user):
        visible |= Q(path__startswith=permission.page.path)
    return pages.filter(visible)


@hooks.register("construct_page_chooser_queryset")
def limit_page_chooser(pages, request):
    return choosable_pages(pages, request.user)
