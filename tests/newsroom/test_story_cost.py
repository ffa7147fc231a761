"""What a new story costs, and what it holds locked while it is made.

A story is made in two short transactions (its page under the year index, then
its draft revision and review workflow); Wagtail's search- and reference-index
updates run once, after both commit (``cms.tasks_backend``). Measured as in
production: no test transaction around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import connection, transaction
from django_tasks.signals import task_finished, task_started
from wagtail.search.models import IndexEntry

from newsroom.models import HotTrackingPage
from newsroom.receivers import without_story
from newsroom.services import story_create_for_case
from tests.factories import CaseFactory, aware, remake_review_workflows, staff
from tracking import roles
from tracking.models import Case, CaseEvent
from tracking.services import start_story

NOW = aware(2026, 3, 18, 10)
# Queries in a story's transactions; Wagtail's page save, revision, workflow start
# and audit log make most of them. It was about 100, all under the year index's
# lock, with the index updates inline.
IN_TRANSACTIONS = 50
# Queries while the year index is locked: adding the page, nothing else.
UNDER_LOCK = 12
INDEX_TABLES = ("wagtailsearch_", "wagtailcore_referenceindex")
WRITES = ("INSERT", "UPDATE", "DELETE")
INDEX_TASKS = (
    "modelsearch.tasks.insert_or_update_object_task",
    "wagtail.tasks.update_reference_index_task",
)


@dataclass
class Query:
    sql: str
    in_transaction: bool
    under_lock: bool
    in_task: str | None


@dataclass
class Trace:
    """Each query with where it ran: in a transaction or not, under the year
    index's lock (from reading it in a transaction until that commits), in a
    django-tasks task or not; and the tasks that ran."""

    queries: list[Query] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    locked: bool = False
    task: str | None = None

    def __call__(self, execute, sql, params, many, context):
        in_transaction = connection.in_atomic_block
        if (
            in_transaction
            and not self.locked
            and self.task is None
            and 'FROM "newsroom_yearindexpage"' in sql
        ):
            self.locked = True
            transaction.on_commit(self.released)
        if not sql.startswith(("SAVEPOINT", "RELEASE")):
            self.queries.append(Query(sql, in_transaction, self.locked, self.task))
        return execute(sql, params, many, context)

    def released(self):
        self.locked = False

    def started(self, sender, task_result, **kwargs):
        self.task = task_result.task.module_path
        self.tasks.append(self.task)

    def finished(self, sender, task_result, **kwargs):
        self.task = None

    def story(self) -> list[str]:
        """The story's own queries in its transactions."""
        return [q.sql for q in self.queries if q.in_transaction and q.in_task is None]


def index_writes(queries: list[str]) -> list[str]:
    return [
        q for q in queries if q.startswith(WRITES) and any(t in q for t in INDEX_TABLES)
    ]


@pytest.fixture
def newsroom(hot_tracking_site):
    remake_review_workflows()
    staff(roles.EDITORS, email="editor@example.com")
    staff(roles.CHIEF_EDITORS, email="chief@example.com")
    # The year's first story makes its index page: not what is measured here.
    story_create_for_case(case=CaseFactory(overdue=True), now=NOW)


def traced(case) -> Trace:
    trace = Trace()
    task_started.connect(trace.started)
    task_finished.connect(trace.finished)
    try:
        with connection.execute_wrapper(trace):
            story, made = start_story(case.pk, now=NOW)
    finally:
        task_started.disconnect(trace.started)
        task_finished.disconnect(trace.finished)
    assert made and story.case_id == case.pk
    return trace


@pytest.mark.django_db(transaction=True)
def test_a_story_costs_at_most_50_queries_in_its_transactions(newsroom):
    trace = traced(CaseFactory(overdue=True))

    assert len(trace.story()) <= IN_TRANSACTIONS, "\n".join(trace.story())


@pytest.mark.django_db(transaction=True)
def test_the_indexes_are_updated_once_after_the_story_commits(newsroom):
    case = CaseFactory(overdue=True)

    trace = traced(case)

    assert not index_writes(trace.story())
    assert index_writes([q.sql for q in trace.queries if q.in_task])
    # The page was saved twice (added, then its revision): each index once.
    assert sorted(trace.tasks) == sorted(INDEX_TASKS)
    story = HotTrackingPage.objects.get(case=case)
    assert IndexEntry.objects.filter(
        content_type__model="hottrackingpage", object_id=str(story.pk)
    ).exists()
    assert story.pk in [p.pk for p in HotTrackingPage.objects.search(story.title)]


@pytest.mark.django_db(transaction=True)
def test_the_year_index_is_locked_only_while_the_page_is_added(newsroom):
    trace = traced(CaseFactory(overdue=True))

    under_lock = [q.sql for q in trace.queries if q.under_lock]
    assert under_lock, "the page is added under the year index's lock"
    assert len(under_lock) <= UNDER_LOCK, "\n".join(under_lock)
    inserted = {q.split('"')[1] for q in under_lock if q.startswith("INSERT INTO")}
    # The page, and the log entry of its creation.
    assert inserted == {
        "wagtailcore_page",
        "newsroom_hottrackingpage",
        "wagtailcore_pagelogentry",
    }
    for table in INDEX_TABLES:
        assert not [q for q in under_lock if table in q], table
    # The revision, the workflow and the case's event came after the lock.
    later = [q.sql for q in trace.queries if not q.under_lock]
    assert any('INSERT INTO "wagtailcore_revision"' in q for q in later)
    assert any('INSERT INTO "wagtailcore_workflowstate"' in q for q in later)
    assert any('INSERT INTO "tracking_caseevent"' in q for q in later)


class Crash(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_story_left_without_its_revision_is_completed_by_the_next_pass(newsroom):
    case = CaseFactory(overdue=True)

    def crash(story):
        raise Crash  # after the page committed, inside the second transaction

    with pytest.raises(Crash):
        story_create_for_case(case=case.pk, now=NOW, on_created=crash)

    story = HotTrackingPage.objects.get(case=case)
    assert story.latest_revision_id is None
    assert story.current_workflow_state is None
    assert not CaseEvent.objects.filter(case=case, action="story").exists()
    assert without_story(Case.objects.filter(pk=case.pk), 10) == [case.pk]

    again, made = start_story(case.pk, now=NOW)

    assert made and again.pk == story.pk
    story.refresh_from_db()
    assert story.latest_revision_id is not None
    assert story.current_workflow_state.current_task_state.task.name
    assert CaseEvent.objects.filter(case=case, action="story").count() == 1
    assert without_story(Case.objects.filter(pk=case.pk), 10) == []
    assert start_story(case.pk, now=NOW) == (again, False)
