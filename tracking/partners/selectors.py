"""Reads of service orders that the public progress lookup needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.db.models import Prefetch

from ..redaction import citizen_rules, redact, rules_for
from .models import OrderStatus, ServiceOrder, ServiceRecordLine


@dataclass(frozen=True)
class PublicLine:
    kind: str
    description: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class PublicServiceRecord:
    """One service order as its citizen sees it: the partner's name and trades
    (never its contact), the appointment, and the itemised record, redacted."""

    partner: str
    trades: list[str]
    status: str
    is_done: bool
    appointment_start: datetime
    appointment_end: datetime
    completed_at: datetime | None
    service_done: str
    lines: list[PublicLine]
    materials_total: Decimal
    labour_total: Decimal
    total: Decimal
    rating: int | None


def _contact_rules(partner) -> list:
    """Masks for the partner's contact person and phone, should someone have
    typed them into the record: they are for staff only."""
    return citizen_rules(
        SimpleNamespace(
            name=partner.contact_name, phone=partner.contact_phone, email="", address=""
        )
    )


def service_records_for_lookup(case) -> list[PublicServiceRecord]:
    """The service orders of ``case`` that its citizen may see (cancelled ones
    left out), oldest first, in three queries however many lines they have;
    none for a case that is not a help request (only those are referred)."""
    from ..models import Kind

    if case.kind != Kind.HELP:
        return []
    orders = list(
        ServiceOrder.objects.filter(case=case)
        .exclude(status=OrderStatus.CANCELLED)
        .select_related("partner")
        .prefetch_related(
            "partner__trades",
            Prefetch("lines", queryset=ServiceRecordLine.objects.order_by("position")),
        )
        .order_by("appointment_start", "pk")
    )
    if not orders:
        return []
    case_rules = rules_for(case)
    records = []
    for order in orders:
        rules = case_rules + _contact_rules(order.partner)
        lines = [
            PublicLine(
                kind=line.get_kind_display(),
                description=redact(line.description, rules=rules),
                unit=line.unit,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.line_total(),
            )
            for line in order.lines.all()
        ]
        records.append(
            PublicServiceRecord(
                partner=order.partner.name,
                trades=[trade.name for trade in order.partner.trades.all()],
                status=order.get_status_display(),
                is_done=order.status == OrderStatus.DONE,
                appointment_start=order.appointment_start,
                appointment_end=order.appointment_end,
                completed_at=order.completed_at,
                service_done=redact(order.service_done, rules=rules),
                lines=lines,
                materials_total=order.materials_total(),
                labour_total=order.labour_total(),
                total=order.total(),
                rating=order.rating,
            )
        )
    return records
