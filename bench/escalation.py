"""How fast does the overdue scan hand cases to the media, and what does a pass
cost when nothing is due?

Builds ``--cases`` cases (default 1,000,000) on PostgreSQL, ``--overdue`` of them
(default 10,000) open efficiency complaints overdue by more than any escalation
threshold, then measures:

1. **Escalations per second, 1 and 2 workers.** Each run clones the base
   database, starts that many real Celery workers (``celery -A cms worker
   --pool=solo``), sends one ``tracking.tasks.scan_overdue`` task per worker and
   times from sending until every overdue case is escalated *and* has its Hot
   Tracking story draft (polling the database). Parallel scans split the work
   with ``SELECT ... FOR UPDATE SKIP LOCKED``.
2. **Queries per escalated case**: one in-process ``scan_overdue`` under
   ``CaptureQueriesContext`` on a clone with ``--sample`` overdue cases, split
   into story creation and the rest, with the SQL shapes that repeat per case.
3. **Idle pass**: the median time of ``scan_overdue()`` with nothing due, on
   10,000 and on ``--cases`` cases of the same shape. Target: t(large) / t(10 k)
   <= 1.5.

Targets: the idle ratio above, and <= 50 queries per story in its transactions
(as configured); the exit status is 1 when one is missed or a run fails. Without
a PostgreSQL server the run is reported as skipped.

Row mix: overdue efficiency complaints are spread evenly through the table, in
the four escalatable states, due 20-59 days ago (past every threshold, working
days counted with the official 2025-2026 calendar), with their reminder already
sent, as an earlier pass would have done (``--remind`` leaves the reminders to
the timed pass). Of the other rows 3 % await a department with a deadline 15-44
days ahead, 1 % are registered or accepted, 1 % rejected or withdrawn, the rest
closed (1 in 50 of those after a media escalation). 40 departments, 20
categories (thresholds 2, 3 and 5 working days), 100,000 citizens, and a small
newsroom (editors and chief editors with e-mail addresses, so starting a story's
review workflow mails them as in production; workers mail to their log through
the console backend). This year's index page under the Hot Tracking column is
made up front, as the year's first story would have made it.

Usage::

    python bench/escalation.py [--cases 1000000] [--overdue 10000]
        [--sample 200] [--repeat 15] [--workers 1,2] [--remind] [--quick]

``--quick``: 20,000 cases, 150 overdue, a sample of 50, 5 idle passes per size.

Needs PostgreSQL at 127.0.0.1:5432 (user postgres) and Redis at 127.0.0.1:6379.
Scratch databases are named ``bench_escalation_*`` and dropped at the end, also
on failure; only Redis database 7 is used, and flushed. The workers consume a
queue of their own, so the e-mail tasks the scan queues (``notify_case_event``)
wait in Redis and are not part of the timing. ``DATABASE_URL``, ``CACHE_URL``,
``CELERY_BROKER_URL`` and ``NEWSPLUS_VAR_DIR`` from the shell are ignored.

At full scale on 2 cores the run takes about an hour, almost all of it creating
the 2 x 10,000 stories; ``--cases 40000 --overdue 1000`` takes about 10 minutes.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import (
    PG_ADMIN_URL,
    PG_SERVER,
    Report,
    fill_columns,
    human,
    load_average,
    median,
    pg_create_database,
    pg_unreachable,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DB = "bench_escalation_base"
IDLE_DB = "bench_escalation_idle"
RUN_DB = "bench_escalation_run"
SAMPLE_DB = "bench_escalation_sample"
SCRATCH_DBS = (RUN_DB, SAMPLE_DB, IDLE_DB, BASE_DB)
REDIS_URL = "redis://127.0.0.1:6379/7"
QUEUE = "bench_escalation"
TARGET_RATIO = 1.5
TARGET_STORY_QUERIES = 50
IDLE_SMALL = 10_000
WARMUP = 3
DEPARTMENTS = 40
CATEGORIES = 20
THRESHOLDS = (3, 3, 2, 5)  # escalation_threshold_days, cycled over the categories
CITIZENS = 100_000
EDITORS = 4
CHIEF_EDITORS = 2
# Overdue cases are due this many days ago (plus 0..39): past every threshold.
OVERDUE_DAYS = 20
# Open cases not yet due are due this many days ahead (plus 0..29): no warning yet.
FUTURE_DAYS = 15


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases in all")
    parser.add_argument(
        "--overdue", type=int, default=10_000, help="overdue efficiency complaints"
    )
    parser.add_argument(
        "--sample", type=int, default=200, help="overdue cases for the query count"
    )
    parser.add_argument(
        "--repeat", type=int, default=15, help="timed idle passes per size (median)"
    )
    parser.add_argument(
        "--workers", default="1,2", help="worker counts to time, comma-separated"
    )
    parser.add_argument(
        "--remind",
        action="store_true",
        help="leave the overdue cases' reminders to the timed pass",
    )
    parser.add_argument(
        "--timeout", type=float, default=4 * 3600, help="seconds allowed per worker run"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="20,000 cases, 150 overdue, a sample of 50, 5 idle passes per size",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.cases, args.overdue, args.sample, args.repeat = 20_000, 150, 50, 5
    args.workers = [int(w) for w in args.workers.split(",") if w.strip()]
    if args.cases < IDLE_SMALL:
        parser.error(f"--cases must be at least {IDLE_SMALL}")
    if not 0 < args.overdue <= args.cases // 2:
        parser.error("--overdue must be positive and at most half of --cases")
    if not 0 < args.sample <= args.overdue:
        parser.error("--sample must be positive and at most --overdue")
    if args.repeat < 1 or not args.workers or min(args.workers) < 1:
        parser.error("--repeat and --workers must be at least 1")
    return args


def say(message: str) -> None:
    print(message, flush=True)


# --- scratch databases and Redis ------------------------------------------------------


def admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


def drop_database(name: str) -> None:
    assert name.startswith("bench_escalation")
    with admin() as conn:
        # FORCE: a worker killed mid-way may still hold a session open.
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(name: str, template: str | None = None) -> None:
    assert name.startswith("bench_escalation")
    drop_database(name)
    with admin() as conn:
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.execute(pg_create_database(name))


def use_database(name: str) -> None:
    """Point Django's default connection at another scratch database."""
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name


