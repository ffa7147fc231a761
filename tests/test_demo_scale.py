"""``load_demo --scale``: three years of history shaped like the article, at a
small scale on the test database: the figures the statistics page shows scale
with it, the history is loaded once and in bulk."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms.management.commands import _demo_history as history
from cms.management.commands.load_demo import Command
from tracking.calendar import local_zone
from tracking.models import (
    Call,
    Callback,
    Case,
    CaseEvent,
    Citizen,
    DepartmentResponse,
    State,
)
from tracking.partners.models import CommunityVisit
from tracking.statistics import rollups
from tracking.statistics.figures import Report
from tracking.statistics.periods import Period

SCALE = 0.005


def reference_data():
    _departments, categories, users = Command().reference_data()
    today = timezone.localdate()
    # This year's community visits (tracking/partners/demo.py makes the article's
    # seven); two are enough to be told about.
    for month, day, community in ((3, 5, "香格里拉小区"), (10, 29, "安居苑小区")):
        CommunityVisit.objects.create(
            date=today.replace(month=month, day=day), community=community
        )
    return list(categories.values()), users


def row_counts():
    return {
        model.__name__: model.objects.count()
        for model in (Call, Case, CaseEvent, Citizen)
    }


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The history at ``SCALE``, loaded once for the module and rolled back."""
    with django_db_blocker.unblock(), transaction.atomic():
        categories, users = reference_data()
        with CaptureQueriesContext(connection) as queries:
            done = history.load_history(scale=SCALE, categories=categories, users=users)
        # Django logs an executemany as one query, "N times: INSERT …".
        inserts = [q["sql"] for q in queries if "INSERT INTO" in q["sql"]]
        yield {"done": done, "inserts": inserts, "queries": len(queries)}
        transaction.set_rollback(True)


def test_the_figures_scale_with_the_history(loaded, db):
    targets = history.Targets.of(SCALE)
    report = Report()
    headline = report.headline()

    assert loaded["done"].calls == headline.calls == targets.calls
    assert headline.calls == round(780_000 * SCALE)
    assert headline.busiest_day_calls == round(1809 * SCALE)
    assert headline.accepted == targets.accepted == round(280_000 * SCALE)
    assert headline.completed == pytest.approx(270_000 * SCALE, rel=0.02)
    assert headline.satisfaction.value > 0.98
    # The third year alone about as many requests as the first two together.
    third = report.headline(
        Period(history.third_year_start(report.today), report.today, "")
    )
    assert third.accepted == round(139_000 * SCALE)
    assert third.completed == pytest.approx(131_000 * SCALE, rel=0.02)
    backlog = report.backlog()
    assert (backlog.year_ago, backlog.now) == (
        round(1000 * SCALE),
        round(200 * SCALE),
    )
    # The rollups were rebuilt from the rows written.
    assert rollups.differences(rollups.stored(), rollups.computed()) == []


def test_the_history_is_a_hotline_s(loaded, db):
    calls, cases = Call.objects.count(), Case.objects.count()
    # Cases came in by phone, each with its call and the caller's citizen row.
    assert Call.objects.filter(case__isnull=False).count() == cases
    assert not Case.objects.filter(citizen__isnull=True).exists()
    # The same people call again.
    assert Citizen.objects.count() < 0.7 * calls
    assert Call.objects.values("citizen").distinct().count() < calls
    # First-time callers were asked how they heard of 8890: some at a visit day,
    # which is the visit held shortly before.
    visit_calls = Call.objects.filter(heard_of="community_visit")
    assert visit_calls.exists()
    for call in visit_calls.select_related("heard_of_visit"):
        assert call.heard_of_visit.date <= timezone.localtime(call.received_at).date()
    assert Call.objects.filter(heard_of="newspaper").exists()
    for case in Case.objects.filter(heard_of="community_visit")[:20]:
        assert case.calls.get().heard_of_visit_id == case.heard_of_visit_id
    # Every end is there, and what is still open is not overdue when the history
    # ends (the live scan would escalate it at once).
    states = set(Case.objects.values_list("state", flat=True))
    assert {State.CLOSED, State.REJECTED, State.WITHDRAWN} <= states
    assert states & {State.IN_PROGRESS, State.DISPATCHED, State.REPLIED}
    midnight = datetime.combine(timezone.localdate(), time(), local_zone())
    assert not Case.objects.overdue(midnight).exists()
    # Fake people, and obviously so.
    assert not Citizen.objects.exclude(name__startswith="演示市民").exists()


def test_a_rerun_adds_nothing_and_the_load_is_bulk(loaded, db):
    done = loaded["done"]
    rows = done.calls + done.cases + done.events + done.citizens
    assert rows > 10_000
    # Batches, not rows: a few statements for every kind of row.
    # Batches, not rows: one statement for each batch of each kind of row (the
    # rollups rebuilt at the end write theirs with bulk_create).
    tables = Counter(
        sql.split('INSERT INTO "')[1].split('"')[0] for sql in loaded["inserts"]
    )
    history_tables = {
        model._meta.db_table
        for model in (Call, Case, CaseEvent, Citizen, Callback, DepartmentResponse)
    }
    assert sum(tables[t] for t in history_tables) <= 12, tables
    assert len(loaded["inserts"]) < rows / 20, tables
    before = row_counts()

    again = history.load_history(scale=SCALE, categories=[], users={})
    assert again.skipped == f"{SCALE:g}"
    assert row_counts() == before


def test_the_plan_is_the_same_on_a_rerun(loaded, db):
    _departments, categories, users = Command().reference_data()
    categories = list(categories.values())
    now = timezone.now()

    def plan():
        made = history.History(scale=SCALE, categories=categories, users=users, now=now)
        made.plan()
        return made.calls, [
            (p.kind, p.fate, p.efficiency, p.category.pk, p.end) for p in made.plans
        ]

    assert plan() == plan()


def test_no_case_is_left_overdue_where_the_history_ends(loaded, db):
    _departments, categories, users = Command().reference_data()
    # Planned only (not written), at a scale where some replies come late.
    made = history.History(
        scale=0.05, categories=list(categories.values()), users=users,
        now=timezone.now(),
    )  # fmt: skip
    made.plan()
    late = waiting = 0
    for plan in made.plans:
        for n in (1, 2):
            if f"reply_{n}" not in plan.times:
                continue
            _dispatch, _ack_due, due = plan.times[f"dispatch_{n}"]
            reply = plan.times[f"reply_{n}"]
            late += reply > due
            if reply > made.cutoff:
                waiting += 1
                assert due > made.cutoff, plan.index
    assert late > 100 and waiting > 20


@pytest.mark.parametrize("scale", ["-1", "nan", "6"])
def test_a_scale_out_of_range_is_refused_before_anything_is_written(loaded, db, scale):
    before = row_counts()
    with pytest.raises(CommandError, match="--scale"):
        call_command("load_demo", "--scale", scale, verbosity=0)
    assert row_counts() == before


def test_allocate_keeps_the_total_and_the_caps():
    counts = history.allocate(10, [1.0, 5.0, 1.0, 1.0], [3, 3, 3, 3])
    assert sum(counts) == 10 and max(counts) == 3
    assert history.allocate(0, [1.0], [0]) == [0]
    with pytest.raises(ValueError):
        history.allocate(10, [1.0, 1.0], [4, 4])
