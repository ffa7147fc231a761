"""The API against its own OpenAPI schema: generated requests (schemathesis) and
hand-made malformed ones never get a 5xx, and a refused request writes nothing.

Schemathesis calls the WSGI application in-process, so every request runs inside
the test's transaction and sees the cases made here.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import (
    CallbackFactory,
    CategoryFactory,
    DepartmentFactory,
    ResponseFactory,
    case_in_state,
    liaison,
    supervisor,
)
from tracking.models import Callback, Case, CaseEvent, Citizen, DepartmentResponse

SCHEMA_URL = "/api/v1/schema/"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, without closing the test's connection
    at the end of each request (as Django's own test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(db):
    """Cases in every kind of state, and the staff to act on them."""
    now = timezone.now()
    department = DepartmentFactory(name="市交警支队")
    category = CategoryFactory(service_code="traffic", default_department=department)
    cases = [
        case_in_state(state, category=category)
        for state in ("registered", "accepted", "in_progress", "closed")
    ]
    cases.append(
        case_in_state(
            "dispatched",
            category=category,
            is_efficiency=True,
            dispatched_at=now - timedelta(days=30),
            due_at=now - timedelta(days=20),
        )
    )
    replied = case_in_state("replied", category=category, replied_at=now)
    ResponseFactory(case=replied)
    CallbackFactory(case=replied, outcome="dissatisfied", called_at=now)
    cases.append(replied)
    boss = supervisor()
    contact = liaison(department)
    return {
        "case_ids": [case.pk for case in cases],
        "supervisor": Token.objects.create(user=boss).key,
        "liaison": Token.objects.create(user=contact).key,
    }


@pytest.fixture
def api_schema(wsgi_app, world):
    config = schemathesis.Config.from_dict(
        {
            "checks": {
                # A body over the limit is refused before it is read: 413.
                "negative_data_rejection": {
                    "expected-statuses": [
                        *NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES,
                        "413",
                    ]
                }
            }
        }
    )
    return schemathesis.openapi.from_wsgi(SCHEMA_URL, wsgi_app, config=config)


def operations(api_schema):
    return [result.ok() for result in api_schema.get_all_operations()]


def cases_of(operation, world, mode):
    """Generated requests for ``operation``; for one about a case, half of them
    about a case made here, so that they reach the services, not only the 404."""
    generated = operation.as_strategy(generation_mode=mode)
    if "{id}" not in operation.path:
        return generated
    real = st.sampled_from(world["case_ids"]).flatmap(
        lambda case_id: operation.as_strategy(
            generation_mode=mode, path_parameters={"id": case_id}
        )
    )
    if mode == GenerationMode.NEGATIVE:
        # With a real id, what breaks the schema must be somewhere else.
        real = real.filter(_breaks_something)
    return st.one_of(generated, real)


def _breaks_something(case) -> bool:
    return any(
        info.mode == GenerationMode.NEGATIVE for info in case.meta.components.values()
    )


def run_generated(api_schema, world, mode, examples, checks):
    """Every operation, ``examples`` requests each, as a supervisor (who may do
    everything) or a liaison (who may do little and see few cases)."""
    tested, statuses = [], Counter()
    for operation in operations(api_schema):

        @given(case=cases_of(operation, world, mode), role=st.sampled_from(ROLES))
        @settings(
            max_examples=examples,
            deadline=None,
            # The same requests on every run: a failure here is reproducible, and
            # a CI run never fails on luck. Run wider random ones when the API changes.
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case, role):
            response = case.call_and_validate(
                headers={"Authorization": f"Token {world[role]}"}, checks=checks
            )
            statuses[(case.method, response.status_code)] += 1

        try:
            run()
        except Unsatisfiable:
            # Nothing to break: an operation without parameters or body.
            assert mode == GenerationMode.NEGATIVE, operation.label
            continue
        tested.append(operation.label)
    return tested, statuses


ROLES = ("supervisor", "supervisor", "liaison")


def test_generated_requests_get_no_server_error_and_match_the_schema(api_schema, world):
    tested, statuses = run_generated(
        api_schema,
        world,
        GenerationMode.POSITIVE,
        examples=8,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )

    assert "POST /api/v1/cases/{id}/transitions/dispatch/" in tested
    assert len(tested) >= 20
    # Requests reached real cases: some were read, and some actions went through.
    assert statuses[("GET", 200)] and statuses[("POST", 200)] + statuses[("POST", 201)]


def test_requests_that_break_the_schema_are_rejected_with_a_4xx(api_schema, world):
    before = CaseEvent.objects.count()

    tested, statuses = run_generated(
        api_schema,
        world,
        GenerationMode.NEGATIVE,
        examples=6,
        checks=[not_a_server_error, negative_data_rejection, content_type_conformance],
    )

    assert "POST /api/v1/cases/{id}/transitions/reject/" in tested
    assert "GET /api/v1/cases/" in tested
    # A request the schema does not allow changes no case.
    assert CaseEvent.objects.count() == before


# --- hand-made malformed requests --------------------------------------------------


def rows() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Case, CaseEvent, DepartmentResponse, Callback, Citizen)
    )


@pytest.fixture
def client(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world['supervisor']}")
    return client


BAD_BODIES = [
    (b"{", "application/json"),
    (b'{"reason": "x",}', "application/json"),
    (b"\x00\x01\x02", "application/json"),
    (b'{"reason": "\\ud800"}', "application/json"),
    (b'{"reason": "a\\u0000b"}', "application/json"),
    (b'{"department": 1e999}', "application/json"),
    (b'{"department": 123456789012345678901234567890}', "application/json"),
    (b'{"working_days": 1e400}', "application/json"),
    (b"[" * 100_000, "application/json"),
    (b"[" * 20_000 + b"]" * 20_000, "application/json"),
    (b'{"a": ' * 40_000 + b"1" + b"}" * 40_000, "application/json"),
    (b"reason=x", "application/x-www-form-urlencoded"),
    (b"reason=x", "multipart/form-data; boundary=xyz"),
    (b"<x/>", "application/xml"),
    (b"{}", "application/json; charset=no-such-charset"),
    (b'{"reason": "' + b"x" * 200_000 + b'"}', "application/json"),
]


@pytest.mark.parametrize(
    "path",
    [
        "cases/",
        "cases/{id}/transitions/reject/",
        "cases/{id}/transitions/dispatch/",
        "cases/{id}/transitions/merge/",
        "cases/{id}/responses/",
        "cases/{id}/callbacks/",
        "cases/{id}/extend-deadline/",
    ],
)
def test_malformed_bodies_are_4xx_and_write_nothing(client, world, path):
    url = "/api/v1/" + path.format(id=world["case_ids"][0])
    before = rows()

    for body, content_type in BAD_BODIES:
        response = client.generic("POST", url, body, content_type=content_type)
        assert 400 <= response.status_code < 500, (body[:40], response.status_code)
        assert response["Content-Type"] == "application/json"

    assert rows() == before


@pytest.mark.parametrize(
    "query",
    [
        {"registered_after": "2026-13-01"},
        {"registered_after": "2026-03-01T10:00:00+25:00"},
        {"registered_before": "0000-01-01"},
        {"registered_before": "１２３４-01-01"},
        {"registered_after": "2026-03-01\x00"},
        {"registered_after": "9" * 5000},
        {"state": "registered,\x00"},
        {"state": "registered," * 500},
        {"state": ","},
        {"department": "1e10"},
        {"page_size": "9" * 100},
        {"cursor": "cD0\x00"},
    ],
)
def test_invalid_query_values_are_4xx(client, query):
    response = client.get("/api/v1/cases/", query)

    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "%%%"},  # no position: the first page
        {"cursor": "bz05OTk5OTk5OTk5OTk5OTk5"},  # o=99999999999999999: capped
        {"unknown": "parameter"},
    ],
)
def test_odd_but_harmless_query_values_are_answered(client, query):
    response = client.get("/api/v1/cases/", query)

    assert response.status_code == 200
    assert "results" in response.json()


def test_wrong_accept_header_is_a_406(client):
    response = client.get("/api/v1/cases/", HTTP_ACCEPT="text/html")

    assert response.status_code == 406


def test_a_rejected_transition_after_many_bad_requests_leaves_the_timeline(
    client, world
):
    """A full round of refusals, then one accepted request: exactly its event."""
    case_id = world["case_ids"][0]  # registered
    url = f"/api/v1/cases/{case_id}/transitions/reject/"
    for payload in (
        {},
        {"reason": ""},
        {"reason": 5 * [1]},
        {"expect_state": "closed"},
    ):
        assert client.post(url, payload, format="json").status_code in (400, 409)
    events = CaseEvent.objects.filter(case_id=case_id).count()

    response = client.post(url, {"reason": "重复来电"}, format="json")

    assert response.status_code == 200, json.dumps(response.json(), ensure_ascii=False)
    assert CaseEvent.objects.filter(case_id=case_id).count() == events + 1
