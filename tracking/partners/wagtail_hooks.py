"""The "Community services" section of the Wagtail admin: partners with their
figures, service orders, trades, and the flags raised about partners."""

from __future__ import annotations

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import BooleanColumn, Column, TitleColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permissions import register_permission_policy

from ..wagtail_hooks import ViewOnlyPolicy
from . import views
from .forms import PartnerFilterSet, ServiceOrderFilterSet
from .models import (
    CommunityVisit,
    Partner,
    PartnerFlag,
    ServiceOrder,
    ServiceTeam,
    Trade,
    complaints_threshold,
    complaints_window,
)
from .permissions import SUPERVISOR


class CommunityModelViewSet(ModelViewSet):
    add_to_reference_index = False
    copy_view_enabled = False
    search_backend_name = None

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(usage_url_name=None, **kwargs)

    def get_urlpatterns(self):
        return [p for p in super().get_urlpatterns() if p.name not in {"usage"}]


# --- partners ------------------------------------------------------------------------


def on_time_text(partner) -> str:
    if not partner.due_count:
        return "–"
    share = round(100 * partner.on_time_count / partner.due_count)
    return _("%(share)s%% (%(on_time)s of %(due)s)") % {
        "share": share,
        "on_time": partner.on_time_count,
        "due": partner.due_count,
    }


def rating_text(partner) -> str:
    if not partner.rated_count:
        return "–"
    return _("%(average).1f (n = %(count)s)") % {
        "average": partner.rating_avg,
        "count": partner.rated_count,
    }


def complaints_text(partner) -> str:
    return _("%(recent)s recent, %(total)s in all") % {
        "recent": partner.recent_complaints,
        "total": partner.complaints_count,
    }


def is_flagged(partner) -> bool:
    return partner.recent_complaints >= complaints_threshold()


class PartnerIndexView(IndexView):
    """The partners with their figures: one query for the page of partners (the
    figures are annotations), one for their trades, whatever their orders."""

    def get_base_queryset(self):
        return (
            Partner.objects.with_figures(timezone.now())
            .prefetch_related("trades")
            .order_by("name")
        )


class PartnerViewSet(CommunityModelViewSet):
    model = Partner
    name = "partners_partners"
    url_prefix = "partners/partners"
    icon = "group"
    menu_label = gettext_lazy("Partners")
    index_view_class = PartnerIndexView
    filterset_class = PartnerFilterSet
    search_fields = ["name", "service_area"]
    list_per_page = 50
    form_fields = [
        "name",
        "trades",
        "service_area",
        "joined_on",
        "is_active",
        "master_has_disability",
        "contact_name",
        "contact_phone",
        "notes",
    ]

    @property
    def list_display(self):
        return [
            "name",
            Column(
                "trades",
                label=gettext_lazy("Trades"),
                accessor=lambda p: "、".join(t.name for t in p.trades.all()),
            ),
            "service_area",
            BooleanColumn(
                "master_has_disability", label=gettext_lazy("Master with a disability")
            ),
            Column("orders_count", label=gettext_lazy("Orders")),
            Column("on_time", label=gettext_lazy("On time"), accessor=on_time_text),
            Column("rating", label=gettext_lazy("Rating"), accessor=rating_text),
            Column(
                "complaints", label=gettext_lazy("Complaints"), accessor=complaints_text
            ),
            BooleanColumn(
                "flagged",
                label=gettext_lazy("Flagged for complaints"),
                accessor=is_flagged,
            ),
            BooleanColumn("is_active", label=gettext_lazy("Active")),
        ]


class TradeViewSet(CommunityModelViewSet):
    model = Trade
    name = "partners_trades"
    url_prefix = "partners/trades"
    icon = "tag"
    menu_label = gettext_lazy("Trades")
    form_fields = ["name"]
    search_fields = ["name"]


# --- service orders ------------------------------------------------------------------


class OrderIndexView(IndexView):
    def get_base_queryset(self):
        return (
            views.orders_visible_to(self.request.user)
            .with_totals()
            .select_related("case", "partner")
            .order_by("-appointment_start", "-pk")
        )


class OrderURLFinder(ModelAdminURLFinder):
    def construct_edit_url(self, instance):
        return views.order_url(instance)


