"""Filters of the back-office listings."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.active_filters import (
    ActiveFilter,
    BaseFilterAdapter,
    register_filter_adapter_class,
)
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.widgets import BooleanRadioSelect

from . import calendar, queues
from .models import (
    OPEN_STATES,
    Call,
    CallOutcome,
    Case,
    Category,
    Department,
    ExtensionDecision,
    ExtensionRequest,
    Kind,
    OutboxMessage,
    State,
    WorkingCalendar,
)


class BooleanFilterAdapter(BaseFilterAdapter):
    """A yes/no filter's chip above a listing reads in words ("Overdue: Yes"),
    as its radio buttons do, not "Overdue: True"."""

    def get_active_filters(self):
        yield ActiveFilter(
            self.bound_field.auto_id,
            self.filter.label,
            _("Yes") if self.value else _("No"),
            self.get_url_without_filter_param(self.name),
        )


register_filter_adapter_class(django_filters.BooleanFilter, BooleanFilterAdapter)


class CaseFilterSet(WagtailFilterSet):
    state = django_filters.MultipleChoiceFilter(
        label=_("State"), choices=State.choices, widget=forms.CheckboxSelectMultiple
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"),
        choices=Kind.choices,
        widget=forms.RadioSelect,
        empty_label=_("All"),
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"), queryset=Category.objects.all()
    )
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=Department.objects.all()
    )
    overdue = django_filters.BooleanFilter(
        label=_("Overdue"), method="filter_overdue", widget=BooleanRadioSelect
    )
    escalated = django_filters.BooleanFilter(
        label=_("Escalated to the media"),
        method="filter_escalated",
        widget=BooleanRadioSelect,
    )
    open = django_filters.BooleanFilter(
        label=_("Open"), method="filter_open", widget=BooleanRadioSelect
    )
    bounced = django_filters.BooleanFilter(
        label=_("Returned more than once"),
        method="filter_bounced",
        widget=BooleanRadioSelect,
    )
    escalates_soon = django_filters.BooleanFilter(
        label=_("Escalates to the media within a week"),
        method="filter_escalates_soon",
        widget=BooleanRadioSelect,
    )
    extension = django_filters.ChoiceFilter(
        label=_("Extension request"),
        choices=[(ExtensionDecision.PENDING, _("Waiting for a decision"))],
        method="filter_extension",
        widget=forms.RadioSelect,
        empty_label=_("All"),
    )

    class Meta:
        model = Case
        fields = ["state", "kind", "category", "department"]

    def filter_extension(self, queryset, name, value):
        if value != ExtensionDecision.PENDING:
            return queryset
        return queryset.filter(
            pk__in=ExtensionRequest.objects.pending().values("case_id")
        )

    def filter_overdue(self, queryset, name, value):
        # One definition of "overdue" for the whole project: the queryset's.
        overdue = Q(pk__in=Case.objects.overdue().values("pk"))
        return yes_or_no(queryset, value, overdue)

    def filter_escalated(self, queryset, name, value):
        return yes_or_no(queryset, value, Q(escalated_at__isnull=False))

    def filter_open(self, queryset, name, value):
        return yes_or_no(queryset, value, Q(state__in=OPEN_STATES))

    def filter_bounced(self, queryset, name, value):
        return yes_or_no(queryset, value, Q(bounce_count__gte=queues.BOUNCED_AT))

    def filter_escalates_soon(self, queryset, name, value):
        if value is None:
            return queryset
        if self.request is None:
            return queryset.none()
        # The forecast of the home screen's queue, for whoever lists.
        with calendar.shared():
            soon = list(
                queues.escalating_soon(self.request.user).values_list("pk", flat=True)
            )
        return yes_or_no(queryset, value, Q(pk__in=soon))


def yes_or_no(queryset, value: bool | None, condition: Q):
    """A yes/no filter: the rows meeting ``condition`` (yes), the others (no), or
    all of them when the filter is not set."""
    if value is None:
        return queryset
    return queryset.filter(condition) if value else queryset.exclude(condition)


def calendar_years():
    """The years that have calendar rows, newest first."""
    return [
        (day.year, str(day.year))
        for day in WorkingCalendar.objects.dates("date", "year", order="DESC")
    ]


class WorkingCalendarFilterSet(WagtailFilterSet):
    year = django_filters.ChoiceFilter(
        label=_("Year"),
        field_name="date",
        lookup_expr="year",
        choices=calendar_years,
        empty_label=_("All"),
    )
    is_workday = django_filters.BooleanFilter(
        label=_("Working day"), widget=BooleanRadioSelect
    )

    class Meta:
        model = WorkingCalendar
        fields = ["is_workday"]


class OutboxFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[
            ("pending", _("Waiting or retrying")),
            ("sent", _("Sent")),
            ("given_up", _("Given up")),
        ],
        method="filter_status",
        widget=forms.RadioSelect,
        empty_label=_("All"),
    )

    class Meta:
        model = OutboxMessage
        fields = ["task"]

    def filter_status(self, queryset, name, value):
        return {
            "pending": queryset.filter(sent_at__isnull=True, due_at__isnull=False),
            "sent": queryset.filter(sent_at__isnull=False),
            "given_up": queryset.filter(sent_at__isnull=True, due_at__isnull=True),
        }.get(value, queryset)


class CallFilterSet(WagtailFilterSet):
    outcome = django_filters.ChoiceFilter(
        label=_("Outcome"),
        choices=CallOutcome.choices,
        widget=forms.RadioSelect,
        empty_label=_("All"),
    )
    received_at = django_filters.DateFromToRangeFilter(
        label=_("Received on"), widget=DateRangePickerWidget
    )
    has_case = django_filters.BooleanFilter(
        label=_("Linked to a case"),
        field_name="case",
        lookup_expr="isnull",
        exclude=True,
        widget=BooleanRadioSelect,
    )

    class Meta:
        model = Call
        fields = ["outcome"]
