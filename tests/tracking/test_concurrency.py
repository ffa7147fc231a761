"""Two people acting on the same case at the same instant, on real connections.

PostgreSQL only: SQLite ignores ``select_for_update`` and serialises writers anyway.
Each trial starts both threads together at a barrier; exactly one may win.
"""

from __future__ import annotations

from functools import partial

import pytest
from django.apps import apps

from tests.concurrency import race
from tests.factories import DepartmentFactory, aware, case_in_state, officer
from tracking import services as svc
from tracking.exceptions import CaseConflict
from tracking.models import Case, CaseEvent
from tracking.roles import sync_role_groups

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

NOW = aware(2026, 3, 18, 10)
TRIALS = 30


@pytest.fixture(autouse=True)
def role_groups():
    """Earlier transactional tests flush the tables, groups of the migration too."""
    sync_role_groups(apps)


def split(outcomes):
    wins = [o for o in outcomes if isinstance(o, Case)]
    losses = [o for o in outcomes if not isinstance(o, Case)]
    return wins, losses


def test_accept_and_reject_at_once_one_wins_the_other_gets_a_conflict():
    first, second = officer(), officer()
    for _trial in range(TRIALS):
        case = case_in_state("registered")
        # Each officer loaded the case before either acted, as in two browsers.
        seen_by_first = Case.objects.get(pk=case.pk)
        seen_by_second = Case.objects.get(pk=case.pk)

        outcomes = race(
            partial(svc.case_accept, case=seen_by_first, user=first, now=NOW),
            partial(
                svc.case_reject,
                case=seen_by_second,
                user=second,
                reason="重复来电",
                now=NOW,
            ),
        )

        wins, losses = split(outcomes)
        assert len(wins) == 1, outcomes
        assert [type(loss) for loss in losses] == [CaseConflict], outcomes
        assert Case.objects.get(pk=case.pk).state == wins[0].state
        events = CaseEvent.objects.filter(case=case)
        assert events.count() == 1
        assert events.get().to_state == wins[0].state


def test_two_dispatches_at_once_one_wins_the_other_gets_a_conflict():
    first, second = officer(), officer()
    east = DepartmentFactory(name="东区城管")
    west = DepartmentFactory(name="西区城管")
    for _trial in range(TRIALS):
        case = case_in_state("accepted", department=None)
        seen_by_first = Case.objects.get(pk=case.pk)
        seen_by_second = Case.objects.get(pk=case.pk)

        outcomes = race(
            partial(
                svc.case_dispatch,
                case=seen_by_first, user=first, department=east, now=NOW,
            ),
            partial(
                svc.case_dispatch,
                case=seen_by_second, user=second, department=west, now=NOW,
            ),
        )

        wins, losses = split(outcomes)
        assert len(wins) == 1, outcomes
        assert [type(loss) for loss in losses] == [CaseConflict], outcomes
        fresh = Case.objects.get(pk=case.pk)
        assert fresh.state == "dispatched"
        assert fresh.department == wins[0].department
        assert CaseEvent.objects.filter(case=case).count() == 1


def test_same_transition_twice_at_once_happens_once():
    desk = officer()
    for _trial in range(TRIALS):
        case = case_in_state("registered")
        copies = [Case.objects.get(pk=case.pk) for _ in range(3)]

        outcomes = race(
            *(partial(svc.case_accept, case=c, user=desk, now=NOW) for c in copies)
        )

        wins, losses = split(outcomes)
        assert len(wins) == 1, outcomes
        assert {type(loss) for loss in losses} == {CaseConflict}, outcomes
        assert CaseEvent.objects.filter(case=case, action="accept").count() == 1


def test_concurrent_registrations_get_distinct_sequential_references():
    desk = officer()
    for day in range(2, 12):
        now = aware(2026, 3, day, 9)  # a fresh day: its counter row does not exist
        outcomes = race(
            *(
                partial(
                    svc.case_register,
                    kind="help",
                    title=f"同时来电{n}",
                    description="同一时刻登记。",
                    user=desk,
                    now=now,
                )
                for n in range(6)
            )
        )

        assert all(isinstance(o, Case) for o in outcomes), outcomes
        references = sorted(o.reference for o in outcomes)
        assert references == [f"8890-202603{day:02d}-{n:05d}" for n in range(1, 7)]
