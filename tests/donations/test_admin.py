"""The Donations section of the admin: officers and supervisors list, take and
move offers through the same services; nobody else gets in (403)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from wagtail.users.models import UserProfile

from tests.factories import DepartmentFactory, UserFactory, liaison, officer, staff
from tracking import roles
from tracking.donations.models import DonationOffer, DonationStatus, ItemCategory
from tracking.partners import permissions as partner_permissions
from tracking.partners.models import PartnerAccount
from tracking.views.case import case_url

from .factories import help_request, matched, offer

pytestmark = pytest.mark.django_db

INDEX = "/admin/donations/"
NEW = "/admin/donations/new/"


def client_for(user) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content.decode(), "html.parser")


def detail(made) -> str:
    return f"/admin/donations/{made.pk}/"


def partner_account():
    from django.contrib.auth.models import Group, Permission

    from tests.partners.factories import PartnerFactory

    group, _ = Group.objects.get_or_create(name="Partners")
    for app_label, codename in partner_permissions.PARTNER:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    user = UserFactory()
    user.groups.add(group)
    PartnerAccount.objects.create(user=user, partner=PartnerFactory())
    return type(user).objects.get(pk=user.pk)


def test_the_listing_filters_by_status_and_links_each_offer():
    user = officer()
    waiting = offer(user, item="儿童冬衣")
    given = matched(user, item="多功能护理床")
    client = client_for(user)
    response = client.get(INDEX)
    assert response.status_code == 200
    page = soup(response)
    links = {a["href"] for a in page.select("table.listing tbody a")}
    assert {detail(waiting), detail(given)} <= links
    filtered = soup(client.get(INDEX, {"status": DonationStatus.MATCHED}))
    rows = filtered.select("table.listing tbody tr")
    assert [r.select_one("a")["href"] for r in rows] == [detail(given)]
    searched = soup(client.get(INDEX, {"q": "冬衣"})).select("table.listing tbody tr")
    assert [r.select_one("a")["href"] for r in searched] == [detail(waiting)]


def test_the_menu_shows_donations_to_officers_only():
    assert f'"{INDEX}"' in client_for(officer()).get("/admin/").content.decode()
    department = DepartmentFactory()
    assert INDEX not in client_for(liaison(department)).get("/admin/").content.decode()


def test_an_officer_records_an_offer_with_the_donor_found_by_phone():
    client = client_for(officer())
    response = client.post(
        NEW,
        {
            "donor_phone": "139 0533 0001",
            "donor_name": "梅德华",
            "item": "降压药",
            "category": ItemCategory.PRESCRIPTION_MEDICINE,
            "condition": "new",
            "quantity": "3",
            "unit": "盒",
            "district": "城区",
            "pickup_address": "香格里拉小区5号楼102室",
            "channel": "phone",
        },
    )
    made = DonationOffer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(made)
    assert made.donor.phone == "13905330001" and made.quantity == 3
    page = client.get(detail(made)).content.decode()
    assert "梅德华" in page and "香格里拉小区5号楼102室" in page
    assert 'data-donation-form="confirm"' in page
    assert 'data-donation-form="match"' not in page


def test_a_bad_offer_form_is_answered_400_and_stores_nothing():
    client = client_for(officer())
    response = client.post(
        NEW,
        {
            "donor_phone": "13905330001",
            "item": "护理床",
            "category": "medical_aid",
            "condition": "good",
            "quantity": "1",
            "district": "幸福路18号",
            "channel": "phone",
        },
    )
    assert response.status_code == 400
    assert "shown in public" in response.content.decode()
    assert not DonationOffer.objects.exists()


def test_the_steps_on_the_offer_page_confirm_match_and_hand_over():
    user = officer()
    medicine = offer(user, item="降压药", category=ItemCategory.PRESCRIPTION_MEDICINE)
    case = help_request(title="慢性病常用药负担重")
    client = client_for(user)
    url = detail(medicine)
    refused = client.post(
        url, {"action": "match", "match-case_reference": case.reference}
    )
    assert refused.status_code == 302  # not a step of this offer now: nothing done
    medicine.refresh_from_db()
    assert medicine.status == DonationStatus.OFFERED
    client.post(
        url,
        {"action": "confirm", "confirm-decision": "confirm", "confirm-reason": "核对"},
    )
    page = client.get(url).content.decode()
    assert case.reference in page  # suggested among the open help requests
    client.post(url, {"action": "match", "match-case_reference": case.reference})
    client.post(url, {"action": "hand_over", "hand_over-note": "家属签收"})
    medicine.refresh_from_db()
    assert medicine.status == DonationStatus.HANDED_OVER
    assert medicine.match.case == case
    assert medicine.match.hand_over_note == "家属签收"
    page = client.get(url)
    assert page.status_code == 200
    assert f'href="{case_url(case)}"' in page.content.decode()


def test_a_refused_step_shows_the_reason_of_the_service():
    user = officer()
    bed = offer(user)
    client = client_for(user)
    response = client.post(
        detail(bed), {"action": "match", "match-case_reference": "8890-nope"}
    )
    assert response.status_code == 400
    assert "No case has this reference number." in response.content.decode()
    response = client.post(detail(bed), {"action": "withdraw", "withdraw-reason": ""})
    assert response.status_code == 400
    bed.refresh_from_db()
    assert bed.status == DonationStatus.OFFERED


@pytest.mark.parametrize("who", ["liaison", "editor", "chief", "partner", "plain"])
def test_nobody_else_gets_into_donations(who):
    made = offer(officer())
    user = {
        "liaison": lambda: liaison(DepartmentFactory()),
        "editor": lambda: staff(roles.EDITORS),
        "chief": lambda: staff(roles.CHIEF_EDITORS),
        "partner": partner_account,
        "plain": lambda: staff(roles.EDITORS, is_staff=False),
    }[who]()
    client = client_for(user)
    for url in (INDEX, NEW, detail(made)):
        assert client.get(url).status_code == 403, url
    response = client.post(detail(made), {"action": "withdraw", "withdraw-reason": "x"})
    assert response.status_code == 403
    assert client.post(NEW, {"item": "x"}).status_code == 403
    made.refresh_from_db()
    assert made.status == DonationStatus.OFFERED
    assert DonationOffer.objects.count() == 1


def test_a_step_the_service_refuses_to_the_user_is_a_403_page_with_a_way_back():
    """An officer whose group lost the confirm permission posts the confirm step
    anyway: the service's refusal is a 403 page, not a form error, and nothing
    changes."""
    from django.contrib.auth.models import Permission

    user = officer()
    user.groups.get().permissions.remove(
        Permission.objects.get(
            content_type__app_label="donations", codename="confirm_donationoffer"
        )
    )
    user = type(user).objects.get(pk=user.pk)
    medicine = offer(
        officer(), item="降压药", category=ItemCategory.PRESCRIPTION_MEDICINE
    )

    response = client_for(user).post(
        detail(medicine),
        {"action": "confirm", "confirm-decision": "confirm", "confirm-reason": "核对"},
    )

    assert response.status_code == 403
    assert soup(response).select_one(f'a[href="{detail(medicine)}"]') is not None
    medicine.refresh_from_db()
    assert not hasattr(medicine, "confirmation")
