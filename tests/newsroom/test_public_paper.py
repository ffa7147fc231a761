"""The public site reads like the city paper: masthead, columns, lead story, the
department's reply set apart, branded error pages, feeds on the real address."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import time_machine
from django.conf.urls.i18n import i18n_patterns
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Page, Site

from cms import urls as cms_urls
from newsroom.models import (
    ArticlePage,
    ColumnPage,
    HomePage,
    HotTrackingPage,
    StatsPage,
    YearIndexPage,
)
from newsroom.services import hot_tracking_column, story_create_for_case
from tests.factories import CategoryFactory, DepartmentFactory, aware, officer
from tracking import services as svc
from tracking.models import Kind
from tracking.services import CitizenData

NOW = aware(2026, 3, 18, 15)
CITIZEN = CitizenData(name="周建国", phone="13812345678", address="幸福小区3号楼401室")
REPLY = "经核查，已安排施划直行标线。已电话告知周建国（13812345678）。"
REPLY_PUBLIC = "经核查，已安排施划直行标线。已电话告知周某（***********）。"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
CSS = Path(__file__).resolve().parents[2] / "cms" / "static" / "cms" / "site.css"


def zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return gettext(msgid)


def publish(page):
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def html_of(response) -> str:
    return response.content.decode()


def columns_nav(html: str) -> str:
    match = re.search(
        r'<nav aria-label="[^"]*" class="columns-nav">(.*?)</nav>', html, re.S
    )
    assert match, "no columns navigation"
    return match.group(1)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def home(db):
    return HomePage.objects.get()


@pytest.fixture
def growers(home):
    """A column that is not the hotline's, with one article."""
    column = ColumnPage(title="果农帮帮团", slug="growers", intro="<p>帮果农。</p>")
    home.add_child(instance=column)
    column = publish(column)
    year = YearIndexPage(title="2026", slug="2026", year=2026)
    column.add_child(instance=year)
    year = publish(year)
    article = ArticlePage(
        title="柿子丰收愁销路", slug="persimmons", standfirst="商会企业帮柿农。"
    )
    year.add_child(instance=article)
    publish(article)
    return ColumnPage.objects.get(pk=column.pk)


