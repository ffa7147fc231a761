"""How the citizen heard of 8890: taken down on the officer's call and register
forms, asked on the public web form, accepted by the API; a community visit day
only with "community visit", and only one already held on the day of the contact.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import Client
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from wagtail.users.models import UserProfile

from tests.factories import aware, officer
from tracking import services as svc
from tracking.exceptions import InvalidInput
from tracking.forms import CallForm, CaseRegisterForm
from tracking.intake.forms import ReportForm
from tracking.models import Call, Case, HeardOf, Kind
from tracking.partners.models import CommunityVisit

pytestmark = pytest.mark.django_db

NOW = aware(2026, 11, 27, 10)
VISIT = HeardOf.COMMUNITY_VISIT
NEW_CALL_URL = "/admin/tracking/calls/new/"
REGISTER_URL = "/admin/tracking/cases/new/"
CASES_API = "/api/v1/cases/"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def visit(day: date, community: str = "幸福里社区") -> CommunityVisit:
    return CommunityVisit.objects.create(
        date=day, community=community, services="义务维修", people_served=800
    )


@pytest.fixture
def past_visit():
    return visit(date(2026, 11, 8))


@pytest.fixture
def coming_visit():
    return visit(date(2026, 12, 6), "东风村")


def admin_client(user) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def call_data(**overrides) -> dict:
    data = {
        "caller_phone": "13905310001",
        "outcome": "answered",
        "note": "问社区义诊时间",
        "duration_seconds": "95",
        "received_at": "",
        "case_reference": "",
        "heard_of": "",
        "heard_of_visit": "",
    }
    return {**data, **overrides}


def call_form(user=None, **overrides) -> CallForm:
    return CallForm(call_data(**overrides), for_user=user or officer())


# --- the officer's call form ------------------------------------------------------


def test_the_call_form_offers_only_visits_already_held(past_visit, coming_visit):
    choices = list(call_form().fields["heard_of_visit"].queryset)

    assert choices == [past_visit]


def test_a_visit_without_community_visit_is_refused_next_to_the_visit(past_visit):
    with translation.override("en"):
        form = call_form(heard_of=HeardOf.FRIEND, heard_of_visit=past_visit.pk)

        assert not form.is_valid()
        assert form.errors["heard_of_visit"] == [
            "A community visit day can be given only when the citizen heard of 8890 "
            "at a community visit."
        ]


def test_a_visit_after_the_call_is_refused(past_visit):
    with translation.override("en"):
        form = call_form(
            heard_of=VISIT,
            heard_of_visit=past_visit.pk,
            received_at="2026-11-05 09:00",
        )

        assert not form.is_valid()
        assert form.errors["heard_of_visit"] == [
            "The community visit of 2026-11-08 comes after this contact: choose a "
            "visit on or before 2026-11-05."
        ]


def test_a_visit_still_ahead_is_no_choice(coming_visit):
    form = call_form(heard_of=VISIT, heard_of_visit=coming_visit.pk)

    assert not form.is_valid()
    assert "heard_of_visit" in form.errors


def test_an_answer_not_offered_is_refused():
    form = call_form(heard_of="billboard")

    assert not form.is_valid()
    assert "heard_of" in form.errors


def test_logging_a_call_stores_how_the_caller_heard_of_8890(past_visit):
    response = admin_client(officer()).post(
        NEW_CALL_URL, call_data(heard_of=VISIT, heard_of_visit=str(past_visit.pk))
    )

    assert response.status_code == 302
    call = Call.objects.get()
    assert (call.heard_of, call.heard_of_visit) == (VISIT, past_visit)


def test_a_refused_call_form_stores_nothing(past_visit):
    response = admin_client(officer()).post(
        NEW_CALL_URL,
        call_data(heard_of=HeardOf.NEWSPAPER, heard_of_visit=str(past_visit.pk)),
    )

    assert response.status_code == 200
    assert "only when the citizen heard of 8890" in response.content.decode()
    assert not Call.objects.exists()


def test_the_call_service_refuses_a_visit_after_the_call(past_visit):
    with pytest.raises(InvalidInput):
        svc.call_register(
            user=officer(),
            caller_phone="13905310001",
            outcome="answered",
            received_at=aware(2026, 11, 7, 9),
            heard_of=VISIT,
            heard_of_visit=past_visit,
        )

    assert not Call.objects.exists()


# --- the register-a-case form -----------------------------------------------------


def register_data(**overrides) -> dict:
    data = {
        "kind": Kind.HELP,
        "title": "楼道灯坏了",
        "description": "三单元楼道灯坏了一个月。",
        "channel": "phone",
        "citizen_name": "周建国",
        "citizen_phone": "13905310002",
        "heard_of": "",
        "heard_of_visit": "",
    }
    return {**data, **overrides}


def test_the_register_form_refuses_a_visit_without_community_visit(past_visit):
    form = CaseRegisterForm(
        register_data(heard_of=HeardOf.ONLINE, heard_of_visit=past_visit.pk)
    )

    assert not form.is_valid()
    assert "heard_of_visit" in form.errors


def test_the_register_form_offers_no_visit_still_ahead(coming_visit):
    form = CaseRegisterForm(
        register_data(heard_of=VISIT, heard_of_visit=coming_visit.pk)
    )

    assert not form.is_valid()
    assert "heard_of_visit" in form.errors


def test_registering_a_case_stores_how_the_citizen_heard_of_8890(past_visit):
    response = admin_client(officer()).post(
        REGISTER_URL, register_data(heard_of=VISIT, heard_of_visit=str(past_visit.pk))
    )

    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.heard_of, case.heard_of_visit) == (VISIT, past_visit)


# --- the public web form ----------------------------------------------------------


def report_data(**overrides) -> dict:
    data = {
        "kind": "help",
        "category": "",
        "title": "小区门口路灯不亮",
        "description": "金胜路18号门口的路灯坏了一周。",
        "location_text": "",
        "latitude": "",
        "longitude": "",
        "name": "周建国",
        "phone": "13912345678",
        "website": "",
    }
    return {**data, **overrides}


def test_the_web_form_asks_where_the_citizen_heard_of_8890():
    page = Client().get("/en/report/").content.decode()

    assert "Where did you hear of 8890?" in page
    assert 'name="heard_of"' in page


def test_the_web_form_stores_the_answer():
    response = Client().post("/report/", report_data(heard_of=VISIT))

    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.heard_of, case.heard_of_visit) == (VISIT, None)


def test_the_web_form_needs_no_answer():
    response = Client().post("/report/", report_data())

    assert response.status_code == 302
    assert Case.objects.get().heard_of == ""


def test_the_web_form_refuses_an_answer_not_offered():
    response = Client().post("/report/", report_data(heard_of="billboard"))

    assert response.status_code == 400
    assert not Case.objects.exists()
    with translation.override("en"):
        form = ReportForm(report_data(heard_of="billboard"))
        assert form.errors["heard_of"] == ["Choose one of the answers listed."]


# --- the API ----------------------------------------------------------------------


def api_client(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def api_case(**overrides) -> dict:
    data = {
        "kind": "help",
        "title": "楼道灯坏了",
        "description": "三单元楼道灯坏了一个月。",
        "citizen": {"name": "周建国", "phone": "13905310003"},
    }
    return {**data, **overrides}


def test_the_api_stores_how_the_citizen_heard_of_8890(past_visit):
    response = api_client(officer()).post(
        CASES_API,
        api_case(heard_of=VISIT, heard_of_visit=past_visit.pk),
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["heard_of"], body["heard_of_visit"]) == (VISIT, past_visit.pk)
    case = Case.objects.get()
    assert (case.heard_of, case.heard_of_visit) == (VISIT, past_visit)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"heard_of": "billboard"}, "heard_of"),
        ({"heard_of": VISIT, "heard_of_visit": "1"}, "heard_of_visit"),
        ({"heard_of": VISIT, "heard_of_visit": 999_999}, "heard_of_visit"),
    ],
)
def test_the_api_refuses_a_malformed_answer(payload, field):
    response = api_client(officer()).post(CASES_API, api_case(**payload), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Case.objects.exists()


def test_the_api_refuses_a_visit_with_another_answer(past_visit):
    response = api_client(officer()).post(
        CASES_API,
        api_case(heard_of=HeardOf.FRIEND, heard_of_visit=past_visit.pk),
        format="json",
    )

    assert response.status_code == 400
    assert "only when the citizen heard of 8890" in response.content.decode()
    assert not Case.objects.exists()


def test_the_api_refuses_a_visit_still_ahead(coming_visit):
    response = api_client(officer()).post(
        CASES_API,
        api_case(heard_of=VISIT, heard_of_visit=coming_visit.pk),
        format="json",
    )

    assert response.status_code == 400
    assert "comes after this contact" in response.content.decode()
    assert not Case.objects.exists()


# --- Open311 ----------------------------------------------------------------------


def open311_post(**fields):
    from urllib.parse import urlencode

    from tests.factories import CategoryFactory
    from tracking.open311.models import ApiClient

    _client, key = ApiClient.issue("城市App")
    category = CategoryFactory(service_code="streetlight")
    data = {
        "api_key": key,
        "service_code": category.service_code,
        "description": "金胜路18号门口路灯不亮",
        "address_string": "金胜路18号",
        "phone": "13905310004",
        **fields,
    }
    return Client().post(
        "/open311/v2/requests.json",
        data=urlencode(data),
        content_type="application/x-www-form-urlencoded",
    )


def test_open311_stores_the_heard_of_attribute():
    response = open311_post(**{"attribute[HEARD_OF]": HeardOf.NEWSPAPER})

    assert response.status_code == 201, response.content
    assert Case.objects.get().heard_of == HeardOf.NEWSPAPER


def test_open311_refuses_a_key_not_in_the_definition():
    response = open311_post(**{"attribute[HEARD_OF]": "billboard"})

    assert response.status_code == 400
    (error,) = response.json()
    assert error["code"] == 400
    assert error["description"].startswith("attribute[HEARD_OF]")
    assert "billboard" in error["description"]
    assert not Case.objects.exists()
