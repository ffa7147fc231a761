"""Open311 responses in the two formats of GeoReport v2, and its error form.

JSON is what :func:`json.dumps` makes of plain data. XML is built with
ElementTree from the same data, so every text is escaped; characters XML 1.0
cannot carry at all (most control characters, lone surrogates) are dropped. Tag
names come from this module, never from the data.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from xml.etree import ElementTree

from django.http import HttpResponse
from django.utils import timezone

from ..calendar import local_zone

JSON = "json"
XML = "xml"
FORMATS = (JSON, XML)
CONTENT_TYPES = {
    JSON: "application/json; charset=utf-8",
    XML: "text/xml; charset=utf-8",
}

# The element of each item of a list, by the list's own element (GeoReport v2).
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}

# Everything outside XML 1.0's Char production.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Open311Error(Exception):
    """A refusal, answered as GeoReport v2's error list with this HTTP status."""

    def __init__(self, status: int, description, *, headers: dict | None = None):
        super().__init__(str(description))
        self.status = status
        self.description = str(description)
        self.headers = headers or {}


def w3c(value: datetime | None) -> str | None:
    """A W3C datetime with the hotline's offset: 2026-03-18T10:00:00+08:00."""
    if value is None:
        return None
    return timezone.localtime(value, local_zone()).isoformat(timespec="seconds")


def xml_text(value) -> str:
    """``value`` as XML character data (before escaping, which ElementTree does)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML_CHAR.sub("", str(value))


def _append(parent: ElementTree.Element, tag: str, value) -> None:
    element = ElementTree.SubElement(parent, tag)
    _fill(element, tag, value)


def _fill(element: ElementTree.Element, tag: str, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list | tuple):
        for item in value:
            _append(element, ITEM_TAGS[tag], item)
    else:
        element.text = xml_text(value) or None


def to_xml(root: str, data) -> bytes:
    element = ElementTree.Element(root)
    _fill(element, root, data)
    return ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)


def _json_default(value):
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(data) -> bytes:
    text = json.dumps(data, ensure_ascii=False, default=_json_default)
    # Nothing here should hold a lone surrogate, but a response never fails on one.
    return text.encode("utf-8", "replace")


def render(
    data, fmt: str, *, root: str, status: int = 200, headers: dict | None = None
) -> HttpResponse:
    """``data`` in ``fmt``; ``root`` names the XML document element."""
    if fmt == XML:
        content = to_xml(root, data)
    else:
        fmt = JSON
        content = to_json(data)
    response = HttpResponse(content, status=status, content_type=CONTENT_TYPES[fmt])
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(
    status: int, description, fmt: str = JSON, *, headers: dict | None = None
) -> HttpResponse:
    """GeoReport v2's error list: ``[{"code": 400, "description": "..."}]``."""
    return render(
        [{"code": status, "description": str(description)}],
        fmt if fmt in FORMATS else JSON,
        root="errors",
        status=status,
        headers=headers,
    )
