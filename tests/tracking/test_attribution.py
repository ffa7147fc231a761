"""First-time callers and how they heard of 8890 (tracking.statistics.attribution):
the counts equal counts made by hand, on the dashboard, the public page and the
stats API, in a number of queries that does not grow with the calls."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import aware, officer, supervisor
from tests.public_surfaces import digit_runs, number_leaks, readable, string_leaks
from tracking import services as svc
from tracking.models import Call, CallOutcome, HeardOf, Kind
from tracking.partners.models import CommunityVisit
from tracking.statistics import periods
from tracking.statistics.attribution import NOT_ASKED, attribution

pytestmark = pytest.mark.django_db

NOW = aware(2026, 12, 10, 10)
NOVEMBER = periods.month(2026, 11)
OCTOBER = periods.month(2026, 10)
VISIT = HeardOf.COMMUNITY_VISIT
NAME = "王建国"
DASHBOARD = "/admin/tracking/statistics/"
PHONES = {key: f"1390000{n:04d}" for n, key in enumerate("ABCDEFGHI")}


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def visit(day: date, community: str, served: int | None) -> CommunityVisit:
    return CommunityVisit.objects.create(
        date=day,
        community=community,
        district="历下区",
        services="义务维修、家电清洗",
        people_served=served,
    )


def call(desk, key: str, at, heard_of: str = "", heard_of_visit=None) -> Call:
    return svc.call_register(
        user=desk,
        caller_phone=PHONES[key] if key else "",
        outcome=CallOutcome.ANSWERED,
        received_at=at,
        heard_of=heard_of,
        heard_of_visit=heard_of_visit,
    )


def case(desk, key: str, at, *, call=None, heard_of="", heard_of_visit=None):
    return svc.case_register(
        user=desk,
        kind=Kind.HELP,
        title="楼道灯坏了",
        description="三单元楼道灯坏了一个月。",
        citizen=svc.CitizenData(name=NAME, phone=PHONES[key]),
        call=call,
        heard_of=heard_of,
        heard_of_visit=heard_of_visit,
        now=at,
    )


@pytest.fixture
def world(frozen):
    """Contacts whose first-time callers of November are counted by hand:

    - A: first call 3 Nov (visit of 20 Oct), again 10 Nov (newspaper): once, V1;
    - B: first call 15 Oct, again 12 Nov (visit of 8 Nov): October, not November;
    - C: a web case 15 Nov, heard at a visit, day not recorded;
    - D: a call 20 Nov, from a friend;
    - E: a call 21 Nov not asked, its case the same day says the visit of 8 Nov;
    - F: withheld number, says the visit of 8 Nov: not countable;
    - G: called 30 Oct, a case 25 Nov: October;
    - H: first call 2 Dec (visit of 8 Nov): December.
    """
    desk = officer()
    october_visit = visit(date(2026, 10, 20), "阳光花园社区", 1500)
    november_visit = visit(date(2026, 11, 8), "幸福里社区", 2000)
    visit(date(2026, 12, 20), "东风村", None)  # still ahead
    call(desk, "A", aware(2026, 11, 3, 9), VISIT, october_visit)
    call(desk, "A", aware(2026, 11, 10, 9), HeardOf.NEWSPAPER)
    call(desk, "B", aware(2026, 10, 15, 9))
    call(desk, "B", aware(2026, 11, 12, 9), VISIT, november_visit)
    case(desk, "C", aware(2026, 11, 15, 20), heard_of=VISIT)
    call(desk, "D", aware(2026, 11, 20, 9), HeardOf.FRIEND)
    first = call(desk, "E", aware(2026, 11, 21, 9))
    case(
        desk,
        "E",
        aware(2026, 11, 21, 9, 5),
        call=first,
        heard_of=VISIT,
        heard_of_visit=november_visit,
    )
    call(desk, "", aware(2026, 11, 22, 9), VISIT, november_visit)
    call(desk, "G", aware(2026, 10, 30, 9))
    case(desk, "G", aware(2026, 11, 25, 9), heard_of=HeardOf.ONLINE)
    call(desk, "H", aware(2026, 12, 2, 9), VISIT, november_visit)
    return {"october": october_visit, "november": november_visit}


def counts(result) -> dict[str, int]:
    return {row.value: row.first_time_callers for row in result.heard_of}


def test_first_time_callers_of_november_are_the_hand_count(world):
    result = attribution(NOVEMBER)

    # A, C, D and E; not B or G (first contact in October), F (withheld), H.
    assert result.first_time_callers == 4
    assert result.attributed_to_visits == 3  # A, C, E
    assert result.visit_not_recorded == 1  # C
    assert counts(result) == {
        VISIT: 3,
        HeardOf.NEWSPAPER: 0,
        HeardOf.FRIEND: 1,
        HeardOf.BROADCAST: 0,
        HeardOf.ONLINE: 0,
        HeardOf.OTHER: 0,
        NOT_ASKED: 0,
    }
    assert result.asked == 4


def test_each_visit_day_gets_the_callers_who_named_it(world):
    result = attribution(NOVEMBER)

    # The October visit is listed because A named it; the one ahead is not.
    rows = [
        (v.date, v.place, v.people_served, v.first_time_callers) for v in result.visits
    ]
    assert rows == [
        (date(2026, 10, 20), "历下区 阳光花园社区", 1500, 1),
        (date(2026, 11, 8), "历下区 幸福里社区", 2000, 1),
    ]


def test_a_citizen_first_seen_earlier_is_counted_in_that_period_only(world):
    result = attribution(OCTOBER)

    assert result.first_time_callers == 2  # B and G
    assert counts(result)[NOT_ASKED] == 2
    assert result.asked == 0
    # The October visit day is listed, with nobody attributed to it in October.
    assert [(v.date, v.first_time_callers) for v in result.visits] == [
        (date(2026, 10, 20), 0)
    ]


def test_a_repeat_caller_is_a_first_time_caller_once_over_a_long_period(world):
    result = attribution(periods.year(2026))

    # A to H but F: seven numbers, each once, whatever their number of contacts.
    assert result.first_time_callers == 7
    assert result.attributed_to_visits == 4  # A, C, E, and H in December
    visits = {v.date: v.first_time_callers for v in result.visits}
    assert visits == {
        date(2026, 10, 20): 1,
        date(2026, 11, 8): 2,
        date(2026, 12, 20): 0,
    }


def test_a_case_from_a_call_gives_the_call_its_answer(world):
    first = Call.objects.get(caller_phone=PHONES["E"])

    assert first.heard_of == VISIT
    assert first.heard_of_visit == world["november"]


def test_a_case_takes_the_answer_of_its_call(
    frozen, django_capture_on_commit_callbacks
):
    desk = officer()
    day = visit(date(2026, 11, 8), "幸福里社区", 2000)
    first = call(desk, "I", aware(2026, 11, 21, 9), VISIT, day)

    registered = case(desk, "I", aware(2026, 11, 21, 9, 5), call=first)

    assert (registered.heard_of, registered.heard_of_visit) == (VISIT, day)


def test_a_call_and_its_case_at_the_same_instant_count_once(frozen):
    desk = officer()
    at = aware(2026, 11, 5, 9)
    first = call(desk, "A", at, HeardOf.FRIEND)
    case(desk, "A", at, call=first)

    result = attribution(NOVEMBER)

    assert result.first_time_callers == 1
    assert counts(result)[HeardOf.FRIEND] == 1


def test_local_days_bound_the_period(frozen):
    desk = officer()
    # 00:30 on 1 November in Shanghai is still 31 October in UTC.
    call(desk, "A", aware(2026, 11, 1, 0, 30), HeardOf.FRIEND)
    call(desk, "B", aware(2026, 10, 31, 23, 30), HeardOf.FRIEND)

    assert attribution(NOVEMBER).first_time_callers == 1
    assert attribution(OCTOBER).first_time_callers == 1


def test_the_queries_do_not_grow_with_the_calls(world):
    attribution(NOVEMBER)  # warm the cached censor rules
    with CaptureQueriesContext(connection) as few:
        small = attribution(NOVEMBER)
    desk = officer()
    for n in range(30):
        at = aware(2026, 11, 8 + n % 20, 10) + timedelta(minutes=n)
        svc.call_register(
            user=desk,
            caller_phone=f"1370000{n:04d}",
            outcome=CallOutcome.ANSWERED,
            received_at=at,
            heard_of=VISIT,
            heard_of_visit=world["november"],
        )
        visit(date(2026, 11, 1 + n % 28), f"新社区{n}", n)
    with CaptureQueriesContext(connection) as many:
        large = attribution(NOVEMBER)

    assert large.first_time_callers == small.first_time_callers + 30
    assert len(many) == len(few) == 2  # the rollup and the visit days


# --- where it is shown ---------------------------------------------------------------


def stats_page_url() -> str:
    from django.conf import settings
    from django.utils import translation

    from newsroom.models import StatsPage

    with translation.override(settings.LANGUAGE_CODE):
        return StatsPage.objects.get().url


def test_the_public_page_shows_the_aggregate_and_no_person(world, client):
    body = readable(client.get(stats_page_url(), {"period": "2026-11"}).content)

    section = body[body.index("data-first-time-callers") :]
    section = section[: section.index("</section>")]
    assert '<li class="fact-first-time"><strong>4</strong>' in section
    assert '<li class="fact-visits"><strong>3</strong>' in section
    assert (
        '<tr data-visit-day="2026-11-08"><th scope="row"><time datetime="2026-11-08">'
        "2026-11-08</time></th><td>历下区 幸福里社区</td><td>2000</td><td>1</td></tr>"
    ) in section
    assert '<tr data-heard-of="friend">' in section
    assert string_leaks(body, [NAME]) == []
    runs = digit_runs(body)
    assert [
        leak for p in PHONES.values() for leak in number_leaks(body, p, runs=runs)
    ] == []


def test_the_public_page_reads_as_many_queries_with_more_calls(world, client):
    url = stats_page_url()
    client.get(url, {"period": "2026-10"})  # the site's navigation, once a process
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"period": "2026-11"})
    desk = officer()
    for n in range(20):
        svc.call_register(
            user=desk,
            caller_phone=f"1370000{n:04d}",
            outcome=CallOutcome.ANSWERED,
            received_at=aware(2026, 11, 9 + n % 18, 10),
            heard_of=VISIT,
            heard_of_visit=world["november"],
        )
        visit(date(2026, 11, 1 + n), f"新社区{n}", n)
    with CaptureQueriesContext(connection) as many:
        body = client.get(url, {"period": "2026-11-01..2026-11-30"}).content.decode()

    assert '<li class="fact-first-time"><strong>24</strong>' in body
    assert len(many) == len(few)


def test_the_stats_api_gives_the_aggregate_and_no_person(world):
    data = APIClient().get("/api/v1/stats/", {"period": "2026-11"}).json()

    figures = data["first_time_callers"]
    assert figures["first_time_callers"] == 4
    assert figures["attributed_to_visits"] == 3
    assert figures["visits"][1] == {
        "date": "2026-11-08",
        "place": "历下区 幸福里社区",
        "people_served": 2000,
        "first_time_callers": 1,
    }
    body = str(data)
    assert NAME not in body
    assert not any(phone in body for phone in PHONES.values())


def test_the_dashboard_shows_the_figures(world, client):
    client.force_login(supervisor())

    page = client.get(DASHBOARD, {"period": "2026-11"}).content.decode()

    assert 'data-figure="first-time-callers">4<' in page
    assert 'data-figure="first-time-visits">3<' in page
    assert f'data-visit="{world["november"].pk}"' in page


def test_the_dashboard_leaves_them_out_under_a_case_filter(world, client):
    client.force_login(supervisor())

    page = client.get(
        DASHBOARD, {"period": "2026-11", "kind": Kind.HELP}
    ).content.decode()

    assert "data-first-time-not-filtered" in page
    assert 'data-figure="first-time-callers"' not in page
