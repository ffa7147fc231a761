"""Which Wagtail site answers a public request, remembered per process.

Wagtail looks the site up with one query per request (by hostname and port, with
its root page). Sites change almost never, so a process keeps what it found, as
long as the ``sites`` tag of the page cache has not moved (any change to a site
moves it). Each request gets its own copies: page objects are never shared
between requests.
"""

from __future__ import annotations

import copy
import threading

from . import cache

SITES = "sites"
_found: dict[tuple[str, int], tuple[int, object]] = {}
_lock = threading.Lock()


def _fresh_copy(site):
    site = copy.copy(site)
    site._state = copy.copy(site._state)
    root = site._state.fields_cache.get("root_page")
    site._state.fields_cache = {}
    if root is not None:
        root = copy.copy(root)
        root._state = copy.copy(root._state)
        root._state.fields_cache = {}
        root.__dict__.pop("specific", None)
        root.__dict__.pop("specific_deferred", None)
        site._state.fields_cache["root_page"] = root
    return site


def remember_site(request) -> None:
    """Give ``request`` its site (``request._wagtail_site``, as Wagtail caches it)
    from what this process found before, or let Wagtail find it."""
    from django.http.request import split_domain_port
    from wagtail.models import Site

    if hasattr(request, "_wagtail_site"):
        return
    key = (split_domain_port(request._get_raw_host())[0], request.get_port())
    version = cache.versions([SITES])[SITES]
    found = _found.get(key)
    if found is None or found[0] != version:
        site = Site._find_for_request(request)
        if site is None:
            return
        site.root_page  # noqa: B018 (loaded with the site, kept with it)
        with _lock:
            _found[key] = (version, _fresh_copy(site))
        found = _found[key]
    request._wagtail_site = _fresh_copy(found[1])


def forget_sites(**kwargs) -> None:
    cache.invalidate_on_commit(SITES, cache.SITE)
