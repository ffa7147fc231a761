"""The back office in the Wagtail admin: case listing, case page, actions, banner.

Staff users here prefer English in the admin, so that the assertions on English
msgids keep holding once the zh_Hans translations exist.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.users.models import UserProfile

from tests.factories import (
    CallbackFactory,
    CaseFactory,
    CategoryFactory,
    CitizenFactory,
    DepartmentFactory,
    EventFactory,
    ResponseFactory,
    aware,
    case_in_state,
    liaison,
    officer,
    supervisor,
)
from tracking import roles
from tracking import services as svc
from tracking.models import (
    CalendarYear,
    Call,
    Callback,
    Case,
    CaseEvent,
    Department,
    DepartmentResponse,
    WorkingCalendar,
)

pytestmark = pytest.mark.django_db

NOW = aware(2026, 11, 27, 10)  # a Friday, office hours
CASES_URL = "/admin/tracking/cases/"
CALENDAR_URL = "/admin/tracking/calendar/"
MISSING_2027 = "No official working calendar for 2027"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=True):
        yield


def client_for(user, **kwargs) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client(**kwargs)
    client.force_login(user)
    return client


def case_url(case, suffix="") -> str:
    return f"{CASES_URL}{case.pk}/{suffix}"


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content.decode(), "html.parser")


def listed_references(response) -> set[str]:
    """References in the listing table, one per row."""
    page = soup(response)
    return {
        cell.get_text(strip=True)
        for cell in page.select("table.listing tbody td.title")
    }


def row_of(response, reference: str):
    page = soup(response)
    for row in page.select("table.listing tbody tr"):
        if reference in row.get_text():
            return row
    raise AssertionError(f"{reference} is not listed")


def offered_actions(response) -> set[str]:
    """Names of the actions the case page offers, read from the forms' URLs."""
    page = soup(response)
    names = set()
    for form in page.find_all("form", action=True):
        if match := re.search(r"/transitions/(\w+)/$", form["action"]):
            names.add(match.group(1))
        elif form["action"].endswith("/callbacks/"):
            names.add("callback")
        elif form["action"].endswith("/deadline/"):
            names.add("extend")
    return names


def messages_text(response) -> str:
    return " ".join(
        li.get_text(" ", strip=True) for li in soup(response).select(".messages li")
    )


def post_action(client, case, action: str, data=None, *, expect_state=None):
    path = {
        "callback": "callbacks/",
        "extend": "deadline/",
    }.get(action, f"transitions/{action}/")
    payload = {"expect_state": expect_state or case.state, **(data or {})}
    return client.post(case_url(case, path), payload, follow=True)


def registered_case(user=None, **kwargs):
    """A case registered through the service, so it has its first event."""
    defaults = {
        "kind": "complaint",
        "title": "五湖路路口直行车道拥堵",
        "description": "直行车道排长队，右转车道空着。",
        "category": CategoryFactory(),
        "citizen": svc.CitizenData(name="张三", phone="13912345678"),
    }
    return svc.case_register(user=user or officer(), **{**defaults, **kwargs})


# --- the listing ------------------------------------------------------------------


def test_listing_shows_the_columns_and_marks_overdue_cases():
    department = DepartmentFactory(name="市交警支队")
    late = CaseFactory(overdue=True, title="路灯不亮", department=department)
    on_time = CaseFactory(dispatched=True, title="井盖缺失", department=department)

    response = client_for(officer()).get(CASES_URL)

    assert response.status_code == 200
    assert listed_references(response) == {late.reference, on_time.reference}
    late_row = row_of(response, late.reference)
    assert "路灯不亮" in late_row.get_text()
    assert "市交警支队" in late_row.get_text()
    assert "Dispatched" in late_row.get_text()
    assert late_row.find("time")["datetime"].startswith(
        late.due_at.astimezone(NOW.tzinfo).strftime("%Y-%m-%d")
    )
    assert "Overdue" in late_row.get_text()
    assert "Overdue" not in row_of(response, on_time.reference).get_text()
    assert row_of(response, late.reference).find("a")["href"] == case_url(late)


