"""The officer and department API at /api/v1/: who sees what, and every action
through the same services and registry as the back office."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import (
    CallbackFactory,
    CaseFactory,
    CategoryFactory,
    DepartmentFactory,
    EventFactory,
    ResponseFactory,
    aware,
    case_in_state,
    liaison,
    officer,
    staff,
    supervisor,
)
from tracking import roles
from tracking.api.views import MAX_BODY_BYTES, LimitedJSONParser, RequestTooLarge
from tracking.models import (
    Callback,
    CallbackOutcome,
    Case,
    CaseEvent,
    Citizen,
    DepartmentResponse,
    State,
)

pytestmark = pytest.mark.django_db

# A Wednesday in March 2026, during office hours.
NOW = aware(2026, 3, 18, 10)
CASES = "/api/v1/cases/"


def client_for(user=None, *, language="en") -> APIClient:
    """A client signed in with ``user``'s token (anonymous without a user)."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def case_url(case, suffix="") -> str:
    return f"{CASES}{case.pk}/{suffix}"


def post(client, url, data=None, **kwargs):
    return client.post(url, data if data is not None else {}, format="json", **kwargs)


def snapshot(case) -> tuple:
    """What a refused request must leave exactly as it was."""
    fresh = Case.objects.get(pk=case.pk)
    return (
        fresh.state,
        fresh.department_id,
        fresh.due_at,
        fresh.closed_at,
        fresh.bounce_count,
        CaseEvent.objects.count(),
        DepartmentResponse.objects.count(),
        Callback.objects.count(),
    )


@pytest.fixture
def pinned_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def department():
    return DepartmentFactory(name="市交警支队")


@pytest.fixture
def other_department():
    return DepartmentFactory(name="市水务局")


@pytest.fixture
def category(department):
    return CategoryFactory(
        name="交通拥堵", service_code="traffic", default_department=department
    )


@pytest.fixture
def desk():
    return officer(first_name="丽", last_name="王")


# --- authentication and roles ---------------------------------------------------------


def test_anonymous_requests_are_asked_to_authenticate():
    response = client_for().get(CASES)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_an_unknown_token_is_refused():
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")

    assert client.get(CASES).status_code == 401


def test_a_token_signs_the_officer_in(desk):
    case = case_in_state(State.REGISTERED)

    response = client_for(desk).get(CASES)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [case.pk]


def test_drf_create_token_issues_a_working_token(desk):
    call_command("drf_create_token", desk.username)

    token = Token.objects.get(user=desk)
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(CASES).status_code == 200


def test_session_auth_reads_and_writes_with_the_csrf_token(desk):
    case = case_in_state(State.REGISTERED)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(desk)

    assert client.get(CASES).status_code == 200
    refused = post(client, case_url(case, "transitions/accept/"))
    assert refused.status_code == 403
    assert Case.objects.get(pk=case.pk).state == State.REGISTERED

    # The cookie a page of the site sets, and the header the client copies it to.
    csrf = "8890csrf" * 4
    client.cookies["csrftoken"] = csrf
    accepted = post(
        client, case_url(case, "transitions/accept/"), HTTP_X_CSRFTOKEN=csrf
    )
    assert accepted.status_code == 200
    assert accepted.json()["state"] == State.ACCEPTED


def test_an_editor_without_a_case_role_is_refused():
    editor = staff(roles.EDITORS)
    case = case_in_state(State.REGISTERED)

    assert client_for(editor).get(CASES).status_code == 403
    assert client_for(editor).get(case_url(case)).status_code == 403
    assert client_for(editor).get("/api/v1/departments/").status_code == 403


def test_messages_follow_accept_language(desk):
    case = case_in_state(State.DISPATCHED)

    english = post(client_for(desk), case_url(case, "transitions/accept/"))
    chinese = post(
        client_for(desk, language="zh-hans"), case_url(case, "transitions/accept/")
    )

    assert english.status_code == chinese.status_code == 409
    assert "cannot be" in english.json()["detail"]
    assert "无法" in chinese.json()["detail"]


# --- the case list --------------------------------------------------------------------


def test_list_shows_the_fields_and_the_citizen_to_officers(desk, category):
    case = CaseFactory(
        category=category,
        location_text="五湖路口",
        latitude="30.123456",
        longitude="114.654321",
    )

    row = client_for(desk).get(CASES).json()["results"][0]

    assert row["id"] == case.pk
    assert row["reference"] == case.reference
    assert row["category"] == {
        "id": category.pk,
        "service_code": "traffic",
        "name": "交通拥堵",
    }
    assert row["department"] == {
        "id": category.default_department_id,
        "name": "市交警支队",
    }
    assert row["state"] == "registered"
    assert row["state_display"] == "Registered"
    assert row["latitude"] == 30.123456
    assert row["longitude"] == 114.654321
    assert row["is_overdue"] is False
    assert row["working_days_overdue"] == 0
    assert row["citizen"] == {"name": "张三丰", "phone": case.citizen.phone}


