"""The models of the case system, one module per part.

- :mod:`.reference`: departments, categories with their time limits, citizens and
  staff profiles;
- :mod:`.cases`: the case and its state machine (django-fsm-2), with the
  conditions and permissions of its transitions;
- :mod:`.timeline`: what happened to a case: events, department responses,
  callbacks;
- :mod:`.calls`: calls to the hotline;
- :mod:`tracking.calendar.models`: the working calendar (it lives beside the
  working-day arithmetic that reads it);
- :mod:`.censor`: editable redaction rules;
- :mod:`.notices`: notices once per deadline, and the outbox.
"""

from ..calendar.models import CalendarYear, WorkingCalendar
from .calls import Call, CallOutcome
from .cases import (
    AWAITING_DEPARTMENT_STATES,
    ESCALATABLE_STATES,
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
    has_department,
    has_response_since_dispatch,
    may_act_on,
    overdue_past_threshold,
    require_text,
)
from .censor import CensorRule
from .notices import CaseNotice, NoticeKind, OutboxMessage
from .reference import AcknowledgeUnit, Category, Citizen, Department, StaffProfile
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
    "OPEN_STATES",
    "TERMINAL_STATES",
    "AcknowledgeUnit",
    "CalendarYear",
    "Call",
    "CallOutcome",
    "Callback",
    "CallbackMethod",
    "CallbackOutcome",
    "Case",
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
    "Kind",
    "NoticeKind",
    "OutboxMessage",
    "ReferenceSequence",
    "ResponseChannel",
    "StaffProfile",
    "State",
    "WorkingCalendar",
    "callback_allows_close",
    "callback_dissatisfied",
    "department_id_of",
    "has_department",
    "has_response_since_dispatch",
    "may_act_on",
    "overdue_past_threshold",
    "require_text",
]
