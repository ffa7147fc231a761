"""What the API shows of a case, and what it accepts for each action.

Output serializers are read-only views of the models. Input serializers check the
shape and type of a request (a text is a string, a department an existing id, a
choice one of its values, a length within the column's); the business rules (a
reason is required to reject, a callback before closing) stay in the services,
whose refusals the views turn into HTTP statuses.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from wagtail.admin.utils import get_user_display_name

from .. import actions
from ..models import (
    Callback,
    CallbackMethod,
    CallbackOutcome,
    Case,
    CaseEvent,
    Category,
    Channel,
    Department,
    DepartmentResponse,
    HeardOf,
    Kind,
    ResponseChannel,
    State,
)
from ..partners.models import CommunityVisit
from ..services import CitizenData

#: The longest reason, answer, response or note the API takes (characters).
TEXT_MAX_LENGTH = 10_000
STATE_LABELS = dict(State.choices)
#: The channels of the officer's doors; the web form and Open311 have their own.
REGISTER_CHANNELS = [
    (Channel.PHONE.value, Channel.PHONE.label),
    (Channel.VISIT.value, Channel.VISIT.label),
]


@extend_schema_field({"type": "string", "nullable": True})
class StaffNameField(serializers.Field):
    """How a member of staff is named, as the admin names them (Wagtail's display
    name: full name, else username); null for the system (the escalation scan)
    or a deleted account."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, user) -> str:
        return get_user_display_name(user)


# --- reference data -------------------------------------------------------------------


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "short_name", "is_active"]
        read_only_fields = fields


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    default_department = DepartmentRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = [
            "id",
            "service_code",
            "name",
            "default_department",
            "handling_days",
            "escalates",
            "is_active",
        ]
        read_only_fields = fields


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "service_code", "name"]
        read_only_fields = fields


class CitizenSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)


# --- cases ----------------------------------------------------------------------------


