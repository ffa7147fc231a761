"""Public views of the newsroom that are not Wagtail pages."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.template.response import TemplateResponse

from . import cache
from . import search as search_index


def search(request):
    """Search results: the same for everybody, so the page cache may keep them.

    Kept only for the query as the page reads it (trimmed, one ``q``, a page
    number that exists), so made-up variants are answered but never stored.
    """
    tag_versions = cache.versions({cache.SITE, cache.LISTINGS})
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
        },
    )
    canonical = [("q", query)] if query else []
    if page_obj.number > 1:
        canonical.append(("page", str(page_obj.number)))
    cache.mark_cacheable(response, (cache.LISTINGS,), tag_versions)
    cache.set_canonical(response, canonical)
    return response
