"""The Donations (爱心捐赠) section of the Wagtail admin: the offers with their
status, a form to take an offer, and the offer page with its steps. Officers and
supervisors only: nobody else holds the donations permissions."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.viewsets.model import ModelViewSet

from . import views
from .forms import DonationFilterSet
from .models import DonationOffer


class OfferIndexView(views.DonationsOnlyMixin, IndexView):
    def get_base_queryset(self):
        return DonationOffer.objects.select_related(
            "donor", "match__case", "confirmation"
        ).order_by("-offered_at", "-pk")


class OfferURLFinder(ModelAdminURLFinder):
    def construct_edit_url(self, instance):
        return views.offer_url(instance)


def _recipient(offer) -> str:
    match = getattr(offer, "match", None)
    return match.case.reference if match is not None else "–"


def _confirmation(offer) -> str:
    if not offer.needs_confirmation:
        return "–"
    decision = getattr(offer, "confirmation", None)
    if decision is None:
        return str(gettext_lazy("Awaiting confirmation"))
    if decision.approved:
        return str(gettext_lazy("Confirmed"))
    return str(gettext_lazy("Refused"))


class DonationOfferViewSet(ModelViewSet):
    model = DonationOffer
    name = views.URL_NAMESPACE
    url_prefix = "donations"
    icon = "pick"
    menu_label = gettext_lazy("Donations")
    menu_order = 165
    add_to_admin_menu = True
    add_to_reference_index = False
    copy_view_enabled = False
    index_view_class = OfferIndexView
    filterset_class = DonationFilterSet
    search_fields = ["item", "district"]
    search_backend_name = None
    list_per_page = 50
    url_finder_class = OfferURLFinder
    form_fields = ["item"]  # never shown: offers change through their services

    @property
    def list_display(self):
        return [
            TitleColumn(
                "item",
                label=gettext_lazy("Donated item"),
                accessor=str,
                get_url=lambda offer: views.offer_url(offer),
            ),
            Column(
                "category",
                label=gettext_lazy("Kind of item"),
                accessor="get_category_display",
            ),
            "district",
            "offered_at",
            Column(
                "status", label=gettext_lazy("Status"), accessor="get_status_display"
            ),
            Column(
                "confirmation",
                label=gettext_lazy("Confirmation"),
                accessor=_confirmation,
            ),
            Column(
                "recipient", label=gettext_lazy("Help request"), accessor=_recipient
            ),
        ]

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("new/", views.OfferCreateView.as_view(), name="add"),
            path("<int:pk>/", views.OfferDetailView.as_view(), name="detail"),
        ]


@hooks.register("register_admin_viewset")
def register_donation_viewset():
    return DonationOfferViewSet()
