"""The endpoints of GeoReport v2 at ``/open311/v2/``.

Thin, as every door: read what the client sent, refuse it in the spec's error
form, call :func:`tracking.services.case_register` or the reads of
:mod:`.selectors`. Reads are public and need no key; posting needs an active
key. Every request counts against a rate: its key's, else its address's.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db.models import Q
from django.http.request import RawPostDataException, UnreadablePostError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt

from .. import ratelimits, services
from ..exceptions import CaseError
from ..models import Channel, Kind
from . import selectors
from .formats import FORMATS, Open311Error, error_response, render
from .forms import (
    FORM_CONTENT_TYPE,
    BodyError,
    FilterError,
    ServiceRequestForm,
    parse_form,
    request_filters,
)
from .models import ApiClient

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this server's Open311 interface last changed (discovery's changeset).
CHANGESET = "2026-03-01T00:00:00+08:00"
RATE_GROUP = "open311-key"
# Reference numbers are 8890-YYYYMMDD-NNNNN; anything longer is no request.
MAX_REFERENCE_LENGTH = 24
# last_used_at is written at most this often per client.
LAST_USED_RESOLUTION = timedelta(minutes=1)
READ = ("GET", "HEAD")
READ_WRITE = ("GET", "HEAD", "POST")


def endpoint(methods: tuple[str, ...]):
    """An Open311 view: known format, allowed method, errors in the spec's form."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request, fmt: str, **kwargs):
            return _answer(view, methods, request, fmt, **kwargs)

        return wrapped

    return decorate


