"""Do the public statistics stay cheap as the history grows?

Builds a scratch PostgreSQL database and grows it through ``--sizes`` cases
(10 k and 1 M by default; ``--quick``: 10 k and 100 k), with three calls per
case, spread over three years. At each size it measures:

1. **``manage.py rebuild_statistics``**: wall time of the command (a child
   process), which also fills the rollups the page and the API read.
2. **The public statistics page and ``GET /api/v1/stats/``, uncached**: Django's
   test client in this process, with the local-memory cache the test suite uses.
   Every page request carries a ``_bench`` parameter of its own, which no page
   knows, so the page cache renders without answering or storing (the API is
   never in the page cache; ``--dummy-cache`` runs with Django's dummy cache
   instead, which also refuses Wagtail its cached site root paths). A response
   the page cache answered stops the run. ``--warmup`` requests, then the median
   of ``--repeat`` timed requests, and the SQL queries of one request under
   ``CaptureQueriesContext``, with their shapes when the count is over the
   target or differs between sizes.
3. At the smallest size only, **what keeping the rollups current costs a
   transition**: ``--transitions`` cases go through dispatch, acknowledge and
   reply (``tracking.services``) with the rollups as configured, and as many
   with ``tracking.statistics.rollups.event_recorded`` patched to a no-op,
   alternating case by case; the difference in queries and in time.

**Targets**: page and API latency t(largest) / t(smallest) ≤ 1.5, their query
counts the same at every size and ≤ 15; a transition adds ≤ 3 queries and
≤ 20 % of its time; ``rebuild_statistics`` under 2 minutes at 1 M cases. The
exit status is 1 when one is missed (not with ``--no-targets``) or a run fails.

The raw rows are written with ``INSERT … SELECT … FROM generate_series(…)``: cases
(0.4 % of them open, most of those awaiting a department and overdue), their
timeline (register, accept, dispatch, acknowledge, reply, close; returns,
reminders of overdue efficiency complaints, escalations and first publications
for some), one callback per replied case, and the calls. Then ``VACUUM
ANALYZE``, as autovacuum would have done on a live database.

Usage::

    python bench/statistics.py [--sizes 10000,1000000] [--quick]
        [--repeat 30] [--warmup 5] [--transitions 200] [--dummy-cache]
        [--no-targets] [--keep]

The database is ``newsplus_bench_stats`` at 127.0.0.1:5432 (user ``postgres``),
created and dropped by the script (``--keep`` keeps it); Celery messages go to
Redis database 9, flushed at the end. ``DATABASE_URL``, ``CACHE_URL``,
``CELERY_BROKER_URL`` and ``NEWSPLUS_VAR_DIR`` from the shell are ignored.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

# This file has the standard library's name: _common puts the real ``statistics``
# into sys.modules before Django or anything else asks for it.
from _common import (
    PG_ADMIN_URL,
    PG_SERVER,
    Report,
    fill_columns,
    human,
    load_average,
    pg_create_database,
    pg_unreachable,
    say,
    share,
    spread,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
PG_DB = "newsplus_bench_stats"
PG_URL = f"{PG_SERVER}/{PG_DB}"
REDIS_URL = "redis://127.0.0.1:6379/9"
API_URL = "/api/v1/stats/"

CALLS_PER_CASE = 3
HISTORY_DAYS = 1095
# One case in OPEN_EVERY is still open; the rest are closed.
OPEN_EVERY = 250

TARGET_RATIO = 1.5
TARGET_QUERIES = 15
TARGET_ADDED_QUERIES = 3
TARGET_ADDED_TIME = 20.0  # percent of the transition's time
TARGET_REBUILD_S = 120.0
REBUILD_TARGET_SIZE = 1_000_000

DEPARTMENTS = [
    "交警支队",
    "住建局",
    "城管局",
    "水务集团",
    "人社局",
    "市场监管局",
    "生态环境局",
    "教育局",
]
CATEGORIES = [
    ("traffic-signs", "交通设施", 0),
    ("road-repair", "道路建设", 1),
    ("street-vending", "市容环境", 2),
    ("water-supply", "供水服务", 3),
    ("wages", "劳动保障", 4),
    ("market", "市场监管", 5),
    ("noise", "噪声扰民", 6),
    ("schools", "教育服务", 7),
    ("parking", "停车管理", 0),
    ("property", "物业管理", 1),
    ("greening", "绿化养护", 2),
    ("heating", "供暖服务", 3),
]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000", help="cases, ascending")
    parser.add_argument(
        "--quick", action="store_true", help="10 k and 100 k cases (a fast check)"
    )
    parser.add_argument("--repeat", type=int, default=30, help="timed requests")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests")
    parser.add_argument(
        "--transitions", type=int, default=200, help="cases per mode (dispatch, …)"
    )
    parser.add_argument(
        "--dummy-cache",
        action="store_true",
        help="run with Django's dummy cache (default: the local-memory cache, "
        "the page cache bypassed by a parameter of each request's own)",
    )
    parser.add_argument("--no-targets", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = "10000,100000"
    try:
        args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",")})
    except ValueError:
        parser.error("--sizes takes comma-separated whole numbers")
    if not args.sizes or args.sizes[0] < 1000:
        parser.error("every size must be at least 1000 cases")
    if args.repeat < 20:
        parser.error("--repeat must be at least 20")
    if args.transitions < 10:
        parser.error("--transitions must be at least 10")
    return args


# --- Django in this process -----------------------------------------------------


def django_setup(scratch: Path, dummy_cache: bool) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="cms.settings",
        DATABASE_URL=PG_URL,
        NEWSPLUS_VAR_DIR=str(scratch),
        CELERY_BROKER_URL=REDIS_URL,
        DJANGO_CACHE="locmem",
        DJANGO_DEBUG="0",
    )
    os.environ.pop("CACHE_URL", None)
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.core.cache import caches
    from django.core.cache.backends.dummy import DummyCache
    from django.test.utils import override_settings

    if dummy_cache:
        # Nothing kept in memory at all, not even Wagtail's site root paths.
        override_settings(
            CACHES={
                "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
            }
        ).enable()
        assert isinstance(caches["default"], DummyCache), caches["default"]


def qn(name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(name)


def table(model) -> str:
    return qn(model._meta.db_table)


def execute(sql: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.rowcount


def scalar(sql: str):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


# --- reference data and raw rows --------------------------------------------------


class Filler:
    """Grows the raw rows of the statistics with set-based SQL."""

    def __init__(self):
        from django.utils import timezone

        from tracking import calendar

        zone = calendar.local_zone()
        today = timezone.localtime(timezone.now(), zone).date()
        # Every generated instant is before today's local midnight (calls and
        # closed cases), or within the last weeks (open cases).
        self.base = time_literal(today, zone)
        self.cases = 0
        self.calls = 0
        self.category_ids: list[int] = []
        self.department_ids: list[int] = []

    def reference_data(self) -> None:
        from tracking.models import Category, Department

        departments = [
            Department.objects.get_or_create(name=name)[0] for name in DEPARTMENTS
        ]
        for code, name, department in CATEGORIES:
            category, _ = Category.objects.update_or_create(
                service_code=code,
                defaults={
                    "name": name,
                    "default_department": departments[department],
                    "handling_days": 5,
                },
            )
            self.category_ids.append(category.pk)
            self.department_ids.append(departments[department].pk)

    def ts(self, offset_sql: str) -> str:
        """The base instant shifted by ``offset_sql`` (an interval expression)."""
        return f"({self.base} + {offset_sql})"

    def grow_to(self, size: int) -> dict:
        from django.db import transaction

        started = time.perf_counter()
        low = (scalar(f"SELECT coalesce(max(id), 0) FROM {self._case_table()}")) + 1
        count = size - self.cases
        with transaction.atomic():
            rows = {"cases": self._cases(low, low + count - 1)}
            rows["events"] = self._events(low, low + count - 1)
            rows["callbacks"] = self._callbacks(low, low + count - 1)
            calls = size * CALLS_PER_CASE - self.calls
            rows["calls"] = self._calls(self.calls + 1, self.calls + calls)
            execute(
                f"SELECT setval(pg_get_serial_sequence('{self._case_table()}', 'id'), "
                f"(SELECT max(id) FROM {self._case_table()}))"
            )
        self.cases, self.calls = size, size * CALLS_PER_CASE
        filled = time.perf_counter() - started
        started = time.perf_counter()
        self.vacuum()
        rows.update(fill_s=filled, vacuum_s=time.perf_counter() - started)
        return rows

    def _case_table(self) -> str:
        from tracking.models import Case

        return Case._meta.db_table

    def vacuum(self) -> None:
        from tracking.models import Call, Callback, Case, CaseEvent

        for model in (Case, CaseEvent, Callback, Call):
            execute(f"VACUUM ANALYZE {table(model)}")

    def _cases(self, low: int, high: int) -> int:
        from tracking.models import Case

        categories = "(ARRAY[" + ",".join(map(str, self.category_ids)) + "])"
        departments = "(ARRAY[" + ",".join(map(str, self.department_ids)) + "])"
        n_categories = len(self.category_ids)
        # One row per case with its pseudo-random traits, derived from its id so
        # that the timeline below can derive the same ones.
        traits = f"""
            SELECT n,
                n % {OPEN_EVERY} = 3 AS is_open,
                CASE WHEN n % 10 < 5 THEN 'complaint'
                     WHEN n % 10 < 8 THEN 'help' ELSE 'consultation' END AS kind,
                n % 10 = 0 AS efficiency,
                1 + (n * 31 + n / {OPEN_EVERY}) % {n_categories} AS cat,
                CASE WHEN n % {OPEN_EVERY} = 3 THEN 1 + n % 40
                     ELSE 15 + (n * 7919) % {HISTORY_DAYS - 15} END AS day_off,
                (n * 37) % 36000 AS second_off,
                (n / {OPEN_EVERY}) % 5 AS open_kind
            FROM generate_series({low}::bigint, {high}::bigint) AS n
        """
        # dispatch + 7 calendar days is about 5 working days (handling_days).
        t0 = self.ts(
            "(- t.day_off * INTERVAL '1 day') + INTERVAL '8 hours' "
            "+ t.second_off * INTERVAL '1 second'"
        )
        escalated = "(NOT t.is_open AND t.kind = 'complaint' AND t.n % 97 = 0)"
        reply_days = f"(CASE WHEN {escalated} THEN 9 ELSE 1 + (t.n * 13) % 9 END)"
        dispatched = (
            "(CASE WHEN NOT (t.is_open AND t.open_kind = 0) "
            f"THEN {t0} + INTERVAL '2 hours' END)"
        )
        acknowledged = (
            f"(CASE WHEN NOT t.is_open OR t.open_kind >= 2 THEN {dispatched} "
            "+ CASE WHEN t.n % 5 = 0 THEN INTERVAL '30 hours' "
            "ELSE INTERVAL '3 hours' END END)"
        )
        replied = (
            f"(CASE WHEN NOT t.is_open THEN {dispatched} "
            f"+ {reply_days} * INTERVAL '34 hours' END)"
        )
        columns = {
            "id": "t.n",
            "reference": "'BENCH-' || t.n",
            "kind": "t.kind",
            "is_efficiency": "t.efficiency",
            "title": "'Benchmark case ' || t.n",
            "description": "''",
            "location_text": "''",
            "channel": "'phone'",
            "category": f"{categories}[t.cat]",
            "department": (
                f"CASE WHEN NOT (t.is_open AND t.open_kind = 0) "
                f"THEN {departments}[t.cat] END"
            ),
            "consent_to_publish": "FALSE",
            "media_url": "''",
            "state": (
                "CASE WHEN NOT t.is_open THEN 'closed' "
                "WHEN t.open_kind = 0 THEN 'accepted' "
                "WHEN t.open_kind = 1 THEN 'dispatched' ELSE 'in_progress' END"
            ),
            "registered_at": t0,
            "accepted_at": f"{t0} + INTERVAL '1 hour'",
            "dispatched_at": dispatched,
            "acknowledge_due_at": f"{dispatched} + INTERVAL '1 day'",
            "acknowledged_at": acknowledged,
            "late_acknowledgements": (
                f"CASE WHEN {acknowledged} IS NOT NULL AND t.n % 5 = 0 THEN 1 "
                "ELSE 0 END"
            ),
            "due_at": f"{dispatched} + INTERVAL '7 days'",
            "replied_at": replied,
            "closed_at": f"{replied} + INTERVAL '1 day'",
            "escalated_at": (
                f"CASE WHEN {escalated} THEN {dispatched} + INTERVAL '11 days' END"
            ),
            "escalated_due_at": (
                f"CASE WHEN {escalated} THEN {dispatched} + INTERVAL '7 days' END"
            ),
            "escalated_days_overdue": f"CASE WHEN {escalated} THEN 3 END",
            "bounce_count": (
                "CASE WHEN NOT t.is_open AND t.n % 33 = 0 THEN 1 ELSE 0 END"
            ),
        }
        names, values = fill_columns(Case, columns)
        return execute(
            f"INSERT INTO {table(Case)} ({', '.join(map(qn, names))}) "
            f"SELECT {', '.join(values)} FROM ({traits}) AS t"
        )

    def _events(self, low: int, high: int) -> int:
        from tracking import actions
        from tracking.models import CaseEvent

        cases = f"{qn(self._case_table())} AS c WHERE c.id BETWEEN {low} AND {high}"
        reply_days = (
            "(CASE WHEN c.escalated_at IS NOT NULL THEN 9 ELSE 1 + (c.id * 13) % 9 END)"
        )
        null = "NULL"
        # action: (when, from, to, department, on_time, working_days, condition)
        events = [
            ("register", "c.registered_at", "", "registered", null, null, null, None),
            (
                "accept",
                "c.accepted_at",
                "registered",
                "accepted",
                null,
                null,
                null,
                None,
            ),
            (
                "dispatch",
                "c.dispatched_at",
                "accepted",
                "dispatched",
                "c.department_id",
                null,
                null,
                "c.dispatched_at IS NOT NULL",
            ),
            (
                "acknowledge",
                "c.acknowledged_at",
                "dispatched",
                "in_progress",
                "c.department_id",
                "c.acknowledged_at <= c.acknowledge_due_at",
                null,
                "c.acknowledged_at IS NOT NULL",
            ),
            # A return (退单) and the dispatch again that follows it.
            (
                "return_case",
                "c.acknowledged_at + INTERVAL '1 hour'",
                "in_progress",
                "returned",
                "c.department_id",
                null,
                null,
                "c.bounce_count > 0",
            ),
            (
                "dispatch",
                "c.acknowledged_at + INTERVAL '2 hours'",
                "returned",
                "dispatched",
                "c.department_id",
                null,
                null,
                "c.bounce_count > 0",
            ),
            # The deadline passed on an efficiency complaint: the reminder that
            # makes it count in the unreported half of the media effect.
            (
                "reminder",
                "c.due_at + INTERVAL '1 hour'",
                "",
                "",
                "c.department_id",
                null,
                null,
                "c.is_efficiency AND c.due_at IS NOT NULL "
                "AND coalesce(c.replied_at, c.closed_at, TIMESTAMPTZ 'infinity') "
                f"> c.due_at + INTERVAL '1 hour' AND c.due_at < {self.base}",
            ),
            (
                "escalate",
                "c.escalated_at",
                "in_progress",
                "supervised",
                "c.department_id",
                null,
                null,
                "c.escalated_at IS NOT NULL",
            ),
            (
                "publish",
                "c.escalated_at + INTERVAL '1 day'",
                "",
                "",
                "c.department_id",
                null,
                null,
                "c.escalated_at IS NOT NULL AND c.id % 2 = 0",
            ),
            (
                "reply",
                "c.replied_at",
                "in_progress",
                "replied",
                "c.department_id",
                "c.replied_at <= c.due_at",
                reply_days,
                "c.replied_at IS NOT NULL",
            ),
            (
                "close",
                "c.closed_at",
                "replied",
                "closed",
                "c.department_id",
                null,
                null,
                "c.closed_at IS NOT NULL",
            ),
        ]
        given = (
            "case",
            "action",
            "from_state",
            "to_state",
            "note",
            "public",
            "created_at",
            "department",
            "on_time",
            "working_days",
        )
        total = 0
        for action, when, source, target, department, on_time, days, where in events:
            public = "TRUE" if actions.get(action).public else "FALSE"
            values = [
                "c.id",
                f"'{action}'",
                f"'{source}'",
                f"'{target}'",
                "''",
                public,
                when,
                department,
                on_time,
                days,
            ]
            names, values = fill_columns(
                CaseEvent, dict(zip(given, values, strict=True))
            )
            total += execute(
                f"INSERT INTO {table(CaseEvent)} ({', '.join(map(qn, names))}) "
                f"SELECT {', '.join(values)} FROM {cases}"
                + (f" AND {where}" if where else "")
            )
        return total

    def _callbacks(self, low: int, high: int) -> int:
        from tracking.models import Callback

        columns = {
            "case": "c.id",
            "method": (
                "CASE WHEN c.id % 20 < 17 THEN 'phone' "
                "WHEN c.id % 20 < 19 THEN 'home_visit' ELSE 'media_joint' END"
            ),
            "outcome": (
                "CASE WHEN c.id % 100 < 92 THEN 'satisfied' "
                "WHEN c.id % 100 < 95 THEN 'dissatisfied' ELSE 'unreachable' END"
            ),
            "note": "''",
            "called_at": "c.replied_at + INTERVAL '20 hours'",
            "department": "c.department_id",
        }
        names, values = fill_columns(Callback, columns)
        return execute(
            f"INSERT INTO {table(Callback)} ({', '.join(map(qn, names))}) "
            f"SELECT {', '.join(values)} FROM {qn(self._case_table())} AS c "
            f"WHERE c.id BETWEEN {low} AND {high} AND c.replied_at IS NOT NULL"
        )

    def _calls(self, low: int, high: int) -> int:
        from tracking.models import Call

        columns = {
            "received_at": self.ts(
                f"- (1 + (m * 7919) % {HISTORY_DAYS}) * INTERVAL '1 day' "
                "+ (m * 131) % 86400 * INTERVAL '1 second'"
            ),
            "caller_phone": "''",
            "duration_seconds": "30 + m % 600",
            "outcome": (
                "CASE WHEN m % 10 < 4 THEN 'answered' "
                "WHEN m % 10 < 7 THEN 'case_created' "
                "WHEN m % 10 < 8 THEN 'transferred' "
                "WHEN m % 10 < 9 THEN 'follow_up' ELSE 'dropped' END"
            ),
            "note": "''",
        }
        names, values = fill_columns(Call, columns)
        return execute(
            f"INSERT INTO {table(Call)} ({', '.join(map(qn, names))}) "
            f"SELECT {', '.join(values)} "
            f"FROM generate_series({low}::bigint, {high}::bigint) AS m"
        )


def time_literal(day, zone) -> str:
    from datetime import datetime

    midnight = datetime.combine(day, datetime.min.time(), zone)
    return f"TIMESTAMPTZ '{midnight.isoformat()}'"


def inventory() -> dict:
    from django.utils import timezone

    from tracking.models import Call, Callback, Case, CaseEvent

    now = timezone.now()
    return {
        "cases": Case.objects.count(),
        "open": Case.objects.open().count(),
        "overdue": Case.objects.overdue(now).count(),
        "events": CaseEvent.objects.count(),
        "callbacks": Callback.objects.count(),
        "calls": Call.objects.count(),
    }


# --- rebuild_statistics -----------------------------------------------------------


def rebuild() -> dict:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "manage.py", "rebuild_statistics", "--show", "0"],
        cwd=PROJECT_DIR,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        print(completed.stdout, completed.stderr)
        raise SystemExit(f"rebuild_statistics failed ({completed.returncode})")
    line = completed.stdout.strip().splitlines()[-1]
    found = re.search(r"rebuilt (\d+) rollup rows in ([\d.]+) s", line)
    say(f"rebuild_statistics: {line} (wall {wall:.1f} s)")
    return {
        "wall_s": wall,
        "command_s": float(found.group(2)) if found else None,
        "rows": int(found.group(1)) if found else None,
    }


# --- the page and the API ----------------------------------------------------------


def stats_page_url() -> str:
    """The statistics page's URL, the page made under the home page if missing."""
    from newsroom.models import HomePage, StatsPage

    page = StatsPage.objects.live().first()
    if page is None:
        home = HomePage.objects.first()
        page = StatsPage(title="统计数据", slug="statistics")
        home.add_child(instance=page)
        page.save_revision().publish()
        page.refresh_from_db()
    return page.get_url()


