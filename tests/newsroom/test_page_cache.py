"""The whole-page cache of the public site (newsroom.cache), end to end.

Every test fetches pages until they are answered from the cache, changes
something the way the back office or the case workflow does, and fetches again:
what changed is shown at once, and what did not change is still a hit. Nothing
in a test empties the cache between a change and the fetch that checks it.
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from wagtail.models import Page, PageViewRestriction

from newsroom import cache as page_cache
from newsroom.models import (
    ArticlePage,
    ColumnPage,
    FollowUpPage,
    HomePage,
    HotTrackingPage,
    StoryStatus,
    YearIndexPage,
)
from newsroom.services import hot_tracking_column, story_create_for_case
from tests.factories import (
    CaseFactory,
    CategoryFactory,
    DepartmentFactory,
    aware,
    officer,
    supervisor,
)
from tracking import services as svc
from tracking.models import CensorRule

pytestmark = pytest.mark.django_db

NOW = aware(2026, 6, 10, 10)  # every story is published in 2026
YEAR = "2026"

WUHU = "五湖路口直行车道拥堵"
JINSHENG = "金胜路口行人过街难"
PATTERN = "路口"  # in both titles
MASK = "某处"
REPLY = "已安排施划直行标线。"

HOME = "/"
COLUMN = "/hot-tracking/"
FEED = "/hot-tracking/feed/rss/"
SEARCH = "/search/"

TRACKING_QUERIES = [
    "?from=singlemessage&isappinstalled=0",
    "?utm_source=x&utm_medium=y",
    "?fbclid=abc",
    "?spm=a.b.c",
]
# Headers a hit must carry as the miss did; Vary only where the miss has one
# (LocaleMiddleware adds none when the language comes from the path, /en/...).
REPLAYED_HEADERS = [
    "X-Frame-Options",
    "Content-Language",
    "Content-Type",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
]


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def department():
    return DepartmentFactory(name="市交警支队")


def publish(page):
    page.save_revision().publish()
    return page.__class__.objects.get(pk=page.pk)


def make_story(department, title: str) -> HotTrackingPage:
    """A dispatched case's story, drafted by the newsroom service and published."""
    case = CaseFactory(
        dispatched=True,
        title=title,
        department=department,
        category=CategoryFactory(default_department=department),
    )
    return publish(story_create_for_case(case=case))


@pytest.fixture
def story_a(department):
    return make_story(department, WUHU)


@pytest.fixture
def story_b(department):
    return make_story(department, JINSHENG)


def path(page) -> str:
    """The page's path in the default language."""
    with translation.override(settings.LANGUAGE_CODE):
        return Page.objects.get(pk=page.pk).url