@pytest.fixture
def image(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return Image.objects.create(title="路口", file=get_test_image_file())


@pytest.fixture
def story(db, image):
    """A published Hot Tracking story with an image, whose department replied."""
    desk = officer()
    department = DepartmentFactory(name="市交警支队")
    category = CategoryFactory(default_department=department)
    case = svc.case_register(
        kind=Kind.COMPLAINT,
        title="五湖路口直行车道拥堵",
        description="直行车道排长队。",
        citizen=CITIZEN,
        category=category,
        user=desk,
    )
    svc.case_accept(case=case, user=desk)
    svc.case_dispatch(case=case.pk, user=desk, department=department)
    case.refresh_from_db()
    page = story_create_for_case(case=case)
    page.title = "五湖路口为何久堵不疏"
    page.standfirst = "直行车道排长队，右转车道空着。"
    page.body = json.dumps(
        [
            {"type": "paragraph", "value": "<p>记者来到路口。</p>"},
            {
                "type": "image",
                "value": {
                    "image": image.pk,
                    "alt_text": "周建国在路口，电话13812345678",
                    "decorative": False,
                },
            },
        ]
    )
    page = publish(page)
    svc.case_reply(case=case.pk, user=desk, text=REPLY)
    return HotTrackingPage.objects.get(pk=page.pk)


# --- The masthead -----------------------------------------------------------------


def test_the_masthead_shows_today_the_columns_and_the_statistics_page(client, growers):
    html = html_of(client.get("/"))

    today = zh("%(weekday)s, %(today)s") % {
        "weekday": "星期三",
        "today": "2026年3月18日",
    }
    assert f'<time datetime="2026-03-18">{today}</time>' in html
    nav = columns_nav(html)
    stats = StatsPage.objects.get()
    titles = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    assert titles == [
        (hot_tracking_column().url, hot_tracking_column().title),
        (growers.url, "果农帮帮团"),
        (stats.url, stats.title),
    ]


def test_the_masthead_in_english_links_the_english_pages(client, growers):
    html = html_of(client.get("/en/"))

    assert '<time datetime="2026-03-18">Wednesday, March 18, 2026</time>' in html
    assert '<a href="/en/growers/">果农帮帮团</a>' in columns_nav(html)


def test_a_page_of_a_column_marks_its_column_in_the_masthead(client, growers):
    html = html_of(client.get(growers.url))

    assert f'<a href="{growers.url}" aria-current="page">果农帮帮团</a>' in html
    article = ArticlePage.objects.get(slug="persimmons")
    html = html_of(client.get(article.url))
    assert f'<a href="{growers.url}" aria-current="true">果农帮帮团</a>' in html


def test_every_public_page_has_one_title_and_the_home_page_names_the_paper_once(
    client, story, growers
):
    stats = StatsPage.objects.get()
    urls = ["/", "/en/", growers.url, story.url, stats.url, "/search/?q=路口"]
    titles = {}
    for url in urls:
        html = html_of(client.get(url))
        assert html.count("<title") == 1, url
        titles[url] = re.search(r"<title>(.*?)</title>", html, re.S).group(1)

    assert titles["/"] == titles["/en/"] == "8890 News+"
    assert titles[story.url] == "五湖路口为何久堵不疏 · 8890 News+"
    assert titles[growers.url] == "果农帮帮团 · 8890 News+"


def test_a_new_column_and_a_renamed_one_show_in_the_masthead_of_cached_pages(
    client, story, django_capture_on_commit_callbacks
):
    """No cache.clear(): publishing the column must make the cached pages stale."""
    home = HomePage.objects.get()
    assert client.get(story.url)["X-Page-Cache"] == "miss"
    assert client.get(story.url)["X-Page-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        column = ColumnPage(title="社区月月进", slug="community")
        home.add_child(instance=column)
        publish(column)
    response = client.get(story.url)
    assert response["X-Page-Cache"] == "miss"
    assert '<a href="/community/">社区月月进</a>' in columns_nav(html_of(response))
    assert client.get(story.url)["X-Page-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        column = ColumnPage.objects.get(pk=column.pk)
        column.title = "社区行"
        publish(column)
    nav = columns_nav(html_of(client.get(story.url)))
    assert '<a href="/community/">社区行</a>' in nav
    assert "社区月月进" not in nav

    with django_capture_on_commit_callbacks(execute=True):
        Page.objects.get(pk=column.pk).unpublish()
    assert "/community/" not in columns_nav(html_of(client.get(story.url)))


# --- The front page ---------------------------------------------------------------


def test_the_lead_story_comes_first_with_its_image_and_a_redacted_alt_text(
    client, story
):
    html = html_of(client.get("/"))

    lead = re.search(r'<div class="lead">(.*?)</div></li>', html, re.S).group(1)
    assert "五湖路口为何久堵不疏" in lead
    img = re.search(r"<img [^>]*>", lead).group(0)
    assert 'alt="周某在路口，电话***********"' in img
    assert "13812345678" not in html and "周建国" not in html
    # The live figures are still there, below the stories.
    assert html.index('<div class="lead">') < html.index('id="figures"')
    assert 'class="facts"' in html[html.index('id="figures"') :]


# --- A story ----------------------------------------------------------------------


def test_a_story_sets_the_reply_apart_with_its_date_byline_reference_and_way_back(
    client, story
):
    html = html_of(client.get(story.url))

    reply = re.search(
        r'<blockquote class="reply-quote">(.*?)</blockquote>', html, re.S
    ).group(1)
    assert REPLY_PUBLIC in reply
    assert '<time datetime="2026-03-18T15:' in reply
    assert "2026-03-18" in reply and "市交警支队" in reply
    assert "13812345678" not in html and "周建国" not in html

    assert f'<span class="byline-name">{zh("By our reporters")}</span>' in html
    case_ref = zh("Case %(reference)s") % {"reference": story.case.reference}
    assert f'<span class="case-ref">{case_ref}</span>' in html
    column = hot_tracking_column()
    back = zh("Back to %(column)s") % {"column": column.title}
    assert f'<p class="back-link no-print"><a href="{column.url}">{back}</a>' in html


def test_a_story_without_a_reply_has_no_reply_block(client, story):
    other = story_create_for_case(
        case=svc.case_register(
            kind=Kind.COMPLAINT,
            title="路灯不亮",
            description="路灯坏了。",
            citizen=CitizenData(name="李四", phone="13900001111"),
            category=CategoryFactory(),
            user=officer(),
        )
    )
    other = publish(other)

    assert "reply-quote" not in html_of(client.get(other.url))


# --- Columns ----------------------------------------------------------------------


def test_only_the_hotline_column_has_status_and_department_filters(
    client, story, growers
):
    hot = html_of(client.get(hot_tracking_column().url))
    other = html_of(client.get(growers.url))

    assert 'name="status"' in hot and 'name="department"' in hot
    assert 'name="status"' not in other and 'name="department"' not in other
    assert 'name="year"' in other
    assert "柿子丰收愁销路" in other
    # A status or department in the growers' address is not a filter there.
    response = client.get(f"{growers.url}?status=tracking&department=1&year=2026")
    assert response.status_code == 302
    assert response["Location"] == f"{growers.url}?year=2026"


# --- Error pages ------------------------------------------------------------------


def test_a_missing_page_is_the_papers_own_404_in_the_language_of_its_address(
    client, growers
):
    zh_page = client.get("/no-such-page/")
    en_page = client.get("/en/no-such-page/")

    assert zh_page.status_code == en_page.status_code == 404
    zh_html, en_html = html_of(zh_page), html_of(en_page)
    assert '<html lang="zh-hans">' in zh_html
    assert f"<h1>{zh('Page not found')}</h1>" in zh_html
    assert zh_html.count("<title") == 1
    assert '<a href="/growers/">果农帮帮团</a>' in columns_nav(zh_html)
    assert '<html lang="en">' in en_html
    assert "<h1>Page not found</h1>" in en_html
    assert '<a href="/en/growers/">果农帮帮团</a>' in columns_nav(en_html)


def test_the_404_page_is_shown_without_its_columns_when_the_database_fails(
    client, growers, monkeypatch
):
    from django.db import OperationalError

    from newsroom import views

    def down(request):
        raise OperationalError("the database went away")

    monkeypatch.setattr(views.sites, "navigation", down)
    response = views.page_not_found(RequestFactory().get("/no-such-page/"))

    assert response.status_code == 404
    assert f"<h1>{zh('Page not found')}</h1>" in response.content.decode()


def boom(request):
    raise RuntimeError("a bug")


# The project's URLs with a view that fails (in both languages).
urlpatterns = [
    *i18n_patterns(path("boom/", boom), prefix_default_language=False),
    *cms_urls.urlpatterns,
]
handler404 = cms_urls.handler404
handler500 = cms_urls.handler500


@pytest.fixture
def failing_site(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


@pytest.mark.django_db
def test_an_error_is_the_papers_own_500_in_the_language_of_its_address(failing_site):
    zh_page = failing_site.get("/boom/")
    en_page = failing_site.get("/en/boom/")

    assert zh_page.status_code == en_page.status_code == 500
    zh_html, en_html = html_of(zh_page), html_of(en_page)
    assert '<html lang="zh-hans">' in zh_html
    assert f"<h1>{zh('Something went wrong')}</h1>" in zh_html
    assert 'class="brand">8890 News+</a>' in zh_html
    assert '<html lang="en">' in en_html
    assert "<h1>Something went wrong</h1>" in en_html
    assert "a bug" not in zh_html + en_html


def test_the_500_page_renders_when_the_database_is_down(failing_site):
    """No database access is allowed in this test: every request fails early (the
    page cache looks up the site), and the error page must still render."""
    for url, language, heading in (
        ("/", "zh-hans", zh("Something went wrong")),
        ("/en/hot-tracking/", "en", "Something went wrong"),
    ):
        response = failing_site.get(url)
        assert response.status_code == 500, url
        html = html_of(response)
        assert f'<html lang="{language}">' in html
        assert f"<h1>{heading}</h1>" in html


# --- Addresses read outside the site ----------------------------------------------


def feed_links(client, column) -> list[str]:
    channel = ET.fromstring(client.get(f"{column.url}feed/rss/").content).find(
        "channel"
    )
    return [channel.findtext("link")] + [
        item.findtext("link") for item in channel.findall("item")
    ]


def sitemap_locations(client) -> list[str]:
    root = ET.fromstring(client.get("/sitemap.xml").content)
    return [url.findtext(f"{SITEMAP}loc") for url in root.findall(f"{SITEMAP}url")]


def test_feeds_and_the_sitemap_use_the_address_the_run_command_gave_the_site(
    client, story, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("set_site_address", "http://127.0.0.1:8123")
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("127.0.0.1", 8123)

    column = hot_tracking_column()
    links = feed_links(client, column)
    assert links == [
        "http://127.0.0.1:8123/hot-tracking/",
        f"http://127.0.0.1:8123{story.url}",
    ]
    locations = sitemap_locations(client)
    assert "http://127.0.0.1:8123/" in locations
    assert f"http://127.0.0.1:8123{story.url}" in locations
    assert all(loc.startswith("http://127.0.0.1:8123/") for loc in locations)


def test_feeds_and_the_sitemap_use_the_public_address_setting(client, settings, story):
    settings.NEWSPLUS_PUBLIC_URL = "https://news.example.cn"

    column = hot_tracking_column()
    rss = client.get(f"{column.url}feed/rss/").content.decode()
    assert f"<link>https://news.example.cn{story.url}</link>" in rss
    assert 'href="https://news.example.cn/hot-tracking/feed/rss/"' in rss
    atom = client.get(f"{column.url}feed/atom/").content.decode()
    assert f'href="https://news.example.cn{story.url}"' in atom
    locations = sitemap_locations(client)
    assert "https://news.example.cn/" in locations
    assert all(loc.startswith("https://news.example.cn/") for loc in locations)
    assert "localhost" not in rss + atom


@pytest.mark.django_db
@pytest.mark.parametrize(
    "address", ["127.0.0.1:8000", "ftp://host/", "https://host:8443", "http://:80"]
)
def test_the_site_address_command_refuses_what_is_not_an_address(address):
    with pytest.raises(CommandError):
        call_command("set_site_address", address)


# --- Type ------------------------------------------------------------------------


def test_text_is_justified_only_in_chinese():
    css = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    for rule in re.findall(r"([^{}]*)\{([^}]*)\}", css):
        selectors, body = rule
        if re.search(r"text-align:\s*justify", body):
            assert all(":lang(zh)" in s for s in selectors.split(",") if s.strip()), (
                selectors
            )


def test_the_citizens_forms_show_the_masthead_with_the_context_processor(
    client, settings, growers
):
    """newsroom.sites.navigation_context, once in TEMPLATES' context processors."""
    engine = settings.TEMPLATES[0]
    processors = [*engine["OPTIONS"]["context_processors"]]
    if "newsroom.sites.navigation_context" not in processors:
        processors.append("newsroom.sites.navigation_context")
    settings.TEMPLATES = [
        {**engine, "OPTIONS": {**engine["OPTIONS"], "context_processors": processors}}
    ]

    html = html_of(client.get("/report/"))

    assert '<a href="/growers/">果农帮帮团</a>' in columns_nav(html)
