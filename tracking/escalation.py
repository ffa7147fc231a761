"""The overdue scan: early warnings, reminders (催办) and media escalation.

Level-triggered: every pass decides from the database alone, so a lost, late or
repeated pass loses and doubles nothing, and the pass after an outage catches up.
Exactly-once comes from the database too: a unique row per case, kind and deadline
for warnings and reminders, and the state machine (plus one story per case) for
escalation. Work goes in bounded batches; on PostgreSQL rows are claimed with
``SELECT ... FOR UPDATE SKIP LOCKED`` so parallel scans split the work.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from . import calendar, hooks
from .calendar import add_working_hours, overdue_cutoff
from .exceptions import CaseError
from .models import (
    ESCALATABLE_STATES,
    Case,
    CaseNotice,
    Category,
    NoticeKind,
    State,
)
from .services import case_escalate, record_event, start_story
from .signals import working_day_ended

logger = logging.getLogger(__name__)


@dataclass
class ScanResult:
    warned: int = 0
    reminded: int = 0
    escalated: int = 0
    stories: int = 0
    acknowledge_warned: int = 0
    #: Cases a step failed on (logged with their reference); the pass went on.
    failed: int = 0


def _claim(queryset, batch_size: int) -> list[Case]:
    """Lock up to ``batch_size`` rows no other scan holds (inside a transaction)."""
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset.order_by("awaiting_due_at", "pk")[:batch_size])


# The deadline each kind of notice is about: one notice per case, kind and deadline.
NOTICE_DEADLINES = {
    NoticeKind.WARNING: "due_at",
    NoticeKind.REMINDER: "due_at",
    NoticeKind.ACKNOWLEDGE_WARNING: "acknowledge_due_at",
}


def _without_notice(queryset, kind: str):
    sent = CaseNotice.objects.filter(
        case=OuterRef("pk"), kind=kind, due_at=OuterRef(NOTICE_DEADLINES[kind])
    )
    return queryset.exclude(Exists(sent))


def _failed(reference: str, step: str, result: ScanResult) -> None:
    """One case went wrong: log it with its reference, count it, and go on."""
    logger.exception("overdue scan: %s of case %s failed", step, reference)
    result.failed += 1


def _notify_once(case: Case, kind: str, now: datetime) -> bool:
    """Record the notice and its event, unless this deadline already had one.

    The event carries the deadline it is about (when the case was due), not only
    the time the scan noticed, which may be hours later after an outage.
    """
    due_at = getattr(case, NOTICE_DEADLINES[kind])
    try:
        with transaction.atomic():
            CaseNotice.objects.create(
                case=case, kind=kind, due_at=due_at, created_at=now
            )
            record_event(
                case, action=kind, user=None, now=now, public=False, due_at=due_at
            )
    except IntegrityError:
        return False
    return True


def _notices(
    queryset, kind: str, now: datetime, batch_size: int, result: ScanResult
) -> int:
    done = 0
    failed: list[int] = []
    while True:
        with transaction.atomic():
            batch = _claim(
                _without_notice(queryset, kind).exclude(pk__in=failed), batch_size
            )
            if not batch:
                return done
            for case in batch:
                try:
                    done += _notify_once(case, kind, now)
                except Exception:
                    _failed(case.reference, kind, result)
                    failed.append(case.pk)
        if len(batch) < batch_size:
            return done


def escalation_candidates(now: datetime):
    """Cases to hand to the media now: efficiency complaints (or cases of a category
    that escalates) overdue by their category's threshold, not yet escalated."""
    thresholds = set(
        Category.objects.values_list("escalation_threshold_days", flat=True)
    )
    overdue = Q()
    for days in thresholds:
        overdue |= Q(
            category__escalation_threshold_days=days,
            awaiting_due_at__lt=overdue_cutoff(now, days),
        )
    overdue |= Q(
        category__isnull=True,
        awaiting_due_at__lt=overdue_cutoff(
            now, settings.TRACKING_DEFAULT_ESCALATION_DAYS
        ),
    )
    return Case.objects.filter(
        overdue,
        Q(is_efficiency=True) | Q(category__escalates=True),
        state__in=ESCALATABLE_STATES,
        escalated_at__isnull=True,
    )


def _escalate(queryset, now: datetime, batch_size: int, result: ScanResult) -> int:
    escalated = 0
    skipped: list[int] = []
    while True:
        with transaction.atomic():
            batch = _claim(queryset.exclude(pk__in=skipped), batch_size)
            if not batch:
                return escalated
            for case in batch:
                try:
                    with transaction.atomic():
                        if hooks.call("get_story", case.pk) is not None:
                            skipped.append(case.pk)  # tracked: never a second story
                            continue
                        case_escalate(case=case, user=None, now=now)
                except CaseError as exc:
                    logger.info("not escalating %s: %s", case.reference, exc)
                    skipped.append(case.pk)
                    continue
                except Exception:
                    _failed(case.reference, "escalation", result)
                    skipped.append(case.pk)
                    continue
                escalated += 1
        if len(batch) < batch_size:
            return escalated


