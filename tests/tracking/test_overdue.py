"""Overdue is computed from ``due_at``, never stored: the queries that find it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from tests.factories import aware, case_in_state
from tracking.models import Case

pytestmark = pytest.mark.django_db

# Wednesday noon; no holiday in March 2026.
NOW = aware(2026, 3, 18, 12)
AWAITING = ("dispatched", "in_progress", "returned", "supervised", "reopened")
NOT_AWAITING = ("registered", "accepted", "answered", "replied", "closed", "rejected",
                "withdrawn")


def pks(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_overdue_is_exactly_the_cases_awaiting_a_department_past_due():
    overdue = {
        case_in_state(state, due_at=NOW - timedelta(hours=1)).pk for state in AWAITING
    }
    overdue.add(case_in_state("dispatched", due_at=NOW - timedelta(days=300)).pk)
    for state in NOT_AWAITING:
        case_in_state(state, due_at=NOW - timedelta(days=2))
    case_in_state("registered")  # never dispatched: no deadline at all
    case_in_state("dispatched", due_at=None)
    case_in_state("dispatched", due_at=NOW)  # due this very instant: not yet late
    case_in_state("in_progress", due_at=NOW + timedelta(minutes=1))
    case_in_state("supervised", due_at=NOW + timedelta(days=3))

    assert pks(Case.objects.overdue(NOW)) == overdue


def test_overdue_defaults_to_the_current_time():
    late = case_in_state("dispatched", due_at=NOW - timedelta(minutes=1))
    case_in_state("dispatched", due_at=NOW + timedelta(minutes=1))

    with time_machine.travel(NOW, tick=False):
        assert pks(Case.objects.overdue()) == {late.pk}


def test_is_overdue_matches_the_query():
    cases = [
        case_in_state("dispatched", due_at=NOW - timedelta(minutes=1)),
        case_in_state("dispatched", due_at=NOW),
        case_in_state("replied", due_at=NOW - timedelta(days=1)),
        case_in_state("registered"),
    ]

    assert [c.is_overdue(NOW) for c in cases] == [True, False, False, False]
    assert pks(Case.objects.overdue(NOW)) == {cases[0].pk}


@pytest.fixture
def due_days_ago(calendar_2026):
    """Cases due at closing time 0, 1, 2 and 3 working days before NOW ended.

    At Wednesday noon the last completed working day is Tuesday 17 March.
    """
    return {
        0: case_in_state("dispatched", due_at=aware(2026, 3, 17, 18)),
        1: case_in_state("in_progress", due_at=aware(2026, 3, 16, 18)),
        2: case_in_state("returned", due_at=aware(2026, 3, 13, 18)),  # Friday
        3: case_in_state("reopened", due_at=aware(2026, 3, 12, 18)),
    }


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_overdue_by_working_days_keeps_cases_at_least_n_working_days_late(
    due_days_ago, n
):
    case_in_state("replied", due_at=aware(2026, 2, 2, 18))
    case_in_state("closed", due_at=aware(2026, 2, 2, 18))

    found = pks(Case.objects.overdue(NOW, by_working_days=n))

    assert found == {case.pk for days, case in due_days_ago.items() if days >= n}


def test_working_days_overdue_of_each_case(due_days_ago):
    for days, case in due_days_ago.items():
        assert case.working_days_overdue(NOW) == days


def test_working_days_overdue_is_zero_when_not_overdue(calendar_2026):
    future = case_in_state("dispatched", due_at=NOW + timedelta(days=2))
    answered = case_in_state("replied", due_at=aware(2026, 2, 2, 18))

    assert future.working_days_overdue(NOW) == 0
    assert answered.working_days_overdue(NOW) == 0


def test_working_days_overdue_waits_for_the_office_to_close(calendar_2026):
    case = case_in_state("dispatched", due_at=aware(2026, 3, 16, 18))

    assert case.working_days_overdue(aware(2026, 3, 17, 17, 59)) == 0
    assert case.working_days_overdue(aware(2026, 3, 17, 18)) == 1
    # The weekend adds nothing.
    assert case.working_days_overdue(aware(2026, 3, 22, 23)) == 4


def test_due_within_is_the_open_cases_due_soon_but_not_yet_late():
    soon = {
        case_in_state("dispatched", due_at=NOW).pk,
        case_in_state("in_progress", due_at=NOW + timedelta(hours=1)).pk,
        case_in_state("reopened", due_at=NOW + timedelta(hours=23, minutes=59)).pk,
    }
    case_in_state("dispatched", due_at=NOW - timedelta(minutes=1))
    case_in_state("dispatched", due_at=NOW + timedelta(days=1))
    case_in_state("dispatched", due_at=NOW + timedelta(days=3))
    case_in_state("replied", due_at=NOW + timedelta(hours=1))
    case_in_state("closed", due_at=NOW + timedelta(hours=1))

    assert pks(Case.objects.due_within(timedelta(days=1), NOW)) == soon


# --- the partial index ------------------------------------------------------------


@pytest.mark.postgres
def test_overdue_query_can_use_the_partial_index_of_awaiting_cases():
    history = [
        Case(
            reference=f"8890-20250101-{n:05d}",
            kind="help",
            title="历史工单",
            description="已办结。",
            state="closed",
            due_at=aware(2025, 1, 1, 18) + timedelta(hours=n),
            registered_at=aware(2025, 1, 1, 9),
        )
        for n in range(5000)
    ]
    awaiting = [
        Case(
            reference=f"8890-20260301-{n:05d}",
            kind="complaint",
            title="待办工单",
            description="等待部门答复。",
            state=AWAITING[n % len(AWAITING)],
            due_at=NOW + timedelta(hours=n - 10),
            registered_at=aware(2026, 3, 1, 9),
        )
        for n in range(20)
    ]
    Case.objects.bulk_create(history + awaiting)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tracking_case")

    query = Case.objects.overdue(NOW)
    plan = query.explain()
    if "case_awaiting_due_idx" not in plan:
        # Tiny tables may still be cheaper to scan; prove the index is usable.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()

    assert "case_awaiting_due_idx" in plan
    assert query.count() == 10
