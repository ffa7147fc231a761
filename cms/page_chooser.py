"""Wagtail's page chooser views, limited to the pages a user may choose.

``construct_page_chooser_queryset`` (newsroom.wagtail_hooks) narrows the lists
the chooser shows, but two of its views read pages by id without it: browsing
shows the page whose children are listed, and "chosen multiple" returns the
title and address of any page asked for. These wrappers apply the same rule to
them first, and are mounted in front of Wagtail's own URLs (cms.urls).
"""

from __future__ import annotations

from django.http import Http404
from django.views.decorators.cache import never_cache
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views import chooser
from wagtail.models import Page

from newsroom.models import ascii_int
from newsroom.wagtail_hooks import choosable_pages

_browse = chooser.BrowseView.as_view()
_chosen_multiple = chooser.ChosenMultipleView.as_view()


@never_cache
@require_admin_access
def browse(request, parent_page_id: int):
    parent = Page.objects.filter(pk=parent_page_id)
    if not choosable_pages(parent, request.user).exists():
        raise Http404
    return _browse(request, parent_page_id=parent_page_id)


@never_cache
@require_admin_access
def chosen_multiple(request):
    asked = {ascii_int(pk) for pk in request.GET.getlist("id")}
    if None in asked:
        raise Http404
    allowed = choosable_pages(Page.objects.filter(pk__in=asked), request.user)
    if allowed.count() != len(asked):
        raise Http404
    return _chosen_multiple(request)
