"""The back-office screens of service orders: refer a help request to a partner,
and the order page with its record, rating, rescheduling and cancelling.

Thin views: bind the form, call the service, turn its refusal into a message.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy

from ..calendar import local_zone
from ..exceptions import CaseError, CasePermissionDenied
from ..models import Case
from ..views.case import forbidden as _forbidden
from . import forms, services
from .models import OrderStatus, ServiceOrder, VisitOutcome, partner_id_of

ORDERS_URL_NAMESPACE = "partners_orders"


def order_url(order: ServiceOrder | int, view: str = "detail") -> str:
    pk = order.pk if isinstance(order, ServiceOrder) else order
    return reverse(f"{ORDERS_URL_NAMESPACE}:{view}", args=(pk,))


def orders_index_url() -> str:
    return reverse(f"{ORDERS_URL_NAMESPACE}:index")


def orders_visible_to(user):
    """A partner account's own orders; for staff, the orders of the cases they
    may see (a liaison: their department's)."""
    partner_id = partner_id_of(user)
    if partner_id is not None:
        if not user.has_perm("partners.view_serviceorder"):
            return ServiceOrder.objects.none()
        return ServiceOrder.objects.filter(partner_id=partner_id)
    return ServiceOrder.objects.filter(case__in=Case.objects.visible_to(user))


class OrderCreateView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """Refer a help request to a partner (派给加盟商)."""

    permission_policy = ModelPermissionPolicy(ServiceOrder)
    permission_required = "add"
    template_name = "partners/order_create.html"
    page_title = gettext_lazy("Refer to a partner")
    header_icon = "clipboard-list"

    def get(self, request, *args, **kwargs):
        initial = {"case_reference": request.GET.get("case", "")[:24]}
        return self.render_to_response(
            self.get_context_data(form=forms.OrderCreateForm(initial=initial))
        )

    def post(self, request, *args, **kwargs):
        form = forms.OrderCreateForm(request.POST, user=request.user)
        if form.is_valid():
            start, end = form.window()
            try:
                order = services.order_create(
                    case=form.case,
                    partner=form.cleaned_data["partner"],
                    appointment_start=start,
                    appointment_end=end,
                    user=request.user,
                )
            except CaseError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Case %(reference)s was referred to %(partner)s.")
                    % {"reference": form.case.reference, "partner": order.partner},
                )
                return redirect(order_url(order))
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": orders_index_url(), "label": _("Service orders")},
            {"url": "", "label": self.page_title},
        ]


class StepActionsMixin:
    """A detail page whose forms post an ``action``: each ``_<action>(data)``
    returns the bound forms and, when they are valid, the service call to run.
    A refusal is a 403 page, a domain error re-shows the forms with a 400."""

    ACTIONS: tuple[str, ...] = ()
    unknown_action_message = gettext_lazy("Choose what to do.")

    def step_url(self) -> str:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        if action not in self.ACTIONS:
            messages.error(request, self.unknown_action_message)
            return redirect(self.step_url())
        bound, run = getattr(self, f"_{action}")(request.POST)
        if run is None:
            return self.render_to_response(self.get_context_data(**bound), status=400)
        try:
            message = run()
        except CasePermissionDenied as exc:
            return _forbidden(request, str(exc), self.step_url())
        except CaseError as exc:
            messages.error(request, str(exc))
            return self.render_to_response(self.get_context_data(**bound), status=400)
        messages.success(request, message)
        return redirect(self.step_url())


