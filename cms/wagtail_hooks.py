"""Administrators' screens under Settings: Login lockouts (who is locked out, and
lifting it) and Scheduled tasks (beat's schedule: what runs how often, and when it
last ran)."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import F, Sum, Window
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import PeriodicTask
from wagtail import hooks
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import BasePermissionPolicy
from wagtail.permissions import register_permission_policy

from .auth import lockout_lift


class SuperuserPolicy(BasePermissionPolicy):
    """Active superusers may do ``actions``; nobody else may do anything."""

    def __init__(self, model, actions):
        super().__init__(model)
        self.actions = frozenset(actions)

    def user_has_permission(self, user, action):
        return action in self.actions and user.is_active and user.is_superuser

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def users_with_any_permission(self, actions):
        users = get_user_model().objects.filter(is_active=True, is_superuser=True)
        return users if self.actions.intersection(actions) else users.none()


# Axes writes the rows: superusers view lockouts and lift them, nothing else.
register_permission_policy(
    AccessAttempt, SuperuserPolicy(AccessAttempt, {"view", "delete"})
)
# Migrations create the schedule: superusers pause a task or change how often it
# runs; adding or deleting one is a change of code.
register_permission_policy(
    PeriodicTask, SuperuserPolicy(PeriodicTask, {"view", "change"})
)


def is_locked_out(attempt, now=None) -> bool:
    """Whether the attempt's username is locked out from its address now.

    ``attempt.failures`` counts the failures of the pair over every browser.
    """
    now = now or timezone.now()
    cooloff = settings.AXES_COOLOFF_TIME
    recent = not cooloff or attempt.attempt_time > now - cooloff
    return recent and attempt.failures >= settings.AXES_FAILURE_LIMIT


class LockoutIndexView(generic.IndexView):
    page_title = _("Login lockouts")


class LockoutLiftView(generic.DeleteView):
    page_title = _("Unlock")

    def get_page_subtitle(self):
        return f"{self.object.username} · {self.object.ip_address}"

    @property
    def confirmation_message(self):
        return _(
            "Unlock “%(username)s” from %(ip)s? Every failed login counted for"
            " this user on this address is forgotten."
        ) % {"username": self.object.username, "ip": self.object.ip_address}

    def get_success_message(self):
        return _("“%(username)s” can log in from %(ip)s again.") % {
            "username": self.object.username,
            "ip": self.object.ip_address,
        }

    def delete_action(self):
        lockout_lift(attempt=self.object, user=self.request.user)


class LockoutViewSet(ModelViewSet):
    model = AccessAttempt
    name = "login_lockouts"
    url_prefix = "login-lockouts"
    icon = "lock"
    menu_label = _("Login lockouts")
    add_to_settings_menu = True
    add_to_reference_index = False
    copy_view_enabled = False
    search_backend_name = None
    index_view_class = LockoutIndexView
    delete_view_class = LockoutLiftView
    list_per_page = 100
    form_fields = ["username"]  # never shown: there is no add or edit view

    @property
    def list_display(self):
        return [
            Column("username", label=_("Username")),
            Column("ip_address", label=_("IP address")),
            Column("failures", label=_("Failed logins")),
            DateColumn("attempt_time", label=_("Last failure")),
            BooleanColumn("locked", label=_("Locked out"), accessor=is_locked_out),
        ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=AccessAttempt.objects.annotate(
                failures=Window(
                    Sum("failures_since_start"),
                    partition_by=[F("username"), F("ip_address")],
                )
            ),
            **kwargs,
        )

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(usage_url_name=None, **kwargs)

    def get_permissions_to_register(self):
        # The policy ignores Django permissions: offering them on groups would
        # suggest otherwise.
        return Permission.objects.none()

    def get_urlpatterns(self):
        allowed = {"index", "index_results", "delete"}
        return [p for p in super().get_urlpatterns() if p.name in allowed]


@hooks.register("register_admin_viewset")
def register_lockout_viewset():
    return LockoutViewSet()


class ScheduledTaskViewSet(ModelViewSet):
    """Beat's schedule, kept in the database (django-celery-beat)."""

    model = PeriodicTask
    name = "scheduled_tasks"
    url_prefix = "scheduled-tasks"
    icon = "time"
    menu_label = _("Scheduled tasks")
    add_to_settings_menu = True
    add_to_reference_index = False
    copy_view_enabled = False
    inspect_view_enabled = False
    search_backend_name = None
    form_fields = ["enabled", "interval", "crontab", "description"]

    @property
    def list_display(self):
        return [
            Column("name", label=_("Name")),
            Column("task", label=_("Task")),
            Column("schedule", label=_("Runs"), accessor="scheduler"),
            BooleanColumn("enabled", label=_("Enabled")),
            DateColumn("last_run_at", label=_("Last run")),
            Column("total_run_count", label=_("Runs so far")),
        ]

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(usage_url_name=None, **kwargs)

    def get_permissions_to_register(self):
        return Permission.objects.none()

    def get_urlpatterns(self):
        allowed = {"index", "index_results", "edit"}
        return [p for p in super().get_urlpatterns() if p.name in allowed]


@hooks.register("register_admin_viewset")
def register_scheduled_task_viewset():
    return ScheduledTaskViewSet()
