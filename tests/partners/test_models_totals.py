"""The itemised service record: a line's amount is quantity × unit price
rounded half-up to the cent, an order's total the sum of its lines, and the
database's sums (the figures) equal the model's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import officer
from tracking.partners import services
from tracking.partners.models import (
    LineKind,
    Partner,
    ServiceOrder,
    line_amount,
)
from tracking.partners.services import LineData

from .factories import LineFactory, ServiceOrderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("quantity", "price", "amount"),
    [
        ("1.50", "28.00", "42.00"),
        ("0.50", "0.01", "0.01"),  # 0.005 rounds half-up, not to even
        ("0.50", "0.03", "0.02"),  # 0.015 → 0.02
        ("0.10", "0.05", "0.01"),  # 0.005
        ("0.10", "0.04", "0.00"),  # 0.004
        ("3.33", "3.33", "11.09"),  # 11.0889
        ("2.00", "0.00", "0.00"),
    ],
)
def test_line_amount_rounds_half_up_to_the_cent(quantity, price, amount):
    assert line_amount(Decimal(quantity), Decimal(price)) == Decimal(amount)


def test_a_saved_line_stores_its_amount():
    line = LineFactory(quantity=Decimal("0.50"), unit_price=Decimal("0.03"))
    line.refresh_from_db()
    assert line.amount == Decimal("0.02")


def test_order_total_is_the_sum_of_its_lines_split_by_kind():
    order = ServiceOrderFactory(done=True)
    LineFactory(order=order, quantity=Decimal("1.50"), unit_price=Decimal("28.00"))
    LineFactory(order=order, quantity=Decimal("3"), unit_price=Decimal("2.35"))
    LineFactory(
        order=order,
        kind=LineKind.LABOUR,
        description="人工",
        quantity=Decimal("2"),
        unit_price=Decimal("80"),
    )
    assert order.materials_total() == Decimal("49.05")
    assert order.labour_total() == Decimal("160.00")
    assert order.total() == Decimal("209.05")
    assert ServiceOrder.objects.with_totals().get(pk=order.pk).amount_total == (
        Decimal("209.05")
    )


def test_an_order_without_lines_totals_zero():
    order = ServiceOrderFactory()
    assert order.total() == Decimal("0.00")
    assert ServiceOrder.objects.with_totals().get(pk=order.pk).amount_total == 0


cents = st.integers(min_value=1, max_value=99_999).map(lambda n: Decimal(n) / 100)
prices = st.integers(min_value=0, max_value=999_999).map(lambda n: Decimal(n) / 100)
line_data = st.builds(
    LineData,
    description=st.just("PPR 水管"),
    quantity=cents,
    unit_price=prices,
    kind=st.sampled_from(LineKind.values),
)


@pytest.fixture
def user(db):
    return officer()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lines=st.lists(line_data, max_size=12))
def test_database_sums_equal_the_model_totals(user, lines):
    order = ServiceOrderFactory(done=True)
    services.order_record(order=order, lines=lines, service_done="修好了", user=user)
    order = ServiceOrder.objects.get(pk=order.pk)
    expected = sum(
        (line_amount(line.quantity, line.unit_price) for line in lines),
        Decimal("0.00"),
    )
    assert order.total() == expected
    assert ServiceOrder.objects.with_totals().get(pk=order.pk).amount_total == expected
    figures = Partner.objects.with_figures().get(pk=order.partner_id)
    assert figures.billed_total == expected
