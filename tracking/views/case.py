"""The case page and the actions on a case.

Views are thin: find the case the user may see, bind the small form, call the
service, and turn its refusal into a message. No view changes a case itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.utils import get_user_display_name
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from .. import actions, hooks
from ..calendar import local_format
from ..duplicates import caller_history, may_see_caller_history, possible_duplicates
from ..exceptions import CaseError, CasePermissionDenied
from ..forms import CaseActionForm, error_text, format_duration
from ..models import MERGEABLE_STATES, Case, CaseEvent, State, may_act_on
from ..models.extensions import last_decided_extension, pending_extension
from ..selectors import available_transitions

CASE_URL_NAMESPACE = "tracking_cases"


def forbidden(request, message: str, back_url: str, back_label: str | None = None):
    """A plain 403 page saying why, with a way back (by default, to the case):
    Wagtail would turn a PermissionDenied into a redirect to the dashboard, which
    tells the user less."""
    return TemplateResponse(
        request,
        "tracking/admin/forbidden.html",
        {
            "header_title": _("Not allowed"),
            "page_title": _("Not allowed"),
            "message": message,
            "back_url": back_url,
            "back_label": back_label or _("Back to the case"),
        },
        status=403,
    )


def case_url(case: Case | int, view: str = "detail", *args) -> str:
    """The URL of a view of the case viewset."""
    pk = case.pk if isinstance(case, Case) else case
    return reverse(f"{CASE_URL_NAMESPACE}:{view}", args=(pk, *args))


# The admin's button class of each tone of action.
BUTTON_CLASSES = {
    actions.PRIMARY: "button",
    actions.SECONDARY: "button button-secondary",
    actions.SERIOUS: "button serious",
}


@dataclass
class CaseAction:
    """One button on the case page, with the form it submits."""

    action: actions.Action
    url: str
    form: CaseActionForm

    @property
    def name(self) -> str:
        return self.action.name

    @property
    def label(self) -> str:
        return self.action.button

    @property
    def classname(self) -> str:
        return BUTTON_CLASSES[self.action.tone]

    @property
    def dialog_id(self) -> str:
        return f"case-action-{self.name}"

    @property
    def needs_dialog(self) -> bool:
        return self.form.has_input_fields


def may_escalate_by_hand(case: Case, user) -> bool:
    """A supervisor may hand the case to the media before the scan would."""
    return (
        case.may_be_escalated_by_hand()
        and user.has_perm("tracking.escalate_case")
        and may_act_on(case, user)
    )


def offered_transitions(case: Case, user) -> list[str]:
    """The transitions the page offers: those django-fsm allows now, and the
    escalation a supervisor may decide on before the threshold (their reason,
    asked for by the form, is what the rule wants)."""
    names = set(available_transitions(case, user))
    if may_escalate_by_hand(case, user):
        names.add("escalate")
    return [name for name in actions.transition_names() if name in names]


def case_actions(case: Case, user) -> list[CaseAction]:
    """The buttons on the case page: forward steps first, then the others."""
    offered = [
        (actions.get(name), case_url(case, "transition", name))
        for name in offered_transitions(case, user)
    ]
    offered += [
        (action, case_url(case, action.url_name))
        for action in actions.other_actions()
        if action.is_available(case, user)
    ]
    buttons = [CaseAction(a, url, a.form_class(case=case)) for a, url in offered]
    return sorted(buttons, key=lambda button: actions.TONES.index(button.action.tone))


# --- the case page -----------------------------------------------------------------


@dataclass
class Stamp:
    """When something happened to the case, as its timeline tells it.

    After a reopen the page shows the current round's instant, labelled so
    (``this_round``); when the current round has none yet, ``pending`` says so and
    ``previous`` is the instant of the round before. ``remark`` explains a gap the
    timeline explains (never acknowledged: the department replied directly), of
    the current round or, with ``pending``, of the round before.
    """

    at: datetime | None = None
    this_round: bool = False
    pending: str = ""
    previous: datetime | None = None
    remark: str = ""


# The events behind each instant on the case page that a reopen starts anew.
ROUND_EVENTS = {
    "dispatched_at": ("dispatch",),
    "acknowledged_at": ("acknowledge",),
    "replied_at": ("reply", "answer"),
}


def _last(events: list[CaseEvent], names, before: datetime | None = None):
    found = [
        e
        for e in events
        if e.action in names and (before is None or e.created_at < before)
    ]
    return found[-1] if found else None


def _unacknowledged_remark(events: list[CaseEvent], since) -> str:
    """Why a dispatch has no acknowledgement, if the timeline says why."""
    if since is None:
        return ""
    after = [e.action for e in events if e.created_at >= since.created_at]
    if "reply" in after:
        return _("the department replied without acknowledging it")
    if "return_case" in after:
        return _("the department returned it without acknowledging it")
    if "escalate" in after:
        return _("it went to the media before it was acknowledged")
    return ""


def case_stamps(case: Case, events: list[CaseEvent]) -> dict[str, Stamp]:
    """The instants of the case page's handling facts, in agreement with the
    timeline (``events``, oldest first): the case's fields are those of the
    current round, which a reopen starts; the events keep the earlier rounds."""
    reopen = _last(events, ("reopen",))
    pending = {
        "dispatched_at": _("not dispatched again since the reopen"),
        "acknowledged_at": _("not acknowledged since the reopen"),
        "replied_at": _("no reply since the reopen"),
    }
    stamps = {}
    for field, names in ROUND_EVENTS.items():
        value = getattr(case, field)
        if reopen is None:
            stamps[field] = Stamp(at=value)
        elif value is not None and value >= reopen.created_at:
            stamps[field] = Stamp(at=value, this_round=True)
        else:
            before = _last(events, names, before=reopen.created_at)
            stamps[field] = Stamp(
                pending=pending[field],
                previous=before.created_at if before else None,
            )
    acknowledged = stamps["acknowledged_at"]
    if acknowledged.at is None and acknowledged.previous is None:
        dispatch = _last(
            events, ("dispatch",), before=reopen.created_at if reopen else None
        )
        acknowledged.remark = _unacknowledged_remark(events, dispatch)
    return stamps


def escalation_forecast(case: Case, now: datetime) -> dict | None:
    """What the page says about the media: when the scan will hand the case over
    if nothing happens, or that it will not by itself (None: nothing to say)."""
    if not case.may_be_escalated_by_hand():
        return None
    at = case.escalates_at()
    if at is None:
        return {"automatic": False}
    return {
        "automatic": True,
        "at": at,
        "day": local_format(at, "MONTH_DAY_FORMAT"),
        "passed": at <= now,
    }


def escalation_decision(case: Case, event: CaseEvent) -> str:
    """The timeline's words for a supervisor's escalation: their decision, early
    when it came before the threshold."""
    if event.action != "escalate" or event.actor is None:
        return ""
    values = {"name": get_user_display_name(event.actor), "reason": event.note}
    days = case.escalated_days_overdue
    if days is not None and days < case.escalation_threshold_days:
        return _("%(name)s escalated it ahead of the threshold: %(reason)s") % values
    return _("%(name)s decided to escalate it: %(reason)s") % values


def calls_of(case: Case) -> list:
    calls = list(case.calls.select_related("operator"))
    for call in calls:
        call.duration_display = format_duration(call.duration_seconds)
    return calls


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
            event.decision = escalation_decision(case, event)
            event.due_line = event.due_text()
        user = self.request.user
        # Read before the buttons: the merge form offers the likeliest one.
        case.possible_duplicates = (
            possible_duplicates(case, user=user)
            if case.state in MERGEABLE_STATES
            else []
        )
        citizen = case.citizen
        pending = pending_extension(case)
        context.update(
            case=case,
            citizen=citizen,
            is_overdue=case.is_overdue(now),
            working_days_overdue=case.working_days_overdue(now),
            stamps=case_stamps(case, events),
            escalation=escalation_forecast(case, now),
            possible_duplicates=case.possible_duplicates,
            caller_history=(
                caller_history(citizen.phone, user=user, exclude_case=case)
                if citizen is not None
                and citizen.phone
                and may_see_caller_history(user)
                else None
            ),
            calls=calls_of(case),
            photos=case.attachments.all(),
            actions=case_actions(case, user),
            responses=case.responses.select_related("department", "recorded_by"),
            callbacks=case.callbacks.select_related("recorded_by"),
            story=hooks.call("get_story", case.pk),
            pending_extension=pending,
            last_extension=None if pending else last_decided_extension(case),
            events=events,
        )
        return context


# --- actions on a case (POST only) -------------------------------------------------


class CaseActionView(View):
    """Bind the action's form, call its service, and say what happened."""

    http_method_names = ["post"]
    #: The registry name of the action (transitions take it from the URL).
    action_name = ""

    @cached_property
    def action(self) -> actions.Action:
        return actions.get(self.action_name)

    def get_form_class(self) -> type[CaseActionForm]:
        return self.action.form_class

    def run(self, case: Case, form: CaseActionForm):
        """Call the action's service with the form's input."""
        return self.action.run(
            case=case,
            user=self.request.user,
            expect_state=form.cleaned_data["expect_state"],
            **form.service_kwargs(),
        )

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
            return forbidden(request, str(exc), case_url(case))
        except CaseError as exc:
            messages.error(request, str(exc))
            return back
        messages.success(request, message)
        return back


