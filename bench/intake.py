"""How many Open311 requests per second can the hotline take in?

For each backend (SQLite, and PostgreSQL when it answers at 127.0.0.1:5432) it
builds a scratch site (``migrate``, six categories, one Open311 client key) and
measures, side by side in one run:

1. **Queries per POST**: a child process posts ``--sample`` requests through
   Django's test client under ``CaptureQueriesContext`` (after a warm-up post)
   and reports the median and the maximum, with the statements of one post by
   shape when over the target.
2. **The bare ORM**: the same child inserts ``--sample`` cases straight through
   the ORM in one process, each in its own transaction with exactly the rows a
   POST writes (a citizen, the reference counter, the case, its ``register``
   event), and reports cases per second.
3. **Requests per second under gunicorn**: ``gunicorn cms.wsgi`` with
   ``--workers`` sync workers on a free loopback port; ``--connections`` client
   processes, one keep-alive connection each, post form-encoded requests in a
   closed loop for ``--duration`` seconds (after a warm-up of ``--warmup``
   seconds). Every response must be 201 with a ``service_request_id``; the run
   counts the cases in the database afterwards and checks that none is missing.
   Reported: requests per second, p50/p95/p99 latency, errors.

Then the figures against the targets (PostgreSQL):

- headroom = requests per second / the peak-hour rate of Beijing's 12345
  (about 65,000 contacts a day, the peak hour taken as 10 % of a day:
  6,500 / 3,600 s = 1.8 requests per second) **≥ 50×** (≈ 90 requests/s);
- **≤ 15** queries per POST;
- HTTP requests per second / bare-ORM cases per second **≥ 0.3**.

The exit status is 1 when a PostgreSQL target is missed or a run fails; SQLite's
figures are printed for comparison (one writer at a time, by design). Without a
PostgreSQL server the targets are reported as skipped.

Usage::

    python bench/intake.py [--duration 20] [--connections 8] [--workers 2]
        [--sample 200] [--backends sqlite,postgres] [--quick]

``--quick``: PostgreSQL only (unless ``--backends`` says otherwise), 8 s timed
after 2 s of warm-up, 100 posts counted (a fast check).

PostgreSQL runs use a scratch database ``bench_intake`` (dropped at the end) and
Redis database 8 (flushed) as the shared cache; SQLite runs use the embedded
default cache (diskcache) under the scratch directory. ``DATABASE_URL``,
``CACHE_URL``, ``CELERY_BROKER_URL`` and ``NEWSPLUS_VAR_DIR`` from the shell are
ignored. The per-key rate limit is raised for the run (it would stop a load test,
which is what it is for), and database connections persist
(``DATABASE_CONN_MAX_AGE=60``, as in production). About 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    PG_SERVER,
    Report,
    free_port,
    load_average,
    median,
    pg_admin,
    pg_create_database,
    pg_unreachable,
    say,
    stop_server,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_DB = "bench_intake"
REDIS_URL = "redis://127.0.0.1:6379/8"
ENDPOINT = "/open311/v2/requests.json"

BEIJING_CONTACTS_PER_DAY = 65_000
PEAK_HOUR_SHARE = 0.10
PEAK_RATE = BEIJING_CONTACTS_PER_DAY * PEAK_HOUR_SHARE / 3600
TARGET_HEADROOM = 50
TARGET_QUERIES = 15
TARGET_RATIO = 0.3

CATEGORIES = [
    ("traffic-signs", "交通设施", "交警支队"),
    ("road-repair", "道路建设", "住建局"),
    ("street-vending", "市容环境", "城管局"),
    ("water-supply", "供水服务", "水务集团"),
    ("wages", "劳动保障", "人社局"),
    ("market", "市场监管", "市场监管局"),
]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20, help="seconds timed")
    parser.add_argument("--warmup", type=float, default=3, help="seconds untimed")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--sample", type=int, default=200, help="posts counted")
    parser.add_argument(
        "--backends", help="sqlite, postgres or both (default: both; --quick: postgres)"
    )
    parser.add_argument("--no-targets", action="store_true")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="PostgreSQL only, 8 s timed, 2 s warm-up, 100 posts counted",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.sample = 8, 2, 100
    if args.backends is None:
        args.backends = "postgres" if args.quick else "sqlite,postgres"
    return args


# --- the request every client sends ------------------------------------------------


def form(key: str, n: int) -> bytes:
    code = CATEGORIES[n % len(CATEGORIES)][0]
    return urlencode(
        {
            "api_key": key,
            "service_code": code,
            "description": f"路口信号灯故障第{n}次报告，早高峰排队很长，请尽快修复。",
            "lat": f"{36.60 + (n % 1000) / 100000:.6f}",
            "long": f"{117.00 + (n % 997) / 100000:.6f}",
            "address_string": "花园大道与五湖路路口",
            "first_name": "建国",
            "last_name": "周",
            "phone": f"139{n % 100_000_000:08d}",
        }
    ).encode()


# --- children: one backend each, because Django reads DATABASE_URL once -------------


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()


def child_prepare() -> None:
    """Categories and a client key; prints the key as JSON."""
    django_setup()
    from tracking.models import ApiClient, Category, Department

    for code, name, department in CATEGORIES:
        dept, _ = Department.objects.get_or_create(name=department)
        Category.objects.update_or_create(
            service_code=code, defaults={"name": name, "default_department": dept}
        )
    _client, key = ApiClient.issue("bench")
    print(json.dumps({"key": key}))


def shape(sql: str) -> str:
    return re.sub(r"\b\d+\b|'[^']*'", "?", sql)[:140]


def child_count(key: str, sample: str) -> None:
    """Queries per POST through the whole stack (middleware included), and the
    bare ORM's cases per second; prints JSON."""
    django_setup()
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tracking.models import Case, CaseEvent, Category, Citizen
    from tracking.services import next_reference

    samples = int(sample)
    client = Client()
    counts, shapes = [], Counter()
    for n in range(samples + 1):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                ENDPOINT,
                form(key, 10_000_000 + n),
                content_type="application/x-www-form-urlencoded",
            )
        if response.status_code != 201:
            raise SystemExit(
                f"POST answered {response.status_code}: {response.content!r}"
            )
        if n == 0:
            continue  # warm-up: first-use lookups
        counts.append(len(queries))
        if n == 1:
            shapes.update(shape(q["sql"]) for q in queries.captured_queries)

    categories = list(Category.objects.all())
    started = time.perf_counter()
    for n in range(samples):
        now = timezone.now()
        with transaction.atomic():
            citizen = Citizen.objects.create(
                name="周建国", phone=f"138{n:08d}", created_at=now
            )
            case = Case.objects.create(
                reference=next_reference(now),
                kind="complaint",
                title="路口信号灯故障",
                description="路口信号灯故障，早高峰车辆排队很长，请尽快修复。",
                location_text="花园大道与五湖路路口",
                latitude="36.600000",
                longitude="117.000000",
                channel="open311",
                category=categories[n % len(categories)],
                department_id=categories[n % len(categories)].default_department_id,
                citizen=citizen,
                registered_at=now,
            )
            CaseEvent.objects.create(
                case=case, action="register", to_state="", created_at=now, public=True
            )
    orm_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "queries_median": median(counts),
                "queries_max": max(counts),
                "shapes": shapes.most_common(),
                "orm_rate": samples / orm_seconds,
                "cases": Case.objects.count(),
            }
        )
    )


