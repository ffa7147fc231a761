"""Public views of the newsroom that are not Wagtail pages."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.http import HttpResponseNotFound, HttpResponseServerError
from django.template import loader
from django.template.response import TemplateResponse
from django.utils import translation

from . import cache, sites
from . import search as search_index

logger = logging.getLogger(__name__)


def search(request):
    """Search results: the same for everybody, so the page cache may keep them.

    Kept only for the query as the page reads it (trimmed, one ``q``, a page
    number that exists), so made-up variants are answered but never stored.
    """
    tag_versions = cache.versions(
        {cache.SITE, cache.LISTINGS, *sites.navigation_tags(request)}
    )
    values = request.GET.getlist("q")
    query = (values[0] if values else "").strip()[: search_index.MAX_QUERY_LENGTH]
    matches = search_index.search(query)
    paginator = Paginator(matches.rows, search_index.RESULTS_PER_PAGE)
    # Not a number: the first page; past the end: the last.
    page_obj = paginator.get_page(request.GET.get("page"))
    response = TemplateResponse(
        request,
        "newsroom/search.html",
        {
            "query": query,
            "terms": matches.terms,
            "complete": matches.complete,
            "page_obj": page_obj,
            "hits": search_index.hits(page_obj.object_list) if query else [],
            "site_nav": sites.navigation(request),
        },
    )
    canonical = [("q", query)] if query else []
    if page_obj.number > 1:
        canonical.append(("page", str(page_obj.number)))
    cache.mark_cacheable(response, (cache.LISTINGS,), tag_versions)
    cache.set_canonical(response, canonical)
    return response


def page_language(request) -> str:
    """The language of the page a request asked for: its path's prefix (/en/),
    else the default; the back office keeps its user's language. Read from the
    path, since an error may come before the locale middleware ran."""
    language = translation.get_language_from_path(request.path_info)
    if language:
        return language
    if request.path_info.startswith("/admin/"):
        return translation.get_language() or settings.LANGUAGE_CODE
    return settings.LANGUAGE_CODE


def page_not_found(request, exception=None):
    """The paper's own 404 page, with its masthead, in the language of the path."""
    with translation.override(page_language(request)):
        try:
            site_nav = sites.navigation(request)
        except DatabaseError:  # the page still says "not found" without its columns
            logger.exception("The 404 page could not read the navigation")
            site_nav = None
        body = loader.render_to_string(
            "404.html",
            {"request_path": request.path, "site_nav": site_nav},
            request=request,
        )
    return HttpResponseNotFound(body)


def server_error(request):
    """The paper's own 500 page. It reads nothing (no database, no context
    processors: either may be what failed), in the language of the path."""
    with translation.override(page_language(request)):
        body = loader.get_template("500.html").render({})
    return HttpResponseServerError(body)
