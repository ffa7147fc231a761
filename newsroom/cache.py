"""Whole-page cache of the public site, invalidated by tags.

Public pages carry no CSRF token and nothing per user, so one rendering serves
everybody. Each entry remembers the versions of the tags it depends on, read
before the page read its data: a story page depends on its own page, its case and
the whole site; listings (home, columns, feeds, search) on every listed thing.
A change bumps the versions of the tags it affects, and every entry made under an
older version stops being used (and expires on its own):

- a case with a story changes: that case's pages and the listings;
- a page is published: that page, its parent and the listings (every page
  shows the masthead's columns, so every page depends on the home page too,
  the parent of a column);
- a case's censor rule changes: that case's pages and the listings;
- the statistics rollups change (a call, a case event, a callback): the pages
  showing figures (the statistics page, the home page's headline);
- a working day ends: every "overdue by N working days" shown has grown (the
  statistics page, stories of cases awaiting a department);
- anything structural (a global censor rule, a page moved, unpublished or
  deleted, a view restriction, a department renamed): the whole site.

Entries are kept per local day, since the masthead shows the date. Only
canonical requests make entries: a page says which query it answered
(:func:`set_canonical`), and a request whose query differs is rendered but not
kept. Known tracking parameters (WeChat's ``from=singlemessage``, ``utm_*``…)
are dropped from the key, since the page ignores them; any other parameter
bypasses the cache. A hit replays the status and headers of the miss.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone

TIMEOUT = 60 * 60
TAG_PREFIX = "newsroom:tag:"
SITE = "site"
LISTINGS = "listings"
# Pages showing figures read from the statistics rollups.
STATISTICS = "statistics"
# Pages showing a number of working days overdue, which grows as days end.
OVERDUE = "overdue"
# Attributes a page's serve() sets on a response that may be cached.
CACHEABLE = "_newsroom_cacheable"
TAGS = "_newsroom_cache_tags"
CANONICAL = "_newsroom_canonical_query"

# Query parameters public pages understand; with any other (not a tracking one)
# a request is answered without the cache.
CACHED_PARAMETERS = frozenset(
    {"status", "department", "year", "page", "print", "q", "period"}
)
# Added by apps and campaigns when a link is shared; the page is the same.
TRACKING_PARAMETERS = frozenset(
    """
    from isappinstalled scene clicktime enterid sharer_shareinfo
    sharer_shareinfo_first sharer_shareid sharer_sharetime wxfrom nsukey chksm
    spm scm spm_id_from share_source share_medium share_token share_from
    share_app_id shareId vd_source xhsshare appuid apptime
    fbclid gclid dclid gbraid wbraid msclkid yclid twclid ttclid igshid
    mc_cid mc_eid _hsenc _hsmi mkt_tok ref_src
    """.split()
)
TRACKING_PREFIXES = ("utm_",)
# Never cached: the back office and files.
SKIPPED_PATHS = (
    "/admin/",
    "/django-admin/",
    "/static/",
    "/media/",
    "/documents/",
    # The doors for other systems answer per client (Open311 keys, API tokens).
    "/api/",
    "/open311/",
    # Asked by load balancers; must answer without the site (cms.health).
    "/healthz",
)
# Not replayed on a hit.
UNREPLAYED_HEADERS = frozenset({"set-cookie", "x-page-cache", "date"})


def case_tag(case_id: int) -> str:
    return f"case:{case_id}"


def page_tag(page_id: int) -> str:
    return f"page:{page_id}"


def _fresh_version() -> int:
    """A version no older entry can have: a tag's counter may be evicted like any
    key, and starting it again from 1 would bring back entries made under 1, 2…"""
    return time.time_ns() // 1000


def versions(tags: Iterable[str]) -> dict[str, int]:
    """The current version of each tag (a tag never seen gets one)."""
    keys = {TAG_PREFIX + tag: tag for tag in tags}
    found = cache.get_many(list(keys))
    result = {}
    for key, tag in keys.items():
        value = found.get(key)
        if value is None:
            fresh = _fresh_version()
            cache.add(key, fresh, timeout=None)
            value = cache.get(key, fresh)
        result[tag] = value
    return result


def invalidate(*tags: str) -> None:
    """Every cached page that depends on one of ``tags`` is stale from now on."""
    for tag in dict.fromkeys(tags or (SITE,)):
        key = TAG_PREFIX + tag
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, _fresh_version(), timeout=None)


def invalidate_all() -> None:
    invalidate(SITE)


def invalidate_on_commit(*tags: str) -> None:
    """Invalidate now, and again once the current transaction commits: a page
    rendered in between (reading the data as it was) is not kept for long."""
    invalidate(*tags)
    transaction.on_commit(lambda: invalidate(*tags))


def mark_cacheable(response, tags: Iterable[str], tag_versions: dict | None = None):
    """Let the middleware keep ``response``, valid while ``tags`` are unchanged.

    Pass ``tag_versions`` read before the data the response shows was read, so a
    change that lands during the rendering is never hidden.
    """
    tags = {SITE, *tags}
    setattr(response, CACHEABLE, True)
    setattr(response, TAGS, tag_versions or versions(tags))
    return response


def set_canonical(response, query: Iterable[tuple[str, str]]):
    """The query the response answers, once its parameters are validated."""
    setattr(response, CANONICAL, sorted((str(k), str(v)) for k, v in query))
    return response


def public_query(request) -> list[tuple[str, str]] | None:
    """The request's query without tracking parameters, sorted; None when it
    holds a parameter the cache does not know (such requests are not cached)."""
    query = []
    for name in request.GET:
        if name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES):
            continue
        if name not in CACHED_PARAMETERS:
            return None
        query.extend((name, value) for value in request.GET.getlist(name))
    return sorted(query)


def key_for(request, query: list[tuple[str, str]]) -> str:
    # Encoded: "q=a%26year%3D1" and "q=a&year=1" are different queries.
    where = urlencode(query)
    # Dated: the masthead shows today's date, so yesterday's entries go at midnight.
    today = timezone.localdate().isoformat()
    # Hashed: paths and queries hold Chinese and spaces, which some caches refuse.
    digest = hashlib.sha256(
        f"{request.get_host()}{request.path}?{where}#{today}".encode()
    ).hexdigest()
    return f"newsroom:page:{digest}"


def _is_current(tag_versions: dict[str, int]) -> bool:
    if not tag_versions:
        return False
    found = cache.get_many([TAG_PREFIX + tag for tag in tag_versions])
    return all(found.get(TAG_PREFIX + tag) == v for tag, v in tag_versions.items())


def _replay(entry) -> HttpResponse:
    status, headers, content = entry["status"], entry["headers"], entry["content"]
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    response["X-Page-Cache"] = "hit"
    return response


def _storable(response) -> bool:
    if not getattr(response, CACHEABLE, False) or response.status_code != 200:
        return False
    if response.cookies or response.has_header("Set-Cookie"):
        return False
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",")}
    return "cookie" not in vary and "*" not in vary


class PublicPageCacheMiddleware:
    """Answer GET requests for public pages from the cache, before any other work."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or request.path.startswith(
            SKIPPED_PATHS
        ):
            return self.get_response(request)
        query = public_query(request)
        if query is None:
            return self._render(request)
        key = key_for(request, query)
        entry = cache.get(key)
        if entry is not None and _is_current(entry.get("tags")):
            return _replay(entry)
        response = self._render(request)
        if (
            request.method == "GET"
            and _storable(response)
            and getattr(response, CANONICAL, []) == query
        ):
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            headers = [
                (name, value)
                for name, value in response.items()
                if name.lower() not in UNREPLAYED_HEADERS
            ]
            cache.set(
                key,
                {
                    "status": response.status_code,
                    "headers": headers,
                    "content": response.content,
                    "tags": getattr(response, TAGS),
                },
                TIMEOUT,
            )
            response["X-Page-Cache"] = "miss"
        return response

    def _render(self, request):
        # newsroom.sites imports this module: a top-level import is circular.
        from .sites import remember_site

        remember_site(request)
        return self.get_response(request)
