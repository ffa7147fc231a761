"""The "Community services" section of the Wagtail admin: partners with their
figures, service orders, trades, and the flags raised about partners."""

from __future__ import annotations

from django import forms
from django.db.models import Count, F
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import BooleanColumn, Column, TitleColumn
from wagtail.admin.views.generic import EditView, IndexView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permissions import register_permission_policy

from ..wagtail_hooks import ViewOnlyPolicy
from . import views, visit_views
from .forms import (
    FollowUpFilterSet,
    PartnerFilterSet,
    ServiceOrderFilterSet,
    SuggestionFilterSet,
)
from .models import (
    CommunityVisit,
    HomeVisit,
    HomeVisitSample,
    Partner,
    PartnerFlag,
    PartnerFollowUp,
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


class PartnerEditView(EditView):
    """The partner's page lists the follow-up work its home visits gave it."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.user.has_perm("partners.view_partnerfollowup"):
            context["follow_ups"] = [
                (follow_up, visit_views.follow_up_url(follow_up))
                for follow_up in self.object.follow_ups.order_by(
                    F("done_at").asc(nulls_first=True), "due_on", "pk"
                )
            ]
        return context


class PartnerViewSet(CommunityModelViewSet):
    model = Partner
    edit_view_class = PartnerEditView
    edit_template_name = "partners/partner_edit.html"
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


# --- home visits (入户回访) ---------------------------------------------------------


class SampleIndexView(IndexView):
    """The campaigns with their figures: one query for the page of campaigns
    (the figures are annotations), whatever the number of visits."""

    def get_base_queryset(self):
        return HomeVisitSample.objects.with_figures().order_by("-drawn_at", "-pk")


def _period_text(sample) -> str:
    return f"{sample.period_start:%Y-%m-%d} – {sample.period_end:%Y-%m-%d}"


class HomeVisitSampleViewSet(CommunityModelViewSet):
    model = HomeVisitSample
    name = visit_views.SAMPLES_URL_NAMESPACE
    url_prefix = "partners/home-visits"
    icon = "home"
    menu_label = gettext_lazy("Home visits")
    index_view_class = SampleIndexView
    list_per_page = 50
    form_fields = ["size"]  # never shown: campaigns are drawn by their service

    @property
    def list_display(self):
        return [
            TitleColumn(
                "period",
                label=gettext_lazy("Served"),
                accessor=_period_text,
                get_url=visit_views.sample_url,
            ),
            "seed",
            "drawn_at",
            Column("visits_count", label=gettext_lazy("Households drawn")),
            Column("planned_count", label=gettext_lazy("Planned")),
            Column(
                "done",
                label=gettext_lazy("Visited"),
                accessor=lambda s: visit_views.share_text(s.done_count, s.visits_count),
            ),
            Column("unreachable_count", label=gettext_lazy("Nobody reached")),
            Column(
                "satisfied",
                label=gettext_lazy("Satisfied"),
                accessor=visit_views.satisfied_text,
            ),
            Column("suggestions_count", label=gettext_lazy("Suggestions")),
        ]

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("new/", visit_views.SampleDrawView.as_view(), name="add"),
            path("<int:pk>/", visit_views.SampleDetailView.as_view(), name="detail"),
            path("visits/<int:pk>/", visit_views.VisitView.as_view(), name="visit"),
        ]


class SuggestionIndexView(IndexView):
    """Every campaign's suggestions, newest first, filterable by partner."""

    def get_add_url(self):
        return None  # visits come from a campaign's draw

    def get_base_queryset(self):
        return (
            HomeVisit.objects.with_suggestions()
            .select_related("sample", "order__case", "order__partner")
            .annotate(follow_ups_count=Count("follow_ups"))
            .order_by("-visited_at", "-pk")
        )


class HomeVisitSuggestionViewSet(CommunityModelViewSet):
    model = HomeVisit
    name = visit_views.SUGGESTIONS_URL_NAMESPACE
    url_prefix = "partners/visit-suggestions"
    icon = "comment"
    menu_label = gettext_lazy("Home visit suggestions")
    index_view_class = SuggestionIndexView
    filterset_class = SuggestionFilterSet
    list_per_page = 50
    form_fields = ["note"]  # never shown: visits are recorded on their page

    @property
    def list_display(self):
        return [
            TitleColumn(
                "suggestions",
                label=gettext_lazy("Suggestions"),
                accessor=lambda v: v.suggestions[:120],
                get_url=visit_views.visit_url,
            ),
            Column(
                "partner", label=gettext_lazy("Partner"), accessor="order.partner.name"
            ),
            Column("case", label=gettext_lazy("Case"), accessor="order.case.reference"),
            Column(
                "verdict",
                label=gettext_lazy("Verdict"),
                accessor=visit_views.verdict_text,
            ),
            "visited_at",
            BooleanColumn(
                "follow_up",
                label=gettext_lazy("Follow-up work given"),
                accessor=lambda v: bool(v.follow_ups_count),
            ),
        ]

    def get_urlpatterns(self):
        allowed = {"index", "index_results"}
        return [p for p in super().get_urlpatterns() if p.name in allowed]


class FollowUpIndexView(IndexView):
    def get_add_url(self):
        return None  # follow-up work is made on a home visit's page

    def get_base_queryset(self):
        return (
            visit_views.follow_ups_visible_to(self.request.user)
            .select_related("partner", "order__case")
            .order_by(F("done_at").asc(nulls_first=True), "due_on", "pk")
        )


class FollowUpURLFinder(ModelAdminURLFinder):
    def construct_edit_url(self, instance):
        return visit_views.follow_up_url(instance)


class PartnerFollowUpViewSet(CommunityModelViewSet):
    model = PartnerFollowUp
    name = visit_views.FOLLOW_UPS_URL_NAMESPACE
    url_prefix = "partners/follow-ups"
    icon = "tasks"
    menu_label = gettext_lazy("Follow-up work")
    index_view_class = FollowUpIndexView
    filterset_class = FollowUpFilterSet
    url_finder_class = FollowUpURLFinder
    list_per_page = 50
    form_fields = ["task"]  # never shown: made from a visit, done on its page

    @property
    def list_display(self):
        return [
            TitleColumn(
                "task",
                label=gettext_lazy("What to do"),
                accessor=lambda f: f.task[:120],
                get_url=visit_views.follow_up_url,
            ),
            Column("partner", label=gettext_lazy("Partner"), accessor="partner.name"),
            Column(
                "case",
                label=gettext_lazy("Case"),
                accessor=lambda f: f.order.case.reference if f.order else "–",
            ),
            "due_on",
            "done_at",
        ]

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("<int:pk>/", visit_views.FollowUpDetailView.as_view(), name="detail"),
        ]


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
    panels = [
        FieldPanel("date"),
        FieldPanel("community"),
        FieldPanel("district"),
        FieldPanel("teams", widget=forms.CheckboxSelectMultiple),
        FieldPanel("partners", widget=forms.CheckboxSelectMultiple),
        FieldPanel("services"),
        FieldPanel("people_served"),
        FieldPanel("summary"),
        InlinePanel(
            "visit_photos",
            label=gettext_lazy("Photos"),
            panels=[FieldPanel("image"), FieldPanel("caption")],
        ),
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
        HomeVisitSampleViewSet,
        HomeVisitSuggestionViewSet,
        PartnerFollowUpViewSet,
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
