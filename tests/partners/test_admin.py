"""The Community services section of the admin: partners with their figures
(in a bounded number of queries), the complaint flag and its filter, who may
manage what, and the order pages that call the services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import timezone
from wagtail.users.models import UserProfile

from tests.factories import DepartmentFactory, liaison, officer, staff, supervisor
from tracking import roles
from tracking.partners.models import OrderStatus, Partner, ServiceOrder

from .factories import LineFactory, PartnerFactory, ServiceOrderFactory, help_case

pytestmark = pytest.mark.django_db

PARTNERS_URL = "/admin/partners/partners/"
ORDERS_URL = "/admin/partners/orders/"


def client_for(user) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content.decode(), "html.parser")


def listed_names(response) -> list[str]:
    rows = soup(response).select("table.listing tbody tr")
    return [row.select_one("td a").get_text(" ", strip=True) for row in rows]


def rated(partner, rating, *, days_ago=1):
    order = ServiceOrderFactory(partner=partner, done=True)
    order.rating = rating
    order.rated_at = timezone.now() - timedelta(days=days_ago)
    order.save()
    return order


# --- partners -------------------------------------------------------------------------


def test_the_listing_shows_each_partners_figures():
    partner = PartnerFactory(name="应师傅防水", master_has_disability=True)
    for rating in (5, 4, 1):
        rated(partner, rating)
    ServiceOrderFactory(partner=partner, status=OrderStatus.CANCELLED)
    response = client_for(supervisor()).get(PARTNERS_URL)
    assert response.status_code == 200
    row = soup(response).select_one("table.listing tbody tr").get_text(" ", strip=True)
    assert "应师傅防水" in row
    assert "100% (3 of 3)" in row
    assert "3.3 (n = 3)" in row
    assert "1 recent, 1 in all" in row


def test_the_flag_filter_shows_partners_with_repeated_recent_complaints(settings):
    settings.PARTNER_COMPLAINTS_FLAG = 2
    flagged, old, fine = (
        PartnerFactory(name=n) for n in ("甲维修", "乙维修", "丙维修")
    )
    rated(flagged, 1), rated(flagged, 2)
    rated(old, 1, days_ago=120), rated(old, 1, days_ago=100), rated(old, 1)
    rated(fine, 5), rated(fine, 2)
    client = client_for(supervisor())
    assert listed_names(client.get(PARTNERS_URL, {"flagged": "true"})) == ["甲维修"]
    assert listed_names(client.get(PARTNERS_URL, {"flagged": "false"})) == [
        "丙维修",
        "乙维修",
    ]


def test_the_listing_query_count_does_not_grow_with_partners_and_orders(
    django_assert_max_num_queries,
):
    client = client_for(supervisor())
    client.get(PARTNERS_URL)  # warm up: session, content types, permissions

    def fill(count):
        for _ in range(count):
            partner = PartnerFactory()
            for rating in (5, 1):
                LineFactory(order=rated(partner, rating))

    fill(3)
    with django_assert_max_num_queries(14) as small:
        assert len(listed_names(client.get(PARTNERS_URL))) == 3
    fill(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(listed_names(client.get(PARTNERS_URL))) == 23


def test_only_supervisors_add_partners_officers_only_look():
    officer_client = client_for(officer())
    assert officer_client.get(PARTNERS_URL).status_code == 200
    assert officer_client.get(f"{PARTNERS_URL}new/").status_code in (302, 403)
    partner = PartnerFactory()
    assert officer_client.get(f"{PARTNERS_URL}edit/{partner.pk}/").status_code in (
        302,
        403,
    )
    response = client_for(supervisor()).post(
        f"{PARTNERS_URL}new/",
        {
            "name": "周师傅开锁",
            "service_area": "城区",
            "joined_on": "2026-03-05",
            "is_active": "on",
            "master_has_disability": "on",
            "contact_name": "周明",
            "contact_phone": "13700001111",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Partner.objects.get(name="周师傅开锁").master_has_disability


@pytest.mark.parametrize("role", [roles.EDITORS, roles.DEPARTMENT_LIAISONS])
def test_other_roles_see_no_partners_and_no_orders(role):
    client = client_for(staff(role, department=DepartmentFactory()))
    for url in (PARTNERS_URL, ORDERS_URL, f"{ORDERS_URL}new/"):
        assert client.get(url).status_code in (302, 403), url


def test_supervisors_home_shows_flagged_partners(settings):
    settings.PARTNER_COMPLAINTS_FLAG = 1
    rated(PartnerFactory(name="甲维修"), 1)
    home = client_for(supervisor()).get("/admin/")
    panel = soup(home).select_one("[data-flagged-partners]")
    assert panel is not None and "甲维修" in panel.get_text()
    officer_home = client_for(officer()).get("/admin/")
    assert soup(officer_home).select_one("[data-flagged-partners]") is None


# --- orders ---------------------------------------------------------------------------


def test_an_officer_refers_a_help_request_from_the_admin():
    case = help_case()
    partner = PartnerFactory()
    client = client_for(officer())
    form = client.get(f"{ORDERS_URL}new/", {"case": case.reference})
    assert form.status_code == 200
    assert case.reference in form.content.decode()
    response = client.post(
        f"{ORDERS_URL}new/",
        {
            "case_reference": case.reference,
            "partner": partner.pk,
            "day": "2026-07-15",
            "start": "09:00",
            "end": "11:00",
        },
    )
    order = ServiceOrder.objects.get()
    assert response.status_code == 302 and response.url == f"{ORDERS_URL}{order.pk}/"
    assert order.case == case and order.partner == partner


def test_a_complaint_case_cannot_be_referred_and_says_why():
    case = help_case(kind="complaint")
    response = client_for(officer()).post(
        f"{ORDERS_URL}new/",
        {
            "case_reference": case.reference,
            "partner": PartnerFactory().pk,
            "day": "2026-07-15",
            "start": "11:00",
            "end": "09:00",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Only help requests can be referred to a partner." in text
    assert "The appointment must end after it starts." in text
    assert not ServiceOrder.objects.exists()


def test_the_order_page_writes_the_record_and_the_rating():
    order = ServiceOrderFactory()
    client = client_for(officer())
    page = client.get(f"{ORDERS_URL}{order.pk}/")
    assert page.status_code == 200
    assert order.partner.contact_phone in page.content.decode()  # staff only
    done_at = timezone.localtime(order.appointment_start + timedelta(minutes=30))
    response = client.post(
        f"{ORDERS_URL}{order.pk}/",
        {
            "action": "record",
            "service_done": "更换防水层",
            "complete": "on",
            "completed_at": done_at.strftime("%Y-%m-%dT%H:%M"),
            "lines-TOTAL_FORMS": "3",
            "lines-INITIAL_FORMS": "0",
            "lines-0-kind": "material",
            "lines-0-description": "防水涂料",
            "lines-0-unit": "千克",
            "lines-0-quantity": "1.5",
            "lines-0-unit_price": "28",
            "lines-1-kind": "labour",
            "lines-1-description": "人工",
            "lines-1-quantity": "2",
            "lines-1-unit_price": "80",
            "lines-2-kind": "material",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    order.refresh_from_db()
    assert order.status == OrderStatus.DONE
    assert order.total() == Decimal("202.00")
    response = client.post(
        f"{ORDERS_URL}{order.pk}/", {"action": "rate", "rating": "2", "comment": "慢"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.rating == 2 and order.is_complaint
    page = soup(client.get(f"{ORDERS_URL}{order.pk}/"))
    assert page.select_one("[data-order-total]").get_text(strip=True) == "202.00"


def test_a_refused_record_shows_the_services_message():
    order = ServiceOrderFactory()
    response = client_for(officer()).post(
        f"{ORDERS_URL}{order.pk}/",
        {
            "action": "record",
            "service_done": "师傅手机 13712345678",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 400
    assert "leave phone numbers" in response.content.decode()
    assert ServiceOrder.objects.get(pk=order.pk).service_done == ""


def test_a_liaison_sees_no_order_of_another_department():
    department, other = DepartmentFactory(), DepartmentFactory()
    order = ServiceOrderFactory(case=help_case(department=other))
    from django.contrib.auth.models import Permission

    user = liaison(department)
    user.user_permissions.add(Permission.objects.get(codename="view_serviceorder"))
    client = client_for(type(user).objects.get(pk=user.pk))
    assert client.get(f"{ORDERS_URL}{order.pk}/").status_code == 404
    listing = client.get(ORDERS_URL)
    assert listing.status_code == 200
    assert order.case.reference not in listing.content.decode()


def test_the_orders_listing_shows_totals():
    order = ServiceOrderFactory(done=True)
    LineFactory(order=order, quantity=Decimal("3"), unit_price=Decimal("2.35"))
    response = client_for(officer()).get(ORDERS_URL)
    assert response.status_code == 200
    text = response.content.decode()
    assert order.case.reference in text and "7.05" in text
