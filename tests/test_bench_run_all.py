"""bench/run_all.py runs each benchmark as a child process, collects the targets it
reports through bench/_common.Report, and prints one table; its exit status says
whether everything passed. Real child processes throughout: tiny fake benchmarks
in a directory of their own, and the real PostgreSQL benchmarks pointed at a port
nothing listens on (they must skip, not fail)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"
RUN_ALL = BENCH_DIR / "run_all.py"

HEAD = f"""\
import sys
import time

sys.path.insert(0, {str(BENCH_DIR)!r})
from _common import Report

report = Report(__file__)
mode = "quick" if "--quick" in sys.argv else "full"
"""

FAKES = {
    "passes": """
        report.target("requests per second", f"120 ({mode})", ">= 90", True)
        report.figure("an informative figure", "7")
        sys.exit(report.finish())
    """,
    "misses": """
        report.target("queries per POST", "12", "<= 15", True)
        report.target("headroom", "31x", ">= 50x", False)
        sys.exit(report.finish())
    """,
    "crashes": """
        report.target("first figure", "1.2", "<= 1.5", True)
        raise RuntimeError("the scratch database went away")
    """,
    "skips": """
        report.skip("all targets", "PostgreSQL unreachable")
        sys.exit(report.finish())
    """,
    "silent": """
        print("measured something, judged nothing")
    """,
    "hangs": """
        print("waiting for ever", flush=True)
        try:
            time.sleep(60)
        except KeyboardInterrupt:
            print("interrupted: cleaning up", flush=True)
            sys.exit(3)
    """,
}


@pytest.fixture
def benches(tmp_path):
    directory = tmp_path / "benches"
    directory.mkdir()
    for name, body in FAKES.items():
        (directory / f"{name}.py").write_text(HEAD + textwrap.dedent(body))
    # Not benchmarks: helpers start with an underscore.
    (directory / "_helper.py").write_text("raise SystemExit('never run')\n")
    return directory


def run_all(tmp_path, benches, *args):
    done = subprocess.run(
        [
            sys.executable,
            str(RUN_ALL),
            "--bench-dir",
            str(benches),
            "--log-dir",
            str(tmp_path / "logs"),
            "--no-templates",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def table(stdout: str) -> list[dict]:
    """The final table's rows as dicts, cut at the column starts of its rule."""
    lines = stdout.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("benchmark "))
    rule = lines[top + 1]
    starts = [
        i for i, c in enumerate(rule) if c == "-" and (i == 0 or rule[i - 1] == " ")
    ]
    names = [lines[top][s:].split("  ")[0].strip() or "note" for s in starts]
    rows = []
    for line in lines[top + 2 :]:
        if not line.strip():
            break
        cells = [
            line[start:end].strip()
            for start, end in zip(starts, [*starts[1:], None], strict=True)
        ]
        rows.append(dict(zip(names, cells, strict=True)))
    return rows


def test_every_target_of_every_benchmark_lands_in_one_table(tmp_path, benches):
    status, stdout, stderr = run_all(
        tmp_path, benches, "--only", "passes,misses,crashes,skips,silent"
    )

    assert status == 1, stdout + stderr
    rows = table(stdout)
    got = [
        (r["benchmark"], r["target"], r["figure"], r["wanted"], r["result"])
        for r in rows
    ]
    assert got == [
        ("passes", "requests per second", "120 (full)", ">= 90", "PASS"),
        ("misses", "queries per POST", "12", "<= 15", "PASS"),
        ("misses", "headroom", "31x", ">= 50x", "FAIL"),
        ("crashes", "first figure", "1.2", "<= 1.5", "PASS"),
        ("crashes", "the run", "exit status 1", "exit status 0", "FAIL"),
        ("skips", "all targets", "-", "PostgreSQL unreachable", "SKIP"),
        ("silent", "the run", "reported no target", "exit status 0", "FAIL"),
    ]
    # A missed target explains its benchmark's exit status: no extra row for it.
    crash = next(
        r for r in rows if r["benchmark"] == "crashes" and r["result"] == "FAIL"
    )
    log = Path(crash["note"])
    assert log == tmp_path / "logs" / "crashes.log"
    assert "RuntimeError: the scratch database went away" in log.read_text()
    assert "3 PASS, 3 FAIL, 1 SKIP; total wall time" in stdout
    # One progress line per benchmark, in order, before the table.
    progress = [line for line in stdout.splitlines() if line.startswith("[")]
    assert [line.split()[1] for line in progress] == [
        "passes",
        "misses",
        "crashes",
        "skips",
        "silent",
    ]
    assert "1 PASS, 1 FAIL in" in progress[1] and "exit status 1" in progress[1]
    # The benchmark's own output went to its log, not to run_all's.
    assert "measured something" not in stdout
    assert "measured something" in (tmp_path / "logs" / "silent.log").read_text()


def test_all_passed_or_skipped_exits_0_and_quick_reaches_the_benchmarks(
    tmp_path, benches
):
    status, stdout, stderr = run_all(
        tmp_path, benches, "--quick", "--only", "passes,skips"
    )

    assert status == 0, stdout + stderr
    rows = table(stdout)
    assert [(r["benchmark"], r["figure"], r["result"]) for r in rows] == [
        ("passes", "120 (quick)", "PASS"),
        ("skips", "-", "SKIP"),
    ]
    results = tmp_path / "logs" / "passes.results.jsonl"
    assert [
        json.loads(line)["status"] for line in results.read_text().splitlines()
    ] == ["PASS"]


def test_a_benchmark_over_its_time_is_stopped_and_fails(tmp_path, benches):
    status, stdout, stderr = run_all(
        tmp_path, benches, "--only", "hangs", "--timeout", "2"
    )

    assert status == 1, stdout + stderr
    (row,) = table(stdout)
    assert (row["target"], row["figure"], row["result"]) == (
        "the run",
        "timed out after 2 s",
        "FAIL",
    )
    # Stopped with SIGINT first, so that it could clean up.
    assert "interrupted: cleaning up" in (tmp_path / "logs" / "hangs.log").read_text()


def test_an_unknown_benchmark_name_is_refused(tmp_path, benches):
    status, stdout, stderr = run_all(tmp_path, benches, "--only", "passes,nosuch")

    assert status == 2
    assert "no such benchmark: nosuch" in stderr
    assert not (tmp_path / "logs" / "passes.log").exists()


def test_the_real_benchmarks_are_the_ones_run_all_finds():
    from importlib import util

    spec = util.spec_from_file_location("bench_run_all", RUN_ALL)
    module = util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH_DIR))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH_DIR))
    assert module.discover(BENCH_DIR) == [
        "demo_scale",
        "escalation",
        "intake",
        "overdue_scan",
        "public_pages",
        "statistics",
    ]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "name, args",
    [
        ("statistics", ["--quick"]),
        ("demo_scale", ["--quick"]),
        ("escalation", ["--quick"]),
        ("intake", ["--quick", "--backends", "postgres"]),
        ("overdue_scan", ["--quick", "--backends", "postgres"]),
    ],
)
def test_a_postgresql_benchmark_skips_when_the_server_is_unreachable(
    tmp_path, name, args
):
    results = tmp_path / "results.jsonl"
    env = {
        "PATH": "/usr/bin:/bin",
        "BENCH_PG_PORT": str(closed_port()),
        "BENCH_RESULTS": str(results),
    }
    done = subprocess.run(
        [sys.executable, str(BENCH_DIR / f"{name}.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    entries = [json.loads(line) for line in results.read_text().splitlines()]
    assert [e["status"] for e in entries] == ["SKIP"], entries
    assert "SKIP" in done.stdout