def clone(name: str, template: str = BASE_DB) -> None:
    # CREATE DATABASE ... TEMPLATE needs the template without sessions.
    from django.db import connections

    connections.close_all()
    started = time.perf_counter()
    create_database(name, template)
    say(f"  cloned {template} as {name} in {time.perf_counter() - started:.1f} s")


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


# --- data -------------------------------------------------------------------------


class Data:
    """Set-based fills: INSERT ... SELECT over generate_series, no object per row."""

    def __init__(self, now: datetime):
        self.now = now
        self.ids: dict[str, tuple[int, int]] = {}

    def ts(self, days_sql: str) -> str:
        """SQL for ``self.now`` shifted by an integer-days SQL expression."""
        # Our own datetime, never user input: inlining it keeps "%" free in SQL.
        return (
            f"(TIMESTAMPTZ '{self.now.isoformat()}' + ({days_sql}) * INTERVAL '1 day')"
        )

    def execute(self, sql: str) -> int:
        from django.db import connection, transaction

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.rowcount

    def id_range(self, model) -> tuple[int, int]:
        from django.db.models import Max, Min

        bounds = model.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
        return bounds["lo"], bounds["hi"] - bounds["lo"] + 1

    def reference_data(self) -> None:
        """Calendar, departments, categories, citizens and the newsroom's staff."""
        import chinese_calendar
        from django.apps import apps
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from tracking import roles
        from tracking.calendar import import_chinesecalendar
        from tracking.models import Category, Citizen, Department

        available = {d.year for d in chinese_calendar.holidays}
        years = [
            y for y in (2025, 2026, self.now.year - 1, self.now.year) if y in available
        ]
        imported = import_chinesecalendar(sorted(set(years)))
        roles.sync_role_groups(apps)
        departments = Department.objects.bulk_create(
            Department(
                name=f"基准测试部门{i:02d}",
                short_name=f"部门{i:02d}",
                email=f"dept{i:02d}@example.gov.cn",
            )
            for i in range(DEPARTMENTS)
        )
        Category.objects.bulk_create(
            Category(
                name=f"基准分类{i:02d}",
                service_code=f"bench-{i:02d}",
                default_department=departments[i % DEPARTMENTS],
                handling_days=5,
                escalation_threshold_days=THRESHOLDS[i % len(THRESHOLDS)],
            )
            for i in range(CATEGORIES)
        )
        self.execute(
            f"""INSERT INTO {Citizen._meta.db_table}
                (name, phone, address, email, created_at)
            SELECT '市民' || n, '139' || lpad(n::text, 8, '0'),
                   '幸福小区' || (n % 500) || '号楼' || (n % 30) || '室', '',
                   {self.ts("-800")}
            FROM generate_series(1, {CITIZENS}) AS n"""
        )
        users = get_user_model()
        for group, count in (
            (roles.EDITORS, EDITORS),
            (roles.CHIEF_EDITORS, CHIEF_EDITORS),
        ):
            for i in range(count):
                user = users(username=f"bench-{group.split()[0].lower()}-{i}")
                user.email = f"{user.username}@example.org"
                user.is_staff = True
                user.set_unusable_password()
                user.save()
                user.groups.add(Group.objects.get(name=group))
        say(
            f"  calendar {', '.join(map(str, sorted(imported.years)))} "
            f"({imported.created} days), {DEPARTMENTS} departments, {CATEGORIES} "
            f"categories, {CITIZENS} citizens, {EDITORS + CHIEF_EDITORS} newsroom staff"
        )

    def fill_cases(self, start: int, stop: int, overdue: int, total: int) -> None:
        """Cases ``start`` .. ``stop - 1``; ``overdue`` of the ``total`` rows, spread
        evenly from row 0, are overdue efficiency complaints."""
        from django.db import connection

        from tracking.models import (
            AWAITING_DEPARTMENT_STATES,
            ESCALATABLE_STATES,
            Case,
            Category,
            Citizen,
            Department,
            State,
        )

        # A supervised case is escalated and owed a story: never one without.
        assert State.SUPERVISED not in ESCALATABLE_STATES
        assert set(ESCALATABLE_STATES) <= set(AWAITING_DEPARTMENT_STATES)
        states = [s.value for s in ESCALATABLE_STATES]
        new = [State.REGISTERED.value, State.ACCEPTED.value]
        refused = [State.REJECTED.value, State.WITHDRAWN.value]

        def cycle(values, index_sql: str) -> str:
            whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
            return f"CASE ({index_sql}) % {len(values)} {whens} END"

        cat_lo, cat_n = self.ids.setdefault("category", self.id_range(Category))
        dep_lo, dep_n = self.ids.setdefault("department", self.id_range(Department))
        cit_lo, cit_n = self.ids.setdefault("citizen", self.id_range(Citizen))
        step = total // overdue if overdue else 0
        overdue_sql = (
            f"n % {step} = 0 AND n / {step} < {overdue}" if overdue else "FALSE"
        )
        inner = f"""
            SELECT n,
                CASE WHEN {overdue_sql} THEN 'overdue'
                     WHEN n % 100 IN (1, 2, 3) THEN 'waiting'
                     WHEN n % 100 = 4 THEN 'new'
                     WHEN n % 100 = 5 THEN 'refused'
                     ELSE 'closed' END AS mix,
                CASE WHEN {overdue_sql} THEN -({OVERDUE_DAYS} + n % 40)
                     WHEN n % 100 IN (1, 2, 3) THEN {FUTURE_DAYS} + n % 30
                     WHEN n % 100 = 4 THEN NULL
                     ELSE -(60 + n % 700) END AS off
            FROM generate_series({start}, {stop - 1}) AS n
        """
        closed = "mix IN ('closed', 'refused')"
        late = "(mix = 'closed' AND n % 50 = 0)::int"
        columns = {
            "reference": "'BENCH-' || lpad(n::text, 8, '0')",
            "kind": f"CASE WHEN mix = 'overdue' THEN 'complaint' ELSE "
            f"{cycle(['complaint', 'complaint', 'help', 'consultation'], 'n / 7')} END",
            # 1 in 9 of the other complaints is an efficiency complaint too.
            "is_efficiency": "mix = 'overdue' OR (n % 9 = 0 AND (n / 7) % 4 < 2)",
            "title": "'五湖路与花园大道十字路口直行车道拥堵 ' || n",
            "description": "'直行车道排长队，右转车道空着，早晚高峰尤其严重。市民' || n"
            " || '，电话139' || lpad(n::text, 8, '0') || '，希望尽快处理。'",
            "location_text": "'五湖路与花园大道交叉口 ' || (n % 997)",
            "channel": cycle(["phone", "phone", "web", "open311", "visit"], "n"),
            "category_id": f"{cat_lo} + n % {cat_n}",
            "department_id": f"CASE WHEN mix <> 'new' THEN {dep_lo} + n % {dep_n} END",
            "citizen_id": f"{cit_lo} + n % {cit_n}",
            "state": f"""CASE mix
                WHEN 'overdue' THEN {cycle(states, "n / 7")}
                WHEN 'waiting' THEN {cycle(states, "n / 100")}
                WHEN 'new' THEN {cycle(new, "n / 100")}
                WHEN 'refused' THEN {cycle(refused, "n / 100")}
                ELSE '{State.CLOSED.value}' END""",
            "registered_at": self.ts("COALESCE(off, -1) - 7"),
            "accepted_at": f"CASE WHEN mix <> 'new' "
            f"THEN {self.ts('COALESCE(off, -1) - 6')} END",
            "dispatched_at": f"CASE WHEN mix IN ('overdue', 'waiting', 'closed') "
            f"THEN {self.ts('off - 5')} END",
            "due_at": f"CASE WHEN mix IN ('overdue', 'waiting', 'closed') "
            f"THEN {self.ts('off')} END",
            # Closed on time, except 1 in 50: escalated 4 days late, then closed.
            "replied_at": f"CASE WHEN mix = 'closed' "
            f"THEN {self.ts(f'off + {late} * 12 - 2')} END",
            "closed_at": f"CASE WHEN {closed} "
            f"THEN {self.ts(f'off + {late} * 14 - 1')} END",
            "escalated_at": f"CASE WHEN mix = 'closed' AND n % 50 = 0 "
            f"THEN {self.ts('off + 4')} END",
            "bounce_count": "CASE WHEN n % 13 = 0 THEN 1 ELSE 0 END",
            "late_acknowledgements": "0",
        }
        fields, values = fill_columns(Case, columns)
        qn = connection.ops.quote_name
        self.execute(
            f"INSERT INTO {qn(Case._meta.db_table)} ({', '.join(map(qn, fields))}) "
            f"SELECT {', '.join(values)} FROM ({inner}) AS rows"
        )

    def send_reminders(self) -> int:
        """The reminder an earlier pass sent for each overdue deadline."""
        from tracking.models import Case, CaseNotice, NoticeKind

        return self.execute(
            f"""INSERT INTO {CaseNotice._meta.db_table}
                (case_id, kind, due_at, created_at)
            SELECT id, '{NoticeKind.REMINDER.value}', due_at, due_at + INTERVAL '1 day'
            FROM {Case._meta.db_table} WHERE awaiting_due_at < {self.ts("-1")}"""
        )

    def year_index(self) -> None:
        """This year's index page under the Hot Tracking column, which the first
        story of the year makes in production."""
        from django.db import transaction
        from django.utils import timezone

        try:
            from newsroom.services import _year_index, hot_tracking_column

            with transaction.atomic():
                _year_index(hot_tracking_column(), timezone.localdate(self.now).year)
        except Exception as exc:  # the first story makes it then: a one-off cost
            say(f"  (year index page not made up front: {exc!r})")

    def analyze(self) -> float:
        from django.db import connection

        started = time.perf_counter()
        with connection.cursor() as cursor:
            # As autovacuum would leave a live database: statistics, visibility map.
            cursor.execute("VACUUM (ANALYZE)")
        return time.perf_counter() - started


