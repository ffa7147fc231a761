"""What Open311 clients send, checked before anything is written or read.

A POST body is read strictly: form-encoded UTF-8, well-formed percent escapes, no
NUL characters. Anything else is refused with a message the client can act on,
never guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qsl

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..calendar import local_zone
from ..models import Category, HeardOf, normalize_phone
from ..parsing import whole_number

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# The widest window one GET requests may span (GeoReport v2).
MAX_WINDOW = timedelta(days=90)
# Pages past this are refused: an offset that deep answers nothing useful.
MAX_PAGE = 10_000
# Dates outside these years are refused.
FIRST_YEAR, LAST_YEAR = 1900, 2999
MAX_DESCRIPTION = 5000  # as the web form
# A title made from the description is cut here.
TITLE_LENGTH = 60

_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# C0 controls other than tab, line feed and carriage return, and DEL.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COORDINATE = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{1,20})?")
_PHONE = re.compile(r"\+?[0-9]{3,20}")
_W3C = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
_MICRODEGREE = Decimal("0.000001")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
#: The code of the optional attribute every service has: how the citizen heard
#: of 8890 (posted as ``attribute[HEARD_OF]``).
HEARD_OF = "HEARD_OF"
HEARD_OF_PARAMETER = f"attribute[{HEARD_OF}]"


class BodyError(ValueError):
    """The body cannot be read as a form; the message says why."""


def parse_form(body: bytes) -> MultiValueDict:
    """The fields of a form-encoded body, decoded strictly as UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(_("The request body is not valid UTF-8.")) from None
    if _BAD_PERCENT.search(text):
        raise BodyError(_("The request body has a malformed percent-encoding."))
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )
    except UnicodeDecodeError:
        raise BodyError(_("The request body is not valid UTF-8.")) from None
    except ValueError:
        raise BodyError(_("The request has too many fields.")) from None
    data = MultiValueDict()
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise BodyError(_("Null characters are not allowed."))
        data.appendlist(name, value)
    return data


def no_control_characters(value: str) -> None:
    if _CONTROL.search(value or ""):
        raise ValidationError(
            gettext_lazy("Control characters are not allowed."), code="control"
        )


def parse_coordinate(raw: str, limit: int) -> Decimal:
    """Decimal degrees within ±``limit``, to the microdegree the case stores."""
    text = raw.strip()
    if not _COORDINATE.fullmatch(text):
        raise ValidationError(
            gettext_lazy("Enter decimal degrees, such as 36.6512."), code="invalid"
        )
    value = Decimal(text)
    if not -limit <= value <= limit:
        raise ValidationError(
            gettext_lazy("Must be between -%(limit)s and %(limit)s."),
            params={"limit": limit},
            code="range",
        )
    return value.quantize(_MICRODEGREE, rounding=ROUND_HALF_UP)


def title_from(description: str) -> str:
    """The case's title: the first line of the description, cut short."""
    line = next((ln.strip() for ln in description.splitlines() if ln.strip()), "")
    if len(line) <= TITLE_LENGTH:
        return line
    return line[: TITLE_LENGTH - 1].rstrip() + "…"


