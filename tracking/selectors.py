"""Reads about cases that more than one interface needs (admin, API, the public
timeline of story pages and of the progress lookup)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from . import actions, hooks
from . import models as m
from .models import Case, CaseEvent, State
from .redaction import redact, rules_for

# Conditions that the action's own form fulfils. django-fsm would offer "dispatch"
# only once the case has a department and "reply" only once a response is recorded,
# but choosing the department and writing the response is what those forms are for.
FULFILLED_BY_FORM = {
    "dispatch": {m.has_department},
    "reply": {m.has_response_since_dispatch},
    # A supervisor may escalate before the threshold, giving a reason in the form.
    "escalate": {m.escalation_due},
}


def available_transitions(case: Case, user) -> list[str]:
    """Names of the transitions ``user`` may run on ``case`` now, in workflow order."""
    names = {t.name for t in case.get_available_user_state_transitions(user)}
    for name, fulfilled in FULFILLED_BY_FORM.items():
        meta = getattr(case, name)._django_fsm
        if name in names or not meta.has_transition(case.state):
            continue
        transition = meta.get_transition(case.state)
        if transition.has_perm(case, user) and all(
            condition(case)
            for condition in transition.conditions
            if condition not in fulfilled
        ):
            names.add(name)
    return [name for name in actions.transition_names() if name in names]


def may_record_callback(case: Case, user) -> bool:
    return (
        case.state in (State.REPLIED, State.ANSWERED)
        and user.has_perm("tracking.record_callback")
        and m.may_act_on(case, user)
    )


def may_extend_deadline(case: Case, user) -> bool:
    return (
        case.is_awaiting_department
        and case.due_at is not None
        and user.has_perm("tracking.extend_deadline")
        and m.may_act_on(case, user)
    )


def may_request_story(case: Case, user) -> bool:
    """Supervisors may start the story of an escalated case that has none."""
    return (
        case.escalated_at is not None
        and hooks.is_registered("create_story")
        and user.has_perm("tracking.escalate_case")
        and m.may_act_on(case, user)
        and hooks.call("get_story", case.pk) is None
    )


# --- the public timeline --------------------------------------------------------------


@dataclass
class TimelineItem:
    """One line of a timeline the public sees: redacted plain text only."""

    at: datetime
    kind: str
    label: str
    text: str = ""


def public_events(case: Case) -> list[CaseEvent]:
    """The case's events flagged public, oldest first (one query)."""
    return list(
        CaseEvent.objects.public().filter(case_id=case.pk).order_by("created_at", "pk")
    )


def public_timeline(
    case: Case, *, rules=None, events: Iterable[CaseEvent] | None = None
) -> list[TimelineItem]:
    """The case's public events in the registry's public words, notes redacted.

    The registry says how the public timeline words an action and whether its
    note is shown (the words of the department or the hotline, the department's
    name); other notes are internal reasons and never shown. Pass ``events``
    (from :func:`public_events`) when the caller reads them anyway, and
    ``rules`` (from :func:`tracking.redaction.rules_for`) to read them once.
    """
    if events is None:
        events = public_events(case)
    if rules is None:
        rules = rules_for(case)
    items = []
    for event in events:
        action = actions.get(event.action)
        if not action.public:
            continue
        text = ""
        if action.public_note:
            text = redact(event.note, case=case, rules=rules)
        items.append(
            TimelineItem(event.created_at, action.name, str(action.public_label), text)
        )
    return items


# --- the progress lookup (进度查询) --------------------------------------------------

# How a case's state reads to the citizen following it. A department returning a
# case (退单) is internal, as on the public timeline: the case is being handled.
PUBLIC_STATUS = {
    State.REGISTERED: State.REGISTERED.label,
    State.ACCEPTED: _("Accepted by the hotline"),
    State.REJECTED: _("Not accepted"),
    State.ANSWERED: _("Answered by the hotline"),
    State.DISPATCHED: State.IN_PROGRESS.label,
    State.IN_PROGRESS: State.IN_PROGRESS.label,
    State.RETURNED: State.IN_PROGRESS.label,
    State.REOPENED: State.IN_PROGRESS.label,
    State.SUPERVISED: State.SUPERVISED.label,
    State.REPLIED: State.REPLIED.label,
    State.CLOSED: State.CLOSED.label,
    State.WITHDRAWN: _("Withdrawn by the citizen"),
    State.MERGED: State.MERGED.label,
}
# The digits of the citizen's phone a lookup asks for.
PHONE_TAIL_DIGITS = 4


def public_status(state: str) -> str:
    return str(PUBLIC_STATUS.get(state, State.IN_PROGRESS.label))


def case_for_lookup(reference: str, phone_tail: str) -> Case | None:
    """The case with this reference number whose citizen's phone ends in
    ``phone_tail``, else None: an unknown reference, other digits and a case
    without a citizen's phone are the same answer, in the same one query."""
    case = (
        Case.objects.select_related("citizen", "duplicate_of")
        .filter(reference=reference)
        .first()
    )
    phone = m.normalize_phone(case.citizen.phone) if case and case.citizen else ""
    digits = "".join(ch for ch in phone if "0" <= ch <= "9")
    # Fewer digits than the shortest local number (seven) is no phone at all.
    expected = digits[-PHONE_TAIL_DIGITS:] if len(digits) >= 7 else ""
    # Compared in constant time, and against something even when there is nothing.
    matches = hmac.compare_digest(
        (expected or "x" * PHONE_TAIL_DIGITS).encode(), phone_tail.encode()
    )
    return case if matches and expected else None


@dataclass
class PublicResponse:
    department: str
    text: str
    at: datetime


@dataclass
class CaseProgress:
    """What a citizen who proved the case is theirs sees of it: no personal data
    (the case's own citizen data is redacted out of every text), no photos."""

    reference: str
    kind: str
    title: str
    status: str
    registered_at: datetime
    due_at: datetime | None
    items: list[TimelineItem]
    response: PublicResponse | None
    joined_reference: str = ""
    joined_status: str = ""


def case_progress(case: Case) -> CaseProgress:
    """The progress of ``case`` for its citizen, redacted, in a fixed number of
    queries (the case's events, its latest response, its censor rules)."""
    rules = rules_for(case)
    latest = (
        case.responses.select_related("department")
        .order_by("-responded_at", "-pk")
        .first()
    )
    response = None
    if latest is not None:
        response = PublicResponse(
            department=latest.department.name,
            text=redact(latest.text, case=case, rules=rules),
            at=latest.responded_at,
        )
    joined = case.duplicate_of if case.state == State.MERGED else None
    return CaseProgress(
        reference=case.reference,
        kind=case.get_kind_display(),
        title=redact(case.title, case=case, rules=rules),
        status=public_status(case.state),
        registered_at=case.registered_at,
        due_at=case.due_at if case.is_awaiting_department else None,
        items=public_timeline(case, rules=rules),
        response=response,
        joined_reference=joined.reference if joined else "",
        joined_status=public_status(joined.state) if joined else "",
    )