def overdue_counts(now: datetime) -> tuple[int, int, int]:
    """(overdue cases, of them escalated, stories) through the small index."""
    from django.db import connection

    from newsroom.models import HotTrackingPage
    from tracking.models import Case

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE escalated_at IS NOT NULL) "
            f"FROM {Case._meta.db_table} WHERE awaiting_due_at < %s",
            [now - timedelta(days=OVERDUE_DAYS - 1)],
        )
        overdue, escalated = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM {HotTrackingPage._meta.db_table}")
        return overdue, escalated, cursor.fetchone()[0]


# --- queries per escalated case -------------------------------------------------------

NUMBER = re.compile(r"(?<![\w$])-?\d+(?:\.\d+)?\b")
QUOTED = re.compile(r"'(?:[^']|'')*'")
IN_LIST = re.compile(r"IN \((?:\?|N)(?:, (?:\?|N))*\)")
SAVEPOINT = re.compile(r'"s\d+_x\d+"')
TRANSACTION_CONTROL = re.compile(r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b")


def shape(sql: str) -> str:
    sql = SAVEPOINT.sub('"sp"', sql)
    sql = QUOTED.sub("?", sql)
    sql = NUMBER.sub("N", sql)
    return IN_LIST.sub("IN (...)", sql)


def short(sql: str, width: int = 150) -> str:
    sql = re.sub(r"\s+", " ", sql)
    sql = re.sub(r"SELECT .{60,}? FROM", "SELECT ... FROM", sql, count=1)
    return sql if len(sql) <= width else sql[: width - 3] + "..."


class StoryTrace:
    """An execute wrapper for the queries of stories: in their transactions, under
    the year index's lock (from reading it in a transaction until that commits),
    in the index tasks run after the commit (django-tasks), or outside."""

    def __init__(self):
        self.counts = Counter()
        self.locked = False
        self.in_task = False

    def __call__(self, execute, sql, params, many, context):
        from django.db import connection, transaction

        if not TRANSACTION_CONTROL.match(sql.lstrip().upper()):
            in_transaction = connection.in_atomic_block
            if (
                in_transaction
                and not self.locked
                and not self.in_task
                and 'FROM "newsroom_yearindexpage"' in sql
            ):
                self.locked = True
                transaction.on_commit(self.released)
            if self.in_task:
                self.counts["index"] += 1
            elif in_transaction:
                self.counts["transactions"] += 1
            else:
                self.counts["outside"] += 1
            self.counts["locked"] += self.locked
        return execute(sql, params, many, context)

    def released(self):
        self.locked = False

    def started(self, **kwargs):
        self.in_task = True

    def finished(self, **kwargs):
        self.in_task = False


def count_queries(args, now: datetime, *, inline: bool = False) -> dict:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext, override_settings
    from django_tasks.signals import task_finished, task_started

    from newsroom import receivers
    from tracking import hooks
    from tracking.escalation import scan_overdue
    from tracking.models import Case, State

    how = "index updates inline, as before" if inline else "as configured"
    say(
        f"\n== Queries per escalated case ({args.sample} overdue, in-process, {how}) =="
    )
    clone(SAMPLE_DB)
    use_database(SAMPLE_DB)
    cutoff = now - timedelta(days=OVERDUE_DAYS - 1)
    table = Case._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # Close all but the first ``sample`` overdue cases.
        cursor.execute(
            f"""UPDATE {table} SET state = %s, replied_at = due_at + INTERVAL '1 day',
                closed_at = due_at + INTERVAL '2 days'
            WHERE id IN (SELECT id FROM {table} WHERE awaiting_due_at < %s
                         ORDER BY id OFFSET %s)""",
            [State.CLOSED.value, cutoff, args.sample],
        )
        cursor.execute(f"ANALYZE {table}")
    assert overdue_counts(now)[0] == args.sample

    story_queries = 0
    story_seconds = 0.0
    trace = StoryTrace()

    def counted_story(case_id, user=None, on_created=None):
        nonlocal story_queries, story_seconds
        before = len(ctx.captured_queries)
        started = time.perf_counter()
        try:
            with connection.execute_wrapper(trace):
                return receivers.create_story(case_id, user=user, on_created=on_created)
        finally:
            story_seconds += time.perf_counter() - started
            story_queries += len(ctx.captured_queries) - before

    hooks.register("create_story", counted_story)
    task_started.connect(trace.started)
    task_finished.connect(trace.finished)
    # The debug cursor keeps the last 9,000 queries only; keep them all.
    connection.queries_limit = 10_000_000
    connection.queries_log = deque(maxlen=connection.queries_limit)
    tasks = (
        {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
        if inline
        else None
    )
    try:
        with override_settings(**({"TASKS": tasks} if tasks else {})):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                result = scan_overdue(now=datetime.now(UTC))
                elapsed = time.perf_counter() - started
    finally:
        hooks.register("create_story", receivers.create_story)
        task_started.disconnect(trace.started)
        task_finished.disconnect(trace.finished)
    queries = ctx.captured_queries
    escalated = result.escalated
    use_database(BASE_DB)
    drop_database(SAMPLE_DB)
    if not escalated or result.stories != escalated:
        raise RuntimeError(
            f"sample pass escalated {escalated}, stories {result.stories}"
        )

    per_case = len(queries) / escalated
    split = {
        key: trace.counts[key] / escalated
        for key in ("transactions", "locked", "index", "outside")
    }
    say(
        f"  {result}: {len(queries)} queries in {elapsed:.1f} s "
        f"({escalated / elapsed:.1f} escalations/s in-process)"
    )
    say(
        f"  queries per escalated case: {per_case:.1f} "
        f"(story creation {story_queries / escalated:.1f}, "
        f"scan and escalation {(len(queries) - story_queries) / escalated:.1f})"
    )
    say(
        "  per story, BEGIN/COMMIT/SAVEPOINT/RELEASE left out: "
        f"{split['transactions']:.1f} in its transactions "
        f"(target <= {TARGET_STORY_QUERIES}), "
        f"{split['locked']:.1f} of them under the year index's lock, "
        f"{split['index']:.1f} in index updates, {split['outside']:.1f} outside "
        "transactions (reads before, mail after)"
    )
    control = sum(
        1 for q in queries if TRANSACTION_CONTROL.match(q["sql"].lstrip().upper())
    )
    say(
        f"  of them BEGIN/COMMIT/SAVEPOINT/RELEASE: {control / escalated:.1f} per case "
        f"({(len(queries) - control) / escalated:.1f} other statements per case)"
    )
    say(
        f"  time per case: story {story_seconds / escalated * 1000:.1f} ms, "
        f"the rest {(elapsed - story_seconds) / escalated * 1000:.1f} ms"
    )
    shapes = Counter(shape(q["sql"]) for q in queries)
    say("  most repeated statements (count, per escalated case):")
    for sql, count in shapes.most_common(20):
        say(f"    {count:6d} {count / escalated:5.2f}  {short(sql)}")
    return {
        "per_case": per_case,
        "story": story_queries / escalated,
        "rest": (len(queries) - story_queries) / escalated,
        "escalated": escalated,
        **split,
    }


# --- escalations per second with real workers ---------------------------------------


class Workers:
    """``count`` Celery worker processes on the run database, one queue of our own."""

    def __init__(self, count: int, scratch: Path):
        self.count = count
        self.scratch = scratch
        self.names = [f"bench-escalation-{i + 1}@localhost" for i in range(count)]
        self.logs = [scratch / f"worker-{count}-{i + 1}.log" for i in range(count)]
        self.processes: list[subprocess.Popen] = []

    def env(self) -> dict:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"CACHE_URL", "CELERY_TASK_ALWAYS_EAGER"}
        }
        env.update(
            DATABASE_URL=f"{PG_SERVER}/{RUN_DB}",
            CELERY_BROKER_URL=REDIS_URL,
            DJANGO_CACHE="locmem",
            NEWSPLUS_VAR_DIR=str(self.scratch / "var"),
            DJANGO_SETTINGS_MODULE="cms.settings",
            LOG_LEVEL="INFO",
            # Mail (story workflows) goes to the worker's log, as SMTP would cost.
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        )
        return env

    def start(self) -> None:
        for name, log in zip(self.names, self.logs, strict=True):
            command = [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cms",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--hostname",
                name,
                "-Q",
                QUEUE,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ]
            with log.open("w") as out:
                self.processes.append(
                    subprocess.Popen(
                        command,
                        cwd=PROJECT_DIR,
                        env=self.env(),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        # Its own process group: stopped with it, and only it.
                        start_new_session=True,
                    )
                )

    def check_alive(self) -> None:
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                raise RuntimeError(f"worker exited with {process.returncode}:\n{tail}")

    def wait_ready(self, timeout: float = 120) -> float:
        from cms import celery_app

        started = time.perf_counter()
        waiting = set(self.names)
        while waiting:
            self.check_alive()
            if time.perf_counter() - started > timeout:
                raise RuntimeError(
                    f"workers not ready after {timeout:.0f} s: {waiting}"
                )
            for reply in celery_app.control.ping(
                destination=list(waiting), timeout=1.0
            ):
                waiting -= set(reply)
        return time.perf_counter() - started

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # warm shutdown
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def results(self) -> list[str]:
        """What each worker's scan task returned, from its log."""
        found = []
        for name, log in zip(self.names, self.logs, strict=True):
            text = log.read_text(errors="replace")
            for match in re.finditer(
                r"tracking\.tasks\.scan_overdue\[[^\]]+\] "
                r"succeeded in ([\d.]+)s: (\{.*\})",
                text,
            ):
                found.append(
                    f"{name.split('@')[0]}: {match.group(2)} "
                    f"in {float(match.group(1)):.1f} s"
                )
            for line in text.splitlines():
                if "ERROR" in line or "Traceback" in line:
                    found.append(f"{name.split('@')[0]}: {line.strip()[:200]}")
                    break
        return found


