"""Facts about a case that must not be lost or mis-told: what the paper reported,
acknowledgement deadlines, re-handling after a direct answer, a scan that one
broken case cannot stop, and one story event however the story was made."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import translation

from newsroom.models import HotTrackingPage
from newsroom.selectors import story_facts
from tests.factories import (
    CallbackFactory,
    CaseFactory,
    CategoryFactory,
    ResponseFactory,
    aware,
    case_in_state,
    liaison,
    officer,
    supervisor,
)
from tracking import escalation
from tracking import services as svc
from tracking.escalation import scan_overdue
from tracking.models import AcknowledgeUnit, Case, CaseEvent, CaseNotice, State

pytestmark = pytest.mark.django_db

# Thursday 2026-11-26, 10:00 in Shanghai.
NOW = aware(2026, 11, 26, 10)
DUE = aware(2026, 11, 18, 18)  # 5 full working days before NOW


@pytest.fixture(autouse=True)
def _calendar(calendar_2026):
    return calendar_2026


def overdue_complaint(**fields) -> Case:
    fields.setdefault("state", State.DISPATCHED)
    return CaseFactory(
        is_efficiency=True,
        category=CategoryFactory(escalation_threshold_days=3),
        dispatched_at=DUE - timedelta(days=7),
        due_at=DUE,
        **fields,
    )


# --- what the paper reported ---------------------------------------------------


def test_the_reported_overdue_figure_survives_an_extension(hot_tracking_site):
    case = overdue_complaint()
    scan_overdue(now=NOW)
    case.refresh_from_db()
    assert (case.escalated_due_at, case.escalated_days_overdue) == (DUE, 5)
    story = HotTrackingPage.objects.get(case=case)
    assert story_facts(story, NOW).days_overdue_at_escalation == 5

    svc.case_extend_deadline(
        case=case, user=supervisor(), working_days=20, reason="部门申请延期", now=NOW
    )
    story = HotTrackingPage.objects.get(case=case)
    facts = story_facts(story, NOW + timedelta(hours=1))
    assert facts.days_overdue_at_escalation == 5
    overdue = next(item for item in facts.items if item.kind == "overdue")
    assert overdue.at == DUE and "5" in overdue.text


def test_the_reported_figure_survives_a_reopen_and_a_new_dispatch(hot_tracking_site):
    case = overdue_complaint()
    scan_overdue(now=NOW)
    case = Case.objects.get(pk=case.pk)
    ResponseFactory(case=case, responded_at=NOW + timedelta(hours=1))
    case = svc.case_reply(
        case=case,
        user=liaison(case.department),
        text="已整改",
        now=NOW + timedelta(hours=1),
    )
    CallbackFactory(
        case=case, outcome="dissatisfied", called_at=NOW + timedelta(hours=2)
    )
    case = svc.case_reopen(case=case, user=officer(), now=NOW + timedelta(hours=3))
    later = NOW + timedelta(days=1)
    svc.case_dispatch(case=case, user=officer(), department=case.department, now=later)

    story = HotTrackingPage.objects.get(case=case)
    assert story_facts(story, later).days_overdue_at_escalation == 5
    assert Case.objects.get(pk=case.pk).escalated_days_overdue == 5


# --- acknowledgement deadlines (签收时限) -----------------------------------------


def test_dispatch_sets_the_acknowledgement_deadline_from_the_category():
    by_days = CategoryFactory(
        acknowledge_limit=2, acknowledge_unit=AcknowledgeUnit.DAYS
    )
    by_hours = CategoryFactory(
        acknowledge_limit=4, acknowledge_unit=AcknowledgeUnit.HOURS
    )
    friday = aware(2026, 11, 27, 16)
    a = svc.case_dispatch(
        case=case_in_state("accepted", category=by_days),
        user=officer(),
        department=by_days.default_department,
        now=friday,
    )
    b = svc.case_dispatch(
        case=case_in_state("accepted", category=by_hours),
        user=officer(),
        department=by_hours.default_department,
        now=friday,
    )
    assert a.acknowledge_due_at == aware(2026, 12, 1, 18)  # Tuesday's close
    assert b.acknowledge_due_at == aware(2026, 11, 30, 11)  # 2 h Fri + 2 h Mon


def test_a_late_acknowledgement_is_counted_and_a_timely_one_is_not():
    category = CategoryFactory(acknowledge_limit=1)
    department = category.default_department
    timely = svc.case_dispatch(
        case=case_in_state("accepted", category=category),
        user=officer(),
        department=department,
        now=NOW,
    )
    late = svc.case_dispatch(
        case=case_in_state("accepted", category=category),
        user=officer(),
        department=department,
        now=NOW,
    )
    svc.case_acknowledge(case=timely, user=liaison(department), now=NOW)
    svc.case_acknowledge(
        case=late, user=liaison(department), now=NOW + timedelta(days=3)
    )
    assert Case.objects.get(pk=timely.pk).late_acknowledgements == 0
    assert Case.objects.get(pk=late.pk).late_acknowledgements == 1


def test_the_department_is_warned_once_before_its_acknowledgement_deadline():
    category = CategoryFactory(
        acknowledge_limit=3, acknowledge_unit=AcknowledgeUnit.HOURS
    )
    case = svc.case_dispatch(
        case=case_in_state("accepted", category=category),
        user=officer(),
        department=category.default_department,
        now=NOW,
    )
    assert scan_overdue(now=NOW).acknowledge_warned == 0  # 3 h ahead: not yet
    soon = NOW + timedelta(hours=2)
    assert scan_overdue(now=soon).acknowledge_warned == 1
    assert scan_overdue(now=soon + timedelta(minutes=5)).acknowledge_warned == 0
    assert (
        CaseEvent.objects.filter(case=case, action="acknowledge_warning").count() == 1
    )
    notice = CaseNotice.objects.get(case=case, kind="acknowledge_warning")
    assert notice.due_at == case.acknowledge_due_at

    svc.case_acknowledge(case=case, user=liaison(case.department), now=soon)
    other = svc.case_dispatch(
        case=case_in_state("accepted", category=category),
        user=officer(),
        department=category.default_department,
        now=NOW,
    )
    svc.case_acknowledge(case=other, user=liaison(other.department), now=NOW)
    assert scan_overdue(now=soon).acknowledge_warned == 0  # acknowledged: no warning


# --- re-handling a consultation the hotline answered ------------------------------


def test_a_dissatisfied_callback_after_a_direct_answer_is_handled_again():
    case = case_in_state("accepted")
    case = svc.case_answer(case=case, user=officer(), answer="已告知流程", now=NOW)
    CallbackFactory(
        case=case, outcome="dissatisfied", called_at=NOW + timedelta(hours=1)
    )

    case = svc.case_reopen(
        case=case, user=officer(), reason="市民不满意", now=NOW + timedelta(hours=2)
    )
    assert case.state == State.ACCEPTED and case.replied_at is None
    case = svc.case_dispatch(
        case=case,
        user=officer(),
        department=case.category.default_department,
        now=NOW + timedelta(hours=3),
    )
    assert case.state == State.DISPATCHED


def test_a_satisfied_answer_is_not_reopened():
    case = case_in_state("answered", replied_at=NOW)
    CallbackFactory(case=case, outcome="satisfied", called_at=NOW + timedelta(hours=1))
    with (
        translation.override("en"),
        pytest.raises(svc.TransitionRefused, match="dissatisfied"),
    ):
        svc.case_reopen(case=case, user=officer(), now=NOW + timedelta(hours=2))


# --- the scan isolates each case -------------------------------------------------


def test_a_case_that_raises_does_not_stop_the_scan(
    hot_tracking_site, monkeypatch, caplog
):
    broken = overdue_complaint()
    fine = overdue_complaint()
    escalate = escalation.case_escalate

    def flaky(*, case, **kwargs):
        if case.pk == broken.pk:
            raise RuntimeError("disk full")
        return escalate(case=case, **kwargs)

    monkeypatch.setattr(escalation, "case_escalate", flaky)
    with caplog.at_level(logging.ERROR, logger="tracking.escalation"):
        result = scan_overdue(now=NOW)

    assert (result.escalated, result.failed) == (1, 1)
    assert Case.objects.get(pk=fine.pk).state == State.SUPERVISED
    assert Case.objects.get(pk=broken.pk).state == State.DISPATCHED
    assert broken.reference in caplog.text
    # The next pass tries the broken case again, and the others are not held up.
    monkeypatch.setattr(escalation, "case_escalate", escalate)
    assert scan_overdue(now=NOW + timedelta(minutes=5)).escalated == 1


def test_a_notice_that_raises_does_not_stop_the_other_notices(monkeypatch, caplog):
    broken = CaseFactory(state=State.DISPATCHED, due_at=aware(2026, 11, 25, 18))
    fine = CaseFactory(state=State.DISPATCHED, due_at=aware(2026, 11, 25, 18))
    record = escalation.record_event

    def flaky(case, **kwargs):
        if case.pk == broken.pk:
            raise RuntimeError("boom")
        return record(case, **kwargs)

    monkeypatch.setattr(escalation, "record_event", flaky)
    with caplog.at_level(logging.ERROR, logger="tracking.escalation"):
        result = scan_overdue(now=NOW)

    assert (result.reminded, result.failed) == (1, 1)
    assert CaseNotice.objects.filter(case=fine, kind="reminder").exists()
    assert not CaseNotice.objects.filter(case=broken).exists()
    assert broken.reference in caplog.text


# --- one story event, whoever made the story ---------------------------------------


def test_a_story_made_by_the_scan_is_recorded_like_one_made_by_hand(hot_tracking_site):
    by_scan = overdue_complaint()
    scan_overdue(now=NOW)
    # A supervisor's escalation gets its story right after the commit, as the
    # scan's does; asking for it again returns that story and records nothing.
    by_supervisor = overdue_complaint()
    svc.case_escalate(case=by_supervisor, user=supervisor(), reason="逾期", now=NOW)
    svc.case_request_story(case=by_supervisor.pk, user=supervisor(), now=NOW)
    # Escalated while no newsroom made stories: the supervisor asks for it.
    by_hand = overdue_complaint(state=State.SUPERVISED, escalated_at=NOW)
    svc.case_request_story(case=by_hand.pk, user=supervisor(), now=NOW)

    for case in (by_scan, by_supervisor, by_hand):
        story = HotTrackingPage.objects.get(case=case)
        event = CaseEvent.objects.get(case=case, action="story")
        assert (event.public, event.note) == (False, story.title)


def test_cases_escalated_before_the_figure_was_stored_get_it_from_the_migration():
    from importlib import import_module

    from django.apps import apps

    backfill = import_module(
        "tracking.migrations.0013_backfill_escalation_facts"
    ).backfill
    old = overdue_complaint(state=State.SUPERVISED, escalated_at=NOW)
    early = overdue_complaint(state=State.SUPERVISED, escalated_at=DUE)
    assert old.escalated_days_overdue is None

    backfill(apps, None)

    old.refresh_from_db()
    early.refresh_from_db()
    assert (old.escalated_due_at, old.escalated_days_overdue) == (DUE, 5)
    assert early.escalated_days_overdue is None  # not overdue when escalated
