"""Reads about cases that more than one interface needs (admin, API)."""

from __future__ import annotations

from . import actions, hooks
from . import models as m
from .models import Case, State

# Conditions that the action's own form fulfils. django-fsm would offer "dispatch"
# only once the case has a department and "reply" only once a response is recorded,
# but choosing the department and writing the response is what those forms are for.
FULFILLED_BY_FORM = {
    "dispatch": {m.has_department},
    "reply": {m.has_response_since_dispatch},
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
