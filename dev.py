#!/usr/bin/env python3
"""Set up and run 8890 News+ with nothing but Python 3.11.

    python3 dev.py run     install, migrate, load demo data, start web + worker + beat
    python3 dev.py test    install, then run the whole test suite
                           (extra arguments go to pytest)

Standard library only: this runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("NEWSPLUS_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def ensure_environment(requirements: str) -> None:
    """Create the virtualenv and install ``requirements`` when they changed."""
    if sys.version_info[:2] != (3, 11):
        say(f"warning: Python 3.11 is expected, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        say(f"creating virtualenv in {VENV.name}/")
        venv.EnvBuilder(with_pip=True).create(VENV)
    req = ROOT / requirements
    wanted = hashlib.sha256(
        req.read_bytes() + (ROOT / "requirements.txt").read_bytes()
    ).hexdigest()
    stamp = VENV / f".installed-{req.stem}"
    if stamp.exists() and stamp.read_text() == wanted:
        return
    say(f"installing {requirements}")
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True
    )
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "-r", str(req)], check=True
    )
    stamp.write_text(wanted)


def manage(*args: str, capture: bool = False) -> str:
    done = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return done.stdout or ""


def wait_for_web(url: str, web: subprocess.Popen, timeout: float = 60) -> bool:
    """Whether ``url`` answered (any status) before ``timeout`` seconds passed."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and web.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return True
        except urllib.error.HTTPError:
            return True  # it answered: 503 names a missing broker or beat
        except OSError:
            time.sleep(0.5)
    return False


def run() -> int:
    ensure_environment("requirements.txt")
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    say("migrating the database")
    manage("migrate", "--no-input", "-v", "0")
    manage("collectstatic", "--no-input", "-v", "0")
    say("loading demo data")
    logins = manage("load_demo", capture=True)
    address = f"http://{host}:{port}"
    # Feeds and the sitemap name pages by the site's hostname and port.
    manage("set_site_address", address, capture=True)
    var = Path(os.environ.get("NEWSPLUS_VAR_DIR", ROOT / "var"))
    logs = var / "log"
    logs.mkdir(parents=True, exist_ok=True)
    mail = var / "mail"
    env = {**os.environ, "WAGTAILADMIN_BASE_URL": address}
    # Each notification is a file under var/mail/, not an e-mail on the console.
    env.setdefault(
        "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
    )
    env.setdefault("DJANGO_EMAIL_FILE_PATH", str(mail))
    commands = {
        "web": [
            str(BIN / "gunicorn"), "cms.wsgi", "--bind", f"{host}:{port}",
            "--workers", "2", "--threads", "4", "--access-logfile", "-",
        ],
        "worker": [
            str(BIN / "celery"), "-A", "cms", "worker", "--loglevel", "INFO",
            "--concurrency", "2", "--hostname", "worker1@%h",
        ],
        "beat": [
            str(BIN / "celery"), "-A", "cms", "beat", "--loglevel", "INFO",
            "--pidfile", str(var / "celerybeat.pid"),
        ],
    }
    (var / "celerybeat.pid").unlink(missing_ok=True)
    # The processes' own output goes to var/log/, so that the console keeps what a
    # person needs: where to go and how to log in.
    processes = {}
    for name, cmd in commands.items():
        with open(logs / f"{name}.log", "ab") as log:
            processes[name] = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
    say(f"web, Celery worker and beat started; their logs are in {logs}/")
    ready = wait_for_web(f"{address}/healthz", processes["web"])
    if not ready:
        say(f"the web server did not answer yet: see {logs / 'web.log'}")
    say(f"mail the demo sends is written to {mail}/, one file per message")
    print()
    print(logins.strip(), flush=True)
    print()
    say(f"8890 News+ is running: {address}/  (back office: {address}/admin/)")
    say("Ctrl-C stops web, worker and beat")

    def stop(*_args):
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        return 0

    signal.signal(signal.SIGTERM, lambda *a: sys.exit(stop()))
    try:
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    say(f"{name} exited with {process.returncode}; stopping")
                    stop()
                    return process.returncode or 1
            time.sleep(1)
    except KeyboardInterrupt:
        return stop()


def test(args: list[str]) -> int:
    ensure_environment("requirements-dev.txt")
    env = {"DJANGO_CACHE": "locmem", **os.environ}
    command = [str(PYTHON), "-m", "pytest", *args]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test"}:
        print(__doc__)
        return 2
    if sys.argv[1] == "run":
        return run()
    return test(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
