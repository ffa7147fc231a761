"""The endpoints of the officer and department API.

Thin, like the back office's views: find the case the user may see (404 for any
other, so that a liaison cannot learn that another department's case exists),
check the request's shape, call the service or the action registry, and turn the
service's refusal into a status: ``InvalidInput`` 400, ``CasePermissionDenied``
403, ``TransitionRefused`` and ``CaseConflict`` 409. Every write is the service's
one transaction; no view writes anything itself.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager

from django.conf import settings
from django.db.models import Prefetch
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework import generics, serializers, status
from rest_framework.exceptions import (
    APIException,
    NotFound,
    ParseError,
    PermissionDenied,
)
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings

from .. import actions, calendar, services
from ..exceptions import (
    CaseConflict,
    CasePermissionDenied,
    InvalidInput,
    TransitionRefused,
)
from ..models import (
    Callback,
    Case,
    CaseEvent,
    Category,
    Department,
    DepartmentResponse,
)
from ..selectors import available_transitions
from ..statistics import periods
from ..statistics.figures import Report
from . import serializers as s
from .filters import CaseFilterSet
from .pagination import CasePagination
from .permissions import HasCaseRole

URL_NAMESPACE = "tracking_api"
#: How long a client or proxy may reuse the public figures (seconds).
STATS_MAX_AGE = 60
#: The largest request body the API reads (bytes); the longest text it takes is
#: ``TEXT_MAX_LENGTH`` characters, at most 3 bytes each in UTF-8, with room to spare.
MAX_BODY_BYTES = 64 * 1024
_CASE_ID = re.compile(r"[0-9]{1,18}")


# --- errors ---------------------------------------------------------------------------


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


class CaseRefusal(APIException):
    """A service's refusal, with its message and a code a client can branch on."""

    def __init__(self, status_code: int, code: str, message):
        self.status_code = status_code
        super().__init__(detail={"detail": str(message), "code": code})


@contextmanager
def case_errors():
    """Turn the services' refusals into HTTP statuses."""
    try:
        yield
    except CasePermissionDenied as exc:
        raise CaseRefusal(status.HTTP_403_FORBIDDEN, "forbidden", exc) from None
    except InvalidInput as exc:
        raise CaseRefusal(status.HTTP_400_BAD_REQUEST, "invalid", exc) from None
    except TransitionRefused as exc:
        raise CaseRefusal(status.HTTP_409_CONFLICT, "refused", exc) from None
    except CaseConflict as exc:
        raise CaseRefusal(status.HTTP_409_CONFLICT, "conflict", exc) from None


ErrorSerializer = inline_serializer(
    "Error",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(required=False),
    },
)
FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=_("Field errors: each field's name with its messages."),
)


def errors(*codes: int) -> dict:
    """The error responses of an operation, for the schema."""
    documented = {
        400: FIELD_ERRORS,
        401: ErrorSerializer,
        403: ErrorSerializer,
        404: ErrorSerializer,
        405: ErrorSerializer,
        406: ErrorSerializer,
        409: ErrorSerializer,
        413: ErrorSerializer,
        415: ErrorSerializer,
    }
    return {code: documented[code] for code in codes}


READ_ERRORS = (400, 401, 403, 404, 405, 406)
WRITE_ERRORS = (*READ_ERRORS, 409, 413, 415)


# --- input ----------------------------------------------------------------------------


