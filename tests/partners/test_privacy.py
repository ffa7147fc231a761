"""Personal data and the partner's contact never reach a public page: the
lookup shows the partner's name and trade, not its contact, and masks what is
typed into the record; no public page names a partner's contact."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.factories import aware, officer
from tests.public_surfaces import look_up_progress, number_leaks, readable, string_leaks
from tracking import services as svc
from tracking.partners import services
from tracking.partners.models import ServiceRecordLine
from tracking.partners.services import LineData

from .factories import PartnerFactory

pytestmark = pytest.mark.django_db

NOW = aware(2026, 7, 10, 9)
START = aware(2026, 7, 15, 9)
NAME, PHONE, ADDRESS = "欧阳建国", "13987654321", "历下区幸福小区3号楼502室"
CONTACT, CONTACT_PHONE = "应周杨", "13755556666"


@pytest.fixture
def served_case(db):
    case = svc.case_register(
        kind="help",
        title="卫生间漏水到楼下",
        description=f"我是{NAME}，住{ADDRESS}，电话{PHONE}。",
        citizen=svc.CitizenData(name=NAME, phone=PHONE, address=ADDRESS),
        now=NOW,
    )
    user = officer()
    svc.case_accept(case=case.pk, user=user, now=NOW)
    partner = PartnerFactory(
        name="应师傅防水", contact_name=CONTACT, contact_phone=CONTACT_PHONE
    )
    order = services.order_create(
        case=case,
        partner=partner,
        appointment_start=START,
        appointment_end=START + timedelta(hours=2),
        user=user,
    )
    services.order_record(
        order=order,
        lines=[LineData("防水涂料", Decimal("2"), Decimal("28"))],
        service_done="重做防水层",
        completed_at=START + timedelta(hours=1),
        user=user,
    )
    return case, order


def test_the_lookup_shows_neither_the_partners_contact_nor_the_citizens_data(
    client, served_case
):
    case, order = served_case
    # Written past the service's check (an import, an older version, the ORM):
    # the page masks it anyway.
    ServiceRecordLine.objects.filter(order=order).update(
        description=f"{CONTACT}带来的材料，{NAME}签收，电话{CONTACT_PHONE}"
    )
    order.service_done = f"{CONTACT}师傅上门，{ADDRESS}，{NAME}在场，{PHONE}"
    order.save()
    response = look_up_progress(client, case.reference, PHONE[-4:])
    assert response.status_code == 200
    text = readable(response.content)
    assert "应师傅防水" in text  # the partner's name is public
    assert "重做防水层" not in text and "带来的材料" in text
    assert string_leaks(text, [CONTACT, NAME, ADDRESS, "幸福小区", "502室"]) == []
    assert number_leaks(text, CONTACT_PHONE) == []
    assert number_leaks(text, PHONE) == []


def test_public_pages_do_not_show_partners_or_their_contacts(client, served_case):
    case, order = served_case
    for url in ("/", "/progress/", "/report/", "/open311/v2/requests.json"):
        response = client.get(url)
        if response.status_code != 200:
            continue
        text = readable(response.content)
        assert string_leaks(text, [CONTACT]) == [], url
        assert number_leaks(text, CONTACT_PHONE) == [], url
