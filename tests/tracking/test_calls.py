"""The call log in the admin: a call in a few keystrokes through the service, a
call that brings a new case leads on to the register form and the case keeps it,
what the hotline knows of a caller (officers only), and the call statistics.

Staff prefer English in the admin here, so that assertions hold on msgids.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.test import Client
from wagtail.users.models import UserProfile

from tests.factories import (
    CategoryFactory,
    CitizenFactory,
    DepartmentFactory,
    aware,
    case_in_state,
    liaison,
    officer,
)
from tracking import services as svc
from tracking import statistics
from tracking.duplicates import caller_history
from tracking.models import Call, CallOutcome, Case, CaseEvent

pytestmark = pytest.mark.django_db

NOW = aware(2026, 11, 27, 10)
CALLS_URL = "/admin/tracking/calls/"
NEW_CALL_URL = f"{CALLS_URL}new/"
HISTORY_URL = f"{CALLS_URL}caller-history/"
REGISTER_URL = "/admin/tracking/cases/new/"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(user) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content.decode(), "html.parser")


def text_of(response) -> str:
    return soup(response).get_text(" ", strip=True)


def call_data(**overrides) -> dict:
    data = {
        "caller_phone": "13905310001",
        "outcome": "answered",
        "note": "问停水时间",
        "duration_seconds": "95",
        "received_at": "",
        "case_reference": "",
    }
    return {**data, **overrides}


def history_references(response) -> list[str]:
    return [
        row["data-caller-case"] for row in soup(response).select("[data-caller-case]")
    ]


# --- the call form ----------------------------------------------------------------


def test_the_call_form_starts_on_the_phone_with_answered_and_now():
    response = client_for(officer()).get(NEW_CALL_URL)

    assert response.status_code == 200
    form = soup(response).select_one("form#w-editor-form")
    names = []
    for element in form.select("input, textarea, select"):
        name = element.get("name")
        if name and name not in names and name != "csrfmiddlewaretoken":
            names.append(name)
    assert names == [
        "caller_phone",
        "outcome",
        "note",
        "duration_seconds",
        "received_at",
        "case_reference",
        "heard_of",
        "heard_of_visit",
    ]
    assert form.select_one("[name=caller_phone]").has_attr("autofocus")
    checked = form.select_one("input[name=outcome][checked]")
    assert checked["value"] == "answered"
    assert [i["type"] for i in form.select("input[name=outcome]")] == ["radio"] * 5
    assert form.select_one("[name=received_at]")["value"].startswith("2026-11-27 10:00")


def test_logging_a_call_goes_through_the_service_and_names_the_known_caller():
    citizen = CitizenFactory(phone="13905310001")
    user = officer()

    response = client_for(user).post(
        NEW_CALL_URL, call_data(caller_phone="139-0531-0001", duration_seconds="1:35")
    )

    assert response.status_code == 302
    assert response["Location"] == CALLS_URL
    call = Call.objects.get()
    assert (call.caller_phone, call.citizen, call.operator) == (
        "13905310001",
        citizen,
        user,
    )
    assert (call.duration_seconds, call.received_at, call.outcome) == (
        95,
        NOW,
        CallOutcome.ANSWERED,
    )
    assert call.note == "问停水时间"


@pytest.mark.parametrize(
    ("typed", "seconds"),
    [("95", 95), ("1:35", 95), ("１：３５", 95), ("1:02:03", 3723), ("", 0)],
)
def test_a_duration_is_seconds_or_minutes_and_seconds(typed, seconds):
    client_for(officer()).post(NEW_CALL_URL, call_data(duration_seconds=typed))

    assert Call.objects.get().duration_seconds == seconds


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("duration_seconds", "-5", "Enter the duration in seconds"),
        ("duration_seconds", "1:75", "Enter the duration in seconds"),
        ("duration_seconds", "ten", "Enter the duration in seconds"),
        ("duration_seconds", "25:00:00", "at most 24 hours"),
        ("caller_phone", "call me back", "Enter the caller's number in digits"),
        ("received_at", "2026-11-28 10:00", "A call cannot come in later than now."),
        ("received_at", "yesterday", "Enter a valid date/time."),
        ("outcome", "hung_up", "Select a valid choice."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_logs_nothing(field, value, message):
    response = client_for(officer()).post(NEW_CALL_URL, call_data(**{field: value}))

    assert response.status_code == 200
    assert message in text_of(response)
    assert not Call.objects.exists()


def test_a_withheld_number_is_logged_without_a_citizen():
    CitizenFactory(phone="")

    client_for(officer()).post(NEW_CALL_URL, call_data(caller_phone=""))

    call = Call.objects.get()
    assert (call.caller_phone, call.citizen) == ("", None)


def test_editing_a_call_shows_its_length_as_minutes_and_keeps_its_time():
    user = officer()
    call = svc.call_register(
        user=user,
        caller_phone="13905310001",
        outcome="answered",
        duration_seconds=185,
        received_at=aware(2026, 11, 26, 9),
    )
    client = client_for(user)
    edit_url = f"{CALLS_URL}edit/{call.pk}/"

    form = soup(client.get(edit_url)).select_one("form#w-editor-form")
    response = client.post(
        edit_url, call_data(duration_seconds="2:00", received_at="", note="改")
    )

    assert form.select_one("[name=duration_seconds]")["value"] == "3:05"
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.duration_seconds, call.received_at, call.note) == (
        120,
        aware(2026, 11, 26, 9),
        "改",
    )


def test_the_call_form_and_case_page_render_in_chinese():
    client = Client()
    client.force_login(officer())
    case = case_in_state("registered")

    form = client.get(NEW_CALL_URL)
    page = client.get(f"/admin/tracking/cases/{case.pk}/")

    assert form.status_code == page.status_code == 200
    assert 'lang="zh-hans"' in form.content.decode()


def test_the_call_log_filters_by_outcome_day_and_case():
    case = case_in_state("accepted")
    for phone, outcome, moment, linked in [
        ("13700000001", "answered", aware(2026, 11, 26, 23, 30), None),
        ("13700000002", "dropped", aware(2026, 11, 27, 0, 30), None),
        ("13700000003", "follow_up", aware(2026, 11, 27, 9), case),
    ]:
        Call.objects.create(
            caller_phone=phone, outcome=outcome, received_at=moment, case=linked
        )
    client = client_for(officer())

    def listed(**params) -> set[str]:
        response = client.get(CALLS_URL, params)
        assert response.status_code == 200
        text = soup(response).select_one("table.listing tbody").get_text()
        return {p for p in ("13700000001", "13700000002", "13700000003") if p in text}

    assert listed() == {"13700000001", "13700000002", "13700000003"}
    assert listed(outcome="dropped") == {"13700000002"}
    assert listed(received_at_from="2026-11-27", received_at_to="2026-11-27") == {
        "13700000002",
        "13700000003",
    }
    assert listed(has_case="true") == {"13700000003"}
    assert listed(has_case="false") == {"13700000001", "13700000002"}


def test_a_liaison_may_not_log_calls():
    client = client_for(liaison(DepartmentFactory()))

    response = client.post(NEW_CALL_URL, call_data())

    assert response.status_code == 302  # Wagtail's "no permission" redirect
    assert response["Location"] != CALLS_URL
    assert not Call.objects.exists()


# --- a call that brings a new case ----------------------------------------------------


def test_a_new_case_call_leads_to_the_register_form_and_the_case_keeps_it():
    user = officer()
    client = client_for(user)
    citizen = CitizenFactory(name="周建国", phone="13905310001", address="幸福路12号")

    logged = client.post(
        NEW_CALL_URL,
        call_data(outcome="case_created", note="小区门口路灯坏了一周。"),
    )

    call = Call.objects.get()
    assert logged.status_code == 302
    assert logged["Location"] == f"{REGISTER_URL}?call={call.pk}"
    assert call.case is None

    form_page = client.get(logged["Location"])
    form = soup(form_page).select_one("form#w-editor-form")
    assert form["action"] == f"{REGISTER_URL}?call={call.pk}"
    assert form.select_one("[name=citizen_phone]")["value"] == "13905310001"
    assert form.select_one("[name=citizen_name]")["value"] == "周建国"
    assert form.select_one("[name=description]").get_text().strip() == (
        "小区门口路灯坏了一周。"
    )
    assert form.select_one("select[name=channel] option[selected]")["value"] == "phone"
    assert soup(form_page).select_one("[data-from-call]")["data-from-call"] == str(
        call.pk
    )

    registered = client.post(
        f"{REGISTER_URL}?call={call.pk}",
        {
            "kind": "help",
            "category": CategoryFactory().pk,
            "title": "路灯不亮",
            "description": "小区门口路灯坏了一周。",
            "channel": "phone",
            "citizen_name": "周建国",
            "citizen_phone": "13905310001",
            "citizen_address": "幸福路12号",
            "citizen_email": "",
        },
    )

    case = Case.objects.get()
    assert registered.status_code == 302
    call.refresh_from_db()
    assert (call.case, call.citizen, call.outcome) == (
        case,
        citizen,
        CallOutcome.CASE_CREATED,
    )
    assert case.citizen == citizen
    page = soup(client.get(registered["Location"]))
    rows = page.select("#case-calls-table tbody tr")
    assert [row["data-call"] for row in rows] == [str(call.pk)]
    assert "小区门口路灯坏了一周。" in rows[0].get_text()


def test_the_case_page_lists_the_calls_of_the_case_with_their_length():
    case = case_in_state("accepted")
    user = officer()
    svc.call_register(
        user=user,
        caller_phone=case.citizen.phone,
        outcome=CallOutcome.FOLLOW_UP,
        note="问进度",
        duration_seconds=125,
        received_at=aware(2026, 11, 26, 9),
        case=case,
    )

    page = soup(client_for(user).get(f"/admin/tracking/cases/{case.pk}/"))

    rows = page.select("#case-calls-table tbody tr")
    assert len(rows) == 1
    row = rows[0].get_text(" ", strip=True)
    assert "2:05" in row
    assert "问进度" in row
    assert "Caller asked about an existing case" in row


@pytest.mark.parametrize(
    ("call_param", "status", "message"),
    [
        ("abc", 400, "This is not a call of the call log."),
        ("99999", 404, "This call is not in the call log."),
        ("taken", 409, "This call already has its case"),
    ],
)
def test_the_register_form_refuses_a_call_it_cannot_register(
    call_param, status, message
):
    client = client_for(officer())
    if call_param == "taken":
        case = case_in_state("registered")
        call_param = str(
            svc.call_register(
                user=officer(), caller_phone="", outcome="follow_up", case=case
            ).pk
        )

    get = client.get(f"{REGISTER_URL}?call={call_param}")
    post = client.post(
        f"{REGISTER_URL}?call={call_param}",
        {"kind": "help", "title": "t", "description": "d", "channel": "phone"},
    )

    assert get.status_code == post.status_code == status
    assert message in text_of(get)
    assert message in text_of(post)
    assert Case.objects.filter(title="t").count() == 0


def test_a_call_that_got_its_case_meanwhile_is_not_registered_twice():
    client = client_for(officer())
    call = svc.call_register(
        user=officer(), caller_phone="13905310001", outcome="case_created"
    )
    client.get(f"{REGISTER_URL}?call={call.pk}")
    first = case_in_state("registered")
    Call.objects.filter(pk=call.pk).update(case=first)

    response = client.post(
        f"{REGISTER_URL}?call={call.pk}",
        {"kind": "help", "title": "再登记", "description": "d", "channel": "phone"},
    )

    assert response.status_code == 409
    assert first.reference in text_of(response)
    assert not Case.objects.filter(title="再登记").exists()
    assert not CaseEvent.objects.filter(action="register").exists()


# --- repeat callers -------------------------------------------------------------------


@pytest.fixture
def repeat_caller():
    """A caller with three earlier cases in two departments and two calls."""
    water, roads = DepartmentFactory(name="水务集团"), DepartmentFactory(name="市政")
    citizen = CitizenFactory(phone="13905310001")
    closed = case_in_state(
        "closed",
        citizen=citizen,
        title="去年停水",
        category=CategoryFactory(default_department=water),
        registered_at=NOW - timedelta(days=300),
    )
    old_open = case_in_state(
        "dispatched",
        citizen=citizen,
        title="路面坑洼",
        category=CategoryFactory(default_department=roads),
        registered_at=NOW - timedelta(days=30),
    )
    new_open = case_in_state(
        "accepted",
        citizen=citizen,
        title="水压低",
        category=CategoryFactory(default_department=water),
        registered_at=NOW - timedelta(days=2),
    )
    for days in (3, 1):
        Call.objects.create(
            caller_phone="13905310001", received_at=NOW - timedelta(days=days)
        )
    return {
        "citizen": citizen,
        "water": water,
        "roads": roads,
        "order": [new_open.reference, old_open.reference, closed.reference],
    }


def test_caller_history_lists_open_cases_first_then_the_newest(repeat_caller):
    history = caller_history("+86 139-0531-0001", user=officer())

    assert [case.reference for case in history.cases] == repeat_caller["order"]
    assert (history.case_count, history.earlier_calls) == (3, 2)
    assert history.phone == "13905310001"


def test_caller_history_is_cut_to_its_limit_and_counts_the_rest(repeat_caller):
    history = caller_history("13905310001", user=officer(), limit=2)

    assert [case.reference for case in history.cases] == repeat_caller["order"][:2]
    assert (history.case_count, history.more_cases) == (3, 1)


def test_caller_history_is_empty_for_a_liaison_even_of_their_own_department(
    repeat_caller,
):
    history = caller_history("13905310001", user=liaison(repeat_caller["water"]))

    assert (history.cases, history.case_count, history.earlier_calls) == ([], 0, 0)
    assert not history.known


def test_caller_history_reads_a_bounded_number_of_queries(
    repeat_caller, django_assert_max_num_queries
):
    user = officer()
    user.has_perm("tracking.view_all_cases")  # the permission cache, once

    with django_assert_max_num_queries(3):
        caller_history("13905310001", user=user)


def test_the_call_form_shows_the_callers_history_for_a_prefilled_number(
    repeat_caller,
):
    response = client_for(officer()).get(f"{NEW_CALL_URL}?phone=13905310001")

    assert history_references(response) == repeat_caller["order"]
    assert "13905310001 called the hotline 2 times before." in text_of(response)


def test_looking_up_the_caller_shows_the_history_and_logs_nothing(repeat_caller):
    response = client_for(officer()).post(
        NEW_CALL_URL, call_data(caller_phone="139 0531 0001", lookup="1")
    )

    assert response.status_code == 200
    assert history_references(response) == repeat_caller["order"]
    assert not Call.objects.filter(operator__isnull=False).exists()
    assert Call.objects.count() == 2


def test_the_history_fragment_for_the_forms_script(repeat_caller):
    client = client_for(officer())

    known = client.get(HISTORY_URL, {"phone": "13905310001"})
    unknown = client.get(HISTORY_URL, {"phone": "13700000000"})
    bad = client.get(HISTORY_URL, {"phone": "<script>"})

    assert known.status_code == 200
    assert history_references(known) == repeat_caller["order"]
    assert "<html" not in known.content.decode()
    assert history_references(unknown) == []
    assert "No earlier call or case from this number." in text_of(unknown)
    assert bad.status_code == 400
    assert "Enter the caller's number in digits" in bad.content.decode()


def test_a_liaison_gets_no_caller_history_anywhere(repeat_caller):
    water = repeat_caller["water"]
    client = client_for(liaison(water))
    own_case = Case.objects.get(title="水压低")

    fragment = client.get(HISTORY_URL, {"phone": "13905310001"})
    case_page = client.get(f"/admin/tracking/cases/{own_case.pk}/")

    assert fragment.status_code in (302, 403)
    assert "路面坑洼" not in fragment.content.decode()
    assert case_page.status_code == 200
    assert soup(case_page).select_one("#case-caller-history-section") is None
    assert history_references(case_page) == []
    assert "路面坑洼" not in case_page.content.decode()
    assert "去年停水" not in case_page.content.decode()


def test_the_case_page_shows_the_callers_other_cases_to_officers(repeat_caller):
    case = Case.objects.get(title="水压低")

    response = client_for(officer()).get(f"/admin/tracking/cases/{case.pk}/")

    panel = soup(response).select_one("#case-caller-history-section")
    assert panel is not None
    references = [row["data-caller-case"] for row in panel.select("[data-caller-case]")]
    assert references == repeat_caller["order"][1:]  # not the case itself


def test_the_register_form_shows_the_callers_history(repeat_caller):
    client = client_for(officer())

    prefilled = client.get(f"{REGISTER_URL}?phone=13905310001")
    looked_up = client.post(
        REGISTER_URL,
        {"kind": "help", "citizen_phone": "13905310001", "lookup": "1"},
    )

    assert history_references(prefilled) == repeat_caller["order"]
    assert looked_up.status_code == 200
    assert history_references(looked_up) == repeat_caller["order"]
    assert "The case could not be registered." not in text_of(looked_up)
    assert Case.objects.count() == 3


def test_the_register_form_from_a_call_does_not_count_that_call(repeat_caller):
    call = svc.call_register(
        user=officer(), caller_phone="13905310001", outcome="case_created"
    )

    response = client_for(officer()).get(f"{REGISTER_URL}?call={call.pk}")

    assert "called the hotline 2 times before." in text_of(response)


# --- statistics -----------------------------------------------------------------------


def test_calls_are_counted_on_their_local_day_around_midnight():
    for moment in [
        aware(2026, 3, 1, 23, 59),  # 15:59 UTC on the 1st
        aware(2026, 3, 2, 0, 1),  # 16:01 UTC on the 1st, the 2nd in Shanghai
        aware(2026, 3, 2, 7, 59),  # 23:59 UTC on the 1st
        aware(2026, 3, 2, 23, 0),
        aware(2026, 3, 3, 0, 0),
    ]:
        Call.objects.create(received_at=moment)

    assert statistics.calls_received(date(2026, 3, 1), date(2026, 3, 1)) == 1
    assert statistics.calls_received(date(2026, 3, 2), date(2026, 3, 2)) == 3
    assert statistics.calls_received(date(2026, 3, 1), date(2026, 3, 3)) == 5
    assert statistics.calls_per_day(date(2026, 3, 1), date(2026, 3, 3)) == {
        date(2026, 3, 1): 1,
        date(2026, 3, 2): 3,
        date(2026, 3, 3): 1,
    }
    assert statistics.busiest_day(date(2026, 3, 1), date(2026, 3, 3)) == (
        date(2026, 3, 2),
        3,
    )


def test_the_busiest_day_is_the_earliest_on_a_tie_and_none_without_calls():
    Call.objects.create(received_at=aware(2026, 3, 5, 10))
    Call.objects.create(received_at=aware(2026, 3, 4, 10))

    assert statistics.busiest_day(date(2026, 3, 1), date(2026, 3, 31)) == (
        date(2026, 3, 4),
        1,
    )
    assert statistics.busiest_day(date(2026, 4, 1), date(2026, 4, 30)) is None
    assert statistics.calls_received(date(2026, 4, 1), date(2026, 4, 30)) == 0
