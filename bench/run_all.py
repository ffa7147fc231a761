"""Run every benchmark under bench/ and print one table of their targets.

Each benchmark (``bench/<name>.py``; not ``_*.py`` nor this script) runs as a child
process, ``python bench/<name>.py [--quick]``, one after the other, with its output
in ``var/bench/<name>.log``. A benchmark reports every target it judges through
``_common.Report``, which appends one JSON line per target to the file named by
``BENCH_RESULTS``; this script gives each child a file of its own
(``var/bench/<name>.results.jsonl``), then prints one table: benchmark, target,
figure, wanted, PASS / FAIL / SKIP (SKIP: PostgreSQL was unreachable). A benchmark
that exits non-zero without a failed target, or reports nothing, gets a FAIL row
with its exit status and its log.

The exit status is 1 when a target failed or a benchmark failed.

Usage::

    python bench/run_all.py [--quick] [--only statistics,intake] [--timeout 1800]
        [--bench-dir bench] [--log-dir var/bench] [--no-templates]

Before the benchmarks it migrates one SQLite file and one PostgreSQL database
(``bench_template``), side by side, and the benchmarks create their scratch
databases from them, so the run pays for ``migrate`` once instead of seven times
(``--no-templates``: every benchmark migrates from scratch, as when run alone).

``--quick`` passes ``--quick`` to every benchmark (reduced sizes: about 7½
minutes in all on 2 idle cores, ``demo_scale`` included, which then loads the
demo history at scale 0.05 instead of 1.0). ``--timeout`` stops a benchmark after that
many seconds (SIGINT first, so that it drops its scratch databases; default 1800
with ``--quick``, none without).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    FAIL,
    PASS,
    PG_SERVER,
    PG_TEMPLATE_ENV,
    RESULTS_ENV,
    SKIP,
    SQLITE_TEMPLATE_ENV,
    load_average,
    pg_admin,
    pg_unreachable,
    print_table,
)

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
QUICK_TIMEOUT = 1800.0
# How long a stopped benchmark gets to clean up after each signal.
GRACE = {signal.SIGINT: 60, signal.SIGTERM: 20}
PG_TEMPLATE = "bench_template"
# What the templates' migrate must not take from the shell.
OVERRIDDEN = ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL", "NEWSPLUS_VAR_DIR")


def discover(directory: Path) -> list[str]:
    return sorted(
        path.stem
        for path in directory.glob("*.py")
        if not path.name.startswith("_") and path.resolve() != Path(__file__).resolve()
    )


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes")
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument(
        "--timeout", type=float, help="seconds a benchmark may run (0: no limit)"
    )
    parser.add_argument(
        "--bench-dir", type=Path, default=BENCH_DIR, help="where the benchmarks are"
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=PROJECT_DIR / "var" / "bench",
        help="logs and results",
    )
    parser.add_argument(
        "--no-templates",
        action="store_true",
        help="let every benchmark migrate its databases from scratch",
    )
    args = parser.parse_args(argv)
    found = discover(args.bench_dir)
    if args.only:
        args.names = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = sorted(set(args.names) - set(found))
        if unknown:
            parser.error(
                f"no such benchmark: {', '.join(unknown)} (known: {', '.join(found)})"
            )
    else:
        args.names = found
    if not args.names:
        parser.error(f"no benchmark in {args.bench_dir}")
    if args.timeout is None:
        args.timeout = QUICK_TIMEOUT if args.quick else 0
    if args.timeout < 0:
        parser.error("--timeout must not be negative")
    return args


def shown(path: Path) -> str:
    """A path as short as it can be said: relative to the project when inside."""
    try:
        return str(path.resolve().relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


def stop(child: subprocess.Popen) -> None:
    """SIGINT first (a benchmark cleans up as after Ctrl-C), then harder."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            os.killpg(child.pid, sig)
            child.wait(timeout=GRACE[sig])
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def build_templates(args) -> dict[str, str]:
    """Migrate once for the whole run, SQLite and PostgreSQL side by side: the
    benchmarks create their scratch databases from these (``_common``), so each
    ``migrate`` of theirs has nothing left to apply. The environment that names
    the templates that could be built."""
    scratch = args.log_dir / "template"
    scratch.mkdir(parents=True, exist_ok=True)
    sqlite_path = args.log_dir / "template.sqlite3"
    sqlite_path.unlink(missing_ok=True)
    base = {k: v for k, v in os.environ.items() if k not in OVERRIDDEN}
    base.update(NEWSPLUS_VAR_DIR=str(scratch), DJANGO_CACHE="locmem")
    wanted = {SQLITE_TEMPLATE_ENV: (f"sqlite:///{sqlite_path}", str(sqlite_path))}
    if pg_unreachable() is None:
        pg_admin(f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{PG_TEMPLATE}"')
        wanted[PG_TEMPLATE_ENV] = (f"{PG_SERVER}/{PG_TEMPLATE}", PG_TEMPLATE)
    started = time.perf_counter()
    children = {
        name: subprocess.Popen(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=PROJECT_DIR,
            env={**base, "DATABASE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (url, _value) in wanted.items()
    }
    built = {}
    for name, child in children.items():
        _out, err = child.communicate()
        if child.returncode == 0:
            built[name] = wanted[name][1]
        else:
            print(f"  {name}: migrate failed, benchmarks migrate on their own")
            print("  " + err.strip()[-2000:])
    print(
        f"templates migrated in {time.perf_counter() - started:.0f} s: "
        + (", ".join(f"{k}={v}" for k, v in built.items()) or "none"),
        flush=True,
    )
    return built


def drop_templates(built: dict[str, str]) -> None:
    if PG_TEMPLATE_ENV in built:
        pg_admin(f'DROP DATABASE IF EXISTS "{built[PG_TEMPLATE_ENV]}" WITH (FORCE)')
    if SQLITE_TEMPLATE_ENV in built:
        Path(built[SQLITE_TEMPLATE_ENV]).unlink(missing_ok=True)


def run_one(name: str, args, templates: dict[str, str] | None = None) -> dict:
    """Runs one benchmark; its rows for the table and how it ended."""
    log = args.log_dir / f"{name}.log"
    results = args.log_dir / f"{name}.results.jsonl"
    results.unlink(missing_ok=True)
    command = [sys.executable, str(args.bench_dir / f"{name}.py")]
    if args.quick:
        command.append("--quick")
    env = {**os.environ, **(templates or {})}
    env.update({RESULTS_ENV: str(results), "PYTHONUNBUFFERED": "1"})
    started = time.perf_counter()
    timed_out = False
    with open(log, "w", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        # A session of its own: stopping it reaches the processes it started too.
        child = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            status = child.wait(timeout=args.timeout or None)
        except subprocess.TimeoutExpired:
            timed_out = True
            stop(child)
            status = child.returncode
        except BaseException:
            stop(child)
            raise
    rows = []
    if results.exists():
        for line in results.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                rows.append(
                    (
                        name,
                        entry["label"],
                        entry["figure"],
                        entry["wanted"],
                        entry["status"],
                    )
                )
    failed = any(row[4] == FAIL for row in rows)
    if timed_out:
        ended = f"timed out after {args.timeout:g} s"
    elif status < 0:
        ended = f"killed by signal {-status}"
    else:
        ended = f"exit status {status}"
    if timed_out or (status != 0 and not failed) or not rows:
        what = "reported no target" if not rows and status == 0 else ended
        rows.append((name, "the run", what, "exit status 0", FAIL, shown(log)))
    return {
        "rows": rows,
        "ended": ended,
        "seconds": time.perf_counter() - started,
        "log": shown(log),
    }


def count(rows, status: str) -> int:
    return sum(1 for row in rows if row[4] == status)


def main(argv=None) -> int:
    args = parse_args(argv)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    mode = " --quick" if args.quick else ""
    print(
        f"{len(args.names)} benchmarks{mode}: {', '.join(args.names)}; "
        f"logs in {shown(args.log_dir)}/; {os.cpu_count()} CPUs; {load_average()}",
        flush=True,
    )
    rows = []
    templates = {} if args.no_templates else build_templates(args)
    try:
        for number, name in enumerate(args.names, 1):
            print(f"[{number}/{len(args.names)}] {name} ...", end=" ", flush=True)
            done = run_one(name, args, templates)
            rows += done["rows"]
            tally = ", ".join(
                f"{count(done['rows'], s)} {s}"
                for s in (PASS, FAIL, SKIP)
                if count(done["rows"], s)
            )
            print(
                f"{tally} in {done['seconds']:.0f} s ({done['ended']}; {done['log']})",
                flush=True,
            )
    finally:
        drop_templates(templates)
    print()
    print_table(
        ("benchmark", "target", "figure", "wanted", "result", ""),
        [row + ("",) * (6 - len(row)) for row in rows],
    )
    failed = count(rows, FAIL)
    print(
        f"\n{len(rows)} rows: {count(rows, PASS)} PASS, {failed} FAIL, "
        f"{count(rows, SKIP)} SKIP; total wall time "
        f"{time.perf_counter() - started:.0f} s; {load_average()}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
