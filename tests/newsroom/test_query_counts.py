"""Every public page renders in a fixed number of queries, whatever the data.

Each test renders a page on a cache miss (page cache cleared) with little data and
with a lot, asserts the same pinned query count both times, then asserts that the
next request for the same URL is answered from the page cache without any query.
"""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import cycle

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from wagtail.models import Page

from newsroom.models import (
    STORIES_PER_PAGE,
    ArticlePage,
    FollowUpPage,
    HotTrackingPage,
    StatsPage,
    YearIndexPage,
)
from newsroom.services import hot_tracking_column, story_create_for_case
from tests.factories import DepartmentFactory, aware, case_in_state
from tracking.models import (
    Callback,
    CallbackMethod,
    CallbackOutcome,
    CallDay,
    Case,
    CaseDay,
    CaseEvent,
    Citizen,
    DepartmentResponse,
    Kind,
    MediaEffectDay,
    ReplyDays,
)

pytestmark = pytest.mark.django_db

NOW = aware(2026, 6, 10, 10)  # mid-year: every story falls in the same year

# The pinned counts: a cache-miss rendering of each public page. A change here
# must be deliberate; the tests below also prove the count does not depend on
# the amount of data. Each includes one query a running process does not make:
# Wagtail's site root paths, which it keeps in the cache this test clears.
# The home page's live headline reads two rollups (the calls per day, the cases
# per month). Every page shows the masthead's columns and statistics page, read in
# one query (newsroom.sites.navigation, kept per process while the home page and
# the site are unchanged); the home page had read them in two before.
HOME_QUERIES = 11
COLUMN_QUERIES = 15
STORY_QUERIES = 12
FOLLOW_UP_QUERIES = 10
ARTICLE_QUERIES = 7
# The statistics page: one Report (the rollups, open and overdue cases, the
# department names, and the year's working calendar for the days overdue), and
# the first-time callers (one aggregate over the calls, one over the cases, the
# visit days).
STATS_QUERIES = 20

# Case states a column's stories are in: tracking, replied and resolved ones.
STATES = ["supervised", "replied", "closed", "in_progress", "supervised"]
# Public events, repeated to make a long timeline (what a reopened case piles up).
PUBLIC_TIMELINE = [
    ("dispatch", "市城市管理局"),
    ("acknowledge", ""),
    ("reply", "已安排人员现场核查，将于三日内整改完毕。"),
    ("reopen", ""),
]


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=True):
        yield


def assert_fixed_queries(client, url, expected, django_assert_num_queries):
    """GET ``url`` on a cache miss in ``expected`` queries, then from the cache.

    A first request warms what a running process keeps for good (content types);
    clearing the cache then makes the measured request a full cache miss, Wagtail's
    cached site root paths included.
    """
    client.get(url)
    cache.clear()
    # The query log is a bounded deque: after a big set-up it is full, and a
    # count taken as the difference of its lengths would read 0.
    connection.queries_log.clear()
    with django_assert_num_queries(expected, info=url):
        response = client.get(url)
    assert response.status_code == 200, url
    assert response["X-Page-Cache"] == "miss", url
    connection.queries_log.clear()
    with django_assert_num_queries(0, info=f"{url} (cached)"):
        again = client.get(url)
    assert again.status_code == 200, url
    assert again["X-Page-Cache"] == "hit", url
    assert again.content == response.content
    return response.content.decode()


def publish(page):
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def make_story(case, *, now=None) -> HotTrackingPage:
    """A story the way the newsroom makes one: the service's draft, published."""
    story = story_create_for_case(case=case, now=now)
    return publish(story)


def make_child(parent, page):
    parent.add_child(instance=page)
    return publish(page)


def cards(html: str) -> int:
    return html.count('<li class="card">')


