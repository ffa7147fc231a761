"""Open311 clients in the admin (Hotline → Open311 clients): issue and revoke keys."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.model import ModelViewSet

from .models import ApiClient


class ApiClientViewSet(ModelViewSet):
    model = ApiClient
    name = "tracking_open311_clients"
    url_prefix = "tracking/open311-clients"
    icon = "key"
    menu_label = _("Open311 clients")
    add_to_reference_index = False
    copy_view_enabled = False
    form_fields = ["name"]
