"""The progress lookup shows the partners' service records of the citizen's own
case: partner, appointment, every line with its amount, the totals; nothing of
another case, and in a number of queries that does not grow with the lines."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import aware, officer
from tests.public_surfaces import look_up_progress
from tracking import services as svc
from tracking.partners import services
from tracking.partners.models import LineKind
from tracking.partners.services import LineData

from .factories import PartnerFactory, TradeFactory

pytestmark = pytest.mark.django_db

NOW = aware(2026, 7, 10, 9)
START = aware(2026, 7, 15, 9)


def help_request(phone: str, title: str):
    case = svc.case_register(
        kind="help",
        title=title,
        description="卫生间防水层老化，漏水到楼下。",
        citizen=svc.CitizenData(name="欧阳建国", phone=phone, address="幸福小区3号楼"),
        now=NOW,
    )
    user = officer()
    svc.case_accept(case=case.pk, user=user, now=NOW)
    return case, user


def served(case, user, lines, *, partner=None, done=True):
    order = services.order_create(
        case=case,
        partner=partner or PartnerFactory(name="应师傅防水"),
        appointment_start=START,
        appointment_end=START + timedelta(hours=2),
        user=user,
    )
    services.order_record(
        order=order,
        lines=lines,
        service_done="重做防水层，闭水试验48小时无渗漏。",
        completed_at=START + timedelta(hours=1) if done else None,
        user=user,
    )
    return order


LINES = [
    LineData("聚氨酯防水涂料", Decimal("2.5"), Decimal("28.00"), unit="千克"),
    LineData("防水卷材", Decimal("1.5"), Decimal("33.33"), unit="米"),
    LineData("人工", Decimal("3"), Decimal("80"), kind=LineKind.LABOUR, unit="小时"),
]


def records(response):
    return BeautifulSoup(response.content.decode(), "html.parser").select(
        "#progress-service-records .service-record"
    )


def test_the_citizen_sees_the_itemised_record_of_their_case(client):
    case, user = help_request("13987654321", "卫生间漏水")
    partner = PartnerFactory(name="应师傅防水")
    partner.trades.set([TradeFactory(name="防水")])
    order = served(case, user, LINES, partner=partner)
    services.order_rate(order=order, rating=5, user=user)
    response = look_up_progress(client, case.reference, "4321")
    assert response.status_code == 200
    (record,) = records(response)
    text = record.get_text(" ", strip=True)
    assert "应师傅防水" in text and "防水" in text
    assert "重做防水层" in text
    rows = [
        [cell.get_text(strip=True) for cell in row.select("td")]
        for row in record.select("tbody tr")
    ]
    assert [row[1] for row in rows] == ["聚氨酯防水涂料", "防水卷材", "人工"]
    assert [row[4] for row in rows] == ["70.00", "50.00", "240.00"]
    assert record.select_one(".service-total").get_text(strip=True) == "360.00"


def test_the_lookup_shows_no_record_of_another_case(client):
    mine, user = help_request("13987654321", "卫生间漏水")
    other, _ = help_request("13911112222", "厨房水管爆裂")
    served(other, user, [LineData("不锈钢软管", Decimal("1"), Decimal("45.67"))])
    response = look_up_progress(client, mine.reference, "4321")
    assert response.status_code == 200
    assert records(response) == []
    assert "不锈钢软管" not in response.content.decode()
    assert "45.67" not in response.content.decode()
    # Wrong digits: nothing of the case at all.
    wrong = look_up_progress(client, other.reference, "4321")
    assert wrong.status_code == 400 and "不锈钢软管" not in wrong.content.decode()


def test_a_cancelled_order_is_not_shown(client):
    case, user = help_request("13987654321", "卫生间漏水")
    order = services.order_create(
        case=case,
        partner=PartnerFactory(name="取消的师傅"),
        appointment_start=START,
        appointment_end=START + timedelta(hours=2),
        user=user,
    )
    services.order_cancel(order=order, reason="市民自己修好了", user=user)
    response = look_up_progress(client, case.reference, "4321")
    assert records(response) == [] and "取消的师傅" not in response.content.decode()


def test_the_lookup_query_count_does_not_grow_with_the_lines(client):
    case, user = help_request("13987654321", "卫生间漏水")
    order = served(case, user, LINES[:1])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert look_up_progress(client, case.reference, "4321").status_code == 200
        return len(captured)

    queries()  # warm up the censor-rule cache
    few = queries()
    services.order_record(
        order=order,
        lines=LINES * 10,
        service_done="又加了材料",
        completed_at=START + timedelta(hours=1),
        user=user,
    )
    assert queries() == few
