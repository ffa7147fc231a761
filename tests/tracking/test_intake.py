"""The citizen's web form (提交诉求): what it shows, what it stores, what it refuses.

Black box through HTTP, in Chinese (the default language), with the database
counted before and after: a refused submission leaves nothing behind.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation

from tests.factories import CategoryFactory, CitizenFactory
from tracking import services
from tracking.exceptions import InvalidInput
from tracking.models import (
    Case,
    CaseAttachment,
    CaseEvent,
    Channel,
    Citizen,
    State,
)

pytestmark = pytest.mark.django_db

URL = "/report/"
DONE = "/report/done/"
NOT_A_PHONE = "请输入11位手机号码，或带区号的固定电话号码。"


@pytest.fixture(autouse=True)
def _photos_in_a_directory_of_their_own(private_storage):
    return private_storage


def valid(**overrides) -> dict:
    data = {
        "kind": "complaint",
        "category": "",
        "title": "小区门口路灯不亮",
        "description": "金胜路18号门口的路灯坏了一周，晚上看不清路。",
        "location_text": "金胜路18号",
        "latitude": "36.651234",
        "longitude": "117.120456",
        "name": "周建国",
        "phone": "+86 139-1234-5678",
        "consent_to_publish": "on",
        "website": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Case, Citizen, CaseEvent, CaseAttachment)
    }


NOTHING = {"Case": 0, "Citizen": 0, "CaseEvent": 0, "CaseAttachment": 0}


@pytest.fixture(autouse=True)
def default_language_after():
    """The default language again after each test: a request to /en/ leaves
    English active in the thread (LocaleMiddleware does not reset it), and
    later tests that build URLs would get English ones."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


def field_errors(response, name: str) -> str:
    """The text of the error list Django renders for field ``name`` (next to it)."""
    body = response.content.decode()
    match = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', body)
    return unescape(re.sub(r"<[^>]+>", " ", match.group(1))) if match else ""


# --- the page ----------------------------------------------------------------------


def test_the_form_is_in_chinese_with_every_field_and_a_csrf_token(client):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'lang="zh-hans"' in body
    labels = ("提交诉求", "诉求类型", "投诉", "标题", "姓名", "电话", "纬度", "经度")
    for text in labels:
        assert text in body, text
    assert 'name="csrfmiddlewaretoken"' in body
    assert re.search(r'<input type="file" name="photos"[^>]* multiple', body)
    assert 'enctype="multipart/form-data"' in body


def test_the_form_has_an_english_version(client):
    body = client.get("/en/report/").content.decode()
    assert 'lang="en"' in body
    assert "Submit a request" in body
    assert 'action="/en/report/"' in body


def test_the_honeypot_is_hidden_from_people_but_not_from_robots(client):
    body = client.get(URL).content.decode()
    hidden = re.search(r'<div class="hp" aria-hidden="true">(.*?)</div>', body, re.S)
    assert hidden, "the honeypot is wrapped in the visually hidden block"
    field = hidden.group(1)
    assert 'name="website"' in field
    assert 'tabindex="-1"' in field
    assert 'autocomplete="off"' in field
    assert "此项请留空" in field
    # Hidden by the stylesheet, not inline: the site's CSP refuses inline styles.
    assert "style=" not in body
    assert "<script" not in body


def test_the_form_is_never_kept_by_a_cache(client):
    first = client.get(URL)
    second = client.get(URL)
    assert "X-Page-Cache" not in second
    assert "no-store" in first["Cache-Control"]
    assert first.status_code == second.status_code == 200


def test_the_site_navigation_links_to_both_doors(client):
    chinese = client.get("/search/").content.decode()
    assert 'href="/report/">提交诉求</a>' in chinese
    assert 'href="/progress/">进度查询</a>' in chinese
    english = client.get("/en/search/").content.decode()
    assert 'href="/en/report/">Submit a request</a>' in english
    assert 'href="/en/progress/">Track a request</a>' in english


# --- a valid submission --------------------------------------------------------------


