"""Who may do what to which case: the roles table of DESIGN.md, through the services.

The expected grants are written out by hand from DESIGN.md, not read from
``tracking.roles``, so that a wrong grant there makes these tests fail.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import translation

from tests.factories import (
    CallbackFactory,
    DepartmentFactory,
    UserFactory,
    aware,
    case_in_state,
    liaison,
    officer,
    staff,
    supervisor,
)
from tracking import actions, roles
from tracking import services as svc
from tracking.exceptions import CasePermissionDenied
from tracking.models import Callback, Case, CaseEvent, DepartmentResponse

pytestmark = pytest.mark.django_db

NOW = aware(2026, 3, 27, 10)

TRANSITIONS = (
    "accept",
    "reject",
    "answer",
    "dispatch",
    "acknowledge",
    "return_case",
    "escalate",
    "reply",
    "close",
    "reopen",
    "withdraw",
)
OFFICER_MAY = {
    "accept",
    "reject",
    "answer",
    "dispatch",
    "reply",
    "close",
    "reopen",
    "withdraw",
    "callback",
}
ROLE_MAY = {
    "officer": OFFICER_MAY,
    "supervisor": OFFICER_MAY | {"escalate", "extend"},
    "liaison": {"acknowledge", "return_case", "reply"},
    "editor": set(),
    "chief_editor": set(),
    "nobody": set(),
}
ACTIONS = (*TRANSITIONS, "callback", "extend")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def department():
    return DepartmentFactory(name="市政工程管理处")


def make_user(role: str, department):
    if role == "officer":
        return officer()
    if role == "supervisor":
        return supervisor()
    if role == "liaison":
        return liaison(department)
    if role == "editor":
        return staff(roles.EDITORS)
    if role == "chief_editor":
        return staff(roles.CHIEF_EDITORS)
    return UserFactory()


def case_ready_for(action: str, department) -> Case:
    """A case of ``department`` on which ``action`` is possible right now."""
    common = {
        "department": department,
        "is_efficiency": True,
        "registered_at": aware(2026, 3, 1, 9),
    }
    dispatched = {
        **common,
        "accepted_at": aware(2026, 3, 2, 9),
        "dispatched_at": aware(2026, 3, 2, 10),
        "due_at": aware(2026, 3, 9, 18),
    }
    replied = {**dispatched, "replied_at": aware(2026, 3, 20, 10)}
    if action in {"accept", "reject"}:
        return case_in_state("registered", **common)
    if action in {"answer", "dispatch", "withdraw"}:
        return case_in_state("accepted", **common, accepted_at=aware(2026, 3, 2, 9))
    if action in {"acknowledge", "return_case", "escalate", "extend"}:
        return case_in_state("dispatched", **dispatched)
    if action == "reply":
        return case_in_state("in_progress", **dispatched)
    case = case_in_state("replied", **replied)
    if action in {"close", "reopen"}:
        outcome = "satisfied" if action == "close" else "dissatisfied"
        CallbackFactory(case=case, outcome=outcome, called_at=aware(2026, 3, 23, 9))
    return case


def perform(action: str, case: Case, user):
    kwargs = {"case": case, "user": user, "now": NOW}
    if action == "callback":
        return svc.callback_record(outcome="satisfied", **kwargs)
    if action == "extend":
        return svc.case_extend_deadline(working_days=3, reason="需协调多部门", **kwargs)
    if action in {"reject", "return_case"}:
        kwargs["reason"] = "不属于本单位职责"
    elif action == "answer":
        kwargs["answer"] = "已告知办理流程。"
    elif action == "dispatch":
        kwargs["department"] = case.department
    elif action == "escalate":
        kwargs["reason"] = "逾期未办结"
    elif action == "reply":
        kwargs["text"] = "已完成整改。"
    return actions.get(action).run(**kwargs)


def written(case: Case) -> dict:
    fresh = Case.objects.get(pk=case.pk)
    return {
        "state": fresh.state,
        "due_at": fresh.due_at,
        "events": CaseEvent.objects.filter(case=case).count(),
        "responses": DepartmentResponse.objects.filter(case=case).count(),
        "callbacks": Callback.objects.filter(case=case).count(),
    }


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", list(ROLE_MAY))
def test_role_may_do_exactly_what_design_grants(role, action, department):
    case = case_ready_for(action, department)
    user = make_user(role, department)
    before = written(case)

    if action in ROLE_MAY[role]:
        perform(action, case, user)
        assert CaseEvent.objects.filter(case=case).count() == before["events"] + 1
    else:
        with pytest.raises(CasePermissionDenied):
            perform(action, case, user)
        assert written(case) == before


def test_only_officers_and_supervisors_register_cases():
    for user in (officer(), supervisor()):
        svc.case_register(
            kind="help",
            title="路灯不亮",
            description="小区门口路灯坏了。",
            user=user,
            now=NOW,
        )
    dept = DepartmentFactory()
    for user in (
        liaison(dept),
        staff(roles.EDITORS),
        staff(roles.CHIEF_EDITORS),
        UserFactory(),
    ):
        with pytest.raises(CasePermissionDenied):
            svc.case_register(
                kind="help",
                title="路灯不亮",
                description="路灯坏了。",
                user=user,
                now=NOW,
            )
    assert Case.objects.count() == 2


def test_superuser_may_do_everything(department):
    boss = UserFactory(is_superuser=True, is_staff=True)
    for action in ACTIONS:
        case = case_ready_for(action, department)
        perform(action, case, boss)


# --- department scoping ---------------------------------------------------------------


@pytest.mark.parametrize("action", ["acknowledge", "return_case", "reply"])
def test_liaison_cannot_act_on_another_departments_case(action, department):
    other = DepartmentFactory(name="园林绿化局")
    case = case_ready_for(action, other)
    before = written(case)

    with pytest.raises(CasePermissionDenied):
        perform(action, case, liaison(department))

    assert written(case) == before


@pytest.mark.parametrize(
    ("action", "target"),
    [("acknowledge", "in_progress"), ("return_case", "returned"), ("reply", "replied")],
)
def test_liaison_acts_on_own_departments_case(action, target, department):
    case = case_ready_for(action, department)

    perform(action, case, liaison(department))

    assert Case.objects.get(pk=case.pk).state == target


def test_liaison_without_department_may_act_on_no_case(department):
    clerk = staff(roles.DEPARTMENT_LIAISONS)
    case = case_ready_for("acknowledge", department)

    with pytest.raises(CasePermissionDenied):
        perform("acknowledge", case, clerk)
    assert not Case.objects.visible_to(clerk).exists()


def test_liaison_sees_only_own_departments_cases(department):
    other = DepartmentFactory(name="园林绿化局")
    ours = {case_in_state("dispatched", department=department).pk for _ in range(2)}
    theirs = case_in_state("dispatched", department=other)
    case_in_state("registered", department=None)

    visible = set(
        Case.objects.visible_to(liaison(department)).values_list("pk", flat=True)
    )

    assert visible == ours
    assert theirs.pk not in visible


def test_officers_and_supervisors_see_every_case(department):
    other = DepartmentFactory(name="园林绿化局")
    everything = {
        case_in_state("dispatched", department=department).pk,
        case_in_state("dispatched", department=other).pk,
        case_in_state("registered", department=None).pk,
    }

    for user in (officer(), supervisor()):
        visible = set(Case.objects.visible_to(user).values_list("pk", flat=True))
        assert visible == everything


@pytest.mark.parametrize("role", ["editor", "chief_editor", "nobody"])
def test_newsroom_staff_and_strangers_see_no_case(role, department):
    case_in_state("dispatched", department=department)

    assert not Case.objects.visible_to(make_user(role, department)).exists()


def test_department_profile_without_liaison_role_grants_nothing(department):
    """A staff profile without the liaison role shows no case."""
    user = UserFactory(department=department)
    case = case_in_state("dispatched", department=department)

    assert not Case.objects.visible_to(user).exists()
    with pytest.raises(CasePermissionDenied):
        perform("acknowledge", case, user)


# --- the groups themselves ------------------------------------------------------------

CASE_PERMISSIONS = {
    "view_all_cases",
    "accept_case",
    "reject_case",
    "answer_case",
    "dispatch_case",
    "acknowledge_case",
    "return_case",
    "escalate_case",
    "reply_case",
    "close_case",
    "reopen_case",
    "withdraw_case",
    "extend_deadline",
    "record_callback",
    "request_extension",
    "add_case",
    "view_case",
}
OFFICER_PERMS = {
    "view_case",
    "view_all_cases",
    "add_case",
    "accept_case",
    "reject_case",
    "answer_case",
    "dispatch_case",
    "reply_case",
    "close_case",
    "reopen_case",
    "withdraw_case",
    "record_callback",
}
EXPECTED_GROUP_PERMS = {
    str(roles.CASE_OFFICERS): OFFICER_PERMS,
    str(roles.SUPERVISORS): OFFICER_PERMS | {"escalate_case", "extend_deadline"},
    str(roles.DEPARTMENT_LIAISONS): {
        "view_case",
        "acknowledge_case",
        "return_case",
        "reply_case",
        "request_extension",
    },
    str(roles.EDITORS): set(),
    str(roles.CHIEF_EDITORS): set(),
}


def test_role_groups_exist_after_migrations_with_their_case_permissions():
    for name, expected in EXPECTED_GROUP_PERMS.items():
        group = Group.objects.get(name=name)
        granted = set(
            group.permissions.filter(
                content_type__app_label="tracking", codename__in=CASE_PERMISSIONS
            ).values_list("codename", flat=True)
        )
        assert granted == expected, name


def test_every_staff_role_may_enter_the_admin():
    access = Permission.objects.get(
        content_type__app_label="wagtailadmin", codename="access_admin"
    )
    for name in EXPECTED_GROUP_PERMS:
        assert Group.objects.get(name=name).permissions.filter(pk=access.pk).exists()


def test_role_names_in_code_match_the_groups():
    names = {
        roles.CASE_OFFICERS,
        roles.SUPERVISORS,
        roles.DEPARTMENT_LIAISONS,
        roles.EDITORS,
        roles.CHIEF_EDITORS,
    }
    assert names == set(EXPECTED_GROUP_PERMS)
