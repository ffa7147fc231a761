"""Forms of the service orders in the back office. They check the input; the
services in :mod:`tracking.partners.services` check the rules and write."""

from __future__ import annotations

from datetime import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.widgets import BooleanRadioSelect

from ..calendar import local_zone
from ..models import Case, Kind
from .models import (
    MONEY,
    RATING_MAX,
    RATING_MIN,
    HomeVisit,
    HomeVisitSample,
    LineKind,
    OrderStatus,
    Partner,
    PartnerFollowUp,
    ServiceOrder,
    Trade,
    VisitOutcome,
    complaints_threshold,
)
from .services import MAX_RECENT_DAYS, MAX_SAMPLE, LineData


def _aware(day, time) -> datetime:
    return datetime.combine(day, time, tzinfo=local_zone())


class AppointmentForm(forms.Form):
    """An appointment: one day and a time window on it (Asia/Shanghai)."""

    day = forms.DateField(
        label=_("Day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    start = forms.TimeField(
        label=_("From"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(
        label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"})
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise forms.ValidationError(_("The appointment must end after it starts."))
        return data

    def window(self) -> tuple[datetime, datetime]:
        data = self.cleaned_data
        return _aware(data["day"], data["start"]), _aware(data["day"], data["end"])


class OrderCreateForm(AppointmentForm):
    case_reference = forms.CharField(
        label=_("Reference number of the help request"), max_length=24
    )
    partner = forms.ModelChoiceField(
        label=_("Partner"), queryset=Partner.objects.none()
    )
    field_order = ["case_reference", "partner", "day", "start", "end"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["partner"].queryset = Partner.objects.active().order_by("name")

    def clean_case_reference(self):
        reference = self.cleaned_data["case_reference"].strip()
        cases = Case.objects.all()
        if self.user is not None:
            cases = cases.visible_to(self.user)
        case = cases.filter(reference=reference).first()
        if case is None:
            raise forms.ValidationError(_("No case has this reference number."))
        if case.kind != Kind.HELP:
            raise forms.ValidationError(
                _("Only help requests can be referred to a partner.")
            )
        self.case = case
        return reference


class LineForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=LineKind.choices, initial=LineKind.MATERIAL
    )
    description = forms.CharField(label=_("Item"), max_length=200)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0.01, **MONEY)
    unit_price = forms.DecimalField(label=_("Unit price (yuan)"), min_value=0, **MONEY)

    def line(self) -> LineData:
        data = self.cleaned_data
        return LineData(
            kind=data["kind"],
            description=data["description"],
            unit=data.get("unit", ""),
            quantity=data["quantity"],
            unit_price=data["unit_price"],
        )


LineFormSet = forms.formset_factory(LineForm, extra=2, can_delete=True, max_num=100)


def line_formset(data=None, *, order=None) -> forms.BaseFormSet:
    initial = None
    if order is not None and data is None:
        initial = [
            {
                "kind": line.kind,
                "description": line.description,
                "unit": line.unit,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
            }
            for line in order.lines.all()
        ]
    return LineFormSet(data, initial=initial, prefix="lines")


def lines_of(formset) -> list[LineData]:
    return [
        form.line()
        for form in formset.forms
        if form.has_changed()
        and form.cleaned_data
        and not form.cleaned_data.get("DELETE")
    ]


class RecordForm(forms.Form):
    service_done = forms.CharField(
        label=_("Service done"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Shown to the citizen on the progress lookup."),
    )
    complete = forms.BooleanField(label=_("The service is done"), required=False)
    completed_at = forms.DateTimeField(
        label=_("Completed at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("complete") and not data.get("completed_at"):
            self.add_error("completed_at", _("When was the service done?"))
        return data


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Citizen's rating"),
        coerce=int,
        choices=[(n, str(n)) for n in range(RATING_MAX, RATING_MIN - 1, -1)],
        help_text=_("5 = very satisfied; 2 or less counts as a complaint."),
    )
    comment = forms.CharField(
        label=_("Citizen's comment"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"), widget=forms.Textarea(attrs={"rows": 2})
    )


class PartnerFilterSet(WagtailFilterSet):
    flagged = django_filters.BooleanFilter(
        label=_("Flagged for complaints"),
        method="filter_flagged",
        widget=BooleanRadioSelect,
    )
    is_active = django_filters.BooleanFilter(
        label=_("Active"), widget=BooleanRadioSelect
    )
    master_has_disability = django_filters.BooleanFilter(
        label=_("Master with a disability"), widget=BooleanRadioSelect
    )
    trades = django_filters.ModelChoiceFilter(
        label=_("Trade"), queryset=Trade.objects.all()
    )

    class Meta:
        model = Partner
        fields = ["flagged", "is_active", "master_has_disability", "trades"]

    def filter_flagged(self, queryset, name, value):
        # The listing's queryset carries the figures (PartnerQuerySet.with_figures).
        if value is None:
            return queryset
        threshold = complaints_threshold()
        if value:
            return queryset.filter(recent_complaints__gte=threshold)
        return queryset.filter(recent_complaints__lt=threshold)


class ServiceOrderFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=OrderStatus.choices,
        widget=forms.RadioSelect,
        empty_label=_("All"),
    )
    partner = django_filters.ModelChoiceFilter(
        label=_("Partner"), queryset=Partner.objects.all()
    )

    class Meta:
        model = ServiceOrder
        fields = ["status", "partner"]


# --- home visits (入户回访) ---------------------------------------------------------


class SampleDrawForm(forms.Form):
    """A home-visit campaign's draw: the period served, how many households,
    the seed (a new one when left empty) and the recent-visit exclusion."""

    period_start = forms.DateField(
        label=_("Served from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("Served until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    size = forms.IntegerField(
        label=_("Households wanted"), min_value=1, max_value=MAX_SAMPLE, initial=20
    )
    seed = forms.IntegerField(
        label=_("Random seed"),
        required=False,
        min_value=0,
        max_value=2**63 - 1,
        help_text=_(
            "Leave empty for a new one. The same seed on the same data draws the "
            "same households."
        ),
    )
    recent_days = forms.IntegerField(
        label=_("Leave out citizens visited within (days)"),
        min_value=0,
        max_value=MAX_RECENT_DAYS,
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period must end after it starts."))
        return data


class VisitPlanForm(forms.Form):
    day = forms.DateField(
        label=_("Day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    time = forms.TimeField(
        label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    invite_partner = forms.BooleanField(
        label=_("Invite the partner who served the order"), required=False
    )

    def planned_at(self) -> datetime:
        return _aware(self.cleaned_data["day"], self.cleaned_data["time"])


VERDICT_CHOICES = [
    ("", _("No verdict (not visited)")),
    ("yes", _("Satisfied")),
    ("no", _("Not satisfied")),
]


class VisitRecordForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=VisitOutcome.choices, widget=forms.RadioSelect
    )
    satisfied = forms.ChoiceField(
        label=_("Citizen's verdict on the partner's service"),
        choices=VERDICT_CHOICES,
        required=False,
    )
    suggestions = forms.CharField(
        label=_("Suggestions"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == VisitOutcome.DONE and not data.get("satisfied"):
            self.add_error("satisfied", _("Say whether the citizen was satisfied."))
        return data

    def verdict(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("satisfied"))


class FollowUpForm(forms.Form):
    task = forms.CharField(
        label=_("What the partner is to do"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    due_on = forms.DateField(
        label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class FollowUpDoneForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )


class SuggestionFilterSet(WagtailFilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("Partner"), field_name="order__partner", queryset=Partner.objects.all()
    )
    sample = django_filters.ModelChoiceFilter(
        label=_("Campaign"), queryset=HomeVisitSample.objects.all()
    )

    class Meta:
        model = HomeVisit
        fields = ["partner", "sample"]


class FollowUpFilterSet(WagtailFilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("Partner"), queryset=Partner.objects.all()
    )
    done = django_filters.BooleanFilter(
        label=_("Done"),
        field_name="done_at",
        lookup_expr="isnull",
        exclude=True,
        widget=BooleanRadioSelect,
    )

    class Meta:
        model = PartnerFollowUp
        fields = ["partner", "done"]
