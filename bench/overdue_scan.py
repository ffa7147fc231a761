"""Does finding overdue cases stay cheap as the case history grows?

Fills the case table to each of ``--sizes`` rows (growing one database, not
rebuilding it), keeps exactly 500 overdue cases throughout, and times
``Case.objects.overdue(now)``. The overdue scan is meant to cost what the 500
cost, not what the history costs, so the target is t(largest) / t(smallest)
<= 1.5 on every backend, with ``case_awaiting_due_idx`` in the query plan.

Row mix: the 500 overdue cases come first; of every other row 97 % are closed
(deadline long past) and 3 % are open, awaiting a department, due in the future.
Closed rows get a past ``due_at`` on purpose: that is what real history looks
like, and it is what would drown a plain ``due_at`` index.

Usage::

    python bench/overdue_scan.py [--sizes 10000,1000000] [--quick]
        [--backends sqlite,postgres] [--repeat 50]

``--quick``: 10 k and 100 k rows, 20 timed runs (a fast check).

Each backend runs in a child process of this script, because Django reads
DATABASE_URL once per process. SQLite uses a temporary file; PostgreSQL uses a
scratch database ``bench_overdue`` that is created and dropped here (skipped
when the server is unreachable: reported as skipped). The exit status is 1 when a
backend misses the target, does not use the index, or fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
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
    print_table,
    sqlite_from_template,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
INDEX_NAME = "case_awaiting_due_idx"
OVERDUE = 500
TARGET_RATIO = 1.5
WARMUP = 5
PG_BENCH_DB = "bench_overdue"
PG_BENCH_URL = f"{PG_SERVER}/{PG_BENCH_DB}"
BACKENDS = ("sqlite", "postgres")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="10000,1000000",
        help="comma-separated table sizes, measured in ascending order",
    )
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="sqlite, postgres or both"
    )
    parser.add_argument(
        "--repeat", type=int, default=50, help="timed runs per size (median kept)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="10 k and 100 k rows, 20 timed runs"
    )
    # Internal: how the parent hands one backend to a child process.
    parser.add_argument("--_worker", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--_result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat = "10000,100000", 20
    args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s})
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    if not args.sizes or args.sizes[0] < OVERDUE:
        parser.error(f"every size must hold the {OVERDUE} overdue cases")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


# --- child process: one backend --------------------------------------------------


class Worker:
    def __init__(self, backend: str, repeat: int):
        self.backend = backend
        self.repeat = repeat
        self.rows = 0
        # Second precision keeps the SQL-computed SQLite datetimes in exactly the
        # text form Django writes and compares ("YYYY-MM-DD HH:MM:SS").
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.overdue_step = 1

    def log(self, message: str) -> None:
        print(f"[{self.backend}] {message}", flush=True)

    def setup(self) -> None:
        sys.path.insert(0, str(PROJECT_DIR))
        os.environ["DJANGO_SETTINGS_MODULE"] = "cms.settings"
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            sqlite = connection.vendor == "sqlite"
            cursor.execute(
                "SELECT sqlite_version()" if sqlite else "SHOW server_version"
            )
            version = cursor.fetchone()[0]
        self.log(
            f"{connection.vendor} {version}: schema migrated in "
            f"{time.perf_counter() - started:.1f} s"
        )

    # Filling is raw INSERT ... SELECT over a generated series: no Python object
    # per row, so a million rows take seconds and almost no memory.
    def _ts(self, days_sql: str) -> str:
        """SQL for ``self.now`` shifted by an integer-days SQL expression."""
        # The base instant is our own datetime, never user input, so inlining it
        # is safe, and leaving out query parameters lets the SQL use "%" freely.
        if self.backend == "sqlite":
            base = self.now.strftime("%Y-%m-%d %H:%M:%S")
            return f"datetime('{base}', ({days_sql}) || ' days')"
        base = self.now.isoformat()
        return f"(TIMESTAMPTZ '{base}' + ({days_sql}) * INTERVAL '1 day')"

    def fill(self, start: int, stop: int, with_overdue: bool) -> None:
        from django.db import connection, transaction

        from tracking.models import AWAITING_DEPARTMENT_STATES, Case, State

        awaiting = list(AWAITING_DEPARTMENT_STATES)

        def pick_state(index_sql: str) -> str:
            whens = " ".join(
                f"WHEN {i} THEN '{s.value}'" for i, s in enumerate(awaiting)
            )
            return f"CASE ({index_sql}) % {len(awaiting)} {whens} END"

        step = self.overdue_step
        # Overdue rows are spread evenly over the first fill so that their heap
        # pages are mixed with history, as they would be in production.
        overdue_sql = (
            f"n < {OVERDUE * step} AND n % {step} = 0" if with_overdue else "1 = 0"
        )
        open_sql = "n % 100 IN (1, 2, 3)"
        inner = f"""
            SELECT n,
                CASE WHEN {overdue_sql} THEN {pick_state(f"n / {step}")}
                     WHEN {open_sql} THEN {pick_state("n / 100")}
                     ELSE '{State.CLOSED.value}' END AS st,
                CASE WHEN {overdue_sql} THEN -(1 + (n / {step}) % 30)
                     WHEN {open_sql} THEN 1 + n % 30
                     ELSE -(30 + n % 700) END AS off
            FROM series
        """
        closed = f"st = '{State.CLOSED.value}'"
        columns = {
            "reference": "'BENCH-' || n",
            "kind": "'complaint'",
            "is_efficiency": "FALSE",
            "title": "'Benchmark case ' || n",
            "description": "''",
            "location_text": "''",
            "channel": "'phone'",
            "state": "st",
            "registered_at": self._ts("off - 7"),
            "accepted_at": self._ts("off - 6"),
            "dispatched_at": self._ts("off - 5"),
            "due_at": self._ts("off"),
            "replied_at": f"CASE WHEN {closed} THEN {self._ts('off - 2')} END",
            "closed_at": f"CASE WHEN {closed} THEN {self._ts('off - 1')} END",
            "bounce_count": "0",
            "late_acknowledgements": "0",
        }
        fields, values = fill_columns(Case, columns)
        qn = connection.ops.quote_name
        if self.backend == "sqlite":
            series = (
                f"WITH RECURSIVE series(n) AS (SELECT {start} UNION ALL "
                f"SELECT n + 1 FROM series WHERE n < {stop - 1}) "
            )
        else:
            series = f"WITH series(n) AS (SELECT generate_series({start}, {stop - 1})) "
        sql = (
            f"{series}"
            f"INSERT INTO {qn(Case._meta.db_table)} ({', '.join(map(qn, fields))}) "
            f"SELECT {', '.join(values)} FROM ({inner}) AS rows"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)

    def grow_to(self, size: int) -> dict:
        from django.db import connection

        from tracking.models import Case

        started = time.perf_counter()
        if self.rows == 0:
            self.overdue_step = size // OVERDUE
        self.fill(self.rows, size, with_overdue=self.rows == 0)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        with connection.cursor() as cursor:
            # Fresh statistics, as autovacuum / PRAGMA optimize would give a live
            # database; without them both planners guess at the row mix.
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Case._meta.db_table)}")
        analyzed = time.perf_counter() - started
        self.rows = size
        total = Case.objects.count()
        awaiting = Case.objects.awaiting_department().count()
        assert total == size, (total, size)
        self.log(
            f"{human(size)} rows ({awaiting} awaiting a department, "
            f"{total - awaiting} closed): filled in {filled:.1f} s, "
            f"ANALYZE {analyzed:.1f} s"
        )
        return {"fill_s": filled, "analyze_s": analyzed, "awaiting": awaiting}

    def plan(self) -> tuple[list[str], bool]:
        from tracking.models import Case

        queryset = Case.objects.overdue(self.now)
        if self.backend == "postgres":
            # ANALYZE adds actual row counts and the server-side time, which the
            # client-side timings below cannot separate from decoding the rows.
            lines = queryset.explain(analyze=True, buffers=True).splitlines()
        else:
            lines = queryset.explain().splitlines()
        uses_index = any(INDEX_NAME in line for line in lines)
        for line in lines:
            marker = ">>" if INDEX_NAME in line else "  "
            self.log(f"  plan {marker} {line}")
        if not uses_index:
            self.log(f"  plan !! {INDEX_NAME} is NOT used by this plan")
        return lines, uses_index

    def time_overdue(self) -> dict:
        """Median and best ms of the ORM call, and of its SQL alone.

        Building 500 model instances costs more than an indexed lookup of them,
        so the ORM figure alone would hide a plan that scans the history; the
        SQL-only figure (same SQL through Django's cursor, fetchall) shows the
        database's share.
        """
        from django.db import connection

        from tracking.models import Case

        def orm() -> int:
            return len(list(Case.objects.overdue(self.now)))

        sql, params = Case.objects.overdue(self.now).query.sql_with_params()

        def raw() -> int:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return len(cursor.fetchall())

        result = {}
        for label, call in (("orm", orm), ("sql", raw)):
            samples = []
            # As timeit does: a collection landing in one run but not another is
            # noise, not a cost of the query.
            gc.collect()
            gc.disable()
            try:
                for i in range(WARMUP + self.repeat):
                    started = time.perf_counter()
                    count = call()
                    elapsed = (time.perf_counter() - started) * 1000
                    assert count == OVERDUE, f"{label}: got {count}, not {OVERDUE}"
                    if i >= WARMUP:
                        samples.append(elapsed)
            finally:
                gc.enable()
            result[label] = {"median": median(samples), "min": min(samples)}
            self.log(
                f"  {label}: {OVERDUE} rows, median {result[label]['median']:.2f} ms "
                f"(min {min(samples):.2f}, max {max(samples):.2f}, n={self.repeat})"
            )
        return result

    def run(self, sizes: list[int]) -> dict:
        self.setup()
        results = {}
        for size in sizes:
            results[size] = self.grow_to(size)
            results[size].update(self.time_overdue())
            lines, uses_index = self.plan()
            results[size].update(plan=lines, uses_index=uses_index)
        return results


def worker_main(args: argparse.Namespace) -> int:
    results = Worker(args._worker, args.repeat).run(args.sizes)
    Path(args._result).write_text(json.dumps(results))
    return 0


# --- parent process: scratch databases, children, summary -------------------------


def run_child(backend: str, database_url: str, args, scratch: Path) -> dict | str:
    result_file = scratch / f"{backend}.json"
    env = dict(os.environ, DATABASE_URL=database_url)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--_worker",
        backend,
        "--_result",
        str(result_file),
        "--sizes",
        ",".join(map(str, args.sizes)),
        "--repeat",
        str(args.repeat),
    ]
    completed = subprocess.run(command, env=env, cwd=PROJECT_DIR, check=False)
    if completed.returncode != 0 or not result_file.exists():
        return f"the worker failed with exit status {completed.returncode}"
    return {int(k): v for k, v in json.loads(result_file.read_text()).items()}


def run_sqlite(args, scratch: Path) -> dict | str:
    url = f"sqlite:///{scratch / 'bench_overdue.sqlite3'}"
    sqlite_from_template(scratch / "bench_overdue.sqlite3")
    return run_child("sqlite", url, args, scratch)


def run_postgres(args, scratch: Path) -> dict | str | None:
    """The figures, the reason of a failure, or None when the server is away."""
    import psycopg

    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        print(f"[postgres] skipped: cannot reach {PG_ADMIN_URL}: {reason}")
        return None
    with admin:
        # FORCE: a previous run killed mid-way may still hold a session open.
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        admin.execute(pg_create_database(PG_BENCH_DB))
        try:
            return run_child("postgres", PG_BENCH_URL, args, scratch)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')


# (metric key, statistic, label); the first row is the target.
METRICS = (
    ("orm", "median", "orm median"),
    ("orm", "min", "orm best"),
    ("sql", "median", "sql median"),
    ("sql", "min", "sql best"),
)


def summarize(args, outcomes: dict, report: Report) -> None:
    small, large = args.sizes[0], args.sizes[-1]
    label = f"{human(large)}/{human(small)}"
    headers = ["backend", "metric"] + [f"t({human(s)}) ms" for s in args.sizes]
    headers += [f"ratio {label}"]
    rows = []
    for backend, outcome in outcomes.items():
        if not isinstance(outcome, dict):
            continue
        for number, (key, stat, name) in enumerate(METRICS):
            times = [outcome[s][key][stat] for s in args.sizes]
            rows.append(
                [backend if number == 0 else "", name]
                + [f"{t:.2f}" for t in times]
                + [f"{times[-1] / times[0]:.2f}"]
            )
    print()
    print(
        f"Case.objects.overdue() returning {OVERDUE} overdue cases, {args.repeat} "
        f"timed runs per size; target: orm median ratio <= {TARGET_RATIO}"
    )
    print(
        "orm = list(Case.objects.overdue(now)); "
        "sql = the same SQL through Django's cursor, fetchall()"
    )
    print_table(headers, rows)
    print()
    for backend, outcome in outcomes.items():
        if isinstance(outcome, dict):
            for size in args.sizes:
                plan = [line.strip() for line in outcome[size]["plan"]]
                hits = [line for line in plan if INDEX_NAME in line]
                if hits:
                    shown = hits[0]
                else:
                    shown = f"!! NOT USING {INDEX_NAME}: " + " | ".join(plan[:4])
                print(f"{backend} plan at {human(size)}: {shown}")
    for backend, outcome in outcomes.items():
        if outcome is None:
            report.skip(f"{backend}: overdue()", "PostgreSQL unreachable")
        elif not isinstance(outcome, dict):
            report.problem(f"{backend}: {outcome}")
        else:
            orm = [outcome[s]["orm"]["median"] for s in (small, large)]
            report.target(
                f"{backend}: overdue() median ratio {label}",
                f"{orm[1] / orm[0]:.2f}",
                f"<= {TARGET_RATIO}",
                orm[1] / orm[0] <= TARGET_RATIO,
            )
            used = all(outcome[s]["uses_index"] for s in args.sizes)
            report.target(
                f"{backend}: plan uses {INDEX_NAME}",
                "yes" if used else "no",
                "yes",
                used,
            )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args._worker:
        return worker_main(args)
    started = time.perf_counter()
    print(f"{os.cpu_count()} CPUs; {load_average()}", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench_overdue_"))
    outcomes = {}
    try:
        for backend in args.backends:
            runner = run_sqlite if backend == "sqlite" else run_postgres
            outcomes[backend] = runner(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report = Report("overdue_scan")
    summarize(args, outcomes, report)
    print(f"\nTotal runtime {time.perf_counter() - started:.0f} s")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
