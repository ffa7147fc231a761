"""The public site as black-box acceptance tests see it: data, URLs, leak checks.

Shared by tests/newsroom/test_public_fuzz.py, test_pii_property.py and
test_feed_escaping.py. They make data with the factories and services and look
only at HTTP responses, so they hold while the code behind the pages changes.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation

from newsroom.models import ArticlePage, ColumnPage, HomePage, StatsPage, YearIndexPage
from newsroom.services import hot_tracking_column, story_create_for_case
from tests.factories import CaseFactory, CategoryFactory, DepartmentFactory
from tracking.models import State

# --- Pages ---------------------------------------------------------------------------


def publish(page, user=None):
    """Publish ``page`` as an editor does, and read it back as the site sees it."""
    page.save_revision(user=user).publish(user=user)
    return page.__class__.objects.get(pk=page.pk)


def path(page) -> str:
    """The page's path in the default language (no /en/ prefix)."""
    with translation.override(settings.LANGUAGE_CODE):
        return page.url


def in_both_languages(paths) -> list[str]:
    return [variant for p in paths for variant in (p, f"/en{p}")]


def letters(n: int) -> str:
    """``n`` written with letters only (0 → a, 27 → bb): digit-free slugs and case
    references, so that no page shows a long number the tests did not put there."""
    out = ""
    while True:
        n, rest = divmod(n, 26)
        out = chr(ord("a") + rest) + out
        if n == 0:
            return out
        n -= 1


def hot_tracking_story(*, user, department, state=State.DISPATCHED, n: int, **fields):
    """A case's story, drafted by the newsroom service and published."""
    case = CaseFactory(
        reference=f"8890-test-{letters(n)}",
        state=state,
        department=department,
        category=CategoryFactory(default_department=department),
        **fields,
    )
    return publish(story_create_for_case(case=case, user=user), user)


def other_column(
    home: HomePage | None = None,
) -> tuple[ColumnPage, YearIndexPage, ArticlePage]:
    """A column that is not Hot Tracking, with a year index and one article."""
    home = home or HomePage.objects.order_by("pk").first()
    column = ColumnPage(title="三农天地", slug="farming")
    home.add_child(instance=column)
    column = publish(column)
    year = YearIndexPage(title="2026", slug="2026", year=2026)
    column.add_child(instance=year)
    year = publish(year)
    article = ArticlePage(
        title="春耕时节农资价格平稳",
        slug="spring-ploughing",
        standfirst="记者走访农资市场，化肥价格与去年持平。",
        body=[("paragraph", "<p>多家农资店表示货源充足。</p>")],
    )
    year.add_child(instance=article)
    return column, year, publish(article)


# The citizen's doors (tracking.intake): the web form and the progress lookup.
# Their POSTs are driven by tests/tracking/test_intake_fuzz.py.
# The hotline's own public pages: the web form, the progress lookup, the donations.
HOTLINE_PAGES = ["/report/", "/progress/", "/donations/"]


def look_up_progress(client, reference: str, phone_tail: str, **extra):
    """POST the progress lookup as its form does (the client skips CSRF checks)."""
    return client.post(
        "/progress/", {"reference": reference, "phone_tail": phone_tail}, **extra
    )


@dataclass
class PublicSite:
    column: ColumnPage
    other: ColumnPage
    stories: list
    article: ArticlePage
    year_indexes: list
    departments: list = field(default_factory=list)
    stats: StatsPage | None = None

    def pages(self) -> list[str]:
        """Every public page, without query, in the default language."""
        return [
            "/",
            path(self.column),
            path(self.other),
            *map(path, self.year_indexes),
            *map(path, self.stories),
            path(self.article),
            *([path(self.stats)] if self.stats is not None else []),
            "/search/",
            *HOTLINE_PAGES,
        ]

    def feeds(self) -> list[str]:
        return [
            f"{path(column)}feed/{kind}/"
            for column in (self.column, self.other)
            for kind in ("rss", "atom")
        ]

    def urls(self) -> list[str]:
        """Every public URL, in both languages, and the one sitemap."""
        return [*in_both_languages([*self.pages(), *self.feeds()]), "/sitemap.xml"]


