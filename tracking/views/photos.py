"""Photos sent with a request, for the staff who may see its case.

They live in the private storage, which has no URL: this view is the only way
to them. Whoever may not see the case gets a 404, as for the case itself.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.views import View

from ..models import Case, CaseAttachment

# Only raster formats a browser cannot run as a document; anything else (an
# upload that slipped through as SVG or HTML) is downloaded, never shown.
SHOWN_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


class CasePhotoView(View):
    http_method_names = ["get", "head"]

    def get(self, request, pk: int, attachment_pk: int):
        attachment = (
            CaseAttachment.objects.filter(
                case__in=Case.objects.visible_to(request.user).values("pk")
            )
            .filter(case_id=pk, pk=attachment_pk)
            .first()
        )
        if attachment is None or not attachment.file:
            raise Http404
        try:
            handle = attachment.file.storage.open(attachment.file.name, "rb")
        except OSError:
            raise Http404 from None
        shown = attachment.content_type in SHOWN_TYPES
        response = FileResponse(
            handle,
            content_type=(
                attachment.content_type if shown else "application/octet-stream"
            ),
            as_attachment=not shown,
        )
        response["X-Content-Type-Options"] = "nosniff"
        # Personal data: never kept by a shared cache (the admin's never_cache
        # adds no-store and max-age=0 to this).
        response["Cache-Control"] = "private"
        return response
