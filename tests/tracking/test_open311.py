"""Open311 GeoReport v2 at /open311/v2/: endpoints in both formats, filters and
their errors, keys, rate limits, what a refused request leaves (nothing), and
that no personal data ever leaves through it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
import time_machine
import xmltodict
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.users.models import UserProfile

from tests.factories import (
    CaseFactory,
    CategoryFactory,
    CitizenFactory,
    DepartmentFactory,
    EventFactory,
    aware,
    case_in_state,
    officer,
    supervisor,
)
from tracking.models import Case, CaseEvent, Channel, Citizen, ReferenceSequence
from tracking.open311.formats import xml_text
from tracking.open311.models import ApiClient, digest

pytestmark = pytest.mark.django_db

NOW = aware(2026, 3, 18, 10)
BASE = "/open311/v2"
FORM = "application/x-www-form-urlencoded"

# A citizen nobody else has: none of this may appear in any response.
SECRET_NAME = "欧阳娜娜"
SECRET_PHONE = "13987654321"
SECRET_EMAIL = "nana.ouyang@example.org"
SECRET_ADDRESS = "幸福小区7号楼3单元502室"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def category():
    return CategoryFactory(
        name="路灯故障",
        service_code="streetlight",
        description="路灯不亮、闪烁",
        default_department=DepartmentFactory(name="市城管局"),
        handling_days=5,
    )


@pytest.fixture
def api_key():
    _client, key = ApiClient.issue("城市App")
    return key


def rows() -> tuple[int, int, int, int]:
    return (
        Case.objects.count(),
        Citizen.objects.count(),
        CaseEvent.objects.count(),
        ReferenceSequence.objects.count(),
    )


def post(body, fmt="json", content_type=FORM, client=None, **extra):
    if isinstance(body, dict):
        body = urlencode(body)
    return (client or Client()).post(
        f"{BASE}/requests.{fmt}", data=body, content_type=content_type, **extra
    )


def valid(api_key, category, **fields):
    data = {
        "api_key": api_key,
        "service_code": category.service_code,
        "description": "金胜路18号门口路灯不亮\n已经三天了",
        "lat": "36.651200",
        "long": "117.120000",
        "address_string": "金胜路18号",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def parsed(response):
    if response["Content-Type"].startswith("text/xml"):
        return ElementTree.fromstring(response.content)
    return json.loads(response.content)


def error_of(response) -> tuple[int, str]:
    """The one error of an error-form response, in either format."""
    if response["Content-Type"].startswith("text/xml"):
        root = ElementTree.fromstring(response.content)
        assert root.tag == "errors"
        (error,) = root.findall("error")
        return int(error.findtext("code")), error.findtext("description")
    (error,) = json.loads(response.content)
    return error["code"], error["description"]


def assert_error(response, status: int, fragment: str = "") -> str:
    assert response.status_code == status, response.content
    code, description = error_of(response)
    assert code == status
    assert description
    assert fragment in description
    return description


# --- discovery and services ----------------------------------------------------------


def test_discovery_names_the_endpoint_its_specification_and_formats():
    data = json.loads(Client().get(f"{BASE}/discovery.json").content)
    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert data["changeset"] and data["contact"] and data["key_service"]

    xml = xmltodict.parse(Client().get(f"{BASE}/discovery.xml").content)
    endpoint = xml["discovery"]["endpoints"]["endpoint"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"]["format"] == ["text/xml", "application/json"]


def test_services_list_the_active_categories_with_their_department(category):
    CategoryFactory(name="旧分类", service_code="retired", is_active=False)
    CategoryFactory(name="无部门", service_code="nodept", default_department=None)
    response = Client().get(f"{BASE}/services.json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    services = {s["service_code"]: s for s in json.loads(response.content)}
    assert set(services) == {"streetlight", "nodept"}
    assert services["streetlight"] == {
        "service_code": "streetlight",
        "service_name": "路灯故障",
        "description": "路灯不亮、闪烁",
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": "市城管局",
    }
    assert services["nodept"]["group"] == ""

    response = Client().get(f"{BASE}/services.xml")
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    xml = xmltodict.parse(response.content)["services"]["service"]
    by_code = {s["service_code"]: s for s in xml}
    assert by_code["streetlight"]["metadata"] == "true"
    assert by_code["streetlight"]["group"] == "市城管局"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_has_the_optional_heard_of_attribute(category, fmt):
    response = Client().get(
        f"{BASE}/services/streetlight.{fmt}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    if fmt == "json":
        definition = json.loads(response.content)
        assert definition["service_code"] == "streetlight"
        (attribute,) = definition["attributes"]
        assert {k: v for k, v in attribute.items() if k != "values"} == {
            "variable": True,
            "code": "HEARD_OF",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "",
            "order": 1,
            "description": "Where did you hear of 8890?",
        }
        assert attribute["values"][0] == {
            "key": "community_visit",
            "name": "A community visit day",
        }
        assert len(attribute["values"]) == 6
    else:
        root = ElementTree.fromstring(response.content)
        assert root.tag == "service_definition"
        assert root.findtext("service_code") == "streetlight"
        (attribute,) = root.find("attributes")
        assert attribute.tag == "attribute"
        assert attribute.findtext("code") == "HEARD_OF"
        assert attribute.findtext("required") == "false"
        keys = [value.findtext("key") for value in attribute.find("values")]
        assert keys[0] == "community_visit"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_or_inactive_service_is_a_404_error_list(category, fmt):
    CategoryFactory(service_code="retired", is_active=False)
    for code in ("nope", "retired", "x" * 300):
        response = Client().get(f"{BASE}/services/{code}.{fmt}")
        assert_error(response, 404)


def test_unknown_format_and_unknown_paths_are_404_in_the_error_form(category):
    for path in (
        "services.csv",
        "services.",
        "requests.html",
        "services/streetlight.yaml",
        "nothing",
        "requests/8890-20260318-00001",
    ):
        response = Client().get(f"{BASE}/{path}")
        assert response["Content-Type"].startswith("application/json")
        assert_error(response, 404)


def test_other_methods_are_405_with_allow(api_key, category):
    for method, path, allow in (
        ("put", "requests.json", "GET, HEAD, POST"),
        ("delete", "requests.xml", "GET, HEAD, POST"),
        ("patch", "requests/8890-20260318-00001.json", "GET, HEAD"),
        ("post", "services.json", "GET, HEAD"),
        ("post", "discovery.xml", "GET, HEAD"),
        ("options", "services/streetlight.json", "GET, HEAD"),
    ):
        response = getattr(Client(), method)(f"{BASE}/{path}")
        assert_error(response, 405)
        assert response["Allow"] == allow


# --- POST requests -------------------------------------------------------------------


def test_post_creates_an_open311_case_and_answers_201(api_key, category):
    client_row = ApiClient.objects.get()
    response = post(
        valid(
            api_key,
            category,
            first_name="建国",
            last_name="周",
            phone="+86 139-1234-5678",
            email="zhou@example.org",
            media_url="https://app.example.com/photos/1.jpg",
            **{"attribute[WHISPER]": "ignored", "jurisdiction_id": "x"},
        ),
        client=Client(enforce_csrf_checks=True),
    )
    assert response.status_code == 201, response.content
    (answer,) = json.loads(response.content)
    case = Case.objects.get()
    assert answer["service_request_id"] == case.reference
    assert answer["account_id"] is None
    assert "5" in answer["service_notice"]
    assert response["Location"].endswith(f"/open311/v2/requests/{case.reference}.json")

    assert case.channel == Channel.OPEN311
    assert case.api_client == client_row
    assert case.kind == "complaint"
    assert case.state == "registered"
    assert case.category == category
    assert case.department.name == "市城管局"
    assert str(case.latitude) == "36.651200"
    assert str(case.longitude) == "117.120000"
    assert case.location_text == "金胜路18号"
    assert case.media_url == "https://app.example.com/photos/1.jpg"
    assert case.title == "金胜路18号门口路灯不亮"
    assert case.description == "金胜路18号门口路灯不亮\n已经三天了"
    assert case.citizen.name == "周建国"
    assert case.citizen.phone == "13912345678"
    assert case.citizen.email == "zhou@example.org"
    assert CaseEvent.objects.get().action == "register"
    client_row.refresh_from_db()
    assert client_row.last_used_at is not None


def test_post_in_xml_answers_a_service_requests_document(api_key, category):
    response = post(valid(api_key, category, title="路灯坏了"), fmt="xml")
    assert response.status_code == 201
    root = ElementTree.fromstring(response.content)
    assert root.tag == "service_requests"
    request = root.find("request")
    case = Case.objects.get()
    assert request.findtext("service_request_id") == case.reference
    assert request.findtext("service_notice")
    assert request.find("account_id").text is None
    assert case.title == "路灯坏了"


def test_post_with_only_an_address_or_an_address_id(api_key, category):
    ok = post(valid(api_key, category, lat=None, long=None))
    assert ok.status_code == 201
    by_id = post(
        valid(
            api_key,
            category,
            lat=None,
            long=None,
            address_string=None,
            address_id="A-77",
        )
    )
    assert by_id.status_code == 201
    assert Case.objects.filter(location_text="A-77", latitude__isnull=True).exists()


def test_a_long_first_line_is_cut_into_the_title(api_key, category):
    text = "路" * 100
    assert post(valid(api_key, category, description=text)).status_code == 201
    title = Case.objects.get().title
    assert len(title) == 60 and title.endswith("…")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_a_valid_key_is_403_and_leaves_nothing(api_key, category, fmt):
    revoked, revoked_key = ApiClient.issue("旧系统")
    revoked.revoke()
    before = rows()
    for key in (None, "", "not-a-key", revoked_key, "x" * 5000):
        response = post(valid(key, category), fmt=fmt)
        assert_error(response, 403, "api_key")
    assert rows() == before


REFUSED = [
    ({"service_code": None}, "service_code"),
    ({"service_code": "nope"}, "nope"),
    ({"service_code": "retired"}, "retired"),
    ({"description": None}, "description"),
    ({"description": "   "}, "description"),
    ({"description": "a" * 5001}, "description"),
    ({"description": "bell\x07"}, "description"),
    ({"lat": None, "long": None, "address_string": None}, "address_string"),
    ({"long": None}, "lat和long"),
    ({"lat": "91"}, "lat"),
    ({"lat": "-90.0000001"}, "lat"),
    ({"long": "180.5"}, "long"),
    ({"lat": "NaN"}, "lat"),
    ({"lat": "nan", "long": "inf"}, "lat"),
    ({"long": "-Infinity"}, "long"),
    ({"lat": "1e1"}, "lat"),
    ({"lat": "9" * 400}, "lat"),
    ({"lat": "0x10"}, "lat"),
    ({"lat": "36,65"}, "lat"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
    ({"media_url": "ftp://example.com/a.jpg"}, "media_url"),
    ({"media_url": "example.com/a.jpg"}, "media_url"),
    ({"media_url": "https://" + "a" * 600 + ".com/"}, "media_url"),
    ({"email": "not-an-email"}, "email"),
    ({"phone": "call me maybe"}, "phone"),
    ({"first_name": "名" * 60}, "first_name"),
    ({"address_string": "路" * 300}, "address_string"),
    ({"title": "题" * 300}, "title"),
]


@pytest.mark.parametrize("fields,fragment", REFUSED)
def test_bad_fields_are_400_and_leave_nothing(api_key, category, fields, fragment):
    CategoryFactory(service_code="retired", is_active=False)
    before = rows()
    response = post(valid(api_key, category, **fields))
    assert_error(response, 400, fragment)
    assert rows() == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "multipart/form-data; boundary=xyz",
        "text/plain",
        f"{FORM}; charset=latin-1",
    ],
)
def test_other_content_types_are_415_and_leave_nothing(api_key, category, content_type):
    before = rows()
    response = post(urlencode(valid(api_key, category)), content_type=content_type)
    assert_error(response, 415)
    assert rows() == before


def test_form_with_utf8_charset_is_accepted(api_key, category):
    response = post(valid(api_key, category), content_type=f"{FORM}; charset=UTF-8")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "tail",
    [
        b"&description=%FF%FE",  # percent-encoded bytes that are not UTF-8
        b"&description=\xff\xfe",  # raw bytes that are not UTF-8
        b"&description=100%",  # a lone percent sign
        b"&description=%zzbad",  # not a hex escape
        b"&description=a%00b",  # an encoded NUL
        b"&descr\x00iption=a",  # a raw NUL
    ],
)
def test_unreadable_bodies_are_400_and_leave_nothing(api_key, category, tail):
    before = rows()
    body = urlencode(valid(api_key, category, description=None)).encode() + tail
    assert_error(post(body), 400)
    assert rows() == before


def test_a_body_over_the_upload_limit_is_413(api_key, category, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = rows()
    body = valid(api_key, category, description="长" * 20_000)
    for fmt in ("json", "xml"):
        assert_error(post(body, fmt=fmt), 413)
    assert rows() == before


def test_too_many_fields_is_400(api_key, category, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    body = urlencode(valid(api_key, category)) + "".join(f"&f{i}=1" for i in range(30))
    assert_error(post(body), 400)


def test_post_costs_at_most_15_queries(
    api_key, category, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    CitizenFactory(phone="13912345678", name="周建国")
    fields = valid(api_key, category, first_name="建国", last_name="周")
    fields["phone"] = "13912345678"
    with django_assert_max_num_queries(15):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(fields)
    assert response.status_code == 201


def test_last_used_at_is_written_at_most_once_a_minute(api_key, category):
    client_row = ApiClient.objects.get()

    def apiclient_updates():
        with CaptureQueriesContext(connection) as queries:
            assert post(valid(api_key, category)).status_code == 201
        return [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].startswith("UPDATE") and "apiclient" in q["sql"]
        ]

    assert len(apiclient_updates()) == 1
    client_row.refresh_from_db()
    first = client_row.last_used_at
    assert apiclient_updates() == []
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert len(apiclient_updates()) == 1
    client_row.refresh_from_db()
    assert client_row.last_used_at > first


def test_post_rate_limit_per_key_is_429_with_retry_after(api_key, category, settings):
    settings.OPEN311_RATE_PER_KEY = "2/m"
    _other, other_key = ApiClient.issue("另一个系统")
    assert post(valid(api_key, category)).status_code == 201
    assert post(valid(api_key, category)).status_code == 201
    before = rows()
    for fmt in ("json", "xml"):
        response = post(valid(api_key, category), fmt=fmt)
        assert_error(response, 429)
        assert 1 <= int(response["Retry-After"]) <= 60
    assert rows() == before
    # Another client has its own count.
    assert post(valid(other_key, category)).status_code == 201


def test_reads_without_a_key_are_limited_by_address(settings, category):
    settings.OPEN311_RATE_PER_KEY = "3/m"
    for _ in range(3):
        assert Client().get(f"{BASE}/services.json").status_code == 200
    response = Client().get(f"{BASE}/requests.xml")
    assert_error(response, 429)
    assert response["Retry-After"]
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.get(f"{BASE}/services.json").status_code == 200


def test_errors_speak_the_clients_language(api_key, category):
    english = post(valid(None, category), HTTP_ACCEPT_LANGUAGE="en")
    assert english["Content-Language"] == "en"
    assert error_of(english)[1] == "A valid api_key is required to post requests."
    default = post(valid(None, category))
    assert default["Content-Language"] == "zh-hans"


# --- GET requests --------------------------------------------------------------------


def request_ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    if response["Content-Type"].startswith("text/xml"):
        root = ElementTree.fromstring(response.content)
        assert root.tag == "service_requests"
        return [r.findtext("service_request_id") for r in root.findall("request")]
    return [r["service_request_id"] for r in json.loads(response.content)]


def get(path="requests.json", headers=None, **params):
    return Client().get(f"{BASE}/{path}", params, headers=headers)


@pytest.fixture
def history(category):
    """Cases over the last months, in different states and services."""
    other = CategoryFactory(name="占道经营", service_code="vendors")

    def case(ref, days_ago, state="registered", cat=category, **kw):
        return case_in_state(
            state,
            reference=f"8890-20260318-{ref:05d}",
            category=cat,
            registered_at=NOW - timedelta(days=days_ago),
            **kw,
        )

    return {
        "new": case(1, 1),
        "dispatched": case(2, 5, "dispatched", due_at=NOW + timedelta(days=3)),
        "closed": case(3, 10, "closed"),
        "rejected": case(4, 20, "rejected", cat=other),
        "merged_old": case(5, 60, "merged"),
        "old": case(6, 120),
    }


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_default_window_is_the_last_90_days_newest_first(history, fmt):
    assert request_ids(get(f"requests.{fmt}")) == [
        history[name].reference
        for name in ("new", "dispatched", "closed", "rejected", "merged_old")
    ]


def test_status_filters_open_and_closed(history):
    assert request_ids(get(status="open")) == [
        history["new"].reference,
        history["dispatched"].reference,
    ]
    assert request_ids(get(status="closed")) == [
        history[name].reference for name in ("closed", "rejected", "merged_old")
    ]
    assert len(request_ids(get(status="open,closed"))) == 5


def test_service_code_filters_a_comma_list(history):
    assert request_ids(get(service_code="vendors")) == [history["rejected"].reference]
    assert len(request_ids(get(service_code="vendors,streetlight"))) == 5
    assert request_ids(get(service_code="nothing")) == []


def test_dates_filter_the_requested_datetime(history):
    start = (NOW - timedelta(days=15)).isoformat()
    end = (NOW - timedelta(days=2)).isoformat()
    assert request_ids(get(start_date=start, end_date=end)) == [
        history["dispatched"].reference,
        history["closed"].reference,
    ]
    # Only a start: the 90 days from it.
    start = (NOW - timedelta(days=170)).isoformat()
    assert request_ids(get(start_date=start)) == [history["old"].reference]
    # Only an end: the 90 days up to it; a bare date means its whole day.
    day = (NOW - timedelta(days=10)).date().isoformat()
    assert request_ids(get(end_date=day)) == [
        history["closed"].reference,
        history["rejected"].reference,
        history["merged_old"].reference,
    ]


def test_service_request_id_overrides_every_other_filter(history):
    wanted = f"{history['old'].reference},{history['new'].reference}, nope"
    response = get(
        service_request_id=wanted, status="closed", service_code="vendors", page="x"
    )
    assert request_ids(response) == [history["new"].reference, history["old"].reference]


@pytest.mark.parametrize(
    "params,fragment",
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-02-30T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-03-01T25:00:00Z"}, "start_date"),
        ({"start_date": "0001-01-01"}, "start_date"),
        ({"end_date": "9999-12-31T23:59:59+08:00"}, "end_date"),
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"},
            "90",
        ),
        ({"start_date": "2026-03-10", "end_date": "2026-03-01"}, "start_date"),
        ({"status": "pending"}, "pending"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "١"}, "page"),
        ({"page": "10001"}, "page"),
        ({"page": "9" * 50}, "page"),
        ({"service_code": "a\x00b"}, ""),
        ({"status": "open\x1b"}, ""),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_filters_are_400_in_the_error_form(history, params, fragment, fmt):
    assert_error(get(f"requests.{fmt}", **params), 400, fragment)


def test_exactly_90_days_is_allowed():
    response = get(start_date="2026-01-01T00:00:00Z", end_date="2026-04-01T00:00:00Z")
    assert response.status_code == 200


def test_too_many_ids_at_once_is_400(settings):
    settings.OPEN311_PAGE_SIZE = 3
    assert_error(get(service_request_id="a,b,c,d"), 400)


def test_pages_are_capped_and_linked(history, settings):
    settings.OPEN311_PAGE_SIZE = 2
    first = get()
    assert request_ids(first) == [
        history["new"].reference,
        history["dispatched"].reference,
    ]
    assert 'rel="next"' in first["Link"] and "page=2" in first["Link"]
    second = get(page="2")
    assert request_ids(second) == [
        history["closed"].reference,
        history["rejected"].reference,
    ]
    last = get(page="3")
    assert request_ids(last) == [history["merged_old"].reference]
    assert not last.has_header("Link")
    assert request_ids(get(page="4")) == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_one_request_by_its_reference_is_a_list_of_one(history, fmt):
    reference = history["dispatched"].reference
    response = get(f"requests/{reference}.{fmt}")
    assert request_ids(response) == [reference]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_request_is_a_404_error_list(fmt):
    for request_id in ("8890-20260318-99999", "x" * 300, "%00"):
        assert_error(get(f"requests/{request_id}.{fmt}"), 404)


def test_a_request_has_the_spec_fields(category):
    case = case_in_state(
        "dispatched",
        category=category,
        registered_at=NOW - timedelta(days=2),
        due_at=aware(2026, 3, 25, 18),
        latitude="36.651200",
        longitude="117.120000",
        location_text="金胜路18号",
        media_url="https://app.example.com/1.jpg",
    )
    EventFactory(
        case=case, action="register", public=True, created_at=NOW - timedelta(days=2)
    )
    EventFactory(
        case=case,
        action="dispatch",
        note="市城管局",
        public=True,
        created_at=NOW - timedelta(days=1),
    )
    EventFactory(case=case, action="note", note="内部备注", created_at=NOW)
    response = get(f"requests/{case.reference}.json", headers={"accept-language": "en"})
    (data,) = json.loads(response.content)
    assert data == {
        "service_request_id": case.reference,
        "status": "open",
        "status_notes": "Dispatched to the department: 市城管局",
        "service_name": "路灯故障",
        "service_code": "streetlight",
        "description": case.description,
        "agency_responsible": "市城管局",
        "service_notice": None,
        "requested_datetime": "2026-03-16T10:00:00+08:00",
        "updated_datetime": "2026-03-18T10:00:00+08:00",
        "expected_datetime": "2026-03-25T18:00:00+08:00",
        "address": "金胜路18号",
        "address_id": None,
        "zipcode": None,
        "lat": 36.6512,
        "long": 117.12,
        "media_url": "https://app.example.com/1.jpg",
    }
    assert "内部备注" not in json.dumps(data, ensure_ascii=False)


def test_status_notes_are_the_latest_public_note_redacted(category):
    citizen = CitizenFactory(name=SECRET_NAME, phone=SECRET_PHONE)
    case = case_in_state("replied", category=category, citizen=citizen)
    EventFactory(
        case=case,
        action="reply",
        note=f"已联系{SECRET_NAME}（{SECRET_PHONE}），路灯已修复。",
        public=True,
        created_at=NOW - timedelta(hours=1),
    )
    EventFactory(case=case, action="callback", note="内部", created_at=NOW)
    response = get(f"requests/{case.reference}.json", headers={"accept-language": "en"})
    (data,) = json.loads(response.content)
    assert "路灯已修复" in data["status_notes"]
    assert SECRET_PHONE not in data["status_notes"]
    assert SECRET_NAME not in data["status_notes"]
    assert "欧某" in data["status_notes"]
    assert data["updated_datetime"] == "2026-03-18T10:00:00+08:00"


def test_a_rejection_reason_stays_internal(category):
    case = case_in_state("rejected", category=category)
    EventFactory(case=case, action="reject", note="内部理由", public=True)
    (data,) = json.loads(get(f"requests/{case.reference}.json").content)
    assert data["status"] == "closed"
    assert "内部理由" not in data["status_notes"]


def test_a_merged_request_says_which_case_it_joined(category):
    target = CaseFactory(category=category, reference="8890-20260301-00007")
    merged = case_in_state("merged", category=category, duplicate_of=target)
    (data,) = json.loads(get(f"requests/{merged.reference}.json").content)
    assert data["status"] == "closed"
    assert "8890-20260301-00007" in data["status_notes"]


def seed_secret_case(category) -> Case:
    citizen = CitizenFactory(
        name=SECRET_NAME, phone=SECRET_PHONE, email=SECRET_EMAIL, address=SECRET_ADDRESS
    )
    case = case_in_state(
        "dispatched",
        category=category,
        citizen=citizen,
        description=(
            f"我是{SECRET_NAME}，住{SECRET_ADDRESS}，电话{SECRET_PHONE}，"
            f"邮箱{SECRET_EMAIL}。楼下路灯不亮。"
        ),
        location_text=f"历下区{SECRET_ADDRESS}",
    )
    EventFactory(
        case=case, action="dispatch", note=f"请联系欧阳女士{SECRET_PHONE}", public=True
    )
    return case


SECRETS = (SECRET_NAME, SECRET_PHONE, SECRET_EMAIL, SECRET_ADDRESS, "欧阳女士")


def test_no_personal_data_in_any_response(api_key, category):
    case = seed_secret_case(category)
    responses = [get(f"requests.{fmt}") for fmt in ("json", "xml")] + [
        get(f"requests/{case.reference}.{fmt}") for fmt in ("json", "xml")
    ]
    responses.append(get(service_request_id=case.reference))
    created = post(
        valid(
            api_key,
            category,
            first_name="娜娜",
            last_name="欧阳",
            phone=SECRET_PHONE,
            email=SECRET_EMAIL,
            description=f"{SECRET_NAME}反映：电话{SECRET_PHONE}",
            address_string=f"历下区{SECRET_ADDRESS}",
        )
    )
    assert created.status_code == 201
    (answer,) = json.loads(created.content)
    new_ref = answer["service_request_id"]
    responses += [
        created,
        get(f"requests/{new_ref}.json"),
        get(f"requests/{new_ref}.xml"),
    ]
    for response in responses:
        assert response.status_code in (200, 201)
        text = response.content.decode()
        for secret in SECRETS:
            assert secret not in text, (secret, text)
    (data,) = json.loads(get(f"requests/{case.reference}.json").content)
    assert "楼下路灯不亮" in data["description"]
    assert data["address"].startswith("历下区")


def test_reads_cost_the_same_queries_however_many_requests(category):
    def queries() -> list[str]:
        cache.clear()  # every count starts cold: censor rules read again
        with CaptureQueriesContext(connection) as captured:
            assert get().status_code == 200
        # Only ours: the site lookup in front of every public path is not.
        return [q["sql"] for q in captured.captured_queries if '"tracking_' in q["sql"]]

    seed_secret_case(category)
    few = queries()
    for _ in range(6):
        case = seed_secret_case(category)
        EventFactory(case=case, action="reply", note="已处理", public=True)
    many = queries()
    # Cases, their latest public events, the censor rules.
    assert len(few) == len(many) == 3


def test_xml_escapes_markup_and_drops_what_xml_cannot_carry(category):
    case = case_in_state(
        "registered",
        category=category,
        description="<script>alert('x')</script> & \x0b\x01done \ufffe",
    )
    response = get(f"requests/{case.reference}.xml")
    assert b"<script>" not in response.content
    root = ElementTree.fromstring(response.content)
    assert (
        root.find("request").findtext("description")
        == "<script>alert('x')</script> & done "
    )
    assert xml_text("a\x00b\ufffe\ud800\U0001f600") == "ab\U0001f600"


# --- keys: the command and the admin -------------------------------------------------


def test_the_command_prints_a_key_that_works_and_revokes_it(category):
    out, err = StringIO(), StringIO()
    call_command("open311_key", "街道App", stdout=out, stderr=err)
    key = out.getvalue().strip()
    client_row = ApiClient.objects.get(name="街道App")
    assert client_row.key_digest == digest(key)
    assert key not in client_row.key_digest
    assert ApiClient.objects.for_key(key) == client_row
    assert post(valid(key, category)).status_code == 201

    listing = StringIO()
    call_command("open311_key", "--list", stdout=listing)
    assert client_row.key_prefix in listing.getvalue()
    assert key not in listing.getvalue()

    call_command("open311_key", f"--revoke={key[:6]}", stdout=StringIO())
    client_row.refresh_from_db()
    assert client_row.revoked_at is not None
    assert ApiClient.objects.for_key(key) is None
    assert_error(post(valid(key, category)), 403)
    with pytest.raises(CommandError):
        call_command("open311_key", f"--revoke={key[:6]}", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("open311_key", stdout=StringIO())


ADMIN = "/admin/tracking/open311-clients/"


def admin_client(user) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def test_a_supervisor_issues_a_key_shown_once_and_revokes_it(category):
    browser = admin_client(supervisor())
    response = browser.post(f"{ADMIN}new/", {"name": "市民App"})
    assert response.status_code == 200
    client_row = ApiClient.objects.get(name="市民App")
    page = response.content.decode()
    start = page.index('id="open311-key"')
    value = page[start:].split('value="', 1)[1].split('"', 1)[0]
    assert client_row.key_digest == digest(value)
    assert (
        "no-store" in response["Cache-Control"]
        or "no-cache" in response["Cache-Control"]
    )
    # Nowhere else again: not in the listing, not in a message on the next page.
    listing = browser.get(ADMIN)
    assert listing.status_code == 200
    assert value not in listing.content.decode()
    assert client_row.key_prefix in listing.content.decode()
    assert f"revoke/{client_row.pk}/" in listing.content.decode()
    assert post(valid(value, category)).status_code == 201

    confirm = browser.get(f"{ADMIN}revoke/{client_row.pk}/")
    assert confirm.status_code == 200
    assert client_row.key_prefix in confirm.content.decode()
    assert browser.post(f"{ADMIN}revoke/{client_row.pk}/").status_code == 302
    client_row.refresh_from_db()
    assert client_row.revoked_at is not None
    assert_error(post(valid(value, category)), 403)
    assert f"revoke/{client_row.pk}/" not in browser.get(ADMIN).content.decode()


def test_clients_are_never_deleted_in_the_admin():
    client_row, _key = ApiClient.issue("系统")
    browser = admin_client(supervisor())
    assert browser.get(f"{ADMIN}delete/{client_row.pk}/").status_code == 404
    edit = browser.get(f"{ADMIN}edit/{client_row.pk}/")
    assert edit.status_code == 200
    assert "/delete/" not in edit.content.decode()


def test_an_officer_may_not_issue_or_revoke_keys():
    client_row, _key = ApiClient.issue("系统")
    browser = admin_client(officer())
    assert browser.post(f"{ADMIN}new/", {"name": "x"}).status_code in (302, 403)
    assert browser.post(f"{ADMIN}revoke/{client_row.pk}/").status_code in (302, 403)
    client_row.refresh_from_db()
    assert client_row.revoked_at is None
    assert ApiClient.objects.count() == 1
