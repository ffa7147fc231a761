"""``manage.py check --deploy`` is clean with DJANGO_HTTPS on, and warns about
HTTPS without it: the switch is what turns the secure settings on."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_VARIABLES = (
    "DJANGO_HTTPS",
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_HSTS_SECONDS",
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS",
    "DJANGO_HSTS_PRELOAD",
    "DJANGO_TRUST_X_FORWARDED_PROTO",
    "DJANGO_SETTINGS_MODULE",
)


def check_deploy(tmp_path, **environment) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(
        NEWSPLUS_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="news.example.cn",
        **environment,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_https_on(tmp_path):
    done = check_deploy(tmp_path, DJANGO_HTTPS="1")

    assert done.returncode == 0, done.stderr + done.stdout
    assert "no issues" in done.stdout


@pytest.mark.parametrize("switch", [None, "0"])
def test_check_deploy_warns_about_https_without_the_switch(tmp_path, switch):
    environment = {} if switch is None else {"DJANGO_HTTPS": switch}

    done = check_deploy(tmp_path, **environment)

    assert done.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):
        assert f"security.{warning}" in done.stderr


def settings_with(tmp_path, names, **environment) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(NEWSPLUS_VAR_DIR=str(tmp_path / "var"), **environment)
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_https_trusts_each_allowed_host_for_csrf_and_the_proxy_only_when_told(
    tmp_path,
):
    names = ["CSRF_TRUSTED_ORIGINS", "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT"]
    hosts = "news.example.cn,.example.cn,*,127.0.0.1"

    https = settings_with(
        tmp_path, names, DJANGO_HTTPS="1", DJANGO_ALLOWED_HOSTS=hosts
    )
    assert https["CSRF_TRUSTED_ORIGINS"] == [
        "https://news.example.cn",
        "https://*.example.cn",
        "https://127.0.0.1",
    ]
    assert https["SECURE_SSL_REDIRECT"] is True
    assert https["SECURE_PROXY_SSL_HEADER"] is None

    proxied = settings_with(
        tmp_path,
        names,
        DJANGO_HTTPS="1",
        DJANGO_TRUST_X_FORWARDED_PROTO="1",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://www.example.cn",
    )
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert proxied["CSRF_TRUSTED_ORIGINS"] == ["https://www.example.cn"]

    plain = settings_with(tmp_path, names, DJANGO_ALLOWED_HOSTS=hosts)
    assert plain["CSRF_TRUSTED_ORIGINS"] == []
    assert plain["SECURE_SSL_REDIRECT"] is False