def test_liaisons_see_their_departments_cases_without_the_citizen(
    department, other_department
):
    mine = CaseFactory(department=department, category=None)
    CaseFactory(department=other_department, category=None)
    CaseFactory(department=None, category=None)

    rows = client_for(liaison(department)).get(CASES).json()["results"]

    assert [row["id"] for row in rows] == [mine.pk]
    assert rows[0]["citizen"] is None
    assert "张三丰" not in json.dumps(rows, ensure_ascii=False)


def test_a_liaison_without_a_department_sees_no_case(department):
    CaseFactory(department=department)
    nobody = staff(roles.DEPARTMENT_LIAISONS)

    response = client_for(nobody).get(CASES)

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_list_is_newest_first_in_cursor_pages(desk):
    cases = [
        CaseFactory(registered_at=NOW - timedelta(hours=hours)) for hours in range(5)
    ]
    client = client_for(desk)

    seen, url, pages = [], f"{CASES}?page_size=2", 0
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 2
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
        # A case registered between two pages does not shift the next page.
        if pages == 1:
            CaseFactory(registered_at=NOW + timedelta(hours=1))

    assert seen == [case.pk for case in cases]
    assert pages == 3


def test_cursor_pages_go_back_with_previous(desk):
    cases = [
        CaseFactory(registered_at=NOW - timedelta(hours=hours)) for hours in range(3)
    ]
    client = client_for(desk)
    second = client.get(client.get(f"{CASES}?page_size=2").json()["next"]).json()

    first = client.get(second["previous"]).json()

    assert [row["id"] for row in second["results"]] == [cases[2].pk]
    assert [row["id"] for row in first["results"]] == [cases[0].pk, cases[1].pk]


@pytest.mark.parametrize("size", ["0", "101", "-1", "ten", "2.5", "", "³"])
def test_a_bad_page_size_is_a_400(desk, size):
    response = client_for(desk).get(CASES, {"page_size": size})

    assert response.status_code == 400
    assert "page_size" in response.json()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "cD1ub3QtYS1kYXRl",  # p=not-a-date
        "cD0yMDI2LTAzLTE4IDAyOjAwOjAw",  # p=2026-03-18 02:00:00 (naive)
        "cD0wMDAxLTAxLTAxIDAwOjAwOjAwKzA1OjAw",  # p=0001-01-01 00:00:00+05:00
    ],
)
def test_a_forged_cursor_is_a_404_not_a_crash(desk, cursor):
    CaseFactory()

    response = client_for(desk).get(CASES, {"cursor": cursor})

    assert response.status_code == 404


# --- filters --------------------------------------------------------------------------


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_filter_by_one_state_or_several(desk):
    registered = case_in_state(State.REGISTERED)
    accepted = case_in_state(State.ACCEPTED)
    case_in_state(State.CLOSED)
    client = client_for(desk)

    assert ids(client.get(CASES, {"state": "registered"})) == {registered.pk}
    assert ids(client.get(CASES, {"state": "registered,accepted"})) == {
        registered.pk,
        accepted.pk,
    }
    assert len(ids(client.get(CASES))) == 3


def test_filter_by_kind_category_and_department(desk, category, other_department):
    traffic = CaseFactory(category=category, kind="complaint")
    water = CaseFactory(
        category=CategoryFactory(service_code="water"),
        department=other_department,
        kind="help",
    )
    client = client_for(desk)

    assert ids(client.get(CASES, {"kind": "help"})) == {water.pk}
    assert ids(client.get(CASES, {"category": category.pk})) == {traffic.pk}
    assert ids(client.get(CASES, {"category": "water"})) == {water.pk}
    assert ids(client.get(CASES, {"department": other_department.pk})) == {water.pk}


def test_filter_overdue_and_escalated(desk, calendar_2026, pinned_time):
    late = CaseFactory(
        state=State.DISPATCHED,
        dispatched_at=NOW - timedelta(days=20),
        due_at=NOW - timedelta(days=10),
    )
    on_time = CaseFactory(
        state=State.DISPATCHED,
        dispatched_at=NOW - timedelta(days=1),
        due_at=NOW + timedelta(days=4),
    )
    escalated = CaseFactory(
        state=State.SUPERVISED,
        escalated_at=NOW - timedelta(days=2),
        due_at=NOW + timedelta(days=1),
    )
    client = client_for(desk)

    assert ids(client.get(CASES, {"overdue": "true"})) == {late.pk}
    assert ids(client.get(CASES, {"overdue": "false"})) == {on_time.pk, escalated.pk}
    assert ids(client.get(CASES, {"escalated": "1"})) == {escalated.pk}
    assert ids(client.get(CASES, {"escalated": "false"})) == {late.pk, on_time.pk}
    row = next(
        row for row in client.get(CASES).json()["results"] if row["id"] == late.pk
    )
    assert row["is_overdue"] is True
    # Due on Sunday 8 March: 9 to 17 March are 7 working days.
    assert row["working_days_overdue"] == 7


