"""Whole-page cache of the public site.

Public pages carry no CSRF token and nothing per user, so one rendering serves
everybody. Entries are keyed by a content version: publishing, unpublishing,
moving or deleting a page, or a change to a case that has a story, bumps the
version, and every older entry stops being used (and expires on its own).
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpResponse

VERSION_KEY = "newsroom:content-version"
TIMEOUT = 60 * 60
# Attribute a page's serve() sets on a response that may be cached.
CACHEABLE = "_newsroom_cacheable"


def version() -> int:
    value = cache.get(VERSION_KEY)
    if value is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        value = cache.get(VERSION_KEY, 1)
    return value


def invalidate() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def key_for(request, content_version: int) -> str:
    host, path = request.get_host(), request.get_full_path()
    return f"newsroom:page:{content_version}:{host}:{path}"


class PublicPageCacheMiddleware:
    """Answer GET requests for public pages from the cache, before any other work."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or request.path.startswith(
            ("/admin/", "/django-admin/", "/static/", "/media/", "/documents/")
        ):
            return self.get_response(request)
        content_version = version()
        key = key_for(request, content_version)
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
