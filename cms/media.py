"""Uploaded images, served by Django in the embedded setup.

Only what Wagtail's images write (``original_images/`` and the renditions in
``images/``), only raster formats a browser cannot run as a document, never a
directory. Documents under MEDIA_ROOT are left to Wagtail's own view, which
checks their privacy. In production a web server or object storage serves
media instead, and NEWSPLUS_SERVE_MEDIA=0 turns this off.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponseNotModified
from django.utils.http import http_date
from django.views.decorators.http import require_safe
from django.views.static import was_modified_since

SERVED_FOLDERS = ("images", "original_images")
# Never SVG or HTML: they would run scripts on this site's origin.
SAFE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
}
# Short: a replaced file may come back under its old name. Browsers revalidate
# with If-Modified-Since, which costs a stat.
MAX_AGE = 60 * 60


def media_file(relative: str) -> Path:
    """The file under MEDIA_ROOT that ``relative`` names, or Http404 if it is not
    an image file in a served folder (``..`` and symlinks out included)."""
    root = Path(settings.MEDIA_ROOT).resolve()
    try:
        path = (root / relative).resolve(strict=True)
    except (OSError, RuntimeError, ValueError) as error:
        raise Http404 from error
    if not path.is_relative_to(root) or not path.is_file():
        raise Http404
    parts = path.relative_to(root).parts
    if len(parts) < 2 or parts[0] not in SERVED_FOLDERS:
        raise Http404
    if path.suffix.lower() not in SAFE_TYPES:
        raise Http404
    return path


@require_safe
def serve(request, path: str):
    if not settings.NEWSPLUS_SERVE_MEDIA:
        raise Http404
    file = media_file(path)
    stat = file.stat()
    if not was_modified_since(
        request.META.get("HTTP_IF_MODIFIED_SINCE"), int(stat.st_mtime)
    ):
        return HttpResponseNotModified()
    response = FileResponse(
        file.open("rb"), content_type=SAFE_TYPES[file.suffix.lower()]
    )
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