def test_filter_by_registration_dates_and_times(desk):
    march_1 = CaseFactory(registered_at=aware(2026, 3, 1, 9))
    march_31_night = CaseFactory(registered_at=aware(2026, 3, 31, 23, 30))
    april_1 = CaseFactory(registered_at=aware(2026, 4, 1, 0, 30))
    client = client_for(desk)

    march = {"registered_after": "2026-03-01", "registered_before": "2026-03-31"}
    assert ids(client.get(CASES, march)) == {march_1.pk, march_31_night.pk}
    assert ids(
        client.get(CASES, {"registered_after": "2026-03-31T23:00:00+08:00"})
    ) == {
        march_31_night.pk,
        april_1.pk,
    }
    # A time without an offset is the hotline's (UTC+8).
    assert ids(client.get(CASES, {"registered_before": "2026-03-01T10:00:00"})) == {
        march_1.pk
    }
    assert ids(client.get(CASES, {"registered_after": "2026-03-31T16:00:00Z"})) == {
        april_1.pk
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "open"}, "state"),
        ({"state": "registered,nonsense"}, "state"),
        ({"kind": "praise"}, "kind"),
        ({"category": "no-such-code"}, "category"),
        ({"category": "999999"}, "category"),
        ({"category": "9" * 40}, "category"),
        ({"category": "a\x00b"}, "category"),
        ({"category": "³"}, "category"),
        ({"category": "١٢"}, "category"),
        ({"state": ""}, "state"),
        ({"state": "registered,,accepted"}, "state"),
        ({"kind": " "}, "kind"),
        ({"registered_after": ""}, "registered_after"),
        ({"department": "abc"}, "department"),
        ({"department": "99999999999999999999999"}, "department"),
        ({"overdue": "maybe"}, "overdue"),
        ({"escalated": "2"}, "escalated"),
        ({"registered_after": "yesterday"}, "registered_after"),
        ({"registered_after": "2026-02-30"}, "registered_after"),
        ({"registered_after": "2026-03-01T25:00:00"}, "registered_after"),
        ({"registered_before": "9999-12-31"}, "registered_before"),
        ({"registered_after": "0001-01-01T00:00:00+05:00"}, "registered_after"),
        (
            {"registered_after": "2026-04-01", "registered_before": "2026-03-01"},
            "registered_before",
        ),
    ],
)
def test_an_invalid_filter_is_a_400_naming_the_field(desk, params, field):
    CaseFactory()

    response = client_for(desk).get(CASES, params)

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert body[field] and all(isinstance(message, str) for message in body[field])


def test_list_runs_a_fixed_number_of_queries(desk, calendar_2026, pinned_time):
    def count(client) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CASES, {"overdue": "false"}).status_code == 200
        return len(queries)

    def cases(n):
        for day in range(n):
            CaseFactory(
                state=State.DISPATCHED,
                dispatched_at=NOW - timedelta(days=day),
                due_at=NOW - timedelta(days=day) + timedelta(days=400 * (day % 2)),
            )

    client = client_for(desk)
    cases(2)
    few = count(client)
    cases(20)

    assert count(client) <= few
    assert len(client.get(CASES).json()["results"]) == 22


def test_the_list_of_a_liaison_runs_a_fixed_number_of_queries(
    department, django_assert_max_num_queries
):
    for _ in range(15):
        CaseFactory(department=department, category=None)
    client = client_for(liaison(department))
    client.get(CASES)  # the site's own lookups, once per process

    # Token and user, permissions (2), staff profile, cases.
    with django_assert_max_num_queries(5):
        assert len(client.get(CASES).json()["results"]) == 15


# --- one case -------------------------------------------------------------------------


def test_detail_has_the_timeline_responses_and_callbacks(desk, department):
    case = case_in_state(State.REPLIED, department=department, category=None)
    EventFactory(
        case=case,
        action="dispatch",
        from_state="accepted",
        to_state="dispatched",
        note=department.name,
        actor=desk,
    )
    EventFactory(case=case, action="reminder")
    ResponseFactory(case=case, text="已安排施划直行标线。", recorded_by=desk)
    CallbackFactory(case=case, outcome=CallbackOutcome.SATISFIED, note="很满意")

    body = client_for(desk).get(case_url(case)).json()

    dispatch, reminder = body["events"]
    assert dispatch["action"] == "dispatch"
    assert dispatch["label"] == "Dispatched"
    assert dispatch["from_state"] == "accepted"
    assert dispatch["to_state_display"] == "Dispatched"
    assert dispatch["note"] == "市交警支队"
    assert dispatch["actor"] == "丽 王"
    assert reminder["label"] == "Reminder: deadline passed"
    assert reminder["actor"] is None
    assert body["responses"][0]["text"] == "已安排施划直行标线。"
    assert body["responses"][0]["department"]["name"] == "市交警支队"
    assert body["callbacks"][0]["outcome"] == "satisfied"
    assert body["callbacks"][0]["note"] == "很满意"


def test_detail_runs_a_fixed_number_of_queries(desk, django_assert_max_num_queries):
    case = case_in_state(State.REPLIED)
    for _ in range(10):
        EventFactory(case=case, actor=desk)
        ResponseFactory(case=case, recorded_by=desk)
        CallbackFactory(case=case, recorded_by=desk)
    client = client_for(desk)
    client.get(CASES)  # the site's own lookups, once per process

    # Token and user, permissions (2), the case, events, responses, callbacks.
    with django_assert_max_num_queries(7):
        body = client.get(case_url(case)).json()
    assert len(body["events"]) == len(body["responses"]) == 10


