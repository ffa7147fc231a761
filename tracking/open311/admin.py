"""Open311 clients in the admin (Hotline → Open311 clients): issue and revoke keys.

A new key is shown once, on the page that answers its creation: it is not kept
anywhere (not in a message, not in the session), only its digest. Clients are
revoked, never deleted: the cases they posted still name them.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, DateColumn, UserColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from .models import ApiClient


class NoDeletePolicy(ModelPermissionPolicy):
    """Clients are revoked, not deleted."""

    def user_has_permission(self, user, action):
        return action != "delete" and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


register_permission_policy(ApiClient, NoDeletePolicy(ApiClient))


def revoke_url(client: ApiClient) -> str:
    return reverse(f"{ApiClientViewSet.name}:revoke", args=(client.pk,))


class ApiClientIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.is_active and self.user_has_permission("change"):
            buttons.append(
                MenuItem(
                    _("Revoke key"),
                    url=revoke_url(instance),
                    icon_name="cross",
                    priority=30,
                )
            )
        return buttons


class ApiClientCreateView(generic.CreateView):
    """Issue a client and its key; the answer is the one page that shows it."""

    key_template_name = "tracking/open311/key_issued.html"
    success_message = None

    def save_instance(self):
        client, self.issued_key = ApiClient.issue(
            self.form.cleaned_data["name"], user=self.request.user
        )
        log(client, "wagtail.create", user=self.request.user)
        return client

    def save_action(self):
        context = self.get_context_data(form=self.form)
        context.update(
            client=self.object,
            key=self.issued_key,
            index_url=reverse(self.index_url_name),
        )
        response = TemplateResponse(self.request, self.key_template_name, context)
        add_never_cache_headers(response)
        return response


class ApiClientRevokeView(
    PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView
):
    """Confirm, then revoke: the key stops working at once; the row stays."""

    model = ApiClient
    permission_required = "change"
    template_name = "tracking/open311/revoke.html"
    page_title = gettext_lazy("Revoke key")
    header_icon = "key"
    index_url_name = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(ApiClient, pk=kwargs["pk"])

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Open311 clients")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            client=self.object,
            index_url=reverse(self.index_url_name),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if self.object.is_active:
            self.object.revoke()
            messages.success(
                request,
                _("The key of %(client)s is revoked: it no longer works.")
                % {"client": self.object.name},
            )
        return redirect(self.index_url_name)


class ApiClientViewSet(ModelViewSet):
    model = ApiClient
    name = "tracking_open311_clients"
    url_prefix = "tracking/open311-clients"
    icon = "key"
    menu_label = gettext_lazy("Open311 clients")
    add_to_reference_index = False
    copy_view_enabled = False
    search_backend_name = None
    search_fields = ["name", "key_prefix"]
    index_view_class = ApiClientIndexView
    add_view_class = ApiClientCreateView
    form_fields = ["name"]

    @property
    def list_display(self):
        return [
            "name",
            Column("key_prefix", label=_("Key starts with")),
            DateColumn("created_at", label=_("Issued at")),
            UserColumn("created_by", label=_("Issued by")),
            DateColumn("last_used_at", label=_("Last used at")),
            DateColumn("revoked_at", label=_("Revoked at")),
        ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=ApiClient.objects.select_related("created_by"), **kwargs
        )

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            delete_url_name=None, usage_url_name=None, **kwargs
        )

    @property
    def revoke_view(self):
        return self.construct_view(ApiClientRevokeView)

    def get_urlpatterns(self):
        kept = [
            pattern
            for pattern in super().get_urlpatterns()
            if pattern.name not in {"delete", "usage"}
        ]
        return [
            *kept,
            path("revoke/<int:pk>/", self.revoke_view, name="revoke"),
        ]
