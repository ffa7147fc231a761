"""GeoReport v2 at /open311/v2/: every endpoint as ``.json`` and ``.xml``."""

from django.urls import re_path

from . import views

app_name = "open311"

FORMAT = r"\.(?P<fmt>[^/.]*)"

urlpatterns = [
    re_path(rf"^discovery{FORMAT}$", views.discovery, name="discovery"),
    re_path(rf"^services{FORMAT}$", views.services_list, name="services"),
    re_path(
        rf"^services/(?P<code>[^/]+?){FORMAT}$",
        views.service_definition,
        name="service",
    ),
    re_path(rf"^requests{FORMAT}$", views.service_requests, name="requests"),
    re_path(
        rf"^requests/(?P<request_id>[^/]+?){FORMAT}$",
        views.service_request,
        name="request",
    ),
    # Anything else here is answered in the spec's error form too.
    re_path(r"^", views.not_found),
]
