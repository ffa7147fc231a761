"""A partner's own login sees and records its own service orders only, the way
a department liaison sees its department's cases; referring, cancelling and
rating stay with the hotline's staff."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from wagtail.users.models import UserProfile

from tests.factories import UserFactory
from tracking.exceptions import CasePermissionDenied
from tracking.partners import permissions, services
from tracking.partners.models import PartnerAccount
from tracking.partners.services import LineData

from .factories import PartnerFactory, ServiceOrderFactory, help_case

pytestmark = pytest.mark.django_db

ORDERS_URL = "/admin/partners/orders/"


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


@pytest.fixture
def two_partners(partner_group):
    mine, theirs = PartnerFactory(name="应师傅防水"), PartnerFactory(name="别家维修")
    return (
        account_of(mine, partner_group),
        ServiceOrderFactory(partner=mine, case=help_case(title="我家的单")),
        ServiceOrderFactory(partner=theirs, case=help_case(title="别人家的单")),
    )


def client_for(user) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def test_a_partner_lists_and_opens_its_own_orders_only(two_partners):
    user, mine, theirs = two_partners
    client = client_for(user)
    listing = client.get(ORDERS_URL).content.decode()
    assert mine.case.reference in listing and theirs.case.reference not in listing
    assert client.get(f"{ORDERS_URL}{mine.pk}/").status_code == 200
    assert client.get(f"{ORDERS_URL}{theirs.pk}/").status_code == 404
    assert client.get("/admin/partners/partners/").status_code in (302, 403)
    assert client.get(f"{ORDERS_URL}new/").status_code in (302, 403)


def test_a_partner_writes_its_own_record_and_no_one_elses(two_partners):
    user, mine, theirs = two_partners
    lines = [LineData("防水涂料", Decimal("2"), Decimal("28"))]
    services.order_record(order=mine, lines=lines, service_done="", user=user)
    assert mine.lines.count() == 1
    with pytest.raises(CasePermissionDenied):
        services.order_record(order=theirs, lines=lines, service_done="", user=user)
    assert theirs.lines.count() == 0


def test_a_partner_neither_refers_nor_cancels_nor_rates(two_partners, partner_group):
    user, mine, _ = two_partners
    # Even if its group were given the permissions by mistake.
    for codename in ("add_serviceorder",):
        partner_group.permissions.add(Permission.objects.get(codename=codename))
    user = type(user).objects.get(pk=user.pk)
    with pytest.raises(CasePermissionDenied):
        services.order_create(
            case=help_case(),
            partner=mine.partner,
            appointment_start=mine.appointment_start,
            appointment_end=mine.appointment_end,
            user=user,
        )
    with pytest.raises(CasePermissionDenied):
        services.order_cancel(order=mine, reason="不想去了", user=user)
    done = ServiceOrderFactory(partner=mine.partner, done=True)
    with pytest.raises(CasePermissionDenied):
        services.order_rate(order=done, rating=5, user=user)
    page = client_for(user).get(f"{ORDERS_URL}{done.pk}/").content.decode()
    assert 'data-order-form="rate"' not in page