class CaseSerializer(serializers.ModelSerializer):
    """A case in a list.

    Personal data: the ``citizen`` object (name and phone, what a callback needs) is
    given only to users who may see every department's cases (hotline officers and
    supervisors, ``tracking.view_all_cases``); for anyone else it is ``null``. A
    department liaison gets the case as the citizen told it (title, description,
    location: what the department must act on) but not who told it: departments
    answer the hotline, and the hotline calls the citizen back. Address and e-mail
    stay in the back office. Nothing here is public: the API serves staff only.
    """

    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    channel_display = serializers.CharField(
        source="get_channel_display", read_only=True
    )
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    department = DepartmentRefSerializer(read_only=True, allow_null=True)
    is_overdue = serializers.SerializerMethodField()
    working_days_overdue = serializers.SerializerMethodField()
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        coerce_to_string=False,
        read_only=True,
        allow_null=True,
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        coerce_to_string=False,
        read_only=True,
        allow_null=True,
    )
    citizen = serializers.SerializerMethodField()
    heard_of = serializers.ChoiceField(
        choices=HeardOf.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("How the citizen heard of 8890; empty when not asked."),
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "kind",
            "kind_display",
            "is_efficiency",
            "title",
            "description",
            "category",
            "department",
            "state",
            "state_display",
            "channel",
            "channel_display",
            "registered_at",
            "acknowledge_due_at",
            "due_at",
            "is_overdue",
            "working_days_overdue",
            "escalated_at",
            "bounce_count",
            "location_text",
            "latitude",
            "longitude",
            "citizen",
            "heard_of",
            "heard_of_visit",
        ]
        read_only_fields = fields

    def _now(self):
        return self.context["now"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_overdue(self, case: Case) -> bool:
        return case.is_overdue(self._now())

    @extend_schema_field(OpenApiTypes.INT)
    def get_working_days_overdue(self, case: Case) -> int:
        return case.working_days_overdue(self._now())

    @extend_schema_field(CitizenSerializer(allow_null=True))
    def get_citizen(self, case: Case):
        if not self.context.get("personal_data") or case.citizen is None:
            return None
        return CitizenSerializer(case.citizen).data


class EventSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    from_state_display = serializers.SerializerMethodField()
    to_state_display = serializers.SerializerMethodField()
    actor = StaffNameField()
    at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "action",
            "label",
            "from_state",
            "from_state_display",
            "to_state",
            "to_state_display",
            "note",
            "public",
            "actor",
            "at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_label(self, event: CaseEvent) -> str:
        return str(actions.get(event.action).label)

    @extend_schema_field(OpenApiTypes.STR)
    def get_from_state_display(self, event: CaseEvent) -> str:
        return str(STATE_LABELS.get(event.from_state, event.from_state))

    @extend_schema_field(OpenApiTypes.STR)
    def get_to_state_display(self, event: CaseEvent) -> str:
        return str(STATE_LABELS.get(event.to_state, event.to_state))


class ResponseSerializer(serializers.ModelSerializer):
    department = DepartmentRefSerializer(read_only=True)
    channel_display = serializers.CharField(
        source="get_channel_display", read_only=True
    )
    recorded_by = StaffNameField()

    class Meta:
        model = DepartmentResponse
        fields = [
            "id",
            "department",
            "text",
            "channel",
            "channel_display",
            "responded_at",
            "recorded_by",
        ]
        read_only_fields = fields


class CallbackSerializer(serializers.ModelSerializer):
    method_display = serializers.CharField(source="get_method_display", read_only=True)
    outcome_display = serializers.CharField(
        source="get_outcome_display", read_only=True
    )
    recorded_by = StaffNameField()

    class Meta:
        model = Callback
        fields = [
            "id",
            "method",
            "method_display",
            "outcome",
            "outcome_display",
            "note",
            "called_at",
            "recorded_by",
        ]
        read_only_fields = fields


class CaseDetailSerializer(CaseSerializer):
    """A case with its timeline, responses and callbacks (personal data: see
    :class:`CaseSerializer`)."""

    duplicate_of = serializers.SlugRelatedField(
        slug_field="reference", read_only=True, allow_null=True
    )
    events = EventSerializer(many=True, read_only=True)
    responses = ResponseSerializer(many=True, read_only=True)
    callbacks = CallbackSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "accepted_at",
            "dispatched_at",
            "acknowledged_at",
            "late_acknowledgements",
            "replied_at",
            "closed_at",
            "escalated_due_at",
            "escalated_days_overdue",
            "consent_to_publish",
            "duplicate_of",
            "events",
            "responses",
            "callbacks",
        ]
        read_only_fields = fields


# --- what a user may do ---------------------------------------------------------------


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class PayloadFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    type = serializers.ChoiceField(choices=["string", "integer", "choice", "boolean"])
    required = serializers.BooleanField()
    max_length = serializers.IntegerField(allow_null=True)
    choices = ChoiceSerializer(many=True, allow_null=True)


class AvailableActionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    button = serializers.CharField()
    tone = serializers.ChoiceField(choices=list(actions.TONES))
    is_transition = serializers.BooleanField()
    url = serializers.CharField(
        allow_null=True,
        help_text=_("Where to POST it; null when only the back office offers it."),
    )
    fields = PayloadFieldSerializer(many=True)


# --- input of the actions -------------------------------------------------------------


class JSONTypeMixin:
    """Take only the JSON type the schema gives, not what DRF would convert:
    ``"reason": 5`` is not a reason and ``"department": "3"`` is not an id.
    A client's mistake is told, not guessed at."""

    json_types: tuple[type, ...] = ()
    json_type_name = ""

    def to_internal_value(self, data):
        if isinstance(data, bool) != (bool in self.json_types) or not isinstance(
            data, self.json_types
        ):
            raise serializers.ValidationError(
                _("Expected %(expected)s, got %(type)s.")
                % {"expected": self.json_type_name, "type": _json_type(data)},
                code="invalid",
            )
        return super().to_internal_value(data)


def _json_type(value) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


class TextField(JSONTypeMixin, serializers.CharField):
    """A string, its length checked as sent; the services strip it."""

    json_types = (str,)
    json_type_name = "string"

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


class BooleanField(JSONTypeMixin, serializers.BooleanField):
    json_types = (bool,)
    json_type_name = "boolean"


