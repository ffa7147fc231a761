"""How much does the page cache buy? A story page through a real WSGI server.

Builds a scratch site (SQLite in a temporary directory: migrate, collectstatic,
``load_demo``, and the published Hot Tracking story of the Wuhu Road demo case
with its full timeline), writes the story's HTML to a static file, starts
gunicorn on a free loopback port, and measures requests per second, one scenario
after the other, for a fixed time each:

- **uncached**: the story with a unique query string per request (``?page=...``).
  The page cache keys on the full path, so every request renders the page; each
  response is checked to be an ``X-Page-Cache: miss``.
- **cached**: the same URL again and again, after warm-up requests; responses
  are checked to be ``X-Page-Cache: hit``.
- **static**: the same HTML as a file under ``/static/``, served by WhiteNoise.

Targets: cached >= 10 x uncached, and cached >= 0.5 x static. The exit status is
1 when a target is missed or a scenario gets errors or wrong cache headers.

Usage::

    python bench/public_pages.py [--duration 5] [--connections 4]
        [--workers 2] [--threads 4] [--keep]

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
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_VS_UNCACHED = 10.0
TARGET_VS_STATIC = 0.5
STATIC_NAME = "bench/story.html"
# The demo case whose story is measured: escalated, replied, called back, closed.
CASE_TITLE_PREFIX = "五湖路"
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

# Run inside the scratch site after load_demo: publish the story, write its HTML.
PREPARE = """
import json, sys
from pathlib import Path

import django

django.setup()
from django.conf import settings
from django.test import Client
from wagtail.models import Site

from newsroom.services import story_create_for_case
from tracking.models import Case

case = Case.objects.get(title__startswith=sys.argv[1])
story = story_create_for_case(case=case)
if not story.live:
    story.save_revision().publish()
    story.refresh_from_db()
path = story.get_url()
response = Client(HTTP_HOST="127.0.0.1").get(path)
assert response.status_code == 200, response.status_code
target = Path(settings.STATIC_ROOT) / sys.argv[2]
target.parent.mkdir(parents=True, exist_ok=True)
target.write_bytes(response.content)
print(json.dumps({
    "path": path,
    "bytes": len(response.content),
    "events": case.events.filter(public=True).count(),
    "site": Site.objects.get(is_default_site=True).hostname,
}))
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=5.0, help="seconds per scenario"
    )
    parser.add_argument(
        "--connections", type=int, default=4, help="concurrent client connections"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per gunicorn worker (gthread)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch directory"
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.connections < 1 or args.workers < 1:
        parser.error("--duration, --connections and --workers must be positive")
    return args


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


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
        check=True,
        text=True,
        capture_output=True,
    )
    return done.stdout


def build_site(env: dict[str, str]) -> dict:
    started = time.perf_counter()
    run(env, "manage.py", "migrate", "--no-input", "-v", "0")
    run(env, "manage.py", "collectstatic", "--no-input", "-v", "0")
    run(env, "manage.py", "load_demo")
    story = json.loads(
        run(env, "-c", PREPARE, CASE_TITLE_PREFIX, STATIC_NAME).strip().splitlines()[-1]
    )
    say(
        f"scratch site ready in {time.perf_counter() - started:.0f} s: "
        f"{story['path']} ({story['bytes']} bytes, {story['events']} public events)"
    )
    return story


# --- the server ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def fetch(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# --- the load generator -----------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    cache: dict[str, int] = field(default_factory=dict)
    sizes: set[int] = field(default_factory=set)
    rps: float = 0.0

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.seconds = max(self.seconds, other.seconds)
        self.errors += other.errors
        for key, count in other.cache.items():
            self.cache[key] = self.cache.get(key, 0) + count
        self.sizes |= other.sizes


def client(job: tuple[int, str, bool, float, int]) -> Tally:
    """One keep-alive connection in a closed loop for ``duration`` seconds."""
    port, path, unique, duration, number = job
    tally = Tally()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    deadline = started + duration
    while time.perf_counter() < deadline:
        target = f"{path}?page={number}-{tally.requests}" if unique else path
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
        marker = response.getheader("X-Page-Cache", "none")
        tally.cache[marker] = tally.cache.get(marker, 0) + 1
        tally.sizes.add(len(body))
        if response.will_close:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    tally.seconds = time.perf_counter() - started
    connection.close()
    return tally


def measure(pool, port: int, path: str, *, unique: bool, args) -> Tally:
    jobs = [(port, path, unique, args.duration, n) for n in range(args.connections)]
    total = Tally()
    for tally in pool.map(client, jobs):
        total.add(tally)
        total.rps += tally.requests / tally.seconds
    return total


def warm(port: int, path: str, workers: int) -> None:
    """Fill every worker's cache: each process keeps its own local-memory cache."""
    hits = 0
    for _ in range(1000):
        _status, headers, _body = fetch(port, path)
        hits = hits + 1 if headers.get("X-Page-Cache") == "hit" else 0
        if hits >= 10 * workers:
            return
    raise RuntimeError(f"{path} is not served from the page cache")


# --- the run ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-public-pages-"))
    server = None
    try:
        env = environment(scratch)
        say(f"building the scratch site in {scratch}")
        story = build_site(env)
        port = free_port()
        say(
            f"gunicorn on 127.0.0.1:{port}: {args.workers} workers x "
            f"{args.threads} threads (gthread); {args.connections} client "
            f"connections, {args.duration:g} s per scenario"
        )
        server = start_server(env, port, args.workers, args.threads)
        wait_until_up(server, port)
        return benchmark(port, story, args)
    finally:
        if server is not None:
            stop_server(server)
        if args.keep:
            say(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def benchmark(port: int, story: dict, args) -> int:
    path, static = story["path"], "/static/" + STATIC_NAME
    status, headers, page = fetch(port, path)
    _status, _headers, file = fetch(port, static)
    if status != 200 or page != file:
        print(
            f"FAIL: the page ({status}, {len(page)} bytes) and the static file "
            f"({len(file)} bytes) differ"
        )
        return 1
    problems = []
    results = {}
    with multiprocessing.Pool(args.connections) as pool:
        for name, url, unique, expected in (
            ("uncached", path, True, "miss"),
            ("cached", path, False, "hit"),
            ("static", static, False, "none"),
        ):
            if name == "cached":
                warm(port, path, args.workers)
            tally = measure(pool, port, url, unique=unique, args=args)
            results[name] = tally
            wrong = tally.requests - tally.cache.get(expected, 0)
            print(
                f"  {name:<9} {tally.rps:8.1f} req/s  ({tally.requests} requests, "
                f"{tally.errors} errors, X-Page-Cache {tally.cache}, "
                f"{sorted(tally.sizes)} bytes)"
            )
            if tally.errors or not tally.requests:
                problems.append(f"{name}: {tally.errors} errors")
            if wrong:
                problems.append(
                    f"{name}: {wrong} responses not X-Page-Cache {expected}"
                )

    cached = results["cached"].rps
    vs_uncached = cached / results["uncached"].rps
    vs_static = cached / results["static"].rps
    load = os.getloadavg()
    print(
        f"  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"{os.cpu_count()} CPUs"
    )
    for label, ratio, target in (
        ("cached / uncached", vs_uncached, TARGET_VS_UNCACHED),
        ("cached / static", vs_static, TARGET_VS_STATIC),
    ):
        verdict = "PASS" if ratio >= target else "FAIL"
        print(f"  {label:<18} {ratio:7.2f}   target >= {target:g}   {verdict}")
        if ratio < target:
            problems.append(f"{label} = {ratio:.2f} < {target:g}")
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
