"""Open311 as a real client reads it: the ``georeport`` package over HTTP against
a live server, in JSON and in XML. (It cannot post; ``requests`` does that.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from georeport import GeoReport

from tests.factories import CategoryFactory, CitizenFactory, DepartmentFactory
from tracking.models import Case, Channel
from tracking.open311.models import ApiClient

SECRET_PHONE = "13911112222"


@pytest.fixture
def open311(live_server, transactional_db):
    category = CategoryFactory(
        name="路灯故障",
        service_code="streetlight",
        description="路灯不亮",
        default_department=DepartmentFactory(name="市城管局"),
    )
    CategoryFactory(name="占道经营", service_code="vendors")
    _client, key = ApiClient.issue("城市App")
    return {
        "root": live_server.url + "/open311/v2",
        "key": key,
        "category": category,
    }


def create(open311, fmt="json", **fields) -> requests.Response:
    data = {
        "api_key": open311["key"],
        "service_code": "streetlight",
        "description": f"金胜路路灯不亮，我的电话{SECRET_PHONE}",
        "lat": "36.6512",
        "long": "117.12",
        "first_name": "建国",
        "last_name": "周",
        "phone": SECRET_PHONE,
        **fields,
    }
    return requests.post(f"{open311['root']}/requests.{fmt}", data=data, timeout=10)


def as_list(value) -> list:
    """xmltodict gives one element as a dict, several as a list."""
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_client_reads_services_and_posts_and_follows_requests(open311, fmt):
    client = GeoReport(open311["root"], output_format=fmt)

    services = {s["service_code"]: s for s in as_list(client.get_service_list())}
    assert set(services) == {"streetlight", "vendors"}
    assert services["streetlight"]["service_name"] == "路灯故障"
    assert services["streetlight"]["group"] == "市城管局"

    definition = client.get_service_definition("streetlight")
    assert definition["service_code"] == "streetlight"
    # The one optional attribute, HEARD_OF, as either format gives it.
    assert "HEARD_OF" in str(definition["attributes"])

    posted = create(open311, fmt)
    assert posted.status_code == 201, posted.text
    case = Case.objects.get()
    assert case.channel == Channel.OPEN311
    assert case.reference in posted.text

    other = create(open311, fmt, service_code="vendors", description="占道摆摊")
    assert other.status_code == 201
    other_case = Case.objects.exclude(pk=case.pk).get()

    found = as_list(client.get_service_requests())
    assert [r["service_request_id"] for r in found] == [
        other_case.reference,
        case.reference,
    ]
    by_code = as_list(client.get_service_requests(service_code="streetlight"))
    assert [r["service_request_id"] for r in by_code] == [case.reference]
    start = (timezone.now() - timedelta(days=1)).isoformat()
    end = (timezone.now() + timedelta(days=1)).isoformat()
    windowed = as_list(
        client.get_service_requests(start_date=start, end_date=end, status="open")
    )
    assert len(windowed) == 2
    # Nothing closed yet. (georeport cannot read an empty XML list, which is an
    # empty <service_requests/>: ask for it directly.)
    closed = requests.get(
        f"{open311['root']}/requests.{fmt}", params={"status": "closed"}, timeout=10
    )
    assert closed.status_code == 200
    assert "service_request_id" not in closed.text
    by_id = as_list(client.get_service_requests(service_request_id=case.reference))
    assert [r["service_request_id"] for r in by_id] == [case.reference]

    one = client.get_service_request(case.reference)
    assert one["service_request_id"] == case.reference
    assert one["status"] == "open"
    assert one["service_code"] == "streetlight"
    assert one["agency_responsible"] == "市城管局"
    assert one["requested_datetime"].endswith("+08:00")
    assert float(one["lat"]) == pytest.approx(36.6512)
    assert "金胜路路灯不亮" in one["description"]
    assert SECRET_PHONE not in one["description"]


def test_no_personal_data_reaches_the_client(open311):
    CitizenFactory(name="周建国", phone=SECRET_PHONE)
    assert create(open311).status_code == 201
    reference = Case.objects.get().reference
    for fmt in ("json", "xml"):
        for path in ("requests", f"requests/{reference}"):
            response = requests.get(f"{open311['root']}/{path}.{fmt}", timeout=10)
            assert response.status_code == 200
            assert SECRET_PHONE not in response.text
            assert "周建国" not in response.text


def test_errors_reach_the_client_as_http_errors(open311):
    client = GeoReport(open311["root"], output_format="json")
    with pytest.raises(requests.HTTPError) as missing:
        client.get_service_definition("nope")
    assert missing.value.response.status_code == 404
    assert missing.value.response.json()[0]["code"] == 404
    with pytest.raises(requests.HTTPError) as bad:
        client.get_service_requests(start_date="not-a-date")
    assert bad.value.response.status_code == 400

    refused = create(open311, "xml", api_key="wrong")
    assert refused.status_code == 403
    assert "<code>403</code>" in refused.text
    assert Case.objects.count() == 0
