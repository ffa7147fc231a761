"""Whole-page cache of the public site.

Public pages carry no CSRF token and nothing per user, so one rendering serves
everybody. Entries are keyed by a content version: publishing, unpublishing,
moving or deleting a page, or a change to a case that has a story, bumps the
version, and every older entry stops being used (and expires on its own).
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpResponse

VERSION_KEY = "newsroom:content-version"
TIMEOUT = 60 * 60
# Attribute a page's serve() sets on a response that may be cached.
CACHEABLE = "_newsroom_cacheable"


def _fresh_version() -> int:
    """A version no older entry can have: the counter may be evicted like any key,
    and starting it again from 1 would bring back pages cached under 1, 2, ..."""
    return time.time_ns() // 1000


def version() -> int:
    value = cache.get(VERSION_KEY)
    if value is None:
        fresh = _fresh_version()
        cache.add(VERSION_KEY, fresh, timeout=None)
        value = cache.get(VERSION_KEY, fresh)
    return value


def invalidate() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, _fresh_version(), timeout=None)


# Query parameters public pages understand. A request with any other parameter is
# not cached: otherwise every made-up query string would fill the cache.
CACHED_PARAMETERS = frozenset({"status", "department", "year", "page", "print", "q"})


def key_for(request, content_version: int) -> str | None:
    """The cache key of a public request, or None if it must not be cached."""
    if not set(request.GET) <= CACHED_PARAMETERS:
        return None
    query = "&".join(
        f"{name}={value}" for name in sorted(request.GET)
        for value in request.GET.getlist(name)
    )
    # Hashed: paths and queries hold Chinese and spaces, which some caches refuse.
    where = f"{request.get_host()}{request.path}?{query}"
    digest = hashlib.sha256(where.encode()).hexdigest()
    return f"newsroom:page:{content_version}:{digest}"


class PublicPageCacheMiddleware:
    """Answer GET requests for public pages from the cache, before any other work."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or request.path.startswith(
            ("/admin/", "/django-admin/", "/static/", "/media/", "/documents/")
        ):
            return self.get_response(request)
        key = key_for(request, version())
        if key is None:
            return self.get_response(request)
        cached = cache.get(key)
        if cached is not None:
            content, content_type = cached
            response = HttpResponse(content, content_type=content_type)
            response["X-Page-Cache"] = "hit"
            return response
        response = self.get_response(request)
        if getattr(response, CACHEABLE, False) and response.status_code == 200:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            cache.set(key, (response.content, response["Content-Type"]), TIMEOUT)
            response["X-Page-Cache"] = "miss"
        return response