def _stories(now: datetime, batch_size: int, result: ScanResult) -> int:
    """Create the story of every escalated case that has none yet (catch-up too).

    Each case is claimed (``_story_claim``) while its story is made, so parallel
    scans take different cases instead of queuing on the same one; only stories
    made by this pass are counted. The case records the story as it does when a
    supervisor asks for one.
    """
    if not hooks.is_registered("create_story"):
        return 0
    created = 0
    tried: set[int] = set()
    tracked = Case.objects.filter(escalated_at__isnull=False, closed_at__isnull=True)
    while True:
        ids = hooks.call("without_story", tracked.exclude(pk__in=tried), batch_size)
        if not ids:
            return created
        for case_id in ids:
            tried.add(case_id)
            try:
                created += _make_story(case_id, now)
            except Exception:
                # Level-triggered: the next pass tries again; the escalation stands.
                reference = (
                    Case.objects.filter(pk=case_id)
                    .values_list("reference", flat=True)
                    .first()
                )
                _failed(reference or f"#{case_id}", "story", result)


def _make_story(case_id: int, now: datetime) -> bool:
    """Make the story of one escalated case unless another scan is making it;
    True if this call made it."""
    with _story_claim(case_id) as mine:
        if not mine:
            return False  # another scan is making this story
        _story, made = start_story(case_id, user=None, now=now)
        return made


def story_for_escalated_case(case_id: int) -> bool:
    """The story of a case a supervisor escalated by hand, made right after the
    commit (an outbox handler) exactly as the scan makes the stories of its own
    escalations; the scan's catch-up makes it anyway if this never runs.
    Safe to run twice: a case has one story."""
    if not hooks.is_registered("create_story"):
        return False
    tracked = Case.objects.filter(
        pk=case_id, escalated_at__isnull=False, closed_at__isnull=True
    )
    if not hooks.call("without_story", tracked, 1):
        return False  # made already (or the case is closed meanwhile)
    return _make_story(case_id, timezone.now())


# Session advisory locks of story claims: this base plus the case id.
STORY_LOCK_BASE = 8890 << 40


@contextmanager
def _story_claim(case_id: int):
    """Claim making the story of a case, so parallel scans take different cases.

    A story is made in transactions of its own (see the newsroom's
    ``story_create_for_case``), so the claim cannot be a row lock: on PostgreSQL
    it is a session advisory lock, taken without waiting and released at the end
    (or with the connection). SQLite has one writer at a time: every claim holds.
    The unique story per case keeps it exactly-once either way.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = STORY_LOCK_BASE + case_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                # A lost connection took the lock with it.
                logger.warning("could not release the story claim of #%s", case_id)


def scan_overdue(*, now: datetime | None = None, batch_size: int | None = None):
    """One pass of the scan; safe to run any number of times, in parallel."""
    with calendar.shared():
        return _scan(
            now or timezone.now(), batch_size or settings.TRACKING_SCAN_BATCH_SIZE
        )


def _scan(now: datetime, batch_size: int) -> ScanResult:
    result = ScanResult()
    horizon = add_working_hours(now, settings.TRACKING_EARLY_WARNING_HOURS)
    result.acknowledge_warned = _notices(
        Case.objects.filter(
            state=State.DISPATCHED,
            acknowledge_due_at__gte=now,
            acknowledge_due_at__lt=add_working_hours(
                now, settings.TRACKING_ACKNOWLEDGE_WARNING_HOURS
            ),
        ),
        NoticeKind.ACKNOWLEDGE_WARNING,
        now,
        batch_size,
        result,
    )
    result.warned = _notices(
        Case.objects.filter(awaiting_due_at__gte=now, awaiting_due_at__lt=horizon),
        NoticeKind.WARNING,
        now,
        batch_size,
        result,
    )
    result.reminded = _notices(
        Case.objects.overdue(now), NoticeKind.REMINDER, now, batch_size, result
    )
    result.escalated = _escalate(escalation_candidates(now), now, batch_size, result)
    result.stories = _stories(now, batch_size, result)
    _tell_if_working_day_ended(now)
    return result


LAST_WORKING_DAY_KEY = "tracking:last-completed-working-day"


def _tell_if_working_day_ended(now: datetime) -> None:
    """Once a working day's office hours are over, every "overdue by N working
    days" shown in public is one more: tell the pages (at most a few times per
    day, however often the scan runs)."""
    last = calendar.current().last_completed_workday(now).isoformat()
    if cache.get(LAST_WORKING_DAY_KEY) != last:
        cache.set(LAST_WORKING_DAY_KEY, last, None)
        working_day_ended.send(sender=None, day=last)
