"""Warnings and reminders (催办) carry the deadline they are about, not only the
time the scan ran: on the event, on the case page, and for events recorded before
the field existed (the migration)."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from bs4 import BeautifulSoup
from django.apps import apps
from django.test import Client
from django.utils import translation
from wagtail.users.models import UserProfile

from tests.factories import (
    CaseFactory,
    CategoryFactory,
    EventFactory,
    aware,
    case_in_state,
    officer,
)
from tracking import services as svc
from tracking.calendar import add_working_hours
from tracking.escalation import scan_overdue
from tracking.models import AcknowledgeUnit, CaseEvent, CaseNotice, State

pytestmark = pytest.mark.django_db

# Thursday 2026-11-26, 10:00 in Shanghai.
NOW = aware(2026, 11, 26, 10)


@pytest.fixture(autouse=True)
def _calendar(calendar_2026):
    return calendar_2026


def dispatched(due_at, **fields):
    return CaseFactory(
        state=State.DISPATCHED,
        is_efficiency=False,
        category=CategoryFactory(escalates=False),
        dispatched_at=due_at - timedelta(days=7),
        due_at=due_at,
        **fields,
    )


def test_a_reminder_after_an_outage_names_the_deadline_it_reminds_of():
    due = aware(2026, 11, 20, 17, 30)
    case = dispatched(due)

    # The scan was down for days: it notices now, but the case was due on the 20th.
    scan_overdue(now=NOW)

    event = CaseEvent.objects.get(case=case, action="reminder")
    assert event.created_at == NOW
    assert event.due_at == due
    notice = CaseNotice.objects.get(case=case, kind="reminder")
    assert (notice.due_at, notice.created_at) == (due, NOW)
    with translation.override("zh-hans"):
        assert "11月20日 17:30" in event.due_text()  # "应于 11月20日 17:30 办结"
    with translation.override("en"):
        assert event.due_text() == "Was due to be completed by November 20 17:30"


def test_a_warning_names_the_deadline_ahead():
    due = add_working_hours(NOW, 2)
    case = dispatched(due)

    scan_overdue(now=NOW)

    event = CaseEvent.objects.get(case=case, action="warning")
    assert event.due_at == due


def test_an_acknowledgement_warning_names_the_acknowledgement_deadline():
    category = CategoryFactory(
        acknowledge_limit=3, acknowledge_unit=AcknowledgeUnit.HOURS
    )
    case = svc.case_dispatch(
        case=case_in_state(State.ACCEPTED, category=category),
        user=officer(),
        department=category.default_department,
        now=NOW,
    )

    scan_overdue(now=NOW + timedelta(hours=2))

    event = CaseEvent.objects.get(case=case, action="acknowledge_warning")
    assert event.due_at == case.acknowledge_due_at
    assert event.due_at != case.due_at
    with translation.override("en"):
        assert event.due_text().startswith("To be acknowledged by ")


def test_the_case_page_shows_when_the_reminded_case_was_due():
    case = dispatched(aware(2026, 11, 20, 17, 30))
    scan_overdue(now=NOW)
    user = officer()
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)

    page = BeautifulSoup(
        client.get(f"/admin/tracking/cases/{case.pk}/").content.decode(),
        "html.parser",
    )

    row = page.select_one('#case-timeline-table tr[data-event-action="reminder"]')
    due = row.select_one("[data-event-due]")
    assert due["data-event-due"].startswith("2026-11-20T17:30")
    assert due.get_text(strip=True) == "Was due to be completed by November 20 17:30"
    assert row.select_one("time")["datetime"].startswith("2026-11-26T10:00")


def test_the_migration_gives_older_reminders_their_deadlines_in_order():
    backfill = import_module("tracking.migrations.0019_reminder_due_at").backfill_due_at
    first, second = aware(2026, 11, 10, 17, 30), aware(2026, 11, 17, 17, 30)
    case = dispatched(second)
    for due in (second, first):  # notices written in any order
        CaseNotice.objects.create(case=case, kind="reminder", due_at=due)
    older = EventFactory(case=case, action="reminder", created_at=NOW - timedelta(7))
    newer = EventFactory(case=case, action="reminder", created_at=NOW)
    unrelated = EventFactory(case=case, action="note", created_at=NOW)

    backfill(apps, None)

    due = dict(CaseEvent.objects.filter(case=case).values_list("pk", "due_at"))
    assert due[older.pk] == first
    assert due[newer.pk] == second
    assert due[unrelated.pk] is None
