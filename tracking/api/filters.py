"""The filters of the case list: every value is validated, none silently ignored.

A value the API cannot read (an unknown state, ``overdue=maybe``, a date that is no
date, an empty ``?state=``) is answered with 400 and the field's error, so that a
client never takes an unfiltered list for a filtered one. A filter not wanted is
left out of the query.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from ..calendar import local_zone
from ..models import Case, Category, Department, Kind, State
from ..parsing import whole_number

_DATE_ONLY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


class StrictBooleanField(forms.Field):
    """``true``/``false`` (also ``1``/``0``, ``yes``/``no``); anything else is an
    error, where Django's NullBooleanField would read it as "no filter"."""

    default_error_messages = {"invalid": _("Give true or false.")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class InstantField(forms.CharField):
    """A date (``2026-03-18``) or a date and time (``2026-03-18T09:30:00+08:00``).

    A date stands for the start of that day in the hotline's time zone, or with
    ``end_of_day`` for the end of it, so that ``registered_before=2026-03-31``
    includes the 31st. A time without an offset is the hotline's local time.
    """

    default_error_messages = {
        "invalid": _("Give a date (YYYY-MM-DD) or a date and time (ISO 8601)."),
        "out_of_range": _("This date is out of range."),
    }

    def __init__(self, *args, end_of_day: bool = False, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return None
        if not text.isascii():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            if _DATE_ONLY.match(text):
                day = parse_date(text)
                if self.end_of_day:
                    day += timedelta(days=1)
                moment = datetime.combine(day, time.min, tzinfo=local_zone())
            else:
                moment = parse_datetime(text)
                if moment is None:
                    raise forms.ValidationError(
                        self.error_messages["invalid"], code="invalid"
                    )
                if timezone.is_naive(moment):
                    moment = moment.replace(tzinfo=local_zone())
        except ValueError:  # well-formed but impossible: 2026-02-30, hour 25
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid"
            ) from None
        except OverflowError:
            raise forms.ValidationError(
                self.error_messages["out_of_range"], code="out_of_range"
            ) from None
        try:
            # The database stores UTC: a moment that has no UTC value is refused
            # here rather than by the database driver.
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(
                self.error_messages["out_of_range"], code="out_of_range"
            ) from None


_INSTANT_SCHEMA = {
    "anyOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "format": "date-time"},
    ]
}


class InstantFilter(django_filters.Filter):
    field_class = InstantField


class CategoryReferenceField(forms.CharField):
    """A category by its id or by its Open311 service code."""

    default_error_messages = {
        "unknown": _("No category has the id or service code “%(value)s”."),
    }

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return None
        field = Category._meta.get_field("service_code")
        if "\x00" in text or len(text) > field.max_length:
            category = None  # no such code; PostgreSQL refuses NUL in a query
        # More digits than any id has is a service code (or nothing).
        elif (pk := whole_number(text, max_digits=18)) is not None:
            category = Category.objects.filter(pk=pk).first()
        else:
            category = Category.objects.filter(service_code=text).first()
        if category is None:
            raise forms.ValidationError(
                self.error_messages["unknown"],
                code="unknown",
                params={"value": text[:60]},
            )
        return category


class CategoryFilter(django_filters.Filter):
    field_class = CategoryReferenceField


class StateInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    pass


class CaseFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        for name in self.fields:
            values = self.data.getlist(name) if name in self.data else []
            if values and not any(value.strip() for value in values):
                self.add_error(
                    name,
                    forms.ValidationError(
                        _("Give a value, or leave the parameter out."), code="blank"
                    ),
                )
        states = self.data.get("state")
        if states and states.strip() and not all(s.strip() for s in states.split(",")):
            self.add_error(
                "state",
                forms.ValidationError(
                    _("Separate states by single commas, with none left empty."),
                    code="empty_item",
                ),
            )
        after = cleaned.get("registered_after")
        before = cleaned.get("registered_before")
        if after and before and after >= before:
            self.add_error(
                "registered_before",
                forms.ValidationError(
                    _("registered_before must be later than registered_after."),
                    code="empty_range",
                ),
            )
        return cleaned


class CaseFilterSet(django_filters.FilterSet):
    state = StateInFilter(
        field_name="state",
        choices=State.choices,
        help_text=_("One state, or several separated by commas."),
    )
    kind = django_filters.ChoiceFilter(choices=Kind.choices, help_text=_("Kind"))
    category = extend_schema_field(OpenApiTypes.STR)(
        CategoryFilter(
            field_name="category",
            help_text=_("A category's id or Open311 service code."),
        )
    )
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), help_text=_("A department's id.")
    )
    overdue = StrictBooleanFilter(
        method="filter_overdue",
        help_text=_("Past the deadline while a department owes an answer."),
    )
    escalated = StrictBooleanFilter(
        method="filter_escalated", help_text=_("Handed to the media.")
    )
    registered_after = extend_schema_field(_INSTANT_SCHEMA)(
        InstantFilter(
            field_name="registered_at",
            lookup_expr="gte",
            help_text=_(
                "Registered at or after this moment; a date means from the start "
                "of that day (hotline time)."
            ),
        )
    )
    registered_before = extend_schema_field(_INSTANT_SCHEMA)(
        InstantFilter(
            field_name="registered_at",
            lookup_expr="lt",
            end_of_day=True,
            help_text=_(
                "Registered before this moment; a date means up to the end of that "
                "day (hotline time)."
            ),
        )
    )

    class Meta:
        model = Case
        fields: list[str] = []
        form = CaseFilterForm

    def filter_overdue(self, queryset, name, value):
        # One definition of "overdue" for the whole project: the queryset's.
        overdue = Case.objects.overdue().values("pk")
        if value:
            return queryset.filter(pk__in=overdue)
        return queryset.exclude(pk__in=overdue)

    def filter_escalated(self, queryset, name, value):
        return queryset.filter(escalated_at__isnull=not value)