def test_listing_filters_by_state():
    registered = case_in_state("registered")
    dispatched = CaseFactory(dispatched=True)

    response = client_for(officer()).get(CASES_URL, {"state": "registered"})

    assert listed_references(response) == {registered.reference}
    response = client_for(officer()).get(
        CASES_URL, {"state": ["registered", "dispatched"]}
    )
    assert listed_references(response) == {registered.reference, dispatched.reference}


def test_listing_filters_overdue_cases_both_ways():
    late = CaseFactory(overdue=True)
    on_time = CaseFactory(dispatched=True)
    # Past its deadline but no longer waiting for the department: not overdue.
    replied = case_in_state("replied", due_at=NOW - timedelta(days=10))
    client = client_for(officer())

    assert listed_references(client.get(CASES_URL, {"overdue": "true"})) == {
        late.reference
    }
    assert listed_references(client.get(CASES_URL, {"overdue": "false"})) == {
        on_time.reference,
        replied.reference,
    }


def test_listing_filters_escalated_cases():
    escalated = case_in_state("supervised", escalated_at=NOW - timedelta(days=1))
    plain = CaseFactory(dispatched=True)
    client = client_for(officer())

    assert listed_references(client.get(CASES_URL, {"escalated": "true"})) == {
        escalated.reference
    }
    assert listed_references(client.get(CASES_URL, {"escalated": "false"})) == {
        plain.reference
    }


def test_listing_filters_by_kind_category_and_department():
    help_case = CaseFactory(kind="help")
    complaint = CaseFactory(kind="complaint")
    client = client_for(officer())

    assert listed_references(client.get(CASES_URL, {"kind": "help"})) == {
        help_case.reference
    }
    assert listed_references(
        client.get(CASES_URL, {"category": complaint.category_id})
    ) == {complaint.reference}
    assert listed_references(
        client.get(CASES_URL, {"department": help_case.department_id})
    ) == {help_case.reference}


def test_search_finds_a_case_by_reference_and_by_citizen_phone():
    wanted = CaseFactory(citizen=CitizenFactory(phone="13800001111"))
    other = CaseFactory(citizen=CitizenFactory(phone="13900002222"))
    client = client_for(officer())

    by_reference = client.get(CASES_URL, {"q": wanted.reference})
    by_phone = client.get(CASES_URL, {"q": "13800001111"})
    by_phone_tail = client.get(CASES_URL, {"q": "2222"})

    assert listed_references(by_reference) == {wanted.reference}
    assert listed_references(by_phone) == {wanted.reference}
    assert listed_references(by_phone_tail) == {other.reference}


def test_liaison_lists_only_their_own_departments_cases():
    mine = DepartmentFactory(name="市城管局")
    ours = CaseFactory(dispatched=True, department=mine)
    theirs = CaseFactory(dispatched=True, department=DepartmentFactory())

    response = client_for(liaison(mine)).get(CASES_URL)

    assert response.status_code == 200
    assert listed_references(response) == {ours.reference}
    assert theirs.reference not in response.content.decode()


