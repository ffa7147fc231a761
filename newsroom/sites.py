"""Which Wagtail site answers a public request, remembered per process; the
masthead's navigation of that site; the site's address in feeds and sitemap.

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
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, OuterRef
from django.http.request import split_domain_port
from django.urls import reverse
from django.utils import translation
from django.utils.functional import SimpleLazyObject
from wagtail.models import Page, PageViewRestriction, Site

from . import cache

SITES = "sites"
_found: dict[tuple[str, int], tuple[int, object, object]] = {}
_lock = threading.Lock()


def _fresh_page(page):
    """A copy of a page as it was read from the database, nothing cached on it."""
    fresh = copy.copy(page)
    fresh.__dict__ = {
        name: value
        for name, value in page.__dict__.items()
        if not name.startswith("_") or name == "_state"
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


# --- The masthead's navigation ---------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    """A link of the masthead: a column or the statistics page."""

    title: str
    url: str
    path: str
    is_hot_tracking: bool = False


@dataclass(frozen=True)
class Navigation:
    """The masthead of a site: its home page, its columns, its statistics page."""

    home_url: str
    columns: tuple[NavItem, ...] = ()
    stats: NavItem | None = None

    def column_of(self, page) -> NavItem | None:
        """The column ``page`` is in (itself included), from its tree path: a
        story links back to its column without reading it."""
        path = getattr(page, "path", "") or ""
        return next((c for c in self.columns if path.startswith(c.path)), None)


# (root page id, language) → (tag versions, navigation), per process.
_navigations: dict[tuple[int, str], tuple[dict, Navigation]] = {}


def navigation(request) -> Navigation | None:
    """The masthead of the site answering ``request``, in the active language.

    Read in one query for all columns, and kept per process while the tags of
    the sites, of the whole site and of the home page have not moved: publishing
    a column (a new one, a renamed one) changes its parent, the home page;
    unpublishing, moving or restricting one changes the whole site. The links
    are made as Wagtail makes a relative one for a child of the site's root,
    without reading every site's root path.
    """
    # newsroom.models imports newsroom.cache, like this module: imported late.
    from tracking.redaction import censor_rules

    from . import public
    from .models import ColumnPage, StatsPage

    site = Site.find_for_request(request)
    if site is None:
        return None
    key = (site.root_page_id, translation.get_language() or "")
    tags = (SITES, cache.SITE, cache.page_tag(site.root_page_id))
    versions = cache.versions(tags)
    found = _navigations.get(key)
    if found is not None and found[0] == versions:
        return found[1]
    home = site.root_page
    pages = list(
        Page.objects.live()
        .child_of(home)
        .type(ColumnPage, StatsPage)
        # A restricted column is not in the masthead (one above it restricts
        # the whole site, masthead and all).
        .exclude(Exists(PageViewRestriction.objects.filter(page=OuterRef("pk"))))
        .annotate(hot=F("columnpage__is_hot_tracking"))
        .order_by("path")
    )
    rules = public.rules_key(censor_rules())
    stats_type = ContentType.objects.get_for_model(StatsPage).pk
    columns, stats = [], None
    for page in pages:
        item = NavItem(
            title=public.text(page.title, rules),
            url=_url_under(home, page),
            path=page.path,
            is_hot_tracking=bool(page.hot),
        )
        if page.content_type_id == stats_type:
            stats = stats or item
        else:
            columns.append(item)
    found = (
        versions,
        Navigation(
            home_url=_url_under(home, home),
            columns=tuple(columns),
            stats=stats,
        ),
    )
    with _lock:
        _navigations[key] = found
    return found[1]


def navigation_tags(request) -> set[str]:
    """The tags a page showing the masthead depends on besides the whole site's:
    its home page's, which publishing a column (a child of it) changes."""
    site = Site.find_for_request(request)
    return {cache.page_tag(site.root_page_id)} if site is not None else set()


def _url_under(home, page) -> str:
    """The relative address of ``page`` in the site whose root is ``home``, in
    the active language (what ``page.get_url()`` gives there)."""
    return reverse("wagtail_serve", args=(page.url_path[len(home.url_path) :],))


# --- Addresses read outside the site ----------------------------------------------


def public_url(page, request=None) -> str:
    """The absolute address of ``page`` for feeds and the sitemap: the public
    address setting (production), else the Wagtail site's hostname and port."""
    parts = page.get_url_parts(request)
    if parts is None:
        return ""
    _site_id, root_url, path = parts
    base = settings.NEWSPLUS_PUBLIC_URL or root_url
    return f"{base}{path}"


def public_address(path: str, request) -> str:
    """An absolute address on this site for ``path`` (the feed's own)."""
    if settings.NEWSPLUS_PUBLIC_URL:
        return f"{settings.NEWSPLUS_PUBLIC_URL}{path}"
    site = Site.find_for_request(request)
    if site is not None:
        return f"{site.root_url}{path}"
    return request.build_absolute_uri(path)


def navigation_context(request) -> dict:
    """A context processor giving every template the masthead (``site_nav``),
    read only if the template shows it: the citizen's forms (tracking.intake)
    extend the same base template as the paper's pages."""
    return {"site_nav": SimpleLazyObject(lambda: navigation(request))}
