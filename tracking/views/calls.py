"""The call log (来电登记): logging a call in a few keystrokes, and what the
hotline knows of the caller's number."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from wagtail.admin import messages
from wagtail.admin.views import generic

from .. import services
from ..duplicates import CallerHistory, caller_history, may_see_caller_history
from ..exceptions import CaseError, CasePermissionDenied
from ..forms import caller_number
from ..models import CallOutcome
from .case import CASE_URL_NAMESPACE

CALLS_URL_NAMESPACE = "tracking_calls"
CALLER_HISTORY_TEMPLATE = "tracking/admin/caller_history.html"


def caller_history_url() -> str:
    return reverse(f"{CALLS_URL_NAMESPACE}:caller_history")


def typed_history(request, raw_phone: str | None, **kwargs) -> CallerHistory | None:
    """The history of a number typed into a form, for users who may see it;
    ``None`` when there is nothing to look up (no number, not a number)."""
    if not may_see_caller_history(request.user):
        return None
    try:
        number = caller_number(raw_phone)
    except ValueError:
        return None
    if not number:
        return None
    return caller_history(number, user=request.user, **kwargs)


def lookup_context(request, raw_phone: str | None, **kwargs) -> dict:
    """Template context of the caller-history box of a form."""
    if not may_see_caller_history(request.user):
        return {}
    return {
        "caller_history": typed_history(request, raw_phone, **kwargs),
        "caller_history_url": caller_history_url(),
    }


class CallerHistoryView(View):
    """The caller-history box as an HTML fragment, for the script of the call
    and register forms (``?phone=``). Officers only."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        if not may_see_caller_history(request.user):
            raise PermissionDenied
        raw = request.GET.get("phone", "")[:40]
        try:
            number = caller_number(raw)
        except ValueError:
            return HttpResponse(
                _(
                    "Enter the caller's number in digits: a mobile number, or a "
                    "landline with its area code."
                ),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        history = (
            caller_history(number, user=request.user)
            if number
            else CallerHistory(phone="")
        )
        return HttpResponse(
            render_to_string(
                CALLER_HISTORY_TEMPLATE, {"history": history}, request=request
            )
        )


class CallCreateView(generic.CreateView):
    """Log a call through :func:`tracking.services.call_register`, which links a
    known caller's citizen. A call that makes a new case leads on to the register
    form, filled in from the call."""

    template_name = "tracking/admin/call_form.html"

    def get_initial(self):
        initial = super().get_initial()
        if phone := self.request.GET.get("phone", "")[:30].strip():
            initial["caller_phone"] = phone
        return initial

    def post(self, request, *args, **kwargs):
        if "lookup" not in request.POST:
            return super().post(request, *args, **kwargs)
        # "Look up the caller": show the form again with the number's history.
        self.object = None
        self.form = self.get_form()
        self.form.is_valid()
        return self.render_to_response(self.get_context_data(form=self.form))

    def form_valid(self, form):
        self.form = form
        try:
            call = services.call_register(
                user=self.request.user, **form.service_kwargs()
            )
        except CasePermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except CaseError as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        self.object = call
        if call.outcome == CallOutcome.CASE_CREATED and call.case_id is None:
            messages.success(
                self.request, _("Call logged. Register the case it brought now.")
            )
            return redirect(f"{reverse(f'{CASE_URL_NAMESPACE}:add')}?call={call.pk}")
        messages.success(self.request, self.get_success_message(call))
        return redirect(self.get_success_url())

    def get_success_message(self, instance):
        if instance.caller_phone:
            return _("Call from %(phone)s logged.") % {"phone": instance.caller_phone}
        return _("Call from a withheld number logged.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        phone = (
            form.data.get("caller_phone")
            if form.is_bound
            else form.initial.get("caller_phone")
        )
        context.update(lookup_context(self.request, phone))
        context["phone_input_id"] = form["caller_phone"].id_for_label
        return context