def test_another_departments_case_is_a_404_for_a_liaison(department, other_department):
    theirs = CaseFactory(department=other_department, state=State.DISPATCHED)
    client = client_for(liaison(department))
    before = snapshot(theirs)

    assert client.get(case_url(theirs)).status_code == 404
    assert client.get(case_url(theirs, "transitions/")).status_code == 404
    assert client.get(case_url(theirs, "responses/")).status_code == 404
    assert post(client, case_url(theirs, "transitions/acknowledge/")).status_code == 404
    assert post(client, case_url(theirs, "transitions/no_such/")).status_code == 404
    assert (
        post(client, case_url(theirs, "responses/"), {"text": "已处理"}).status_code
        == 404
    )
    assert snapshot(theirs) == before


def test_the_404_for_a_case_that_exists_elsewhere_is_the_same_as_for_none(
    department, other_department
):
    theirs = CaseFactory(department=other_department)
    client = client_for(liaison(department))

    elsewhere = client.get(case_url(theirs))
    missing = client.get(f"{CASES}{theirs.pk + 1000}/")

    assert elsewhere.status_code == missing.status_code == 404
    assert elsewhere.json() == missing.json()


@pytest.mark.parametrize("case_id", ["abc", "12abc", "١٢", "99999999999999999999999"])
def test_a_malformed_case_id_is_a_json_404(desk, case_id):
    response = client_for(desk).get(f"{CASES}{case_id}/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_other_addresses_under_the_api_are_json_404s(desk):
    response = client_for(desk).get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("put", ""),
        ("patch", ""),
        ("delete", ""),
        ("get", "transitions/accept/"),
        ("delete", "responses/"),
        ("put", "callbacks/"),
        ("get", "extend-deadline/"),
    ],
)
def test_wrong_methods_are_405(desk, method, suffix):
    case = case_in_state(State.REGISTERED)
    before = snapshot(case)

    response = getattr(client_for(desk), method)(case_url(case, suffix))

    assert response.status_code == 405
    assert snapshot(case) == before


def test_delete_on_the_list_is_405(desk):
    assert client_for(desk).delete(CASES).status_code == 405


# --- what a user may do now -----------------------------------------------------------


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [action["name"] for action in response.json()]


def test_an_officer_may_accept_reject_merge_or_withdraw_a_new_case(desk):
    case = case_in_state(State.REGISTERED)

    offered = client_for(desk).get(case_url(case, "transitions/")).json()

    assert [action["name"] for action in offered] == [
        "accept",
        "reject",
        "merge",
        "withdraw",
    ]
    reject = offered[1]
    assert reject["label"] == "Rejected"
    assert reject["button"] == "Reject"
    assert reject["tone"] == "serious"
    assert reject["url"] == case_url(case, "transitions/reject/")
    assert reject["fields"] == [
        {
            "name": "reason",
            "label": "Reason",
            "type": "string",
            "required": True,
            "max_length": 10000,
            "choices": None,
        }
    ]
    assert offered[0]["fields"] == []


def test_a_liaison_may_acknowledge_return_or_reply(department):
    case = case_in_state(State.DISPATCHED, department=department, category=None)

    offered = names(client_for(liaison(department)).get(case_url(case, "transitions/")))

    assert offered == ["acknowledge", "return_case", "reply"]


def test_dispatch_offers_the_department_field(desk, department):
    case = case_in_state(State.ACCEPTED, department=department, category=None)

    offered = client_for(desk).get(case_url(case, "transitions/")).json()

    dispatch = next(action for action in offered if action["name"] == "dispatch")
    assert dispatch["fields"][0]["name"] == "department"
    assert dispatch["fields"][0]["type"] == "integer"
    assert dispatch["fields"][0]["required"] is False


def test_an_officer_is_offered_the_callback_with_its_choices(desk):
    case = case_in_state(State.REPLIED, replied_at=NOW)

    offered = client_for(desk).get(case_url(case, "transitions/")).json()

    callback = next(action for action in offered if action["name"] == "callback")
    assert callback["is_transition"] is False
    assert callback["url"] == case_url(case, "callbacks/")
    outcome = next(field for field in callback["fields"] if field["name"] == "outcome")
    assert [choice["value"] for choice in outcome["choices"]] == [
        "satisfied",
        "dissatisfied",
        "unreachable",
    ]


def test_a_supervisor_may_escalate_an_overdue_case_and_extend_it(
    calendar_2026, pinned_time
):
    case = case_in_state(
        State.DISPATCHED,
        is_efficiency=True,
        dispatched_at=NOW - timedelta(days=20),
        due_at=NOW - timedelta(days=10),
    )

    offered = names(client_for(supervisor()).get(case_url(case, "transitions/")))

    assert "escalate" in offered
    assert "extend" in offered


def test_nothing_is_offered_on_a_closed_case(desk):
    case = case_in_state(State.CLOSED)

    assert names(client_for(desk).get(case_url(case, "transitions/"))) == []


# --- every transition through the API -------------------------------------------------


def _into(case):
    return {"into": case_in_state(State.ACCEPTED).reference}


def _callback(outcome):
    def setup(case):
        CallbackFactory(case=case, outcome=outcome, called_at=NOW - timedelta(hours=1))

    return setup