def time_workers(count: int, args, now: datetime, scratch: Path) -> dict:
    from tracking.tasks import scan_overdue

    say(f"\n== {count} worker{'s' * (count > 1)}: escalating {args.overdue} cases ==")
    clone(RUN_DB)
    use_database(RUN_DB)
    flush_redis()
    workers = Workers(count, scratch)
    try:
        workers.start()
        say(f"  workers ready in {workers.wait_ready():.1f} s; {load_average()}")
        overdue, escalated, stories = overdue_counts(now)
        assert (overdue, escalated, stories) == (args.overdue, 0, 0), (
            overdue,
            escalated,
            stories,
        )
        started = time.perf_counter()
        for _ in range(count):
            scan_overdue.apply_async(queue=QUEUE)
        escalated_s = None
        last_report = started
        while True:
            time.sleep(0.25)
            _, escalated, stories = overdue_counts(now)
            elapsed = time.perf_counter() - started
            if escalated >= args.overdue and escalated_s is None:
                escalated_s = elapsed
            if escalated >= args.overdue and stories >= args.overdue:
                break
            if elapsed - (last_report - started) >= 60:
                last_report = time.perf_counter()
                say(f"  {elapsed:5.0f} s: {escalated} escalated, {stories} stories")
            workers.check_alive()
            if elapsed > args.timeout:
                raise RuntimeError(
                    f"timeout after {elapsed:.0f} s: {escalated} escalated, "
                    f"{stories} stories"
                )
        rate = args.overdue / elapsed
        say(
            f"  all {args.overdue} escalated after {escalated_s:.1f} s, all stories "
            f"after {elapsed:.1f} s: {rate:.1f} escalations/s; {load_average()}"
        )
        checks = run_checks(args.overdue)
    finally:
        workers.stop()
        from django.db import connections

        connections.close_all()
        use_database(BASE_DB)
        drop_database(RUN_DB)
        flush_redis()
    for line in workers.results():
        say(f"  {line}")
    return {"seconds": elapsed, "escalated_s": escalated_s, "rate": rate, **checks}


