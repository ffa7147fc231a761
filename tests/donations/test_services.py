"""The donation steps: offered → matched → handed over, withdrawn or refused;
the confirmation prescription medicine needs; who may take each step; and the
clear refusal of every bad move, which leaves nothing behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from tests.factories import (
    CaseFactory,
    DepartmentFactory,
    UserFactory,
    liaison,
    officer,
    staff,
    supervisor,
)
from tracking import roles
from tracking.donations import services
from tracking.donations.models import (
    DonationAction,
    DonationConfirmation,
    DonationEvent,
    DonationMatch,
    DonationOffer,
    DonationStatus,
    ItemCategory,
)
from tracking.exceptions import CasePermissionDenied, InvalidInput, TransitionRefused
from tracking.models import Citizen, Kind, State

from .factories import donor_data, handed_over, help_request, matched, offer

pytestmark = pytest.mark.django_db


def counts():
    return tuple(
        model.objects.count()
        for model in (
            DonationOffer,
            DonationMatch,
            DonationConfirmation,
            DonationEvent,
            Citizen,
        )
    )


def actions(made) -> list[str]:
    return list(made.events.values_list("action", flat=True))


# --- taking an offer --------------------------------------------------------------


def test_an_offer_finds_its_donor_by_phone_and_writes_an_event():
    user = officer()
    first = offer(user, donor=donor_data(phone="139 0533 0001"))
    second = offer(user, item="儿童冬衣", donor=donor_data(phone="13905330001"))
    assert first.donor_id == second.donor_id
    assert first.status == DonationStatus.OFFERED
    assert actions(first) == [DonationAction.OFFERED]
    assert first.events.get().user == user


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"item": "  "}, "Say what the item is."),
        ({"category": "weapons"}, "Choose the kind of item."),
        ({"condition": "broken"}, "Choose the condition of the item."),
        ({"quantity": 0}, "The quantity must be a whole number above 0."),
        ({"quantity": True}, "The quantity must be a whole number above 0."),
        ({"district": ""}, "Say in which district or area the item is picked up."),
        ({"district": "幸福路18号"}, "The pick-up district is shown in public"),
        ({"donor": donor_data(phone="")}, "Give the donor's phone number."),
        ({"channel": "pigeon"}, "Choose how the offer reached the hotline."),
    ],
)
def test_a_bad_offer_is_refused_clearly_and_writes_nothing(fields, message):
    user = officer()
    before = counts()
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        offer(user, **fields)
    assert message in str(refused.value)
    assert counts() == before


# --- confirmation ------------------------------------------------------------------


def test_prescription_medicine_is_matched_only_after_a_confirmation():
    user = officer()
    medicine = offer(user, item="降压药", category=ItemCategory.PRESCRIPTION_MEDICINE)
    case = help_request()
    assert medicine.needs_confirmation
    with translation.override("en"), pytest.raises(TransitionRefused) as refused:
        services.donation_match(offer=medicine, case=case, user=user)
    assert "an officer must confirm it first" in str(refused.value)
    assert not DonationMatch.objects.exists()

    with pytest.raises(InvalidInput):
        services.donation_confirm(offer=medicine, approve=True, reason=" ", user=user)
    assert not DonationConfirmation.objects.exists()

    services.donation_confirm(
        offer=medicine, approve=True, reason="未开封，社区医生核对", user=user
    )
    services.donation_match(offer=medicine, case=case, user=user)
    medicine.refresh_from_db()
    assert medicine.status == DonationStatus.MATCHED
    assert actions(medicine) == ["offered", "confirmed", "matched"]
    assert medicine.confirmation.decided_by == user


def test_a_refused_item_ends_and_cannot_be_matched():
    user = supervisor()
    medicine = offer(user, category=ItemCategory.PRESCRIPTION_MEDICINE)
    services.donation_confirm(offer=medicine, approve=False, reason="已过期", user=user)
    medicine.refresh_from_db()
    assert medicine.status == DonationStatus.REFUSED
    assert medicine.events.last().note == "已过期"
    with pytest.raises(TransitionRefused):
        services.donation_match(offer=medicine, case=help_request(), user=user)
    with pytest.raises(TransitionRefused):
        services.donation_confirm(
            offer=medicine, approve=True, reason="再看", user=user
        )


def test_an_officer_can_ask_for_a_confirmation_of_any_item():
    user = officer()
    bed = offer(user)
    assert not bed.needs_confirmation
    with pytest.raises(TransitionRefused):
        services.donation_confirm(offer=bed, approve=True, reason="不需要", user=user)
    services.donation_require_confirmation(offer=bed, reason="带电动部件", user=user)
    bed.refresh_from_db()
    assert bed.needs_confirmation
    with pytest.raises(TransitionRefused):
        services.donation_match(offer=bed, case=help_request(), user=user)
    flagged_at_once = offer(user, item="旧血糖仪", needs_confirmation=True)
    assert flagged_at_once.needs_confirmation
    assert actions(flagged_at_once) == ["offered", "flagged"]


def test_an_item_is_confirmed_once():
    user = officer()
    medicine = offer(user, category=ItemCategory.PRESCRIPTION_MEDICINE)
    services.donation_confirm(offer=medicine, approve=True, reason="核对", user=user)
    with pytest.raises(TransitionRefused):
        services.donation_confirm(offer=medicine, approve=True, reason="又", user=user)
    assert DonationConfirmation.objects.count() == 1


# --- matching and the hand-over ---------------------------------------------------


def test_an_offer_goes_to_an_open_help_request_only():
    user = officer()
    bed = offer(user)
    complaint = CaseFactory(kind=Kind.COMPLAINT, state=State.ACCEPTED)
    closed = help_request(state=State.CLOSED)
    with translation.override("en"):
        with pytest.raises(TransitionRefused, match="help request only"):
            services.donation_match(offer=bed, case=complaint, user=user)
        with pytest.raises(TransitionRefused, match="cannot receive a donation"):
            services.donation_match(offer=bed, case=closed, user=user)
        with pytest.raises(InvalidInput):
            services.donation_match(offer=bed, case=10**9, user=user)
    assert not DonationMatch.objects.exists()
    bed.refresh_from_db()
    assert bed.status == DonationStatus.OFFERED


def test_the_hand_over_completes_a_matched_offer():
    user = officer()
    now = timezone.now()
    bed = offer(user, now=now - timedelta(days=2))
    case = help_request()
    with pytest.raises(TransitionRefused):
        services.donation_hand_over(offer=bed, user=user)
    services.donation_match(
        offer=bed, case=case, user=user, now=now - timedelta(days=1)
    )
    with pytest.raises(InvalidInput):
        services.donation_hand_over(offer=bed, user=user, now=now - timedelta(days=3))
    services.donation_hand_over(offer=bed, user=user, note="家人签收", now=now)
    bed.refresh_from_db()
    assert bed.status == DonationStatus.HANDED_OVER
    assert bed.match.case == case
    assert bed.match.handed_over_at == now
    assert bed.match.hand_over_note == "家人签收"
    assert actions(bed) == ["offered", "matched", "handed_over"]
    with pytest.raises(TransitionRefused):
        services.donation_hand_over(offer=bed, user=user)
    with pytest.raises(TransitionRefused):
        services.donation_match(offer=bed, case=help_request(), user=user)


def test_a_matched_offer_is_not_matched_again():
    user = officer()
    made = matched(user)
    with pytest.raises(TransitionRefused):
        services.donation_match(offer=made, case=help_request(), user=user)
    assert DonationMatch.objects.count() == 1


# --- withdrawal ---------------------------------------------------------------------


def test_the_donor_may_withdraw_before_the_hand_over_with_a_reason():
    user = officer()
    bed, wheelchair = offer(user), matched(user, item="轮椅")
    with pytest.raises(InvalidInput):
        services.donation_withdraw(offer=bed, reason="", user=user)
    services.donation_withdraw(offer=bed, reason="自家要用", user=user)
    services.donation_withdraw(offer=wheelchair, reason="自家要用", user=user)
    for made in (bed, wheelchair):
        made.refresh_from_db()
        assert made.status == DonationStatus.WITHDRAWN
        assert actions(made)[-1] == DonationAction.WITHDRAWN
    with pytest.raises(TransitionRefused):
        services.donation_withdraw(offer=bed, reason="again", user=user)
    done = handed_over(user, item="助行器")
    with pytest.raises(TransitionRefused):
        services.donation_withdraw(offer=done, reason="后悔", user=user)


# --- who may ------------------------------------------------------------------------


@pytest.fixture
def outsiders():
    return [
        liaison(DepartmentFactory()),
        staff(roles.EDITORS),
        staff(roles.CHIEF_EDITORS),
        UserFactory(),
        None,
    ]


def test_only_officers_and_supervisors_take_offers(outsiders):
    for user in outsiders:
        with pytest.raises(CasePermissionDenied):
            offer(user)
    assert not DonationOffer.objects.exists()
    assert offer(supervisor()).pk


def test_only_officers_and_supervisors_take_the_steps(outsiders):
    user = officer()
    medicine = offer(user, category=ItemCategory.PRESCRIPTION_MEDICINE)
    bed_matched = matched(user, item="护理床")
    plain = offer(user, item="冬衣")
    case = help_request()
    steps = [
        lambda u: services.donation_confirm(
            offer=medicine, approve=True, reason="x", user=u
        ),
        lambda u: services.donation_require_confirmation(
            offer=plain, reason="x", user=u
        ),
        lambda u: services.donation_match(offer=plain, case=case, user=u),
        lambda u: services.donation_hand_over(offer=bed_matched, user=u),
        lambda u: services.donation_withdraw(offer=plain, reason="x", user=u),
    ]
    before = counts()
    for user_ in outsiders:
        for step in steps:
            with pytest.raises(CasePermissionDenied):
                step(user_)
    assert counts() == before
