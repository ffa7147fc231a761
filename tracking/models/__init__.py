"""The models of the case system, one module per part.

- :mod:`.reference`: departments, categories with their time limits, citizens and
  staff profiles;
- :mod:`.cases`: the case and its state machine (django-fsm-2), with the
  conditions and permissions of its transitions;
- :mod:`.timeline`: what happened to a case: events, department responses,
  callbacks;
- :mod:`.calls`: calls to the hotline;
- :mod:`.attachments`: photos sent with a request (private storage);
- :mod:`tracking.open311.models`: API keys of Open311 clients;
- :mod:`tracking.calendar.models`: the working calendar (it lives beside the
  working-day arithmetic that reads it);
- :mod:`.censor`: editable redaction rules;
- :mod:`.extensions`: requests to extend a case's deadline (延期申请);
- :mod:`.notices`: notices once per deadline, and the outbox;
- :mod:`.statistics`: the daily rollups behind the public figures.
"""

from ..calendar.models import CalendarYear, WorkingCalendar
from ..open311.models import ApiClient
from .attachments import CaseAttachment
from .calls import Call, CallOutcome, HeardOf
from .cases import (
    AWAITING_DEPARTMENT_STATES,
    ESCALATABLE_STATES,
    MERGEABLE_STATES,
    OPEN_STATES,
    TERMINAL_STATES,
    Case,
    CaseQuerySet,
    Channel,
    Kind,
    ReferenceSequence,
    State,
    callback_allows_close,
    callback_dissatisfied,
    department_id_of,
    escalation_due,
    has_department,
    has_response_since_dispatch,
    may_act_on,
    overdue_past_threshold,
    require_text,
)
from .censor import CensorRule
from .extensions import ExtensionDecision, ExtensionRequest
from .notices import CaseNotice, NoticeKind, OutboxMessage
from .reference import (
    AcknowledgeUnit,
    Category,
    Citizen,
    Department,
    StaffProfile,
    is_phone_number,
    normalize_phone,
)
from .statistics import (
    CallDay,
    CaseDay,
    FirstContact,
    FirstContactDay,
    MediaEffectDay,
    ReplyDays,
)
from .timeline import (
    Callback,
    CallbackMethod,
    CallbackOutcome,
    CaseEvent,
    CaseEventQuerySet,
    DepartmentResponse,
    ResponseChannel,
)

__all__ = [
    "AWAITING_DEPARTMENT_STATES",
    "ESCALATABLE_STATES",
    "MERGEABLE_STATES",
    "OPEN_STATES",
    "TERMINAL_STATES",
    "AcknowledgeUnit",
    "ApiClient",
    "CalendarYear",
    "Call",
    "HeardOf",
    "CallDay",
    "CallOutcome",
    "Callback",
    "CallbackMethod",
    "CallbackOutcome",
    "Case",
    "CaseAttachment",
    "CaseDay",
    "CaseEvent",
    "CaseEventQuerySet",
    "CaseNotice",
    "CaseQuerySet",
    "Category",
    "CensorRule",
    "Channel",
    "Citizen",
    "Department",
    "DepartmentResponse",
    "ExtensionDecision",
    "ExtensionRequest",
    "Kind",
    "MediaEffectDay",
    "NoticeKind",
    "OutboxMessage",
    "ReferenceSequence",
    "ReplyDays",
    "FirstContact",
    "FirstContactDay",
    "ResponseChannel",
    "StaffProfile",
    "State",
    "WorkingCalendar",
    "callback_allows_close",
    "callback_dissatisfied",
    "department_id_of",
    "escalation_due",
    "has_department",
    "has_response_since_dispatch",
    "is_phone_number",
    "may_act_on",
    "normalize_phone",
    "overdue_past_threshold",
    "require_text",
]
