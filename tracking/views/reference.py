"""Reference data: departments, categories and the working calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import ProtectedError
from django.shortcuts import redirect
from django.utils.timezone import localdate
from django.utils.translation import gettext as _
from wagtail.admin import messages
from wagtail.admin.views import generic

from ..calendar import imported_years, upcoming_missing_years

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
        "counted Monday to Friday minus the statutory holidays, without the bridging "
        "days and make-up workdays, until it is imported."
    ) % {"years": ", ".join(str(year) for year in years)}


@dataclass
class ImportedYears:
    """Consecutive years imported together: same source, same person, same day."""

    first: int
    last: int
    source: str
    imported_at: datetime
    imported_by: AbstractBaseUser | None  # None: the system

    @property
    def span(self) -> str:
        if self.first == self.last:
            return str(self.first)
        return f"{self.first}–{self.last}"


def imported_year_spans() -> list[ImportedYears]:
    """The years imported as a whole, consecutive ones of one import together."""
    spans: list[ImportedYears] = []
    for year in imported_years():
        last = spans[-1] if spans else None
        if (
            last
            and last.last == year.year - 1
            and (last.source, last.imported_by) == (year.source, year.imported_by)
            and localdate(last.imported_at) == localdate(year.imported_at)
        ):
            last.last = year.year
            continue
        spans.append(
            ImportedYears(
                year.year, year.year, year.source, year.imported_at, year.imported_by
            )
        )
    return spans


class WorkingCalendarIndexView(generic.IndexView):
    template_name = "tracking/admin/calendar_index.html"

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        if not self.results_only:
            if years := upcoming_missing_years():
                context["missing_calendar_message"] = missing_calendar_message(years)
            context["imported_years"] = imported_year_spans()
        return context
