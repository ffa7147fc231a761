"""Offers made through the service, in the state a test needs."""

from __future__ import annotations

from tests.factories import CaseFactory, CitizenFactory
from tracking.donations import services
from tracking.donations.models import DonationOffer, ItemCategory, ItemCondition
from tracking.models import Kind, State
from tracking.services import CitizenData


def help_request(**fields):
    """An open help request (accepted) of a citizen who needs something."""
    fields.setdefault("citizen", CitizenFactory(name="陈建国", phone="13800001111"))
    fields.setdefault("state", State.ACCEPTED)
    return CaseFactory(kind=Kind.HELP, **fields)


def donor_data(**fields) -> CitizenData:
    defaults = {
        "name": "梅德华",
        "phone": "13905330001",
        "address": "城区香格里拉小区5号楼",
    }
    return CitizenData(**(defaults | fields))


def offer(user, **fields) -> DonationOffer:
    values = {
        "item": "多功能护理床",
        "category": ItemCategory.MEDICAL_AID,
        "condition": ItemCondition.GOOD,
        "quantity": 1,
        "district": "开发区",
        "donor": donor_data(),
        "user": user,
    } | fields
    return services.donation_offer_create(**values)


def matched(user, *, case=None, **fields) -> DonationOffer:
    made = offer(user, **fields)
    if made.needs_confirmation:
        services.donation_confirm(offer=made, approve=True, reason="核对过", user=user)
    services.donation_match(offer=made, case=case or help_request(), user=user)
    made.refresh_from_db()
    return made


def handed_over(user, **fields) -> DonationOffer:
    made = matched(user, **fields)
    services.donation_hand_over(offer=made, user=user, note="已送达")
    made.refresh_from_db()
    return made
