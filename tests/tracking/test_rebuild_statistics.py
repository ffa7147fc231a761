"""``manage.py rebuild_statistics``: finds rollup rows that differ from the raw
rows, changes nothing with ``--check``, and otherwise puts them right."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import DepartmentFactory, aware
from tracking import services as svc
from tracking.models import CallDay, CaseDay
from tracking.statistics import rollups

pytestmark = pytest.mark.django_db

NOW = aware(2026, 3, 2, 10)


@pytest.fixture
def history(db):
    department = DepartmentFactory(name="道路部门")
    for hour in (9, 10, 11):
        svc.call_register(
            user=None,
            caller_phone="13900001111",
            outcome="answered",
            received_at=aware(2026, 3, 1, hour),
        )
    svc.call_register(
        user=None, caller_phone="13900001111", outcome="answered", received_at=NOW
    )
    case = svc.case_register(
        kind="help", title="路灯不亮", description="门口路灯坏了。", now=NOW
    ).pk
    svc.case_accept(case=case, user=None, now=NOW)
    svc.case_dispatch(case=case, user=None, department=department, now=NOW)
    assert rollups.differences(rollups.stored(), rollups.computed()) == []
    return department


def run(*args):
    """(exit status, output) of the command."""
    out = StringIO()
    try:
        call_command("rebuild_statistics", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def tamper(department):
    """Inflate one counter and lose one row; return their keys."""
    dispatched = CaseDay.objects.get(department_id=department.pk)
    CaseDay.objects.filter(pk=dispatched.pk).update(dispatched=5)
    CallDay.objects.filter(day=aware(2026, 3, 1).date()).delete()
    return (
        "CaseDay "
        + repr(tuple(getattr(dispatched, k) for k in rollups.CASE_DIMENSIONS)),
        "CallDay " + repr((aware(2026, 3, 1).date(),)),
    )


def test_check_lists_each_differing_row_exits_1_and_changes_nothing(history):
    tampered, lost = tamper(history)
    before = rollups.stored()

    status, out = run("--check")

    assert status == 1
    lines = out.splitlines()
    assert any(
        line.startswith(tampered) and "'dispatched': 5" in line for line in lines
    )
    assert any(line.startswith(lost) and "'calls': 3" in line for line in lines)
    assert "2 differed from the live rollups" in out
    assert rollups.stored() == before


def test_a_rebuild_reports_the_differences_and_puts_them_right(history):
    tampered, lost = tamper(history)

    status, out = run()

    assert status == 0
    assert tampered in out and lost in out
    assert "rebuilt" in out and "2 differed from the live rollups" in out
    assert rollups.stored() == rollups.computed()
    assert CallDay.objects.get(day=aware(2026, 3, 1).date()).calls == 3
    assert CaseDay.objects.get(department_id=history.pk).dispatched == 1

    status, out = run("--check")
    assert status == 0
    assert "0 differed from the live rollups" in out


def test_check_of_exact_rollups_exits_0(history):
    status, out = run("--check")

    assert status == 0
    assert "checked" in out and "0 differed" in out


def test_show_limits_the_rows_listed(history):
    tamper(history)

    status, out = run("--check", "--show", "1")

    assert status == 1
    assert "… and 1 more" in out
