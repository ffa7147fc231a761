"""The "Hotline" section of the Wagtail admin: cases, calls, reference data and
the statistics dashboard."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import path, re_path
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import BooleanColumn, Column, TitleColumn, UserColumn
from wagtail.admin.views.generic.models import CreateView
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from . import views
from .filters import (
    CallFilterSet,
    CaseFilterSet,
    OutboxFilterSet,
    WorkingCalendarFilterSet,
)
from .forms import CallForm, CaseRegisterForm, CensorRuleForm
from .models import (
    Call,
    Case,
    Category,
    CensorRule,
    Department,
    ExtensionRequest,
    OutboxMessage,
    WorkingCalendar,
)
from .open311.admin import ApiClientViewSet


class HotlineModelViewSet(ModelViewSet):
    """Shared settings of the Hotline viewsets.

    Wagtail's reference index is left out: it would have to index every case save
    to count usages, and the case workflow keeps its writes to what the services do.
    Without it a usage count would be wrong, so there is no usage view either.
    """

    add_to_reference_index = False
    copy_view_enabled = False
    search_backend_name = None

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(usage_url_name=None, **kwargs)

    def get_urlpatterns(self):
        return [
            pattern
            for pattern in super().get_urlpatterns()
            if pattern.name not in {"usage"}
        ]


class CaseAdminURLFinder(ModelAdminURLFinder):
    """Links to a case lead to its case page, for whoever may see the case."""

    def construct_edit_url(self, instance):
        return views.case_url(instance)

    def get_edit_url(self, instance):
        if self.user is not None and not (
            Case.objects.visible_to(self.user).filter(pk=instance.pk).exists()
        ):
            return None
        return self.construct_edit_url(instance)


class CaseViewSet(HotlineModelViewSet):
    model = Case
    name = views.CASE_URL_NAMESPACE
    url_prefix = "tracking/cases"
    icon = "clipboard-list"
    menu_label = _("Cases")
    index_view_class = views.CaseIndexView
    add_view_class = views.CaseRegisterView
    filterset_class = CaseFilterSet
    search_fields = ["reference", "title", "citizen__phone"]
    list_per_page = 50
    url_finder_class = CaseAdminURLFinder

    def get_form_class(self, for_update=False):
        return CaseRegisterForm

    def get_permissions_to_register(self):
        # The transition permissions, for the group editor; change and delete mean
        # nothing here, as cases change through their transitions only.
        return Permission.objects.filter(
            Q(content_type=ContentType.objects.get_for_model(Case))
            | Q(
                content_type=ContentType.objects.get_for_model(ExtensionRequest),
                codename="request_extension",
            )
        ).exclude(codename__in=["change_case", "delete_case"])

    @property
    def detail_view(self):
        return self.construct_view(views.CaseDetailView)

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("new/", self.add_view, name="add"),
            path("<int:pk>/", self.detail_view, name="detail"),
            path(
                "<int:pk>/transitions/<str:transition>/",
                views.CaseTransitionView.as_view(),
                name="transition",
            ),
            path(
                "<int:pk>/callbacks/", views.CaseCallbackView.as_view(), name="callback"
            ),
            path("<int:pk>/story/", views.CaseStoryView.as_view(), name="story"),
            path(
                "<int:pk>/deadline/",
                views.CaseExtendDeadlineView.as_view(),
                name="extend_deadline",
            ),
            path(
                "<int:pk>/extension/request/",
                views.CaseRequestExtensionView.as_view(),
                name="request_extension",
            ),
            path(
                "<int:pk>/extension/grant/",
                views.CaseGrantExtensionView.as_view(),
                name="grant_extension",
            ),
            path(
                "<int:pk>/extension/refuse/",
                views.CaseRefuseExtensionView.as_view(),
                name="refuse_extension",
            ),
            path(
                "<int:pk>/photos/<int:attachment_pk>/",
                views.CasePhotoView.as_view(),
                name="photo",
            ),
        ]


class CallViewSet(HotlineModelViewSet):
    model = Call
    name = "tracking_calls"
    url_prefix = "tracking/calls"
    icon = "mobile-alt"
    menu_label = _("Call log")
    add_view_class = views.CallCreateView
    filterset_class = CallFilterSet
    search_fields = ["caller_phone", "case__reference"]
    list_per_page = 50

    def get_form_class(self, for_update=False):
        return CallForm

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(
                "caller-history/",
                views.CallerHistoryView.as_view(),
                name="caller_history",
            ),
        ]

    @property
    def list_display(self):
        return [
            "received_at",
            "caller_phone",
            "duration_seconds",
            Column("outcome", label=_("Outcome"), accessor="get_outcome_display"),
            Column("case", label=_("Case"), accessor="case.reference"),
            UserColumn("operator", label=_("Operator")),
        ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=Call.objects.select_related("case", "operator"), **kwargs
        )


class DepartmentViewSet(HotlineModelViewSet):
    model = Department
    name = "tracking_departments"
    url_prefix = "tracking/departments"
    icon = "group"
    delete_view_class = views.ProtectedDeleteView
    form_fields = ["name", "short_name", "email", "phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "short_name"]

    @property
    def list_display(self):
        return [
            "name",
            "short_name",
            "email",
            "phone",
            BooleanColumn("is_active", label=_("Active")),
        ]


class CategoryViewSet(HotlineModelViewSet):
    model = Category
    name = "tracking_categories"
    url_prefix = "tracking/categories"
    icon = "tag"
    delete_view_class = views.ProtectedDeleteView
    form_fields = [
        "name",
        "service_code",
        "description",
        "default_department",
        "handling_days",
        "acknowledge_limit",
        "acknowledge_unit",
        "escalates",
        "escalation_threshold_days",
        "is_active",
    ]
    list_filter = ["is_active", "escalates", "default_department"]
    search_fields = ["name", "service_code"]

    @property
    def list_display(self):
        return [
            "name",
            "service_code",
            "default_department",
            "handling_days",
            BooleanColumn("escalates", label=_("Escalates to the media")),
            BooleanColumn("is_active", label=_("Active")),
        ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=Category.objects.select_related("default_department"), **kwargs
        )


class WorkingCalendarViewSet(HotlineModelViewSet):
    model = WorkingCalendar
    name = "tracking_calendar"
    url_prefix = "tracking/calendar"
    icon = "calendar"
    menu_label = _("Working calendar")
    index_view_class = views.WorkingCalendarIndexView
    filterset_class = WorkingCalendarFilterSet
    form_fields = ["date", "is_workday", "name", "source"]
    search_fields = ["name"]
    list_per_page = 100

    @property
    def list_display(self):
        return [
            "date",
            BooleanColumn("is_workday", label=_("Working day")),
            "name",
            "source",
        ]


class CensorRuleCreateView(CreateView):
    def get_initial(self):
        # "Add a censor rule for this case", from a story's edit page.
        initial = super().get_initial()
        reference = self.request.GET.get("case", "")[:24]
        if reference:
            initial["case_reference"] = reference
        return initial


class CensorRuleViewSet(HotlineModelViewSet):
    model = CensorRule
    add_view_class = CensorRuleCreateView
    name = "tracking_censor_rules"
    url_prefix = "tracking/censor-rules"
    icon = "warning"
    menu_label = _("Censor rules")
    list_filter = ["is_regex", "is_active"]
    search_fields = ["pattern", "reason"]

    def get_form_class(self, for_update=False):
        return CensorRuleForm

    @property
    def list_display(self):
        return [
            "pattern",
            "replacement",
            BooleanColumn("is_regex", label=_("Regular expression")),
            Column("case", label=_("Case"), accessor="case.reference"),
            "reason",
            UserColumn("created_by", label=_("Added by")),
            BooleanColumn("is_active", label=_("Active")),
        ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=CensorRule.objects.select_related("case", "created_by"), **kwargs
        )


class ViewOnlyPolicy(ModelPermissionPolicy):
    """Whoever may view may only view: rows change through their own code."""

    def user_has_permission(self, user, action):
        return action == "view" and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


register_permission_policy(OutboxMessage, ViewOnlyPolicy(OutboxMessage))


class OutboxViewSet(HotlineModelViewSet):
    """Outgoing notifications, for administrators: what waits, what failed, why."""

    model = OutboxMessage
    name = "tracking_outbox"
    url_prefix = "tracking/outbox"
    icon = "mail"
    menu_label = _("Outgoing notifications")
    filterset_class = OutboxFilterSet
    inspect_view_enabled = True
    list_per_page = 100
    form_fields = ["task"]  # never shown: there is no add or edit view

    @property
    def list_display(self):
        return [
            TitleColumn(
                "task",
                label=OutboxMessage._meta.get_field("task").verbose_name,
                url_name=self.get_url_name("inspect"),
            ),
            "args",
            "created_at",
            "sent_at",
            "attempts",
            "due_at",
            "claimed_until",
            "last_error",
        ]

    def get_urlpatterns(self):
        allowed = {"index", "index_results", "inspect"}
        return [p for p in super().get_urlpatterns() if p.name in allowed]


class StatisticsMenuItem(MenuItem):
    def is_shown(self, request):
        return views.may_see_statistics(request.user)


class StatisticsViewSet(ViewSet):
    """The statistics dashboard (统计) and its exports; the views check who may
    see it, and scope a liaison to their department."""

    name = views.STATISTICS_URL_NAMESPACE
    url_prefix = "tracking/statistics"
    icon = "table"
    menu_label = _("Statistics")

    @cached_property
    def menu_item_class(self):
        return StatisticsMenuItem

    def get_urlpatterns(self):
        return [
            path("", views.StatisticsView.as_view(), name="index"),
            re_path(
                r"^(?P<table>departments|daily)\.(?P<fmt>csv|xlsx)$",
                views.StatisticsExportView.as_view(),
                name="export",
            ),
        ]


class HotlineViewSetGroup(ModelViewSetGroup):
    menu_label = _("Hotline")
    menu_icon = "mobile-alt"
    menu_order = 150
    items = (
        CaseViewSet,
        CallViewSet,
        StatisticsViewSet,
        DepartmentViewSet,
        CategoryViewSet,
        WorkingCalendarViewSet,
        CensorRuleViewSet,
        ApiClientViewSet,
        OutboxViewSet,
    )


@hooks.register("register_admin_viewset")
def register_hotline_viewsets():
    return HotlineViewSetGroup()


@hooks.register("construct_homepage_panels")
def add_hotline_home_panels(request, panels):
    """Each hotline role's home is its work queues; Wagtail's page panels are
    left to who edits pages. The missing-calendar banner stays on top."""
    from .views import home

    home.prune_page_panels(request.user, panels)
    if panel := views.missing_calendar_panel(request.user):
        panels.append(panel)
    panels.extend(home.home_panels(request.user))