def test_a_valid_submission_registers_exactly_one_web_case(client):
    category = CategoryFactory()
    response = client.post(URL, valid(category=str(category.pk)))

    assert response.status_code == 302
    assert response["Location"] == DONE
    assert counts() == {"Case": 1, "Citizen": 1, "CaseEvent": 1, "CaseAttachment": 0}
    case = Case.objects.get()
    assert case.state == State.REGISTERED
    assert case.channel == Channel.WEB
    assert case.kind == "complaint"
    assert case.category == category
    assert case.consent_to_publish is True
    assert str(case.latitude) == "36.651234"
    assert str(case.longitude) == "117.120456"
    assert case.citizen.phone == "13912345678"
    assert case.citizen.name == "周建国"
    event = CaseEvent.objects.get()
    assert (event.case, event.action, event.actor) == (case, "register", None)


def test_consent_is_stored_only_when_given(client):
    client.post(URL, valid(consent_to_publish=None))
    assert Case.objects.get().consent_to_publish is False


def test_the_map_point_is_optional_and_kept_to_six_places(client):
    client.post(URL, valid(latitude="", longitude=""))
    client.post(
        URL, valid(latitude="36.6512345678", longitude="-117.1", phone="13800138000")
    )
    first, second = Case.objects.order_by("pk")
    assert (first.latitude, first.longitude) == (None, None)
    assert (str(second.latitude), str(second.longitude)) == ("36.651235", "-117.100000")


def test_the_confirmation_shows_the_reference_and_what_happens_next(client):
    response = client.post(URL, valid(), follow=True)
    case = Case.objects.get()
    body = response.content.decode()
    assert response.status_code == 200
    assert case.reference in body
    assert "状态：“已登记”" in body
    assert "渠道：网上留言" in body
    assert "接下来" in body
    # Nothing else of the case: not the name, the phone, the text.
    for private in ("周建国", "13912345678", "5678", "金胜路18号", "路灯坏了"):
        assert private not in body, private
    assert "no-store" in response["Cache-Control"]


def test_the_confirmation_address_shows_no_case_to_another_browser(client):
    client.post(URL, valid())
    reference = Case.objects.get().reference
    stranger = Client().get(DONE)
    assert stranger.status_code == 200
    assert reference not in stranger.content.decode()


def test_a_second_request_from_the_same_phone_joins_the_same_citizen(client):
    client.post(URL, valid())
    client.post(URL, valid(phone="139 1234 5678", title="路口没有红绿灯"))
    assert Case.objects.count() == 2
    assert Citizen.objects.count() == 1
    assert {case.citizen_id for case in Case.objects.all()} == {
        Citizen.objects.get().pk
    }


def test_a_known_callers_request_joins_their_citizen_row(client):
    known = CitizenFactory(name="周建国", phone="13912345678")
    client.post(URL, valid())
    assert Case.objects.get().citizen == known
    assert Citizen.objects.count() == 1


# --- refused submissions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("kind", {"kind": None}, "请选择诉求类型：咨询、求助或投诉。"),
        ("kind", {"kind": "urgent"}, "选择一个有效的选项"),
        ("category", {"category": "999999"}, "选择一个有效的选项"),
        ("title", {"title": "   "}, "请为您的诉求写一个简短的标题。"),
        ("title", {"title": "路" * 201}, "200"),
        ("description", {"description": ""}, "请描述您反映的问题或咨询的事项。"),
        ("name", {"name": ""}, "请输入您的姓名。"),
        ("phone", {"phone": ""}, "请输入您的电话号码，热线将通过它回访您。"),
        ("phone", {"phone": "12345"}, NOT_A_PHONE),
        ("phone", {"phone": "不告诉你"}, NOT_A_PHONE),
        ("longitude", {"longitude": ""}, "地图位置需要同时填写纬度和经度。"),
        ("latitude", {"latitude": ""}, "地图位置需要同时填写纬度和经度。"),
        ("latitude", {"latitude": "91"}, "90"),
        ("longitude", {"longitude": "-180.5"}, "-180"),
        ("longitude", {"longitude": "东经117度"}, "输入一个数字。"),
        ("latitude", {"latitude": "NaN"}, "输入一个数字。"),
        ("title", {"title": "路灯\x00不亮"}, "不允许"),
    ],
)
def test_each_mistake_is_shown_in_chinese_next_to_its_field(
    client, field, overrides, message
):
    response = client.post(URL, valid(**overrides))
    assert response.status_code == 400
    assert message in field_errors(response, field), response.content.decode()
    assert "请修改下方标出的内容。" in response.content.decode()
    assert counts() == NOTHING


