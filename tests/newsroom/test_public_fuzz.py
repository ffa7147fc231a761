"""Bad input never gives a server error on the public site.

Every public URL (home, columns, year indexes, stories and their print views,
the statistics page, search, feeds, sitemap, in both languages) is requested
with generated query strings and with made-up path segments; the answer may be
a page, a redirect, a "not found" or a "bad request", never a 5xx. Black box:
only HTTP is looked at.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsroom.models import ColumnPage, HomePage, HotTrackingPage, YearIndexPage
from newsroom.services import hot_tracking_column
from tests.factories import CaseFactory, DepartmentFactory, UserFactory
from tests.public_surfaces import build_public_site, in_both_languages, path

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# What a bad request may get instead of the page.
HARMLESS = {200, 301, 302, 400, 404}

TWENTY_FOUR_DIGITS = "123456789012345678901234"
# Digits of other scripts and forms: some pass str.isdigit() but not int(), some
# int() reads as a number no date lookup can take.
UNICODE_DIGITS = [
    "𝟙",  # MATHEMATICAL BOLD DIGIT ONE: int() reads it as 1
    "𝟚𝟘𝟚𝟞",
    "²",  # SUPERSCRIPT TWO: isdigit(), but int() refuses it
    "¹",
    "①",  # CIRCLED DIGIT ONE: the same
    "⑳",
    "٣",  # ARABIC-INDIC DIGIT THREE
    "٢٠٢٦",
    "۴",  # EXTENDED ARABIC-INDIC DIGIT FOUR
    "१",  # DEVANAGARI DIGIT ONE
    "２０２６",  # full width
    "Ⅻ",
    "一",
]
SPECIAL_VALUES = [
    "",
    "0",
    "1",
    "-1",
    "-2026",
    "00",
    "2026",
    "9999",
    "10000",
    "65535",
    "2147483648",
    "9223372036854775808",
    TWENTY_FOUR_DIGITS,
    "-" + TWENTY_FOUR_DIGITS,
    "1e3",
    "1.5",
    "0x10",
    " ",
    " 2026 ",
    "\t",
    "\n",
    "\x00",
    "2026\x00",
    "\x1b[0m",
    "\x7f",
    "\u200b2026",
    "\ufeff",
    "%",
    "%00",
    "%zz",
    "tracking",
    "replied",
    "resolved",
    "<script>",
    "'\"",
    "../../",
    # The statistics page's periods, good and bad.
    "all",
    "2026-06",
    "2026-00",
    "2026-01-01..2026-03-31",
    "2026-02-30..2026-03-01",
    "2026-03-31..2026-01-01",
    "0001-01-01..9999-12-31",
    "2026-01-01..",
    "..",
]
PARAMETERS = [
    "year",
    "department",
    "status",
    "page",
    "print",
    "q",
    "p",
    "period",
    "start",
    "end",
]


def _digit_strings():
    return st.lists(
        st.sampled_from([*UNICODE_DIGITS, *"0123456789", " ", "-", "+", "."]),
        max_size=26,
    ).map("".join)


VALUES = st.one_of(
    st.sampled_from(SPECIAL_VALUES + UNICODE_DIGITS),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    _digit_strings(),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.text(st.characters(max_codepoint=0x7F), max_size=30),
)
NAMES = st.one_of(
    st.sampled_from(PARAMETERS),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
)
PAIRS = st.lists(st.tuples(NAMES, VALUES), max_size=6)
# Query strings no browser form would send: stray %, invalid UTF-8, empty names.
RAW_QUERIES = st.lists(
    st.sampled_from(
        [
            "year=",
            "year=0",
            "department=%E2%91%A0",
            "&",
            "=",
            "==",
            ";",
            "+",
            "%",
            "%2",
            "%zz",
            "%00",
            "%C0%AF",
            "%FF%FE",
            "%ED%A0%80",  # an encoded surrogate
            "%F0%9D%9F%99",  # 𝟙
            "page=%C2%B2",  # ²
            "print=1",
            "q=%E4%BA%BA%E8%A1%8C%E6%A8%AA%E9%81%93",
            "status[]=x",
            "a" * 300 + "=1",
        ]
    ),
    min_size=1,
    max_size=8,
).map("".join)


def encoded(pairs) -> str:
    """``pairs`` as a query string, every character percent-encoded as UTF-8."""
    return urlencode(pairs, quote_via=quote)


def fetch(visitor, url: str):
    """GET ``url`` as rendered by the view itself: a page cached by an earlier
    example (whose query may reduce to the same key) must not answer for it."""
    cache.clear()
    return visitor.get(url)


def server_error(response, url: str) -> str:
    exc = response.exc_info[1] if getattr(response, "exc_info", None) else None
    return f"GET {url!r} answered {response.status_code}: {exc!r}"


@pytest.fixture
def site(db):
    return build_public_site(UserFactory(is_superuser=True, is_staff=True))


@pytest.fixture
def columns(db):
    """The Hot Tracking column with one live story, and another column: enough for
    the filters, put straight into the page tree (no revisions) to be quick."""
    column = hot_tracking_column()
    year = YearIndexPage(title="2026", slug="2026", year=2026, live=True)
    column.add_child(instance=year)
    department = DepartmentFactory(name="市交通运输局")
    year.add_child(
        instance=HotTrackingPage(
            title="金胜路口行人过街难",
            slug="jinsheng",
            case=CaseFactory(reference="8890-test-a", department=department),
            standfirst="金胜路与胜利大道交叉口没有人行横道。",
            live=True,
            first_published_at=timezone.now(),
        )
    )
    other = ColumnPage(title="三农天地", slug="farming", live=True)
    HomePage.objects.get().add_child(instance=other)
    return column, other


@pytest.fixture
def visitor():
    """A browser: server errors come back as 500 responses, not as exceptions."""
    return Client(raise_request_exception=False)


def test_every_public_url_answers_without_query(site, visitor):
    """The URLs the fuzzing starts from are real pages, not 404s."""
    for url in site.urls():
        response = fetch(visitor, url)
        assert response.status_code == 200, server_error(response, url)
    for story in map(path, site.stories):
        for url in (f"{story}?print=1", f"/en{story}?print=1"):
            assert visitor.get(url).status_code == 200, url


# The year and department filters of a column, and the inputs that broke them.
KNOWN_BAD = [
    "year=0",
    "year=1",
    f"year={quote('𝟙')}",
    f"year={quote('²')}",
    f"year={quote('①')}",
    f"year={TWENTY_FOUR_DIGITS}",
    f"department={TWENTY_FOUR_DIGITS}",
    f"department={quote('①')}",
]


@pytest.mark.parametrize("prefix", ["", "/en"])
@pytest.mark.parametrize("query", KNOWN_BAD)
def test_known_bad_filters_of_the_hot_tracking_column(columns, visitor, prefix, query):
    url = f"{prefix}/hot-tracking/?{query}"
    response = fetch(visitor, url)
    assert response.status_code in HARMLESS, server_error(response, url)


@pytest.mark.parametrize("query", KNOWN_BAD)
def test_known_bad_filters_of_another_column(columns, visitor, query):
    url = f"{path(columns[1])}?{query}"
    response = fetch(visitor, url)
    assert response.status_code in HARMLESS, server_error(response, url)


@FUZZ
@given(data=st.data(), pairs=PAIRS)
def test_no_query_string_gives_a_server_error(site, visitor, data, pairs):
    # Half of the time a column: its filters read the most parameters.
    columns = in_both_languages([path(site.column), path(site.other)])
    base = data.draw(
        st.one_of(st.sampled_from(columns), st.sampled_from(site.urls())), label="url"
    )
    if data.draw(st.booleans(), label="as print view"):
        pairs = [("print", "1"), *pairs]
    url = f"{base}?{encoded(pairs)}"
    response = fetch(visitor, url)
    assert response.status_code < 500, server_error(response, url)


@settings(FUZZ, max_examples=100)
@given(data=st.data(), query=RAW_QUERIES)
def test_no_malformed_query_string_gives_a_server_error(site, visitor, data, query):
    base = data.draw(st.sampled_from(site.urls()), label="url")
    url = f"{base}?{query}"
    response = fetch(visitor, url)
    assert response.status_code < 500, server_error(response, url)


@settings(FUZZ, max_examples=150)
@given(data=st.data(), name=st.sampled_from(["year", "department", "page"]))
def test_no_column_filter_value_gives_a_server_error(site, visitor, data, name):
    """The column filters, pressed harder: one parameter, any number-like value."""
    column = data.draw(st.sampled_from([site.column, site.other]), label="column")
    prefix = data.draw(st.sampled_from(["", "/en"]), label="prefix")
    value = data.draw(st.one_of(_digit_strings(), VALUES), label="value")
    url = f"{prefix}{path(column)}?{encoded([(name, value)])}"
    response = fetch(visitor, url)
    assert response.status_code < 500, server_error(response, url)


SEGMENTS = st.one_of(
    st.sampled_from(
        [
            "feed",
            "rss",
            "atom",
            "feed/rss",
            "feed/xml",
            "2026",
            "0",
            TWENTY_FOUR_DIGITS,
            "..",
            "%2e%2e",
            "%00",
            "%25",
            "%C0%AF",
            "%F0%9D%9F%99",
            "en",
            "search",
            "sitemap.xml",
            "admin",
            "?print=1",
            ";x=1",
            "a" * 300,
        ]
    ),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).map(
        lambda s: quote(s, safe="")
    ),
)


@settings(FUZZ, max_examples=200)
@given(
    data=st.data(),
    segments=st.lists(SEGMENTS, min_size=1, max_size=4),
    slash=st.booleans(),
)
def test_no_made_up_path_gives_a_server_error(site, visitor, data, segments, slash):
    bases = ["", "/en", *(p.rstrip("/") for p in site.urls())]
    base = data.draw(st.sampled_from(bases), label="base")
    url = f"{base}/{'/'.join(segments)}{'/' if slash else ''}"
    response = fetch(visitor, url)
    assert response.status_code in HARMLESS, server_error(response, url)


# The statistics page's period, and the inputs that broke it.
KNOWN_BAD_PERIODS = [
    "period=0001-01-01..0001-12-31",
    "period=9999-01-01..9999-12-31",
    "period=2026-02-29..2026-03-01",
    "period=1970-01-01..1999-12-31",
    "start=0001-01-01&end=0001-01-02",
    "start=2026-01-01&end=",
    f"start={quote('２０２６-01-01')}&end=2026-01-02",
    "period=2026&period=2025",
]


@pytest.mark.parametrize("prefix", ["", "/en"])
@pytest.mark.parametrize("query", KNOWN_BAD_PERIODS)
def test_known_bad_periods_of_the_statistics_page(site, visitor, prefix, query):
    url = f"{prefix}{path(site.stats)}?{query}"
    response = fetch(visitor, url)
    assert response.status_code in HARMLESS, server_error(response, url)


SPANS = st.tuples(
    st.dates(), st.dates(), st.sampled_from(["..", ".", "...", "/", " .. "])
).map(lambda t: f"{t[0].isoformat()}{t[2]}{t[1].isoformat()}")


@settings(FUZZ, max_examples=150)
@given(data=st.data(), name=st.sampled_from(["period", "start", "end"]))
def test_no_statistics_period_gives_a_server_error(site, visitor, data, name):
    """The statistics page's period, pressed harder: spans of any two dates, the
    from–to form's dates, and any other value."""
    prefix = data.draw(st.sampled_from(["", "/en"]), label="prefix")
    value = data.draw(st.one_of(SPANS, st.dates().map(str), VALUES), label="value")
    pairs = [(name, value)]
    if name != "period":
        other = "end" if name == "start" else "start"
        pairs.append((other, data.draw(st.dates().map(str), label=other)))
    url = f"{prefix}{path(site.stats)}?{encoded(pairs)}"
    response = fetch(visitor, url)
    assert response.status_code < 500, server_error(response, url)
