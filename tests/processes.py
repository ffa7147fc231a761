"""Real processes for reliability tests: a private Redis, Celery workers and beats.

Ordinary tests run Celery eagerly in the test process (see ``conftest.py``). The
tests that use this harness start the real thing instead, as child processes that
read the committed test database:

- ``redis_server``: a private ``redis-server`` on a free port, which a test may
  stop and start again on the same port (skipped when the binary is missing);
- ``celery_processes``: starts ``celery -A cms worker`` and ``celery -A cms beat``
  against that Redis and the test database, and stops them all when the test
  ends, killing what does not stop in time; ``CeleryProcesses.web`` adds the web
  application under gunicorn, for tests that drive it with a browser;
- ``fake_clock``: a wall clock that child processes follow and that the test
  moves while they run (see :class:`FakeClock`).

Use them from a test module with ``pytest_plugins = ["tests.processes"]`` (and do
not import this module there too: pytest would then warn that it cannot rewrite
its asserts), with transactional database access on PostgreSQL: other processes
cannot see SQLite's in-memory test database, nor data inside a test transaction.

Every child runs in its own session, so ``os.killpg`` reaches a whole worker
(prefork parent and pool children). Output goes to one log file per process; when
a test fails, the tail of each log is added to its report.
"""

from __future__ import annotations

import ast
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import pytest

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# The harnesses a test uses, so that a failing test's report shows their logs.
_HARNESSES = pytest.StashKey[list]()
# Children still running. Being in sessions of their own, they do not get the
# terminal's Ctrl-C: if pytest ends without running a finalizer, they go at exit.
_RUNNING: set[Process] = set()


@atexit.register
def _kill_leftovers() -> None:
    for process in list(_RUNNING):
        process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = 0.25,
    check: Callable[[], None] | None = None,
    progress: Callable[[], Any] | None = None,
    limit: float | None = None,
) -> T:
    """Poll ``condition`` until it returns something true, and return that.

    ``check`` runs before every poll and may raise to fail early (for instance when
    a process that should be running has died). Raises ``AssertionError`` naming
    ``what`` after ``timeout`` seconds; with ``progress`` (a function whose value
    changes as work gets done), only after ``timeout`` seconds without a change,
    or ``limit`` seconds in all (default: ten times ``timeout``).
    """
    start = last_change = time.monotonic()
    limit = limit or timeout * 10
    seen = progress() if progress else None
    while True:
        if check is not None:
            check()
        value = condition()
        if value:
            return value
        now = time.monotonic()
        if progress is not None:
            current = progress()
            if current != seen:
                seen, last_change = current, now
        stalled = now - last_change >= timeout
        if stalled or (progress is not None and now - start >= limit):
            because = f" (last progress: {seen!r})" if progress else ""
            raise AssertionError(
                f"timed out after {now - start:.0f} s waiting for {what}{because}"
            )
        time.sleep(interval)


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, read from /proc (Linux)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


