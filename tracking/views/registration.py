"""Registering a case."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from .. import services
from ..exceptions import CaseError, CasePermissionDenied
from ..forms import CaseRegisterForm
from ..models import Case
from .case import case_url

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
