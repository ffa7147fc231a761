"""Login throttling with django-axes: the backend, the client's address, the 429
page, and lifting a lockout."""

from __future__ import annotations

import ipaddress
import logging

from axes.backends import AxesStandaloneBackend
from axes.models import AccessAttempt
from django.conf import settings
from django.shortcuts import render

logger = logging.getLogger(__name__)


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses the login of a username locked out from the client's address.

    Only a login over HTTP has a client to throttle. A password checked in code
    with no request (a management command, the test client's ``login()``) has no
    address to count failures against, and axes would raise instead of
    answering: such a check is left to the next backend, unthrottled.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(
            request, username=username, password=password, **kwargs
        )


def client_ip(request) -> str | None:
    """The client's address, as lockouts count it.

    REMOTE_ADDR, unless NEWSPLUS_TRUSTED_PROXY_COUNT proxies stand in front:
    then the address the outermost of them appended to X-Forwarded-For. Entries
    left of it are whatever the client sent, and are never trusted.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.NEWSPLUS_TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [
        address.strip()
        for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if address.strip()
    ]
    if len(forwarded) < count:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:
        return remote


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets: 429, with when to try again."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = max(1, round(cooloff.total_seconds() / 60)) if cooloff else None
    response = render(
        request, "cms/lockout.html", {"minutes": minutes}, status=429
    )
    if cooloff:
        response["Retry-After"] = str(int(cooloff.total_seconds()))
    return response


def lockout_lift(*, attempt: AccessAttempt, user) -> int:
    """Lift the lockout of ``attempt``'s username on its address.

    Every failure counted against that username and address is forgotten,
    whichever browser it came from (axes keeps one row per user agent, and the
    lockout adds them up). Returns how many rows went.
    """
    deleted, _ = AccessAttempt.objects.filter(
        username=attempt.username, ip_address=attempt.ip_address
    ).delete()
    logger.info(
        "Login lockout of %r from %s lifted by %s",
        attempt.username,
        attempt.ip_address,
        user.get_username(),
    )
    return deleted
