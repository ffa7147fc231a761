"""Small helpers the benchmarks share (run them as ``python bench/<name>.py``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess


def human(n: int) -> str:
    """1000000 -> '1M', 10000 -> '10k'."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


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
    import statistics

    values = list(values)
    if not values:
        raise ValueError("no measurements")
    return statistics.median(values), min(values), max(values)


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