class ServiceOrderViewSet(CommunityModelViewSet):
    model = ServiceOrder
    name = views.ORDERS_URL_NAMESPACE
    url_prefix = "partners/orders"
    icon = "clipboard-list"
    menu_label = gettext_lazy("Service orders")
    index_view_class = OrderIndexView
    filterset_class = ServiceOrderFilterSet
    search_fields = ["case__reference", "partner__name"]
    list_per_page = 50
    url_finder_class = OrderURLFinder
    form_fields = ["partner"]  # never shown: orders change through their services

    @property
    def list_display(self):
        return [
            TitleColumn(
                "case",
                label=gettext_lazy("Case"),
                accessor="case.reference",
                get_url=lambda order: views.order_url(order),
            ),
            Column("partner", label=gettext_lazy("Partner"), accessor="partner.name"),
            "appointment_start",
            Column(
                "status", label=gettext_lazy("Status"), accessor="get_status_display"
            ),
            "completed_at",
            Column("amount_total", label=gettext_lazy("Total (yuan)")),
            "rating",
        ]

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("new/", views.OrderCreateView.as_view(), name="add"),
            path("<int:pk>/", views.OrderDetailView.as_view(), name="detail"),
        ]


# Flags are written by the rating service only.
register_permission_policy(PartnerFlag, ViewOnlyPolicy(PartnerFlag))


class PartnerFlagViewSet(CommunityModelViewSet):
    model = PartnerFlag
    name = "partners_flags"
    url_prefix = "partners/flags"
    icon = "warning"
    menu_label = gettext_lazy("Partner flags")
    form_fields = ["partner"]  # never shown: there is no add or edit view
    list_per_page = 50

    @property
    def list_display(self):
        return [
            Column("partner", label=gettext_lazy("Partner"), accessor="partner.name"),
            "complaints",
            "raised_at",
            Column(
                "order",
                label=gettext_lazy("Complaint that raised it"),
                accessor="order.case.reference",
            ),
        ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=PartnerFlag.objects.select_related("partner", "order__case"),
            **kwargs,
        )

    def get_urlpatterns(self):
        allowed = {"index", "index_results"}
        return [p for p in super().get_urlpatterns() if p.name in allowed]


# --- community visit days (社区月月进) ----------------------------------------------


class CommunityVisitIndexView(IndexView):
    def get_base_queryset(self):
        return CommunityVisit.objects.prefetch_related("teams").order_by("-date", "-pk")


class CommunityVisitViewSet(CommunityModelViewSet):
    model = CommunityVisit
    name = "partners_community_visits"
    url_prefix = "partners/community-visits"
    icon = "date"
    menu_label = gettext_lazy("Community visit days")
    index_view_class = CommunityVisitIndexView
    search_fields = ["community", "district", "services"]
    list_per_page = 50
    form_fields = [
        "date",
        "community",
        "district",
        "teams",
        "partners",
        "services",
        "people_served",
        "summary",
        "photos",
    ]

    @property
    def list_display(self):
        return [
            "date",
            "community",
            "district",
            Column(
                "teams",
                label=gettext_lazy("Service teams"),
                accessor=lambda v: "、".join(t.name for t in v.teams.all()),
            ),
            "people_served",
        ]


class ServiceTeamViewSet(CommunityModelViewSet):
    model = ServiceTeam
    name = "partners_service_teams"
    url_prefix = "partners/service-teams"
    icon = "group"
    menu_label = gettext_lazy("Service teams")
    form_fields = ["name"]
    search_fields = ["name"]


class CommunityServicesGroup(ModelViewSetGroup):
    menu_label = gettext_lazy("Community services")
    menu_icon = "group"
    menu_order = 160
    items = (
        ServiceOrderViewSet,
        PartnerViewSet,
        TradeViewSet,
        PartnerFlagViewSet,
        CommunityVisitViewSet,
        ServiceTeamViewSet,
    )


@hooks.register("register_admin_viewset")
def register_community_viewsets():
    return CommunityServicesGroup()


# --- supervisors' home: partners flagged now ------------------------------------------


class FlaggedPartnersPanel(Component):
    name = "flagged_partners"
    order = 90
    template_name = "partners/flagged_panel.html"

    def __init__(self, partners):
        self.partners = partners

    def get_context_data(self, parent_context=None):
        return {
            "partners": self.partners,
            "threshold": complaints_threshold(),
            "days": complaints_window().days,
        }


def may_manage_partners(user) -> bool:
    return all(user.has_perm(f"{app}.{codename}") for app, codename in SUPERVISOR)


@hooks.register("construct_homepage_panels")
def add_flagged_partners_panel(request, panels):
    """Supervisors see the partners with repeated complaints on their home."""
    if not may_manage_partners(request.user):
        return
    flagged = list(Partner.objects.flagged().order_by("-recent_complaints", "name"))
    if flagged:
        panels.append(FlaggedPartnersPanel(flagged))
