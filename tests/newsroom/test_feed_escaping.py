"""Markup typed by citizens or editors reaches feed readers as text, not as HTML.

A case's title (which drafts a story's headline and standfirst) and an editor's own
title and standfirst may hold ``<script>``, ``<img onerror>`` or ``<b>``. In the
RSS ``<description>`` and the Atom ``<summary type="html">`` a reader decodes the
XML and then renders the result as HTML, so the text must be escaped twice: once
for HTML, once for XML. Each feed is parsed with feedparser (its sanitizer off,
so it does not hide the bug) and every item is read the way feedparser says it is
meant to be read: HTML must hold no element, and the markup must be visible text.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

import feedparser
import pytest

from newsroom.models import ArticlePage, YearIndexPage
from newsroom.services import hot_tracking_column, story_create_for_case
from tests.factories import CaseFactory, CategoryFactory, DepartmentFactory, UserFactory
from tests.public_surfaces import letters, path, publish
from tracking import services as svc

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
BOLD = "<b>bold</b>"
MARKUP = (SCRIPT, IMG, BOLD)
TYPED = f"市民反映：{SCRIPT}路口拥堵，{IMG}无人处理，{BOLD}。"
FEEDS = [
    f"{prefix}/hot-tracking/feed/{kind}/"
    for prefix in ("", "/en")
    for kind in ("rss", "atom")
]
HTML_TYPES = {"text/html", "application/xhtml+xml"}


class Reading(HTMLParser):
    """What a browser makes of HTML: its elements, and its text by element."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.text_in: dict[str, str] = {}
        self._open: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append(self.get_starttag_text())
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append(self.get_starttag_text())
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data):
        self.text.append(data)
        for tag in set(self._open):
            self.text_in[tag] = self.text_in.get(tag, "") + data

    def injected(self) -> list[str]:
        """The elements the test's markup would make if it were not escaped."""
        found = [f"<{tag} onerror>" for tag, attrs in self.tags if "onerror" in attrs]
        if "alert(1)" in self.text_in.get("script", ""):
            found.append("<script>alert(1)</script>")
        if "bold" in self.text_in.get("b", ""):
            found.append("<b>bold</b>")
        return found


def as_shown(detail) -> tuple[list[str], str]:
    """(elements, visible text) of a feedparser text construct, read as its type
    says: HTML is rendered, plain text is shown as it is."""
    if detail.type in HTML_TYPES:
        reading = Reading(detail.value)
        return reading.elements, "".join(reading.text)
    return [], detail.value


def read_feed(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(
        response.content, sanitize_html=False, resolve_relative_uris=False
    )
    assert not feed.bozo, (url, feed.get("bozo_exception"))
    return feed


@pytest.fixture
def stories(db):
    """Markup everywhere an item's text comes from, in stories and an article."""
    user = UserFactory(is_superuser=True, is_staff=True)
    department = DepartmentFactory(name="市交通运输局")

    def case(n: int, **fields):
        return CaseFactory(
            reference=f"8890-html-{letters(n)}",
            department=department,
            category=CategoryFactory(default_department=department),
            dispatched=True,
            **fields,
        )

    # Drafted by the newsroom service from the case: title and standfirst.
    drafted_case = case(1, title=f"{BOLD}路口拥堵{SCRIPT}{IMG}", description=TYPED)
    svc.case_reply(case=drafted_case.pk, user=user, text=TYPED)
    drafted = publish(story_create_for_case(case=drafted_case, user=user), user)
    # Written by an editor.
    edited = story_create_for_case(case=case(2, title="五湖路口拥堵"), user=user)
    edited.title = f"编辑标题{BOLD}{IMG}"
    edited.standfirst = f"记者调查：{TYPED}"
    edited = publish(edited, user)
    year = YearIndexPage.objects.child_of(hot_tracking_column()).get()
    article = ArticlePage(
        title=f"文章{BOLD}{SCRIPT}", slug="markup", standfirst=f"导语：{TYPED}"
    )
    year.add_child(instance=article)
    return [drafted, edited, publish(article, user)]


def rss_with(description: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>t</title><link>http://localhost/</link><description>d</description>"
        f"<item><title>t</title><link>http://localhost/a/</link>"
        f"<description>{description}</description></item></channel></rss>"
    ).encode()


def test_the_check_tells_markup_sent_as_html_from_markup_sent_as_text():
    """Escaped once (as the XML needs), the markup is HTML to a reader: caught.
    Escaped twice, it is text: passes."""
    once = escape(TYPED)
    twice = escape(escape(TYPED))
    for description, elements, shown in [(once, 3, False), (twice, 0, True)]:
        feed = feedparser.parse(rss_with(description), sanitize_html=False)
        found, text = as_shown(feed.entries[0].summary_detail)
        assert len(found) == elements, found
        assert all(m in text for m in MARKUP) is shown, text
    assert len(Reading(TYPED).injected()) == 3
    assert Reading(escape(TYPED)).injected() == []


def test_the_items_really_carry_the_markup(stories):
    drafted, edited, article = stories
    assert SCRIPT in drafted.standfirst and BOLD in drafted.title
    assert IMG in edited.standfirst and BOLD in edited.title
    assert SCRIPT in article.standfirst


@pytest.mark.parametrize("url", FEEDS)
def test_summaries_show_markup_as_text_and_hold_no_element(client, stories, url):
    feed = read_feed(client, url)
    assert len(feed.entries) == len(stories)
    problems = {}
    for entry in feed.entries:
        detail = entry.summary_detail
        elements, text = as_shown(detail)
        missing = [m for m in MARKUP if m not in text]
        if elements or missing:
            problems[entry.link] = {
                "summary as sent": detail.value,
                "elements": elements,
                "markup not shown as text": missing,
            }
    assert not problems, f"{url}: {problems}"


@pytest.mark.parametrize("url", FEEDS)
def test_titles_show_markup_as_text_and_hold_no_element(client, stories, url):
    feed = read_feed(client, url)
    problems = {}
    for entry in feed.entries:
        detail = entry.title_detail
        elements, text = as_shown(detail)
        if elements or BOLD not in text:
            problems[entry.link] = {
                "title as sent": detail.value,
                "read as": detail.type,
                "elements": elements,
            }
    assert not problems, f"{url}: {problems}"


@pytest.mark.parametrize("url", FEEDS)
def test_the_status_label_is_still_plain_text(client, stories, url):
    """Escaping the summary keeps it readable: the status lead and the words."""
    feed = read_feed(client, url)
    story = next(e for e in feed.entries if e.link.endswith(path(stories[1])))
    _elements, text = as_shown(story.summary_detail)
    assert text.startswith(("【", "[")), text
    assert "记者调查" in text


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_the_story_page_shows_markup_as_text(client, stories, prefix):
    """The same texts on the HTML pages (story, its timeline, the column)."""
    for url in [path(stories[0]), path(stories[1]), "/hot-tracking/"]:
        page = Reading(client.get(prefix + url).content.decode())
        assert not page.injected(), (prefix + url, page.injected())
        assert BOLD in "".join(page.text), prefix + url  # shown as text
