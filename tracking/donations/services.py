"""Writes of donations (爱心捐赠). One service per step.

Each runs in one transaction, locks the offer it changes, checks the user's
permission and the input, writes a :class:`DonationEvent`, and raises a
:class:`tracking.exceptions.CaseError` with a message fit for the user; a refusal
leaves nothing behind.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..exceptions import CasePermissionDenied, InvalidInput, TransitionRefused
from ..models import TERMINAL_STATES, Case, Channel, Citizen, Kind, may_act_on
from ..services import CitizenData, citizen_for
from .models import (
    DonationAction,
    DonationConfirmation,
    DonationEvent,
    DonationMatch,
    DonationOffer,
    DonationStatus,
    ItemCategory,
    ItemCondition,
)

MAX_QUANTITY = 100_000
MAX_TEXT = 2000
# A district or area is a name (城东区, 经济开发区), never a house number.
_NOT_A_DISTRICT = re.compile(r"[0-9０-９]")


def _require(user, codename: str) -> None:
    if (
        user is None
        or not user.is_authenticated
        or not user.has_perm(f"donations.{codename}")
    ):
        raise CasePermissionDenied(_("You may not handle donations."))


def _text(value, message, *, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(message)
    if len(text) > max_length:
        raise InvalidInput(
            _("Keep it to %(count)s characters.") % {"count": max_length}
        )
    return text


def _optional_text(value, *, max_length: int) -> str:
    text = (value or "").strip()
    if len(text) > max_length:
        raise InvalidInput(
            _("Keep it to %(count)s characters.") % {"count": max_length}
        )
    return text


def _lock(offer: DonationOffer | int) -> DonationOffer:
    pk = offer.pk if isinstance(offer, DonationOffer) else offer
    found = DonationOffer.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise InvalidInput(_("This donation offer does not exist."))
    return found


def _event(offer, action, *, user, at, note="") -> DonationEvent:
    return DonationEvent.objects.create(
        offer=offer, action=action, user=user, at=at, note=note
    )


def _refuse_unless(offer: DonationOffer, *statuses) -> None:
    if offer.status not in statuses:
        raise TransitionRefused(
            _("This donation is “%(status)s”: that step is not possible now.")
            % {"status": offer.get_status_display()}
        )


def _clean_district(value) -> str:
    district = _text(
        value, _("Say in which district or area the item is picked up."), max_length=30
    )
    if _NOT_A_DISTRICT.search(district):
        raise InvalidInput(
            _(
                "The pick-up district is shown in public: give the district or "
                "area only, and the exact address in its own field."
            )
        )
    return district


def donation_offer_create(
    *,
    item: str,
    category: str,
    condition: str,
    quantity: int,
    district: str,
    donor: CitizenData | Citizen,
    user,
    unit: str = "",
    pickup_address: str = "",
    channel: str = Channel.PHONE,
    note: str = "",
    needs_confirmation: bool = False,
    now: datetime | None = None,
) -> DonationOffer:
    """Record an item a citizen offers to give away.

    The donor is found by phone as the intake does (:func:`citizen_for`), so a
    citizen who called before is the same person. An officer may mark an item as
    needing confirmation although its category does not require it.
    """
    _require(user, "add_donationoffer")
    now = now or timezone.now()
    item = _text(item, _("Say what the item is."), max_length=200)
    if category not in ItemCategory.values:
        raise InvalidInput(_("Choose the kind of item."))
    if condition not in ItemCondition.values:
        raise InvalidInput(_("Choose the condition of the item."))
    if channel not in Channel.values:
        raise InvalidInput(_("Choose how the offer reached the hotline."))
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not 0 < quantity <= MAX_QUANTITY
    ):
        raise InvalidInput(_("The quantity must be a whole number above 0."))
    district = _clean_district(district)
    unit = _optional_text(unit, max_length=20)
    pickup_address = _optional_text(pickup_address, max_length=255)
    note = _optional_text(note, max_length=MAX_TEXT)
    if isinstance(donor, CitizenData):
        if not donor.phone.strip():
            raise InvalidInput(_("Give the donor's phone number."))
    elif not isinstance(donor, Citizen) or donor.pk is None:
        raise InvalidInput(_("Give the donor's phone number."))
    with transaction.atomic():
        citizen = (
            citizen_for(donor, now=now) if isinstance(donor, CitizenData) else donor
        )
        offer = DonationOffer.objects.create(
            item=item,
            category=category,
            condition=condition,
            quantity=quantity,
            unit=unit,
            district=district,
            pickup_address=pickup_address,
            donor=citizen,
            channel=channel,
            note=note,
            confirmation_flagged=bool(needs_confirmation),
            offered_at=now,
            created_by=user,
        )
        _event(offer, DonationAction.OFFERED, user=user, at=now)
        if offer.confirmation_flagged:
            _event(offer, DonationAction.FLAGGED, user=user, at=now)
    return offer


def donation_require_confirmation(
    *, offer: DonationOffer | int, reason: str, user, now: datetime | None = None
) -> DonationOffer:
    """Mark an offered item as needing an officer's confirmation before it is
    matched (the officer saw it may not be passed on freely)."""
    _require(user, "change_donationoffer")
    reason = _text(reason, _("Give a reason."), max_length=MAX_TEXT)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(offer)
        _refuse_unless(locked, DonationStatus.OFFERED)
        if locked.needs_confirmation:
            raise TransitionRefused(_("This item already needs a confirmation."))
        locked.confirmation_flagged = True
        locked.save(update_fields=["confirmation_flagged"])
        _event(locked, DonationAction.FLAGGED, user=user, at=now, note=reason)
    return locked


def donation_confirm(
    *,
    offer: DonationOffer | int,
    approve: bool,
    reason: str,
    user,
    now: datetime | None = None,
) -> DonationConfirmation:
    """An officer's decision on an item that may not be passed on freely
    (prescription medicine): confirmed, it may be matched; refused, the offer
    ends. A reason either way; one decision per offer."""
    _require(user, "confirm_donationoffer")
    reason = _text(reason, _("Give a reason."), max_length=MAX_TEXT)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(offer)
        _refuse_unless(locked, DonationStatus.OFFERED)
        if not locked.needs_confirmation:
            raise TransitionRefused(_("This item needs no confirmation."))
        if DonationConfirmation.objects.filter(offer=locked).exists():
            raise TransitionRefused(_("This item was already confirmed."))
        decision = DonationConfirmation.objects.create(
            offer=locked,
            approved=bool(approve),
            reason=reason,
            decided_by=user,
            decided_at=now,
        )
        if not approve:
            locked.status = DonationStatus.REFUSED
            locked.save(update_fields=["status"])
        _event(
            locked,
            DonationAction.CONFIRMED if approve else DonationAction.REFUSED,
            user=user,
            at=now,
            note=reason,
        )
    return decision


def donation_match(
    *,
    offer: DonationOffer | int,
    case: Case | int,
    user,
    note: str = "",
    now: datetime | None = None,
) -> DonationMatch:
    """Give an offered item to the citizen of an open help request (求助).

    An item that needs a confirmation is matched only once an officer confirmed
    it.
    """
    _require(user, "change_donationoffer")
    note = _optional_text(note, max_length=MAX_TEXT)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(offer)
        _refuse_unless(locked, DonationStatus.OFFERED)
        if locked.needs_confirmation:
            decision = DonationConfirmation.objects.filter(offer=locked).first()
            if decision is None or not decision.approved:
                raise TransitionRefused(
                    _(
                        "This item may not be passed on freely: an officer must "
                        "confirm it first, with a reason."
                    )
                )
        case_pk = case.pk if isinstance(case, Case) else case
        # Locked (after the offer, as every donation step): a case closed by a
        # concurrent transition is seen closed here, not matched behind its back.
        recipient = Case.objects.select_for_update().filter(pk=case_pk).first()
        if recipient is None:
            raise InvalidInput(_("This case does not exist."))
        if not may_act_on(recipient, user):
            raise CasePermissionDenied(_("You may not act on this case."))
        if recipient.kind != Kind.HELP:
            raise TransitionRefused(_("A donation goes to a help request only."))
        if recipient.state in TERMINAL_STATES:
            raise TransitionRefused(
                _("Case %(reference)s is closed: it cannot receive a donation.")
                % {"reference": recipient.reference}
            )
        match = DonationMatch.objects.create(
            offer=locked, case=recipient, matched_by=user, matched_at=now
        )
        locked.status = DonationStatus.MATCHED
        locked.save(update_fields=["status"])
        _event(locked, DonationAction.MATCHED, user=user, at=now, note=note)
    return match


def donation_hand_over(
    *,
    offer: DonationOffer | int,
    user,
    note: str = "",
    now: datetime | None = None,
) -> DonationMatch:
    """Record that the matched item reached its recipient."""
    _require(user, "change_donationoffer")
    note = _optional_text(note, max_length=MAX_TEXT)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(offer)
        _refuse_unless(locked, DonationStatus.MATCHED)
        match = DonationMatch.objects.select_for_update().get(offer=locked)
        if now < match.matched_at:
            raise InvalidInput(_("The hand-over cannot come before the match."))
        match.handed_over_at = now
        match.handed_over_by = user
        match.hand_over_note = note
        match.save(update_fields=["handed_over_at", "handed_over_by", "hand_over_note"])
        locked.status = DonationStatus.HANDED_OVER
        locked.save(update_fields=["status"])
        _event(locked, DonationAction.HANDED_OVER, user=user, at=now, note=note)
    return match


def donation_withdraw(
    *, offer: DonationOffer | int, reason: str, user, now: datetime | None = None
) -> DonationOffer:
    """The donor took the offer back (before the hand-over), with the reason."""
    _require(user, "change_donationoffer")
    reason = _text(reason, _("Give a reason."), max_length=MAX_TEXT)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(offer)
        _refuse_unless(locked, DonationStatus.OFFERED, DonationStatus.MATCHED)
        locked.status = DonationStatus.WITHDRAWN
        locked.save(update_fields=["status"])
        _event(locked, DonationAction.WITHDRAWN, user=user, at=now, note=reason)
    return locked
