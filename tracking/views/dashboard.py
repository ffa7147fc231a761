"""Panels of the admin dashboard."""

from __future__ import annotations

from django.urls import reverse
from wagtail.admin.ui.components import Component
from wagtail.permissions import policy_registry

from ..calendar import upcoming_missing_years
from ..models import WorkingCalendar
from .reference import missing_calendar_message

# --- dashboard ---------------------------------------------------------------------


class MissingCalendarPanel(Component):
    """Dashboard warning that a year's deadlines skip only the statutory holidays
    (no official calendar yet)."""

    name = "missing_working_calendar"
    order = 10
    template_name = "tracking/admin/missing_calendar_panel.html"

    def __init__(self, message: str, calendar_url: str | None):
        self.message = message
        self.calendar_url = calendar_url

    def get_context_data(self, parent_context=None):
        return {"message": self.message, "calendar_url": self.calendar_url}


def missing_calendar_panel(user) -> MissingCalendarPanel | None:
    """The panel, for staff who work with deadlines, while this year's or next
    year's official calendar is missing (a day added by hand does not count)."""
    policy = policy_registry.get_by_type(WorkingCalendar)
    if not policy.user_has_any_permission(user, ["add", "change", "delete", "view"]):
        return None
    years = upcoming_missing_years()
    if not years:
        return None
    return MissingCalendarPanel(
        missing_calendar_message(years), reverse("tracking_calendar:index")
    )
