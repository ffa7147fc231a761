"""Follow-up work (整改) from home visits: a supervisor turns a citizen's
suggestion into work for the partner who served the order; it is listed on the
partner's admin page and shown to that partner's own account, which marks it
done; no partner sees another's work, verdicts or suggestions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from tests.factories import CitizenFactory, UserFactory, aware, officer, supervisor
from tracking.exceptions import CasePermissionDenied, InvalidInput, TransitionRefused
from tracking.partners import permissions, services
from tracking.partners.models import PartnerAccount, PartnerFollowUp

from .factories import PartnerFactory, ServiceOrderFactory, help_case
from .test_admin import client_for, soup

pytestmark = pytest.mark.django_db

FOLLOW_UPS_URL = "/admin/partners/follow-ups/"
VISITS_URL = "/admin/partners/home-visits/visits/"


def visited(partner, *, day, suggestions="上门前先打电话", satisfied=False):
    start = aware(2026, 7, day, 9)
    order = ServiceOrderFactory(
        case=help_case(citizen=CitizenFactory(), title=f"{partner.name}的单"),
        partner=partner,
        appointment_start=start,
        appointment_end=start + timedelta(hours=2),
        done=True,
    )
    sample = services.home_visit_sample_draw(
        period_start=date(2026, 7, day),
        period_end=date(2026, 7, day),
        size=1,
        seed=day,
        user=supervisor(),
    )
    visit = sample.visits.get()
    assert visit.order == order
    services.home_visit_record(
        visit=visit,
        outcome="done",
        satisfied=satisfied,
        suggestions=suggestions,
        user=supervisor(),
    )
    return visit


@pytest.fixture
def partner_group(db):
    group, _ = Group.objects.get_or_create(name="Partners")
    for app_label, codename in permissions.PARTNER:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


def account_of(partner, group):
    user = UserFactory()
    user.groups.add(group)
    PartnerAccount.objects.create(user=user, partner=partner)
    return type(user).objects.get(pk=user.pk)


def due():
    return timezone.localdate() + timedelta(days=14)


def test_a_supervisor_turns_a_suggestion_into_follow_up_work_for_the_partner():
    partner = PartnerFactory(name="光明开锁换锁")
    visit = visited(partner, day=3, suggestions="师傅迟到了一个小时，希望守时。")
    client = client_for(supervisor())

    page = soup(client.get(f"{VISITS_URL}{visit.pk}/"))
    form = page.select_one('[data-visit-form="follow_up"]')
    assert "希望守时" in form.select_one("textarea[name=task]").get_text()

    response = client.post(
        f"{VISITS_URL}{visit.pk}/",
        {"action": "follow_up", "task": "提前半小时电话告知", "due_on": str(due())},
    )
    assert response.status_code == 302
    follow_up = PartnerFollowUp.objects.get()
    assert follow_up.partner == partner and follow_up.visit == visit
    assert follow_up.order == visit.order and not follow_up.is_done

    edit = client.get(f"/admin/partners/partners/edit/{partner.pk}/")
    listed = soup(edit).select_one("[data-partner-follow-ups]").get_text()
    assert "提前半小时电话告知" in listed


def test_follow_up_work_needs_a_task_a_due_date_ahead_and_a_visit_that_took_place():
    partner = PartnerFactory()
    visit = visited(partner, day=4)
    with pytest.raises(InvalidInput):
        services.follow_up_create(
            visit=visit, task="  ", due_on=due(), user=supervisor()
        )
    with pytest.raises(InvalidInput):
        services.follow_up_create(
            visit=visit,
            task="整改",
            due_on=timezone.localdate() - timedelta(days=1),
            user=supervisor(),
        )
    with pytest.raises(CasePermissionDenied):
        services.follow_up_create(
            visit=visit, task="整改", due_on=due(), user=officer()
        )
    ServiceOrderFactory(
        partner=partner,
        case=help_case(citizen=CitizenFactory()),
        appointment_start=aware(2026, 7, 5, 9),
        appointment_end=aware(2026, 7, 5, 11),
        done=True,
    )
    sample = services.home_visit_sample_draw(
        period_start=date(2026, 7, 5),
        period_end=date(2026, 7, 5),
        size=1,
        seed=1,
        user=supervisor(),
    )
    away = sample.visits.get()
    services.home_visit_record(visit=away, outcome="unreachable", user=supervisor())
    with pytest.raises(TransitionRefused):
        services.follow_up_create(
            visit=away, task="整改", due_on=due(), user=supervisor()
        )
    assert not PartnerFollowUp.objects.exists()
    response = client_for(supervisor()).post(
        f"{VISITS_URL}{visit.pk}/",
        {"action": "follow_up", "task": "整改", "due_on": "not a day"},
    )
    assert response.status_code == 400 and not PartnerFollowUp.objects.exists()


def test_a_partner_sees_and_completes_its_own_follow_up_work_only(partner_group):
    mine, theirs = PartnerFactory(name="自家维修"), PartnerFactory(name="别家维修")
    my_visit = visited(mine, day=6, suggestions="材料价格提前告知")
    their_visit = visited(theirs, day=7, suggestions="别人家的建议")
    my_work = services.follow_up_create(
        visit=my_visit, task="报价单先给居民签字", due_on=due(), user=supervisor()
    )
    their_work = services.follow_up_create(
        visit=their_visit, task="别人家的整改", due_on=due(), user=supervisor()
    )
    user = account_of(mine, partner_group)
    client = client_for(user)

    listing = client.get(FOLLOW_UPS_URL).content.decode()
    assert "报价单先给居民签字" in listing and "别人家的整改" not in listing
    page = client.get(f"{FOLLOW_UPS_URL}{my_work.pk}/")
    assert page.status_code == 200
    assert (
        "材料价格提前告知" in soup(page).select_one("[data-follow-up-suggestions]").text
    )
    assert soup(page).select_one("[data-follow-up-verdict]").get_text(strip=True)
    assert client.get(f"{FOLLOW_UPS_URL}{their_work.pk}/").status_code == 404
    assert (
        client.post(f"{FOLLOW_UPS_URL}{their_work.pk}/", {"note": "做完了"}).status_code
        == 404
    )
    with pytest.raises(CasePermissionDenied):
        services.follow_up_complete(follow_up=their_work, note="做完了", user=user)

    assert (
        client.post(f"{FOLLOW_UPS_URL}{my_work.pk}/", {"note": ""}).status_code == 400
    )
    response = client.post(f"{FOLLOW_UPS_URL}{my_work.pk}/", {"note": "已改用报价单"})
    assert response.status_code == 302
    my_work.refresh_from_db()
    their_work.refresh_from_db()
    assert my_work.is_done and my_work.done_by == user
    assert my_work.done_note == "已改用报价单" and not their_work.is_done
    with pytest.raises(TransitionRefused):
        services.follow_up_complete(follow_up=my_work, note="再做一次", user=user)

    # Its own orders show what the citizens said of them at home visits; the
    # campaigns and the other partner's orders stay closed.
    order_page = client.get(f"/admin/partners/orders/{my_visit.order_id}/")
    assert (
        "材料价格提前告知"
        in soup(order_page).select_one("[data-order-home-visits]").get_text()
    )
    assert (
        client.get(f"/admin/partners/orders/{their_visit.order_id}/").status_code == 404
    )
    assert client.get(f"{VISITS_URL}{my_visit.pk}/").status_code in (302, 403)
    assert client.get("/admin/partners/visit-suggestions/").status_code in (302, 403)


def test_the_supervisors_list_filters_by_partner_and_by_done():
    mine, theirs = PartnerFactory(name="自家维修"), PartnerFactory(name="别家维修")
    done = services.follow_up_create(
        visit=visited(mine, day=8), task="第一件整改", due_on=due(), user=supervisor()
    )
    services.follow_up_complete(follow_up=done, note="已整改", user=supervisor())
    services.follow_up_create(
        visit=visited(theirs, day=9), task="第二件整改", due_on=due(), user=supervisor()
    )
    client = client_for(supervisor())
    everything = client.get(FOLLOW_UPS_URL).content.decode()
    assert "第一件整改" in everything and "第二件整改" in everything
    only_mine = client.get(FOLLOW_UPS_URL, {"partner": mine.pk}).content.decode()
    assert "第一件整改" in only_mine and "第二件整改" not in only_mine
    still_open = client.get(FOLLOW_UPS_URL, {"done": "false"}).content.decode()
    assert "第二件整改" in still_open and "第一件整改" not in still_open
    assert client_for(officer()).get(FOLLOW_UPS_URL).status_code in (302, 403)
