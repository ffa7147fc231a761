"""The case listing."""

from __future__ import annotations

from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.ui.tables import (
    Column,
    StatusFlagColumn,
    StatusTagColumn,
    TitleColumn,
)
from wagtail.admin.views import generic

from ..models import Case
from .case import case_url


def field_label(model, name: str) -> str:
    return capfirst(model._meta.get_field(name).verbose_name)


# --- the case listing --------------------------------------------------------------


class DeadlineColumn(Column):
    cell_template_name = "tracking/admin/tables/deadline_cell.html"


class CaseIndexView(generic.IndexView):
    """Cases the user may see: all of them, or their own department's."""

    page_title = gettext_lazy("Cases")
    add_item_label = gettext_lazy("Register case")

    @cached_property
    def now(self):
        return timezone.now()

    def get_base_queryset(self):
        return Case.objects.visible_to(self.request.user).select_related("department")

    @cached_property
    def columns(self):
        return [
            TitleColumn(
                "reference",
                label=field_label(Case, "reference"),
                sort_key="reference",
                get_url=case_url,
            ),
            Column("title", label=field_label(Case, "title")),
            Column(
                "kind", label=field_label(Case, "kind"), accessor="get_kind_display"
            ),
            StatusTagColumn(
                "state",
                label=field_label(Case, "state"),
                accessor="get_state_display",
                sort_key="state",
                primary=lambda case: case.is_open,
            ),
            Column(
                "department",
                label=field_label(Case, "department"),
                sort_key="department__name",
            ),
            DeadlineColumn(
                "due_at", label=field_label(Case, "due_at"), sort_key="due_at"
            ),
            StatusFlagColumn(
                "overdue",
                label=_("Overdue"),
                accessor=lambda case: case.is_overdue(self.now),
                true_label=_("Overdue"),
            ),
        ]

    # Cases are changed through their transitions only: no generic edit, copy or
    # delete, and the case page is where each row leads.
    def get_edit_url(self, instance):
        return None

    def get_copy_url(self, instance):
        return None

    def get_delete_url(self, instance):
        return None

    def get_inspect_url(self, instance):
        return case_url(instance)

    def get_list_more_buttons(self, instance):
        return []
