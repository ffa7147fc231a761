"""Donations between citizens through the hotline (爱心捐赠).

A citizen offers an item (:class:`DonationOffer`); an officer matches it to a
help request (求助) of a citizen who needs it (:class:`DonationMatch`) and records
the hand-over. Items that may not be passed on freely, such as prescription
medicine, first need an officer's confirmation with a reason
(:class:`DonationConfirmation`). Every step writes a :class:`DonationEvent`.

The donor is a :class:`tracking.Citizen` and the recipient is the citizen of the
help request: both are personal information. What the public may see of a
donation is its item (redacted), the month and the pick-up district, nothing
else (see :mod:`tracking.donations.selectors`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import Channel


class ItemCategory(models.TextChoices):
    PRESCRIPTION_MEDICINE = "prescription_medicine", _("Prescription medicine")
    MEDICINE = "medicine", _("Over-the-counter medicine")
    MEDICAL_AID = "medical_aid", _("Medical aid")
    HOUSEHOLD = "household", _("Household goods")
    CLOTHING = "clothing", _("Clothing")
    OTHER = "other", _("Other")


# Categories whose items may not be passed on without an officer's confirmation.
CONFIRMATION_CATEGORIES = frozenset({ItemCategory.PRESCRIPTION_MEDICINE})


class ItemCondition(models.TextChoices):
    NEW = "new", _("New, unopened")
    GOOD = "good", _("Used, in good condition")
    WORN = "worn", _("Used, shows wear")


class DonationStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    MATCHED = "matched", _("Matched")
    HANDED_OVER = "handed_over", _("Handed over")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REFUSED = "refused", _("Refused")


# Matched donations, the ones the public list shows.
PUBLIC_STATUSES = (DonationStatus.MATCHED, DonationStatus.HANDED_OVER)


class DonationOfferQuerySet(models.QuerySet):
    def awaiting_confirmation(self):
        """Offers that wait for an officer's confirmation before they can be
        matched."""
        return self.filter(
            Q(category__in=CONFIRMATION_CATEGORIES) | Q(confirmation_flagged=True),
            status=DonationStatus.OFFERED,
            confirmation__isnull=True,
        )


class DonationOffer(models.Model):
    """An item a citizen offers to give away through the hotline.

    ``district`` is the pick-up district or area and is shown in public; the exact
    ``pickup_address`` and the donor are for staff only.
    """

    item = models.CharField(_("donated item"), max_length=200)
    category = models.CharField(
        _("kind of item"), max_length=30, choices=ItemCategory.choices
    )
    condition = models.CharField(
        _("condition"), max_length=20, choices=ItemCondition.choices
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    district = models.CharField(
        _("pick-up district"),
        max_length=30,
        help_text=_("The district or area only; it is shown in public."),
    )
    pickup_address = models.CharField(
        _("pick-up address (staff only)"), max_length=255, blank=True
    )
    donor = models.ForeignKey(
        "tracking.Citizen",
        verbose_name=_("donor"),
        on_delete=models.PROTECT,
        related_name="donation_offers",
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.PHONE
    )
    note = models.TextField(_("internal note"), blank=True)
    confirmation_flagged = models.BooleanField(
        _("needs an officer's confirmation"),
        default=False,
        help_text=_(
            "Set when the item may not be passed on freely although its category "
            "does not say so."
        ),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=DonationStatus.choices,
        default=DonationStatus.OFFERED,
    )
    offered_at = models.DateTimeField(_("offered at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = DonationOfferQuerySet.as_manager()

    class Meta:
        ordering = ["-offered_at", "-pk"]
        verbose_name = _("donation offer")
        verbose_name_plural = _("donation offers")
        permissions = [
            ("confirm_donationoffer", "Can confirm or refuse a donation that needs it")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="donation_quantity_positive"
            )
        ]
        indexes = [
            models.Index(fields=["status", "-offered_at"], name="donation_status_idx")
        ]

    def __str__(self):
        return f"{self.item} × {self.quantity}{self.unit}"

    @property
    def needs_confirmation(self) -> bool:
        """Whether an officer must confirm the item before it is matched: by its
        category (prescription medicine), or because an officer said so."""
        return self.category in CONFIRMATION_CATEGORIES or self.confirmation_flagged


class DonationConfirmation(models.Model):
    """An officer's decision on an offer that needs one: confirmed (it may be
    matched) or refused (the offer ends), with the reason either way."""

    offer = models.OneToOneField(
        DonationOffer,
        verbose_name=_("donation offer"),
        on_delete=models.CASCADE,
        related_name="confirmation",
    )
    approved = models.BooleanField(_("confirmed"))
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("donation confirmation")
        verbose_name_plural = _("donation confirmations")

    def __str__(self):
        return f"{self.offer_id} {'+' if self.approved else '-'}"


class DonationMatch(models.Model):
    """An offer given to the citizen of a help request, and its hand-over."""

    offer = models.OneToOneField(
        DonationOffer,
        verbose_name=_("donation offer"),
        on_delete=models.CASCADE,
        related_name="match",
    )
    case = models.ForeignKey(
        "tracking.Case",
        verbose_name=_("help request"),
        on_delete=models.PROTECT,
        related_name="donation_matches",
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("matched by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    matched_at = models.DateTimeField(_("matched at"), default=timezone.now)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("hand-over recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    hand_over_note = models.TextField(_("hand-over note"), blank=True)

    class Meta:
        ordering = ["-matched_at", "-pk"]
        verbose_name = _("donation match")
        verbose_name_plural = _("donation matches")
        indexes = [models.Index(fields=["-matched_at"], name="donation_matched_idx")]

    def __str__(self):
        return f"{self.offer_id} → {self.case_id}"


class DonationAction(models.TextChoices):
    OFFERED = "offered", _("Offered")
    FLAGGED = "flagged", _("Marked as needing confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", _("Refused")
    MATCHED = "matched", _("Matched")
    HANDED_OVER = "handed_over", _("Handed over")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DonationEvent(models.Model):
    """One step of a donation (append-only): who did what, when, and why."""

    offer = models.ForeignKey(
        DonationOffer,
        verbose_name=_("donation offer"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    action = models.CharField(
        _("action"), max_length=20, choices=DonationAction.choices
    )
    at = models.DateTimeField(_("step taken at"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("step taken by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("donation event")
        verbose_name_plural = _("donation events")

    def __str__(self):
        return f"{self.offer_id} {self.action}"
