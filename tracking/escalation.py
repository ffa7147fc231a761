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
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from . import calendar, hooks
from .calendar import add_working_hours, overdue_cutoff
from .exceptions import CaseError
from .models import ESCALATABLE_STATES, Case, CaseNotice, Category, NoticeKind
from .services import _record_event, case_escalate

logger = logging.getLogger(__name__)


@dataclass
class ScanResult:
    warned: int = 0
    reminded: int = 0
    escalated: int = 0
    stories: int = 0


def _claim(queryset, batch_size: int) -> list[Case]:
    """Lock up to ``batch_size`` rows no other scan holds (inside a transaction)."""
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset.order_by("awaiting_due_at", "pk")[:batch_size])


def _without_notice(queryset, kind: str):
    sent = CaseNotice.objects.filter(
        case=OuterRef("pk"), kind=kind, due_at=OuterRef("due_at")
    )
    return queryset.exclude(Exists(sent))


def _notify_once(case: Case, kind: str, now: datetime) -> bool:
    """Record the notice and its event, unless this deadline already had one."""
    try:
        with transaction.atomic():
            CaseNotice.objects.create(case=case, kind=kind, due_at=case.due_at)
            _record_event(case, action=kind, user=None, now=now, public=False)
    except IntegrityError:
        return False
    return True


def _notices(queryset, kind: str, now: datetime, batch_size: int) -> int:
    done = 0
    while True:
        with transaction.atomic():
            batch = _claim(_without_notice(queryset, kind), batch_size)
            if not batch:
                return done
            done += sum(_notify_once(case, kind, now) for case in batch)
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


def _escalate(queryset, now: datetime, batch_size: int) -> list[int]:
    escalated: list[int] = []
    skipped: list[int] = []
    while True:
        with transaction.atomic():
            batch = _claim(queryset.exclude(pk__in=skipped), batch_size)
            if not batch:
                return escalated
            for case in batch:
                if hooks.call("get_story", case.pk) is not None:
                    skipped.append(case.pk)  # already tracked: never a second story
                    continue
                try:
                    with transaction.atomic():
                        case_escalate(case=case, user=None, now=now)
                except CaseError as exc:
                    logger.info("not escalating %s: %s", case.reference, exc)
                    skipped.append(case.pk)
                    continue
                escalated.append(case.pk)
        if len(batch) < batch_size:
            return escalated


def _stories(batch_size: int) -> int:
    """Create the story of every escalated case that has none yet (catch-up too).

    Each case is claimed with ``SKIP LOCKED`` while its story is made, so parallel
    scans take different cases instead of queuing on the same one; only stories
    made by this pass are counted.
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
                with transaction.atomic():
                    if not _claim(Case.objects.filter(pk=case_id), 1):
                        continue  # another scan is making this story
                    if hooks.call("get_story", case_id) is not None:
                        continue  # made meanwhile
                    hooks.call("create_story", case_id)
                    created += 1
            except Exception:
                # Level-triggered: the next pass tries again; the escalation stands.
                logger.exception("story for case %s failed", case_id)


def scan_overdue(*, now: datetime | None = None, batch_size: int | None = None):
    """One pass of the scan; safe to run any number of times, in parallel."""
    with calendar.shared():
        return _scan(
            now or timezone.now(), batch_size or settings.TRACKING_SCAN_BATCH_SIZE
        )


def _scan(now: datetime, batch_size: int) -> ScanResult:
    result = ScanResult()
    horizon = add_working_hours(now, settings.TRACKING_EARLY_WARNING_HOURS)
    result.warned = _notices(
        Case.objects.filter(awaiting_due_at__gte=now, awaiting_due_at__lt=horizon),
        NoticeKind.WARNING,
        now,
        batch_size,
    )
    result.reminded = _notices(
        Case.objects.overdue(now), NoticeKind.REMINDER, now, batch_size
    )
    result.escalated = len(_escalate(escalation_candidates(now), now, batch_size))
    result.stories = _stories(batch_size)
    return result