def child_cases() -> None:
    django_setup()
    from tracking.models import Case

    print(json.dumps({"cases": Case.objects.filter(channel="open311").count()}))


# --- the parent ---------------------------------------------------------------------


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def environment(backend: str, scratch: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "CACHE_URL",
            "CELERY_BROKER_URL",
            "NEWSPLUS_VAR_DIR",
            "DJANGO_CACHE",
        }
    }
    env.update(
        DJANGO_SETTINGS_MODULE="cms.settings",
        NEWSPLUS_VAR_DIR=str(scratch),
        DJANGO_STATIC_ROOT=str(scratch / "static"),
        OPEN311_RATE_PER_KEY="1000000/m",
        # Persistent database connections, as docs/operations.md has production
        # run them: a new PostgreSQL connection per request costs more than the
        # request's own queries.
        DATABASE_CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(PROJECT_DIR),
    )
    if backend == "postgres":
        env.update(DATABASE_URL=f"{PG_SERVER}/{PG_DB}", CACHE_URL=REDIS_URL)
    else:
        env["DATABASE_URL"] = f"sqlite:///{scratch / 'db.sqlite3'}"
    return env


def run(env, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def run_child(env, name: str, *args: str) -> dict:
    out = run(env, __file__, "--child", name, *args)
    return json.loads(out.strip().splitlines()[-1])


def start_server(env, port: int, workers: int) -> subprocess.Popen:
    command = [
        str(BIN / "gunicorn"),
        "cms.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=PROJECT_DIR, env=env, start_new_session=True)


def wait_until_up(server, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/open311/v2/services.json")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port}")


def client(job: tuple) -> dict:
    """One keep-alive connection posting in a closed loop."""
    port, key, seconds, number, first = job
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    latencies, errors, created = [], Counter(), 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    deadline = started + seconds
    n = first + number * 1_000_000
    while time.perf_counter() < deadline:
        n += 1
        sent = time.perf_counter()
        try:
            connection.request("POST", ENDPOINT, form(key, n), headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            errors[type(error).__name__] += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append(time.perf_counter() - sent)
        if response.status == 201 and b"service_request_id" in body:
            created += 1
        else:
            errors[str(response.status)] += 1
        if response.will_close:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()
    return {
        "latencies": latencies,
        "errors": dict(errors),
        "created": created,
        "seconds": time.perf_counter() - started,
    }


def load(port: int, key: str, seconds: float, connections: int, first: int) -> dict:
    jobs = [(port, key, seconds, i, first) for i in range(connections)]
    with ProcessPoolExecutor(connections) as pool:
        results = list(pool.map(client, jobs))
    latencies = sorted(x for r in results for x in r["latencies"])
    errors = Counter()
    for r in results:
        errors.update(r["errors"])
    created = sum(r["created"] for r in results)
    seconds = max(r["seconds"] for r in results)

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "rps": created / seconds if seconds else 0.0,
        "created": created,
        "errors": dict(errors),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }


def bench_backend(backend: str, args) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix=f"bench-intake-{backend}-"))
    server = None
    try:
        if backend == "postgres":
            pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            pg_admin(pg_create_database(PG_DB))
            flush_redis()
        env = environment(backend, scratch)
        say(f"{backend}: migrate")
        run(env, "manage.py", "migrate", "--no-input", "-v", "0")
        key = run_child(env, "prepare")["key"]
        say(f"{backend}: queries per POST and the bare ORM ({args.sample} each)")
        counted = run_child(env, "count", key, str(args.sample))
        before = run_child(env, "cases")["cases"]
        port = free_port()
        server = start_server(env, port, args.workers)
        wait_until_up(server, port)
        say(f"{backend}: warm-up {args.warmup:.0f} s")
        warm = load(port, key, args.warmup, args.connections, 20_000_000)
        say(
            f"{backend}: {args.connections} connections for {args.duration:.0f} s "
            f"against {args.workers} gunicorn workers"
        )
        timed = load(port, key, args.duration, args.connections, 40_000_000)
        stop_server(server)
        server = None
        after = run_child(env, "cases")["cases"]
        stored = after - before
        expected = warm["created"] + timed["created"]
        return {
            "backend": backend,
            **counted,
            **timed,
            "stored_ok": stored == expected,
            "stored": stored,
            "expected": expected,
        }
    finally:
        if server is not None:
            stop_server(server)
        if backend == "postgres":
            try:
                pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            except Exception as error:  # noqa: BLE001 - report, do not hide the run
                say(f"could not drop {PG_DB}: {error}")
        shutil.rmtree(scratch, ignore_errors=True)


