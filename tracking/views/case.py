"""The case page and the actions on a case.

Views are thin: find the case the user may see, bind the small form, call the
service, and turn its refusal into a message. No view changes a case itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from .. import hooks, services
from .. import models as m
from ..exceptions import CaseError, CasePermissionDenied
from ..forms import (
    TRANSITION_FORMS,
    CallbackForm,
    CaseActionForm,
    ExtendDeadlineForm,
    StoryForm,
    error_text,
)
from ..models import Case, State
from ..selectors import (
    available_transitions,
    may_extend_deadline,
    may_record_callback,
    may_request_story,
)

CASE_URL_NAMESPACE = "tracking_cases"


def case_url(case: Case | int, view: str = "detail", *args) -> str:
    pk = case.pk if isinstance(case, Case) else case
    return reverse(f"{CASE_URL_NAMESPACE}:{view}", args=(pk, *args))


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