def measure(url: str, warmup: int, repeat: int, bypass: bool) -> dict:
    """Median, best and worst ms of ``repeat`` uncached GETs, and the queries of
    one. ``bypass``: each request with a ``_bench`` parameter of its own, which no
    page knows, so the page cache renders the page without answering or storing
    it (the API is never in the page cache)."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    sent = iter(range(1_000_000))

    def get():
        response = client.get(url, {"_bench": next(sent)} if bypass else {})
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        if response.get("X-Page-Cache") == "hit":
            raise RuntimeError(f"GET {url} was answered by the page cache")
        return response

    for _i in range(warmup):
        get()
    # The log holds 9000 statements; a full one makes every count 0.
    reset_queries()
    with CaptureQueriesContext(connection) as context:
        get()
    # Now: the log is a window that the next request (outside the context) resets.
    queries = list(context.captured_queries)
    samples = []
    gc.collect()
    gc.disable()
    try:
        for _i in range(repeat):
            started = time.perf_counter()
            get()
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        gc.enable()
    median, best, worst = spread(samples)
    return {
        "median_ms": median,
        "min_ms": best,
        "max_ms": worst,
        "queries": len(queries),
        "statements": [q["sql"] for q in queries],
        "sql_ms": [float(q["time"]) * 1000 for q in queries],
    }


# --- what a transition pays for the rollups ------------------------------------------


def transition_cost(per_mode: int) -> dict:
    """Dispatch, acknowledge and reply, with the rollups and without them."""
    from unittest import mock

    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tracking import services
    from tracking.models import Case, Category
    from tracking.statistics import rollups

    categories = list(Category.objects.select_related("default_department"))
    now = timezone.now()
    warmup = 5
    total = 2 * (per_mode + warmup)
    cases = Case.objects.bulk_create(
        Case(
            reference=f"BENCH-T{i}",
            kind="complaint",
            is_efficiency=(i // 2) % 10 == 0,
            title="Benchmark transition",
            description="",
            state="accepted",
            registered_at=now,
            accepted_at=now,
            category=categories[i % len(categories)],
        )
        for i in range(total)
    )
    steps = ("dispatch", "acknowledge", "reply")
    results = {mode: {step: [] for step in steps} for mode in ("with", "without")}
    results.update(
        {
            f"{mode}_queries": {step: [] for step in steps}
            for mode in ("with", "without")
        }
    )

    def run(case, mode: str, keep: bool) -> None:
        department = categories[case.pk % len(categories)].default_department
        calls = {
            "dispatch": lambda: services.case_dispatch(
                case=case.pk, user=None, department=department
            ),
            "acknowledge": lambda: services.case_acknowledge(case=case.pk, user=None),
            "reply": lambda: services.case_reply(
                case=case.pk, user=None, text="已安排人员现场处理。"
            ),
        }
        for step in steps:
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                calls[step]()
                elapsed = (time.perf_counter() - started) * 1000
            if keep:
                results[mode][step].append(elapsed)
                results[f"{mode}_queries"][step].append(len(queries))

    def noop(*args, **kwargs):
        return None

    gc.collect()
    gc.disable()
    try:
        # Alternating case by case: drift of the machine hits both modes alike.
        for i, case in enumerate(cases):
            mode = "with" if i % 2 == 0 else "without"
            keep = i >= 2 * warmup
            if mode == "with":
                run(case, mode, keep)
            else:
                with mock.patch.object(rollups, "event_recorded", noop):
                    run(case, mode, keep)
    finally:
        gc.enable()
    # Out of the figures of the larger sizes: they would be open cases there.
    Case.objects.filter(pk__in=[case.pk for case in cases]).delete()
    summary = {}
    for step in (*steps, "all"):
        row = {}
        for mode in ("with", "without"):
            if step == "all":
                times = [sum(t) for t in zip(*results[mode].values(), strict=True)]
                queries = [
                    sum(q)
                    for q in zip(*results[f"{mode}_queries"].values(), strict=True)
                ]
            else:
                times = results[mode][step]
                queries = results[f"{mode}_queries"][step]
            row[f"{mode}_ms"] = spread(times)[0]
            row[f"{mode}_queries"] = sum(queries) / len(queries)
        row["added_queries"] = row["with_queries"] - row["without_queries"]
        row["added_percent"] = share(
            row["with_ms"] - row["without_ms"], row["without_ms"]
        )
        summary[step] = row
    return summary


# --- the run -------------------------------------------------------------------------


def run(args) -> dict:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    say(f"schema migrated in {time.perf_counter() - started:.1f} s")
    filler = Filler()
    filler.reference_data()
    url = stats_page_url()
    say(f"statistics page: {url}")
    results: dict = {"sizes": {}, "page_url": url}
    for number, size in enumerate(args.sizes):
        say(f"growing to {human(size)} cases …")
        rows = filler.grow_to(size)
        found = inventory()
        say(
            f"{human(size)}: {found['cases']} cases ({found['open']} open, "
            f"{found['overdue']} overdue), {found['events']} events, "
            f"{found['callbacks']} callbacks, {found['calls']} calls; filled in "
            f"{rows['fill_s']:.1f} s, VACUUM ANALYZE {rows['vacuum_s']:.1f} s"
        )
        result = {"rows": found, "fill_s": rows["fill_s"], "rebuild": rebuild()}
        for key, where in (("page", url), ("api", API_URL)):
            result[key] = measure(where, args.warmup, args.repeat, bypass=key == "page")
            say(
                f"{where}: median {result[key]['median_ms']:.1f} ms, "
                f"{result[key]['queries']} queries"
            )
        if number == 0:
            say(f"transitions: {args.transitions} cases with rollups, as many without")
            result["transitions"] = transition_cost(args.transitions)
        results["sizes"][size] = result
    return results


def shape(sql: str) -> str:
    return re.sub(r"\b\d+\b|'[^']*'", "?", sql)[:150]


def summarize(args, results: dict, report: Report) -> None:
    """Adds the figures and targets to the report; prints the slowest statements."""
    sizes = args.sizes
    small, large = results["sizes"][sizes[0]], results["sizes"][sizes[-1]]
    label = f"{human(sizes[-1])} / {human(sizes[0])}"
    add = report.figure

    for size in sizes:
        found = results["sizes"][size]["rows"]
        add(
            f"data at {human(size)}",
            f"{found['cases']:,} cases ({found['open']:,} open, {found['overdue']:,} "
            f"overdue), {found['events']:,} events, {found['callbacks']:,} "
            f"callbacks, {found['calls']:,} calls",
        )
    for key, name in (("page", "statistics page"), ("api", API_URL)):
        times = [results["sizes"][s][key]["median_ms"] for s in sizes]
        queries = [results["sizes"][s][key]["queries"] for s in sizes]
        add(
            f"{name}, uncached, median ms",
            " / ".join(
                f"{t:.1f} ({results['sizes'][s][key]['min_ms']:.1f}–"
                f"{results['sizes'][s][key]['max_ms']:.1f})"
                for t, s in zip(times, sizes, strict=True)
            ),
        )
        ratio = times[-1] / times[0]
        report.target(
            f"{name}, ratio {label}",
            f"{ratio:.2f}",
            f"≤ {TARGET_RATIO}",
            ratio <= TARGET_RATIO,
        )
        best = [results["sizes"][s][key]["min_ms"] for s in sizes]
        add(f"{name}, best ratio {label}", f"{best[-1] / best[0]:.2f}")
        add(
            f"{name}, SQL ms of one request",
            " / ".join(f"{sum(results['sizes'][s][key]['sql_ms']):.1f}" for s in sizes),
        )
        report.target(
            f"{name}, SQL queries",
            " / ".join(map(str, queries)),
            f"same at every size, ≤ {TARGET_QUERIES}",
            len(set(queries)) == 1 and max(queries) <= TARGET_QUERIES,
        )
    transitions = small["transitions"]
    for step in ("dispatch", "acknowledge", "reply"):
        row = transitions[step]
        add(
            f"{step}: ms with / without rollups (queries)",
            f"{row['with_ms']:.2f} / {row['without_ms']:.2f} "
            f"({row['with_queries']:.1f} / {row['without_queries']:.1f})",
        )
    worst = max(
        transitions[s]["added_queries"] for s in ("dispatch", "acknowledge", "reply")
    )
    report.target(
        "queries a transition adds for the rollups (worst of the three)",
        f"{worst:.1f}",
        f"≤ {TARGET_ADDED_QUERIES}",
        worst <= TARGET_ADDED_QUERIES,
    )
    overall = transitions["all"]["added_percent"]
    report.target(
        "time the rollups add to dispatch + acknowledge + reply",
        f"{overall:.1f} % ({transitions['all']['with_ms']:.2f} vs "
        f"{transitions['all']['without_ms']:.2f} ms)",
        f"≤ {TARGET_ADDED_TIME:.0f} %",
        overall <= TARGET_ADDED_TIME,
    )
    for size in sizes:
        rebuilt = results["sizes"][size]["rebuild"]
        figures = (
            f"rebuild_statistics at {human(size)}, s (command's own)",
            f"{rebuilt['wall_s']:.1f} ({rebuilt['command_s']}; "
            f"{rebuilt['rows']} rollup rows)",
        )
        if size >= REBUILD_TARGET_SIZE:
            report.target(
                *figures,
                f"< {TARGET_REBUILD_S:.0f}",
                rebuilt["wall_s"] < TARGET_REBUILD_S,
            )
        else:
            add(*figures)
    for key in ("page", "api"):
        counts = {s: results["sizes"][s].get(key, {}).get("queries") for s in sizes}
        if None in counts.values():
            continue
        timed: Counter = Counter()
        for sql, ms in zip(large[key]["statements"], large[key]["sql_ms"], strict=True):
            timed[shape(sql)] += ms
        print(f"\n{key}: the slowest statements at {human(sizes[-1])}, ms:")
        for sql, ms in timed.most_common(4):
            print(f"  {ms:7.1f}  {sql}")
        if max(counts.values()) > TARGET_QUERIES or len(set(counts.values())) > 1:
            print(f"\n{key}: statements at {human(sizes[-1])} by shape:")
            shapes = Counter(shape(sql) for sql in large[key]["statements"])
            for sql, n in shapes.most_common():
                print(f"  {n:4d} x {sql}")


def main(argv=None) -> int:
    args = parse_args(argv)
    import psycopg

    started = time.perf_counter()
    print(f"{os.cpu_count()} CPUs; {load_average()}", flush=True)
    report = Report("statistics", no_targets=args.no_targets)
    unreachable = pg_unreachable()
    if unreachable:
        print(f"skipped: {unreachable}")
        report.skip("all targets", "PostgreSQL unreachable")
        return report.finish()
    admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    scratch = Path(tempfile.mkdtemp(prefix="bench_statistics_"))
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        admin.execute(pg_create_database(PG_DB))
        try:
            django_setup(scratch, args.dummy_cache)
            results = run(args)
        finally:
            from django.db import connections

            connections.close_all()
            if not args.keep:
                admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            shutil.rmtree(scratch, ignore_errors=True)
            flush_redis()
    summarize(args, results, report)
    print(f"\nTotal runtime {time.perf_counter() - started:.0f} s")
    return report.finish()


def flush_redis() -> None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except Exception as exc:  # the run's figures do not depend on it
        print(f"could not flush {REDIS_URL}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