class IntegerField(JSONTypeMixin, serializers.IntegerField):
    json_types = (int,)
    json_type_name = "integer"


class NumberField(JSONTypeMixin, serializers.DecimalField):
    """A JSON number, kept as a Decimal (a float's digits as written)."""

    json_types = (int, float)
    json_type_name = "number"

    def to_internal_value(self, data):
        if isinstance(data, float):
            data = repr(data)  # 30.5, not 30.499999999999998...
            return serializers.DecimalField.to_internal_value(self, data)
        return super().to_internal_value(data)


class IdField(JSONTypeMixin, serializers.PrimaryKeyRelatedField):
    """An id: a JSON integer, nothing that only looks like one (``"3"``, ``3.0``,
    or ``1e400``, which would reach the database as infinity)."""

    json_types = (int,)
    json_type_name = "integer"


def _text(label, *, required=True, max_length=TEXT_MAX_LENGTH):
    if required:
        return TextField(label=label, max_length=max_length)
    return TextField(
        label=label,
        max_length=max_length,
        required=False,
        allow_blank=True,
        default="",
    )


class ActionPayload(serializers.Serializer):
    """Input of an action on a case: only ``expect_state``."""

    expect_state = serializers.ChoiceField(
        choices=State.choices,
        required=False,
        help_text=_(
            "The state the client saw. If the case is in another state now, the "
            "action is refused with 409 and nothing changes."
        ),
    )

    def service_kwargs(self) -> dict:
        """Keyword arguments of the service besides case, user and expect_state."""
        data = dict(self.validated_data)
        data.pop("expect_state", None)
        return data


class ReasonPayload(ActionPayload):
    reason = _text(_("Reason"))


class OptionalReasonPayload(ActionPayload):
    reason = _text(_("Note"), required=False)


class AnswerPayload(ActionPayload):
    answer = _text(_("Answer given to the citizen"))


class DispatchPayload(ActionPayload):
    department = IdField(
        label=_("Department"),
        queryset=Department.objects.all(),
        required=False,
        help_text=_("Defaults to the case's current department."),
    )

    def validate(self, attrs):
        if attrs.get("department") is None:
            case = self.context["case"]
            if case.department_id is None:
                raise serializers.ValidationError(
                    {
                        "department": [
                            _("Choose the department to dispatch the case to.")
                        ]
                    }
                )
            attrs["department"] = case.department
        return attrs


class ReplyPayload(ActionPayload):
    text = _text(_("The department's response"))
    channel = serializers.ChoiceField(
        label=_("Channel"),
        choices=ResponseChannel.choices,
        default=ResponseChannel.SYSTEM,
    )


class MergePayload(ActionPayload):
    into = TextField(
        label=_("Reference number of the case it duplicates"), max_length=24
    )


class CallbackPayload(ActionPayload):
    method = serializers.ChoiceField(
        label=_("Method"), choices=CallbackMethod.choices, default=CallbackMethod.PHONE
    )
    outcome = serializers.ChoiceField(
        label=_("Outcome"), choices=CallbackOutcome.choices
    )
    note = _text(_("Note"), required=False)


class ExtendDeadlinePayload(ActionPayload):
    working_days = IntegerField(label=_("Working days"), min_value=1, max_value=250)
    reason = _text(_("Reason"))


#: The input of each action the API runs, by registry name.
PAYLOADS: dict[str, type[ActionPayload]] = {
    "accept": ActionPayload,
    "reject": ReasonPayload,
    "answer": AnswerPayload,
    "dispatch": DispatchPayload,
    "acknowledge": ActionPayload,
    "return_case": ReasonPayload,
    "escalate": ReasonPayload,
    "reply": ReplyPayload,
    "close": ActionPayload,
    "reopen": OptionalReasonPayload,
    "merge": MergePayload,
    "withdraw": OptionalReasonPayload,
    "callback": CallbackPayload,
    "extend": ExtendDeadlinePayload,
}