def test_an_inactive_category_cannot_be_chosen(client):
    retired = CategoryFactory(is_active=False)
    response = client.post(URL, valid(category=str(retired.pk)))
    assert response.status_code == 400
    assert "选择一个有效的选项" in field_errors(response, "category")
    assert str(retired) not in response.content.decode().split("<form", 1)[1]
    assert counts() == NOTHING


def test_what_was_typed_is_kept_when_the_form_comes_back(client):
    response = client.post(URL, valid(phone="12345"))
    body = response.content.decode()
    assert 'value="小区门口路灯不亮"' in body
    assert "金胜路18号门口的路灯坏了一周" in body


def test_a_refusal_of_the_service_is_shown_above_the_form(client, monkeypatch):
    def refuse(**kwargs):
        raise InvalidInput("此分类已停用。")

    monkeypatch.setattr(services, "case_register", refuse)
    response = client.post(URL, valid())
    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(r'class="form-errors" role="alert">.*此分类已停用。', body, re.S)
    assert counts() == NOTHING


def test_csrf_is_enforced(private_storage):
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post(URL, valid())
    assert refused.status_code == 403
    assert counts() == NOTHING

    browser.get(URL)
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(URL, valid(csrfmiddlewaretoken=token))
    assert accepted.status_code == 302
    assert Case.objects.count() == 1


def test_a_filled_honeypot_stores_nothing_and_looks_like_success(client):
    response = client.post(URL, valid(website="http://cheap-pills.example"))
    assert response.status_code == 302
    assert response["Location"] == DONE
    assert counts() == NOTHING
    done = client.get(DONE)
    assert done.status_code == 200
    assert "感谢您的留言" in done.content.decode()
    assert "8890-" not in done.content.decode()


# --- rate limits -------------------------------------------------------------------


def test_requests_per_address_are_limited_with_a_chinese_429(client, settings):
    settings.INTAKE_RATE_PER_IP = "2/h"
    # Mistakes are not counted: only requests that would be stored.
    for _ in range(3):
        assert client.post(URL, valid(phone="12345")).status_code == 400
    assert client.post(URL, valid(phone="13800000001")).status_code == 302
    assert client.post(URL, valid(phone="13800000002")).status_code == 302

    refused = client.post(URL, valid(phone="13800000003"))
    assert refused.status_code == 429
    assert "您所在网络提交的诉求过多" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert Case.objects.count() == 2
    # Still refused, before the upload is even looked at; other addresses are not.
    assert client.post(URL, valid(phone="12345")).status_code == 429
    other = client.post(URL, valid(phone="13800000004"), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_a_robot_filling_the_honeypot_is_limited_too(client, settings):
    settings.INTAKE_RATE_PER_IP = "2/h"
    for _ in range(2):
        assert client.post(URL, valid(website="x")).status_code == 302
    assert client.post(URL, valid(website="x")).status_code == 429
    assert counts() == NOTHING


def test_requests_per_phone_are_limited_however_the_number_is_written(client, settings):
    settings.INTAKE_RATE_PER_PHONE = "2/d"
    for n, phone in enumerate(("13912345678", "+86 139 1234 5678")):
        response = client.post(URL, valid(phone=phone), REMOTE_ADDR=f"10.0.1.{n}")
        assert response.status_code == 302

    refused = client.post(URL, valid(phone="139-1234-5678"), REMOTE_ADDR="10.0.1.9")
    assert refused.status_code == 429
    assert "该电话号码今日提交的诉求过多" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert Case.objects.count() == 2
    assert client.post(URL, valid(phone="13800138000")).status_code == 302


def test_a_body_larger_than_the_photos_allowed_is_refused_unread(client, settings):
    settings.INTAKE_MAX_REQUEST_BYTES = 2000
    response = client.post(URL, valid(description="路灯坏了。" * 400))

    assert response.status_code == 413
    assert "最多" in unescape(response.content.decode())
    assert counts() == NOTHING
