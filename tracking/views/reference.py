"""Reference data: departments, categories and the working calendar."""

from __future__ import annotations

from django.db import transaction
from django.db.models import ProtectedError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from wagtail.admin import messages
from wagtail.admin.views import generic

from ..calendar import upcoming_missing_years

# --- reference data ----------------------------------------------------------------


class ProtectedDeleteView(generic.DeleteView):
    """Refuse, with a message, to delete a row that cases still refer to."""

    def form_valid(self, form):
        try:
            with transaction.atomic():
                return super().form_valid(form)
        except ProtectedError:
            messages.error(
                self.request,
                _("%(object)s is still used by cases and cannot be deleted.")
                % {"object": self.object},
            )
            return redirect(self.get_success_url())


def missing_calendar_message(years: list[int]) -> str:
    return _(
        "No official working calendar for %(years)s: deadlines in those years are "
        "counted Monday to Friday until it is imported."
    ) % {"years": ", ".join(str(year) for year in years)}


class WorkingCalendarIndexView(generic.IndexView):
    template_name = "tracking/admin/calendar_index.html"

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        if not self.results_only and (years := upcoming_missing_years()):
            context["missing_calendar_message"] = missing_calendar_message(years)
        return context
