"""The case state machine, driven through the services, against DESIGN.md.

The expected table below is written out from DESIGN.md by hand on purpose: it must
not be derived from the model, or a wrong transition on the model would agree with
itself.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.factories import (
    CallbackFactory,
    DepartmentFactory,
    EventFactory,
    ResponseFactory,
    aware,
    case_in_state,
    liaison,
    officer,
    supervisor,
)
from tracking import actions
from tracking import services as svc
from tracking.exceptions import CaseConflict, InvalidInput, TransitionRefused
from tracking.models import Case, CaseEvent, DepartmentResponse

pytestmark = pytest.mark.django_db

STATES = (
    "registered",
    "accepted",
    "rejected",
    "answered",
    "dispatched",
    "in_progress",
    "returned",
    "supervised",
    "replied",
    "reopened",
    "closed",
    "withdrawn",
    "merged",
)
OPEN = (
    "registered",
    "accepted",
    "answered",
    "dispatched",
    "in_progress",
    "returned",
    "supervised",
    "replied",
    "reopened",
)

# transition: (source states, target state), straight from DESIGN.md; a target
# that depends on the source is a {source: target} mapping.
DESIGN_TABLE = {
    "accept": ({"registered"}, "accepted"),
    "reject": ({"registered"}, "rejected"),
    "answer": ({"accepted"}, "answered"),
    "dispatch": ({"accepted", "returned", "reopened"}, "dispatched"),
    "acknowledge": ({"dispatched"}, "in_progress"),
    "return_case": ({"dispatched", "in_progress"}, "returned"),
    "escalate": ({"dispatched", "in_progress", "returned", "reopened"}, "supervised"),
    "reply": ({"dispatched", "in_progress", "supervised"}, "replied"),
    "close": ({"replied", "answered"}, "closed"),
    # A consultation the hotline answered itself is accepted again (重办).
    "reopen": (
        {"replied", "answered"},
        {"replied": "reopened", "answered": "accepted"},
    ),
    "withdraw": (set(OPEN), "withdrawn"),
    # A duplicate report joins the case it repeats before a department works on it.
    "merge": ({"registered", "accepted", "returned"}, "merged"),
}

# A Friday with no holiday for weeks around it.
NOW = aware(2026, 3, 27, 10)
ACCEPTED_AT = aware(2026, 3, 2, 9)
DISPATCHED_AT = aware(2026, 3, 2, 10)
DUE_AT = aware(2026, 3, 9, 18)  # 14 working days before NOW: far past any threshold
REPLIED_AT = aware(2026, 3, 20, 10)
CALLED_AT = aware(2026, 3, 23, 10)
# Five working days after Friday 27 March, at office closing time.
NEW_DEADLINE = aware(2026, 4, 3, 18)
# One working day after it: the default acknowledgement limit (签收时限).
ACKNOWLEDGE_BY = aware(2026, 3, 30, 18)

TIMESTAMPS = (
    "accepted_at",
    "dispatched_at",
    "acknowledged_at",
    "due_at",
    "replied_at",
    "closed_at",
    "escalated_at",
    "acknowledge_due_at",
    "escalated_due_at",
    "escalated_days_overdue",
    "late_acknowledgements",
)


def target_of(transition: str, source: str) -> str:
    target = DESIGN_TABLE[transition][1]
    return target[source] if isinstance(target, dict) else target


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def prepared_case(state: str, transition: str) -> Case:
    """A case in ``state`` whose data satisfies every condition of ``transition``.

    Only the state can then stand between the case and the transition.
    """
    fields = {"registered_at": aware(2026, 3, 1, 9), "is_efficiency": True}
    if state != "registered":
        fields["accepted_at"] = ACCEPTED_AT
    if state in {
        "dispatched",
        "in_progress",
        "returned",
        "supervised",
        "replied",
        "reopened",
        "closed",
    }:
        fields.update(dispatched_at=DISPATCHED_AT, due_at=DUE_AT)
    if state in {"replied", "answered", "closed"}:
        fields["replied_at"] = REPLIED_AT
    if state in {"rejected", "closed", "withdrawn", "merged"}:
        fields["closed_at"] = REPLIED_AT
    case = case_in_state(state, **fields)
    if state in {"replied", "closed"}:
        ResponseFactory(case=case, responded_at=REPLIED_AT)
    outcome = "dissatisfied" if transition == "reopen" else "satisfied"
    CallbackFactory(case=case, outcome=outcome, called_at=CALLED_AT)
    return case


def actor_for(transition: str, case: Case):
    """Someone whose role includes ``transition`` (DESIGN.md, roles)."""
    if transition in {"acknowledge", "return_case", "reply"}:
        return liaison(case.department)
    if transition == "escalate":
        return supervisor()
    return officer()


def run(transition: str, case: Case, user, **extra):
    """Call the service of ``transition`` with valid input."""
    kwargs = {"case": case, "user": user, "now": NOW, **extra}
    if transition in {"reject", "return_case"}:
        kwargs.setdefault("reason", "不属于本单位职责")
    elif transition == "answer":
        kwargs.setdefault("answer", "已电话告知办理流程。")
    elif transition == "dispatch":
        kwargs.setdefault("department", DepartmentFactory(name="城管局"))
    elif transition == "escalate":
        kwargs.setdefault("reason", "逾期未办结")
    elif transition == "reply":
        kwargs.setdefault("text", "已安排施划直行标线。")
    elif transition == "merge":
        kwargs.setdefault("into", case_in_state("accepted", accepted_at=ACCEPTED_AT))
    return actions.get(transition).run(**kwargs)


def snapshot(case: Case) -> dict:
    fresh = Case.objects.get(pk=case.pk)
    return {
        "state": fresh.state,
        "department_id": fresh.department_id,
        "bounce_count": fresh.bounce_count,
        **{name: getattr(fresh, name) for name in TIMESTAMPS},
        "events": CaseEvent.objects.filter(case=case).count(),
        "responses": DepartmentResponse.objects.filter(case=case).count(),
    }


def test_design_table_covers_every_transition_and_state():
    assert set(DESIGN_TABLE) == set(actions.transition_names())
    assert {s for s, _label in Case._meta.get_field("state").choices} == set(STATES)


ALL_PAIRS = [(t, s) for t in DESIGN_TABLE for s in STATES]
ALLOWED = [(t, s) for t, s in ALL_PAIRS if s in DESIGN_TABLE[t][0]]
REFUSED = [(t, s) for t, s in ALL_PAIRS if s not in DESIGN_TABLE[t][0]]


@pytest.mark.parametrize(("transition", "state"), REFUSED)
def test_transition_from_state_not_in_design_is_refused(transition, state):
    case = prepared_case(state, transition)
    before = snapshot(case)

    with pytest.raises(TransitionRefused, match="cannot be"):
        run(transition, case, actor_for(transition, case))

    assert snapshot(case) == before


@pytest.mark.parametrize(("transition", "state"), ALLOWED)
def test_transition_from_state_in_design_moves_case_and_writes_one_event(
    transition, state
):
    case = prepared_case(state, transition)
    before = snapshot(case)
    user = actor_for(transition, case)

    result = run(transition, case, user)

    target = target_of(transition, state)
    fresh = Case.objects.get(pk=case.pk)
    assert result.state == fresh.state == target
    events = list(CaseEvent.objects.filter(case=case).order_by("pk"))
    assert len(events) == before["events"] + 1
    event = events[-1]
    assert (event.action, event.from_state, event.to_state) == (
        transition,
        state,
        target,
    )
    assert event.actor == user
    assert event.created_at == NOW
    _assert_effects(transition, fresh, before, state)


def _assert_effects(transition: str, fresh: Case, before: dict, source: str) -> None:
    changed = {
        "accept": {"accepted_at": NOW},
        "reject": {"closed_at": NOW},
        "answer": {"replied_at": NOW},
        "dispatch": {
            "dispatched_at": NOW,
            "due_at": NEW_DEADLINE,
            "acknowledged_at": None,
            "acknowledge_due_at": ACKNOWLEDGE_BY,
        },
        "acknowledge": {"acknowledged_at": NOW},
        "return_case": {},
        "escalate": {
            "escalated_at": NOW,
            "escalated_due_at": DUE_AT,
            # 10–26 March: the working days past DUE_AT whose hours have ended.
            "escalated_days_overdue": 13,
        },
        "reply": {"replied_at": NOW},
        "close": {"closed_at": NOW},
        "reopen": {"due_at": NEW_DEADLINE, "replied_at": None}
        if source == "replied"
        else {"replied_at": None},
        "withdraw": {"closed_at": NOW},
        "merge": {"closed_at": NOW},
    }[transition]
    for name in TIMESTAMPS:
        expected = changed.get(name, before[name])
        assert getattr(fresh, name) == expected, name
    bounces = before["bounce_count"] + (1 if transition == "return_case" else 0)
    assert fresh.bounce_count == bounces
    if transition == "dispatch":
        assert fresh.department.name == "城管局"
    else:
        assert fresh.department_id == before["department_id"]
    new_responses = 1 if transition == "reply" else 0
    assert fresh.responses.count() == before["responses"] + new_responses


# --- conditions -----------------------------------------------------------------------


def test_dispatch_without_department_is_refused_and_writes_nothing():
    case = prepared_case("accepted", "dispatch")
    before = snapshot(case)

    with pytest.raises(TransitionRefused, match="Choose the department"):
        svc.case_dispatch(case=case, user=officer(), department=None, now=NOW)

    assert snapshot(case) == before


def test_dispatch_to_inactive_department_is_invalid():
    case = prepared_case("accepted", "dispatch")
    before = snapshot(case)
    closed = DepartmentFactory(name="已撤并的部门", is_active=False)

    with pytest.raises(InvalidInput):
        svc.case_dispatch(case=case, user=officer(), department=closed, now=NOW)

    assert snapshot(case) == before


@pytest.mark.parametrize("text", ["", "   \n"])
def test_reply_with_empty_text_is_invalid_and_writes_nothing(text):
    case = prepared_case("in_progress", "reply")
    before = snapshot(case)

    with pytest.raises(InvalidInput):
        svc.case_reply(case=case, user=liaison(case.department), text=text, now=NOW)

    assert snapshot(case) == before


def test_refused_reply_rolls_back_the_response_it_created():
    """A response dated before the dispatch does not answer it: the whole reply,
    response included, is undone."""
    case = prepared_case("in_progress", "reply")
    before = snapshot(case)

    with pytest.raises(TransitionRefused, match="Record the department's response"):
        svc.case_reply(
            case=case,
            user=liaison(case.department),
            text="早在派单前就答复过。",
            responded_at=aware(2026, 3, 1, 9),
            now=NOW,
        )

    assert snapshot(case) == before
    assert not DepartmentResponse.objects.filter(text="早在派单前就答复过。").exists()


@pytest.mark.parametrize(
    ("transition", "kwargs"),
    [
        ("reject", {"reason": ""}),
        ("reject", {"reason": "  "}),
        ("return_case", {"reason": ""}),
        ("return_case", {"reason": " \t"}),
        ("escalate", {"reason": ""}),
    ],
)
def test_transition_needing_a_reason_is_invalid_without_one(transition, kwargs):
    state = "registered" if transition == "reject" else "dispatched"
    case = prepared_case(state, transition)
    before = snapshot(case)

    with pytest.raises(InvalidInput):
        run(transition, case, actor_for(transition, case), **kwargs)

    assert snapshot(case) == before


def test_answer_without_text_is_invalid():
    case = prepared_case("accepted", "answer")
    before = snapshot(case)

    with pytest.raises(InvalidInput):
        svc.case_answer(case=case, user=officer(), answer=" ", now=NOW)

    assert snapshot(case) == before


def _replied_case():
    return case_in_state(
        "replied",
        accepted_at=ACCEPTED_AT,
        dispatched_at=DISPATCHED_AT,
        due_at=DUE_AT,
        replied_at=REPLIED_AT,
    )


def test_close_without_callback_is_refused():
    case = _replied_case()
    before = snapshot(case)

    with pytest.raises(TransitionRefused, match="satisfied callback"):
        svc.case_close(case=case, user=officer(), now=NOW)

    assert snapshot(case) == before


def test_close_after_dissatisfied_callback_is_refused():
    case = _replied_case()
    CallbackFactory(case=case, outcome="dissatisfied", called_at=CALLED_AT)
    before = snapshot(case)

    with pytest.raises(TransitionRefused):
        svc.case_close(case=case, user=officer(), now=NOW)

    assert snapshot(case) == before


def test_close_counts_only_callbacks_made_after_the_reply():
    case = _replied_case()
    CallbackFactory(case=case, outcome="satisfied", called_at=aware(2026, 3, 19, 9))
    before = snapshot(case)

    with pytest.raises(TransitionRefused):
        svc.case_close(case=case, user=officer(), now=NOW)

    assert snapshot(case) == before


def test_close_judges_the_latest_callback():
    case = _replied_case()
    CallbackFactory(case=case, outcome="satisfied", called_at=CALLED_AT)
    CallbackFactory(case=case, outcome="dissatisfied", called_at=aware(2026, 3, 24, 9))

    with pytest.raises(TransitionRefused):
        svc.case_close(case=case, user=officer(), now=NOW)


def test_close_is_allowed_after_n_unreachable_callbacks(settings):
    settings.TRACKING_UNREACHABLE_CALLBACKS_TO_CLOSE = 2
    case = _replied_case()
    CallbackFactory(case=case, outcome="unreachable", called_at=CALLED_AT)
    before = snapshot(case)

    with pytest.raises(TransitionRefused, match="could not be reached 2 times"):
        svc.case_close(case=case, user=officer(), now=NOW)
    assert snapshot(case) == before

    CallbackFactory(case=case, outcome="unreachable", called_at=aware(2026, 3, 24, 9))
    closed = svc.case_close(case=case, user=officer(), now=NOW)

    assert closed.state == "closed"
    assert closed.closed_at == NOW


@pytest.mark.parametrize("outcome", [None, "satisfied", "unreachable"])
def test_reopen_without_dissatisfied_callback_is_refused(outcome):
    case = _replied_case()
    if outcome:
        CallbackFactory(case=case, outcome=outcome, called_at=CALLED_AT)
    before = snapshot(case)

    with pytest.raises(TransitionRefused, match="dissatisfied callback"):
        svc.case_reopen(case=case, user=officer(), now=NOW)

    assert snapshot(case) == before


def _due_friday_20_march(**fields):
    return case_in_state(
        "in_progress",
        is_efficiency=True,
        dispatched_at=aware(2026, 3, 13, 10),
        due_at=aware(2026, 3, 20, 18),
        **fields,
    )


def test_escalate_is_refused_until_overdue_by_the_threshold():
    case = _due_friday_20_march()  # category threshold: 3 working days
    before = snapshot(case)

    # Wednesday morning: only Monday and Tuesday have ended.
    with pytest.raises(TransitionRefused, match="not yet 3 working days overdue"):
        svc.case_escalate(case=case, user=None, now=aware(2026, 3, 25, 10))
    assert snapshot(case) == before

    # Wednesday at closing time the third working day is over.
    escalated = svc.case_escalate(case=case, user=None, now=aware(2026, 3, 25, 18))
    assert escalated.state == "supervised"
    assert escalated.escalated_at == aware(2026, 3, 25, 18)
    event = CaseEvent.objects.get(case=case, action="escalate")
    assert event.actor is None


def test_escalate_uses_the_threshold_of_the_category():
    case = _due_friday_20_march()
    case.category.escalation_threshold_days = 5
    case.category.save()
    before = snapshot(case)

    # The scan keeps the category's threshold (a supervisor may decide earlier:
    # tests/tracking/test_manual_escalation.py).
    with pytest.raises(TransitionRefused, match="not yet 5 working days overdue"):
        svc.case_escalate(case=case, user=None, now=aware(2026, 3, 25, 18))
    assert snapshot(case) == before

    escalated = svc.case_escalate(
        case=case, user=supervisor(), reason="逾期", now=aware(2026, 3, 27, 18)
    )
    assert escalated.state == "supervised"


def test_escalate_without_category_uses_the_default_threshold(settings):
    settings.TRACKING_DEFAULT_ESCALATION_DAYS = 1
    case = _due_friday_20_march(category=None, department=DepartmentFactory())

    escalated = svc.case_escalate(case=case, user=None, now=aware(2026, 3, 23, 18))

    assert escalated.state == "supervised"


def test_case_not_yet_due_cannot_be_escalated():
    case = _due_friday_20_march()

    with pytest.raises(TransitionRefused):
        svc.case_escalate(case=case, user=None, now=aware(2026, 3, 20, 17))


# --- the event log and conflicts ------------------------------------------------------


def test_case_event_cannot_be_changed():
    event = EventFactory(note="原始记录")
    event.note = "改过的记录"

    with pytest.raises(ValueError, match="append-only"):
        event.save()

    assert CaseEvent.objects.get(pk=event.pk).note == "原始记录"


def test_case_event_cannot_be_deleted():
    event = EventFactory()

    with pytest.raises(ValueError, match="append-only"):
        event.delete()

    assert CaseEvent.objects.filter(pk=event.pk).exists()


def test_stale_case_instance_gets_a_conflict_and_writes_nothing():
    case = case_in_state("registered")
    stale = Case.objects.get(pk=case.pk)
    svc.case_accept(case=case, user=officer(), now=NOW)
    before = snapshot(case)

    with pytest.raises(CaseConflict):
        svc.case_reject(case=stale, user=officer(), reason="重复来电", now=NOW)

    assert snapshot(case) == before
    assert before["state"] == "accepted"


def test_wrong_expect_state_gets_a_conflict_and_writes_nothing():
    case = case_in_state("registered")
    before = snapshot(case)

    with pytest.raises(CaseConflict):
        svc.case_accept(case=case.pk, user=officer(), expect_state="accepted", now=NOW)

    assert snapshot(case) == before


def test_case_given_by_primary_key_without_expect_state_is_transitioned():
    case = case_in_state("registered")

    accepted = svc.case_accept(case=case.pk, user=officer(), now=NOW)

    assert accepted.state == "accepted"


def test_unknown_case_is_invalid_input():
    with pytest.raises(InvalidInput):
        svc.case_accept(case=987654321, user=officer(), now=NOW)


def test_full_life_of_a_case_through_the_services():
    """Register → … → close, with a bounce and a reopen on the way."""
    dept = DepartmentFactory(name="交警支队")
    desk = officer()
    clerk = liaison(dept)

    case = svc.case_register(
        kind="complaint",
        title="路口拥堵",
        description="直行车道排长队。",
        user=desk,
        now=aware(2026, 3, 2, 9),
    )
    steps = [
        (svc.case_accept, desk, {}),
        (svc.case_dispatch, desk, {"department": dept}),
        (svc.case_return, clerk, {"reason": "不属于本单位"}),
        (svc.case_dispatch, desk, {"department": dept}),
        (svc.case_acknowledge, clerk, {}),
        (svc.case_reply, clerk, {"text": "已施划标线。"}),
    ]
    for day, (service, actor, kwargs) in enumerate(steps, start=3):
        case = service(case=case, user=actor, now=aware(2026, 3, day, 10), **kwargs)
    svc.callback_record(
        case=case, user=desk, outcome="dissatisfied", now=aware(2026, 3, 10, 10)
    )
    case = svc.case_reopen(case=case, user=desk, now=aware(2026, 3, 10, 11))
    case = svc.case_dispatch(
        case=case, user=desk, department=dept, now=aware(2026, 3, 11, 10)
    )
    case = svc.case_reply(
        case=case, user=desk, text="已重新施划。", now=aware(2026, 3, 12, 10)
    )
    svc.callback_record(
        case=case, user=desk, outcome="satisfied", now=aware(2026, 3, 13, 10)
    )
    case = svc.case_close(case=case, user=desk, now=aware(2026, 3, 13, 11))

    assert case.state == "closed"
    assert case.bounce_count == 1
    transitions = [
        (e.from_state, e.to_state)
        for e in case.events.exclude(to_state="").order_by("created_at", "pk")
    ]
    assert transitions == [
        ("registered", "accepted"),
        ("accepted", "dispatched"),
        ("dispatched", "returned"),
        ("returned", "dispatched"),
        ("dispatched", "in_progress"),
        ("in_progress", "replied"),
        ("replied", "reopened"),
        ("reopened", "dispatched"),
        ("dispatched", "replied"),
        ("replied", "closed"),
    ]
