"""Does ``load_demo --scale`` give the article's figures, and in time?

Makes a scratch PostgreSQL database, migrates it, and runs ``manage.py load_demo
--scale S`` in a child process, timed. Then it reads the figures the public
statistics page shows (``tracking.statistics.figures.Report``) in this process and
compares each with the article's, times ``S``: calls, the busiest day, accepted and
completed requests (in all, in the first two years, in the third year),
satisfaction, and the unfinished efficiency complaints a year ago and now. One
table: figure, article, loaded, difference.

**Targets**: every figure within 2 % of the article's (the busiest day exactly
round(1,809 × S), satisfaction above 98 %); the load under 10 minutes. The exit
status is 1 when one is missed (not with ``--no-targets``) or the run fails.

Usage::

    python bench/demo_scale.py [--scale 1.0] [--quick] [--no-targets] [--keep]

``--quick``: scale 0.05 (39,000 calls, about a minute). The database is
``newsplus_bench_demo`` at 127.0.0.1:5432 (user ``postgres``), created and dropped
by the script (``--keep`` keeps it). ``DATABASE_URL``, ``CACHE_URL``,
``CELERY_BROKER_URL`` and ``NEWSPLUS_VAR_DIR`` from the shell are ignored.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _common import (
    PG_ADMIN_URL,
    PG_SERVER,
    Report,
    load_average,
    pg_create_database,
    pg_unreachable,
    print_table,
    say,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
PG_DB = "newsplus_bench_demo"
PG_URL = f"{PG_SERVER}/{PG_DB}"
QUICK_SCALE = 0.05
TOLERANCE = 0.02
TARGET_LOAD_S = 600.0

# The article's figures (the seeds' table): label, value.
CALLS, BUSIEST = 780_000, 1_809
ACCEPTED, COMPLETED = 280_000, 270_000
EARLY = (140_000, 138_000)  # the first two years together, accepted / completed
THIRD = (138_000, 130_000)  # the third year alone
BACKLOG = (1_000, 200)  # unfinished efficiency complaints a year ago / now
SATISFACTION = 0.98


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="default 1.0")
    parser.add_argument(
        "--quick", action="store_true", help=f"scale {QUICK_SCALE:g} (a fast check)"
    )
    parser.add_argument("--no-targets", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    if args.quick:
        args.scale = QUICK_SCALE
    if not 0.01 <= args.scale <= 5:
        parser.error("--scale must be from 0.01 to 5")
    return args


def child_env(scratch: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings",
        "DATABASE_URL": PG_URL,
        "NEWSPLUS_VAR_DIR": str(scratch),
        "DJANGO_CACHE": "locmem",
        "DJANGO_DEBUG": "0",
    }
    for name in ("CACHE_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    return env


def manage(env, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def load(scale: float, scratch: Path) -> dict:
    env = child_env(scratch)
    started = time.perf_counter()
    manage(env, "migrate", "--no-input", "-v", "0")
    say(f"schema migrated in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    output = manage(env, "load_demo", "--scale", repr(scale))
    seconds = time.perf_counter() - started
    found = re.search(r"^Loaded history at scale .*$", output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"load_demo said nothing of the history:\n{output}")
    say(found[0])
    say(f"load_demo --scale {scale:g}: {seconds:.0f} s in all")
    return {"seconds": seconds, "line": found[0]}


def figures(scratch: Path) -> dict:
    """The statistics page's figures, read in this process."""
    os.environ.update(child_env(scratch))
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from tracking.statistics.figures import Report as Figures
    from tracking.statistics.periods import Period

    report = Figures()
    today = report.today
    # The article's third year: 2016-11-27 .. 2017-11-23, the 362 days to its date.
    third_start = today - timedelta(days=362)
    headline = report.headline()
    early = report.headline(
        Period(report.period.start, third_start - timedelta(days=1), "")
    )
    third = report.headline(Period(third_start, today, ""))
    backlog = report.backlog()
    return {
        "calls": headline.calls,
        "busiest": headline.busiest_day_calls,
        "busiest_day": headline.busiest_day,
        "accepted": headline.accepted,
        "completed": headline.completed,
        "early": (early.accepted, early.completed),
        "third": (third.accepted, third.completed),
        "satisfaction": headline.satisfaction.value or 0.0,
        "backlog": (backlog.year_ago, backlog.now),
        "since": report.period.start,
    }


def compare(scale: float, found: dict, loaded: dict, report: Report) -> None:
    rows = [
        ("calls answered", CALLS, found["calls"]),
        ("requests accepted", ACCEPTED, found["accepted"]),
        ("requests completed", COMPLETED, found["completed"]),
        ("first two years: accepted", EARLY[0], found["early"][0]),
        ("first two years: completed", EARLY[1], found["early"][1]),
        ("third year: accepted", THIRD[0], found["third"][0]),
        ("third year: completed", THIRD[1], found["third"][1]),
        (
            "unfinished efficiency complaints a year ago",
            BACKLOG[0],
            found["backlog"][0],
        ),
        ("unfinished efficiency complaints now", BACKLOG[1], found["backlog"][1]),
    ]
    table = []
    for label, article, value in rows:
        wanted = article * scale
        difference = (value - wanted) / wanted if wanted else 0.0
        table.append((label, f"{wanted:,.0f}", f"{value:,}", f"{difference:+.2%}"))
        report.target(
            label,
            f"{value:,}",
            f"{wanted:,.0f} ± {TOLERANCE:.0%}",
            abs(difference) <= TOLERANCE,
        )
    busiest = round(BUSIEST * scale)
    table.append(
        (
            f"busiest day ({found['busiest_day']})",
            f"{busiest:,}",
            f"{found['busiest']:,}",
            f"{found['busiest'] - busiest:+d}",
        )
    )
    report.target(
        "calls on the busiest day",
        f"{found['busiest']:,}",
        f"= {busiest:,}",
        found["busiest"] == busiest,
    )
    table.append(
        (
            "satisfaction",
            f"> {SATISFACTION:.0%}",
            f"{found['satisfaction']:.2%}",
            "",
        )
    )
    report.target(
        "satisfaction",
        f"{found['satisfaction']:.2%}",
        f"> {SATISFACTION:.0%}",
        found["satisfaction"] > SATISFACTION,
    )
    report.target(
        f"load_demo --scale {scale:g}",
        f"{loaded['seconds']:.0f} s",
        f"< {TARGET_LOAD_S:.0f} s",
        loaded["seconds"] < TARGET_LOAD_S,
    )
    print()
    print(f"Since {found['since']}, at scale {scale:g}:")
    print_table(("figure", "article × scale", "loaded", "difference"), table)


def main(argv=None) -> int:
    args = parse_args(argv)
    import psycopg

    started = time.perf_counter()
    print(f"{os.cpu_count()} CPUs; {load_average()}", flush=True)
    report = Report("demo_scale", no_targets=args.no_targets)
    unreachable = pg_unreachable()
    if unreachable:
        print(f"skipped: {unreachable}")
        report.skip("all targets", "PostgreSQL unreachable")
        return report.finish()
    admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    scratch = Path(tempfile.mkdtemp(prefix="bench_demo_scale_"))
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        admin.execute(pg_create_database(PG_DB))
        try:
            loaded = load(args.scale, scratch)
            found = figures(scratch)
            compare(args.scale, found, loaded, report)
        except RuntimeError as exc:
            report.problem(str(exc).splitlines()[0])
            print(exc)
        finally:
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
            if not args.keep:
                admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nTotal runtime {time.perf_counter() - started:.0f} s")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
