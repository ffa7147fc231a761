"""Community visit days (社区月月进): the figure refused for a day still ahead,
the column's upcoming and past lists split by the local date, the page cache
invalidated when a visit changes, nothing of a partner's contact or a citizen's
personal data in public, the admin for supervisors only, and the demo's visits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from wagtail.models import Page

from newsroom.models import ColumnPage, HomePage
from tests.factories import DepartmentFactory, aware, liaison, officer, supervisor
from tracking.partners import demo
from tracking.partners.models import CommunityVisit, ServiceTeam

from .factories import PartnerFactory
from .test_admin import client_for

pytestmark = pytest.mark.django_db

# 23:30 UTC on 10 June is 07:30 on 11 June in the hotline's zone (Asia/Shanghai):
# by the local date, a visit on 10 June is past and one on 11 June is today's.
NOW = aware(2026, 6, 11, 7, 30)
TODAY = date(2026, 6, 11)
VISITS_URL = "/admin/partners/community-visits/"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=True):
        yield


def visit(day: date, community: str, *, teams=(), partners=(), **kwargs):
    kwargs.setdefault("services", "义务维修、家电清洗")
    made = CommunityVisit.objects.create(date=day, community=community, **kwargs)
    made.teams.set(teams)
    made.partners.set(partners)
    return made


def path(page) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return Page.objects.get(pk=page.pk).url


def fetch(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response


def section(response) -> BeautifulSoup:
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    found = soup.select_one("section.community-visits")
    assert found is not None, "no community visits section"
    return found


def listed(response, which: str) -> list[str]:
    return [
        li.select_one(".place").get_text(strip=True)
        for li in section(response).select(f"ul.visits.{which} li")
    ]


# --- validation -----------------------------------------------------------------------


def test_people_served_is_refused_for_a_visit_still_ahead():
    ahead = CommunityVisit(
        date=TODAY + timedelta(days=1),
        community="安居苑小区",
        services="义务维修",
        people_served=300,
    )
    with pytest.raises(ValidationError) as error:
        ahead.full_clean()
    assert "people_served" in error.value.message_dict

    ahead.people_served = None
    ahead.full_clean()  # planned without a figure: fine
    # Today, by the local date (the UTC date is still yesterday), it may be entered.
    CommunityVisit(
        date=TODAY, community="安居苑小区", services="义务维修", people_served=300
    ).full_clean()


def test_a_community_made_of_blanks_is_refused():
    blank = CommunityVisit(date=TODAY, community="   ", services="义务维修")
    with pytest.raises(ValidationError) as error:
        blank.full_clean()
    assert "community" in error.value.message_dict


# --- the column -----------------------------------------------------------------------


def test_the_column_lists_upcoming_and_past_visits_split_by_the_local_date(
    client, column
):
    convenience = ServiceTeam.objects.create(name="便民服务队")
    wellbeing = ServiceTeam.objects.create(name="养生服务队")
    visit(
        date(2026, 6, 10),
        "九铃华府小区",
        teams=[convenience],
        people_served=1500,
        summary="空调清洗最受欢迎。",
    )
    visit(date(2026, 5, 7), "龙域天城小区", people_served=1400, summary="讲防水。")
    visit(TODAY, "金色港湾小区", teams=[convenience, wellbeing], services="健康咨询")
    visit(date(2026, 7, 15), "大花园村", district="城区")

    response = fetch(client, path(column))

    assert listed(response, "upcoming") == ["金色港湾小区", "城区 大花园村"]
    assert listed(response, "past") == ["九铃华府小区", "龙域天城小区"]
    block = section(response)
    upcoming = block.select("ul.visits.upcoming li")
    assert "健康咨询" in upcoming[0].get_text()
    assert "便民服务队、养生服务队" in upcoming[0].select_one(".teams").get_text()
    past = block.select("ul.visits.past li")
    assert "空调清洗最受欢迎。" in past[0].select_one(".summary").get_text()
    assert "1500" in past[0].select_one(".served").get_text()
    assert "2900" in block.select_one(".served-total").get_text()
    # Below the intro, above the editors' articles.
    text = response.content.decode()
    marker = 'class="community-visits"'
    assert text.index("走进社区。") < text.index(marker) < text.index('class="cards"')


def test_a_column_not_marked_lists_no_visits(client):
    growers = ColumnPage(title="果农帮帮团", slug="growers")
    HomePage.objects.get().add_child(instance=growers)
    growers.save_revision().publish()
    visit(TODAY, "金色港湾小区")

    response = fetch(client, path(growers))

    assert "金色港湾小区" not in response.content.decode()


def test_a_changed_visit_shows_on_the_cached_column_at_once(
    client, column, django_capture_on_commit_callbacks
):
    planned = visit(date(2026, 6, 1), "锦绣江南小区", people_served=900)
    url = path(column)
    fetch(client, url)
    assert fetch(client, url)["X-Page-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        planned.people_served = 1350
        planned.summary = "养生服务队量血压。"
        planned.save()

    response = fetch(client, url)
    assert response["X-Page-Cache"] != "hit"
    assert "1350" in section(response).get_text()
    assert "养生服务队量血压。" in section(response).get_text()

    # A team added later (the admin's form sets them after the save).
    ahead = visit(TODAY, "金色港湾小区")
    team = ServiceTeam.objects.create(name="便民服务队")
    fetch(client, url)
    assert fetch(client, url)["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        ahead.teams.add(team)
    upcoming = section(fetch(client, url)).select_one("ul.visits.upcoming")
    assert "便民服务队" in upcoming.get_text()

    fetch(client, url)
    with django_capture_on_commit_callbacks(execute=True):
        planned.delete()
    assert "锦绣江南小区" not in fetch(client, url).content.decode()


def test_the_column_shows_no_partner_contact_and_nothing_personal(client, column):
    partner = PartnerFactory(
        name="巧手水电维修", contact_name="李建国", contact_phone="13905320002"
    )
    visit(
        date(2026, 6, 1),
        "香格里拉小区",
        partners=[partner],
        people_served=1200,
        summary="王女士（电话13912345678，身份证110101199003071234）的热水器修好了。",
        services="义务维修，预约请拨13687654321",
    )

    text = fetch(client, path(column)).content.decode()

    assert "香格里拉小区" in text
    for secret in (
        "李建国",
        "13905320002",
        "13912345678",
        "110101199003071234",
        "13687654321",
    ):
        assert secret not in text, secret


def test_the_lists_take_a_fixed_number_of_queries(column, django_assert_num_queries):
    from newsroom.selectors import community_visits

    team = ServiceTeam.objects.create(name="便民服务队")

    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            visits = community_visits([])
        assert visits
        return len(captured)

    visit(TODAY, "金色港湾小区", teams=[team])
    few = queries()
    for n in range(10):
        visit(TODAY - timedelta(days=n + 1), f"小区{n}", teams=[team])
        visit(TODAY + timedelta(days=n + 1), f"村{n}", teams=[team])
    assert queries() == few == 4  # and the past visits' photos


# --- the admin ------------------------------------------------------------------------


def form_data(**overrides):
    data = {
        "date": "2026-06-01",
        "community": "锦绣江南小区",
        "district": "",
        "services": "义务维修、健康咨询",
        "people_served": "1350",
        "summary": "",
        # The photos' inline formset (none here).
        "visit_photos-TOTAL_FORMS": "0",
        "visit_photos-INITIAL_FORMS": "0",
        "visit_photos-MIN_NUM_FORMS": "0",
        "visit_photos-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_a_supervisor_lists_and_adds_visits():
    team = ServiceTeam.objects.create(name="便民服务队")
    partner = PartnerFactory(name="匠心家电维修")
    visit(date(2026, 3, 5), "香格里拉小区", teams=[team])
    client = client_for(supervisor())

    listing = client.get(VISITS_URL)
    assert listing.status_code == 200
    assert "香格里拉小区" in listing.content.decode()

    response = client.post(
        f"{VISITS_URL}new/",
        {**form_data(), "teams": [team.pk], "partners": [partner.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    made = CommunityVisit.objects.get(community="锦绣江南小区")
    assert made.people_served == 1350
    assert list(made.teams.all()) == [team]
    assert list(made.partners.all()) == [partner]


def test_the_admin_refuses_a_figure_for_a_visit_still_ahead():
    client = client_for(supervisor())

    response = client.post(
        f"{VISITS_URL}new/", form_data(date=str(TODAY + timedelta(days=3)))
    )

    assert response.status_code == 200
    assert "still ahead" in response.content.decode()
    assert not CommunityVisit.objects.exists()


def test_an_officer_only_views_and_a_liaison_is_refused():
    planned = visit(TODAY, "金色港湾小区")
    officer_client = client_for(officer())
    assert officer_client.get(VISITS_URL).status_code == 200
    assert officer_client.get(f"{VISITS_URL}new/").status_code in (302, 403)
    assert officer_client.post(f"{VISITS_URL}new/", form_data()).status_code in (
        302,
        403,
    )

    liaison_client = client_for(liaison(DepartmentFactory()))
    for url in (VISITS_URL, f"{VISITS_URL}new/", f"{VISITS_URL}edit/{planned.pk}/"):
        response = liaison_client.get(url)
        assert response.status_code in (302, 403), url
    response = liaison_client.post(f"{VISITS_URL}new/", form_data())
    assert response.status_code in (302, 403)
    assert CommunityVisit.objects.count() == 1


# --- the demo -------------------------------------------------------------------------


def test_the_demo_has_the_articles_seven_visits_and_one_ahead(calendar_2026):
    officer(username="officer")
    demo.load()
    year = timezone.localdate().year
    visits = list(CommunityVisit.objects.order_by("date"))
    seven = [
        (v.date, v.community) for v in visits if v.date.year == year and v.date <= TODAY
    ]
    assert seven == [
        (date(year, 3, 5), "香格里拉小区"),
        (date(year, 4, 9), "锦绣江南小区"),
        (date(year, 5, 7), "龙域天城小区"),
    ]  # frozen on 11 June: the rest are still ahead
    ahead = [v for v in visits if v.date > TODAY]
    assert [v.community for v in ahead] == [
        "九铃华府小区",
        "金色港湾小区",
        "大花园村",
        "安居苑小区",
    ]
    assert all(v.people_served is None and not v.summary for v in ahead)
    assert set(ServiceTeam.objects.values_list("name", flat=True)) == {
        "便民服务队",
        "养生服务队",
    }
    before = CommunityVisit.objects.count()
    demo.load()
    assert CommunityVisit.objects.count() == before


def test_the_demo_at_the_end_of_the_year_serves_10000_and_plans_one_more(
    calendar_2026,
):
    officer(username="officer")
    with time_machine.travel(aware(2026, 12, 3, 10), tick=False):
        demo.load()
        demo.load()  # idempotent
        today = timezone.localdate()
    past = CommunityVisit.objects.filter(date__lte=today)
    assert [(v.date, v.community) for v in past.order_by("date")] == [
        (date(2026, 3, 5), "香格里拉小区"),
        (date(2026, 4, 9), "锦绣江南小区"),
        (date(2026, 5, 7), "龙域天城小区"),
        (date(2026, 6, 18), "九铃华府小区"),
        (date(2026, 7, 15), "金色港湾小区"),
        (date(2026, 8, 14), "大花园村"),
        (date(2026, 10, 29), "安居苑小区"),
    ]
    assert sum(v.people_served for v in past) >= 10000
    assert all(v.teams.count() and v.partners.count() for v in past)
    ahead = CommunityVisit.objects.filter(date__gt=today)
    assert ahead.count() == 1
    assert ahead.get().date == date(2027, 1, 10)
    assert ahead.get().people_served is None
