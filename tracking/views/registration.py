"""Registering a case, from scratch or from a call in the call log."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from .. import services
from ..exceptions import CaseError, CasePermissionDenied
from ..forms import CaseRegisterForm
from ..models import Call, Case, Channel
from ..parsing import whole_number
from .calls import CALLS_URL_NAMESPACE, lookup_context
from .case import case_url

# --- registering a case ------------------------------------------------------------


class CallRefused(Exception):
    """The ``?call=`` of the register form names no call a case can come from."""

    def __init__(self, message: str, status: int, case: Case | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.case = case


class CaseRegisterView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """The register form. With ``?call=<id>`` it registers the case a logged call
    brought: filled in from the call, and the case keeps its call."""

    model = Case
    permission_required = "add"
    form_class = CaseRegisterForm
    template_name = "tracking/admin/case_register.html"
    page_title = gettext_lazy("Register case")
    header_icon = "clipboard-list"
    index_url_name = None
    add_url_name = None

    @cached_property
    def call(self) -> Call | None:
        """The call named by ``?call=``: it must exist, the user must see the
        call log, and it must have no case yet (else :class:`CallRefused`)."""
        raw = self.request.GET.get("call")
        if raw is None:
            return None
        pk = whole_number(raw, max_digits=18)
        if pk is None:
            raise CallRefused(_("This is not a call of the call log."), 400)
        user = self.request.user
        call = None
        if user.has_perm("tracking.view_call"):
            call = Call.objects.select_related("citizen", "case").filter(pk=pk).first()
        if call is None:
            raise CallRefused(_("This call is not in the call log."), 404)
        if call.case_id is not None:
            visible = Case.objects.visible_to(user).filter(pk=call.case_id).exists()
            raise CallRefused(
                _("This call already has its case, %(reference)s.")
                % {"reference": call.case.reference},
                409,
                call.case if visible else None,
            )
        return call

    def refused(self, refusal: CallRefused):
        return TemplateResponse(
            self.request,
            "tracking/admin/refused.html",
            {
                "header_title": _("Register case"),
                "page_title": _("Register case"),
                "message": refusal.message,
                "back_url": case_url(refusal.case)
                if refusal.case
                else reverse(f"{CALLS_URL_NAMESPACE}:index"),
                "back_label": _("Go to the case")
                if refusal.case
                else _("Back to the call log"),
            },
            status=refusal.status,
        )

    def get(self, request, *args, **kwargs):
        try:
            self.call  # noqa: B018 -- validated before anything is shown
        except CallRefused as refusal:
            return self.refused(refusal)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            self.call  # noqa: B018 -- validated again: it may have its case now
        except CallRefused as refusal:
            return self.refused(refusal)
        if "lookup" in request.POST:
            # "Look up the caller": the form again with the number's history.
            form = self.get_form()
            form.is_valid()
            return self.render_to_response(self.get_context_data(form=form))
        return super().post(request, *args, **kwargs)

    def get_initial(self):
        initial = super().get_initial()
        call = self.call
        if call is not None:
            initial.update(
                citizen_phone=call.caller_phone,
                description=call.note,
                channel=Channel.PHONE,
            )
            if call.citizen is not None:
                initial.update(
                    citizen_name=call.citizen.name,
                    citizen_address=call.citizen.address,
                    citizen_email=call.citizen.email,
                )
        elif phone := self.request.GET.get("phone", "")[:30].strip():
            initial["citizen_phone"] = phone
        return initial

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Cases")},
            {"url": "", "label": self.get_page_title()},
        ]

    def form_valid(self, form):
        try:
            case = services.case_register(
                user=self.request.user, call=self.call, **form.service_kwargs()
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
        action_url = reverse(self.add_url_name)
        call = self.call
        if call is not None:
            action_url = f"{action_url}?call={call.pk}"
            context["call"] = call
            context["call_received_at"] = date_format(
                timezone.localtime(call.received_at), "SHORT_DATETIME_FORMAT"
            )
        phone = (
            form.data.get("citizen_phone")
            if form.is_bound
            else form.initial.get("citizen_phone")
        )
        context.update(
            lookup_context(self.request, phone, exclude_call=call.pk if call else None),
            phone_input_id=form["citizen_phone"].id_for_label,
            action_url=action_url,
            submit_button_label=_("Register"),
            submit_button_active_label=_("Registering…"),
            has_unsaved_changes=form.is_bound,
            media=form.media,
        )
        return context
