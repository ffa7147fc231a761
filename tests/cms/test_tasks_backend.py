"""The django-tasks backend: a task enqueued in a transaction runs once after it
commits, never if it rolls back; outside a transaction it runs at once."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction
from django_tasks import task, task_backends

from cms import tasks_backend
from tracking.models import Department

pytestmark = pytest.mark.django_db(transaction=True)

RAN: list[tuple] = []


@task()
def note(*args):
    RAN.append(args)


@task()
def fail(name):
    raise RuntimeError(f"index of {name} is gone")


@pytest.fixture(autouse=True)
def ran():
    RAN.clear()
    yield RAN
    RAN.clear()


def test_the_project_uses_it():
    assert isinstance(task_backends["default"], tasks_backend.OnCommitBackend)


def test_outside_a_transaction_a_task_runs_at_once(ran):
    note.enqueue("page", 1)

    assert ran == [("page", 1)]


def test_in_a_transaction_a_task_runs_once_after_the_commit(ran):
    with transaction.atomic():
        for _ in range(3):  # a page saved three times
            note.enqueue("page", 1)
        note.enqueue("page", 2)
        assert ran == []

    assert sorted(ran) == [("page", 1), ("page", 2)]


def test_a_task_of_a_rolled_back_transaction_never_runs(ran):
    with pytest.raises(RuntimeError), transaction.atomic():
        note.enqueue("page", 1)
        raise RuntimeError

    assert ran == []
    note.enqueue("page", 1)  # and it is not taken for pending either
    assert ran == [("page", 1)]


def test_a_rolled_back_savepoint_does_not_lose_a_later_enqueue(ran):
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            note.enqueue("page", 1)
            raise RuntimeError
        note.enqueue("page", 1)

    assert ran == [("page", 1)]


def test_each_commit_runs_its_own(ran):
    for _ in range(2):
        with transaction.atomic():
            note.enqueue("page", 1)

    assert ran == [("page", 1), ("page", 1)]


def test_a_hold_runs_what_its_transactions_owe_once_at_its_end(ran):
    with tasks_backend.hold():
        for _ in range(2):
            with transaction.atomic():
                note.enqueue("page", 1)
        with tasks_backend.hold():  # nested: the outer one runs them
            note.enqueue("page", 2)
        assert ran == []

    assert sorted(ran) == [("page", 1), ("page", 2)]


def test_a_hold_ended_by_an_error_still_runs_what_was_committed(ran):
    with pytest.raises(RuntimeError), tasks_backend.hold():
        with transaction.atomic():
            note.enqueue("page", 1)
        with transaction.atomic():
            note.enqueue("page", 2)
            raise RuntimeError

    assert ran == [("page", 1)]


def test_a_task_failing_after_the_commit_is_logged_and_the_commit_stands(caplog):
    with caplog.at_level(logging.ERROR, logger="cms.tasks_backend"):
        with transaction.atomic():
            Department.objects.create(name="交警支队")
            fail.enqueue("交警支队")

    assert Department.objects.filter(name="交警支队").exists()
    (record,) = [r for r in caplog.records if r.name == "cms.tasks_backend"]
    assert "tests.cms.test_tasks_backend.fail" in record.getMessage()
    assert "index of 交警支队 is gone" in record.getMessage()


def test_runs_owed_by_rolled_back_transactions_do_not_pile_up(ran):
    backend = task_backends["default"]
    for n in range(50):
        with pytest.raises(RuntimeError), transaction.atomic():
            note.enqueue("page", n)
            raise RuntimeError
    with transaction.atomic():
        note.enqueue("page", "kept")

    assert ran == [("page", "kept")]
    assert backend._pending == {}