def _responded(case):
    ResponseFactory(case=case, responded_at=NOW - timedelta(hours=2))


TRANSITIONS = [
    # name, role, start state, extra fields, payload, end state, setup
    ("accept", "officer", State.REGISTERED, {}, {}, State.ACCEPTED, None),
    (
        "reject",
        "officer",
        State.REGISTERED,
        {},
        {"reason": "不属于热线受理范围"},
        State.REJECTED,
        None,
    ),
    (
        "answer",
        "officer",
        State.ACCEPTED,
        {},
        {"answer": "可在政务网办理"},
        State.ANSWERED,
        None,
    ),
    ("dispatch", "officer", State.ACCEPTED, {}, "department", State.DISPATCHED, None),
    ("acknowledge", "liaison", State.DISPATCHED, {}, {}, State.IN_PROGRESS, None),
    (
        "return_case",
        "liaison",
        State.DISPATCHED,
        {},
        {"reason": "不属于本单位职责"},
        State.RETURNED,
        None,
    ),
    (
        "escalate",
        "supervisor",
        State.DISPATCHED,
        {
            "is_efficiency": True,
            "dispatched_at": NOW - timedelta(days=20),
            "due_at": NOW - timedelta(days=10),
        },
        {"reason": "超期十天无答复"},
        State.SUPERVISED,
        None,
    ),
    (
        "reply",
        "liaison",
        State.IN_PROGRESS,
        {"dispatched_at": NOW - timedelta(days=1)},
        {"text": "已安排施划直行标线。", "channel": "document"},
        State.REPLIED,
        None,
    ),
    (
        "close",
        "officer",
        State.REPLIED,
        {"replied_at": NOW - timedelta(days=1)},
        {},
        State.CLOSED,
        _callback(CallbackOutcome.SATISFIED),
    ),
    (
        "reopen",
        "officer",
        State.REPLIED,
        {"replied_at": NOW - timedelta(days=1)},
        {"reason": "市民不满意"},
        State.REOPENED,
        _callback(CallbackOutcome.DISSATISFIED),
    ),
    ("merge", "officer", State.REGISTERED, {}, _into, State.MERGED, None),
    ("withdraw", "officer", State.ACCEPTED, {}, {}, State.WITHDRAWN, None),
]


def user_for(role, department):
    return {
        "officer": officer,
        "supervisor": supervisor,
        "liaison": lambda: liaison(department),
    }[role]()


@pytest.mark.parametrize(
    ("name", "role", "start", "fields", "payload", "end", "setup"),
    TRANSITIONS,
    ids=[row[0] for row in TRANSITIONS],
)
def test_each_transition_moves_the_case_and_writes_one_event(
    calendar_2026,
    pinned_time,
    department,
    name,
    role,
    start,
    fields,
    payload,
    end,
    setup,
):
    case = case_in_state(start, department=department, category=None, **fields)
    if setup:
        setup(case)
    if payload == "department":
        payload = {"department": department.pk}
    elif callable(payload):
        payload = payload(case)
    user = user_for(role, department)
    events = CaseEvent.objects.count()

    response = post(
        client_for(user),
        case_url(case, f"transitions/{name}/"),
        {**payload, "expect_state": start},
    )

    assert response.status_code == 200, response.content
    assert response.json()["state"] == end
    assert Case.objects.get(pk=case.pk).state == end
    assert CaseEvent.objects.count() == events + 1
    event = CaseEvent.objects.filter(case=case).latest("pk")
    assert (event.action, event.from_state, event.to_state) == (name, start, end)
    assert event.actor == user
    assert response.json()["events"][-1]["action"] == name


def test_dispatch_without_a_department_uses_the_cases_own(desk, department):
    case = case_in_state(State.ACCEPTED, department=department, category=None)

    response = post(client_for(desk), case_url(case, "transitions/dispatch/"))

    assert response.status_code == 200
    assert response.json()["department"]["id"] == department.pk
    assert response.json()["due_at"] is not None


def test_dispatch_to_another_department(desk, department, other_department):
    case = case_in_state(State.ACCEPTED, department=department, category=None)

    response = post(
        client_for(desk),
        case_url(case, "transitions/dispatch/"),
        {"department": other_department.pk},
    )

    assert response.status_code == 200
    assert Case.objects.get(pk=case.pk).department == other_department


# --- refusals change nothing ----------------------------------------------------------


def refused(client, case, url, payload, status):
    before = snapshot(case)
    response = post(client, url, payload)
    assert response.status_code == status, response.content
    assert snapshot(case) == before
    return response.json()


def test_a_liaison_may_not_dispatch(department):
    case = case_in_state(State.ACCEPTED, department=department, category=None)

    body = refused(
        client_for(liaison(department)),
        case,
        case_url(case, "transitions/dispatch/"),
        {"department": department.pk},
        403,
    )

    assert body["code"] == "forbidden"


def test_an_officer_may_not_escalate(calendar_2026, pinned_time, desk):
    case = case_in_state(
        State.DISPATCHED,
        is_efficiency=True,
        dispatched_at=NOW - timedelta(days=20),
        due_at=NOW - timedelta(days=10),
    )

    refused(
        client_for(desk),
        case,
        case_url(case, "transitions/escalate/"),
        {"reason": "超期"},
        403,
    )


