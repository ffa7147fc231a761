"""GET /api/v1/stats/: the public figures, as the Report computes them, for anyone,
with nothing personal in them; a bad period is a 400, never a 5xx."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.factories import CategoryFactory, DepartmentFactory, aware, liaison, officer
from tracking import services as svc
from tracking.models import CallbackOutcome, CallOutcome, CaseDay, Kind
from tracking.statistics import periods
from tracking.statistics.figures import Report

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/"
NOW = aware(2026, 11, 27, 10)  # a Friday
CITIZEN = svc.CitizenData(
    name="李秀英", phone="13912345678", address="幸福小区3号楼2单元401室"
)
DESCRIPTION = "楼下餐馆油烟直排，家里窗户都不敢开。"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(frozen):
    """A month of the hotline: calls, cases through the services (one replied
    and called back, one overdue now), every citizen named and with a phone."""
    department = DepartmentFactory(name="区生态环境分局")
    category = CategoryFactory(name="油烟污染", default_department=department)
    desk = officer()
    contact = liaison(department)
    start = aware(2026, 11, 2, 9)  # a Monday
    for hour in range(3):
        svc.call_register(
            user=desk,
            caller_phone=CITIZEN.phone,
            outcome=CallOutcome.ANSWERED,
            received_at=start + timedelta(hours=hour),
        )
    cases = []
    for offset in range(3):
        moment = start + timedelta(days=offset)
        case = svc.case_register(
            user=desk,
            kind=Kind.COMPLAINT,
            title="餐馆油烟扰民",
            description=DESCRIPTION,
            category=category,
            citizen=CITIZEN,
            is_efficiency=True,
            now=moment,
        )
        svc.case_accept(case=case.pk, user=desk, now=moment)
        svc.case_dispatch(case=case.pk, user=desk, department=department, now=moment)
        cases.append(case)
    replied = cases[0].pk
    later = start + timedelta(days=1)
    svc.case_acknowledge(case=replied, user=contact, now=later)
    svc.case_reply(case=replied, user=contact, text="已责令安装净化设备。", now=later)
    svc.callback_record(
        case=replied, user=desk, outcome=CallbackOutcome.SATISFIED, now=later
    )
    svc.case_close(case=replied, user=desk, now=later)
    return {"department": department, "category": category, "cases": cases}


def expected(value: str | None = None) -> dict:
    """What the Report gives for ``value``, as JSON gives it."""
    return json.loads(json.dumps(Report(periods.parse(value)).as_dict()))


def test_anonymous_client_gets_the_reports_figures(world):
    response = APIClient().get(URL)

    assert response.status_code == 200
    data = response.json()
    assert data == expected()
    # The data made above is in it, so the comparison is not of two empty reports.
    assert data["headline"]["calls"] == 3
    assert data["headline"]["registered"] == 3
    assert data["headline"]["completed"] == 1
    assert data["headline"]["callbacks"]["satisfied"] == 1
    assert [d["department"]["name"] for d in data["departments"]] == ["区生态环境分局"]
    assert data["overdue"][0]["overdue"] == 2


@pytest.mark.parametrize(
    "value",
    [
        "all",
        "2026",
        "2026-11",
        "2026-10",
        "2026-11-01..2026-11-30",
        "2026-11-03..2026-11-04",
        " 2026-11 ",
    ],
)
def test_each_kind_of_period_gives_the_reports_figures_of_it(world, value):
    response = APIClient().get(URL, {"period": value})

    assert response.status_code == 200
    data = response.json()
    assert data == expected(value)
    assert data["headline"]["period"] == value.strip()


def test_a_short_span_counts_only_its_days(world):
    data = APIClient().get(URL, {"period": "2026-11-03..2026-11-04"}).json()

    # Cases were registered on the 2nd, 3rd and 4th.
    assert data["headline"]["registered"] == 2
    assert data["headline"]["calls"] == 0


def test_no_period_is_since_launch(world):
    data = APIClient().get(URL).json()

    assert data["headline"]["period"] == "all"
    # The first call was on 2 November (the case rollups are read by month).
    assert data["headline"]["start"] in ("2026-11-01", "2026-11-02")
    assert data["headline"]["end"] == "2026-11-27"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-13", "Give the period as"),
        ("junk", "Give the period as"),
        ("1999", "Give the period as"),
        ("2026-02-30..2026-03-01", "That date does not exist."),
        ("2026-03-01..2026-01-01", "The period ends before it starts."),
        ("2000-01-01..2031-01-01", "Choose a period of at most 30 years."),
        ("0001-01-01..0001-01-05", "Choose dates from 2000 to 2100."),
        ("9999-12-01..9999-12-31", "Choose dates from 2000 to 2100."),
        ("2026\x00", "Give the period as"),
        ("２０２６", "Give the period as"),
        ("9" * 5000, "Give the period as"),
    ],
)
def test_a_bad_period_is_a_400_with_the_message(frozen, value, message):
    response = APIClient().get(URL, {"period": value}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response["Content-Language"] == "en"
    assert list(response.json()) == ["period"]
    assert response.json()["period"][0].startswith(message)


def test_unknown_parameters_are_ignored(world):
    response = APIClient().get(URL, {"department": "1", "format": "xml", "x": "\x00"})

    assert response.status_code == 200
    assert response.json() == expected()


VALID_PERIODS = st.one_of(
    st.just("all"),
    st.integers(1990, 2110).map(str),
    st.builds("{:04d}-{:02d}".format, st.integers(1990, 2110), st.integers(0, 13)),
    st.builds(
        "{}..{}".format,
        st.dates().map(lambda d: d.isoformat()),
        st.dates().map(lambda d: d.isoformat()),
    ),
)
JUNK = st.text(max_size=60)
# Parameters that mean something to other endpoints or to DRF.
KNOWN_ELSEWHERE = ("format", "lang", "department", "page_size", "cursor", "state")


@given(
    period=st.one_of(st.none(), VALID_PERIODS, JUNK),
    extra=st.dictionaries(
        st.one_of(st.sampled_from(KNOWN_ELSEWHERE), JUNK.filter(bool)),
        JUNK,
        max_size=4,
    ),
)
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_query_is_answered_200_or_400_never_5xx(world, period, extra):
    query = dict(extra)
    if period is not None:
        query["period"] = period

    response = APIClient().get(URL, query)

    assert response.status_code in (200, 400), (query, response.status_code)
    assert response["Content-Type"] == "application/json"
    if response.status_code == 400:
        assert list(response.json()) == ["period"]
    else:
        assert "headline" in response.json()


def test_no_citizen_data_reaches_the_api(world):
    response = APIClient().get(URL)

    text = response.content.decode()
    assert world["cases"][1].reference in text  # the overdue list names cases
    assert "油烟污染" in text  # and their categories
    for personal in (CITIZEN.name, CITIZEN.phone, CITIZEN.phone[-4:], CITIZEN.address):
        assert personal not in text
    assert DESCRIPTION not in text


def test_a_token_or_a_bad_token_changes_nothing(world):
    """Public: no authentication is read, so a stale token is no 401."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == expected()


