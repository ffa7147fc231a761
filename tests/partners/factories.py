"""Factories of the community services (partners, service orders)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from tests.factories import CaseFactory
from tracking.models import Kind
from tracking.partners.models import (
    LineKind,
    OrderStatus,
    Partner,
    ServiceOrder,
    ServiceRecordLine,
    Trade,
)


class TradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trade
        django_get_or_create = ("name",)

    name = "防水"


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"应师傅防水{n}")
    service_area = "城区"
    contact_name = "应周杨"
    contact_phone = factory.Sequence(lambda n: f"137{n:08d}")

    @factory.post_generation
    def trades(self, create, extracted, **kwargs):
        if create:
            self.trades.set(extracted or [TradeFactory()])


def help_case(**kwargs):
    kwargs.setdefault("kind", Kind.HELP)
    kwargs.setdefault("state", "accepted")
    kwargs.setdefault("title", "卫生间漏水到楼下")
    kwargs.setdefault("description", "卫生间防水层老化，漏水到楼下。")
    return CaseFactory(**kwargs)


class ServiceOrderFactory(factory.django.DjangoModelFactory):
    """An order placed directly (set-up only). Trait ``done``: completed within
    its window."""

    class Meta:
        model = ServiceOrder

    case = factory.LazyFunction(help_case)
    partner = factory.SubFactory(PartnerFactory)
    appointment_start = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    appointment_end = factory.LazyAttribute(
        lambda o: o.appointment_start + timedelta(hours=2)
    )

    class Params:
        done = factory.Trait(
            status=OrderStatus.DONE,
            completed_at=factory.LazyAttribute(
                lambda o: o.appointment_start + timedelta(hours=1)
            ),
            service_done="更换防水层，闭水试验48小时无渗漏。",
        )


class LineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceRecordLine

    order = factory.SubFactory(ServiceOrderFactory)
    kind = LineKind.MATERIAL
    description = "聚氨酯防水涂料"
    unit = "千克"
    quantity = Decimal("1.50")
    unit_price = Decimal("28.00")