def full_name(first: str, last: str) -> str:
    """A Chinese name is family name first, without a space; others as given."""
    first, last = first.strip(), last.strip()
    if _CJK.search(first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def _text(max_length: int, *, required: bool = False) -> forms.CharField:
    return forms.CharField(
        max_length=max_length,
        required=required,
        validators=[no_control_characters],
    )


class ServiceRequestForm(forms.Form):
    """POST requests: one service request (GeoReport v2), before it is a case.

    Field names are GeoReport v2's. ``title`` is ours (the case has one); without
    it the title is the description's first line.
    """

    service_code = forms.CharField(max_length=50)
    description = _text(MAX_DESCRIPTION, required=True)
    title = _text(200)
    lat = forms.CharField(max_length=40, required=False)
    long = forms.CharField(max_length=40, required=False)
    address_string = _text(255)
    address_id = _text(255)
    email = forms.EmailField(max_length=254, required=False)
    first_name = _text(50)
    last_name = _text(50)
    phone = _text(30)
    media_url = forms.CharField(
        max_length=500,
        required=False,
        validators=[URLValidator(schemes=["http", "https"])],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Not a Python name: GeoReport v2 names a service's attributes so.
        self.fields[HEARD_OF_PARAMETER] = forms.ChoiceField(
            choices=[("", ""), *HeardOf.choices],
            required=False,
            error_messages={
                "invalid_choice": gettext_lazy(
                    "%(value)s is not one of the keys of the service definition."
                )
            },
        )

    def clean_service_code(self) -> Category:
        code = self.cleaned_data["service_code"].strip()
        category = (
            Category.objects.select_related("default_department")
            .filter(service_code=code, is_active=True)
            .first()
        )
        if category is None:
            raise ValidationError(
                _("There is no service %(code)s.") % {"code": code}, code="unknown"
            )
        return category

    def clean_lat(self):
        raw = self.cleaned_data["lat"]
        return parse_coordinate(raw, 90) if raw.strip() else None

    def clean_long(self):
        raw = self.cleaned_data["long"]
        return parse_coordinate(raw, 180) if raw.strip() else None

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return ""
        phone = normalize_phone(raw)
        if not _PHONE.fullmatch(phone):
            raise ValidationError(_("Enter a phone number."), code="invalid")
        return phone

    def clean(self):
        data = super().clean()
        given = {
            name: bool((self.data.get(name) or "").strip())
            for name in ("lat", "long", "address_string", "address_id")
        }
        if given["lat"] != given["long"]:
            raise ValidationError(
                _("A point needs both lat and long."), code="half_point"
            )
        if not any(given.values()):
            raise ValidationError(
                _(
                    "A location is required: lat and long, address_string or "
                    "address_id."
                ),
                code="no_location",
            )
        name = full_name(data.get("first_name", ""), data.get("last_name", ""))
        if len(name) > 100:
            self.add_error("last_name", _("The name is longer than 100 characters."))
        data["name"] = name
        return data

    def error_text(self) -> str:
        """Every error as one line, each named by its GeoReport v2 parameter."""
        parts = []
        for name, errors in self.errors.items():
            for error in errors:
                if name == NON_FIELD_ERRORS:
                    parts.append(str(error))
                else:
                    parts.append(
                        _("%(field)s: %(error)s") % {"field": name, "error": error}
                    )
        return " ".join(parts)

    def register_kwargs(self) -> dict:
        """The arguments of ``case_register`` (without the client and channel)."""
        from ..services import CitizenData

        data = self.cleaned_data
        description = data["description"]
        location = data["address_string"].strip() or data["address_id"].strip()
        return {
            "category": data["service_code"],
            "title": data["title"].strip() or title_from(description),
            "description": description,
            "latitude": data["lat"],
            "longitude": data["long"],
            "location_text": location,
            "media_url": data["media_url"].strip(),
            "heard_of": data[HEARD_OF_PARAMETER],
            "citizen": CitizenData(
                name=data["name"], phone=data["phone"], email=data["email"]
            ),
        }


# --- GET requests ---------------------------------------------------------------


def parse_w3c(raw: str, *, end_of_day: bool = False) -> datetime:
    """A W3C datetime (2010-01-01T00:00:00Z, with an offset, or a bare date).

    Without an offset the hotline's time zone is meant; a bare date as an end
    means the end of that day.
    """
    text = raw.strip()
    if not _W3C.fullmatch(text):
        raise ValueError(text)
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone())
    if end_of_day and "T" not in text:
        value = value + timedelta(days=1) - timedelta(microseconds=1)
    # No case is that old or that far ahead, and the years next to datetime's
    # limits would overflow the window arithmetic.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(text)
    return value


def _comma_list(query, name: str) -> list[str]:
    values = []
    for raw in query.getlist(name):
        values.extend(part.strip() for part in raw.split(","))
    return [value for value in values if value]


@dataclass
class RequestFilters:
    """The filters of GET requests, checked (GeoReport v2's parameters)."""

    references: list[str] = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    statuses: set[str] = field(default_factory=set)
    page: int = 1


class FilterError(ValueError):
    """A filter cannot be used; the message says why."""


def request_filters(query, *, now: datetime | None = None) -> RequestFilters:
    """The filters of ``query`` (a QueryDict), or :class:`FilterError`.

    ``service_request_id`` overrides every other filter. Without dates the last
    90 days are meant; with one, the 90 days from or up to it.
    """
    now = now or timezone.now()
    for name in query:
        for value in [name, *query.getlist(name)]:
            if _CONTROL.search(value):
                raise FilterError(_("Control characters are not allowed."))
    page_size = settings.OPEN311_PAGE_SIZE
    references = _comma_list(query, "service_request_id")
    if references:
        if len(references) > page_size:
            raise FilterError(
                _("Ask for at most %(count)s service_request_id at once.")
                % {"count": page_size}
            )
        return RequestFilters(references=references)

    filters = RequestFilters(service_codes=_comma_list(query, "service_code"))
    for status in _comma_list(query, "status"):
        if status.lower() not in ("open", "closed"):
            raise FilterError(
                _("status: %(value)s is neither open nor closed.") % {"value": status}
            )
        filters.statuses.add(status.lower())

    dates = {}
    for name in ("start_date", "end_date"):
        raw = query.get(name, "").strip()
        if not raw:
            continue
        try:
            dates[name] = parse_w3c(raw, end_of_day=name == "end_date")
        except (ValueError, OverflowError):
            raise FilterError(
                _(
                    "%(name)s: %(value)s is not a W3C datetime such as "
                    "2026-03-01T00:00:00+08:00."
                )
                % {"name": name, "value": raw[:40]}
            ) from None
    start, end = dates.get("start_date"), dates.get("end_date")
    if start is None and end is None:
        end = now
    if start is None:
        start = end - MAX_WINDOW
    if end is None:
        end = start + MAX_WINDOW
    if start > end:
        raise FilterError(_("start_date is after end_date."))
    if end - start > MAX_WINDOW:
        raise FilterError(_("start_date and end_date may be at most 90 days apart."))
    filters.start, filters.end = start, end

    raw_page = query.get("page", "").strip()
    if raw_page:
        page = whole_number(raw_page, max_digits=6)
        if page is None:
            raise FilterError(_("page must be a whole number from 1."))
        filters.page = page
        if not 1 <= filters.page <= MAX_PAGE:
            raise FilterError(_("page must be from 1 to %(max)s.") % {"max": MAX_PAGE})
    return filters
