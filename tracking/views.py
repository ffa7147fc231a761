"""The back office of the case workflow, in the Wagtail admin.

Views are thin: find the case the user may see, bind the small form, call the
service, and turn its refusal into a message. No view changes a case itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import ProtectedError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView
from wagtail.admin import messages
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import (
    Column,
    StatusFlagColumn,
    StatusTagColumn,
    TitleColumn,
)
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permissions import policy_registry

from . import hooks, services
from . import models as m
from .calendar import upcoming_missing_years
from .exceptions import CaseError, CasePermissionDenied
from .forms import (
    TRANSITION_FORMS,
    CallbackForm,
    CaseActionForm,
    CaseRegisterForm,
    ExtendDeadlineForm,
    StoryForm,
    error_text,
)
from .models import (
    Case,
    State,
    WorkingCalendar,
)
from .selectors import (
    available_transitions,
    may_extend_deadline,
    may_record_callback,
    may_request_story,
)

CASE_URL_NAMESPACE = "tracking_cases"


def case_url(case: Case | int, view: str = "detail", *args) -> str:
    pk = case.pk if isinstance(case, Case) else case
    return reverse(f"{CASE_URL_NAMESPACE}:{view}", args=(pk, *args))


def field_label(model, name: str) -> str:
    return capfirst(model._meta.get_field(name).verbose_name)


PRIMARY = "button"
SECONDARY = "button button-secondary"
SERIOUS = "button serious"


@dataclass(frozen=True)
class ActionStyle:
    label: str
    classname: str = PRIMARY


ACTION_STYLES = {
    "accept": ActionStyle(gettext_lazy("Accept")),
    "reject": ActionStyle(gettext_lazy("Reject"), SERIOUS),
    "answer": ActionStyle(gettext_lazy("Answer directly"), SECONDARY),
    "dispatch": ActionStyle(gettext_lazy("Dispatch")),
    "acknowledge": ActionStyle(gettext_lazy("Acknowledge")),
    "return_case": ActionStyle(gettext_lazy("Return to the hotline"), SERIOUS),
    "escalate": ActionStyle(gettext_lazy("Escalate to the media"), SERIOUS),
    "reply": ActionStyle(gettext_lazy("Record the reply")),
    "close": ActionStyle(gettext_lazy("Close")),
    "reopen": ActionStyle(gettext_lazy("Reopen"), SECONDARY),
    "withdraw": ActionStyle(gettext_lazy("Withdraw"), SERIOUS),
    "callback": ActionStyle(gettext_lazy("Record callback")),
    "extend": ActionStyle(gettext_lazy("Extend deadline"), SECONDARY),
    "story": ActionStyle(gettext_lazy("Create the Hot Tracking story now")),
}


@dataclass
class CaseAction:
    """One button on the case page, with the form it submits."""

    name: str
    url: str
    form: CaseActionForm

    @property
    def style(self) -> ActionStyle:
        return ACTION_STYLES[self.name]

    @property
    def dialog_id(self) -> str:
        return f"case-action-{self.name}"

    @property
    def needs_dialog(self) -> bool:
        return self.form.has_input_fields


def case_actions(case: Case, user) -> list[CaseAction]:
    """The actions on the case page: forward steps first, then the others."""
    actions = [
        CaseAction(
            name, case_url(case, "transition", name), TRANSITION_FORMS[name](case=case)
        )
        for name in available_transitions(case, user)
    ]
    if may_record_callback(case, user):
        actions.append(
            CaseAction("callback", case_url(case, "callback"), CallbackForm(case=case))
        )
    if may_extend_deadline(case, user):
        actions.append(
            CaseAction(
                "extend",
                case_url(case, "extend_deadline"),
                ExtendDeadlineForm(case=case),
            )
        )
    if may_request_story(case, user):
        actions.append(
            CaseAction("story", case_url(case, "story"), StoryForm(case=case))
        )
    tones = (PRIMARY, SECONDARY, SERIOUS)
    return sorted(actions, key=lambda action: tones.index(action.style.classname))


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


# --- registering a case ------------------------------------------------------------


class CaseRegisterView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    model = Case
    permission_required = "add"
    form_class = CaseRegisterForm
    template_name = "tracking/admin/case_register.html"
    page_title = gettext_lazy("Register case")
    header_icon = "clipboard-list"
    index_url_name = None
    add_url_name = None

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Cases")},
            {"url": "", "label": self.get_page_title()},
        ]

    def form_valid(self, form):
        try:
            case = services.case_register(
                user=self.request.user, **form.service_kwargs()
            )
        except CasePermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except CaseError as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Case %(reference)s registered.") % {"reference": case.reference},
        )
        return redirect(case_url(case))

    def form_invalid(self, form):
        messages.error(self.request, _("The case could not be registered."))
        return super().form_invalid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context.update(
            action_url=reverse(self.add_url_name),
            submit_button_label=_("Register"),
            submit_button_active_label=_("Registering…"),
            has_unsaved_changes=form.is_bound,
            media=form.media,
        )
        return context


# --- the case page -----------------------------------------------------------------


class CaseDetailView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """Everything about one case, and a button for each thing the user may do now."""

    model = Case
    permission_required = "view"
    template_name = "tracking/admin/case_detail.html"
    page_title = gettext_lazy("Case")
    header_icon = "clipboard-list"
    index_url_name = None

    def get(self, request, *args, **kwargs):
        self.case = get_object_or_404(
            Case.objects.visible_to(request.user).select_related(
                "category", "department", "citizen"
            ),
            pk=kwargs["pk"],
        )
        return super().get(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.case.reference

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Cases")},
            {"url": "", "label": self.case.reference},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case = self.case
        now = timezone.now()
        states = dict(State.choices)
        events = list(case.events.select_related("actor"))
        for event in events:
            event.from_state_label = states.get(event.from_state, event.from_state)
            event.to_state_label = states.get(event.to_state, event.to_state)
        context.update(
            case=case,
            citizen=case.citizen,
            is_overdue=case.is_overdue(now),
            working_days_overdue=case.working_days_overdue(now),
            actions=case_actions(case, self.request.user),
            responses=case.responses.select_related("department", "recorded_by"),
            callbacks=case.callbacks.select_related("recorded_by"),
            story=hooks.call("get_story", case.pk),
            events=events,
        )
        return context


# --- actions on a case (POST only) -------------------------------------------------


class CaseActionView(View):
    """Bind the action's form, call its service, and say what happened."""

    http_method_names = ["post"]

    def get_form_class(self) -> type[CaseActionForm]:
        raise NotImplementedError

    def perform(self, case: Case, form: CaseActionForm) -> str:
        """Call the service; return the success message."""
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        case = get_object_or_404(Case.objects.visible_to(request.user), pk=kwargs["pk"])
        back = redirect(case_url(case))
        form = self.get_form_class()(request.POST, case=case)
        if not form.is_valid():
            messages.error(request, error_text(form))
            return back
        try:
            message = self.perform(case, form)
        except CasePermissionDenied as exc:
            return TemplateResponse(
                request,
                "tracking/admin/forbidden.html",
                {
                    "header_title": _("Not allowed"),
                    "page_title": _("Not allowed"),
                    "message": str(exc),
                    "case_url": case_url(case),
                },
                status=403,
            )
        except CaseError as exc:
            messages.error(request, str(exc))
            return back
        messages.success(request, message)
        return back


