"""Open311 under generated input: garbage fields, encodings, dates, coordinates,
content types and query strings. Never a 5xx, always an answer in the asked
format, and a refused POST leaves no row behind."""

from __future__ import annotations

import json
import math
from urllib.parse import quote, urlencode
from xml.etree import ElementTree

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import CategoryFactory, DepartmentFactory
from tracking.models import Case, CaseEvent, Citizen, ReferenceSequence
from tracking.open311.models import ApiClient

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
FUZZ = settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world(settings):
    settings.OPEN311_RATE_PER_KEY = "100000/m"
    category = CategoryFactory(
        service_code="streetlight", default_department=DepartmentFactory()
    )
    CategoryFactory(service_code="retired", is_active=False)
    _client, key = ApiClient.issue("fuzz")
    revoked, revoked_key = ApiClient.issue("revoked")
    revoked.revoke()
    return {"key": key, "revoked_key": revoked_key, "category": category}


def rows():
    return (
        Case.objects.count(),
        Citizen.objects.count(),
        CaseEvent.objects.count(),
        ReferenceSequence.objects.count(),
    )


def assert_answer_in_its_format(response):
    assert response.status_code < 500, response.content
    content_type = response["Content-Type"]
    if content_type.startswith("text/xml"):
        ElementTree.fromstring(response.content)
    else:
        assert content_type.startswith("application/json")
        data = json.loads(response.content)
        if response.status_code >= 400:
            assert data[0]["code"] == response.status_code
            assert data[0]["description"]


# --- values ------------------------------------------------------------------------

weird_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=()), max_size=80
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        ["NaN", "-inf", "Infinity", "1e999", "0x1f", "36,5", "", " 36.5 ", "٣٦.٥"]
    ),
    st.floats(min_value=-200, max_value=200).map(lambda f: f"{f:.7f}"),
)
dates = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.dates().map(str),
    st.sampled_from(
        [
            "2026-03-01T00:00:00+08:00",
            "2026-02-30",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59-12:00",
            "2026-13-01",
            "yesterday",
            "",
        ]
    ),
    weird_text,
)
urls = st.one_of(
    st.sampled_from(
        [
            "https://example.com/a.jpg",
            "http://例子.中国/图.png",
            "javascript:alert(1)",
            "ftp://x/y",
            "//no-scheme",
            "https://" + "a" * 600,
        ]
    ),
    weird_text,
)
FIELD_VALUES = {
    "service_code": st.one_of(
        st.sampled_from(["streetlight", "retired", "nope", ""]), weird_text
    ),
    "description": st.one_of(st.just("路灯不亮"), weird_text, st.text(max_size=5000)),
    "title": weird_text,
    "lat": numbers,
    "long": numbers,
    "address_string": weird_text,
    "address_id": weird_text,
    "email": st.one_of(st.emails().map(str), weird_text),
    "first_name": weird_text,
    "last_name": weird_text,
    "phone": st.one_of(st.from_regex(r"\+?[0-9 -]{3,25}", fullmatch=True), weird_text),
    "media_url": urls,
    "attribute[x]": weird_text,
}


@st.composite
def post_bodies(draw, key: str, revoked_key: str):
    # A valid request with a few of its fields replaced, dropped or added.
    data = {
        "api_key": key,
        "service_code": "streetlight",
        "description": "金胜路路灯不亮",
        "lat": "36.6512",
        "long": "117.12",
    }
    for name in draw(st.sets(st.sampled_from(sorted(FIELD_VALUES)), max_size=4)):
        if draw(st.integers(0, 4)) == 0:
            data.pop(name, None)
        else:
            data[name] = draw(FIELD_VALUES[name])
    data["api_key"] = draw(
        st.sampled_from([key, key, key, key, revoked_key, "", "wrong"])
    )
    if draw(st.integers(0, 4)) == 0:
        data.update(draw(st.dictionaries(weird_text, weird_text, max_size=3)))
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["gb18030", "latin-1", "raw"]))
    if encoding == "raw":
        body = draw(st.binary(max_size=300))
    else:
        body = urlencode(data, encoding=encoding, errors="replace").encode("ascii")
        if draw(st.integers(0, 3)) == 0:
            # Break the encoding somewhere: a lone %, a bad escape, a raw byte.
            cut = draw(st.integers(min_value=0, max_value=len(body)))
            junk = draw(
                st.sampled_from([b"%", b"%G1", b"%00", b"\xff", b"\x00", b"&&=", b"+"])
            )
            body = body[:cut] + junk + body[cut:]
    content_type = draw(
        st.one_of(
            st.just(FORM),
            st.just(FORM),
            st.just(FORM),
            st.just(FORM),
            st.sampled_from(
                [
                    f"{FORM}; charset=utf-8",
                    f"{FORM}; charset=gbk",
                    "application/json",
                    "multipart/form-data; boundary=x",
                    "text/plain",
                    "",
                    "application/x-www-form-urlencoded;;;",
                ]
            ),
            st.text(max_size=40).filter(lambda t: "\n" not in t and "\r" not in t),
        )
    )
    return body, content_type


