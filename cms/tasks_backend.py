"""The django-tasks backend: Wagtail's background work runs after the commit.

Wagtail and its search package enqueue a task on every save of a page (the
search index entry and the reference index). With django-tasks' immediate
backend those run inline, inside the transaction that saved the page, and a
story saves its page three times: each save rewrote both indexes while the
transaction held its locks. Here a task enqueued inside a transaction runs once
that transaction commits, and at most once per commit for the same task and
arguments (the indexes read the object from the database, so its last state is
the one indexed). Outside a transaction a task runs at once, as before; a task
whose transaction rolls back never runs.

Work made of several transactions (a new story: its page, then its revision and
workflow) can ask, with :func:`hold`, for the tasks its commits owe to run once
when it ends, instead of once per commit.

A task that fails after the commit is logged and the commit stands: the search
index and the reference index can be rebuilt (``manage.py update_index``,
``manage.py rebuild_references_index``).

No published backend does this: django-tasks' own backends run inline, or need
a worker of their own (its database backend) beside the Celery worker.
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial

from django.db import connection, transaction
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import TaskResult, TaskResultStatus

logger = logging.getLogger(__name__)

# While a hold is open: the runs its commits owed, by backend and key.
_held: ContextVar[dict | None] = ContextVar("held_tasks", default=None)


@contextmanager
def hold():
    """Run the tasks that the commits inside the block owe once, as it ends
    (also when it raises: what was committed is indexed)."""
    if _held.get() is not None:
        yield  # the outermost hold runs them
        return
    held: dict = {}
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
        for (backend, key), pending in held.items():
            backend._run(key, pending)


class _Pending:
    """One run owed for a task and its arguments: the first commit callback that
    reaches it runs the task, the others find it done."""

    __slots__ = ("done", "result")

    def __init__(self, result: TaskResult):
        self.result = result
        self.done = False


class OnCommitBackend(ImmediateBackend):
    def __init__(self, alias: str, params: dict):
        super().__init__(alias, params)
        self._local = threading.local()  # runs owed by this thread's transactions

    @property
    def _pending(self) -> dict[str, _Pending]:
        if not hasattr(self._local, "pending"):
            self._local.pending = {}
        return self._local.pending

    def _execute_task(self, task_result: TaskResult) -> None:
        """Owe the run instead of running (``enqueue`` calls this with the result
        it made)."""
        key = json.dumps(
            [task_result.task.module_path, list(task_result.args), task_result.kwargs],
            sort_keys=True,
            default=str,
        )
        pending = self._pending.get(key)
        if pending is None or pending.done:
            pending = self._pending[key] = _Pending(task_result)
        # One callback per enqueue, all sharing the pending run: if the savepoint
        # that registered the first one rolls back, a later one still runs it.
        transaction.on_commit(partial(self._run, key, pending), robust=True)

    def _run(self, key: str, pending: _Pending) -> None:
        if not connection.in_atomic_block:
            # After a commit no transaction of this thread is open: what is left
            # belongs to this commit (its callbacks hold their own runs) or to
            # transactions that rolled back. Forget it all; nothing piles up.
            self._pending.clear()
        if pending.done:
            return
        held = _held.get()
        if held is not None:
            held[(self, key)] = pending  # a later commit's run replaces it
            return
        pending.done = True
        if self._pending.get(key) is pending:
            del self._pending[key]
        super()._execute_task(pending.result)
        if pending.result.status == TaskResultStatus.FAILED:
            error = pending.result.errors[-1]
            logger.error(
                "task %s%r failed after the commit: %s\n%s",
                pending.result.task.module_path,
                tuple(pending.result.args),
                error.exception_class_path,
                error.traceback,
            )
