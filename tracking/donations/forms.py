"""Forms of donations in the back office. They check the input; the services in
:mod:`tracking.donations.services` check the rules and write."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet

from ..models import Case, Channel
from ..services import CitizenData
from .models import DonationOffer, DonationStatus, ItemCategory, ItemCondition
from .selectors import open_help_requests
from .services import MAX_QUANTITY, MAX_TEXT


class OfferCreateForm(forms.Form):
    """An offer as the officer takes it on the phone; the donor is found by phone
    as the intake does."""

    donor_phone = forms.CharField(label=_("Donor's phone"), max_length=30)
    donor_name = forms.CharField(
        label=_("Donor's name"), max_length=100, required=False
    )
    item = forms.CharField(label=_("Donated item"), max_length=200)
    category = forms.ChoiceField(label=_("Kind of item"), choices=ItemCategory.choices)
    condition = forms.ChoiceField(label=_("Condition"), choices=ItemCondition.choices)
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1
    )
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    district = forms.CharField(
        label=_("Pick-up district"),
        max_length=30,
        help_text=_("The district or area only; it is shown in public."),
    )
    pickup_address = forms.CharField(
        label=_("Pick-up address (staff only)"), max_length=255, required=False
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE
    )
    needs_confirmation = forms.BooleanField(
        label=_("Needs an officer's confirmation"),
        required=False,
        help_text=_(
            "Prescription medicine always does; tick it for other items that may "
            "not be passed on freely."
        ),
    )
    note = forms.CharField(
        label=_("Internal note"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def donor(self) -> CitizenData:
        data = self.cleaned_data
        return CitizenData(
            name=data["donor_name"],
            phone=data["donor_phone"],
            address=data["pickup_address"],
        )


def _reason_field(label=None):
    return forms.CharField(
        label=label or _("Reason"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConfirmForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("confirm", _("Confirm: it may be passed on")),
            ("refuse", _("Refuse")),
        ],
        widget=forms.RadioSelect,
    )
    reason = _reason_field()


class FlagForm(forms.Form):
    reason = _reason_field()


class MatchForm(forms.Form):
    """The help request by its reference number; the page suggests the latest
    open ones (a datalist), so the form stays small however many there are."""

    SUGGESTIONS = 100

    case_reference = forms.CharField(
        label=_("Reference number of the help request"), max_length=24
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["case_reference"].widget.attrs["list"] = "open-help-requests"

    def suggestions(self):
        return open_help_requests(self.user).only("reference", "title")[
            : self.SUGGESTIONS
        ]

    def clean_case_reference(self):
        reference = self.cleaned_data["case_reference"].strip()
        case = Case.objects.visible_to(self.user).filter(reference=reference).first()
        if case is None:
            raise forms.ValidationError(_("No case has this reference number."))
        self.case = case
        return reference


class HandOverForm(forms.Form):
    note = forms.CharField(
        label=_("Hand-over note"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WithdrawForm(forms.Form):
    reason = _reason_field()


class DonationFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=DonationStatus.choices
    )
    category = django_filters.ChoiceFilter(
        label=_("Kind of item"), choices=ItemCategory.choices
    )

    class Meta:
        model = DonationOffer
        fields = ["status", "category"]