class CaseTransitionView(CaseActionView):
    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.transition = kwargs["transition"]

    def post(self, request, *args, **kwargs):
        if self.transition not in services.TRANSITION_SERVICES:
            raise Http404
        return super().post(request, *args, **kwargs)

    def get_form_class(self):
        return TRANSITION_FORMS[self.transition]

    def perform(self, case, form):
        service = services.TRANSITION_SERVICES[self.transition]
        case = service(
            case=case,
            user=self.request.user,
            expect_state=form.cleaned_data["expect_state"],
            **form.service_kwargs(),
        )
        return _("Case %(reference)s: %(action)s.") % {
            "reference": case.reference,
            "action": m.EVENT_LABELS.get(self.transition, self.transition),
        }


class CaseCallbackView(CaseActionView):
    def get_form_class(self):
        return CallbackForm

    def perform(self, case, form):
        callback = services.callback_record(
            case=case,
            user=self.request.user,
            expect_state=form.cleaned_data["expect_state"],
            **form.service_kwargs(),
        )
        return _("Callback recorded for case %(reference)s: %(callback)s.") % {
            "reference": case.reference,
            "callback": callback,
        }


class CaseExtendDeadlineView(CaseActionView):
    def get_form_class(self):
        return ExtendDeadlineForm

    def perform(self, case, form):
        case = services.case_extend_deadline(
            case=case,
            user=self.request.user,
            expect_state=form.cleaned_data["expect_state"],
            **form.service_kwargs(),
        )
        return _("The deadline of case %(reference)s is now %(due)s.") % {
            "reference": case.reference,
            "due": date_format(
                timezone.localtime(case.due_at), "SHORT_DATETIME_FORMAT"
            ),
        }


class CaseStoryView(CaseActionView):
    def get_form_class(self):
        return StoryForm

    def perform(self, case, form):
        story = services.case_request_story(case=case, user=self.request.user)
        return _("Hot Tracking story “%(title)s” is in review.") % {
            "title": getattr(story, "title", "")
        }


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


# --- dashboard ---------------------------------------------------------------------


class MissingCalendarPanel(Component):
    """Dashboard warning that a year's deadlines ignore holidays (no calendar yet)."""

    name = "missing_working_calendar"
    order = 10
    template_name = "tracking/admin/missing_calendar_panel.html"

    def __init__(self, message: str, calendar_url: str | None):
        self.message = message
        self.calendar_url = calendar_url

    def get_context_data(self, parent_context=None):
        return {"message": self.message, "calendar_url": self.calendar_url}


def missing_calendar_panel(user) -> MissingCalendarPanel | None:
    """The panel, for staff who work with deadlines, when a calendar is missing."""
    policy = policy_registry.get_by_type(WorkingCalendar)
    if not policy.user_has_any_permission(user, ["add", "change", "delete", "view"]):
        return None
    years = upcoming_missing_years()
    if not years:
        return None
    return MissingCalendarPanel(
        missing_calendar_message(years), reverse("tracking_calendar:index")
    )