def describe_payload(payload_class: type[ActionPayload]) -> list[dict]:
    """The fields an action takes, for a client to build its form from."""
    described = []
    for name, field in payload_class().fields.items():
        if name == "expect_state":
            continue
        choices = None
        if isinstance(field, serializers.ChoiceField):
            kind = "choice"
            choices = [
                {"value": value, "label": str(label)}
                for value, label in field.choices.items()
            ]
        elif isinstance(field, serializers.RelatedField | serializers.IntegerField):
            kind = "integer"
        elif isinstance(field, serializers.BooleanField):
            kind = "boolean"
        else:
            kind = "string"
        described.append(
            {
                "name": name,
                "label": str(field.label or name),
                "type": kind,
                "required": field.required,
                "max_length": getattr(field, "max_length", None),
                "choices": choices,
            }
        )
    return described


# --- registering a case ---------------------------------------------------------------


class EmailField(JSONTypeMixin, serializers.EmailField):
    json_types = (str,)
    json_type_name = "string"


class CitizenInputSerializer(serializers.Serializer):
    name = TextField(max_length=100, required=False, allow_blank=True)
    phone = TextField(max_length=30, required=False, allow_blank=True)
    address = TextField(max_length=255, required=False, allow_blank=True)
    email = EmailField(max_length=254, required=False, allow_blank=True)


class CaseRegisterSerializer(serializers.Serializer):
    """A request taken down by an officer (on the phone or at the desk)."""

    kind = serializers.ChoiceField(choices=Kind.choices)
    is_efficiency = BooleanField(default=False)
    category = IdField(
        queryset=Category.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    title = TextField(max_length=200)
    description = TextField(max_length=TEXT_MAX_LENGTH)
    location_text = TextField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    latitude = NumberField(
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        required=False,
        allow_null=True,
        coerce_to_string=False,
    )
    longitude = NumberField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        allow_null=True,
        coerce_to_string=False,
    )
    channel = serializers.ChoiceField(choices=REGISTER_CHANNELS, default=Channel.PHONE)
    citizen = CitizenInputSerializer(required=False, allow_null=True)
    heard_of = serializers.ChoiceField(
        choices=HeardOf.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("How the citizen heard of 8890, if asked."),
    )
    heard_of_visit = IdField(
        queryset=CommunityVisit.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "The community visit day (its id) where the citizen heard of 8890: "
            "only with heard_of “community_visit”, and a visit held on or before "
            "today."
        ),
    )

    def service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        citizen = data.pop("citizen", None) or {}
        return {**data, "citizen": CitizenData(**citizen)}


# --- public statistics (the schema of GET /api/v1/stats/) -----------------------------
#
# The view answers Report.as_dict() as it is; these serializers describe its shape
# for the schema (and the schema tests hold the two together).


class StatsRateSerializer(serializers.Serializer):
    rate = serializers.FloatField(
        allow_null=True,
        help_text=_("numerator ÷ sample; null when the sample is too small"),
    )
    numerator = serializers.IntegerField()
    sample = serializers.IntegerField()
    sufficient = serializers.BooleanField()


class StatsCallbackMethodsSerializer(serializers.Serializer):
    phone = serializers.IntegerField()
    home_visit = serializers.IntegerField()
    media_joint = serializers.IntegerField()


class StatsCallbacksSerializer(serializers.Serializer):
    callbacks = serializers.IntegerField()
    reached = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    dissatisfied = serializers.IntegerField()
    unreachable = serializers.IntegerField()
    satisfaction = StatsRateSerializer()
    unreachable_share = StatsRateSerializer()
    by_method = StatsCallbackMethodsSerializer()


class StatsBusiestDaySerializer(serializers.Serializer):
    date = serializers.DateField(allow_null=True)
    calls = serializers.IntegerField()


class StatsHeadlineSerializer(serializers.Serializer):
    period = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    calls = serializers.IntegerField()
    busiest_day = StatsBusiestDaySerializer()
    registered = serializers.IntegerField()
    accepted = serializers.IntegerField()
    completed = serializers.IntegerField()
    satisfaction = StatsRateSerializer()
    callbacks = StatsCallbacksSerializer()


class StatsMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    calls = serializers.IntegerField()
    accepted = serializers.IntegerField()
    completed = serializers.IntegerField()


class StatsDayCallsSerializer(serializers.Serializer):
    date = serializers.DateField()
    calls = serializers.IntegerField()


class StatsAgeSerializer(serializers.Serializer):
    from_days = serializers.IntegerField()
    to_days = serializers.IntegerField(allow_null=True)
    cases = serializers.IntegerField()


class StatsBacklogSerializer(serializers.Serializer):
    date = serializers.DateField()
    unfinished_efficiency_complaints = serializers.IntegerField()
    year_ago_date = serializers.DateField()
    year_ago = serializers.IntegerField()
    open_cases_by_age = StatsAgeSerializer(many=True)


class StatsDepartmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)


class StatsDepartmentSerializer(serializers.Serializer):
    department = StatsDepartmentRefSerializer()
    rank = serializers.IntegerField(allow_null=True)
    dispatched = serializers.IntegerField()
    response_rate = StatsRateSerializer()
    resolution_rate = StatsRateSerializer()
    satisfaction_rate = StatsRateSerializer()
    callbacks = StatsCallbacksSerializer()
    median_working_days_to_reply = serializers.FloatField(allow_null=True)
    replies = serializers.IntegerField()
    returned = serializers.IntegerField()
    escalated = serializers.IntegerField()
    overdue_now = serializers.IntegerField()


class StatsRankingSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    departments = StatsDepartmentSerializer(many=True)


class StatsEffectGroupSerializer(serializers.Serializer):
    cases = serializers.IntegerField()
    responded = serializers.IntegerField()
    median_days_to_response = serializers.FloatField(allow_null=True)
    solved_within_7_days = StatsRateSerializer()


class StatsMediaEffectSerializer(serializers.Serializer):
    reported = StatsEffectGroupSerializer()
    not_reported = StatsEffectGroupSerializer()


class StatsOverdueCaseSerializer(serializers.Serializer):
    reference = serializers.CharField()
    category = serializers.CharField(allow_blank=True)
    working_days_overdue = serializers.IntegerField()
    escalated = serializers.BooleanField()


class StatsOverdueSerializer(serializers.Serializer):
    department = StatsDepartmentRefSerializer()
    overdue = serializers.IntegerField()
    cases = StatsOverdueCaseSerializer(many=True)


class StatsHeardOfSerializer(serializers.Serializer):
    heard_of = serializers.ChoiceField(
        choices=HeardOf.choices,
        allow_null=True,
        help_text=_("null: not asked, or not said"),
    )
    label = serializers.CharField()
    first_time_callers = serializers.IntegerField()


class StatsVisitSerializer(serializers.Serializer):
    date = serializers.DateField()
    place = serializers.CharField(allow_blank=True)
    people_served = serializers.IntegerField(allow_null=True)
    first_time_callers = serializers.IntegerField()


class StatsFirstTimeCallersSerializer(serializers.Serializer):
    """Citizens whose first contact with the hotline (a call or a case, by phone
    number) fell in the period, and how that contact says they heard of 8890."""

    first_time_callers = serializers.IntegerField()
    asked = serializers.IntegerField()
    attributed_to_visits = serializers.IntegerField()
    visit_not_recorded = serializers.IntegerField()
    heard_of = StatsHeardOfSerializer(many=True)
    visits = StatsVisitSerializer(many=True)


class StatsSerializer(serializers.Serializer):
    """The hotline's public figures (no personal data: references, categories
    and department names only)."""

    generated_at = serializers.DateTimeField()
    minimum_sample = serializers.IntegerField()
    headline = StatsHeadlineSerializer()
    years = StatsHeadlineSerializer(many=True)
    months = StatsMonthSerializer(many=True)
    daily_calls = StatsDayCallsSerializer(many=True)
    backlog = StatsBacklogSerializer()
    departments = StatsDepartmentSerializer(many=True)
    ranking = StatsRankingSerializer()
    media_effect = StatsMediaEffectSerializer()
    overdue = StatsOverdueSerializer(many=True)
    first_time_callers = StatsFirstTimeCallersSerializer()