def _answer(view, methods, request, fmt: str, **kwargs):
    if fmt not in FORMATS:
        return error_response(
            404,
            _("Unknown format %(format)s: use json or xml.") % {"format": fmt[:20]},
        )
    if request.method not in methods:
        return error_response(
            405,
            _("Method %(method)s is not allowed here.")
            % {"method": request.method[:20]},
            fmt,
            headers={"Allow": ", ".join(methods)},
        )
    try:
        return view(request, fmt, **kwargs)
    except Open311Error as exc:
        return error_response(exc.status, exc.description, fmt, headers=exc.headers)
    except RequestDataTooBig:
        return error_response(413, _("The request is too large."), fmt)
    except SuspiciousOperation:
        # Too many fields in the query string, and the like.
        return error_response(400, _("The request cannot be read."), fmt)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other address under /open311/v2/."""
    return error_response(404, _("There is no such Open311 endpoint."))


# --- keys and rates ------------------------------------------------------------------


def _client(api_key: str | None) -> ApiClient | None:
    return ApiClient.objects.for_key((api_key or "").strip())


def _check_rate(request, client: ApiClient | None) -> None:
    rate = settings.OPEN311_RATE_PER_KEY
    value = f"key:{client.pk}" if client is not None else None
    if ratelimits.exceeded(request, RATE_GROUP, rate, value=value):
        seconds = ratelimits.retry_after(request, RATE_GROUP, rate, value=value)
        raise Open311Error(
            429,
            _("Too many requests: try again in %(seconds)s seconds.")
            % {"seconds": seconds},
            headers={"Retry-After": str(seconds)},
        )


def _touch(client: ApiClient, now) -> None:
    """Note that the client was seen: one UPDATE a minute at most, not per request."""
    if client.last_used_at is not None and now - client.last_used_at < (
        LAST_USED_RESOLUTION
    ):
        return
    ApiClient.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION),
        pk=client.pk,
    ).update(last_used_at=now)


def _reader(request) -> ApiClient | None:
    """Reads are public: a key only gives the client its own rate."""
    key = request.GET.get("api_key")
    client = _client(key) if key else None
    _check_rate(request, client)
    if client is not None:
        _touch(client, timezone.now())
    return client


# --- discovery and services ----------------------------------------------------------


@endpoint(READ)
def discovery(request, fmt: str):
    _reader(request)
    root = reverse("open311:discovery", kwargs={"fmt": fmt}).rsplit("/", 1)[0] + "/"
    data = {
        "changeset": CHANGESET,
        "contact": _(
            "The 8890 citizen service hotline: call 8890, or write to the hotline "
            "office."
        ),
        "key_service": _(
            "Keys for posting requests are issued by the 8890 hotline office."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.build_absolute_uri(root),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(data, fmt, root="discovery")


@endpoint(READ)
def services_list(request, fmt: str):
    _reader(request)
    return render(selectors.service_list(), fmt, root="services")


@endpoint(READ)
def service_definition(request, fmt: str, code: str):
    _reader(request)
    definition = None
    if len(code) <= 50 and "\x00" not in code:
        definition = selectors.service_definition(code)
    if definition is None:
        raise Open311Error(
            404, _("There is no service %(code)s.") % {"code": code[:50]}
        )
    return render(definition, fmt, root="service_definition")


# --- service requests ----------------------------------------------------------------


@endpoint(READ_WRITE)
def service_requests(request, fmt: str):
    if request.method == "POST":
        return _create(request, fmt)
    _reader(request)
    try:
        filters = request_filters(request.GET)
    except FilterError as exc:
        raise Open311Error(400, str(exc)) from None
    page_size = settings.OPEN311_PAGE_SIZE
    found, more = selectors.service_requests(filters, page_size)
    headers = {}
    if more:
        query = request.GET.copy()
        query["page"] = str(filters.page + 1)
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        headers["Link"] = f'<{next_url}>; rel="next"'
    return render(found, fmt, root="service_requests", headers=headers)


@endpoint(READ)
def service_request(request, fmt: str, request_id: str):
    _reader(request)
    found = None
    if len(request_id) <= MAX_REFERENCE_LENGTH and "\x00" not in request_id:
        found = selectors.service_request(request_id)
    if found is None:
        raise Open311Error(
            404,
            _("There is no service request %(id)s.")
            % {"id": request_id[:MAX_REFERENCE_LENGTH]},
        )
    return render([found], fmt, root="service_requests")


def _body(request):
    if request.content_type != FORM_CONTENT_TYPE:
        raise Open311Error(
            415,
            _("Send the request form-encoded (%(type)s).")
            % {"type": FORM_CONTENT_TYPE},
        )
    charset = request.content_params.get("charset", "utf-8").strip().lower()
    if charset not in ("utf-8", "utf8"):
        raise Open311Error(415, _("Send the request in UTF-8."))
    try:
        body = request.body
    except RequestDataTooBig:
        raise Open311Error(413, _("The request is too large.")) from None
    except (RawPostDataException, UnreadablePostError, ValueError):
        raise Open311Error(400, _("The request cannot be read.")) from None
    try:
        return parse_form(body)
    except BodyError as exc:
        raise Open311Error(400, str(exc)) from None


def _create(request, fmt: str):
    """POST requests: a new case from another system (channel Open311)."""
    data = _body(request)
    client = _client(data.get("api_key"))
    _check_rate(request, client)
    if client is None:
        raise Open311Error(403, _("A valid api_key is required to post requests."))
    form = ServiceRequestForm(data)
    if not form.is_valid():
        raise Open311Error(400, form.error_text())
    now = timezone.now()
    try:
        case = services.case_register(
            kind=Kind.COMPLAINT,
            channel=Channel.OPEN311,
            api_client=client,
            now=now,
            **form.register_kwargs(),
        )
    except CaseError as exc:
        raise Open311Error(400, str(exc)) from None
    _touch(client, now)
    days = case.handling_days
    notice = ngettext(
        "Your request has been accepted and will be handled within %(days)s "
        "working day.",
        "Your request has been accepted and will be handled within %(days)s "
        "working days.",
        days,
    ) % {"days": days}
    return render(
        [
            {
                "service_request_id": case.reference,
                "service_notice": notice,
                "account_id": None,
            }
        ],
        fmt,
        root="service_requests",
        status=201,
        headers={"Location": _detail_url(request, case.reference, fmt)},
    )


def _detail_url(request, reference: str, fmt: str) -> str:
    return request.build_absolute_uri(
        reverse("open311:request", kwargs={"request_id": reference, "fmt": fmt})
    )