def test_a_transition_the_state_does_not_allow_is_a_409(desk):
    case = case_in_state(State.DISPATCHED)

    body = refused(
        client_for(desk), case, case_url(case, "transitions/accept/"), {}, 409
    )

    assert body["code"] == "refused"


def test_a_stale_expect_state_is_a_409(desk):
    case = case_in_state(State.REGISTERED)

    body = refused(
        client_for(desk),
        case,
        case_url(case, "transitions/accept/"),
        {"expect_state": "accepted"},
        409,
    )

    assert body["code"] == "conflict"
    assert case.reference in body["detail"]


def test_closing_without_a_callback_is_a_409(desk):
    case = case_in_state(State.REPLIED, replied_at=NOW)

    body = refused(
        client_for(desk), case, case_url(case, "transitions/close/"), {}, 409
    )

    assert "callback" in body["detail"]


def test_a_supervisor_may_escalate_before_the_threshold(calendar_2026, pinned_time):
    case = case_in_state(
        State.DISPATCHED,
        is_efficiency=True,
        dispatched_at=NOW - timedelta(days=3),
        due_at=NOW - timedelta(hours=1),
    )

    response = post(
        client_for(supervisor()),
        case_url(case, "transitions/escalate/"),
        {"reason": "超期"},
    )

    assert response.status_code == 200, response.content
    assert response.json()["state"] == State.SUPERVISED


def test_escalating_a_case_handed_to_the_media_before_is_a_409(
    calendar_2026, pinned_time
):
    case = case_in_state(
        State.REOPENED,
        is_efficiency=True,
        dispatched_at=NOW - timedelta(days=30),
        due_at=NOW + timedelta(days=3),
        escalated_at=NOW - timedelta(days=20),
    )

    refused(
        client_for(supervisor()),
        case,
        case_url(case, "transitions/escalate/"),
        {"reason": "超期"},
        409,
    )


@pytest.mark.parametrize(
    ("name", "payload", "field"),
    [
        ("reject", {}, "reason"),
        ("reject", {"reason": ""}, "reason"),
        ("reject", {"reason": ["不受理"]}, "reason"),
        ("reject", {"reason": 5}, "reason"),
        ("reject", {"reason": "x" * 10_001}, "reason"),
        ("reject", {"reason": "理由", "expect_state": "sleeping"}, "expect_state"),
        ("merge", {"into": "x" * 25}, "into"),
        ("answer", {"answer": None}, "answer"),
    ],
)
def test_bad_fields_are_400_with_field_errors(desk, name, payload, field):
    case = case_in_state(State.REGISTERED if name != "answer" else State.ACCEPTED)

    body = refused(
        client_for(desk), case, case_url(case, f"transitions/{name}/"), payload, 400
    )

    assert field in body


def test_a_reason_of_only_spaces_is_refused_by_the_service(desk):
    case = case_in_state(State.REGISTERED)

    body = refused(
        client_for(desk),
        case,
        case_url(case, "transitions/reject/"),
        {"reason": "  \n "},
        400,
    )

    assert body == {
        "detail": "A reason is required to reject a case.",
        "code": "invalid",
    }


@pytest.mark.parametrize(
    "department",
    ["999999", '"abc"', '"1"', "true", "1e400", "1.0", "[1]", '{"id": 1}', "null"],
    ids=[
        "unknown",
        "text",
        "digits",
        "bool",
        "infinity",
        "float",
        "list",
        "object",
        "null",
    ],
)
def test_a_bad_department_is_a_400(desk, department):
    case = case_in_state(State.ACCEPTED, department=None, category=None)
    before = snapshot(case)

    response = client_for(desk).generic(
        "POST",
        case_url(case, "transitions/dispatch/"),
        f'{{"department": {department}}}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "department" in response.json()
    assert snapshot(case) == before


def test_an_inactive_department_is_a_400(desk, department):
    closed = DepartmentFactory(name="已撤销单位", is_active=False)
    case = case_in_state(State.ACCEPTED, department=department, category=None)

    body = refused(
        client_for(desk),
        case,
        case_url(case, "transitions/dispatch/"),
        {"department": closed.pk},
        400,
    )

    assert body["code"] == "invalid"
    assert "已撤销单位" in body["detail"]


def test_merging_into_an_unknown_reference_is_a_400(desk):
    case = case_in_state(State.REGISTERED)

    body = refused(
        client_for(desk),
        case,
        case_url(case, "transitions/merge/"),
        {"into": "8890-19990101-00001"},
        400,
    )

    assert body["code"] == "invalid"


def test_an_unknown_transition_is_a_404(desk):
    case = case_in_state(State.REGISTERED)

    for name in ("fly", "callback", "register"):
        refused(client_for(desk), case, case_url(case, f"transitions/{name}/"), {}, 404)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"reason": ', "application/json", 400),
        (b"\xff\xfe{}", "application/json", 400),
        (b'{"reason": NaN}', "application/json", 400),
        (b"[" * 20_000 + b"]" * 20_000, "application/json", 400),
        (b"reason=x", "application/x-www-form-urlencoded", 415),
        (b"<reason>x</reason>", "text/xml", 415),
        (b'"just a string"', "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"null", "application/json", 400),
    ],
    ids=[
        "truncated",
        "not-utf8",
        "nan",
        "deep-nesting",
        "form",
        "xml",
        "string",
        "list",
        "null",
    ],
)
def test_malformed_bodies_are_4xx_and_change_nothing(desk, body, content_type, status):
    case = case_in_state(State.REGISTERED)
    before = snapshot(case)

    response = client_for(desk).generic(
        "POST",
        case_url(case, "transitions/reject/"),
        body,
        content_type=content_type,
    )

    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert snapshot(case) == before


