"""The case page tells the deadlines a dispatch will set, takes the officer's note
to the department, forecasts the media escalation, and shows each instant of the
handling as the timeline tells it, also after a reopen."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import timezone
from wagtail.users.models import UserProfile

from tests.factories import (
    CallbackFactory,
    CaseFactory,
    CategoryFactory,
    DepartmentFactory,
    aware,
    case_in_state,
    liaison,
    officer,
)
from tracking import calendar
from tracking import services as svc
from tracking.models import (
    AcknowledgeUnit,
    CallbackOutcome,
    Case,
    CaseEvent,
    State,
)
from tracking.open311.selectors import service_request
from tracking.selectors import case_progress, public_timeline

pytestmark = pytest.mark.django_db

# Thursday 2026-11-26, 10:00 in Shanghai, office hours.
NOW = aware(2026, 11, 26, 10)
NOTE = "请联系现场负责人李工，139 0531 0000，周末也可上门。"


@pytest.fixture(autouse=True)
def _calendar(calendar_2026):
    return calendar_2026


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(user, language="en") -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def page_of(client, case) -> BeautifulSoup:
    response = client.get(f"/admin/tracking/cases/{case.pk}/")
    assert response.status_code == 200
    return BeautifulSoup(response.content.decode(), "html.parser")


def dispatch_deadlines(page: BeautifulSoup):
    # Dialogs render inside <template>: soupsieve's select() does not look there.
    return page.find(attrs={"data-dispatch-deadlines": True})


def text_of(node) -> str:
    # get_text() skips what bs4 parsed inside <template>: read the markup instead.
    return " ".join(re.sub(r"<[^>]+>", " ", node.decode_contents()).split())


# --- the dispatch dialog --------------------------------------------------------------


def test_the_dispatch_dialog_shows_the_deadlines_the_category_sets():
    category = CategoryFactory(handling_days=5, acknowledge_limit=1)
    case = case_in_state(State.ACCEPTED, category=category)

    box = dispatch_deadlines(page_of(client_for(officer()), case))

    assert box is not None
    due = calendar.deadline_after(NOW, 5)
    acknowledge = calendar.deadline_after(NOW, 1)
    assert timezone.localtime(due, calendar.local_zone()).date().isoformat() == (
        "2026-12-03"
    )
    due_cell = box.find(attrs={"data-dispatch-due": True})
    assert (
        due_cell["data-dispatch-due"]
        == due.astimezone(calendar.local_zone()).isoformat()
    )
    assert "(5 working days)" in text_of(due_cell)
    ack_cell = box.find(attrs={"data-dispatch-acknowledge-due": True})
    assert (
        ack_cell["data-dispatch-acknowledge-due"]
        == acknowledge.astimezone(calendar.local_zone()).isoformat()
    )
    assert "(1 working day)" in text_of(ack_cell)  # singular


def test_the_dialog_counts_an_acknowledgement_limit_in_working_hours():
    category = CategoryFactory(
        handling_days=1, acknowledge_limit=4, acknowledge_unit=AcknowledgeUnit.HOURS
    )
    case = case_in_state(State.RETURNED, category=category)

    box = dispatch_deadlines(page_of(client_for(officer()), case))

    assert "(1 working day)" in text_of(box.find(attrs={"data-dispatch-due": True}))
    ack_cell = box.find(attrs={"data-dispatch-acknowledge-due": True})
    assert "(4 working hours)" in text_of(ack_cell)
    assert (
        ack_cell["data-dispatch-acknowledge-due"]
        == calendar.add_working_hours(NOW, 4)
        .astimezone(calendar.local_zone())
        .isoformat()
    )


def test_the_dialog_promises_the_deadline_the_dispatch_then_sets():
    case = case_in_state(State.ACCEPTED, category=CategoryFactory(handling_days=7))
    client = client_for(officer())
    promised = dispatch_deadlines(page_of(client, case)).find(
        attrs={"data-dispatch-due": True}
    )["data-dispatch-due"]

    client.post(
        f"/admin/tracking/cases/{case.pk}/transitions/dispatch/",
        {"expect_state": "accepted", "department": case.department_id},
    )

    case.refresh_from_db()
    assert case.state == State.DISPATCHED
    assert case.due_at.astimezone(calendar.local_zone()).isoformat() == promised


# --- the note to the department -------------------------------------------------------


def test_the_dispatch_note_reaches_the_timeline_but_never_the_public():
    department = DepartmentFactory(name="市市政工程管理处")
    case = case_in_state(State.ACCEPTED, department=department)
    client = client_for(officer())

    response = client.post(
        f"/admin/tracking/cases/{case.pk}/transitions/dispatch/",
        {"expect_state": "accepted", "department": department.pk, "note": NOTE},
        follow=True,
    )

    assert response.status_code == 200
    event = CaseEvent.objects.get(case=case, action="dispatch")
    assert event.staff_note == NOTE
    assert event.note == "市市政工程管理处"  # what the public timeline names
    page = BeautifulSoup(response.content.decode(), "html.parser")
    row = page.select_one('#case-timeline-table tr[data-event-action="dispatch"]')
    assert "李工" in row.select_one("[data-staff-note]").get_text()

    case = Case.objects.get(pk=case.pk)
    public = [item.text for item in public_timeline(case)]
    assert "市市政工程管理处" in public
    assert not any("李工" in text for text in public)
    assert not any("李工" in item.text for item in case_progress(case).items)
    assert "李工" not in str(service_request(case.reference))


# --- the media forecast ---------------------------------------------------------------


def test_the_page_says_when_the_case_goes_to_the_media_if_nothing_happens():
    due = aware(2026, 11, 27, 17, 30)  # Friday
    case = CaseFactory(
        state=State.DISPATCHED,
        is_efficiency=True,
        category=CategoryFactory(escalation_threshold_days=3),
        dispatched_at=NOW - timedelta(days=1),
        due_at=due,
    )

    forecast = page_of(client_for(officer(), "zh-hans"), case).select_one(
        "[data-escalation-forecast]"
    )

    assert (
        forecast["data-escalation-forecast"]
        == case.escalates_at().astimezone(calendar.local_zone()).isoformat()
    )
    # Mon 30 Nov, Tue 1 and Wed 2 December are the three working days.
    assert "12月2日" in text_of(forecast)


def test_a_case_that_does_not_escalate_by_itself_says_so():
    case = CaseFactory(
        state=State.DISPATCHED,
        is_efficiency=False,
        category=CategoryFactory(escalates=False),
        dispatched_at=NOW - timedelta(days=1),
        due_at=NOW + timedelta(days=3),
    )

    forecast = page_of(client_for(officer()), case).select_one(
        "[data-escalation-forecast]"
    )

    assert forecast["data-escalation-forecast"] == "never"
    assert "Does not go to the media by itself" in text_of(forecast)


def test_no_forecast_once_the_case_is_with_the_media():
    case = case_in_state(
        State.SUPERVISED, is_efficiency=True, escalated_at=NOW - timedelta(days=1)
    )

    page = page_of(client_for(officer()), case)

    assert page.select_one("[data-escalation-forecast]") is None


# --- instants that agree with the timeline --------------------------------------------


def replied_then_reopened() -> Case:
    """The path of the demo's unpaid-wages case: dispatched, replied without an
    acknowledgement, the citizen dissatisfied, reopened."""
    user = officer()
    case = case_in_state(State.ACCEPTED)
    svc.case_dispatch(
        case=case, user=user, department=case.department, now=aware(2026, 11, 6, 9)
    )
    svc.case_reply(
        case=case.pk, user=user, text="已督促支付。", now=aware(2026, 11, 7, 15)
    )
    CallbackFactory(
        case=case, outcome=CallbackOutcome.DISSATISFIED, called_at=aware(2026, 11, 9)
    )
    svc.case_reopen(case=case.pk, user=user, now=aware(2026, 11, 9, 10))
    return Case.objects.get(pk=case.pk)


def stamp(page, field):
    return page.select_one(f'[data-stamp="{field}"]')


def test_after_a_reopen_the_page_shows_the_earlier_reply_and_says_so():
    case = replied_then_reopened()

    page = page_of(client_for(officer()), case)

    replied = stamp(page, "replied_at")
    assert "no reply since the reopen" in text_of(replied)
    previous = replied.select_one("[data-previous-round]")
    assert previous["data-previous-round"].startswith("2026-11-07T15:00")
    dispatched = stamp(page, "dispatched_at")
    assert "not dispatched again since the reopen" in text_of(dispatched)
    assert dispatched.select_one("[data-previous-round]")[
        "data-previous-round"
    ].startswith("2026-11-06T09:00")
    # Never acknowledged: the page says why instead of a bare dash.
    acknowledged = text_of(stamp(page, "acknowledged_at"))
    assert "the department replied without acknowledging it" in acknowledged


def test_the_next_round_is_labelled_as_this_round():
    case = replied_then_reopened()
    user = officer()
    svc.case_dispatch(
        case=case, user=user, department=case.department, now=aware(2026, 11, 10, 9)
    )
    svc.case_acknowledge(
        case=case.pk, user=liaison(case.department), now=aware(2026, 11, 10, 11)
    )

    page = page_of(client_for(user), Case.objects.get(pk=case.pk))

    for field, at in (
        ("dispatched_at", "2026-11-10T09:00"),
        ("acknowledged_at", "2026-11-10T11:00"),
    ):
        cell = stamp(page, field)
        assert cell.select_one("time")["datetime"].startswith(at)
        assert cell.select_one("[data-this-round]") is not None
    assert "no reply since the reopen" in text_of(stamp(page, "replied_at"))


def test_without_a_reopen_the_instants_are_the_cases_own():
    user = officer()
    case = case_in_state(State.ACCEPTED)
    svc.case_dispatch(
        case=case, user=user, department=case.department, now=aware(2026, 11, 20, 9)
    )
    svc.case_acknowledge(
        case=case.pk, user=liaison(case.department), now=aware(2026, 11, 20, 10)
    )

    page = page_of(client_for(user), Case.objects.get(pk=case.pk))

    cell = stamp(page, "acknowledged_at")
    assert cell.select_one("time")["datetime"].startswith("2026-11-20T10:00")
    assert cell.select_one("[data-this-round]") is None
    assert text_of(stamp(page, "replied_at")) == "—"
