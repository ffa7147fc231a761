"""Donations: the back-office screens (take an offer; the offer page with its
steps) and the public list of matched donations.

Thin views: bind the form, call the service, turn its refusal into a message.
"""

from __future__ import annotations

from django.core.paginator import EmptyPage, Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy

from ..exceptions import CaseError, CasePermissionDenied
from ..parsing import whole_number
from ..views.case import case_url
from ..views.case import forbidden as forbidden_response
from . import forms, selectors, services
from .models import DonationOffer, DonationStatus

URL_NAMESPACE = "donations_offers"
PER_PAGE = 20


def offer_url(offer: DonationOffer | int, view: str = "detail") -> str:
    pk = offer.pk if isinstance(offer, DonationOffer) else offer
    return reverse(f"{URL_NAMESPACE}:{view}", args=(pk,))


def offers_index_url() -> str:
    return reverse(f"{URL_NAMESPACE}:index")


# --- public ---------------------------------------------------------------------------


def public_list(request):
    """爱心传递: matched and handed-over donations, item, month and district only.

    ``page`` is a page number or the page is not found (404), never a server
    error.
    """
    number = whole_number(request.GET.get("page", "1"), max_digits=6)
    if number is None:
        raise Http404("no such page")
    paginator = Paginator(selectors.public_matches(), PER_PAGE)
    try:
        page_obj = paginator.page(number)
    except EmptyPage:
        raise Http404("no such page") from None
    return render(
        request,
        "donations/public/list.html",
        {
            "page_obj": page_obj,
            "donations": selectors.public_donations(page_obj.object_list),
        },
    )


# --- back office ----------------------------------------------------------------------


def forbidden(request):
    """A plain 403 with a way back to the dashboard."""
    return forbidden_response(
        request,
        _("Donations are handled by the hotline's case officers and supervisors only."),
        reverse("wagtailadmin_home"),
        _("Back to the dashboard"),
    )


class DonationsOnlyMixin:
    """Answers 403 to a signed-in user without ``permission_needed``."""

    permission_needed = "donations.view_donationoffer"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not user.has_perm(self.permission_needed):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)


class OfferCreateView(
    DonationsOnlyMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView
):
    """Take an offer (登记捐赠)."""

    permission_needed = "donations.add_donationoffer"
    permission_policy = ModelPermissionPolicy(DonationOffer)
    permission_required = "add"
    template_name = "donations/admin/create.html"
    page_title = gettext_lazy("Record a donation offer")
    header_icon = "pick"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(
            self.get_context_data(form=forms.OfferCreateForm())
        )

    def post(self, request, *args, **kwargs):
        form = forms.OfferCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                offer = services.donation_offer_create(
                    item=data["item"],
                    category=data["category"],
                    condition=data["condition"],
                    quantity=data["quantity"],
                    unit=data["unit"],
                    district=data["district"],
                    pickup_address=data["pickup_address"],
                    donor=form.donor(),
                    channel=data["channel"],
                    note=data["note"],
                    needs_confirmation=data["needs_confirmation"],
                    user=request.user,
                )
            except CaseError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("The offer of %(item)s was recorded.") % {"item": offer.item},
                )
                return redirect(offer_url(offer))
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": offers_index_url(), "label": _("Donations")},
            {"url": "", "label": self.page_title},
        ]


class OfferDetailView(
    DonationsOnlyMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView
):
    """One offer: the item, the donor (staff only), its steps, and a form for
    each step still possible."""

    permission_policy = ModelPermissionPolicy(DonationOffer)
    permission_required = "view"
    template_name = "donations/admin/detail.html"
    page_title = gettext_lazy("Donation offer")
    header_icon = "pick"

    FORMS = {
        "confirm": forms.ConfirmForm,
        "flag": forms.FlagForm,
        "match": forms.MatchForm,
        "hand_over": forms.HandOverForm,
        "withdraw": forms.WithdrawForm,
    }

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.has_perm(self.permission_needed):
            self.offer = get_object_or_404(
                DonationOffer.objects.select_related(
                    "donor", "confirmation__decided_by", "match__case"
                ),
                pk=kwargs["pk"],
            )
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.offer)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": offers_index_url(), "label": _("Donations")},
            {"url": "", "label": self.get_page_subtitle()},
        ]

    def _make(self, name, data=None):
        form_class = self.FORMS[name]
        if form_class is forms.MatchForm:
            return form_class(data, user=self.request.user, prefix=name)
        return form_class(data, prefix=name)

    def _steps(self) -> set[str]:
        offer = self.offer
        if offer.status == DonationStatus.OFFERED:
            decided = hasattr(offer, "confirmation")
            if offer.needs_confirmation and not decided:
                return {"confirm", "withdraw"}
            steps = {"match", "withdraw"}
            if not offer.needs_confirmation:
                steps.add("flag")
            return steps
        if offer.status == DonationStatus.MATCHED:
            return {"hand_over", "withdraw"}
        return set()

    def get_context_data(self, bound=None, **kwargs):
        context = super().get_context_data(**kwargs)
        offer = self.offer
        may_change = self.request.user.has_perm("donations.change_donationoffer")
        steps = self._steps() if may_change else set()
        if not self.request.user.has_perm("donations.confirm_donationoffer"):
            steps.discard("confirm")
        built = {f"{name}_form": self._make(name) for name in steps}
        if bound is not None:
            built[f"{bound[0]}_form"] = bound[1]
        match = getattr(offer, "match", None)
        context.update(
            built,
            offer=offer,
            donor=offer.donor,
            confirmation=getattr(offer, "confirmation", None),
            match=match,
            case_url=case_url(match.case_id) if match is not None else "",
            events=offer.events.select_related("user"),
            steps=steps,
        )
        return context

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        if action not in self._steps() or action not in self.FORMS:
            messages.error(request, _("That step is not possible for this offer now."))
            return redirect(offer_url(self.offer))
        form = self._make(action, request.POST)
        if form.is_valid():
            try:
                self._run(action, form)
            except CasePermissionDenied as exc:
                return forbidden_response(
                    request, str(exc), offer_url(self.offer), _("Back to the offer")
                )
            except CaseError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Saved."))
                return redirect(offer_url(self.offer))
        return self.render_to_response(
            self.get_context_data(bound=(action, form)), status=400
        )

    def _run(self, action, form):
        data, user, offer = form.cleaned_data, self.request.user, self.offer
        if action == "confirm":
            services.donation_confirm(
                offer=offer,
                approve=data["decision"] == "confirm",
                reason=data["reason"],
                user=user,
            )
        elif action == "flag":
            services.donation_require_confirmation(
                offer=offer, reason=data["reason"], user=user
            )
        elif action == "match":
            services.donation_match(
                offer=offer, case=form.case, note=data["note"], user=user
            )
        elif action == "hand_over":
            services.donation_hand_over(offer=offer, note=data["note"], user=user)
        elif action == "withdraw":
            services.donation_withdraw(offer=offer, reason=data["reason"], user=user)