def summarize(results: list[dict], report: Report) -> None:
    print()
    print(f"Open311 POST {ENDPOINT} ({load_average()})")
    print(
        f"peak-hour rate of Beijing 12345: {BEIJING_CONTACTS_PER_DAY:,} contacts/day "
        f"x {PEAK_HOUR_SHARE:.0%} / 3600 s = {PEAK_RATE:.2f} requests/s"
    )
    header = (
        f"{'backend':<9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'errors':>6} {'queries':>8} {'ORM/s':>7} {'ratio':>6} {'headroom':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = r["rps"] / r["orm_rate"] if r["orm_rate"] else 0.0
        headroom = r["rps"] / PEAK_RATE
        errors = sum(r["errors"].values())
        r.update(ratio=ratio, headroom=headroom)
        print(
            f"{r['backend']:<9} {r['rps']:>7.1f} {r['p50_ms']:>7.1f} "
            f"{r['p95_ms']:>7.1f} {r['p99_ms']:>7.1f} {errors:>6} "
            f"{r['queries_median']:>4.0f}/{r['queries_max']:<3} "
            f"{r['orm_rate']:>7.1f} {ratio:>6.2f} {headroom:>8.1f}x"
        )
        if errors:
            print(f"  errors: {r['errors']}")
        if not r["stored_ok"]:
            report.problem(
                f"{r['backend']}: stored {r['stored']} cases for {r['expected']} "
                "created answers"
            )
        if r["queries_max"] > TARGET_QUERIES:
            print(f"  statements of one POST ({r['backend']}):")
            for sql, n in r["shapes"]:
                print(f"    {n} x {sql}")
    pg = next((r for r in results if r["backend"] == "postgres"), None)
    if pg is None:
        report.skip("PostgreSQL targets", "PostgreSQL did not run")
        return
    report.target(
        "PostgreSQL headroom over the peak hour",
        f"{pg['headroom']:.1f}x",
        f">= {TARGET_HEADROOM}x",
        pg["headroom"] >= TARGET_HEADROOM,
    )
    report.target(
        "PostgreSQL queries per POST (max)",
        str(pg["queries_max"]),
        f"<= {TARGET_QUERIES}",
        pg["queries_max"] <= TARGET_QUERIES,
    )
    report.target(
        "PostgreSQL req/s / bare-ORM cases/s",
        f"{pg['ratio']:.2f}",
        f">= {TARGET_RATIO}",
        pg["ratio"] >= TARGET_RATIO,
    )
    errors = sum(pg["errors"].values())
    report.target("PostgreSQL failed requests", str(errors), "0", not errors)


def main(argv=None) -> int:
    args = parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    report = Report("intake", no_targets=args.no_targets)
    results = []
    for backend in backends:
        unreachable = backend == "postgres" and pg_unreachable()
        if unreachable:
            say(f"PostgreSQL skipped: {unreachable}")
            continue
        try:
            results.append(bench_backend(backend, args))
        except Exception as error:  # noqa: BLE001 - one backend's failure is reported
            say(f"{backend} failed: {error}")
            report.problem(f"{backend}: {str(error).splitlines()[0]}")
    summarize(results, report)
    return report.finish()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        {
            "prepare": child_prepare,
            "count": child_count,
            "cases": child_cases,
        }[sys.argv[2]](*sys.argv[3:])
    else:
        sys.exit(main())
