"""The citizen's forms: the request (提交诉求) and the progress lookup (进度查询).

They check what a person can be told about at once, next to the field (a phone
number that is not one, half a map point, a file that is not a photo); the
service checks the rest and its refusal is shown above the form.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from ..models import (
    Category,
    Channel,
    HeardOf,
    Kind,
    is_phone_number,
    normalize_phone,
)
from ..selectors import PHONE_TAIL_DIGITS
from ..services import CitizenData
from .photos import PhotoRefused, clean_photo

#: The name of the field people never see (see :attr:`ReportForm.honeypot`).
HONEYPOT = "website"
COORDINATE_PLACES = Decimal("0.000001")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files under one name (Django's "Uploading multiple files")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        files = data if isinstance(data, list | tuple) else [data]
        return [item for item in (clean_one(f, initial) for f in files) if item]


def _coordinate(label, limit: int) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=-limit,
        max_value=limit,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


class ReportForm(forms.Form):
    """A citizen's request, as the public web form takes it."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Kind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose whether this is a consultation, help or complaint.")
        },
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True),
        required=False,
        empty_label=_("Not sure"),
        help_text=_("Leave it if you are not sure: the hotline chooses it."),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        error_messages={"required": _("Give your request a short title.")},
        help_text=_("In a few words, e.g. “The street light at the gate is out”."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=5000,
        error_messages={"required": _("Describe the problem or the question.")},
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happened, where and since when, and what you ask for."),
    )
    location_text = forms.CharField(
        label=_("Location"),
        max_length=255,
        required=False,
        help_text=_("Street, crossing or landmark."),
    )
    latitude = _coordinate(_("Latitude"), 90)
    longitude = _coordinate(_("Longitude"), 180)
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        error_messages={"required": _("Enter your name.")},
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        error_messages={
            "required": _("Enter your phone number: the hotline calls you back on it.")
        },
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_(
            "The hotline calls you back on this number. It is never published."
        ),
    )
    heard_of = forms.ChoiceField(
        label=_("Where did you hear of 8890?"),
        choices=[("", _("Rather not say")), *HeardOf.choices],
        required=False,
        help_text=_("Optional. It helps the hotline know how people find it."),
        error_messages={"invalid_choice": _("Choose one of the answers listed.")},
    )
    consent_to_publish = forms.BooleanField(
        label=_(
            "The newspaper may report my case, without my name or contact details."
        ),
        required=False,
    )
    photos = MultipleFileField(
        label=_("Photos"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=ngettext_lazy(
            "At most %(count)s photo (JPEG, PNG or WebP), each up to %(megabytes)s "
            "MB. Photos are seen by the hotline only.",
            "At most %(count)s photos (JPEG, PNG or WebP), each up to %(megabytes)s "
            "MB. Photos are seen by the hotline only.",
            "count",
        ),
    )
    # Filled in by robots only: people never see it (hidden by the stylesheet,
    # skipped by the keyboard and by screen readers), robots fill every field.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        help_text = self.fields["photos"].help_text
        self.fields["photos"].help_text = help_text % {
            "count": settings.INTAKE_MAX_PHOTOS,
            "megabytes": settings.INTAKE_MAX_PHOTO_BYTES // 2**20,
        }

    @property
    def honeypot(self):
        return self[HONEYPOT]

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        if not is_phone_number(phone):
            raise forms.ValidationError(
                _(
                    "Enter a mobile number (11 digits) or a landline number with "
                    "its area code."
                ),
                code="phone",
            )
        return normalize_phone(phone)

    def clean_photos(self):
        uploads = self.cleaned_data["photos"]
        limit = settings.INTAKE_MAX_PHOTOS
        if len(uploads) > limit:
            raise forms.ValidationError(
                ngettext_lazy(
                    "Send at most %(count)s photo.",
                    "Send at most %(count)s photos.",
                    "count",
                ),
                params={"count": limit},
                code="too_many",
            )
        photos, errors = [], []
        for upload in uploads:
            try:
                photos.append(clean_photo(upload))
            except PhotoRefused as exc:
                errors.append(forms.ValidationError(exc.message, code="photo"))
        if errors:
            raise forms.ValidationError(errors)
        return photos

    def clean(self):
        cleaned = super().clean()
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if "latitude" in cleaned and "longitude" in cleaned:
            if (latitude is None) != (longitude is None):
                missing = "latitude" if latitude is None else "longitude"
                self.add_error(
                    missing,
                    forms.ValidationError(
                        _("A map point needs both latitude and longitude."),
                        code="half_point",
                    ),
                )
            elif latitude is not None:
                # Stored to the micrometre-ish precision of the case (six places).
                cleaned["latitude"] = latitude.quantize(COORDINATE_PLACES)
                cleaned["longitude"] = longitude.quantize(COORDINATE_PLACES)
        return cleaned

    def service_kwargs(self) -> dict:
        """The arguments of :func:`tracking.services.case_register`."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "category": data["category"],
            "title": data["title"],
            "description": data["description"],
            "location_text": data["location_text"],
            "latitude": data["latitude"],
            "longitude": data["longitude"],
            "citizen": CitizenData(name=data["name"], phone=data["phone"]),
            "channel": Channel.WEB,
            "consent_to_publish": data["consent_to_publish"],
            "photos": data["photos"],
            "heard_of": data["heard_of"],
        }


def _ascii(value: str) -> str:
    """Full-width digits and signs, as Chinese input methods type them, read as
    ASCII (１２３４ → 1234)."""
    return unicodedata.normalize("NFKC", value).strip()


class LookupForm(forms.Form):
    """A case's reference number and the last digits of the citizen's phone."""

    reference = forms.CharField(
        label=_("Reference number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "8890-20260318-00042"}
        ),
    )
    phone_tail = forms.CharField(
        label=_("Last four digits of your phone number"),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "inputmode": "numeric",
                "maxlength": PHONE_TAIL_DIGITS,
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_reference(self):
        reference = _ascii(self.cleaned_data["reference"])
        if not re.fullmatch(r"[0-9A-Za-z-]{1,24}", reference):
            raise forms.ValidationError(
                _("Enter the reference number as given, e.g. 8890-20260318-00042."),
                code="reference",
            )
        return reference

    def clean_phone_tail(self):
        digits = _ascii(self.cleaned_data["phone_tail"])
        if not re.fullmatch(rf"[0-9]{{{PHONE_TAIL_DIGITS}}}", digits):
            raise forms.ValidationError(
                _("Enter the last four digits of your phone number."),
                code="phone_tail",
            )
        return digits