def statistics_page(home: HomePage | None = None) -> StatsPage:
    """The statistics page (a migration makes it; a flushed database has none)."""
    page = StatsPage.objects.first()
    if page is None:
        home = home or HomePage.objects.order_by("pk").first()
        page = StatsPage(title="数据公开", slug="statistics")
        home.add_child(instance=page)
        page = publish(page)
    return page


def build_public_site(user) -> PublicSite:
    """Published stories in two departments and states, a second column and the
    statistics page."""
    roads = DepartmentFactory(name="市交通运输局")
    water = DepartmentFactory(name="市水务集团")
    column = hot_tracking_column()
    stories = [
        hot_tracking_story(
            user=user,
            department=roads,
            n=1,
            title="金胜路口行人过街难",
            description="金胜路与胜利大道交叉口没有人行横道。",
        ),
        hot_tracking_story(
            user=user,
            department=water,
            state=State.REPLIED,
            n=2,
            title="高层住户自来水水压低",
            description="小区高层住户用水困难。",
        ),
        hot_tracking_story(
            user=user,
            department=roads,
            state=State.CLOSED,
            n=3,
            title="五湖路直行车道拥堵",
            description="直行车道排长队，右转车道空着。",
        ),
    ]
    other, other_year, article = other_column()
    hot_year = YearIndexPage.objects.child_of(column).get()
    return PublicSite(
        column=column,
        other=other,
        stories=stories,
        article=article,
        year_indexes=[hot_year, other_year],
        departments=[roads, water],
        stats=statistics_page(),
    )


# --- Reading a response as a person would ---------------------------------------------


def readable(body: bytes | str) -> str:
    """A response body as its reader sees the text: entities decoded (also twice
    encoded ones, as in feeds), full-width forms folded (NFKC: １３９ → 139,
    （ → (, the ideographic space → space)."""
    text = body.decode() if isinstance(body, bytes) else body
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return unicodedata.normalize("NFKC", text)


# What people type between the digits of one number, after NFKC.
SEPARATORS = " \u00a0\\-.()\u2010-\u2015"
# One number as written: digits, with at most two separators between two digits
# (") " in "(0553) 8123"), and an ID number's final X.
DIGIT_RUN = re.compile(rf"[0-9](?:[{SEPARATORS}]{{0,2}}[0-9])*(?:[Xx](?![A-Za-z]))?")
# Fewer consecutive digits than this are what a mask may keep (139****5678 keeps
# 3 and 4); this many of the original digits in one run identify the number.
LEAK_DIGITS = 7


def digits_of(number: str) -> str:
    """The digits of a number as written (and a final X), separators dropped."""
    text = unicodedata.normalize("NFKC", number)
    return "".join(ch for ch in text if ch.isdigit() or ch in "Xx").upper()


def digit_runs(text: str) -> list[str]:
    """Each contiguous number in already :func:`readable` ``text``, as digits."""
    return [digits_of(m.group(0)) for m in DIGIT_RUN.finditer(text)]


def number_leaks(text: str, number: str, *, runs: list[str] | None = None) -> list[str]:
    """The numbers in ``text`` that give ``number`` away: the whole of it, or
    :data:`LEAK_DIGITS` of its digits in a row, in one run. ``text`` is readable."""
    wanted = digits_of(number)
    core = wanted.rstrip("X")
    windows = {core[i : i + LEAK_DIGITS] for i in range(len(core) - LEAK_DIGITS + 1)}
    runs = digit_runs(text) if runs is None else runs
    return [
        run for run in runs if wanted in run or any(window in run for window in windows)
    ]


def string_leaks(text: str, values) -> list[str]:
    """The ``values`` (names, address parts, e-mail addresses) found in readable
    ``text``; letters compared regardless of case."""
    folded = text.casefold()
    return [
        value
        for value in values
        if unicodedata.normalize("NFKC", value).casefold() in folded
    ]