def test_generated_posts_never_fail_and_refusals_leave_nothing(world):
    client = Client()

    @FUZZ
    @given(
        body=post_bodies(world["key"], world["revoked_key"]),
        fmt=st.sampled_from(["json", "xml"] * 4 + ["csv"]),
    )
    def check(body, fmt):
        data, content_type = body
        before = rows()
        # generic(), not post(): post() re-encodes a body to the charset its
        # content type names, which raw bytes do not survive.
        response = client.generic(
            "POST", f"/open311/v2/requests.{fmt}", data, content_type=content_type
        )
        assert_answer_in_its_format(response)
        after = rows()
        if response.status_code == 201:
            assert after[0] == before[0] + 1
            assert after[2] == before[2] + 1
        else:
            assert after == before, response.content

    check()


@st.composite
def query_strings(draw):
    params = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "service_request_id",
                    "service_code",
                    "start_date",
                    "end_date",
                    "status",
                    "page",
                    "api_key",
                    "jurisdiction_id",
                ]
            ),
            st.just(None),
            max_size=6,
        )
    )
    values = {
        "start_date": dates,
        "end_date": dates,
        "status": st.one_of(
            st.sampled_from(["open", "closed", "open,closed", "OPEN", ""]), weird_text
        ),
        "page": st.one_of(st.integers(-5, 10**30).map(str), weird_text),
        "service_code": st.one_of(st.just("streetlight,retired"), weird_text),
        "service_request_id": st.one_of(st.just("8890-20260318-00001,x"), weird_text),
    }
    query = {name: draw(values.get(name, weird_text)) for name in params}
    if draw(st.booleans()):
        return urlencode(query)
    raw = draw(st.binary(max_size=120))
    return raw.decode("latin-1")


def test_generated_reads_never_fail(world):
    client = Client()

    @FUZZ
    @given(
        query=query_strings(),
        path=st.one_of(
            st.sampled_from(
                ["requests", "services", "discovery", "services/streetlight"]
            ),
            weird_text.map(lambda t: "requests/" + quote(t, safe="")),
            weird_text.map(lambda t: "services/" + quote(t, safe="")),
        ),
        fmt=st.sampled_from(["json", "xml", "txt"]),
    )
    def check(query, path, fmt):
        response = client.get(f"/open311/v2/{path}.{fmt}", QUERY_STRING=query)
        assert_answer_in_its_format(response)

    check()


def test_coordinates_that_pass_are_finite_and_in_range(world):
    """Whatever a client sends as lat/long, a stored point is a real one."""
    client = Client()

    @settings(max_examples=150, deadline=None, database=None)
    @given(lat=numbers, long=numbers)
    def check(lat, long):
        response = client.post(
            "/open311/v2/requests.json",
            data=urlencode(
                {
                    "api_key": world["key"],
                    "service_code": "streetlight",
                    "description": "路灯不亮",
                    "lat": lat,
                    "long": long,
                }
            ),
            content_type=FORM,
        )
        assert response.status_code in (201, 400), response.content
        if response.status_code == 201:
            case = Case.objects.order_by("-pk").first()
            assert math.isfinite(case.latitude) and abs(case.latitude) <= 90
            assert math.isfinite(case.longitude) and abs(case.longitude) <= 180

    check()
