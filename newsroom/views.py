"""Public views of the newsroom that are not Wagtail pages."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.template.response import TemplateResponse

from . import search as search_index
from .cache import CACHEABLE


def search(request):
    """Search results: the same for everybody, so the page cache may keep them."""
    query = request.GET.get("q", "").strip()[: search_index.MAX_QUERY_LENGTH]
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
    setattr(response, CACHEABLE, True)
    return response
