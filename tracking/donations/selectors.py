"""Reads of donations: the public list of matched donations (爱心传递) and the
open help requests an offer can go to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models.functions import Coalesce

from ..calendar import local_zone
from ..models import OPEN_STATES, Case, Kind
from ..redaction import citizen_rules, redact, rules_for_cases
from .models import PUBLIC_STATUSES, DonationMatch, DonationStatus


@dataclass(frozen=True)
class PublicDonation:
    """What the public may know of one donation: redacted plain text, the month
    and the district. Never the donor, the recipient or the case."""

    item: str
    quantity: int
    unit: str
    category: str
    month: date
    district: str
    handed_over: bool


def public_matches():
    """The matches the public list shows, latest first (the hand-over's month
    once there is one), with what redaction needs joined in."""
    return (
        DonationMatch.objects.filter(offer__status__in=PUBLIC_STATUSES)
        .select_related("offer__donor", "case__citizen")
        .annotate(shown_at=Coalesce("handed_over_at", "matched_at"))
        .order_by("-shown_at", "-pk")
    )


def _month(moment: datetime) -> date:
    return moment.astimezone(local_zone()).date().replace(day=1)


def public_donations(matches) -> list[PublicDonation]:
    """One page of :func:`public_matches` as the public sees it.

    Redaction masks the donor's and the recipient's own data and the censor
    rules of the recipient's case, read once for the page.
    """
    matches = list(matches)
    rules = rules_for_cases(match.case for match in matches)
    shown = []
    for match in matches:
        offer = match.offer
        these = citizen_rules(offer.donor) + rules[match.case_id]
        shown.append(
            PublicDonation(
                item=redact(offer.item, rules=these),
                quantity=offer.quantity,
                unit=redact(offer.unit, rules=these),
                category=offer.get_category_display(),
                month=_month(match.shown_at),
                district=redact(offer.district, rules=these),
                handed_over=offer.status == DonationStatus.HANDED_OVER,
            )
        )
    return shown


def open_help_requests(user):
    """The open help requests the user may give a donation to, newest first."""
    return (
        Case.objects.visible_to(user)
        .filter(kind=Kind.HELP, state__in=OPEN_STATES)
        .order_by("-registered_at", "-pk")
    )