class CaseTransitionView(CaseActionView):
    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.action_name = kwargs["transition"]

    def post(self, request, *args, **kwargs):
        if not self.action.transition:
            raise Http404
        return super().post(request, *args, **kwargs)

    def perform(self, case, form):
        case = self.run(case, form)
        return _("Case %(reference)s: %(action)s.") % {
            "reference": case.reference,
            "action": self.action.label,
        }


class CaseCallbackView(CaseActionView):
    action_name = "callback"

    def perform(self, case, form):
        callback = self.run(case, form)
        return _("Callback recorded for case %(reference)s: %(callback)s.") % {
            "reference": case.reference,
            "callback": callback,
        }


class CaseExtendDeadlineView(CaseActionView):
    action_name = "extend"

    def perform(self, case, form):
        case = self.run(case, form)
        return _("The deadline of case %(reference)s is now %(due)s.") % {
            "reference": case.reference,
            "due": local_format(case.due_at, "SHORT_DATETIME_FORMAT"),
        }


class CaseStoryView(CaseActionView):
    action_name = "story"

    def perform(self, case, form):
        story = self.run(case, form)
        return _("Hot Tracking story “%(title)s” is in review.") % {
            "title": getattr(story, "title", "")
        }


class CaseRequestExtensionView(CaseActionView):
    action_name = "extension_requested"

    def perform(self, case, form):
        request = self.run(case, form)
        return ngettext(
            "Case %(reference)s: %(days)s more working day requested; a "
            "supervisor decides.",
            "Case %(reference)s: %(days)s more working days requested; a "
            "supervisor decides.",
            request.working_days,
        ) % {"reference": case.reference, "days": request.working_days}


class CaseGrantExtensionView(CaseActionView):
    action_name = "extension_granted"

    def perform(self, case, form):
        self.run(case, form)
        case.refresh_from_db(fields=["due_at"])
        return _(
            "Extension granted: the deadline of case %(reference)s is now %(due)s."
        ) % {
            "reference": case.reference,
            "due": local_format(case.due_at, "SHORT_DATETIME_FORMAT"),
        }


class CaseRefuseExtensionView(CaseActionView):
    action_name = "extension_refused"

    def perform(self, case, form):
        self.run(case, form)
        return _("Extension of case %(reference)s refused.") % {
            "reference": case.reference
        }
