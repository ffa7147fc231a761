"""The work queues of the staff roles' home screens (one function per queue).

Each queue is a queryset of what a user may see (scoped as the case listing
scopes it, :meth:`CaseQuerySet.visible_to`), in the order the work is done, so
that the same queryset gives the count on the home screen and its first rows.
Each has a query string of the case listing's filters that lists the same rows
(:data:`LISTING_QUERIES`), which the home screen's counts link to.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, FilteredRelation, Q
from django.utils import timezone

from . import calendar
from .models import (
    ESCALATABLE_STATES,
    OPEN_STATES,
    Call,
    Case,
    ExtensionDecision,
    State,
)

#: Working days the hotline allows itself to call the citizen back after an answer
#: (回访时限): the callback is due at the close of that working day.
CALLBACK_WORKING_DAYS = 2
#: A case returned (退单) this many times or more is being bounced (推诿).
BOUNCED_AT = 2
#: "Will escalate next": the scan hands the case to the media within these days.
ESCALATION_HORIZON = timedelta(days=7)
#: The cases looked at for the escalation forecast, soonest deadline first. The
#: forecast is computed in Python (the threshold is counted in working days), so
#: it is bounded; cases this far down the list escalate after the horizon anyway.
ESCALATION_CANDIDATES = 500

# States in which the hotline owes the citizen a callback: a department or the
# hotline has answered and the case waits to be closed or handled again.
AWAITING_CALLBACK_STATES = (State.REPLIED, State.ANSWERED)
# States in which the department works on the case (after 签收).
IN_HAND_STATES = (State.IN_PROGRESS, State.SUPERVISED)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _cases(user):
    return Case.objects.visible_to(user)


# --- the officer (话务员) -------------------------------------------------------------


def to_accept(user):
    """Cases registered and not yet accepted or rejected, oldest first."""
    return _cases(user).filter(state=State.REGISTERED).order_by("registered_at", "pk")


def callbacks_due(user):
    """Cases answered (by a department or the hotline) waiting for the callback
    to the citizen, oldest answer first."""
    return (
        _cases(user)
        .filter(state__in=AWAITING_CALLBACK_STATES)
        .select_related("department")
        .order_by("replied_at", "pk")
    )


def callback_due_at(case: Case) -> datetime | None:
    """When the callback of an answered case is due (回访时限)."""
    if case.replied_at is None:
        return None
    return calendar.deadline_after(case.replied_at, CALLBACK_WORKING_DAYS)


def returned(user):
    """Cases a department sent back (退单), to dispatch again; the deadline still
    runs, so the soonest first."""
    return (
        _cases(user)
        .filter(state=State.RETURNED)
        .select_related("department")
        .order_by("due_at", "pk")
    )


def start_of_today(now: datetime | None = None) -> datetime:
    local = timezone.localtime(_now(now), calendar.local_zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def calls_today(user, now: datetime | None = None):
    """Calls received since midnight (local time), newest first."""
    if not user.has_perm("tracking.view_call"):
        return Call.objects.none()
    return (
        Call.objects.filter(received_at__gte=start_of_today(now))
        .select_related("case")
        .order_by("-received_at", "-pk")
    )


# --- the department liaison (部门联络员) ---------------------------------------------


def to_acknowledge(user):
    """Cases dispatched and not yet acknowledged (签收), the soonest limit first."""
    return (
        _cases(user)
        .filter(state=State.DISPATCHED)
        .select_related("department")
        .order_by("acknowledge_due_at", "pk")
    )


def in_hand(user):
    """Cases the department has acknowledged and owes an answer on, by deadline."""
    return (
        _cases(user)
        .filter(state__in=IN_HAND_STATES)
        .select_related("department")
        .order_by("due_at", "pk")
    )


def media_supervised(user):
    """Open cases the paper tracks (媒体督办), the earliest escalation first."""
    return (
        _cases(user)
        .filter(state__in=OPEN_STATES, escalated_at__isnull=False)
        .select_related("department")
        .order_by("escalated_at", "pk")
    )


# --- the supervisor (督办员) ---------------------------------------------------------


def overdue(user, now: datetime | None = None):
    """Cases past their deadline, the longest overdue first."""
    return (
        _cases(user)
        .overdue(_now(now))
        .select_related("department")
        .order_by("due_at", "pk")
    )


def escalation_forecast(
    user, now: datetime | None = None
) -> list[tuple[Case, datetime]]:
    """Open cases the scan will hand to the media within the horizon if nothing
    happens, with that instant, soonest first (one query)."""
    now = _now(now)
    # A case escalates after its deadline, so one due after the horizon cannot.
    candidates = (
        _cases(user)
        .filter(
            state__in=ESCALATABLE_STATES,
            escalated_at__isnull=True,
            due_at__isnull=False,
            due_at__lt=now + ESCALATION_HORIZON,
        )
        .select_related("category", "department")
        .order_by("due_at", "pk")[:ESCALATION_CANDIDATES]
    )
    forecast = []
    for case in candidates:
        at = case.escalates_at()
        if at is not None and at <= now + ESCALATION_HORIZON:
            forecast.append((case, at))
    forecast.sort(key=lambda item: (item[1], item[0].pk))
    return forecast


def escalating_soon(user, now: datetime | None = None):
    """The cases of :func:`escalation_forecast`, as a queryset."""
    ids = [case.pk for case, _at in escalation_forecast(user, now)]
    return _cases(user).filter(pk__in=ids).order_by("due_at", "pk")


def bounced(user):
    """Open cases returned by departments more than once (推诿), most first."""
    return (
        _cases(user)
        .filter(state__in=OPEN_STATES, bounce_count__gte=BOUNCED_AT)
        .select_related("department")
        .order_by("-bounce_count", "due_at", "pk")
    )


def extensions_pending(user):
    """Cases with an extension request waiting for a supervisor (延期待审批), the
    oldest request first; each carries the request's ``extension_days``,
    ``extension_reason`` and ``extension_asked_at`` (a case has one pending
    request at most, so the join adds no rows)."""
    return (
        _cases(user)
        .annotate(
            pending_extension=FilteredRelation(
                "extension_requests",
                condition=Q(extension_requests__decision=ExtensionDecision.PENDING),
            )
        )
        .filter(pending_extension__isnull=False)
        .annotate(
            extension_days=F("pending_extension__working_days"),
            extension_reason=F("pending_extension__reason"),
            extension_asked_at=F("pending_extension__created_at"),
        )
        .select_related("department")
        .order_by("extension_asked_at", "pk")
    )


#: The case listing's query string that lists each queue's cases.
LISTING_QUERIES = {
    "to_accept": [("state", State.REGISTERED)],
    "callbacks_due": [("state", s) for s in AWAITING_CALLBACK_STATES],
    "returned": [("state", State.RETURNED)],
    "to_acknowledge": [("state", State.DISPATCHED)],
    "in_hand": [("state", s) for s in IN_HAND_STATES],
    "media_supervised": [("escalated", "true"), ("open", "true")],
    "overdue": [("overdue", "true")],
    "escalating_soon": [("escalates_soon", "true")],
    "bounced": [("bounced", "true"), ("open", "true")],
    "extensions_pending": [("extension", "pending")],
}
