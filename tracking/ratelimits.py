"""Rate limits of the public doors (web form, progress lookup, Open311).

Counted by django-ratelimit in the shared cache, so every web process sees the
same counts. Rates are settings ("10/h"). Each door answers a limit in its own
form (a Chinese page with 429, Open311's error list with 429).
"""

from __future__ import annotations

from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from cms.auth import client_ip


def by_ip(group, request) -> str:
    return client_ip(request) or "unknown"


def _usage(request, group: str, rate: str, value: str | None, increment: bool):
    key = by_ip if value is None else (lambda _group, _request: value)
    return get_usage(
        request, group=group, key=key, rate=rate, method=ALL, increment=increment
    )


def exceeded(
    request, group: str, rate: str, *, value: str | None = None, count: bool = True
) -> bool:
    """Whether this request goes over ``rate`` for ``group`` (by ``value``, else by
    the client's address). ``count=False`` only asks, without counting it."""
    usage = _usage(request, group, rate, value, count)
    return bool(usage and usage["should_limit"])


def retry_after(request, group: str, rate: str, *, value: str | None = None) -> int:
    """Seconds until the window of ``group`` ends (for Retry-After)."""
    usage = _usage(request, group, rate, value, False)
    return max(1, int(usage["time_left"])) if usage else 60
