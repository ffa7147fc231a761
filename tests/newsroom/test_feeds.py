"""Column feeds (RSS 2.0, Atom) and the sitemap: live public pages only, redacted."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import PageViewRestriction

from newsroom.models import ArticlePage, HotTrackingPage, YearIndexPage
from newsroom.services import hot_tracking_column, story_create_for_case
from tests.factories import CaseFactory, CitizenFactory
from tracking.models import State

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NAME, PHONE, ID_NUMBER = "周建国", "13912345678", "110101199003071234"
ADDRESS = "幸福小区3号楼2单元401室"
PERSONAL = (NAME, PHONE, ID_NUMBER, ADDRESS, "12345678")


@pytest.fixture
def column(db):
    return hot_tracking_column()


@pytest.fixture
def year(column):
    index = YearIndexPage(title="2025", slug="2025", year=2025, live=True)
    column.add_child(instance=index)
    return index


START = timezone.now() - timedelta(days=200)


def live_story(year, n: int, *, state=None, citizen=None, **fields) -> HotTrackingPage:
    """A live story published ``n`` days after START, put straight into the tree.

    Feeds read the page tree, not the revision history, so large numbers of
    stories are set up without the publishing workflow.
    """
    extra = {"state": state} if state else {}
    case = CaseFactory(citizen=citizen or CitizenFactory(), **extra)
    published = START + timedelta(days=n)
    page = HotTrackingPage(
        title=fields.pop("title", f"第{n}号追踪"),
        slug=f"story-{n}",
        case=case,
        standfirst=fields.pop("standfirst", f"第{n}号报道导语。"),
        live=True,
        first_published_at=published,
        last_published_at=published,
        **fields,
    )
    year.add_child(instance=page)
    return page


def live_article(year, n: int, **fields) -> ArticlePage:
    published = START + timedelta(days=n)
    page = ArticlePage(
        title=f"第{n}号文章",
        slug=f"article-{n}",
        standfirst=f"第{n}号文章导语。",
        live=True,
        first_published_at=published,
        last_published_at=published,
        **fields,
    )
    year.add_child(instance=page)
    return page


def rss_items(client, path="/hot-tracking/feed/rss/"):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    return [
        {
            "title": item.findtext("title"),
            "link": item.findtext("link"),
            "description": item.findtext("description"),
            "pubDate": item.findtext("pubDate"),
        }
        for item in channel.findall("item")
    ]


def atom_entries(client, path="/hot-tracking/feed/atom/"):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "link": entry.find(f"{ATOM}link").get("href"),
            "summary": entry.findtext(f"{ATOM}summary"),
            "published": entry.findtext(f"{ATOM}published"),
        }
        for entry in feed.findall(f"{ATOM}entry")
    ]


# --- Feeds ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_rss_lists_the_latest_50_stories_newest_first(client, year):
    pages = [live_story(year, n) for n in range(30)]
    pages += [live_article(year, n) for n in range(30, 55)]

    items = rss_items(client)

    assert len(items) == 50
    newest_first = sorted(pages, key=lambda p: p.first_published_at, reverse=True)
    assert [i["link"] for i in items] == [p.get_full_url() for p in newest_first[:50]]
    assert items[0]["link"].startswith("http")
    assert items[0]["title"] == "第54号文章"
    assert items[0]["pubDate"]


@pytest.mark.django_db
def test_atom_lists_the_latest_50_stories_newest_first(client, year):
    pages = [live_article(year, n) for n in range(52)]

    entries = atom_entries(client)

    assert len(entries) == 50
    assert [e["link"] for e in entries] == [p.get_full_url() for p in pages[::-1][:50]]
    assert entries[0]["published"] > entries[-1]["published"]


@pytest.mark.django_db
def test_each_story_item_leads_with_its_case_status_now(client, year):
    tracking = live_story(year, 1, state=State.DISPATCHED)
    replied = live_story(year, 2, state=State.REPLIED)
    closed = live_story(year, 3, state=State.CLOSED)
    live_article(year, 4)

    items = {i["title"]: i["description"] for i in rss_items(client)}

    assert items[tracking.title].startswith("【追踪中】")
    assert items[tracking.title].endswith(tracking.standfirst)
    assert items[replied.title].startswith("【部门已答复】")
    assert items[closed.title].startswith("【已办结】")
    assert not items["第4号文章"].startswith("【")
    summaries = {e["title"]: e["summary"] for e in atom_entries(client)}
    assert summaries[replied.title].startswith("【部门已答复】")


@pytest.mark.django_db
def test_english_feed_has_english_status_and_links(client, year):
    story = live_story(year, 1, state=State.REPLIED)
    items = rss_items(client, "/en/hot-tracking/feed/rss/")
    assert items[0]["description"].startswith("[Department replied] ")
    assert items[0]["link"].endswith(f"/en{story.url_path.removeprefix('/home')}")


@pytest.mark.django_db
def test_drafts_and_private_stories_are_not_in_feeds(client, column, year):
    shown = live_story(year, 1)
    hidden = live_story(year, 2)
    PageViewRestriction.objects.create(
        page=hidden, restriction_type=PageViewRestriction.PASSWORD, password="8890"
    )
    draft = story_create_for_case(case=CaseFactory())

    links = [i["link"] for i in rss_items(client)]

    assert links == [shown.get_full_url()]
    assert draft.get_full_url() not in links


@pytest.mark.django_db
def test_feeds_carry_no_personal_data(client, year):
    zhou = CitizenFactory(name=NAME, phone=PHONE, address=ADDRESS)
    live_story(
        year,
        1,
        citizen=zhou,
        title=f"{NAME}反映金胜路口没有人行横道",
        standfirst=(
            f"市民{NAME}（身份证{ID_NUMBER}，电话{PHONE}，住{ADDRESS}）反映，"
            "另留号码１３９１２３４５６７８。"
        ),
    )

    for path in ("/hot-tracking/feed/rss/", "/hot-tracking/feed/atom/"):
        body = client.get(path).content.decode()
        assert "周某反映金胜路口没有人行横道" in body
        for value in (*PERSONAL, "１３９１２３４５６７８"):
            assert value not in body, (path, value)


def _feed_queries(client, path: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_feed_queries_do_not_grow_with_the_number_of_stories(client, year, kind):
    path = f"/hot-tracking/feed/{kind}/"
    for n in range(4):
        live_story(year, n)
    live_article(year, 4)
    five = _feed_queries(client, path)
    for n in range(5, 30):
        if n % 5:
            live_story(year, n)
        else:
            live_article(year, n)
    thirty = _feed_queries(client, path)
    assert five == thirty


@pytest.mark.django_db
def test_column_feeds_are_served_from_the_page_cache(client, year):
    live_story(year, 1)
    assert client.get("/hot-tracking/feed/rss/")["X-Page-Cache"] == "miss"
    cached = client.get("/hot-tracking/feed/rss/")
    assert cached["X-Page-Cache"] == "hit"
    assert cached["Content-Type"].startswith("application/rss+xml")


# --- Sitemap ------------------------------------------------------------------------


def sitemap_locations(client) -> list[str]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    return [url.findtext(f"{SITEMAP}loc") for url in root.findall(f"{SITEMAP}url")]


@pytest.mark.django_db
def test_sitemap_lists_live_public_pages_only(client, column, year):
    story = live_story(year, 1)
    article = live_article(year, 2)
    private = live_story(year, 3)
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.PASSWORD, password="8890"
    )
    unpublished = live_story(year, 4)
    unpublished.unpublish()
    draft = story_create_for_case(case=CaseFactory())

    locations = sitemap_locations(client)

    assert "http://localhost/" in locations
    assert column.get_full_url() in locations
    assert story.get_full_url() in locations
    assert article.get_full_url() in locations
    for hidden in (private, unpublished, draft):
        assert hidden.get_full_url() not in locations
    # One sitemap, in the default language.
    assert not any("/en/" in location for location in locations)


@pytest.mark.django_db
def test_sitemap_carries_no_personal_data(client, year):
    zhou = CitizenFactory(name=NAME, phone=PHONE, address=ADDRESS)
    story = live_story(
        year, 1, citizen=zhou, title=f"{NAME}反映", standfirst=f"电话{PHONE}"
    )
    body = client.get("/sitemap.xml").content.decode()
    assert story.get_full_url() in body
    for value in PERSONAL:
        assert value not in body