def stories_in_bulk(year_index: YearIndexPage, cases, *, newest) -> list[int]:
    """Live stories for ``cases`` under ``year_index``, written in bulk.

    Treebeard's add_child costs ~30 ms a page and a publish ~70 ms more, so a
    thousand stories are written as rows, with the paths, URL paths and
    publication dates that adding and publishing them would have given them.
    The listing reads nothing else (no revision, no search entry).
    """
    content_type = ContentType.objects.get_for_model(HotTrackingPage)
    last = year_index.get_last_child()
    start = last._get_lastpos_in_path() + 1 if last else 1
    pages = []
    for offset, case in enumerate(cases):
        slug = case.reference.lower()
        published = newest - timedelta(minutes=offset)
        pages.append(
            Page(
                title=case.title,
                draft_title=case.title,
                slug=slug,
                content_type=content_type,
                path=Page._get_path(
                    year_index.path, year_index.depth + 1, start + offset
                ),
                depth=year_index.depth + 1,
                numchild=0,
                url_path=f"{year_index.url_path}{slug}/",
                live=True,
                has_unpublished_changes=False,
                first_published_at=published,
                last_published_at=published,
                live_revision=None,
                locale_id=year_index.locale_id,
            )
        )
    pages = Page.objects.bulk_create(pages)
    for page, case in zip(pages, cases, strict=True):
        story = HotTrackingPage(
            page_ptr=page,
            case=case,
            standfirst=case.description,
            body=[("paragraph", f"<p>{case.description}</p>")],
        )
        # raw: only the story's own table; the Page row is written above.
        story.save_base(raw=True, force_insert=True)
    Page.objects.filter(pk=year_index.pk).update(
        numchild=Page.objects.filter(
            path__startswith=year_index.path, depth=year_index.depth + 1
        ).count()
    )
    return [page.pk for page in pages]


def cases_in_bulk(count: int, departments, *, first: int = 1) -> list[Case]:
    states = cycle(STATES)
    depts = cycle(departments)
    now = timezone.now()
    citizens = iter(
        Citizen.objects.bulk_create(
            Citizen(name="张三丰", phone=f"139{n:08d}") for n in range(count)
        )
    )
    return Case.objects.bulk_create(
        Case(
            reference=f"8890-20260101-{n:05d}",
            kind=Kind.COMPLAINT,
            is_efficiency=True,
            title=f"第{n}号诉求：路口拥堵",
            description="早晚高峰直行车道排起长队，右转车道空空荡荡。",
            department=next(depts),
            citizen=next(citizens),
            state=next(states),
            registered_at=now - timedelta(days=40),
            due_at=now - timedelta(days=20),
        )
        for n in range(first, first + count)
    )


class Column:
    """The Hot Tracking column, with stories of several departments and states."""

    def __init__(self):
        self.page = hot_tracking_column()
        self.departments = [DepartmentFactory(), DepartmentFactory()]
        now = timezone.now()
        # Nine stories made and published the way the newsroom does it and an
        # ordinary article: ten items, and a page of the listing holds both kinds.
        for n, state in zip(range(9), cycle(STATES), strict=False):
            case = case_in_state(
                state,
                department=self.departments[n % 2],
                category=None,
                due_at=now - timedelta(days=20),
            )
            self.year_index = make_story(case).get_parent().specific
        self.article = make_child(
            self.year_index,
            ArticlePage(
                title="梨农的好消息", slug="pears", standfirst="梨子卖出去了。"
            ),
        )
        assert self.page.stories().count() == 10

    def grow_to(self, total: int):
        existing = self.page.stories().count()
        cases = cases_in_bulk(total - existing, self.departments)
        ids = stories_in_bulk(
            self.year_index, cases, newest=timezone.now() + timedelta(hours=1)
        )
        assert self.page.stories().count() == total
        self.year_index.refresh_from_db()
        assert self.year_index.numchild == self.year_index.get_children().count()
        assert Page.objects.get(pk=ids[-1]).get_parent().pk == self.year_index.pk

    def urls(self) -> list[str]:
        url = self.page.url
        department = self.departments[1].pk
        return [
            url,
            f"{url}?status=tracking",
            f"{url}?status=replied",
            f"{url}?status=resolved",
            f"{url}?department={department}",
            f"{url}?status=tracking&department={department}",
            f"{url}?year={timezone.localdate().year}",
        ]


