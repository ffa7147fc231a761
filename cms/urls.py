from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from newsroom import views as newsroom_views

from . import health, media, page_chooser

urlpatterns = [
    # For the load balancer and monitoring: database, broker, beat (cms.health).
    path("healthz", health.healthz, name="healthz"),
    # In front of Wagtail's own: these check that the pages asked for by id may
    # be chosen by the user (see cms.page_chooser).
    path("admin/choose-page/<int:parent_page_id>/", page_chooser.browse),
    path("admin/choose-page/chosen-multiple/", page_chooser.chosen_multiple),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    # Doors for other systems: Open311 GeoReport v2 and the officer API.
    path("open311/v2/", include("tracking.open311.urls")),
    path("api/v1/", include("tracking.api.urls")),
    # One sitemap in the default language, at the address crawlers look for.
    path("sitemap.xml", sitemap, name="sitemap"),
    # Uploaded images; off (404) when NEWSPLUS_SERVE_MEDIA=0.
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media.serve, name="media"),
]

urlpatterns += i18n_patterns(
    path("search/", newsroom_views.search, name="search"),
    # The citizen's web form and progress lookup (tracking.intake).
    path("", include("tracking.intake.urls")),
    path("donations/", include("tracking.donations.urls")),
    # Wagtail's catch-all serves every page: it comes last.
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)

# The paper's own error pages (newsroom.views), in the language of the path.
handler404 = "newsroom.views.page_not_found"
handler500 = "newsroom.views.server_error"