def test_the_other_endpoints_still_ask_for_a_token(frozen):
    assert APIClient().get("/api/v1/cases/").status_code == 401
    assert APIClient().get("/api/v1/departments/").status_code == 401


def test_clients_may_reuse_the_figures_for_a_minute(world):
    response = APIClient().get(URL)

    assert "max-age=60" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]


def test_only_get_is_allowed(frozen):
    response = APIClient().post(URL, {}, format="json")

    assert response.status_code == 405


def test_it_answers_in_the_clients_language(frozen):
    english = APIClient().get(URL, {"period": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    default = APIClient().get(URL, {"period": "x"})

    assert english["Content-Language"] == "en"
    assert default["Content-Language"] == "zh-hans"
    assert english.json()["period"][0].startswith("Give the period as")


def test_the_schema_documents_the_endpoint_and_its_keys(frozen):
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT_LANGUAGE="en").json()

    operation = schema["paths"]["/api/v1/stats/"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["period"]
    assert {"200", "400"} <= set(operation["responses"])
    component = schema["components"]["schemas"]["Stats"]
    assert set(component["properties"]) == set(Report().as_dict())
    assert set(component["required"]) == set(Report().as_dict())


def test_a_client_that_accepts_no_json_gets_a_406(frozen):
    response = APIClient().get(URL, HTTP_ACCEPT="text/html")

    assert response.status_code == 406


def test_the_query_count_does_not_grow_with_the_history(world):
    with CaptureQueriesContext(connection) as few:
        APIClient().get(URL)
    for n in range(12):
        department = DepartmentFactory(name=f"部门{n}")
        CaseDay.objects.create(
            day=date(2025, 1 + n, 3),
            department_id=department.pk,
            category_id=world["category"].pk,
            kind=Kind.HELP,
            registered=2,
            dispatched=2,
        )

    with CaptureQueriesContext(connection) as many:
        response = APIClient().get(URL)

    assert len(response.json()["departments"]) == 13
    assert len(many) == len(few)