def test_home_page_query_count_is_fixed_from_10_to_1000_stories(
    client, django_assert_num_queries
):
    column = Column()
    small = assert_fixed_queries(client, "/", HOME_QUERIES, django_assert_num_queries)
    column.grow_to(1000)
    large = assert_fixed_queries(client, "/", HOME_QUERIES, django_assert_num_queries)

    assert cards(small) == cards(large) == 6
    assert small != large  # the newest stories differ: the data was really read


def test_column_page_query_count_is_fixed_from_10_to_1000_stories(
    client, django_assert_num_queries
):
    column = Column()
    small = {
        url: assert_fixed_queries(
            client, url, COLUMN_QUERIES, django_assert_num_queries
        )
        for url in column.urls()
    }
    column.grow_to(1000)
    large = {
        url: assert_fixed_queries(
            client, url, COLUMN_QUERIES, django_assert_num_queries
        )
        for url in column.urls()
    }

    for url in column.urls():
        assert cards(small[url]) >= 1, url
        assert cards(large[url]) == STORIES_PER_PAGE, url
        assert 'rel="next"' in large[url], url


def timeline(case, size: int):
    """``size`` public events, department responses and callbacks on ``case``."""
    start = timezone.now() - timedelta(days=30)
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=case,
            action=action,
            note=note,
            public=True,
            created_at=start + timedelta(hours=n),
        )
        for n, (action, note) in zip(range(size), cycle(PUBLIC_TIMELINE), strict=False)
    )
    DepartmentResponse.objects.bulk_create(
        DepartmentResponse(
            case=case,
            department=case.department,
            text=f"第{n}次答复：已现场核查。",
            responded_at=start + timedelta(hours=n),
        )
        for n in range(size)
    )
    Callback.objects.bulk_create(
        Callback(
            case=case,
            method=CallbackMethod.MEDIA_JOINT,
            outcome=CallbackOutcome.DISSATISFIED,
            called_at=start + timedelta(hours=n, minutes=30),
        )
        for n in range(size)
    )


def story_with(size: int, *, follow_ups: int):
    case = case_in_state(
        "supervised",
        category=None,
        department=DepartmentFactory(),
        due_at=timezone.now() - timedelta(days=20),
        escalated_at=timezone.now() - timedelta(days=10),
    )
    timeline(case, size)
    story = make_story(case)
    for n in range(follow_ups):
        make_child(
            story,
            FollowUpPage(
                title=f"追踪报道（{n + 1}）",
                slug=f"follow-up-{n + 1}",
                standfirst="部门已回复。",
                body=[("paragraph", "<p>记者再次来到现场。</p>")],
            ),
        )
    return story


def test_story_page_query_count_is_fixed_from_1_to_100_events(
    client, django_assert_num_queries
):
    small = story_with(1, follow_ups=1)
    large = story_with(100, follow_ups=5)

    small_html = assert_fixed_queries(
        client, small.url, STORY_QUERIES, django_assert_num_queries
    )
    large_html = assert_fixed_queries(
        client, large.url, STORY_QUERIES, django_assert_num_queries
    )
    print_html = assert_fixed_queries(
        client, f"{large.url}?print=1", STORY_QUERIES, django_assert_num_queries
    )

    small_items = len(re.findall(r'<li class="timeline-', small_html))
    assert len(re.findall(r'<li class="timeline-', large_html)) > small_items + 90
    assert "print-view" in print_html


def test_follow_up_page_query_count_is_fixed(client, django_assert_num_queries):
    small = story_with(1, follow_ups=1)
    large = story_with(100, follow_ups=5)

    for story in (small, large):
        follow_up = FollowUpPage.objects.child_of(story).live().first()
        html = assert_fixed_queries(
            client, follow_up.url, FOLLOW_UP_QUERIES, django_assert_num_queries
        )
        assert story.title in html


