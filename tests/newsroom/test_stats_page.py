"""The public statistics page, the home page's live headline, and the silence of a
department shown on its story: figures made with the real services, read over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import translation
from django.utils.translation import gettext, ngettext

from cms.management.commands._demo_newsroom import load_newsroom
from newsroom import charts
from newsroom.models import HomePage, StatsPage
from newsroom.services import story_create_for_case
from tests.factories import CategoryFactory, DepartmentFactory, UserFactory, aware
from tests.public_surfaces import number_leaks, readable, string_leaks
from tracking import escalation
from tracking import services as svc
from tracking.models import CallbackMethod, CallbackOutcome, CallOutcome, Kind
from tracking.services import CitizenData
from tracking.statistics import periods
from tracking.statistics.figures import Report

pytestmark = pytest.mark.django_db

NOW = aware(2026, 6, 10, 10)  # a Wednesday
CITIZENS = [
    CitizenData(
        name="周建国", phone="13812345678", address="历下区幸福小区3号楼2单元401室"
    ),
    CitizenData(name="李秀英", phone="13987654321", address="槐荫区阳光花园5号楼"),
    CitizenData(name="王志强", phone="15011223344", address="天桥区北园大街88号"),
]
CALLERS = ["13700001111", "13600002222", "13500003333", "13400004444"]


def t(msgid: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(msgid)


def overdue_text(days: int, *, answered: bool = True) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        if answered:
            return ngettext(
                "Overdue by %(days)s working day",
                "Overdue by %(days)s working days",
                days,
            ) % {"days": days}
        return ngettext(
            "Not answered, overdue by %(days)s working day",
            "Not answered, overdue by %(days)s working days",
            days,
        ) % {"days": days}


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def user():
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def stats_page():
    """The statistics page the migration put under the home page."""
    page = StatsPage.objects.get()
    assert page.get_parent().specific_class is HomePage
    return page


def url(page) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return StatsPage.objects.get(pk=page.pk).url


def register(user, citizen, title, at, category):
    return svc.case_register(
        kind=Kind.COMPLAINT,
        is_efficiency=True,
        title=title,
        description=f"{title}。联系人{citizen.name}，电话{citizen.phone}。",
        citizen=citizen,
        category=category,
        user=user,
        now=at,
    ).pk


@pytest.fixture
def hotline(calendar_2026, user, django_capture_on_commit_callbacks):
    """Calls on three days, and cases through the real services: two answered and
    called back (one satisfied, one not), one left overdue by its department."""
    roads = DepartmentFactory(name="市交通运输局")
    water = DepartmentFactory(name="市水务集团")
    category = CategoryFactory(
        name="道路交通", default_department=roads, handling_days=5
    )
    leaks = CategoryFactory(name="供水问题", default_department=water, handling_days=5)
    for day, callers in ((1, CALLERS[:3]), (2, CALLERS[:1]), (3, CALLERS[:2])):
        for n, phone in enumerate(callers):
            svc.call_register(
                user=user,
                caller_phone=phone,
                outcome=CallOutcome.ANSWERED,
                received_at=aware(2026, 6, day, 9, n),
            )
    answered = []
    for n, (citizen, outcome, method) in enumerate(
        [
            (CITIZENS[0], CallbackOutcome.SATISFIED, CallbackMethod.PHONE),
            (CITIZENS[1], CallbackOutcome.DISSATISFIED, CallbackMethod.HOME_VISIT),
        ]
    ):
        at = aware(2026, 5, 11 + n, 9)
        case = register(user, citizen, f"路口拥堵{n}", at, category)
        svc.case_accept(case=case, user=user, now=at + timedelta(minutes=30))
        svc.case_dispatch(
            case=case, user=user, department=roads, now=at + timedelta(hours=1)
        )
        svc.case_acknowledge(case=case, user=user, now=at + timedelta(hours=2))
        svc.case_reply(
            case=case, user=user, text="已整改。", now=at + timedelta(days=2)
        )
        svc.callback_record(
            case=case,
            user=user,
            outcome=outcome,
            method=method,
            now=at + timedelta(days=3),
        )
        if outcome == CallbackOutcome.SATISFIED:
            svc.case_close(case=case, user=user, now=at + timedelta(days=3, hours=1))
        answered.append(case)
    at = aware(2026, 5, 20, 9)  # due at closing time on 27 May
    silent = register(user, CITIZENS[2], "水管漏水无人修", at, leaks)
    svc.case_accept(case=silent, user=user, now=at + timedelta(minutes=30))
    svc.case_dispatch(
        case=silent, user=user, department=water, now=at + timedelta(hours=1)
    )
    return {"roads": roads, "water": water, "answered": answered, "silent": silent}


def get(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response


def html_of(response) -> str:
    return response.content.decode()


def fact(html: str, name: str) -> str:
    found = re.search(
        rf'<li class="fact-{name}"><strong>(.*?)</strong>(.*?)</li>', html, re.S
    )
    assert found, name
    return unescape(found[1]).strip()


def table(html: str, table_id: str) -> list[list[str]]:
    """The cells of each body row of the table ``table_id``, tags stripped."""
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert found, table_id
    body = found[0][found[0].index("<tbody>") :]
    return [
        [
            " ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


# --- the figures ------------------------------------------------------------------


def test_the_headline_on_the_page_is_the_reports(client, hotline, stats_page):
    report = Report(now=NOW)
    headline = report.headline()
    html = html_of(get(client, url(stats_page)))

    assert (headline.calls, headline.busiest_day_calls) == (6, 3)
    assert fact(html, "calls") == "6"
    assert fact(html, "busiest") == "3"
    assert '<time datetime="2026-06-01">2026-06-01</time>' in html
    assert fact(html, "accepted") == str(headline.accepted) == "3"
    assert fact(html, "completed") == str(headline.completed) == "1"


def test_the_year_month_and_daily_tables_are_the_reports(client, hotline, stats_page):
    report = Report(now=NOW)
    html = html_of(get(client, url(stats_page)))

    years = table(html, "years-table")
    assert [row[0] for row in years] == [
        str(h.period.start.year) for h in report.years()
    ]
    assert years[0][1:5] == ["6", "2026-06-01 (3)", "3", "1"]
    months = {row[0]: row[1:] for row in table(html, "months-table")}
    for month, calls, accepted, completed in report.months():
        assert months[month.strftime("%Y-%m")] == [
            str(calls),
            str(accepted),
            str(completed),
        ]
    assert months["2026-05"] == ["0", "3", "1"]
    daily = dict(table(html, "daily-table"))
    assert len(daily) == len(report.daily_calls())
    assert daily["2026-06-03"] == "2"
    assert daily["2026-06-04"] == "0"


def test_department_rates_show_their_sample_and_the_silent_case_is_listed(
    client, hotline, stats_page
):
    with override_settings(STATISTICS_MIN_SAMPLE=2):
        html = html_of(get(client, url(stats_page)))
    rows = {row[0]: row[1:] for row in table(html, "departments-table")}
    roads, water = rows["市交通运输局"], rows["市水务集团"]

    # rank, dispatched, response, resolution, satisfaction, median, returned,
    # overdue now, escalated
    assert roads[0] == "1"
    assert roads[1] == "2"
    sample = t("sample: %(count)s")
    assert roads[2] == f"100.0% {sample % {'count': 2}}"
    assert roads[3] == f"50.0% {sample % {'count': 2}}"
    assert roads[4] == f"50.0% {sample % {'count': 2}}"
    assert roads[5] == "2"  # working days from dispatch to reply, both cases
    assert roads[7] == "0"
    assert water[0] == t("Not ranked: too few cases")
    assert water[7] == "1"
    silence = re.search(r'<table class="figures silence-table">.*?</table>', html, re.S)
    assert "市水务集团" in silence[0]
    assert "供水问题" in silence[0]
    assert overdue_text(9) in unescape(silence[0])  # 28 May – 9 June, 9 days


def test_a_rate_under_the_minimum_sample_reads_too_few_cases(
    client, hotline, stats_page
):
    with override_settings(STATISTICS_MIN_SAMPLE=3):
        below = html_of(get(client, url(stats_page)))
    # Another address of the same figures: the first one is in the page cache
    # (a setting changes with a restart, which the cache does not see).
    with override_settings(STATISTICS_MIN_SAMPLE=2):
        above = html_of(get(client, f"{url(stats_page)}?period=all"))

    assert fact(below, "satisfaction") == t("Too few cases")  # 样本不足
    sample = t("sample: %(count)s") % {"count": 2}
    assert sample in below[below.index('class="fact-satisfaction"') :][:300]
    assert fact(above, "satisfaction") == "50.0%"
    assert sample in above[above.index('class="fact-satisfaction"') :][:300]


def test_a_year_shows_the_figures_of_that_year_only(client, hotline, stats_page):
    html = html_of(get(client, f"{url(stats_page)}?period=2025"))

    assert fact(html, "calls") == "0"
    assert fact(html, "accepted") == "0"
    html = html_of(get(client, f"{url(stats_page)}?period=2026-06"))
    assert fact(html, "calls") == "6"
    assert fact(html, "accepted") == "0"  # accepted in May
    label = periods.month(2026, 6).label()  # "2026年06月" in Chinese
    assert f'aria-current="page">{label}</a>' in html


@pytest.mark.parametrize(
    "value",
    [
        "junk",
        "2026-13",
        "1999",
        "2026-02-30..2026-03-01",
        "2026-03-01..2026-01-01",
        "１２３４",
        "2026\x00",
    ],
)
def test_a_bad_period_is_a_400_with_the_message_on_the_page(client, stats_page, value):
    response = client.get(url(stats_page), {"period": value})

    assert response.status_code == 400
    with translation.override(settings.LANGUAGE_CODE):
        with pytest.raises(periods.PeriodError) as error:
            periods.parse(value)
    html = html_of(response)
    assert f'<p class="form-errors" role="alert">{error.value}</p>' in unescape(html)
    assert 'class="fact-calls"' not in html
    assert response.get("X-Page-Cache") is None


def test_two_periods_at_once_are_a_400(client, stats_page):
    response = client.get(f"{url(stats_page)}?period=2026&period=2025")

    assert response.status_code == 400
    assert t("Give one period.") in unescape(html_of(response))


def test_the_from_to_form_asks_for_its_span(client, hotline, stats_page):
    response = client.get(url(stats_page), {"start": "2026-06-01", "end": "2026-06-02"})

    assert response.status_code == 302
    assert response["Location"].endswith("?period=2026-06-01..2026-06-02")
    html = html_of(client.get(response["Location"]))
    assert fact(html, "calls") == "4"
    bad = client.get(url(stats_page), {"start": "2026-06-02", "end": ""})
    assert bad.status_code == 400
    assert t("Give both dates of the period.") in unescape(html_of(bad))


def test_every_chart_is_an_image_labelled_by_the_caption_of_its_table(
    client, hotline, stats_page
):
    with override_settings(STATISTICS_MIN_SAMPLE=2):
        html = html_of(get(client, url(stats_page)))
    charts_found = re.findall(r"<svg[^>]*>", html)

    assert len(charts_found) == 3  # monthly, daily, ranking
    for svg in charts_found:
        assert 'role="img"' in svg
        caption = re.search(r'aria-labelledby="([\w-]+)"', svg)[1]
        described = re.search(r'aria-describedby="([\w-]+)"', svg)[1]
        assert f'<caption id="{caption}">' in html
        assert f'id="{described}"' in html
        # The table of the same numbers comes after the chart.
        assert html.index(f'<caption id="{caption}">') > html.index(svg)
    assert "<script" not in html
    assert "style=" not in html  # the CSP refuses inline styles
    days = len(Report(now=NOW).daily_calls())  # since launch, up to 90
    assert 31 <= days <= 41  # from the first case (11 May) or its month
    assert html.count("<rect ") == 12 * 2 + days + 1


def test_no_citizen_data_reaches_the_statistics_page(client, hotline, stats_page):
    with override_settings(STATISTICS_MIN_SAMPLE=1):
        pages = [
            get(client, url(stats_page)),
            get(client, f"/en{url(stats_page)}"),
            get(client, "/"),
        ]
    for response in pages:
        text = readable(response.content)
        for citizen in CITIZENS:
            assert string_leaks(text, [citizen.name, citizen.address]) == []
            assert number_leaks(text, citizen.phone) == []
        for phone in CALLERS:
            assert number_leaks(text, phone) == []
        assert "联系人" not in text  # no description text


def test_the_english_page_renders_in_english(client, hotline, stats_page):
    html = html_of(get(client, f"/en{url(stats_page)}"))

    assert '<html lang="en">' in html
    assert f'href="/en{url(stats_page)}?period=2026"' in html
    assert "Too few cases" in html
    assert "Not ranked: too few cases" in html
    assert fact(html, "calls") == "6"


# --- the home page ------------------------------------------------------------------


def test_the_home_page_shows_the_live_headline_and_links_the_page(
    client, hotline, stats_page
):
    headline = Report(now=NOW).headline()
    with override_settings(STATISTICS_MIN_SAMPLE=2):
        html = html_of(get(client, "/"))

    assert fact(html, "calls") == str(headline.calls)
    assert fact(html, "busiest") == "3"
    assert fact(html, "accepted") == "3"
    assert fact(html, "completed") == "1"
    assert fact(html, "satisfaction") == "50.0%"
    assert f'href="{url(stats_page)}"' in html
    assert "780,000+" not in html


def test_the_demo_makes_the_statistics_page_when_it_is_gone(client, user):
    StatsPage.objects.all().delete()
    load_newsroom({"editor": user, "chief": user, "supervisor": user})
    page = StatsPage.objects.get()

    assert page.live and page.get_parent().specific_class is HomePage
    assert f'href="{url(page)}"' in html_of(get(client, "/"))
    get(client, url(page))


# --- caching ------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["stats", "home"])
def test_a_recorded_call_shows_at_once_on_cached_pages(
    client, hotline, stats_page, user, where, django_capture_on_commit_callbacks
):
    path = url(stats_page) if where == "stats" else "/"
    get(client, path)
    assert get(client, path)["X-Page-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        svc.call_register(
            user=user, caller_phone=CALLERS[3], outcome=CallOutcome.DROPPED
        )
    after = get(client, path)

    assert after["X-Page-Cache"] == "miss"
    assert fact(html_of(after), "calls") == "7"


def test_a_transition_shows_at_once_on_the_cached_page(
    client, hotline, stats_page, user, django_capture_on_commit_callbacks
):
    case = register(
        user, CITIZENS[0], "路灯不亮", NOW - timedelta(hours=1), CategoryFactory()
    )
    get(client, url(stats_page))
    assert fact(html_of(get(client, url(stats_page))), "accepted") == "3"

    with django_capture_on_commit_callbacks(execute=True):
        svc.case_accept(case=case, user=user, now=NOW)
    after = get(client, url(stats_page))

    assert after["X-Page-Cache"] == "miss"
    assert fact(html_of(after), "accepted") == "4"


def test_a_period_is_cached_apart_and_junk_is_never_stored(client, hotline, stats_page):
    year = f"{url(stats_page)}?period=2026"
    get(client, year)
    assert get(client, year)["X-Page-Cache"] == "hit"
    padded = f"{url(stats_page)}?period=%202026"
    assert get(client, padded).get("X-Page-Cache") is None
    assert get(client, padded).get("X-Page-Cache") is None
    assert client.get(f"{url(stats_page)}?period=junk").status_code == 400


# --- silence on a story -------------------------------------------------------------

DISPATCHED = aware(2026, 3, 2, 10)  # a Monday: due at closing time on Monday 9 March
BEFORE_CLOSING = aware(2026, 3, 11, 17, 40)  # 10 March has ended: 1 day overdue
AFTER_CLOSING = aware(2026, 3, 11, 18, 5)  # and now 11 March too: 2 days


@pytest.fixture
def silent_story(calendar_2026, user):
    department = DepartmentFactory(name="市城市管理局")
    category = CategoryFactory(
        default_department=department, handling_days=5, escalation_threshold_days=5
    )
    case = register(user, CITIZENS[2], "小区门口占道经营", DISPATCHED, category)
    svc.case_accept(case=case, user=user, now=DISPATCHED)
    svc.case_dispatch(case=case, user=user, department=department, now=DISPATCHED)
    story = story_create_for_case(case=case, user=user, now=DISPATCHED)
    with time_machine.travel(DISPATCHED + timedelta(days=1), tick=False):
        story.save_revision(user=user).publish(user=user)
    return story.__class__.objects.get(pk=story.pk)


def test_a_silent_department_shows_on_its_story_and_the_days_grow_unaided(
    client, silent_story, stats_page
):
    with time_machine.travel(BEFORE_CLOSING, tick=False):
        escalation.scan_overdue(now=BEFORE_CLOSING)
        get(client, silent_story.url)
        story = get(client, silent_story.url)
        get(client, url(stats_page))
        stats = get(client, url(stats_page))
    assert story["X-Page-Cache"] == stats["X-Page-Cache"] == "hit"
    assert f'<p class="silence"><strong>{overdue_text(1, answered=False)}' in (
        html_of(story)
    )
    assert overdue_text(1) in html_of(stats)

    with time_machine.travel(AFTER_CLOSING, tick=False):
        escalation.scan_overdue(now=AFTER_CLOSING)
        story = get(client, silent_story.url)
        stats = get(client, url(stats_page))

    assert story["X-Page-Cache"] == stats["X-Page-Cache"] == "miss"
    assert overdue_text(2, answered=False) in html_of(story)
    assert overdue_text(1, answered=False) not in html_of(story)
    assert overdue_text(2) in html_of(stats)


def test_a_story_whose_department_answered_shows_no_silence(client, silent_story, user):
    with time_machine.travel(BEFORE_CLOSING, tick=False):
        svc.case_reply(
            case=silent_story.case_id, user=user, text="已处理。", now=BEFORE_CLOSING
        )
        html = html_of(get(client, silent_story.url))

    assert 'class="silence"' not in html


# --- chart geometry ----------------------------------------------------------------


def test_nice_ticks_cover_the_largest_value_in_round_steps():
    assert charts.nice_ticks(0) == [0.0, 1.0]
    assert charts.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(100) == [0, 50, 100]
    assert charts.nice_ticks(1809)[-1] >= 1809


def test_vertical_bars_are_in_proportion_and_stand_on_the_axis():
    chart = charts.vertical_bars([(10, 5), (0, 20)], ["05", "06"])
    tallest = max(bar.height for bar in chart.bars)
    heights = [bar.height for bar in chart.bars]

    assert heights[1] == pytest.approx(heights[0] / 2)
    assert heights[2] == 0
    assert heights[3] == tallest
    for bar in chart.bars:
        assert bar.y + bar.height == pytest.approx(chart.bottom)
        assert chart.left <= bar.x and bar.x + bar.width <= chart.right
    assert [bar.series for bar in chart.bars] == [0, 1, 0, 1]
    assert [label.text for label in chart.labels] == ["05", "06"]


def test_horizontal_bars_scale_to_the_maximum_given():
    chart = charts.horizontal_bars([100, 50], ["甲", "乙"], maximum=100)

    full, half = chart.bars
    assert half.width == pytest.approx(full.width / 2)
    assert full.end == pytest.approx(chart.right)
    assert half.y > full.y