def test_liaison_gets_404_for_another_departments_case_and_its_actions():
    mine = DepartmentFactory()
    theirs = CaseFactory(dispatched=True, department=DepartmentFactory())
    client = client_for(liaison(mine))

    assert client.get(case_url(theirs)).status_code == 404
    response = client.post(
        case_url(theirs, "transitions/acknowledge/"), {"expect_state": "dispatched"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "dispatched"


def test_cases_have_no_generic_edit_or_delete():
    case = case_in_state("registered")
    client = client_for(supervisor())

    assert client.get(f"{CASES_URL}edit/{case.pk}/").status_code == 404
    assert client.get(f"{CASES_URL}delete/{case.pk}/").status_code == 404
    assert client.post(f"{CASES_URL}delete/{case.pk}/").status_code == 404
    assert Case.objects.filter(pk=case.pk).exists()


def test_listing_query_count_does_not_grow_with_the_number_of_cases():
    client = client_for(officer())
    client.get(CASES_URL)  # warm up: session, content types, permissions

    def queries_for(count: int) -> int:
        Case.objects.all().delete()
        department = DepartmentFactory()
        for _ in range(count):
            CaseFactory(dispatched=True, department=department)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(CASES_URL)
        assert len(listed_references(response)) == count
        return len(captured)

    assert queries_for(5) == queries_for(50)


# --- the case page ----------------------------------------------------------------


def test_case_page_shows_the_case_citizen_and_timeline():
    user = officer(username="wang.officer")
    case = registered_case(user=user)
    svc.case_accept(case=case, user=user)

    response = client_for(user).get(case_url(case))

    assert response.status_code == 200
    page = soup(response)
    text = page.get_text(" ", strip=True)
    assert case.reference in text
    assert "五湖路路口直行车道拥堵" in text
    assert "13912345678" in text  # staff see the citizen's contact details
    assert page.select_one("[data-case-state]")["data-case-state"] == "accepted"
    rows = page.select("#case-timeline-table tbody tr")
    assert [row["data-event-action"] for row in rows] == ["register", "accept"]
    accept_row = rows[1].get_text(" ", strip=True)
    assert "Accepted" in accept_row
    assert "wang.officer" in accept_row
    assert "Registered → Accepted" in accept_row
    assert "Public" in accept_row


def test_case_page_shows_deadline_working_days_overdue_and_responses(calendar_2026):
    department = DepartmentFactory(name="市水务集团")
    # Due Friday 2026-11-20 18:00; by Friday 11-27 10:00 four working days
    # (23rd to 26th) have ended.
    case = case_in_state(
        "dispatched",
        department=department,
        dispatched_at=aware(2026, 11, 13, 9),
        due_at=aware(2026, 11, 20, 18),
    )
    ResponseFactory(case=case, text="已派员检修管道。")

    response = client_for(officer()).get(case_url(case))

    page = soup(response)
    assert page.select_one("[data-case-overdue]") is not None
    marker = page.select_one("[data-working-days-overdue]")
    assert marker["data-working-days-overdue"] == "4"
    assert "overdue by 4 working days" in page.get_text(" ", strip=True)
    assert "已派员检修管道。" in page.get_text()


def test_case_page_shows_acknowledgement_and_what_the_paper_reported(calendar_2026):
    case = case_in_state(
        "supervised",
        dispatched_at=aware(2026, 11, 13, 9),
        acknowledge_due_at=aware(2026, 11, 16, 18),
        acknowledged_at=aware(2026, 11, 18, 9),
        late_acknowledgements=1,
        due_at=aware(2026, 11, 30, 18),  # extended after the escalation
        escalated_at=aware(2026, 11, 26, 10),
        escalated_due_at=aware(2026, 11, 20, 18),
        escalated_days_overdue=3,
    )

    page = soup(client_for(officer()).get(case_url(case)))

    assert page.select_one("[data-acknowledge-due]")["data-acknowledge-due"].startswith(
        "2026-11-16T18:00"
    )
    late = page.select_one("[data-late-acknowledgements]")
    assert late["data-late-acknowledgements"] == "1"
    assert "acknowledged late 1 time" in late.get_text(" ", strip=True)
    reported = page.select_one("[data-escalated-days-overdue]")
    assert reported["data-escalated-days-overdue"] == "3"
    assert "3 working days past the deadline" in reported.get_text(" ", strip=True)


def test_case_page_query_count_does_not_grow_with_the_timeline():
    user = officer()
    client = client_for(user)
    department = DepartmentFactory()

    def queries_for(events: int) -> int:
        case = CaseFactory(dispatched=True, department=department)
        for _ in range(events):
            EventFactory(case=case, actor=officer(), note="催办")
            ResponseFactory(case=case, recorded_by=user)
            CallbackFactory(case=case, recorded_by=user)
        client.get(case_url(case))  # warm up caches that are not per request
        with CaptureQueriesContext(connection) as captured:
            response = client.get(case_url(case))
        rows = soup(response).select("#case-timeline-table tbody tr")
        assert len(rows) == events
        return len(captured)

    assert queries_for(2) == queries_for(15)


def test_officer_on_a_registered_case_may_accept_reject_or_withdraw():
    case = case_in_state("registered")

    response = client_for(officer()).get(case_url(case))

    assert offered_actions(response) == {"accept", "reject", "withdraw", "merge"}


def test_liaison_on_a_dispatched_case_may_acknowledge_return_or_reply():
    department = DepartmentFactory()
    case = CaseFactory(dispatched=True, department=department)

    response = client_for(liaison(department)).get(case_url(case))

    assert offered_actions(response) == {"acknowledge", "return_case", "reply"}


def test_officer_may_dispatch_an_accepted_case_without_a_department_yet():
    case = case_in_state("accepted", category=None, department=None)

    response = client_for(officer()).get(case_url(case))

    assert offered_actions(response) == {"answer", "dispatch", "withdraw", "merge"}


def test_only_a_supervisor_may_escalate_or_extend_an_overdue_case():
    case = CaseFactory(overdue=True)

    as_supervisor = client_for(supervisor()).get(case_url(case))
    as_officer = client_for(officer()).get(case_url(case))

    assert {"escalate", "extend"} <= offered_actions(as_supervisor)
    assert not {"escalate", "extend"} & offered_actions(as_officer)


def test_a_closed_case_offers_nothing():
    case = case_in_state("closed")

    response = client_for(supervisor()).get(case_url(case))

    assert response.status_code == 200
    assert offered_actions(response) == set()


def test_every_action_form_carries_the_state_the_user_saw():
    case = case_in_state("registered")

    page = soup(client_for(officer()).get(case_url(case)))

    forms = [
        f for f in page.find_all("form", action=True) if "/transitions/" in f["action"]
    ]
    assert forms
    for form in forms:
        assert form.find("input", {"name": "expect_state"})["value"] == "registered"
        assert form.find("input", {"name": "csrfmiddlewaretoken"}) is not None


# --- running actions --------------------------------------------------------------


def test_posting_accept_runs_the_transition_and_writes_one_event():
    user = officer()
    case = case_in_state("registered")

    response = post_action(client_for(user), case, "accept")

    case.refresh_from_db()
    assert case.state == "accepted"
    assert case.accepted_at is not None
    events = list(CaseEvent.objects.filter(case=case))
    assert [(e.action, e.actor, e.from_state, e.to_state) for e in events] == [
        ("accept", user, "registered", "accepted")
    ]
    assert response.redirect_chain[-1][0] == case_url(case)
    assert f"Case {case.reference}: Accepted." in messages_text(response)


def test_dispatching_sends_the_case_to_the_chosen_department_with_a_deadline(
    calendar_2026,
):
    department = DepartmentFactory(name="市住建局")
    case = case_in_state("accepted")

    response = post_action(
        client_for(officer()), case, "dispatch", {"department": department.pk}
    )

    case.refresh_from_db()
    assert case.state == "dispatched"
    assert case.department == department
    assert case.due_at > NOW
    assert CaseEvent.objects.filter(case=case, action="dispatch").count() == 1
    assert soup(response).select_one("[data-case-state]")["data-case-state"] == (
        "dispatched"
    )


def test_liaison_reply_records_the_response_and_marks_the_case_replied():
    department = DepartmentFactory()
    case = CaseFactory(dispatched=True, department=department)
    user = liaison(department)

    post_action(
        client_for(user),
        case,
        "reply",
        {"text": "已完成路面修补。", "channel": "document"},
    )

    case.refresh_from_db()
    assert case.state == "replied"
    response = DepartmentResponse.objects.get(case=case)
    assert (response.text, response.channel, response.recorded_by) == (
        "已完成路面修补。",
        "document",
        user,
    )


def test_a_stale_page_gets_the_conflict_message_and_changes_nothing():
    case = case_in_state("registered")
    svc.case_accept(case=case, user=officer())  # someone else, meanwhile
    events_before = CaseEvent.objects.filter(case=case).count()

    response = post_action(
        client_for(officer()),
        case,
        "reject",
        {"reason": "不属于热线受理范围"},
        expect_state="registered",
    )

    case.refresh_from_db()
    assert case.state == "accepted"
    assert CaseEvent.objects.filter(case=case).count() == events_before
    assert "was changed by someone else meanwhile" in messages_text(response)
    assert response.redirect_chain[-1][0] == case_url(case)


def test_a_missing_reason_is_refused_with_the_services_message():
    case = case_in_state("registered")

    response = post_action(client_for(officer()), case, "reject", {"reason": "  "})

    case.refresh_from_db()
    assert case.state == "registered"
    assert not CaseEvent.objects.filter(case=case).exists()
    assert "A reason is required to reject a case." in messages_text(response)


def test_a_form_without_the_state_seen_is_refused():
    case = case_in_state("registered")

    response = client_for(officer()).post(
        case_url(case, "transitions/accept/"), {}, follow=True
    )

    case.refresh_from_db()
    assert case.state == "registered"
    assert "The form is out of date" in messages_text(response)


def test_a_transition_the_state_does_not_allow_is_refused_with_a_message():
    case = case_in_state("registered")

    response = post_action(client_for(officer()), case, "close")

    case.refresh_from_db()
    assert case.state == "registered"
    assert "cannot be closed" in messages_text(response)


def test_a_transition_the_role_does_not_allow_is_forbidden():
    department = DepartmentFactory()
    case = case_in_state("registered", department=department)

    response = client_for(liaison(department)).post(
        case_url(case, "transitions/accept/"), {"expect_state": "registered"}
    )

    assert response.status_code == 403
    assert f"You may not do this to case {case.reference}." in (
        response.content.decode()
    )
    case.refresh_from_db()
    assert case.state == "registered"


def test_an_unknown_transition_is_not_found():
    case = case_in_state("registered")

    response = client_for(officer()).post(
        case_url(case, "transitions/delete/"), {"expect_state": "registered"}
    )

    assert response.status_code == 404


def test_actions_require_a_csrf_token():
    user = officer()
    case = case_in_state("registered")
    client = client_for(user, enforce_csrf_checks=True)

    response = client.post(
        case_url(case, "transitions/accept/"), {"expect_state": "registered"}
    )

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.state == "registered"


def test_actions_refuse_get():
    case = case_in_state("registered")

    response = client_for(officer()).get(case_url(case, "transitions/accept/"))

    assert response.status_code == 405


def test_recording_a_satisfied_callback_then_closing():
    case = case_in_state("replied", replied_at=NOW - timedelta(hours=2))
    ResponseFactory(case=case)
    user = officer()
    client = client_for(user)
    assert "callback" in offered_actions(client.get(case_url(case)))

    response = post_action(
        client,
        case,
        "callback",
        {"method": "home_visit", "outcome": "satisfied", "note": "市民表示满意"},
    )

    callback = Callback.objects.get(case=case)
    assert (callback.method, callback.outcome, callback.recorded_by) == (
        "home_visit",
        "satisfied",
        user,
    )
    assert CaseEvent.objects.filter(case=case, action="callback").count() == 1
    assert "close" in offered_actions(response)

    post_action(client, case, "close")
    case.refresh_from_db()
    assert case.state == "closed"


def test_a_callback_without_outcome_is_refused():
    case = case_in_state("replied", replied_at=NOW - timedelta(hours=2))

    response = post_action(client_for(officer()), case, "callback", {"method": "phone"})

    assert not Callback.objects.filter(case=case).exists()
    assert "Choose the outcome of the callback." in messages_text(response)


def test_supervisor_extends_a_deadline_by_working_days(calendar_2026):
    case = case_in_state(
        "dispatched",
        dispatched_at=aware(2026, 11, 23, 9),
        due_at=aware(2026, 11, 30, 18),  # Monday
    )

    response = post_action(
        client_for(supervisor()),
        case,
        "extend",
        {"working_days": "3", "reason": "需协调多个部门"},
    )

    case.refresh_from_db()
    assert case.due_at == aware(2026, 12, 3, 18)
    event = CaseEvent.objects.get(case=case, action="extend")
    assert "需协调多个部门" in event.note
    assert f"The deadline of case {case.reference} is now" in messages_text(response)


def test_an_officer_may_not_extend_a_deadline():
    case = CaseFactory(dispatched=True)
    due = case.due_at

    response = client_for(officer()).post(
        case_url(case, "deadline/"),
        {"expect_state": "dispatched", "working_days": "3", "reason": "x"},
    )

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.due_at == due
    assert not CaseEvent.objects.filter(case=case, action="extend").exists()


# --- registering a case -----------------------------------------------------------


def test_registering_a_case_through_the_form():
    category = CategoryFactory(name="道路交通")
    user = officer()

    response = client_for(user).post(
        f"{CASES_URL}new/",
        {
            "kind": "complaint",
            "is_efficiency": "on",
            "category": category.pk,
            "title": "信号灯配时不合理",
            "description": "早高峰直行绿灯太短。",
            "location_text": "五湖路与花园大道路口",
            "channel": "phone",
            "citizen_name": "李四",
            "citizen_phone": "13700001234",
            "citizen_address": "花园小区",
            "citizen_email": "",
        },
    )

    case = Case.objects.get(title="信号灯配时不合理")
    assert re.fullmatch(r"8890-\d{8}-\d{5}", case.reference)
    assert response.status_code == 302
    assert response["Location"] == case_url(case)
    assert case.state == "registered"
    assert case.is_efficiency
    assert case.department == category.default_department
    assert (case.citizen.name, case.citizen.phone) == ("李四", "13700001234")
    assert CaseEvent.objects.filter(case=case, action="register", actor=user).exists()


def test_the_register_form_shows_errors_and_creates_nothing():
    response = client_for(officer()).post(
        f"{CASES_URL}new/", {"kind": "complaint", "title": "", "description": ""}
    )

    assert response.status_code == 200
    assert not Case.objects.exists()
    assert "The case could not be registered." in messages_text(response)


def test_a_liaison_may_not_register_cases():
    client = client_for(liaison(DepartmentFactory()))

    get = client.get(f"{CASES_URL}new/")
    post = client.post(
        f"{CASES_URL}new/",
        {"kind": "help", "title": "t", "description": "d", "channel": "phone"},
    )

    assert get.status_code == 302  # Wagtail's "no permission" redirect
    assert post.status_code == 302
    assert get["Location"] == reverse("wagtailadmin_home")
    assert not Case.objects.exists()


def test_the_listing_offers_registering_only_to_those_who_may():
    department = DepartmentFactory()
    assert f"{CASES_URL}new/" in client_for(officer()).get(CASES_URL).content.decode()
    assert (
        f"{CASES_URL}new/"
        not in client_for(liaison(department)).get(CASES_URL).content.decode()
    )


# --- the working calendar banner --------------------------------------------------


def test_banner_warns_while_next_years_calendar_is_missing(calendar_2026):
    client = client_for(supervisor())

    dashboard = client.get("/admin/")
    calendar = client.get(CALENDAR_URL)

    assert MISSING_2027 in dashboard.content.decode()
    assert MISSING_2027 in calendar.content.decode()
    assert "counted Monday to Friday" in dashboard.content.decode()

    # A day added by hand does not make its year official...
    WorkingCalendar.objects.create(
        date=date(2027, 1, 1), is_workday=False, name="元旦", source="test"
    )
    assert MISSING_2027 in client.get("/admin/").content.decode()

    # ... a year imported as a whole does.
    CalendarYear.objects.create(year=2027, source="test")
    assert "No official working calendar" not in client.get("/admin/").content.decode()
    assert (
        "No official working calendar" not in client.get(CALENDAR_URL).content.decode()
    )


def test_banner_names_every_missing_year():
    # 2026 is seeded by the migrations; in 2027 neither 2027 nor 2028 is known.
    with time_machine.travel(aware(2027, 3, 1, 10), tick=True):
        response = client_for(officer()).get("/admin/")

    assert "No official working calendar for 2027, 2028" in response.content.decode()


def test_banner_is_not_shown_to_staff_who_do_not_work_with_the_calendar():
    response = client_for(liaison(DepartmentFactory())).get("/admin/")

    assert response.status_code == 200
    assert "No official working calendar" not in response.content.decode()


def test_calendar_listing_filters_by_year_and_workday(calendar_2026):
    client = client_for(supervisor())

    response = client.get(CALENDAR_URL, {"year": "2025", "is_workday": "true"})

    assert response.status_code == 200
    dates = {
        cell.get_text(strip=True) for cell in soup(response).select("tbody td.title")
    }
    expected = WorkingCalendar.objects.filter(date__year=2025, is_workday=True)
    assert len(dates) == expected.count() > 0
    assert all("2025" in d for d in dates)


# --- calls and reference data -----------------------------------------------------


def test_officer_logs_a_call_linked_to_a_case_by_reference():
    user = officer()
    case = case_in_state("registered")

    response = client_for(user).post(
        "/admin/tracking/calls/new/",
        {
            "received_at": "2026-11-27 09:30",
            "caller_phone": "13912345678",
            "duration_seconds": "180",
            "outcome": "case_created",
            "note": "",
            "case_reference": case.reference,
        },
    )

    assert response.status_code == 302
    call = Call.objects.get()
    assert (call.case, call.operator, call.duration_seconds) == (case, user, 180)
    listing = client_for(user).get("/admin/tracking/calls/")
    assert case.reference in listing.content.decode()


def test_a_call_with_an_unknown_case_reference_is_refused():
    response = client_for(officer()).post(
        "/admin/tracking/calls/new/",
        {
            "received_at": "2026-11-27 09:30",
            "caller_phone": "",
            "duration_seconds": "10",
            "outcome": "follow_up",
            "case_reference": "8890-20990101-99999",
        },
    )

    assert response.status_code == 200
    assert not Call.objects.exists()
    assert "No case has the reference number 8890-20990101-99999." in (
        response.content.decode()
    )


def test_reference_data_listings_render_for_officers():
    CategoryFactory(name="供水", default_department=DepartmentFactory(name="水务集团"))
    client = client_for(officer())

    for url, expected in [
        ("/admin/tracking/departments/", "水务集团"),
        ("/admin/tracking/categories/", "供水"),
        (CALENDAR_URL, "Working calendar"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert expected in response.content.decode(), url


def test_supervisor_edits_a_category_but_an_officer_may_not():
    category = CategoryFactory(name="供暖", handling_days=5)
    url = f"/admin/tracking/categories/edit/{category.pk}/"
    data = {
        "name": "供暖",
        "service_code": category.service_code,
        "description": "",
        "default_department": category.default_department_id,
        "handling_days": "7",
        "acknowledge_limit": "1",
        "acknowledge_unit": "days",
        "escalation_threshold_days": "3",
        "is_active": "on",
    }

    refused = client_for(officer()).post(url, data)
    assert refused["Location"] == reverse("wagtailadmin_home")
    category.refresh_from_db()
    assert category.handling_days == 5

    saved = client_for(supervisor()).post(url, data)
    assert saved["Location"] == "/admin/tracking/categories/"
    category.refresh_from_db()
    assert category.handling_days == 7


def test_a_department_still_used_by_cases_is_not_deleted():
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    case = CaseFactory(dispatched=True)

    response = client_for(admin).post(
        f"/admin/tracking/departments/delete/{case.department_id}/", follow=True
    )

    assert response.status_code == 200
    assert "is still used by cases and cannot be deleted" in messages_text(response)
    assert Department.objects.filter(pk=case.department_id).exists()


def test_the_group_editor_offers_the_case_permissions():
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    group = Group.objects.get(name=roles.CASE_OFFICERS)

    response = client_for(admin).get(
        reverse("wagtailusers_groups:edit", args=[group.pk])
    )

    html = response.content.decode()
    assert "Can accept cases" in html
    assert "Can see cases of every department" in html


def test_links_to_a_case_from_elsewhere_in_the_admin_respect_departments():
    mine = DepartmentFactory()
    case = CaseFactory(dispatched=True, department=DepartmentFactory())

    assert AdminURLFinder(officer()).get_edit_url(case) == case_url(case)
    assert AdminURLFinder(liaison(mine)).get_edit_url(case) is None


def test_hotline_menu_is_in_the_admin_sidebar():
    response = client_for(officer()).get("/admin/")

    assert "Hotline" in response.content.decode()
    assert CASES_URL in response.content.decode()