def fetch(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response


def cached(client, url):
    """Fetch ``url`` until the cache answers it; the hit is returned."""
    fetch(client, url)
    hit = fetch(client, url)
    assert hit["X-Page-Cache"] == "hit", url
    return hit


def state(response) -> str | None:
    return response.get("X-Page-Cache")


def html(response) -> str:
    return response.content.decode()


def label(status) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(status.label)


def reply(case, django_capture_on_commit_callbacks):
    """The department's reply, recorded by the hotline; receivers run on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        svc.case_reply(case=case.pk, user=officer(), text=REPLY)


def is_stored(url: str) -> bool:
    """Whether the cache holds an entry for ``url`` (as the middleware keys it)."""
    request = RequestFactory().get(url)
    query = page_cache.public_query(request)
    if query is None:
        return False
    return cache.get(page_cache.key_for(request, query)) is not None


def page_entries() -> int | None:
    """How many cached pages the local-memory cache holds (None on other caches)."""
    backend = caches["default"]
    if not isinstance(backend, LocMemCache):
        return None
    return sum(1 for key in list(backend._cache) if "newsroom:page:" in key)


def feed_descriptions(response) -> dict[str, str]:
    channel = ET.fromstring(response.content).find("channel")
    return {
        item.findtext("title"): item.findtext("description")
        for item in channel.findall("item")
    }


@pytest.fixture
def editor_client():
    """A supervisor in the back office, apart from the public's client."""
    admin = Client()
    admin.force_login(supervisor())
    return admin


RULE = {
    "pattern": PATTERN,
    "replacement": MASK,
    "reason": "an emergency mask",
    "is_active": "on",
}


# --- Censor rules -------------------------------------------------------------------


def test_a_global_censor_rule_added_in_the_admin_masks_cached_pages_at_once(
    client, editor_client, story_a
):
    for url in (path(story_a), HOME):
        assert PATTERN in html(cached(client, url))

    response = editor_client.post(reverse("tracking_censor_rules:add"), RULE)
    assert response.status_code == 302
    assert CensorRule.objects.get().case_id is None

    for url in (path(story_a), HOME):
        after = fetch(client, url)
        assert state(after) == "miss", url
        assert "五湖某处直行车道拥堵" in html(after), url
        assert WUHU not in html(after), url


def test_a_deleted_global_censor_rule_stops_masking_cached_pages_at_once(
    client, editor_client, story_a
):
    editor_client.post(reverse("tracking_censor_rules:add"), RULE)
    rule = CensorRule.objects.get()
    for url in (path(story_a), HOME):
        assert WUHU not in html(cached(client, url))

    response = editor_client.post(
        reverse("tracking_censor_rules:delete", args=[rule.pk])
    )
    assert response.status_code == 302
    assert not CensorRule.objects.exists()

    for url in (path(story_a), HOME):
        after = fetch(client, url)
        assert state(after) == "miss", url
        assert WUHU in html(after), url


def test_a_case_censor_rule_masks_its_story_and_leaves_other_stories_cached(
    client, editor_client, story_a, story_b
):
    for url in (path(story_a), path(story_b), HOME):
        cached(client, url)

    response = editor_client.post(
        reverse("tracking_censor_rules:add"),
        {**RULE, "case_reference": story_a.case.reference},
    )
    assert response.status_code == 302
    assert CensorRule.objects.get().case_id == story_a.case_id

    masked = fetch(client, path(story_a))
    assert state(masked) == "miss"
    assert "五湖某处直行车道拥堵" in html(masked)
    home = fetch(client, HOME)
    assert state(home) == "miss"
    assert "五湖某处直行车道拥堵" in html(home)
    assert JINSHENG in html(home)
    other = fetch(client, path(story_b))
    assert state(other) == "hit"
    assert JINSHENG in html(other)


def test_a_deleted_case_censor_rule_stops_masking_its_story_at_once(
    client, story_a, story_b
):
    rule = CensorRule.objects.create(
        pattern=PATTERN, replacement=MASK, reason="x", case=story_a.case
    )
    assert WUHU not in html(cached(client, path(story_a)))
    cached(client, path(story_b))

    rule.delete()

    after = fetch(client, path(story_a))
    assert state(after) == "miss"
    assert WUHU in html(after)
    assert state(fetch(client, path(story_b))) == "hit"


def test_a_case_censor_rule_moved_to_another_case_stops_masking_the_first_story(
    client, story_a, story_b
):
    rule = CensorRule.objects.create(
        pattern=PATTERN, replacement=MASK, reason="x", case=story_a.case
    )
    assert WUHU not in html(cached(client, path(story_a)))

    rule.case = story_b.case
    rule.save()

    assert JINSHENG not in html(fetch(client, path(story_b)))
    after = fetch(client, path(story_a))
    assert WUHU in html(after), f"story A still masked ({state(after)})"


def test_a_global_censor_rule_narrowed_to_one_case_stops_masking_other_stories(
    client, story_a, story_b
):
    rule = CensorRule.objects.create(pattern=PATTERN, replacement=MASK, reason="x")
    assert JINSHENG not in html(cached(client, path(story_b)))

    rule.case = story_a.case
    rule.save()

    after = fetch(client, path(story_b))
    assert JINSHENG in html(after), f"story B still masked ({state(after)})"


# --- View restrictions, moves -------------------------------------------------------


def test_a_login_restriction_on_a_cached_story_keeps_it_from_anonymous_readers(
    client, story_a
):
    cached(client, path(story_a))

    PageViewRestriction.objects.create(
        page=story_a, restriction_type=PageViewRestriction.LOGIN
    )

    response = client.get(path(story_a))
    assert response.status_code in (302, 401, 403)
    assert state(response) != "hit"
    assert WUHU not in html(response)


def test_a_login_restriction_on_an_ancestor_keeps_a_cached_story_from_the_public(
    client, story_a
):
    cached(client, path(story_a))

    PageViewRestriction.objects.create(
        page=story_a.get_parent(), restriction_type=PageViewRestriction.LOGIN
    )

    response = client.get(path(story_a))
    assert response.status_code in (302, 401, 403)
    assert state(response) != "hit"


def assert_gone(client, old: str, new: str):
    """The old URL of a moved page no longer serves it: not found, or (Wagtail's
    redirects app records one when a page moves) a redirect to the new URL."""
    response = client.get(old)
    assert state(response) != "hit"
    assert response.status_code in (301, 404)
    if response.status_code == 301:
        assert response["Location"] == new


def test_a_story_moved_to_another_year_is_gone_from_its_old_url(client, story_a):
    old = path(story_a)
    cached(client, old)
    year_2025 = YearIndexPage(title="2025", slug="2025", year=2025)
    hot_tracking_column().add_child(instance=year_2025)
    publish(year_2025)

    Page.objects.get(pk=story_a.pk).move(year_2025, pos="last-child")

    new = path(story_a)
    assert new != old
    assert_gone(client, old, new)
    moved = fetch(client, new)
    assert WUHU in html(moved)


def test_an_article_moved_to_another_column_is_gone_from_its_old_url(client):
    column = hot_tracking_column()
    year = YearIndexPage.objects.child_of(column).first()
    if year is None:
        year = YearIndexPage(title=YEAR, slug=YEAR, year=int(YEAR))
        column.add_child(instance=year)
        year = publish(year)
    article = ArticlePage(title="梨子丰收", slug="pears", standfirst="梨农的好消息。")
    year.add_child(instance=article)
    article = publish(article)
    farming = ColumnPage(title="三农天地", slug="farming")
    HomePage.objects.get().add_child(instance=farming)
    farming = publish(farming)
    farming_year = YearIndexPage(title=YEAR, slug=YEAR, year=int(YEAR))
    farming.add_child(instance=farming_year)
    farming_year = publish(farming_year)
    old = path(article)
    cached(client, old)

    Page.objects.get(pk=article.pk).move(farming_year, pos="last-child")

    new = path(article)
    assert new.startswith("/farming/")
    assert_gone(client, old, new)
    assert "梨子丰收" in html(fetch(client, new))


# --- What a case change and a publication invalidate --------------------------------


def test_a_reply_invalidates_its_story_and_the_listings_but_not_other_stories(
    client, story_a, story_b, django_capture_on_commit_callbacks
):
    replied = f'<span class="badge badge-{StoryStatus.REPLIED}">'
    for url in (path(story_a), path(story_b), HOME, COLUMN, FEED):
        assert replied not in html(cached(client, url)), url

    reply(story_a.case, django_capture_on_commit_callbacks)

    story = fetch(client, path(story_a))
    assert state(story) == "miss"
    assert REPLY in html(story)
    assert replied in html(story)
    other = fetch(client, path(story_b))
    assert state(other) == "hit"
    for url in (HOME, COLUMN):
        listing = fetch(client, url)
        assert state(listing) == "miss", url
        assert html(listing).count(replied) == 1, url
    feed = fetch(client, FEED)
    assert state(feed) == "miss"
    status = label(StoryStatus.REPLIED)
    # Items are keyed by the stories' titles (drafted from the cases' titles).
    assert status in feed_descriptions(feed)[story_a.title]
    assert status not in feed_descriptions(feed)[story_b.title]


def test_a_reply_invalidates_the_follow_up_reports_of_its_story(
    client, story_a, story_b, django_capture_on_commit_callbacks
):
    follow_up = FollowUpPage(title="交警：本周内施划直行标线", slug="follow-up")
    story_a.add_child(instance=follow_up)
    follow_up = publish(follow_up)
    cached(client, path(follow_up))
    cached(client, path(story_b))

    reply(story_a.case, django_capture_on_commit_callbacks)

    assert state(fetch(client, path(follow_up))) == "miss"
    assert state(fetch(client, path(story_b))) == "hit"


def test_a_case_censor_rule_masks_the_follow_up_reports_of_its_story(client, story_a):
    follow_up = FollowUpPage(title="交警：本周内施划直行标线", slug="follow-up")
    story_a.add_child(instance=follow_up)
    follow_up = publish(follow_up)
    assert WUHU in html(cached(client, path(follow_up)))  # the story's title

    CensorRule.objects.create(
        pattern=PATTERN, replacement=MASK, reason="x", case=story_a.case
    )

    after = fetch(client, path(follow_up))
    assert state(after) == "miss"
    assert WUHU not in html(after)


def test_republishing_a_story_invalidates_it_its_parent_and_the_listings_only(
    client, story_a, story_b
):
    year_index = path(story_a.get_parent())
    for url in (path(story_a), path(story_b), year_index, HOME, COLUMN, FEED):
        cached(client, url)

    story = HotTrackingPage.objects.get(pk=story_a.pk)
    story.standfirst = "记者再次来到五湖路，直行车道仍排长队。"
    publish(story)

    after = fetch(client, path(story_a))
    assert state(after) == "miss"
    assert "记者再次来到五湖路" in html(after)
    assert state(fetch(client, year_index)) == "miss"
    for url in (HOME, COLUMN, FEED):
        listing = fetch(client, url)
        assert state(listing) == "miss", url
        assert "记者再次来到五湖路" in html(listing), url
    assert state(fetch(client, path(story_b))) == "hit"


def test_publishing_a_follow_up_invalidates_its_story_but_not_other_stories(
    client, story_a, story_b
):
    follow_up = FollowUpPage(
        title="交警：本周内施划直行标线", slug="follow-up", live=False
    )
    story_a.add_child(instance=follow_up)
    for url in (path(story_a), path(story_b)):
        assert "交警：本周内施划直行标线" not in html(cached(client, url))

    publish(follow_up)

    parent = fetch(client, path(story_a))
    assert state(parent) == "miss"
    assert "交警：本周内施划直行标线" in html(parent)
    assert state(fetch(client, path(story_b))) == "hit"


def test_renaming_a_department_shows_the_new_name_on_cached_pages(
    client, story_a, department
):
    for url in (path(story_a), HOME):
        assert "市交警支队" in html(cached(client, url))

    department.name = "市公安局交通警察支队"
    department.save()

    for url in (path(story_a), HOME):
        after = fetch(client, url)
        assert state(after) == "miss", url
        assert "市公安局交通警察支队" in html(after), url


# --- Only canonical queries make entries --------------------------------------------


def junk_filters(department_without_story: int) -> list[dict[str, str]]:
    """A hundred column queries whose filters are all made up or out of range."""
    rng = random.Random(8890)
    letters = "abcdefghijklmnopqrstuvwxyz"
    year_values = ["1999", "0", "-1", "2028", "99999", "２０２６", "𝟚𝟘𝟚𝟞", "2026.0"]
    page_values = ["999999", "0", "-1", "100001", "500", "abc", "1e3", "①"]
    queries = []
    for n in range(100):
        junk = "".join(rng.choice(letters) for _ in range(rng.randint(1, 12)))
        queries.append(
            [
                {"year": rng.choice([junk, *year_values])},
                {"year": str(rng.randint(2028, 10**9 - 1))},
                {"department": str(10**6 + n)},
                {"department": str(department_without_story)},
                {"status": rng.choice([junk, "bogus", "REPLIED", "replied "])},
                {"page": rng.choice([*page_values, str(rng.randint(2, 99_999))])},
            ][n % 6]
        )
    return queries


def test_made_up_column_filters_are_redirected_and_never_make_cache_entries(
    client, story_a
):
    idle = DepartmentFactory(name="无报道的部门")
    cached(client, COLUMN)
    entries = page_entries()
    assert entries is None or entries >= 1  # the count sees the column's entry

    for params in junk_filters(idle.pk):
        for _attempt in range(2):
            response = client.get(COLUMN, params)
            assert response.status_code == 302, params
            assert response["Location"] == COLUMN, params
            assert state(response) is None, params
        url = response.wsgi_request.get_full_path()
        assert not is_stored(url), params

    assert page_entries() == entries


def test_repeated_or_empty_column_filters_never_make_cache_entries(client, story_a):
    for query in (
        "?status=replied&status=replied",
        "?year=2026&year=2026",
        "?page=1",
    ):
        response = client.get(COLUMN + query)
        assert response.status_code == 302, query
        assert state(client.get(COLUMN + query)) is None, query
        assert not is_stored(COLUMN + query), query
    for query in ("?year=", "?status="):
        response = client.get(COLUMN + query)
        assert response.status_code in (200, 302), query
        assert state(client.get(COLUMN + query)) != "hit", query
        assert not is_stored(COLUMN + query), query


def test_a_made_up_filter_is_dropped_and_the_valid_ones_kept(client, story_a):
    response = client.get(COLUMN, {"status": "replied", "year": "abc"})
    assert response.status_code == 302
    assert response["Location"] == f"{COLUMN}?status=replied"


def test_made_up_filters_under_en_are_redirected_within_en(client, story_a):
    for params in ({"status": "bogus"}, {"year": "1999"}, {"page": "999999"}):
        response = client.get(f"/en{COLUMN}", params)
        assert response.status_code == 302, params
        assert response["Location"] == f"/en{COLUMN}", params
    response = client.get(f"/en{COLUMN}", {"status": "tracking", "year": "x"})
    assert response["Location"] == f"/en{COLUMN}?status=tracking"


def test_valid_column_filters_are_cached(client, story_a):
    assert WUHU in html(cached(client, f"{COLUMN}?year={YEAR}"))
    cached(client, f"{COLUMN}?status=tracking&year={YEAR}")
    # The same query in another order is the same entry.
    assert state(fetch(client, f"{COLUMN}?year={YEAR}&status=tracking")) == "hit"


def test_a_valid_replied_filter_is_cached_and_lists_the_replied_story(
    client, story_a, story_b, django_capture_on_commit_callbacks
):
    reply(story_a.case, django_capture_on_commit_callbacks)

    listing = html(cached(client, f"{COLUMN}?status=replied&year={YEAR}"))

    assert WUHU in listing
    assert JINSHENG not in listing


# --- Tracking and unknown parameters ------------------------------------------------


@pytest.mark.parametrize("query", TRACKING_QUERIES)
def test_a_shared_link_is_answered_from_the_plain_urls_entry(client, story_a, query):
    plain = fetch(client, path(story_a))
    assert state(plain) == "miss"

    shared = fetch(client, path(story_a) + query)

    assert state(shared) == "hit"
    assert shared.content == plain.content


@pytest.mark.parametrize("query", TRACKING_QUERIES)
def test_a_shared_link_fetched_first_makes_the_plain_urls_entry(client, story_a, query):
    shared = fetch(client, path(story_a) + query)
    assert state(shared) == "miss"

    plain = fetch(client, path(story_a))

    assert state(plain) == "hit"
    assert plain.content == shared.content


def test_an_unknown_parameter_bypasses_the_cache_and_makes_no_entry(client, story_a):
    url = path(story_a)
    for _attempt in range(2):
        response = fetch(client, f"{url}?foo=bar")
        assert state(response) is None
        assert WUHU in html(response)
    assert not is_stored(url)
    assert state(fetch(client, url)) == "miss"

    # With an entry for the plain URL, an unknown parameter still bypasses it.
    assert state(fetch(client, f"{url}?foo=bar&utm_source=x")) is None


# --- Headers ------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["home", "story", "feed", "story_en"])
def test_a_hit_replays_the_headers_of_the_miss(client, story_a, where):
    url = {
        "home": HOME,
        "story": path(story_a),
        "feed": FEED,
        "story_en": f"/en{path(story_a)}",
    }[where]

    miss = fetch(client, url)
    hit = fetch(client, url)

    assert state(miss) == "miss"
    assert state(hit) == "hit"
    for name in REPLAYED_HEADERS:
        assert miss.has_header(name), name
        assert hit.get(name) == miss.get(name), name
    assert hit.get("Vary") == miss.get("Vary")
    if where != "story_en":
        assert "Accept-Language" in miss["Vary"]
    assert hit.content == miss.content
    language = "en" if where == "story_en" else settings.LANGUAGE_CODE
    assert hit["Content-Language"] == language


# --- Search -------------------------------------------------------------------------


def test_search_results_are_cached(client, story_a):
    results = cached(client, f"{SEARCH}?q=直行车道")

    assert path(story_a) in html(results)


@pytest.mark.parametrize(
    "query",
    [
        "?q=直行车道&page=abc",
        "?q=直行车道&page=1",
        "?q=直行车道&page=999",
        "?q=%20直行车道%20",
        "?q=直行车道&q=拥堵",
    ],
)
def test_search_variants_of_a_query_are_answered_but_not_stored(client, story_a, query):
    for _attempt in range(2):
        response = fetch(client, SEARCH + query)
        assert state(response) is None
        assert path(story_a) in html(response)
    assert not is_stored(SEARCH + query)
    assert state(fetch(client, f"{SEARCH}?q=直行车道")) == "miss"


def test_a_query_holding_an_ampersand_is_not_served_for_another_query(client, story_a):
    stored = fetch(client, f"{SEARCH}?q=直行车道%26year%3D{YEAR}")
    assert state(stored) == "miss"

    other = fetch(client, f"{SEARCH}?q=直行车道&year={YEAR}")

    assert state(other) != "hit"
    assert f"直行车道&amp;year={YEAR}" not in html(other)


def test_a_site_changed_in_the_admin_is_seen_by_the_next_request(client):
    from wagtail.models import Site

    assert client.get("/?_fresh=1").status_code == 200  # the site is remembered
    site = Site.objects.get(is_default_site=True)
    site.is_default_site = False
    site.hostname = "elsewhere.example"
    site.save()

    assert client.get("/?_fresh=2").status_code == 404


def test_the_home_page_published_anew_is_served_anew_on_an_uncached_request(client):
    from newsroom.models import HomePage

    assert client.get("/?_fresh=1").status_code == 200  # home remembered
    home = HomePage.objects.get()
    home.title = "八八九零新闻加"
    home.save_revision().publish()

    assert "八八九零新闻加" in client.get("/?_fresh=2").content.decode()