def test_article_page_query_count_is_fixed_from_1_to_40_blocks(
    client, django_assert_num_queries
):
    column = Column()
    short = make_child(
        column.year_index,
        ArticlePage(
            title="梨子滞销",
            slug="pears-unsold",
            standfirst="梨农求助。",
            body=[("paragraph", "<p>今年梨子丰收却卖不出去。</p>")],
        ),
    )
    body = [("paragraph", "<p>梨园村今年丰收。</p>")] * 38 + [
        ("quote", {"text": "梨子都卖出去了。", "attribution": "梨农"}),
        ("paragraph", "<p>感谢热心市民。</p>"),
    ]
    long = make_child(
        column.year_index,
        ArticlePage(
            title="梨子丰收", slug="pear-harvest", standfirst="好消息。", body=body
        ),
    )

    assert_fixed_queries(client, short.url, ARTICLE_QUERIES, django_assert_num_queries)
    html = assert_fixed_queries(
        client, long.url, ARTICLE_QUERIES, django_assert_num_queries
    )
    assert "梨子都卖出去了。" in html


def rollups_in_bulk(departments, *, days: int) -> None:
    """``days`` days of rollup rows for each department (what ``days`` of a busy
    line leave in the tables), written in bulk."""
    today = timezone.localdate()
    CallDay.objects.bulk_create(
        (
            CallDay(day=today - timedelta(days=n), calls=100 + n % 50)
            for n in range(days)
        ),
        ignore_conflicts=True,  # the days already there keep their calls
    )
    CaseDay.objects.bulk_create(
        CaseDay(
            day=today - timedelta(days=n),
            department_id=department.pk,
            category_id=0,
            kind=Kind.COMPLAINT,
            is_efficiency=bool(n % 2),
            registered=20,
            accepted=18,
            dispatched=15,
            acknowledged=14,
            acknowledged_on_time=12,
            replied=13,
            completed=11,
            finished=12,
            callbacks_satisfied=9,
            callbacks_dissatisfied=1,
            callbacks_unreachable=1,
            callbacks_phone=10,
            callbacks_home_visit=1,
        )
        for n in range(days)
        for department in departments
    )
    ReplyDays.objects.bulk_create(
        ReplyDays(
            day=today - timedelta(days=n),
            department_id=department.pk,
            category_id=0,
            kind=Kind.COMPLAINT,
            is_efficiency=False,
            working_days=n % 7,
            replies=13,
        )
        for n in range(days)
        for department in departments
    )
    MediaEffectDay.objects.bulk_create(
        MediaEffectDay(
            day=today - timedelta(days=n),
            department_id=department.pk,
            reported=bool(n % 2),
            response_days=n % 9,
            solved_within_7=bool(n % 3),
            cases=2,
        )
        for n in range(days)
        for department in departments
    )


def test_stats_page_query_count_is_fixed_from_a_week_to_three_years(
    client, django_assert_num_queries
):
    """From a week of figures and a few overdue cases to three years of figures of
    twenty departments and 300 overdue cases: the same queries."""
    page = StatsPage.objects.get()
    departments = [DepartmentFactory(), DepartmentFactory()]
    rollups_in_bulk(departments, days=7)
    cases_in_bulk(5, departments)
    urls = [page.url, f"{page.url}?period=2026", f"{page.url}?period=2026-05"]
    small = {
        url: assert_fixed_queries(client, url, STATS_QUERIES, django_assert_num_queries)
        for url in urls
    }

    more = [DepartmentFactory() for _n in range(18)]
    rollups_in_bulk(more, days=3 * 365)
    cases_in_bulk(300, [*departments, *more], first=6)
    large = {
        url: assert_fixed_queries(client, url, STATS_QUERIES, django_assert_num_queries)
        for url in urls
    }

    for url in urls:
        assert small[url] != large[url], url  # the figures were really read
        # Departments with open overdue cases, each listed.
        assert large[url].count("silence-table") > small[url].count("silence-table")