class Process:
    """One child process in its own session, its output in a log file."""

    #: For a web server: the address it serves, e.g. ``http://127.0.0.1:8123``.
    url: str = ""

    def __init__(
        self, name: str, argv: list[str], *, env: dict, log_dir: Path, kind: str = ""
    ):
        self.name = name
        self.kind = kind
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None
        # Set when the test stops or kills it on purpose: not a crash.
        self.expected_exit = False

    def start(self) -> Process:
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _RUNNING.add(self)
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def members(self) -> list[int]:
        """Live processes of its group: the parent and, for a worker, its pool."""
        if self.popen is None or not Path("/proc").is_dir():
            return []
        return _group_members(self.pid)

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self) -> None:
        """SIGKILL the whole group at once, as the OOM killer or a power cut would."""
        if self.popen is None:
            return
        self.expected_exit = True
        self._signal_group(signal.SIGKILL)
        self.popen.wait(timeout=30)
        _RUNNING.discard(self)

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM to its group); see :meth:`wait`."""
        if self.running:
            self.expected_exit = True
            self._signal_group(signal.SIGTERM)

    def wait(self, timeout: float) -> int | None:
        """Wait for a stop; SIGKILL the group when it takes longer than ``timeout``.

        Returns the exit code (negative: killed by that signal).
        """
        if self.popen is None:
            return None
        try:
            self.popen.wait(timeout=max(timeout, 0))
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.popen.wait(timeout=30)
            self._note(f"did not stop within {timeout:.0f} s: killed")
        # Whatever of the group outlived its parent (a stray pool process) goes too.
        self._signal_group(signal.SIGKILL)
        _RUNNING.discard(self)
        return self.popen.returncode

    def stop(self, timeout: float = 30) -> int | None:
        self.terminate()
        return self.wait(timeout)

    def _note(self, message: str) -> None:
        with open(self.log_path, "a") as log:
            log.write(f"\n[harness] {self.name} {message}\n")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 60, *, leave_out: re.Pattern | None = None) -> str:
        """The last ``lines`` lines of its log, without those ``leave_out`` matches."""
        kept = [
            line
            for line in self.log().splitlines()
            if leave_out is None or not leave_out.search(line)
        ]
        return "\n".join(kept[-lines:])


class RedisServer:
    """A private Redis for one test: no persistence, stoppable, restartable."""

    def __init__(self, workdir: Path, port: int | None = None):
        self.workdir = workdir
        self.port = port or free_port()
        self.process: Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.running

    def start(self, timeout: float = 20) -> RedisServer:
        """Start (again) on the same port; returns once it answers PING."""
        assert not self.running, "redis-server is already running"
        self.starts += 1
        self.process = Process(
            f"redis-{self.starts}",
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
            ],
            env=dict(os.environ),
            log_dir=self.workdir,
            kind="redis",
        ).start()
        wait_until(
            self.ping,
            timeout=timeout,
            interval=0.05,
            what=f"redis-server to answer on port {self.port}",
            check=self._check_alive,
        )
        return self

    def _check_alive(self) -> None:
        if self.process is not None and not self.process.running:
            raise RuntimeError(
                f"redis-server exited with {self.process.returncode}:\n"
                + self.process.tail()
            )

    def stop(self, timeout: float = 10) -> None:
        """Shut it down (SIGTERM); returns once the port refuses connections."""
        if self.process is None:
            return
        self.process.stop(timeout)
        wait_until(
            lambda: not self.ping(),
            timeout=timeout,
            interval=0.05,
            what=f"port {self.port} to close",
        )

    def restart(self) -> RedisServer:
        self.stop()
        return self.start()

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def unacked(self) -> dict[str, str]:
        """Tasks delivered to a worker and not acknowledged yet: name by task id.

        Kombu's Redis transport keeps them in the ``unacked`` hash until they are
        acknowledged, or puts them back on the queue once they are older than the
        transport's ``visibility_timeout`` (one hour unless configured).
        """
        with self.client() as client:
            raw = client.hvals("unacked")
        tasks = {}
        for value in raw:
            headers = json.loads(value)[0].get("headers", {})
            tasks[headers.get("id", "?")] = headers.get("task", "?")
        return tasks

    def logs(self) -> list[tuple[str, str]]:
        return [("redis-server", self.process.tail(20))] if self.process else []


def database_url(settings_dict: dict, **options: str) -> str:
    """A PostgreSQL ``DATABASE_URL`` for ``cms.settings`` naming the database of
    ``settings_dict`` (during a test: the test database); ``options`` such as
    ``application_name`` go into the query string."""
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        raise ValueError("worker processes need PostgreSQL")
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(settings_dict.get("HOST") or "", safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    name = quote(str(settings_dict["NAME"]), safe="")
    query = {
        key: str(value)
        for key, value in (settings_dict.get("OPTIONS") or {}).items()
        if isinstance(value, str | int)
    }
    query.update(options)
    suffix = f"?{urlencode(query)}" if query else ""
    return f"postgres://{credentials}{host}{port}/{name}{suffix}"


# Celery's log lines, e.g. "Task tracking.tasks.scan_overdue[<id>] received" and
# "Task tracking.tasks.scan_overdue[<id>] succeeded in 0.1s: {'warned': 0, ...}".
_RECEIVED = re.compile(r"Task (?P<task>[\w.]+)\[(?P<id>[^\]]+)\] received$", re.M)
_SUCCEEDED = re.compile(
    r"Task (?P<task>[\w.]+)\[(?P<id>[^\]]+)\] succeeded in [\d.e-]+s: (?P<value>.*)$",
    re.M,
)
# Thousands of these in a big run; left out of the log tails shown on failure.
_CHATTER = re.compile(
    r"Task tracking\.tasks\.notify_case_event\[.*(received|succeeded)"
    r"|INFO/ForkPoolWorker-\d+\] (Page (created|edited)|story \d+ created)"
)


class CeleryProcesses:
    """Celery workers and beats of one test, all stopped when it ends.

    Each process's database sessions carry its name as ``application_name`` (see
    :meth:`sessions`).
    """

    def __init__(self, *, workdir: Path, broker_url: str, database: dict):
        self.workdir = workdir
        self.broker_url = broker_url
        self.database = dict(database)
        self.var_dir = workdir / "var"
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.processes: list[Process] = []
        #: A :class:`FakeClock` that the processes started from now on follow.
        self.clock: FakeClock | None = None

    def env(self, name: str = "", **extra: str) -> dict[str, str]:
        """The environment of a process: this one's, pointed at the test database
        and the private broker; ``extra`` overrides settings."""
        env = dict(os.environ)
        # Never a shared cache: each process keeps its own (as the test suite does).
        env.pop("CACHE_URL", None)
        env.update(
            DJANGO_SETTINGS_MODULE="cms.settings",
            DATABASE_URL=database_url(
                self.database, application_name=self.application_name(name)
            ),
            CELERY_BROKER_URL=self.broker_url,
            CELERY_TASK_ALWAYS_EAGER="0",
            DJANGO_CACHE="locmem",
            NEWSPLUS_VAR_DIR=str(self.var_dir),
            # Mail stays in each process (the liaisons' notices are not under test).
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        # Given, so that no process has to create one under var/.
        env.setdefault("DJANGO_SECRET_KEY", "reliability-tests-only")
        env.update(extra)
        return env

    @staticmethod
    def application_name(name: str) -> str:
        return f"reliability-{name}" if name else "reliability"

    def sessions(self, process: Process, *, writing: bool = False) -> int:
        """The process's open database sessions; with ``writing``, only those in a
        transaction that has locked or written rows (it has a transaction id)."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
                + (" AND backend_xid IS NOT NULL" if writing else ""),
                [self.application_name(process.name)],
            )
            return cursor.fetchone()[0]

    @property
    def workers(self) -> list[Process]:
        return [p for p in self.processes if p.kind == "worker"]

    def _start(
        self, kind: str, name: str, argv: list[str], env: dict[str, str]
    ) -> Process:
        if any(p.name == name for p in self.processes):
            raise ValueError(f"a process named {name} was already started")
        if self.clock is not None:
            argv = self.clock.wrap(argv)
        process = Process(name, argv, env=env, log_dir=self.workdir, kind=kind)
        process.start()
        self.processes.append(process)
        return process

    def worker(self, name: str, *, concurrency: int = 2, **env: str) -> Process:
        """``celery -A cms worker`` (prefork) with hostname ``name@%h``; ``env``
        overrides settings, e.g. ``TRACKING_SCAN_BATCH_SIZE="25"``."""
        return self._start(
            "worker",
            name,
            [
                sys.executable, "-m", "celery", "-A", "cms", "worker",
                "--loglevel", "INFO", "--pool", "prefork",
                "--concurrency", str(concurrency), "--hostname", f"{name}@%h",
                # Nothing to learn from other workers; start faster.
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            self.env(name, **env),
        )

    def beat(self, name: str, **env: str) -> Process:
        """``celery -A cms beat`` with the database scheduler of the settings."""
        return self._start(
            "beat",
            name,
            [
                sys.executable, "-m", "celery", "-A", "cms", "beat",
                "--loglevel", "INFO",
                "--pidfile", str(self.workdir / f"{name}.pid"),
                "--schedule", str(self.workdir / f"{name}-schedule"),
            ],
            self.env(name, **env),
        )

    def web(self, name: str, *, threads: int = 4, **env: str) -> Process:
        """The web application as production serves it (``gunicorn cms.wsgi``, one
        worker; WhiteNoise serves /static/) on a free port; its address is the
        returned process's ``url``. Wait for it with :meth:`wait_until_serving`."""
        port = free_port()
        process = self._start(
            "web",
            name,
            [
                sys.executable, "-m", "gunicorn", "cms.wsgi",
                "--bind", f"127.0.0.1:{port}", "--workers", "1",
                "--threads", str(threads), "--timeout", "120",
                "--graceful-timeout", "5", "--access-logfile", "-",
            ],
            self.env(name, **env),
        )
        process.url = f"http://127.0.0.1:{port}"
        return process

    def wait_until_serving(
        self, process: Process, path: str = "/", timeout: float = 60
    ) -> None:
        """Return once ``process`` (see :meth:`web`) answers ``path`` with a
        status below 500; fail early if a process died meanwhile."""
        from urllib.error import HTTPError, URLError
        from urllib.request import urlopen

        def serving() -> bool:
            try:
                with urlopen(f"{process.url}{path}", timeout=10) as response:
                    return response.status < 500
            except HTTPError as error:
                return error.code < 500
            except (URLError, OSError):
                return False

        self.wait_until(
            serving, timeout=timeout, interval=0.2, what=f"{process.name} to serve"
        )

    def check_alive(self) -> None:
        """Fail now if a process the test did not stop has exited."""
        for process in self.processes:
            if process.expected_exit or process.running:
                continue
            raise AssertionError(
                f"{process.name} exited unexpectedly with {process.returncode}:\n"
                + process.tail()
            )

    def wait_until(self, condition: Callable[[], T], **kwargs: Any) -> T:
        """:func:`wait_until`, failing early if one of the processes died."""
        return wait_until(condition, check=self.check_alive, **kwargs)

    def task_log(self, task: str, *processes: Process) -> dict[str, Any]:
        """Every run of ``task`` the workers (all by default) logged, by task id:
        its return value once it succeeded, else None (received, not finished)."""
        runs: dict[str, Any] = {}
        for process in processes or self.workers:
            log = process.log()
            for match in _RECEIVED.finditer(log):
                if match["task"] == task:
                    runs.setdefault(match["id"], None)
            for match in _SUCCEEDED.finditer(log):
                if match["task"] == task:
                    try:
                        runs[match["id"]] = ast.literal_eval(match["value"].strip())
                    except (ValueError, SyntaxError):
                        runs[match["id"]] = match["value"]
        return runs

    def task_results(self, task: str, *processes: Process) -> list[Any]:
        """Return values of the runs of ``task`` that succeeded."""
        return [
            value
            for value in self.task_log(task, *processes).values()
            if value is not None
        ]

    def stop_all(self, timeout: float = 30) -> None:
        """SIGTERM to every group at once (beats first), then wait; kill laggards."""
        beats_first = sorted(self.processes, key=lambda p: p.kind != "beat")
        for process in beats_first:
            process.terminate()
        deadline = time.monotonic() + timeout
        for process in beats_first:
            process.wait(deadline - time.monotonic())

    def schedule(self, task: str, seconds: int = 1, *, only: bool = True):
        """See :func:`schedule_every`; create it before starting beat."""
        return schedule_every(task, seconds, only=only)

    def logs(self) -> list[tuple[str, str]]:
        return [(p.name, p.tail(leave_out=_CHATTER)) for p in self.processes]


def schedule_every(task: str, seconds: int = 1, *, only: bool = True):
    """A beat entry (django-celery-beat) running ``task`` every ``seconds``.

    With ``only`` the other entries go, so beat sends nothing else. Transactional
    tests flush the tables, so the migration's schedule may or may not be there.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    if only:
        PeriodicTask.objects.all().delete()
    every, _ = IntervalSchedule.objects.get_or_create(
        every=seconds, period=IntervalSchedule.SECONDS
    )
    return PeriodicTask.objects.create(
        name=f"{task} every {seconds} s (test)", task=task, interval=every
    )


class FakeClock:
    """A wall clock for child processes that the test moves while they run.

    A child started through :meth:`wrap` runs its program under time-machine,
    travelling by the offset written in ``path``; a thread of its own (and of each
    process it forks: a worker's pool, gunicorn's worker) reads the file again
    every few milliseconds, so :meth:`move` reaches running processes at once.
    Only the wall clock moves (``time.time``, ``datetime.now``, ...): the
    monotonic clock stays real, so timeouts, heartbeats and sleeps in the children
    are not thrown by a jump of days. The test process itself, the database
    server and Redis keep the real time.

    (libfaketime, preloaded, would move the clocks of any program, but its 0.9.10
    in Debian 12 makes Python's ``time.sleep`` fail with EINVAL once the
    monotonic clock is left real, and hangs timed waits when it is not.)
    """

    POLL_SECONDS = 0.02

    def __init__(self, path: Path):
        self.path = path
        self.offset = timedelta(0)
        self._write()

    def wrap(self, argv: list[str]) -> list[str]:
        """``[python, -m, module, args...]`` run under this clock."""
        if argv[:2] != [sys.executable, "-m"]:
            raise ValueError(f"not a python -m command: {argv!r}")
        return [sys.executable, "-m", "tests.processes", "clock", str(self.path),
                *argv[2:]]

    def move(self, by: timedelta) -> None:
        """Move the children's clocks forward (or back) by ``by`` from now on."""
        self.offset += by
        self._write()

    def now(self) -> datetime:
        """The children's time (aware, UTC)."""
        return datetime.now(UTC) + self.offset

    def _write(self) -> None:
        # Replaced, never rewritten in place: a child reading the file mid-write
        # would see no offset at all.
        draft = self.path.with_suffix(".new")
        draft.write_text(f"{self.offset.total_seconds():.6f}\n")
        os.replace(draft, self.path)


def _run_under_clock(path: str, module: str, args: list[str]) -> None:
    """In a child (see :meth:`FakeClock.wrap`): follow the offset in ``path``,
    then run ``python -m module args``."""
    import runpy
    import threading

    import time_machine

    def read() -> float:
        try:
            return float(Path(path).read_text() or 0)
        except (OSError, ValueError):
            return applied[0]  # being replaced: keep the last one

    traveller = time_machine.travel(datetime.now(UTC), tick=True).start()
    applied = [0.0]

    def follow_once() -> None:
        offset = read()
        if offset != applied[0]:
            traveller.shift(offset - applied[0])
            applied[0] = offset

    def follow() -> None:
        while True:
            follow_once()
            time.sleep(FakeClock.POLL_SECONDS)

    def start_following() -> None:
        threading.Thread(target=follow, name="fake-clock", daemon=True).start()

    follow_once()
    start_following()
    # A forked child has no threads but the one that forked: it follows anew.
    os.register_at_fork(after_in_child=start_following)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture
def fake_clock(tmp_path_factory):
    """A :class:`FakeClock` at the real time; set it as ``celery_processes.clock``
    before starting the processes that must see it moved."""
    pytest.importorskip("time_machine")
    return FakeClock(tmp_path_factory.mktemp("clock") / "offset")


def _attach(request: pytest.FixtureRequest, harness: Any) -> None:
    request.node.stash.setdefault(_HARNESSES, []).append(harness)


@pytest.fixture
def redis_server(request, tmp_path_factory):
    """A private Redis on a free port (the shared one is never touched).

    ``redis_server.stop()`` and ``.start()`` make a broker outage: it comes back on
    the same port, empty (no persistence), so clients reconnect to the same URL.
    """
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    _attach(request, server)
    try:
        server.start()
    except RuntimeError:
        # Someone took the free port meanwhile: once more on another.
        server.port = free_port()
        server.start()
    yield server
    server.stop()


@pytest.fixture
def celery_processes(request, redis_server, transactional_db, tmp_path_factory):
    """Start Celery workers and beats on the private Redis and the test database.

    Depends on ``transactional_db`` so that the processes are gone before the
    database is flushed at the end of the test.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("worker processes need the PostgreSQL test database")
    harness = CeleryProcesses(
        workdir=tmp_path_factory.mktemp("celery"),
        broker_url=redis_server.url,
        database=connection.settings_dict,
    )
    _attach(request, harness)
    yield harness
    harness.stop_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test using the harness fails, show the tail of every process log."""
    report = yield
    if report.failed:
        for harness in item.stash.get(_HARNESSES, []):
            for name, tail in harness.logs():
                report.sections.append((f"{name} log (last lines)", tail))
    return report


if __name__ == "__main__":
    # python -m tests.processes clock OFFSET_FILE MODULE ARGS...: see FakeClock.
    if len(sys.argv) < 4 or sys.argv[1] != "clock":
        sys.exit("usage: python -m tests.processes clock OFFSET_FILE MODULE [ARGS]")
    _run_under_clock(sys.argv[2], sys.argv[3], sys.argv[4:])