class LimitedJSONParser(JSONParser):
    """JSON, read only up to ``MAX_BODY_BYTES``; any malformed body is a 400.

    DRF's parser reads the whole stream, and lets through a nesting deep enough
    to exhaust the recursion limit; both would be a client's doing.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        raw = stream.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            raise RequestTooLarge()
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(raw.decode(encoding), parse_constant=_no_constant)
        except (ValueError, RecursionError, LookupError) as exc:
            raise ParseError(
                _("The request body is not valid JSON (%(error)s).")
                % {"error": type(exc).__name__}
            ) from None


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _too_large(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES
    except ValueError:
        return False


# --- the case a request is about ------------------------------------------------------


CASE_ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("The case's id.")
)


def detail_queryset():
    return Case.objects.select_related(
        "category", "department", "citizen", "duplicate_of"
    ).prefetch_related(
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
        Prefetch(
            "responses",
            queryset=DepartmentResponse.objects.select_related(
                "department", "recorded_by"
            ),
        ),
        Prefetch("callbacks", queryset=Callback.objects.select_related("recorded_by")),
    )


class CaseAPIView(generics.GenericAPIView):
    """Base of the endpoints about one case: staff with a case role, JSON in."""

    permission_classes = [IsAuthenticated, HasCaseRole]
    parser_classes = [LimitedJSONParser]
    pagination_class = None
    filter_backends: list = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if _too_large(request):
            raise RequestTooLarge()

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "now": timezone.now(),
            "personal_data": self.request.user.has_perm("tracking.view_all_cases"),
        }

    def get_case(self, queryset=None) -> Case:
        """The case of the URL, if the user may see it; else 404, whether it
        exists or not."""
        raw = self.kwargs["id"]
        if not _CASE_ID.fullmatch(raw):
            raise NotFound(_("No such case."))
        if queryset is None:
            queryset = Case.objects.select_related("category", "department", "citizen")
        case = queryset.visible_to(self.request.user).filter(pk=int(raw)).first()
        if case is None:
            raise NotFound(_("No such case."))
        return case

    def case_response(
        self, case: Case, status_code=status.HTTP_200_OK, *, fresh=False
    ) -> Response:
        """The case as it is now: read again after an action (as the service left
        it), unless it was just read with its timeline (``fresh``)."""
        if not fresh:
            case = detail_queryset().get(pk=case.pk)
        with calendar.shared():
            data = s.CaseDetailSerializer(
                case, context=self.get_serializer_context()
            ).data
        return Response(data, status=status_code)

    def run_action(self, name: str, case: Case, payload: s.ActionPayload):
        action = actions.get(name)
        with case_errors():
            return action.run(
                case=case,
                user=self.request.user,
                expect_state=payload.validated_data.get("expect_state"),
                **payload.service_kwargs(),
            )

    def bind(self, payload_class: type[s.ActionPayload], case: Case):
        payload = payload_class(
            data=self.request.data,
            context={**self.get_serializer_context(), "case": case},
        )
        payload.is_valid(raise_exception=True)
        return payload


# --- cases ----------------------------------------------------------------------------


@extend_schema(tags=["cases"])
class CaseListView(CaseAPIView, generics.ListCreateAPIView):
    """The cases the user may see, newest first: every case for hotline staff,
    their department's for a liaison."""

    pagination_class = CasePagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = CaseFilterSet

    def get_queryset(self):
        return (
            Case.objects.visible_to(self.request.user)
            .select_related("category", "department", "citizen")
            .order_by("-registered_at", "-pk")
        )

    def get_serializer_class(self):
        if self.request is not None and self.request.method == "POST":
            return s.CaseRegisterSerializer
        return s.CaseSerializer

    @extend_schema(
        operation_id="cases_list",
        responses={200: s.CaseSerializer(many=True), **errors(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        # One reading of the working calendar for all the cases' overdue days.
        with calendar.shared():
            return self.list(request, *args, **kwargs)

    @extend_schema(
        operation_id="cases_register",
        request=s.CaseRegisterSerializer,
        responses={201: s.CaseDetailSerializer, **errors(*WRITE_ERRORS)},
        description=_(
            "Register a request taken down by an officer (channel phone or visit). "
            "It starts in “registered” with a new reference number."
        ),
    )
    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("tracking.add_case"):
            raise PermissionDenied(_("You may not register cases."))
        serializer = s.CaseRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with case_errors():
            case = services.case_register(
                user=request.user, **serializer.service_kwargs()
            )
        response = self.case_response(case, status.HTTP_201_CREATED)
        response["Location"] = reverse(
            f"{URL_NAMESPACE}:case-detail", kwargs={"id": case.pk}
        )
        return response


@extend_schema(tags=["cases"], parameters=[CASE_ID_PARAMETER])
class CaseDetailView(CaseAPIView):
    """One case with its timeline, the departments' responses and the callbacks."""

    serializer_class = s.CaseDetailSerializer

    @extend_schema(
        operation_id="cases_retrieve",
        responses={200: s.CaseDetailSerializer, **errors(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return self.case_response(self.get_case(detail_queryset()), fresh=True)


def action_url(action: actions.Action, case: Case) -> str | None:
    """Where the API runs ``action``; None for one only the back office offers."""
    if action.transition:
        name = f"{URL_NAMESPACE}:case-transition-{action.name}"
    else:
        name = OTHER_ACTION_URLS.get(action.name)
        if name is None:
            return None
    return reverse(name, kwargs={"id": case.pk})


#: The endpoints of the actions that are not transitions.
OTHER_ACTION_URLS = {
    "callback": f"{URL_NAMESPACE}:case-callbacks",
    "extend": f"{URL_NAMESPACE}:case-extend-deadline",
}


@extend_schema(tags=["actions"], parameters=[CASE_ID_PARAMETER])
class CaseActionsView(CaseAPIView):
    """What the user may do to the case now, in the back office's order: the
    transitions (the same list as the case page's buttons), then the other actions
    (callback, deadline extension, story)."""

    serializer_class = s.AvailableActionSerializer

    @extend_schema(
        operation_id="cases_transitions_list",
        responses={200: s.AvailableActionSerializer(many=True), **errors(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        case = self.get_case()
        user = request.user
        offered = [actions.get(name) for name in available_transitions(case, user)]
        offered += [
            action
            for action in actions.other_actions()
            if action.is_available(case, user)
        ]
        data = [
            {
                "name": action.name,
                "label": str(action.label),
                "button": str(action.button),
                "tone": action.tone,
                "is_transition": action.transition,
                "url": action_url(action, case),
                "fields": s.describe_payload(s.PAYLOADS[action.name])
                if action.name in s.PAYLOADS
                else [],
            }
            for action in offered
        ]
        return Response(s.AvailableActionSerializer(data, many=True).data)


class CaseTransitionView(CaseAPIView):
    """Run one transition of the case (``action_name``, set per URL)."""

    action_name = ""

    def get_serializer_class(self):
        return s.PAYLOADS[self.action_name]

    def post(self, request, *args, **kwargs):
        case = self.get_case()
        payload = self.bind(s.PAYLOADS[self.action_name], case)
        self.run_action(self.action_name, case, payload)
        return self.case_response(case)


def transition_view(name: str):
    """The view of transition ``name``: its own operation in the schema, with the
    exact input that transition takes."""
    action = actions.get(name)
    if not action.transition or name not in s.PAYLOADS:
        raise LookupError(f"{name!r} is not a transition the API runs")

    def post(self, request, *args, **kwargs):
        return CaseTransitionView.post(self, request, *args, **kwargs)

    documented = extend_schema(
        tags=["actions"],
        operation_id=f"cases_transitions_{name}",
        summary=action.button,
        description=_(
            "Run this transition. Optional expect_state: the state the client saw "
            "(409 if the case has moved on). Returns the case as it is now."
        ),
        parameters=[CASE_ID_PARAMETER],
        request=s.PAYLOADS[name],
        responses={200: s.CaseDetailSerializer, **errors(*WRITE_ERRORS)},
    )(post)
    class_name = f"{name.title().replace('_', '')}TransitionView"
    view = type(class_name, (CaseTransitionView,), {"post": documented})
    return view.as_view(action_name=name)


@extend_schema(exclude=True)
class UnknownTransitionView(CaseAPIView):
    """Any other name under transitions/: the case first (404 outside the user's
    cases), then 404 for the name."""

    def post(self, request, *args, **kwargs):
        self.get_case()
        raise NotFound(_("No such transition."))


@extend_schema(tags=["responses"], parameters=[CASE_ID_PARAMETER])
class CaseResponsesView(CaseAPIView):
    """The departments' responses to the case; POST records one (the reply
    transition: the case is then “replied”)."""

    serializer_class = s.ResponseSerializer

    @extend_schema(
        operation_id="cases_responses_list",
        responses={200: s.ResponseSerializer(many=True), **errors(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        case = self.get_case()
        responses = case.responses.select_related("department", "recorded_by")
        return Response(s.ResponseSerializer(responses, many=True).data)

    @extend_schema(
        operation_id="cases_responses_create",
        request=s.ReplyPayload,
        responses={201: s.CaseDetailSerializer, **errors(*WRITE_ERRORS)},
    )
    def post(self, request, *args, **kwargs):
        case = self.get_case()
        payload = self.bind(s.ReplyPayload, case)
        self.run_action("reply", case, payload)
        return self.case_response(case, status.HTTP_201_CREATED)


@extend_schema(tags=["callbacks"], parameters=[CASE_ID_PARAMETER])
class CaseCallbacksView(CaseAPIView):
    """The callbacks to the citizen (回访); POST records one."""

    serializer_class = s.CallbackSerializer

    @extend_schema(
        operation_id="cases_callbacks_list",
        responses={200: s.CallbackSerializer(many=True), **errors(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        case = self.get_case()
        callbacks = case.callbacks.select_related("recorded_by")
        return Response(s.CallbackSerializer(callbacks, many=True).data)

    @extend_schema(
        operation_id="cases_callbacks_create",
        request=s.CallbackPayload,
        responses={201: s.CaseDetailSerializer, **errors(*WRITE_ERRORS)},
    )
    def post(self, request, *args, **kwargs):
        case = self.get_case()
        payload = self.bind(s.CallbackPayload, case)
        self.run_action("callback", case, payload)
        return self.case_response(case, status.HTTP_201_CREATED)


@extend_schema(tags=["actions"], parameters=[CASE_ID_PARAMETER])
class CaseExtendDeadlineView(CaseAPIView):
    """A supervisor moves the deadline later by some working days (延期)."""

    serializer_class = s.ExtendDeadlinePayload

    @extend_schema(
        operation_id="cases_extend_deadline",
        request=s.ExtendDeadlinePayload,
        responses={200: s.CaseDetailSerializer, **errors(*WRITE_ERRORS)},
    )
    def post(self, request, *args, **kwargs):
        case = self.get_case()
        payload = self.bind(s.ExtendDeadlinePayload, case)
        self.run_action("extend", case, payload)
        return self.case_response(case)


# --- reference data -------------------------------------------------------------------


@extend_schema(tags=["reference"])
class DepartmentListView(CaseAPIView, generics.ListAPIView):
    """Departments (the ids ``dispatch`` and the ``department`` filter take)."""

    serializer_class = s.DepartmentSerializer
    queryset = Department.objects.order_by("name", "pk")

    @extend_schema(
        operation_id="departments_list",
        responses={200: s.DepartmentSerializer(many=True), **errors(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


@extend_schema(tags=["reference"])
class CategoryListView(CaseAPIView, generics.ListAPIView):
    """Categories (ids and Open311 service codes, with their time limits)."""

    serializer_class = s.CategorySerializer
    queryset = Category.objects.select_related("default_department").order_by(
        "name", "pk"
    )

    @extend_schema(
        operation_id="categories_list",
        responses={200: s.CategorySerializer(many=True), **errors(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


# --- public statistics ----------------------------------------------------------------


PERIOD_PARAMETER = OpenApiParameter(
    "period",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description=_(
        "“all” (the default: since launch), a year (2026), a month (2026-11) or "
        "two dates (2026-01-01..2026-03-31), in the hotline's local days."
    ),
)


class _NoFormatParameter:
    """DRF's settings, without the ``?format=`` override."""

    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class AcceptHeaderNegotiation(DefaultContentNegotiation):
    """The Accept header alone chooses the response's type: ``format`` is a query
    parameter like any other the endpoint does not know, and is ignored."""

    settings = _NoFormatParameter()


@extend_schema(tags=["statistics"])
class StatsView(generics.GenericAPIView):
    """The hotline's public figures: the headline, the years and months, daily
    calls, the backlog, the departments with their three rates and ranking, the
    media effect and the cases overdue now. Public, like the statistics page: no
    token needed, and nothing personal in it."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    content_negotiation_class = AcceptHeaderNegotiation
    serializer_class = s.StatsSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        operation_id="stats_retrieve",
        parameters=[PERIOD_PARAMETER],
        responses={200: s.StatsSerializer, **errors(400, 405, 406)},
    )
    def get(self, request, *args, **kwargs):
        try:
            period = periods.parse(request.query_params.get("period"))
        except periods.PeriodError as exc:
            raise DRFValidationError({"period": [str(exc)]}) from None
        response = Response(Report(period).as_dict())
        patch_cache_control(response, public=True, max_age=STATS_MAX_AGE)
        return response


# --- the schema and everything else ---------------------------------------------------


class SchemaView(SpectacularJSONAPIView):
    """The OpenAPI 3 schema of this API, public.

    It describes the shape of the API and nothing in it: no case, department or
    person. Public, client generators and the department's integrators can read
    it before they have a token; every endpoint it lists still requires one.
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        lang = request.GET.get("lang")
        if lang is not None and lang not in dict(settings.LANGUAGES):
            raise DRFValidationError(
                {
                    "lang": [
                        _("Choose one of: %(languages)s.")
                        % {"languages": ", ".join(dict(settings.LANGUAGES))}
                    ]
                }
            )
        return super().get(request, *args, **kwargs)


def not_found(request, *args, **kwargs):
    """Any other address under /api/v1/: a JSON 404, not the site's HTML page."""
    return JsonResponse(
        {"detail": str(_("Not found.")), "code": "not_found"}, status=404
    )
