"""Which Wagtail site answers a public request, remembered per process.

Wagtail looks the site up with one query per request (by hostname and port, with
its root page), and its home page with another. Both change almost never, so a
process keeps what it found while the page cache's tags of sites, of the whole
site and of the home page have not moved (a site saved, a page moved, the home
page published). Each request gets its own copies: page objects are never
shared between requests.
"""

from __future__ import annotations

import copy
import threading

from django.http.request import split_domain_port
from wagtail.models import Site

from . import cache

SITES = "sites"
_found: dict[tuple[str, int], tuple[int, object, object]] = {}
_lock = threading.Lock()


def _fresh_page(page):
    """A copy of a page as it was read from the database, nothing cached on it."""
    fresh = copy.copy(page)
    fresh.__dict__ = {
        name: value for name, value in page.__dict__.items() if not name.startswith("_")
        or name == "_state"
    }
    fresh._state = copy.copy(page._state)
    fresh._state.fields_cache = {}
    for name in ("specific", "specific_deferred"):
        fresh.__dict__.pop(name, None)
    return fresh


def _fresh_copy(site, home=None):
    """``site`` with its root page, and that page's specific page (the home
    page, read once), as fresh copies."""
    site = copy.copy(site)
    site._state = copy.copy(site._state)
    root = site._state.fields_cache.get("root_page")
    site._state.fields_cache = {}
    if root is not None:
        root = _fresh_page(root)
        if home is not None:
            root.__dict__["specific"] = _fresh_page(home)
        site._state.fields_cache["root_page"] = root
    return site


def remember_site(request) -> None:
    """Give ``request`` its site (``request._wagtail_site``, as Wagtail caches it)
    from what this process found before, or let Wagtail find it."""
    if hasattr(request, "_wagtail_site"):
        return
    key = (split_domain_port(request._get_raw_host())[0], request.get_port())
    found = _found.get(key)
    if found is not None:
        tags = (SITES, cache.SITE, cache.page_tag(found[1].root_page_id))
        if cache.versions(tags) != found[0]:
            found = None
    if found is None:
        site = Site._find_for_request(request)
        if site is None:
            return
        # Versions read first: a change while the home page is read is seen.
        tags = (SITES, cache.SITE, cache.page_tag(site.root_page_id))
        versions = cache.versions(tags)
        home = _fresh_page(site.root_page.specific)
        found = (versions, _fresh_copy(site), home)
        with _lock:
            _found[key] = found
    request._wagtail_site = _fresh_copy(found[1], found[2])


def forget_sites(**kwargs) -> None:
    cache.invalidate_on_commit(SITES, cache.SITE)