class OrderDetailView(
    StepActionsMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView
):
    """One service order: its case, partner (with its contact: staff only), the
    appointment, the itemised record, the rating; a form for each action."""

    permission_policy = ModelPermissionPolicy(ServiceOrder)
    permission_required = "view"
    template_name = "partners/order_detail.html"
    page_title = gettext_lazy("Service order")
    header_icon = "clipboard-list"

    ACTIONS = ("record", "rate", "reschedule", "cancel")
    unknown_action_message = gettext_lazy("Choose what to do with the order.")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        self.order = get_object_or_404(
            orders_visible_to(request.user).select_related(
                "case", "partner", "rated_by", "created_by"
            ),
            pk=kwargs["pk"],
        )
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return f"{self.order.case.reference} · {self.order.partner}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": orders_index_url(), "label": _("Service orders")},
            {"url": "", "label": self.get_page_subtitle()},
        ]

    def _forms(self, bound=None, data=None):
        order = self.order
        start = order.appointment_start.astimezone(local_zone())
        built = {
            "record_form": forms.RecordForm(
                initial={
                    "service_done": order.service_done,
                    "complete": order.status == OrderStatus.DONE,
                    "completed_at": order.completed_at,
                }
            ),
            "lines_formset": forms.line_formset(order=order),
            "rate_form": forms.RateForm(
                initial={"rating": order.rating, "comment": order.rating_comment}
            ),
            "reschedule_form": forms.AppointmentForm(
                initial={
                    "day": start.date(),
                    "start": start.time(),
                    "end": order.appointment_end.astimezone(local_zone()).time(),
                }
            ),
            "cancel_form": forms.CancelForm(),
        }
        if bound:
            built.update(bound)
        return built

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        order = self.order
        lines = list(order.lines.all())
        may_change = self.request.user.has_perm("partners.change_serviceorder")
        is_staff = partner_id_of(self.request.user) is None
        context.update(
            order=order,
            case=order.case,
            partner=order.partner,
            lines=lines,
            total=order.total(),
            materials_total=order.materials_total(),
            labour_total=order.labour_total(),
            on_time=order.is_on_time(),
            may_change=may_change,
            is_staff=is_staff,
            is_scheduled=order.status == OrderStatus.SCHEDULED,
            is_done=order.status == OrderStatus.DONE,
            is_cancelled=order.status == OrderStatus.CANCELLED,
            case_url=reverse("tracking_cases:detail", args=(order.case_id,)),
            # What citizens said of this order at home visits: the partner's own
            # account reads it here, for its own orders only.
            home_visits=list(
                order.home_visits.filter(outcome=VisitOutcome.DONE).order_by(
                    "visited_at", "pk"
                )
            ),
        )
        for name, value in self._forms().items():
            context.setdefault(name, value)
        return context

    def step_url(self) -> str:
        return order_url(self.order)

    # Each returns the bound forms, and the service call when they are valid.

    def _record(self, data):
        form = forms.RecordForm(data)
        formset = forms.line_formset(data)
        bound = {"record_form": form, "lines_formset": formset}
        if not (form.is_valid() and formset.is_valid()):
            return bound, None
        complete = form.cleaned_data["complete"]

        def run():
            services.order_record(
                order=self.order,
                lines=forms.lines_of(formset),
                service_done=form.cleaned_data["service_done"],
                completed_at=form.cleaned_data["completed_at"] if complete else None,
                user=self.request.user,
            )
            return _("The service record was saved.")

        return bound, run

    def _rate(self, data):
        form = forms.RateForm(data)
        if not form.is_valid():
            return {"rate_form": form}, None

        def run():
            services.order_rate(
                order=self.order,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                user=self.request.user,
            )
            return _("The citizen's rating was recorded.")

        return {"rate_form": form}, run

    def _reschedule(self, data):
        form = forms.AppointmentForm(data)
        if not form.is_valid():
            return {"reschedule_form": form}, None

        def run():
            start, end = form.window()
            services.order_reschedule(
                order=self.order,
                appointment_start=start,
                appointment_end=end,
                user=self.request.user,
            )
            return _("The appointment was moved.")

        return {"reschedule_form": form}, run

    def _cancel(self, data):
        form = forms.CancelForm(data)
        if not form.is_valid():
            return {"cancel_form": form}, None

        def run():
            services.order_cancel(
                order=self.order,
                reason=form.cleaned_data["reason"],
                user=self.request.user,
            )
            return _("The order was cancelled.")

        return {"cancel_form": form}, run
