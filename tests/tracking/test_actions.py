"""The registry of case actions, walked against the state machine and the services.

Each transition of ``Case.state`` must have exactly one entry; every entry's
service, form and availability check must exist, take spelled-out keyword
arguments only, and run.
"""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest
from django.utils import translation

from tests.factories import (
    CallbackFactory,
    CaseFactory,
    CategoryFactory,
    aware,
    case_in_state,
    officer,
    supervisor,
)
from tracking import actions
from tracking import services as svc
from tracking.forms import CaseActionForm
from tracking.models import Case, CaseEvent, OutboxMessage, State

pytestmark = pytest.mark.django_db

NOW = aware(2026, 11, 26, 10)


def fsm_transition_names() -> list[str]:
    """Each transition method of ``Case.state`` once, however many sources it has."""
    field = Case._meta.get_field("state")
    return sorted({t.name for t in field.get_all_transitions(Case)})


def test_every_transition_of_the_state_machine_has_exactly_one_entry():
    declared = [action.name for action in actions.DECLARED]
    assert len(declared) == len(set(declared)), "an action is declared twice"
    assert sorted(actions.transition_names()) == fsm_transition_names()
    for name in fsm_transition_names():
        assert [a for a in actions.DECLARED if a.name == name and a.transition]


def test_a_duplicate_declaration_is_refused():
    with pytest.raises(ValueError, match="accept"):
        actions.build([actions.Action("accept", "x"), actions.Action("accept", "y")])


@pytest.mark.parametrize(
    "action", [a for a in actions.DECLARED if a.service], ids=lambda a: a.name
)
def test_every_service_exists_and_spells_out_its_keyword_arguments(action):
    service = action.run
    assert callable(service)
    parameters = inspect.signature(service).parameters.values()
    kinds = {p.kind for p in parameters}
    assert kinds == {inspect.Parameter.KEYWORD_ONLY}, action.service
    if action.name != "register":
        names = {p.name for p in parameters}
        assert {"case", "user", "now", "expect_state"} <= names


@pytest.mark.parametrize(
    "action", [a for a in actions.DECLARED if a.form], ids=lambda a: a.name
)
def test_every_button_has_its_form_and_label(action):
    assert issubclass(action.form_class, CaseActionForm)
    assert action.button and action.tone in actions.TONES
    assert action.transition or (action.url_name and callable(action.is_available))


def test_the_public_timeline_words_every_public_action():
    for action in actions.DECLARED:
        assert action.public == bool(action.public_label)
        if action.public_note:
            assert action.public
    # A department's return is internal (its reasons are not for the public).
    assert not actions.get("return_case").public
    assert actions.get("reply").public_note == actions.QUOTED


def test_an_unknown_event_name_gets_a_bare_action():
    action = actions.get("imported_from_the_old_system")
    assert (action.label, action.public, action.notices) == (
        "imported_from_the_old_system",
        False,
        frozenset(),
    )


# --- every service runs, through the registry ----------------------------------


def _run_transition(name: str):
    case = {
        "accept": lambda: case_in_state("registered"),
        "reject": lambda: case_in_state("registered"),
        "answer": lambda: case_in_state("accepted"),
        "dispatch": lambda: case_in_state("accepted"),
        "acknowledge": lambda: case_in_state("dispatched", due_at=NOW),
        "return_case": lambda: case_in_state("dispatched", due_at=NOW),
        "escalate": lambda: case_in_state(
            "dispatched", due_at=aware(2026, 11, 18, 18), is_efficiency=True
        ),
        "reply": lambda: case_in_state("dispatched", due_at=NOW),
        "close": lambda: case_in_state("answered", replied_at=NOW),
        "reopen": lambda: case_in_state("answered", replied_at=NOW),
        "withdraw": lambda: case_in_state("accepted"),
        "merge": lambda: case_in_state("registered"),
    }[name]()
    extra = {
        "reject": {"reason": "不属于本单位职责"},
        "answer": {"answer": "已告知办理流程。"},
        "dispatch": {"department": case.category.default_department},
        "return_case": {"reason": "非本单位职责"},
        "escalate": {"reason": "逾期未办结"},
        "reply": {"text": "已安排施划直行标线。"},
        "merge": {"into": case_in_state("accepted")},
    }.get(name, {})
    if name in {"close", "reopen"}:
        outcome = "satisfied" if name == "close" else "dissatisfied"
        CallbackFactory(case=case, outcome=outcome, called_at=NOW + timedelta(hours=1))
    user = supervisor(is_superuser=True)
    return case, actions.get(name).run(
        case=case,
        user=user,
        now=NOW + timedelta(hours=2),
        expect_state=case.state,
        **extra,
    )


@pytest.mark.parametrize("name", actions.transition_names())
def test_every_transition_runs_through_its_registry_entry(name, calendar_2026):
    case, result = _run_transition(name)
    event = CaseEvent.objects.filter(case=case).latest("pk")
    assert (event.action, event.from_state, event.to_state) == (
        name,
        case.state,
        result.state,
    )
    assert event.public == actions.get(name).public


def test_the_other_actions_run_through_their_entries(hot_tracking_site, calendar_2026):
    user = supervisor(is_superuser=True)
    registered = actions.get("register").run(
        kind="complaint",
        title="路口拥堵",
        description="早高峰排队过长",
        user=user,
        now=NOW,
    )
    assert CaseEvent.objects.get(case=registered).public

    answered = case_in_state("answered", replied_at=NOW)
    callback = actions.get("callback").run(
        case=answered, user=user, outcome="satisfied", now=NOW, expect_state="answered"
    )
    assert callback.outcome == "satisfied"
    assert not CaseEvent.objects.get(case=answered, action="callback").public

    waiting = case_in_state("dispatched", due_at=NOW)
    extended = actions.get("extend").run(
        case=waiting,
        user=user,
        working_days=2,
        reason="需协调",
        now=NOW,
        expect_state="dispatched",
    )
    assert extended.due_at > NOW

    escalated = CaseFactory(
        state=State.SUPERVISED, escalated_at=NOW, due_at=aware(2026, 11, 18, 18)
    )
    story = actions.get("story").run(
        case=escalated, user=user, now=NOW, expect_state="supervised"
    )
    assert story.case_id == escalated.pk
    assert CaseEvent.objects.filter(case=escalated, action="story").count() == 1


def test_the_registry_decides_which_events_notify_the_department(calendar_2026):
    category = CategoryFactory()
    accepted = case_in_state("accepted", category=category)
    svc.case_dispatch(
        case=accepted, user=officer(), department=category.default_department, now=NOW
    )
    owed = OutboxMessage.objects.filter(task="tracking.tasks.notify_case_event")
    assert owed.count() == 1  # dispatch notifies the department

    fresh = case_in_state("registered", category=category)
    svc.case_accept(case=fresh, user=officer(), now=NOW)
    assert owed.count() == 1  # accepting tells nobody


def test_a_case_page_offers_buttons_from_the_registry(client, calendar_2026):
    from tracking.views import case_actions

    answered = case_in_state("answered", replied_at=NOW)
    CallbackFactory(case=answered, outcome="dissatisfied", called_at=NOW)
    with translation.override("en"):
        buttons = {
            b.name: (str(b.label), b.classname)
            for b in case_actions(answered, supervisor(is_superuser=True))
        }
    assert buttons["reopen"] == ("Reopen", "button button-secondary")
    assert buttons["callback"] == ("Record callback", "button")
    assert "close" not in buttons  # the latest callback was dissatisfied
