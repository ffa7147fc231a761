"""Small helpers the benchmarks share (run them as ``python bench/<name>.py``)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

# bench/statistics.py has the standard library's name, and a script's own directory
# comes first on sys.path: every script here would import it for ``statistics``
# (so would Django, for that matter). The real one goes into sys.modules first, so
# every later ``import statistics`` finds it.
_path = sys.path[:]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
try:
    import statistics
finally:
    sys.path[:] = _path
if not hasattr(statistics, "median"):
    raise ImportError("import _common before anything imports statistics")


def human(n: int) -> str:
    """1000000 -> '1M', 10000 -> '10k'."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def print_table(header, rows) -> None:
    """Left-aligned columns under a header and a rule; trailing blanks cut."""
    table = [tuple(map(str, row)) for row in (header, *rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    table.insert(1, tuple("-" * w for w in widths))
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def load_average() -> str:
    # Timings on a busy machine drift; the load average says how busy it was.
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def spread(values) -> tuple[float, float, float]:
    """Median, minimum and maximum of repeated measurements of one thing.

    One figure of a noisy measurement hides how far apart the repeats landed; the
    median with its range says both.
    """
    values = list(values)
    if not values:
        raise ValueError("no measurements")
    return statistics.median(values), min(values), max(values)


def median(values) -> float:
    return statistics.median(values)


def share(part: float, whole: float) -> float:
    """``part`` as a percentage of ``whole`` (0 when ``whole`` is 0)."""
    return 100.0 * part / whole if whole else 0.0


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_server(server: subprocess.Popen) -> None:
    """Stop a server started in a process group of its own, and all its workers."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def sql_literal(value) -> str | None:
    """A constant as SQL both backends read, or None for anything else."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return None


def fill_columns(model, given: dict[str, str]) -> tuple[list[str], list[str]]:
    """The columns and SQL expressions of an ``INSERT ... SELECT`` of ``model``
    rows from ``given`` (field name -> SQL). A NOT NULL column left out is filled
    with its field's default when that is a constant (the models grow: a new
    ``BooleanField(default=False)`` or blank text must not stop a benchmark);
    without one the run stops and says which column to add."""
    from django.db.models import NOT_PROVIDED, GeneratedField

    columns = {model._meta.get_field(name).column: sql for name, sql in given.items()}
    for field in model._meta.concrete_fields:
        if field.primary_key or isinstance(field, GeneratedField):
            continue
        if (
            field.column in columns
            or field.null
            or field.db_default is not NOT_PROVIDED
        ):
            continue
        literal = sql_literal(field.get_default())
        if literal is None:
            raise SystemExit(
                f"{model.__name__}.{field.name} is NOT NULL and not filled here: "
                "fill it in the benchmark"
            )
        columns[field.column] = literal
    return list(columns), list(columns.values())


# --- PostgreSQL, which most benchmarks need -------------------------------------------

# BENCH_PG_PORT points the benchmarks at another server port (the test of run_all
# uses one nothing listens on, to see a benchmark skip).
PG_HOST = "127.0.0.1"
PG_PORT = int(os.environ.get("BENCH_PG_PORT") or 5432)
PG_SERVER = f"postgres://postgres@{PG_HOST}:{PG_PORT}"
PG_ADMIN_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"


# --- migrated templates: one ``migrate`` for every benchmark of a run --------------

#: Set by bench/run_all.py: a migrated PostgreSQL database that scratch databases
#: are created from (``CREATE DATABASE … TEMPLATE``), and a migrated SQLite file
#: they are copied from. Each benchmark still runs ``migrate``, which then has
#: nothing to apply; run alone, it migrates from scratch.
PG_TEMPLATE_ENV = "BENCH_PG_TEMPLATE"
SQLITE_TEMPLATE_ENV = "BENCH_SQLITE_TEMPLATE"


def pg_create_database(name: str) -> str:
    """The statement that creates the scratch database ``name``: from the run's
    migrated template when there is one."""
    template = os.environ.get(PG_TEMPLATE_ENV)
    suffix = f' TEMPLATE "{template}"' if template else ""
    return f'CREATE DATABASE "{name}"{suffix}'


def sqlite_from_template(path: Path | str) -> bool:
    """Copy the run's migrated SQLite template to ``path``, if there is one."""
    import shutil

    template = os.environ.get(SQLITE_TEMPLATE_ENV)
    if not template or not Path(template).exists():
        return False
    shutil.copyfile(template, path)
    return True


def pg_admin(statement: str) -> None:
    """Run one statement on the server's ``postgres`` database (autocommit)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


def pg_unreachable() -> str | None:
    """Why the benchmarks' PostgreSQL server cannot be used, or None when it can."""
    import psycopg

    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=5).close()
    except psycopg.Error as exc:
        return f"cannot reach {PG_ADMIN_URL}: {str(exc).strip().splitlines()[0]}"
    return None


# --- targets: one way to report them ------------------------------------------------

# When set, every target, skip and problem is also appended to this file as one JSON
# line, which is how bench/run_all.py collects them from its child processes.
RESULTS_ENV = "BENCH_RESULTS"
PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


def record(bench: str, label: str, figure: str, wanted: str, status: str) -> None:
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    line = {
        "bench": bench,
        "label": label,
        "figure": figure,
        "wanted": wanted,
        "status": status,
    }
    # Appended at once, not at the end: a run that dies later keeps what it judged.
    with open(path, "a", encoding="utf-8") as results:
        results.write(json.dumps(line, ensure_ascii=False) + "\n")


class Report:
    """A benchmark's figures and targets, printed as one table at the end.

    ``figure()`` rows only inform; ``target()`` rows are judged, ``skip()`` rows say
    what could not be judged, ``problem()`` is a failure of the run itself (a request
    that failed, a wrong header). ``finish()`` prints the table and the ``FAIL:``
    lines and returns the exit status: 1 for a problem, or for a missed target
    unless ``no_targets``.
    """

    def __init__(self, bench: str, *, no_targets: bool = False):
        self.bench = bench
        self.no_targets = no_targets
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.problems: list[str] = []

    def figure(self, label: str, figure: str, note: str = "") -> None:
        self.rows.append((label, figure, "", "", note))

    def target(
        self, label: str, figure: str, wanted: str, passed: bool, note: str = ""
    ) -> bool:
        status = PASS if passed else FAIL
        self.rows.append((label, figure, wanted, status, note))
        record(self.bench, label, figure, wanted, status)
        return passed

    def skip(self, label: str, reason: str) -> None:
        self.rows.append((label, "-", "", SKIP, reason))
        record(self.bench, label, "-", reason, SKIP)

    def problem(self, message: str) -> None:
        self.problems.append(message)
        record(self.bench, "run", message, "no failure", FAIL)

    @property
    def missed(self) -> list[str]:
        return [row[0] for row in self.rows if row[3] == FAIL]

    def finish(self) -> int:
        if self.rows:
            print()
            print_table(("figure", "value", "target", "", ""), self.rows)
        print(f"\n{os.cpu_count()} CPUs; {load_average()}")
        for problem in self.problems:
            print(f"FAIL: {problem}")
        if self.missed:
            suffix = " (ignored: --no-targets)" if self.no_targets else ""
            print(f"FAIL: targets missed: {'; '.join(self.missed)}{suffix}")
        return 1 if self.problems or (self.missed and not self.no_targets) else 0