def test_a_huge_body_is_a_413_and_changes_nothing(desk):
    case = case_in_state(State.REGISTERED)
    before = snapshot(case)
    body = json.dumps({"reason": "x" * (MAX_BODY_BYTES + 1)}).encode()

    response = client_for(desk).generic(
        "POST",
        case_url(case, "transitions/reject/"),
        body,
        content_type="application/json",
    )

    assert response.status_code == 413
    assert snapshot(case) == before


def test_the_parser_reads_no_more_than_the_limit_whatever_the_declared_length():
    stream = io.BytesIO(b'{"reason": "' + b"x" * (MAX_BODY_BYTES * 4) + b'"}')

    with pytest.raises(RequestTooLarge):
        LimitedJSONParser().parse(stream, parser_context={"encoding": "utf-8"})

    assert stream.tell() == MAX_BODY_BYTES + 1


# --- responses and callbacks ----------------------------------------------------------


def test_a_liaison_records_the_departments_response(department, pinned_time):
    case = case_in_state(
        State.IN_PROGRESS,
        department=department,
        category=None,
        dispatched_at=NOW - timedelta(days=1),
    )
    contact = liaison(department)
    client = client_for(contact)
    events = CaseEvent.objects.count()

    response = post(
        client,
        case_url(case, "responses/"),
        {"text": "已安排施划直行标线。", "channel": "phone"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["state"] == State.REPLIED
    recorded = DepartmentResponse.objects.get(case=case)
    assert (recorded.text, recorded.channel, recorded.department) == (
        "已安排施划直行标线。",
        "phone",
        department,
    )
    assert recorded.recorded_by == contact
    assert CaseEvent.objects.count() == events + 1
    listed = client.get(case_url(case, "responses/")).json()
    assert [row["text"] for row in listed] == ["已安排施划直行标线。"]


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"text": ""}, 400),
        ({"text": "好", "channel": "fax"}, 400),
        ({"channel": "phone"}, 400),
    ],
)
def test_a_bad_response_is_refused_and_changes_nothing(department, payload, status):
    case = case_in_state(State.IN_PROGRESS, department=department, category=None)

    refused(
        client_for(liaison(department)),
        case,
        case_url(case, "responses/"),
        payload,
        status,
    )


def test_a_response_on_a_closed_case_is_a_409(department):
    case = case_in_state(State.CLOSED, department=department, category=None)

    refused(
        client_for(liaison(department)),
        case,
        case_url(case, "responses/"),
        {"text": "已处理"},
        409,
    )


def test_an_officer_records_a_callback(desk, pinned_time):
    case = case_in_state(State.REPLIED, replied_at=NOW - timedelta(days=1))
    client = client_for(desk)
    events = CaseEvent.objects.count()

    response = post(
        client,
        case_url(case, "callbacks/"),
        {"method": "home_visit", "outcome": "satisfied", "note": "问题已解决"},
    )

    assert response.status_code == 201, response.content
    callback = Callback.objects.get(case=case)
    assert (callback.method, callback.outcome, callback.note) == (
        "home_visit",
        "satisfied",
        "问题已解决",
    )
    assert CaseEvent.objects.count() == events + 1
    assert response.json()["callbacks"][0]["outcome"] == "satisfied"
    listed = client.get(case_url(case, "callbacks/")).json()
    assert [row["method"] for row in listed] == ["home_visit"]
    # The satisfied callback now allows closing the case.
    closed = post(client, case_url(case, "transitions/close/"))
    assert closed.json()["state"] == State.CLOSED


@pytest.mark.parametrize(
    ("state", "role", "payload", "status"),
    [
        (State.REPLIED, "officer", {}, 400),
        (State.REPLIED, "officer", {"outcome": "happy"}, 400),
        (State.REPLIED, "officer", {"outcome": "satisfied", "method": "fax"}, 400),
        (State.DISPATCHED, "officer", {"outcome": "satisfied"}, 409),
        (State.REPLIED, "liaison", {"outcome": "satisfied"}, 403),
    ],
)
def test_a_refused_callback_changes_nothing(department, state, role, payload, status):
    case = case_in_state(state, department=department, category=None, replied_at=NOW)

    refused(
        client_for(user_for(role, department)),
        case,
        case_url(case, "callbacks/"),
        payload,
        status,
    )


# --- deadlines, registration, reference data ------------------------------------------


