"""How much does the page cache buy? Public pages through a real WSGI server.

Builds a scratch site in a temporary directory (SQLite, ``migrate``,
``collectstatic``, ``load_demo``; the Wuhu Road story with its full timeline, the
street-market story, published, with a follow-up, and a few more published
stories of escalated cases), writes the Wuhu Road story's HTML to a static file,
starts gunicorn on a free loopback port, and measures:

1. **SQL queries of one uncached story render**, in a child process with Django's
   test client and ``CaptureQueriesContext`` on the scratch database: the story is
   rendered once (warm), then counted on a second render with a query parameter
   the page cache does not know (``?_bench=``), which bypasses the cache.
2. **The cache store**: median time of a ``set`` (a page-sized value), a
   ``get``, and a ``get`` right after ``close()`` (Django closes every cache at
   the end of each request) on the embedded default store, empty and with about
   5,000 entries, in a child process with a cache directory of its own.
3. **Requests per second**, after a warm-up burst with ``workers x threads``
   concurrent clients (each request on a new connection, so that every worker
   renders every kind of page once), in ``--rounds`` rounds that interleave:

   - *uncached*: the story with a unique ``?_bench=<n>``; an unknown parameter
     bypasses the cache, so every request renders (no response may be a hit);
   - *cached*: the story's own URL after it has been seen as a hit; every
     response must be ``X-Page-Cache: hit``;
   - *static*: the same HTML as a file under ``/static/``, served by WhiteNoise.

   Each scenario reports the median and the range of its rounds; the ratios are
   computed from the medians.
4. **Whether a hit replays the headers of the miss**: one case change, then the
   story twice (a miss, then a hit), headers compared.
5. **Hit rate under case changes**: a child process extends the street-market
   case's deadline (``case_extend_deadline``, a real service call that fires
   ``case_changed`` and can be repeated for ever) 0, 1 and 10 times a second
   while the clients request that case's story on every other request and, in
   between, its follow-up, the listings (home, the Hot Tracking column, its RSS
   feed) and the other stories and their follow-ups. Hit rates are reported per
   group: a change to one case should leave the other stories cached.

Targets: uncached >= 5 % of static, cached >= 10 x uncached, cached >= 0.5 x
static, one uncached story render <= 10 SQL queries, and a hit carries the miss's
headers. The exit status is 1 when a target is missed (unless ``--no-targets``)
or when requests fail or get a wrong cache header.

Usage::

    python bench/public_pages.py [--duration 4] [--rounds 3] [--connections 4]
        [--workers 2] [--threads 4] [--warmup 5] [--rates 0,1,10]
        [--no-targets] [--keep] [--quick]

``--quick``: 2 rounds of 3 s, a warm-up of 3 s (a fast check).

The load generator is this script: ``--connections`` processes, each with one
keep-alive HTTP/1.1 connection, sending the next request when the last answer
is read (a closed loop). It shares the machine with the server, as production
load balancers do not, so the absolute figures are low; the ratios are the
point. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    Report,
    free_port,
    median,
    say,
    share,
    spread,
    sqlite_from_template,
    stop_server,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
BIN = Path(sys.executable).parent
TARGET_UNCACHED_VS_STATIC = 5.0  # percent
TARGET_CACHED_VS_UNCACHED = 10.0
TARGET_CACHED_VS_STATIC = 0.5
TARGET_QUERIES = 10
STATIC_NAME = "bench/story.html"
# A query parameter no public page knows: the page cache renders and never stores.
BYPASS = "_bench"
# The measured story: escalated, replied, called back, closed; the longest timeline.
MEASURED_CASE = "五湖路"
# The case that changes under load: supervised (awaiting its department), so its
# deadline can be extended again and again.
CHANGING_CASE = "小区门口占道经营"
EXTRA_STORIES = 4
STORE_ENTRIES = 4900
STORE_SAMPLES = 100
# Headers that differ between any two responses, or belong to the connection.
VOLATILE_HEADERS = {"date", "server", "connection", "keep-alive", "x-page-cache"}
# Settings the bench decides, whatever the calling shell has exported.
OVERRIDDEN = (
    "DATABASE_URL",
    "CACHE_URL",
    "CELERY_BROKER_URL",
    "DJANGO_DEBUG",
    "DJANGO_STATIC_ROOT",
    "DJANGO_MEDIA_ROOT",
    "DJANGO_SETTINGS_MODULE",
    "NEWSPLUS_VAR_DIR",
    "DJANGO_CACHE",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration",
        type=float,
        default=4.0,
        help="seconds per scenario and round (the change streams run twice as long)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of uncached, cached, static"
    )
    parser.add_argument(
        "--connections", type=int, default=4, help="concurrent client connections"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per gunicorn worker (gthread)"
    )
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds of the warm-up burst"
    )
    parser.add_argument(
        "--rates", default="0,1,10", help="case changes per second, comma-separated"
    )
    parser.add_argument(
        "--no-targets",
        action="store_true",
        help="report missed targets but do not fail the exit status for them",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch directory"
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 rounds of 3 s, a warm-up of 3 s"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup = 3.0, 2, 3.0
    try:
        args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    except ValueError:
        parser.error("--rates takes numbers such as 0,1,10")
    if (
        args.duration <= 0
        or args.rounds < 1
        or args.connections < 1
        or args.workers < 1
        or args.threads < 1
        or args.warmup < 0
        or any(r < 0 for r in args.rates)
    ):
        parser.error("durations, rounds, connections, workers, threads must be > 0")
    return args


# --- child processes on the scratch site -----------------------------------------
#
# Each runs this file as ``python bench/public_pages.py _child <name> ...`` with the
# scratch site's environment, so it reads the same database and the same cache as
# the server.


def django_setup() -> None:
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()


def child_prepare(static_name: str) -> None:
    """Publish the stories the bench requests; print their URLs as JSON."""
    django_setup()
    from datetime import timedelta

    from django.conf import settings
    from django.test import Client
    from django.utils import timezone
    from wagtail.models import Site

    from newsroom.models import FollowUpPage, HotTrackingPage
    from newsroom.services import hot_tracking_column, story_create_for_case
    from tracking import services as svc
    from tracking.models import Case, Category

    def published(case):
        story = story_create_for_case(case=case)
        if not story.live:
            story.save_revision().publish()
            story.refresh_from_db()
        return story

    measured_case = Case.objects.get(title__startswith=MEASURED_CASE)
    measured = published(measured_case)
    changing = published(Case.objects.get(title__startswith=CHANGING_CASE))
    follow_up = FollowUpPage.objects.child_of(changing).first()
    if follow_up is None:
        follow_up = FollowUpPage(
            title="追踪：夜市占道经营仍未整治",
            slug="follow-up",
            standfirst="本报记者再次来到幸福小区南门。",
        )
        changing.add_child(instance=follow_up)
        follow_up.save_revision().publish()

    # More stories, so that a change to one case has others to leave alone.
    category = Category.objects.filter(escalates=True).order_by("pk").first()
    now = timezone.now()
    for n in range(1, EXTRA_STORIES + 1):
        title = f"路口信号灯故障第{n}次反映无人处理"
        if Case.objects.filter(title=title).exists():
            continue
        at = now - timedelta(days=30)
        case = svc.case_register(
            kind="complaint",
            title=title,
            description=f"光明路第{n}个路口的信号灯连续多日闪黄灯，早晚高峰车辆抢行。",
            category=category,
            is_efficiency=True,
            location_text=f"光明路第{n}个路口",
            now=at,
        )
        case = svc.case_accept(case=case, user=None, now=at + timedelta(hours=1))
        case = svc.case_dispatch(
            case=case,
            user=None,
            department=category.default_department,
            now=at + timedelta(hours=2),
        )
        case = svc.case_escalate(case=case, user=None, now=now)
        published(case)

    path = measured.get_url()
    response = Client(HTTP_HOST="127.0.0.1").get(path)
    assert response.status_code == 200, response.status_code
    target = Path(settings.STATIC_ROOT) / static_name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(response.content)

    column = hot_tracking_column()
    others = []
    for story in HotTrackingPage.objects.live().exclude(pk=changing.pk).order_by("pk"):
        others.append(story.get_url())
        others += [p.get_url() for p in FollowUpPage.objects.live().child_of(story)]
    print(
        json.dumps(
            {
                "path": path,
                "bytes": len(response.content),
                "events": measured_case.events.filter(public=True).count(),
                "site": Site.objects.get(is_default_site=True).hostname,
                "changing": {
                    "case": changing.case_id,
                    "story": changing.get_url(),
                    "follow_up": follow_up.get_url(),
                },
                "listings": [
                    Site.objects.get(is_default_site=True).root_page.get_url(),
                    column.get_url(),
                    column.get_url()
                    + column.reverse_subpage("feed", kwargs={"kind": "rss"}),
                ],
                "others": others,
            }
        )
    )


def child_queries(pages_json: str) -> None:
    """SQL queries of one warm render of each page, bypassing the page cache."""
    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    result = {}
    for label, path in json.loads(pages_json):
        client.get(path, {BYPASS: "warm"})
        with CaptureQueriesContext(connection) as render:
            response = client.get(path, {BYPASS: "count"})
        # Read now: the next request's request_started signal clears the log.
        sql = [q["sql"] for q in render.captured_queries]
        # The same URL twice without the parameter: the second answer is a hit.
        client.get(path)
        with CaptureQueriesContext(connection) as hit:
            hit_response = client.get(path)
        result[label] = {
            "status": response.status_code,
            "queries": len(sql),
            "sql": sql,
            "marker": response.headers.get("X-Page-Cache", "none"),
            "hit_queries": len(hit.captured_queries),
            "hit_marker": hit_response.headers.get("X-Page-Cache", "none"),
        }
    print(json.dumps(result))


def child_store(value_file: str, entries: str, samples: str) -> None:
    """Median set and get time of the default cache, empty and with ``entries``."""
    django_setup()
    from django.core.cache import cache, caches

    page = (Path(value_file).read_bytes(), "text/html; charset=utf-8")
    small = (b"<p>filler</p>", "text/html; charset=utf-8")
    rows = []
    for present in (0, int(entries)):
        cache.clear()
        started = time.perf_counter()
        for i in range(present):
            cache.set(f"newsroom:bench:fill:{i}", small, 3600)
        filled = time.perf_counter() - started
        sets, gets = [], []
        keys = [f"newsroom:bench:{present}:{i}" for i in range(int(samples))]
        for key in keys:
            started = time.perf_counter_ns()
            cache.set(key, page, 3600)
            sets.append(time.perf_counter_ns() - started)
        for key in keys:
            started = time.perf_counter_ns()
            found = cache.get(key)
            gets.append(time.perf_counter_ns() - started)
            assert found is not None, f"{key} was not kept"
        # Django closes every cache when a request finishes (close_caches): the
        # first get of the next request pays for whatever close() let go.
        reopened = []
        for key in keys:
            cache.close()
            started = time.perf_counter_ns()
            cache.get(key)
            reopened.append(time.perf_counter_ns() - started)
        rows.append(
            {
                "present": present,
                "fill_s": filled,
                "set_us": median(sets) / 1000,
                "get_us": median(gets) / 1000,
                "reopened_us": median(reopened) / 1000,
            }
        )
    cache.clear()
    backend = type(caches["default"])
    print(
        json.dumps(
            {
                "backend": f"{backend.__module__}.{backend.__qualname__}",
                "bytes": len(page[0]),
                "rows": rows,
            }
        )
    )


def child_changes(case_id: str) -> None:
    """Change a case on command: ``once``, or ``run <per second> <seconds>``."""
    django_setup()
    from tracking.services import case_extend_deadline

    def change() -> None:
        case_extend_deadline(
            case=int(case_id),
            user=None,
            working_days=1,
            reason="基准测试：延长办理期限",
        )

    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        rate, seconds = (1.0, 0.0) if words[0] == "once" else map(float, words[1:3])
        started = time.perf_counter()
        took, errors, last_error, n = [], 0, "", 0
        while n == 0 or started + n / rate < started + seconds:
            pause = started + n / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            begun = time.perf_counter()
            try:
                change()
            except Exception as exc:  # reported to the parent, which fails the run
                errors += 1
                last_error = repr(exc)
            took.append(time.perf_counter() - begun)
            n += 1
        print(
            json.dumps(
                {
                    "changes": n - errors,
                    "errors": errors,
                    "error": last_error,
                    "seconds": time.perf_counter() - started,
                    "ms": 1000 * median(took),
                }
            ),
            flush=True,
        )


CHILDREN = {
    "prepare": child_prepare,
    "queries": child_queries,
    "store": child_store,
    "changes": child_changes,
}


# --- the scratch site ----------------------------------------------------------------


def environment(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OVERRIDDEN}
    env.update(
        DJANGO_SETTINGS_MODULE="cms.settings",
        NEWSPLUS_VAR_DIR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(var_dir / "static"),
        DJANGO_MEDIA_ROOT=str(var_dir / "media"),
        DJANGO_DEBUG="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=env,
        text=True,
        capture_output=True,
    )
    if done.returncode:
        sys.stderr.write(done.stderr[-4000:])
        raise RuntimeError(f"{' '.join(args[:3])} exited with {done.returncode}")
    return done.stdout


def run_child(env: dict[str, str], name: str, *args: str) -> dict:
    out = run(env, str(SCRIPT), "_child", name, *args)
    return json.loads(out.strip().splitlines()[-1])


def build_site(env: dict[str, str]) -> dict:
    started = time.perf_counter()
    sqlite_from_template(env["DATABASE_URL"].removeprefix("sqlite:///"))
    run(env, "manage.py", "migrate", "--no-input", "-v", "0")
    run(env, "manage.py", "collectstatic", "--no-input", "-v", "0")
    # The hand-made demo only: the history's cases reuse its titles and places.
    run(env, "manage.py", "load_demo", "--scale", "0")
    site = run_child(env, "prepare", STATIC_NAME)
    say(
        f"scratch site ready in {time.perf_counter() - started:.0f} s: "
        f"{site['path']} ({site['bytes']} bytes, {site['events']} public events); "
        f"{len(site['others']) + 2} other story pages"
    )
    return site


class Changer:
    """The child process that changes one case, through the services, on command."""

    def __init__(self, env: dict[str, str], case_id: int, log: Path):
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "_child", "changes", str(case_id)],
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
        )
        if self.process.stdout.readline().strip() != "ready":
            self.fail()

    def fail(self):
        tail = self.log.read_text()[-3000:] if self.log.exists() else ""
        raise RuntimeError(f"the case-changing process failed:\n{tail}")

    def send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def result(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            self.fail()
        return json.loads(line)

    def once(self) -> dict:
        self.send("once")
        return self.result()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- the server ----------------------------------------------------------------------


def start_server(env, port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [
        str(BIN / "gunicorn"),
        "cms.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    # Its own process group, so that stopping it stops every worker.
    return subprocess.Popen(command, cwd=PROJECT_DIR, env=env, start_new_session=True)


def wait_until_up(server: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            status, _headers, _body = fetch(port, "/static/" + STATIC_NAME)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port} in {timeout:.0f} s")


def fetch(port: int, path: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a connection of its own."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


# --- the load generator -----------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    # (group, X-Page-Cache or "none") -> responses
    cache: Counter = field(default_factory=Counter)
    sizes: set[int] = field(default_factory=set)
    rps: float = 0.0

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.seconds = max(self.seconds, other.seconds)
        self.errors += other.errors
        self.cache.update(other.cache)
        self.sizes |= other.sizes
        self.rps += other.requests / other.seconds if other.seconds else 0.0

    def markers(self, group: str | None = None) -> dict[str, int]:
        counts = Counter()
        for (where, marker), n in self.cache.items():
            if group is None or where == group:
                counts[marker] += n
        return dict(counts)

    def hit_rate(self, group: str | None = None) -> float:
        counts = self.markers(group)
        return share(counts.get("hit", 0), sum(counts.values()))


def client(job: tuple) -> Tally:
    """One keep-alive connection in a closed loop for ``duration`` seconds."""
    port, urls, unique, duration, number = job
    tally = Tally()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    deadline = started + duration
    sent = 0
    while time.perf_counter() < deadline:
        # Connections start at different points of the list (even ones, so that a
        # list alternating two kinds of URL stays alternating).
        group, path = urls[(2 * number + sent) % len(urls)]
        sent += 1
        target = f"{path}?{BYPASS}={number}-{sent}" if unique else path
        try:
            connection.request("GET", target)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            tally.errors += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        tally.requests += 1
        if response.status != 200:
            tally.errors += 1
        tally.cache[group, response.getheader("X-Page-Cache", "none")] += 1
        tally.sizes.add(len(body))
        if response.will_close:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    tally.seconds = time.perf_counter() - started
    connection.close()
    return tally


def measure(pool, port: int, urls, *, unique: bool, duration: float, args) -> Tally:
    jobs = [(port, urls, unique, duration, n) for n in range(args.connections)]
    total = Tally()
    for tally in pool.map(client, jobs):
        total.add(tally)
    return total


def burst(port: int, paths: list[str], seconds: float, width: int) -> tuple[int, int]:
    """``width`` clients for ``seconds``, a new connection per request, so that
    gunicorn hands requests to every worker and thread: each of them imports,
    compiles templates and opens files before the timing starts."""
    deadline = time.monotonic() + seconds

    def loop(number: int) -> tuple[int, int]:
        done = errors = 0
        while time.monotonic() < deadline:
            try:
                path = paths[(number + done) % len(paths)]
                status, _headers, _body = fetch(port, path)
                errors += status != 200
            except (OSError, http.client.HTTPException):
                errors += 1
            done += 1
        return done, errors

    with ThreadPoolExecutor(width) as threads:
        results = list(threads.map(loop, range(width)))
    return sum(r[0] for r in results), sum(r[1] for r in results)


def warm_until_hit(port: int, path: str, tries: int = 50) -> bool:
    for _ in range(tries):
        _status, headers, _body = fetch(port, path)
        if headers.get("X-Page-Cache") == "hit":
            return True
    return False


# --- the run ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-public-pages-"))
    server = changer = None
    try:
        env = environment(scratch)
        say(f"building the scratch site in {scratch}")
        site = build_site(env)
        report = Report("public_pages", no_targets=args.no_targets)
        count_queries(env, site, report)
        store_figures(env, scratch, report)
        port = free_port()
        say(
            f"gunicorn on 127.0.0.1:{port}: {args.workers} workers x "
            f"{args.threads} threads (gthread); {args.connections} client "
            f"connections; {args.rounds} rounds of {args.duration:g} s per scenario"
        )
        server = start_server(env, port, args.workers, args.threads)
        wait_until_up(server, port)
        changer = Changer(env, site["changing"]["case"], scratch / "changes.log")
        with multiprocessing.Pool(args.connections) as pool:
            benchmark(pool, port, site, args, report)
            compare_headers(port, site, changer, report)
            change_streams(pool, port, site, changer, args, report)
        return report.finish()
    finally:
        if changer is not None:
            changer.close()
        if server is not None:
            stop_server(server)
        if args.keep:
            say(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def count_queries(env: dict[str, str], site: dict, report: Report) -> None:
    pages = [
        ("story", site["path"]),
        ("home", site["listings"][0]),
        ("column", site["listings"][1]),
        ("feed", site["listings"][2]),
    ]
    counts = run_child(env, "queries", json.dumps(pages))
    say(
        f"SQL queries per render, warm, bypassing the cache with ?{BYPASS}= "
        "(then of a hit)"
    )
    for label, row in counts.items():
        print(
            f"  {label:<8} {row['queries']:4d} queries  (status {row['status']}, "
            f"X-Page-Cache {row['marker']}); hit: {row['hit_queries']} queries "
            f"(X-Page-Cache {row['hit_marker']})"
        )
        if row["status"] != 200:
            report.problem(f"{label} answered {row['status']}")
        if row["marker"] == "hit":
            report.problem(f"{label}: ?{BYPASS}= was answered from the cache")
    story = counts["story"]
    if story["queries"] > TARGET_QUERIES:
        shapes = Counter(sql_shape(sql) for sql in story["sql"])
        print("  story render, statements by shape:")
        for shape, n in shapes.most_common(12):
            print(f"    {n:3d} x {shape}")
    report.target(
        "story render SQL queries",
        str(story["queries"]),
        f"<= {TARGET_QUERIES}",
        story["queries"] <= TARGET_QUERIES,
    )


def sql_shape(sql: str) -> str:
    """A statement without its column list and literals: what a render repeats."""
    sql = re.sub(r"'[^']*'|\b\d+\b", "?", sql)
    sql = re.sub(r"\(\?(, \?)+\)", "(?, ...)", sql)
    verb, _, rest = sql.partition(" FROM ")
    return (verb.split(" ", 1)[0] + " ... FROM " + rest if rest else sql)[:120]


def store_figures(env: dict[str, str], scratch: Path, report: Report) -> None:
    # A cache directory of its own: the server's cache stays as the site left it.
    store_env = {**env, "NEWSPLUS_VAR_DIR": str(scratch / "store")}
    figures = run_child(
        store_env,
        "store",
        str(scratch / "static" / STATIC_NAME),
        str(STORE_ENTRIES),
        str(STORE_SAMPLES),
    )
    say(
        f"cache store {figures['backend']}: median of {STORE_SAMPLES} sets of a "
        f"{figures['bytes']}-byte page, then {STORE_SAMPLES} gets, then "
        f"{STORE_SAMPLES} gets each after close() (as after every request)"
    )
    print("  entries present    set µs    get µs    get after close µs    (filled in)")
    for row in figures["rows"]:
        print(
            f"  {row['present']:15d} {row['set_us']:9.0f} {row['get_us']:9.0f}"
            f" {row['reopened_us']:21.0f}    ({row['fill_s']:.1f} s)"
        )


SCENARIOS = ("uncached", "cached", "static")
# The X-Page-Cache values a scenario accepts ("none": no header). An unknown query
# parameter bypasses the cache (no header); an older cache may still say "miss".
EXPECTED = {"uncached": {"none", "miss"}, "cached": {"hit"}, "static": {"none"}}


def benchmark(pool, port: int, site: dict, args, report: Report) -> None:
    path, static = site["path"], "/static/" + STATIC_NAME
    status, _headers, page = fetch(port, path)
    _status, _headers, file = fetch(port, static)
    if status != 200:
        report.problem(f"the story answered {status}")
    elif page != file:
        print(
            f"  note: the page ({len(page)} bytes) differs from the static file "
            f"({len(file)} bytes), written from the first render"
        )
    mix = [
        site["changing"]["story"],
        site["changing"]["follow_up"],
        *site["listings"],
        *site["others"],
    ]
    width = args.workers * args.threads
    requests, errors = burst(
        port, [f"{path}?{BYPASS}=warm", path, static, *mix], args.warmup, width
    )
    say(
        f"warm-up: {requests} requests in {args.warmup:g} s from {width} clients "
        f"({errors} errors)"
    )
    urls = {"uncached": [("story", path)], "cached": [("story", path)]}
    urls["static"] = [("static", static)]
    rps = {name: [] for name in SCENARIOS}
    for number in range(args.rounds):
        shift = number % len(SCENARIOS)
        for name in SCENARIOS[shift:] + SCENARIOS[:shift]:
            if name == "cached" and not warm_until_hit(port, path):
                report.problem(f"{path} is never served from the page cache")
            tally = measure(
                pool,
                port,
                urls[name],
                unique=name == "uncached",
                duration=args.duration,
                args=args,
            )
            rps[name].append(tally.rps)
            markers = tally.markers()
            wrong = sum(n for m, n in markers.items() if m not in EXPECTED[name])
            print(
                f"  round {number + 1} {name:<9} {tally.rps:8.1f} req/s  "
                f"({tally.requests} requests, {tally.errors} errors, "
                f"X-Page-Cache {markers}, {sorted(tally.sizes)} bytes)"
            )
            if tally.errors or not tally.requests:
                report.problem(f"{name}: {tally.errors} errors")
            if wrong:
                report.problem(
                    f"{name}: {wrong} responses with X-Page-Cache other than "
                    f"{'/'.join(sorted(EXPECTED[name]))}"
                )
    say(f"requests per second over {args.rounds} rounds: median (min–max)")
    medians = {}
    for name in SCENARIOS:
        median, low, high = spread(rps[name])
        medians[name] = median
        print(f"  {name:<9} {median:8.1f}   ({low:.1f}–{high:.1f})")
    uncached, cached, static_rps = (medians[n] for n in SCENARIOS)
    for label, figure, wanted, passed in (
        (
            "uncached / static",
            f"{share(uncached, static_rps):.1f} %",
            f">= {TARGET_UNCACHED_VS_STATIC:g} %",
            share(uncached, static_rps) >= TARGET_UNCACHED_VS_STATIC,
        ),
        (
            "cached / uncached",
            f"{cached / uncached:.1f} x",
            f">= {TARGET_CACHED_VS_UNCACHED:g} x",
            cached / uncached >= TARGET_CACHED_VS_UNCACHED,
        ),
        (
            "cached / static",
            f"{cached / static_rps:.2f} x",
            f">= {TARGET_CACHED_VS_STATIC:g} x",
            cached / static_rps >= TARGET_CACHED_VS_STATIC,
        ),
    ):
        report.target(label, figure, wanted, passed)


def compare_headers(port: int, site: dict, changer: Changer, report: Report) -> None:
    """A change to the case, then its story twice: does the hit look like the miss?"""
    path = site["changing"]["story"]
    changer.once()
    _status, miss, _body = fetch(port, path)
    _status, hit, _body = fetch(port, path)
    markers = (miss.get("X-Page-Cache", "none"), hit.get("X-Page-Cache", "none"))
    say(f"headers of a miss and the next hit: X-Page-Cache {' then '.join(markers)}")
    if markers != ("miss", "hit"):
        report.problem(
            f"after a change to its case, {path} answered {markers[0]} then "
            f"{markers[1]}, not miss then hit"
        )
        return
    miss_headers = {k.lower(): v for k, v in miss.items()}
    hit_headers = {k.lower(): v for k, v in hit.items()}
    differences = []
    for name in sorted((miss_headers.keys() | hit_headers.keys()) - VOLATILE_HEADERS):
        if miss_headers.get(name) != hit_headers.get(name):
            differences.append(
                f"{name}: {miss_headers.get(name, '(absent)')!r} on the miss, "
                f"{hit_headers.get(name, '(absent)')!r} on the hit"
            )
    for line in differences or ["the same headers"]:
        print(f"  {line}")
    report.target(
        "hit headers = miss headers",
        f"{len(differences)} differ",
        "0 differ",
        not differences,
    )


GROUPS = ("changing story", "its follow-up", "listings", "other stories")


def change_streams(
    pool, port: int, site: dict, changer: Changer, args, report: Report
) -> None:
    changing = site["changing"]
    others = [("its follow-up", changing["follow_up"])]
    others += [("listings", path) for path in site["listings"]]
    others += [("other stories", path) for path in site["others"]]
    # Every other request is the changing story; the rest go round the others.
    urls = []
    for item in others:
        urls += [("changing story", changing["story"]), item]
    seconds = 2 * args.duration
    say(
        f"case changes under load, {seconds:g} s each: {changing['story']} on "
        f"every other request; between them its follow-up, "
        f"{len(site['listings'])} listings and {len(site['others'])} other pages"
    )
    print(
        "  changes/s  made  ms each    req/s   hit %: "
        + "  ".join(f"{g:>14}" for g in GROUPS)
    )
    for rate in args.rates:
        cold = [p for _g, p in others if not warm_until_hit(port, p, tries=10)]
        if not warm_until_hit(port, changing["story"], tries=10):
            cold.append(changing["story"])
        if cold:
            print(f"  note: never a hit before the stream: {', '.join(cold)}")
        if rate:
            changer.send(f"run {rate:g} {seconds:g}")
        tally = measure(pool, port, urls, unique=False, duration=seconds, args=args)
        made = changer.result() if rate else {"changes": 0, "errors": 0, "ms": 0}
        if made["errors"]:
            report.problem(f"{made['errors']} case changes failed: {made.get('error')}")
        if tally.errors:
            report.problem(f"{tally.errors} errors at {rate:g} changes/s")
        print(
            f"  {rate:9g} {made['changes']:5d} {made['ms']:8.1f} {tally.rps:8.1f}"
            "          " + "  ".join(f"{tally.hit_rate(g):14.1f}" for g in GROUPS)
        )
        print(
            "            responses: "
            + "; ".join(f"{g} {tally.markers(g)}" for g in GROUPS)
        )
    print("  (hit %: share of the group's responses that carry X-Page-Cache: hit)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        CHILDREN[sys.argv[2]](*sys.argv[3:])
        sys.exit(0)
    sys.exit(main())
