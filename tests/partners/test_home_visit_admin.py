"""The home-visit screens (入户回访) of the admin: a supervisor draws a campaign
(the seed shown, the draw repeatable), plans and records its visits (the case's
callback written), sees its figures on the campaign page and in the listing
(equal to hand counts, in a fixed number of queries) and the suggestions of
every campaign by partner; nobody else gets in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    UserFactory,
    aware,
    liaison,
    officer,
    staff,
    supervisor,
)
from tracking import roles
from tracking.models import Callback, CallbackMethod
from tracking.partners import permissions, services
from tracking.partners.models import (
    HomeVisit,
    HomeVisitSample,
    PartnerAccount,
    VisitOutcome,
)

from .factories import PartnerFactory, ServiceOrderFactory, help_case
from .test_admin import client_for, soup

pytestmark = pytest.mark.django_db

URL = "/admin/partners/home-visits/"
SUGGESTIONS_URL = "/admin/partners/visit-suggestions/"


def served(day: int, *, partner=None, **case_kwargs):
    start = aware(2026, 7, day, 9)
    return ServiceOrderFactory(
        case=help_case(citizen=CitizenFactory(), **case_kwargs),
        partner=partner or PartnerFactory(),
        appointment_start=start,
        appointment_end=start + timedelta(hours=2),
        done=True,
    )


def draw_form(**overrides):
    data = {
        "period_start": "2026-07-01",
        "period_end": "2026-07-31",
        "size": "5",
        "seed": "8890",
        "recent_days": "180",
    }
    data.update(overrides)
    return data


def drawn_citizens(sample) -> list[int]:
    return list(sample.visits.order_by("position").values_list("citizen_id", flat=True))


def test_a_supervisor_draws_a_campaign_and_the_same_seed_draws_it_again():
    for day in range(1, 16):
        served(day)
    client = client_for(supervisor())

    response = client.post(f"{URL}new/", draw_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    first = HomeVisitSample.objects.get()
    assert first.seed == 8890 and first.visits.count() == 5
    page = client.get(response["Location"])
    assert soup(page).select_one("[data-seed]").get_text(strip=True) == "8890"

    citizens = drawn_citizens(first)
    first.delete()  # the same data again: the same seed draws the same households
    client.post(f"{URL}new/", draw_form())
    assert drawn_citizens(HomeVisitSample.objects.get()) == citizens
    HomeVisitSample.objects.all().delete()
    client.post(f"{URL}new/", draw_form(seed="12345"))
    assert drawn_citizens(HomeVisitSample.objects.get()) != citizens


def test_a_draw_without_a_seed_gets_one_and_shows_it():
    served(3)
    client = client_for(supervisor())
    response = client.post(f"{URL}new/", draw_form(seed=""))
    assert response.status_code == 302
    sample = HomeVisitSample.objects.get()
    page = client.get(response["Location"])
    assert soup(page).select_one("[data-seed]").get_text(strip=True) == str(sample.seed)


@pytest.mark.parametrize(
    "bad",
    [
        {"period_end": "2026-06-01"},
        {"size": "0"},
        {"size": "abc"},
        {"recent_days": "-3"},
        {"seed": "99999999999999999999999"},
        {"period_start": "not a day"},
    ],
)
def test_a_bad_draw_is_refused_with_a_message_and_draws_nothing(bad):
    served(3)
    response = client_for(supervisor()).post(f"{URL}new/", draw_form(**bad))
    assert response.status_code == 400
    assert soup(response).select(".error-message, .help-critical, [role=alert]")
    assert not HomeVisitSample.objects.exists()


def test_the_exclusions_hold_on_the_admin_draw():
    recent = served(4)
    served(5)
    client = client_for(supervisor())
    client.post(f"{URL}new/", draw_form(size="1", seed="1"))
    first = HomeVisitSample.objects.get()
    # Drawn just now: left out of the next draw, unless the exclusion is 0 days.
    client.post(f"{URL}new/", draw_form(size="5", seed="1"))
    second = HomeVisitSample.objects.exclude(pk=first.pk).get()
    assert set(drawn_citizens(first)).isdisjoint(drawn_citizens(second))
    client.post(f"{URL}new/", draw_form(size="5", seed="1", recent_days="0"))
    third = HomeVisitSample.objects.order_by("-pk").first()
    assert recent.case.citizen_id in drawn_citizens(third)
    assert len(drawn_citizens(third)) == 2


def visit_post(client, visit, **data):
    return client.post(f"{URL}visits/{visit.pk}/", data)


def test_a_supervisor_plans_and_records_a_visit_and_the_case_gets_its_callback():
    order = served(10, state="replied")
    sample = services.home_visit_sample_draw(
        period_start=date(2026, 7, 1),
        period_end=date(2026, 7, 31),
        size=3,
        seed=1,
        user=supervisor(),
    )
    visit = sample.visits.get()
    client = client_for(supervisor())

    response = visit_post(
        client,
        visit,
        action="plan",
        day="2026-08-05",
        time="10:00",
        invite_partner="on",
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.planned_at == aware(2026, 8, 5, 10) and visit.invite_partner

    response = visit_post(client, visit, action="record", outcome="done")
    assert response.status_code == 400  # no verdict given
    assert not Callback.objects.exists()

    response = visit_post(
        client,
        visit,
        action="record",
        outcome="done",
        satisfied="no",
        suggestions="材料价格应提前告知",
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.outcome == VisitOutcome.DONE and visit.satisfied is False
    callback = Callback.objects.get(case=order.case)
    assert callback.method == CallbackMethod.HOME_VISIT
    assert callback.outcome == "dissatisfied"
    # Recorded once: a second post is refused, with no second callback.
    response = visit_post(
        client, visit, action="record", outcome="done", satisfied="yes"
    )
    assert response.status_code in (302, 400)
    assert Callback.objects.count() == 1
    assert HomeVisit.objects.get().satisfied is False
    assert visit_post(client, visit, action="nonsense").status_code == 302


def campaign_with_known_figures():
    """Ten households: 6 planned; 5 visited (3 satisfied, 2 not; 2 with
    suggestions), 2 nobody reached, 1 declined, 2 not yet."""
    partner = PartnerFactory(name="应师傅防水")
    for day in range(1, 11):
        served(day, partner=partner)
    sample = services.home_visit_sample_draw(
        period_start=date(2026, 7, 1),
        period_end=date(2026, 7, 31),
        size=10,
        seed=3,
        user=supervisor(),
    )
    visits = list(sample.visits.order_by("position"))
    user = supervisor()
    for visit in visits[:6]:
        services.home_visit_plan(
            visit=visit,
            planned_at=aware(2026, 8, 3, 2),
            invite_partner=False,
            user=user,
        )
    for visit, satisfied, suggestions in zip(
        visits[:5],
        (True, True, True, False, False),
        ("", "上门前先打电话", "", "价格提前告知", ""),
        strict=True,
    ):
        services.home_visit_record(
            visit=visit,
            outcome="done",
            satisfied=satisfied,
            suggestions=suggestions,
            user=user,
        )
    for visit in visits[5:7]:
        services.home_visit_record(visit=visit, outcome="unreachable", user=user)
    services.home_visit_record(visit=visits[7], outcome="declined", user=user)
    return sample, partner


def test_the_figures_equal_hand_counts_on_the_campaign_page_and_in_the_listing():
    sample, _ = campaign_with_known_figures()
    figures = HomeVisitSample.objects.with_figures().get(pk=sample.pk)
    assert (
        figures.visits_count,
        figures.planned_count,
        figures.done_count,
        figures.unreachable_count,
        figures.declined_count,
        figures.satisfied_count,
        figures.suggestions_count,
    ) == (10, 6, 5, 2, 1, 3, 2)

    client = client_for(supervisor())
    page = soup(client.get(f"{URL}{sample.pk}/"))

    def figure(name):
        return page.select_one(f'[data-figure="{name}"]').get_text(" ", strip=True)

    assert figure("visits") == "10" and figure("planned") == "6"
    assert figure("unreachable") == "2" and figure("declined") == "1"
    assert figure("suggestions") == "2"
    assert "60% (3 of 5)" in figure("satisfied")
    assert "10" in figure("satisfied")  # with the sample size
    assert len(page.select("[data-campaign-visits] tbody tr")) == 10

    row = soup(client.get(URL)).select_one("table.listing tbody tr").get_text(" ")
    assert "60% (3 of 5)" in row and "50% (5 of 10)" in row


def test_the_listing_and_the_campaign_page_take_a_fixed_number_of_queries():
    campaign_with_known_figures()
    client = client_for(supervisor())
    client.get(URL)  # warm the session and the permission caches

    def queries(url) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    sample = HomeVisitSample.objects.get()
    few_listing, few_page = queries(URL), queries(f"{URL}{sample.pk}/")
    for day in range(11, 20):
        served(day)
    for seed in range(3):
        services.home_visit_sample_draw(
            period_start=date(2026, 7, 1),
            period_end=date(2026, 7, 31),
            size=3,
            seed=seed,
            recent_days=0,
            user=supervisor(),
        )
    bigger = HomeVisitSample.objects.order_by("-pk").first()
    assert queries(URL) == few_listing
    assert queries(f"{URL}{bigger.pk}/") == few_page


def test_the_suggestions_list_has_every_campaigns_and_filters_by_partner():
    _, partner = campaign_with_known_figures()
    other = PartnerFactory(name="别家维修")
    order = served(20, partner=other)
    sample = services.home_visit_sample_draw(
        period_start=date(2026, 7, 1),
        period_end=date(2026, 7, 31),
        size=1,
        seed=1,
        user=supervisor(),
    )
    (visit,) = sample.visits.all()
    assert visit.order == order
    services.home_visit_record(
        visit=visit,
        outcome="done",
        satisfied=True,
        suggestions="希望多来社区",
        user=supervisor(),
    )
    client = client_for(supervisor())

    text = client.get(SUGGESTIONS_URL).content.decode()
    for suggestion in ("上门前先打电话", "价格提前告知", "希望多来社区"):
        assert suggestion in text
    mine = client.get(SUGGESTIONS_URL, {"partner": partner.pk}).content.decode()
    assert "价格提前告知" in mine and "希望多来社区" not in mine
    theirs = client.get(SUGGESTIONS_URL, {"partner": other.pk}).content.decode()
    assert "希望多来社区" in theirs and "价格提前告知" not in theirs


@pytest.fixture
def partner_account():
    group, _ = Group.objects.get_or_create(name="Partners")
    for app_label, codename in permissions.PARTNER:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    user = UserFactory()
    user.groups.add(group)
    PartnerAccount.objects.create(user=user, partner=PartnerFactory(name="自家"))
    return type(user).objects.get(pk=user.pk)


def test_only_supervisors_get_in_and_see_the_menu_item(partner_account):
    sample, _ = campaign_with_known_figures()
    visit = sample.visits.filter(outcome="").first()
    urls = [
        URL,
        f"{URL}new/",
        f"{URL}{sample.pk}/",
        f"{URL}visits/{visit.pk}/",
        SUGGESTIONS_URL,
    ]
    for user in (
        officer(),
        liaison(DepartmentFactory()),
        staff(roles.EDITORS),
        staff(roles.CHIEF_EDITORS),
        partner_account,
    ):
        client = client_for(user)
        for url in urls:
            assert client.get(url).status_code in (302, 403), (user, url)
        assert client.post(f"{URL}new/", draw_form()).status_code in (302, 403)
        response = visit_post(
            client, visit, action="record", outcome="done", satisfied="yes"
        )
        assert response.status_code in (302, 403)
        home = client.get("/admin/")
        if home.status_code == 200:
            assert URL not in home.content.decode()
            assert SUGGESTIONS_URL not in home.content.decode()
    assert HomeVisitSample.objects.count() == 1
    assert HomeVisit.objects.get(pk=visit.pk).outcome == ""

    client = client_for(supervisor())
    assert URL in client.get("/admin/").content.decode()
    for url in urls:
        assert client.get(url).status_code == 200, url
    superuser = client_for(UserFactory(is_superuser=True))
    for url in (*urls, "/admin/partners/follow-ups/"):
        assert superuser.get(url).status_code == 200, url