def test_a_supervisor_extends_the_deadline(calendar_2026, pinned_time):
    due = aware(2026, 3, 20, 18)
    case = case_in_state(State.IN_PROGRESS, due_at=due)
    events = CaseEvent.objects.count()

    response = post(
        client_for(supervisor()),
        case_url(case, "extend-deadline/"),
        {"working_days": 2, "reason": "需协调多个部门"},
    )

    assert response.status_code == 200, response.content
    # Friday 20 March + 2 working days: Tuesday 24 March.
    assert Case.objects.get(pk=case.pk).due_at == aware(2026, 3, 24, 18)
    assert CaseEvent.objects.count() == events + 1


@pytest.mark.parametrize(
    ("role", "payload", "status"),
    [
        ("officer", {"working_days": 2, "reason": "协调"}, 403),
        ("supervisor", {"working_days": 0, "reason": "协调"}, 400),
        ("supervisor", {"working_days": 2}, 400),
        ("supervisor", {"working_days": "many", "reason": "协调"}, 400),
    ],
)
def test_a_refused_extension_changes_nothing(department, role, payload, status):
    case = case_in_state(State.IN_PROGRESS, due_at=NOW, department=department)

    refused(
        client_for(user_for(role, department)),
        case,
        case_url(case, "extend-deadline/"),
        payload,
        status,
    )


def test_an_officer_registers_a_phone_case(desk, category, pinned_time):
    response = post(
        client_for(desk),
        CASES,
        {
            "kind": "complaint",
            "is_efficiency": True,
            "category": category.pk,
            "title": "路口拥堵",
            "description": "直行车道排长队。",
            "latitude": 30.5,
            "longitude": 114.3,
            "citizen": {"name": "李四", "phone": "+86 139-0000-1234"},
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert response["Location"] == case_url(case)
    assert body["reference"].startswith("8890-20260318-")
    assert (case.state, case.channel, case.department) == (
        State.REGISTERED,
        "phone",
        category.default_department,
    )
    assert case.citizen.phone == "13900001234"
    assert body["citizen"] == {"name": "李四", "phone": "13900001234"}
    assert body["events"][0]["action"] == "register"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"kind": "praise", "title": "t", "description": "d"},
        {"kind": "help", "title": "", "description": "d"},
        {"kind": "help", "title": "t" * 201, "description": "d"},
        {"kind": "help", "title": "t", "description": "d", "channel": "open311"},
        {"kind": "help", "title": "t", "description": "d", "latitude": 30.5},
        {
            "kind": "help",
            "title": "t",
            "description": "d",
            "latitude": 91,
            "longitude": 1,
        },
        {
            "kind": "help",
            "title": "t",
            "description": "d",
            "citizen": {"phone": "1" * 31},
        },
        {"kind": "help", "title": "t", "description": "d", "citizen": {"email": "x"}},
        {"kind": "help", "title": "t", "description": "d", "citizen": "张三"},
        {"kind": "help", "title": "t", "description": "d", "category": 999_999},
        {"kind": "help", "title": "t\x00", "description": "d"},
    ],
)
def test_a_bad_registration_is_a_400_and_creates_nothing(desk, payload):
    response = post(client_for(desk), CASES, payload)

    assert response.status_code == 400, response.content
    assert not Case.objects.exists()
    assert not Citizen.objects.exists()
    assert not CaseEvent.objects.exists()


def test_a_liaison_may_not_register_cases(department):
    response = post(
        client_for(liaison(department)),
        CASES,
        {"kind": "help", "title": "t", "description": "d"},
    )

    assert response.status_code == 403
    assert not Case.objects.exists()


def test_departments_and_categories_give_the_ids(desk, category, other_department):
    departments = client_for(desk).get("/api/v1/departments/").json()
    categories = client_for(desk).get("/api/v1/categories/").json()

    assert [row["name"] for row in departments] == sorted(["市交警支队", "市水务局"])
    assert categories == [
        {
            "id": category.pk,
            "service_code": "traffic",
            "name": "交通拥堵",
            "default_department": {
                "id": category.default_department_id,
                "name": "市交警支队",
            },
            "handling_days": 5,
            "escalates": False,
            "is_active": True,
        }
    ]


# --- the schema -----------------------------------------------------------------------


def test_the_schema_is_public_openapi_3_of_this_api_only():
    response = client_for().get("/api/v1/schema/")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["paths"]
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
    assert "/api/v1/cases/{id}/transitions/reject/" in schema["paths"]
    reject = schema["paths"]["/api/v1/cases/{id}/transitions/reject/"]["post"]
    assert reject["requestBody"]["content"]["application/json"]
    assert "/api/v1/schema/" not in schema["paths"]


def test_the_schema_ignores_a_bad_token_and_refuses_an_unknown_language():
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION="Token nonsense")

    assert client.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/schema/", {"lang": "\x00"}).status_code == 400
    assert client.get("/api/v1/schema/", {"lang": "en"}).status_code == 200


def _query_string(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def test_next_links_carry_the_page_size_and_filters(desk):
    for _ in range(3):
        case_in_state(State.REGISTERED)

    body = client_for(desk).get(CASES, {"page_size": 1, "state": "registered"}).json()

    query = _query_string(body["next"])
    assert query["page_size"] == ["1"]
    assert query["state"] == ["registered"]