def run_checks(expected: int) -> dict:
    """Exactly once: one escalation event and one story per case."""
    from django.db.models import Count
    from wagtail.models import WorkflowState

    from newsroom.models import HotTrackingPage
    from tracking.models import CaseEvent

    events = CaseEvent.objects.filter(action="escalate")
    twice = events.values("case_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    stories = HotTrackingPage.objects.count()
    in_review = WorkflowState.objects.filter(status="in_progress").count()
    ok = events.count() == expected and twice == 0 and stories == expected
    say(
        f"  checks: {events.count()} escalation events ({twice} cases twice), "
        f"{stories} stories, {in_review} in review: {'ok' if ok else 'WRONG'}"
    )
    if not ok:
        raise RuntimeError("escalations or stories were not exactly once per case")
    return {"events": events.count(), "stories": stories}


# --- idle pass ----------------------------------------------------------------------


class QueryTimer:
    """An execute wrapper: each query's round trip in ms (the debug cursor's own
    timings are rounded to whole milliseconds)."""

    def __init__(self):
        self.queries: list[tuple[str, object, float]] = []  # sql, params, ms

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.queries.append((sql, params, elapsed))


def time_idle(args, now: datetime, data: Data) -> dict:
    from django.db import connection

    from tracking.escalation import ScanResult, scan_overdue

    say("\n== Idle pass: nothing due ==")
    use_database(IDLE_DB)
    results = {}
    rows = 0
    for size in (IDLE_SMALL, args.cases):
        started = time.perf_counter()
        data.fill_cases(rows, size, overdue=0, total=size)
        filled = time.perf_counter() - started
        rows = size
        analyzed = data.analyze()
        say(
            f"  {human(size)} cases: filled in {filled:.1f} s, "
            f"VACUUM ANALYZE {analyzed:.1f} s"
        )
        samples = []
        gc.collect()
        gc.disable()
        try:
            for i in range(WARMUP + args.repeat):
                started = time.perf_counter()
                result = scan_overdue(now=now)
                elapsed = (time.perf_counter() - started) * 1000
                if result != ScanResult():
                    raise RuntimeError(f"the idle pass did something: {result}")
                if i >= WARMUP:
                    samples.append(elapsed)
        finally:
            gc.enable()
        timed = QueryTimer()
        with connection.execute_wrapper(timed):
            scan_overdue(now=now)
        results[size] = {
            "median": median(samples),
            "min": min(samples),
            "queries": timed.queries,
        }
        say(
            f"  scan_overdue(): median {results[size]['median']:.2f} ms "
            f"(min {min(samples):.2f}, max {max(samples):.2f}, n={args.repeat}); "
            f"{len(timed.queries)} queries (not counting BEGIN/COMMIT), "
            f"{sum(q[2] for q in timed.queries):.2f} ms in them"
        )
    small, large = results[IDLE_SMALL], results[args.cases]
    say(
        f"  queries of one idle pass, ms at {human(IDLE_SMALL)} -> {human(args.cases)}:"
    )
    for (sql, _, t_small), (_, _, t_large) in zip(
        small["queries"], large["queries"], strict=False
    ):
        flag = "<<" if t_large > 2 * t_small + 0.5 else "  "
        say(f"    {t_small:7.2f} -> {t_large:7.2f} {flag} {short(sql, 120)}")
    slowest, params, _ = max(large["queries"], key=lambda q: q[2])
    if slowest.lstrip().upper().startswith("SELECT"):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {slowest}", params)
            plan = [row[0] for row in cursor.fetchall()]
        say(f"  plan of the slowest at {human(args.cases)}:")
        for line in plan:
            say(f"    {line}")
    use_database(BASE_DB)
    drop_database(IDLE_DB)
    return results


# --- main -------------------------------------------------------------------------


def setup_django(scratch: Path) -> None:
    for name in ("CACHE_URL", "CELERY_TASK_ALWAYS_EAGER"):
        os.environ.pop(name, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="cms.settings",
        DATABASE_URL=f"{PG_SERVER}/{BASE_DB}",
        CELERY_BROKER_URL=REDIS_URL,
        DJANGO_CACHE="locmem",
        NEWSPLUS_VAR_DIR=str(scratch / "var"),
        LOG_LEVEL="WARNING",
        # Story workflows mail the newsroom; in this process, mail stays in memory.
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()


def build(args, now: datetime) -> Data:
    from django.core.management import call_command

    from tracking.models import Case

    say("== Building the data ==")
    create_database(BASE_DB)
    use_database(BASE_DB)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    say(f"  {BASE_DB}: migrated in {time.perf_counter() - started:.1f} s")
    data = Data(now)
    data.reference_data()
    data.year_index()
    # The idle database starts from here: same schema, site and reference data.
    clone(IDLE_DB)
    use_database(BASE_DB)
    started = time.perf_counter()
    data.fill_cases(0, args.cases, overdue=args.overdue, total=args.cases)
    filled = time.perf_counter() - started
    reminded = 0 if args.remind else data.send_reminders()
    analyzed = data.analyze()
    overdue, _, _ = overdue_counts(now)
    total = Case.objects.count()
    awaiting = Case.objects.awaiting_department().count()
    say(
        f"  {total} cases ({awaiting} awaiting a department, {overdue} of them overdue "
        f"efficiency complaints, {reminded} reminders already sent): filled in "
        f"{filled:.1f} s, VACUUM ANALYZE {analyzed:.1f} s"
    )
    if overdue != args.overdue or total != args.cases:
        raise RuntimeError(f"expected {args.cases} cases, {args.overdue} overdue")
    return data


def summarize(args, figures: dict, errors: list[str], report: Report) -> None:
    runs = figures.get("workers", {})
    for count, run in runs.items():
        report.figure(
            f"escalations/s, {count} worker{'s' * (count > 1)}",
            f"{run['rate']:.1f}",
            note=f"{args.overdue} cases with their stories in {run['seconds']:.1f} s "
            f"(escalations alone done at {run['escalated_s']:.1f} s)",
        )
    if 1 in runs:
        for count, run in runs.items():
            if count != 1:
                report.figure(
                    f"ratio {count} workers / 1 worker",
                    f"{run['rate'] / runs[1]['rate']:.2f}",
                )
    for key, how in (("queries", ""), ("queries_inline", ", index inline")):
        if key not in figures:
            continue
        q = figures[key]
        report.figure(
            f"queries per escalated case{how}",
            f"{q['per_case']:.1f}",
            note=f"story creation {q['story']:.1f}, scan and escalation "
            f"{q['rest']:.1f} (in-process sample of {q['escalated']})",
        )
        label = f"queries per story in its transactions{how}"
        figure = f"{q['transactions']:.1f}"
        note = (
            f"{q['locked']:.1f} under the year index's lock, {q['index']:.1f} index "
            f"updates, {q['outside']:.1f} outside (no BEGIN/COMMIT/SAVEPOINT counted)"
        )
        if key == "queries":
            wanted = f"<= {TARGET_STORY_QUERIES}"
            passed = q["transactions"] <= TARGET_STORY_QUERIES
            report.target(label, figure, wanted, passed, note=note)
        else:
            report.figure(label, figure, note=note)
    if "idle" in figures:
        idle = figures["idle"]
        small, large = idle[IDLE_SMALL], idle[args.cases]
        ratio = large["median"] / small["median"]
        for size, timing in ((IDLE_SMALL, small), (args.cases, large)):
            report.figure(
                f"idle pass, {human(size)} cases (ms)",
                f"{timing['median']:.2f}",
                note=f"median of {args.repeat}; best {timing['min']:.2f}",
            )
        report.target(
            f"idle ratio t({human(args.cases)}) / t({human(IDLE_SMALL)})",
            f"{ratio:.2f}",
            f"<= {TARGET_RATIO}",
            ratio <= TARGET_RATIO,
            note=f"best-of ratio {large['min'] / small['min']:.2f}",
        )
    say("\n== Summary ==")
    say(
        f"{human(args.cases)} cases, {human(args.overdue)} overdue efficiency "
        f"complaints{'' if args.remind else ' (reminders already sent)'}; "
        f"PostgreSQL; Celery workers --pool=solo"
    )
    for error in errors:
        report.problem(error)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    say(f"{os.cpu_count()} CPUs; {load_average()}")
    # SIGTERM ends the run as Ctrl-C does: through the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    report = Report("escalation")
    unreachable = pg_unreachable()
    if unreachable:
        say(f"skipped: {unreachable}")
        report.skip("all targets", "PostgreSQL unreachable")
        return report.finish()
    scratch = Path(tempfile.mkdtemp(prefix="bench_escalation_"))
    figures: dict = {}
    errors: list[str] = []
    try:
        setup_django(scratch)
        flush_redis()
        now = datetime.now(UTC).replace(microsecond=0)
        data = build(args, now)
        steps = [
            ("queries", lambda: count_queries(args, now)),
            ("queries_inline", lambda: count_queries(args, now, inline=True)),
        ]
        for count in args.workers:
            steps.append(
                (
                    f"workers:{count}",
                    lambda c=count: time_workers(c, args, now, scratch),
                )
            )
        steps.append(("idle", lambda: time_idle(args, now, data)))
        for name, step in steps:
            try:
                result = step()
            except Exception as exc:
                errors.append(f"{name}: {exc!r}")
                say(f"  !! {name} failed: {exc!r}")
                continue
            if name.startswith("workers:"):
                figures.setdefault("workers", {})[int(name.split(":")[1])] = result
            else:
                figures[name] = result
    except Exception as exc:
        errors.append(repr(exc))
        raise
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        for name in SCRATCH_DBS:
            try:
                drop_database(name)
            except Exception as exc:
                say(f"could not drop {name}: {exc}")
        try:
            flush_redis()
        except Exception:
            pass
        shutil.rmtree(scratch, ignore_errors=True)
    summarize(args, figures, errors, report)
    say(f"\nTotal runtime {time.perf_counter() - started:.0f} s")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
