"""Services that are not plain transitions, and the side effects services queue."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.db import transaction

from tests.factories import (
    CategoryFactory,
    DepartmentFactory,
    aware,
    case_in_state,
    liaison,
    officer,
    supervisor,
)
from tracking import services as svc
from tracking.exceptions import InvalidInput, TransitionRefused
from tracking.models import (
    Callback,
    Case,
    CaseEvent,
    Citizen,
    ReferenceSequence,
)
from tracking.roles import sync_role_groups
from tracking.signals import case_changed

pytestmark = pytest.mark.django_db

NOW = aware(2026, 3, 18, 10)
REFERENCE = re.compile(r"^8890-\d{8}-\d{5}$")


def register(**kwargs):
    defaults = {
        "kind": "help",
        "title": "小区门口路灯不亮",
        "description": "幸福路12号门口路灯坏了一周。",
        "now": NOW,
    }
    return svc.case_register(**{**defaults, **kwargs})


# --- case_register --------------------------------------------------------------------


def test_register_gives_a_reference_of_the_day_in_shanghai():
    # 16:30 UTC on 27 November is already 00:30 on 28 November in Shanghai.
    case = register(now=datetime(2026, 11, 27, 16, 30, tzinfo=UTC))

    assert REFERENCE.match(case.reference)
    assert case.reference == "8890-20261128-00001"


def test_register_numbers_cases_sequentially_per_day():
    first = register(now=aware(2026, 3, 18, 0, 0))
    second = register(now=aware(2026, 3, 18, 12, 0))
    third = register(now=aware(2026, 3, 18, 23, 59))
    next_day = register(now=aware(2026, 3, 19, 0, 1))

    assert [first.reference, second.reference, third.reference] == [
        "8890-20260318-00001",
        "8890-20260318-00002",
        "8890-20260318-00003",
    ]
    assert next_day.reference == "8890-20260319-00001"


def test_register_starts_registered_and_logs_a_public_event():
    desk = officer()

    case = register(user=desk)

    assert case.state == "registered"
    assert case.registered_at == NOW
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.actor, event.public) == ("register", desk, True)


def test_register_stores_the_citizen_apart_from_the_case():
    case = register(
        citizen=svc.CitizenData(
            name=" 李四 ", phone=" 13900001111 ", address="幸福路12号", email=""
        )
    )

    citizen = Citizen.objects.get()
    assert case.citizen == citizen
    assert (citizen.name, citizen.phone, citizen.address) == (
        "李四",
        "13900001111",
        "幸福路12号",
    )
    case_columns = {f.column for f in Case._meta.concrete_fields}
    assert not case_columns & {"name", "phone", "address", "email"}


@pytest.mark.parametrize("citizen", [None, svc.CitizenData()])
def test_register_without_contact_details_creates_no_citizen(citizen):
    case = register(citizen=citizen)

    assert case.citizen is None
    assert not Citizen.objects.exists()


def test_register_takes_the_default_department_of_the_category():
    dept = DepartmentFactory(name="路灯管理所")

    with_category = register(category=CategoryFactory(default_department=dept))
    without = register()

    assert with_category.department == dept
    assert without.department is None


@pytest.mark.parametrize(
    ("kind", "flag", "expected"),
    [
        ("complaint", True, True),
        ("complaint", False, False),
        ("help", True, False),
        ("consultation", True, False),
    ],
)
def test_only_complaints_can_be_efficiency_complaints(kind, flag, expected):
    assert register(kind=kind, is_efficiency=flag).is_efficiency is expected


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "praise"},
        {"kind": ""},
        {"channel": "fax"},
        {"title": "  "},
        {"description": ""},
        {"title": "长" * 201},
    ],
)
def test_register_refuses_bad_input_and_writes_nothing(bad):
    with pytest.raises(InvalidInput):
        register(citizen=svc.CitizenData(phone="13900001111"), **bad)

    assert not Case.objects.exists()
    assert not Citizen.objects.exists()
    assert not CaseEvent.objects.exists()
    # The number was not used up either.
    assert register().reference == "8890-20260318-00001"


def test_register_refuses_bad_input_without_using_a_sequence_row():
    with pytest.raises(InvalidInput):
        register(title="长" * 201)

    assert not ReferenceSequence.objects.exists()


# --- callback_record ------------------------------------------------------------------


@pytest.mark.parametrize("state", ["replied", "answered"])
def test_callback_is_recorded_on_an_answered_case(state):
    case = case_in_state(state, replied_at=NOW - timedelta(days=1))
    desk = officer()

    callback = svc.callback_record(
        case=case, user=desk, outcome="dissatisfied", method="home_visit",
        note=" 市民认为未解决 ", now=NOW,
    )

    assert Callback.objects.get() == callback
    assert (callback.outcome, callback.method, callback.note) == (
        "dissatisfied",
        "home_visit",
        "市民认为未解决",
    )
    assert callback.called_at == NOW
    assert callback.recorded_by == desk
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.from_state, event.to_state) == ("callback", "", "")
    assert event.public is False
    assert Case.objects.get(pk=case.pk).state == state


@pytest.mark.parametrize(
    "state",
    [
        "registered",
        "accepted",
        "rejected",
        "dispatched",
        "in_progress",
        "returned",
        "supervised",
        "reopened",
        "closed",
        "withdrawn",
    ],
)
def test_callback_is_refused_before_an_answer_or_after_the_end(state):
    case = case_in_state(state)

    with pytest.raises(TransitionRefused):
        svc.callback_record(case=case, user=officer(), outcome="satisfied", now=NOW)

    assert not Callback.objects.exists()
    assert not CaseEvent.objects.exists()


@pytest.mark.parametrize(
    "bad", [{"outcome": "happy"}, {"outcome": ""}, {"method": "pigeon"}]
)
def test_callback_with_unknown_outcome_or_method_is_invalid(bad):
    case = case_in_state("replied", replied_at=NOW - timedelta(days=1))
    kwargs = {"outcome": "satisfied", **bad}

    with pytest.raises(InvalidInput):
        svc.callback_record(case=case, user=officer(), now=NOW, **kwargs)

    assert not Callback.objects.exists()


# --- side effects after commit --------------------------------------------------------


@pytest.fixture
def department():
    return DepartmentFactory(name="路灯管理所", email="ldglc@example.gov.cn")


def test_dispatch_mails_the_departments_liaisons_after_commit(
    department, mailoutbox, django_capture_on_commit_callbacks
):
    ours = [liaison(department), liaison(department)]
    away = liaison(department)
    away.is_active = False
    away.save()
    liaison(DepartmentFactory(name="园林绿化局"))
    case = case_in_state("accepted", department=department)

    with django_capture_on_commit_callbacks(execute=True):
        svc.case_dispatch(case=case, user=officer(), department=department, now=NOW)
        assert mailoutbox == []  # nothing leaves before the commit

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert sorted(mail.to) == sorted([u.email for u in ours] + [department.email])
    assert case.reference in mail.subject
    assert f"/admin/tracking/cases/{case.pk}/" in mail.body


def test_transitions_a_department_need_not_hear_about_send_no_mail(
    department, mailoutbox, django_capture_on_commit_callbacks
):
    liaison(department)
    case = case_in_state("registered", department=department)

    with django_capture_on_commit_callbacks(execute=True):
        svc.case_accept(case=case, user=officer(), now=NOW)

    assert mailoutbox == []


def test_extending_a_deadline_mails_the_department(
    department, mailoutbox, django_capture_on_commit_callbacks
):
    clerk = liaison(department)
    case = case_in_state(
        "in_progress", department=department, due_at=aware(2026, 3, 20, 18)
    )

    with django_capture_on_commit_callbacks(execute=True):
        svc.case_extend_deadline(
            case=case, user=supervisor(), working_days=2, reason="需协调", now=NOW
        )

    assert len(mailoutbox) == 1
    assert clerk.email in mailoutbox[0].to


def test_no_mail_when_the_dispatch_is_rolled_back(
    department, mailoutbox, django_capture_on_commit_callbacks
):
    liaison(department)
    case = case_in_state("accepted", department=department)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            svc.case_dispatch(
                case=case, user=officer(), department=department, now=NOW
            )
            raise RuntimeError("the caller's transaction fails afterwards")

    assert callbacks == []
    assert mailoutbox == []
    assert Case.objects.get(pk=case.pk).state == "accepted"


@pytest.fixture
def case_changes():
    received = []

    def receiver(sender, **kwargs):
        kwargs.pop("signal")
        received.append(kwargs)

    case_changed.connect(receiver, weak=False)
    yield received
    case_changed.disconnect(receiver)


def test_case_changed_is_sent_after_commit(
    case_changes, django_capture_on_commit_callbacks
):
    case = case_in_state("registered")

    with django_capture_on_commit_callbacks(execute=True):
        svc.case_accept(case=case, user=officer(), now=NOW)
        assert case_changes == []

    event = CaseEvent.objects.get(case=case)
    assert case_changes == [
        {"case_id": case.pk, "action": "accept", "event_id": event.pk}
    ]


def test_case_changed_is_sent_for_actions_that_are_not_transitions(
    case_changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = register(user=officer())
    replied = case_in_state("replied", replied_at=NOW - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        svc.callback_record(case=replied, user=officer(), outcome="satisfied", now=NOW)

    assert [(c["case_id"], c["action"]) for c in case_changes] == [
        (case.pk, "register"),
        (replied.pk, "callback"),
    ]


def test_case_changed_is_not_sent_when_the_transaction_rolls_back(
    case_changes, django_capture_on_commit_callbacks
):
    case = case_in_state("registered")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            svc.case_accept(case=case, user=officer(), now=NOW)
            raise RuntimeError("the caller's transaction fails afterwards")

    assert callbacks == []
    assert case_changes == []
    assert not CaseEvent.objects.filter(case=case).exists()


def test_case_changed_is_not_sent_when_a_transition_is_refused(
    case_changes, django_capture_on_commit_callbacks
):
    case = case_in_state("closed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(TransitionRefused):
            svc.case_accept(case=case, user=officer(), now=NOW)

    assert callbacks == []
    assert case_changes == []


@pytest.mark.django_db(transaction=True)
def test_side_effects_run_on_a_real_commit_and_not_on_a_real_rollback(
    case_changes, department, mailoutbox
):
    # Earlier transactional tests flush the tables, groups of the migration too.
    sync_role_groups(apps)
    liaison(department)
    kept = case_in_state("accepted", department=department)
    undone = case_in_state("accepted", department=department)

    svc.case_dispatch(case=kept, user=officer(), department=department, now=NOW)
    with pytest.raises(RuntimeError), transaction.atomic():
        svc.case_dispatch(case=undone, user=officer(), department=department, now=NOW)
        raise RuntimeError("rolled back")

    assert [c["case_id"] for c in case_changes] == [kept.pk]
    assert len(mailoutbox) == 1
    assert kept.reference in mailoutbox[0].subject
    assert Case.objects.get(pk=undone.pk).state == "accepted"
