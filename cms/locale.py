"""The language of a request."""

from __future__ import annotations

from django.middleware.locale import LocaleMiddleware
from django.utils import translation

# Doors for other systems: no language prefix to choose with, so the client's
# Accept-Language decides (else the default, Simplified Chinese).
HEADER_LANGUAGE_PATHS = ("/api/", "/open311/")


class ClientLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, which answers every path outside
    ``i18n_patterns`` in the default language; the API and Open311 paths are
    answered in the language their client asks for. Responses say which
    (``Content-Language``) and vary on ``Accept-Language``, as Django's do."""

    def process_request(self, request):
        if not request.path_info.startswith(HEADER_LANGUAGE_PATHS):
            return super().process_request(request)
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()
        return None
