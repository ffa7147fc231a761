"""The progress lookup (进度查询): the right reference number and phone digits show
the case's public progress, redacted; anything else gets one answer, and
guessing is stopped per address and per reference number."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tests.factories import CategoryFactory, DepartmentFactory, aware, officer
from tests.public_surfaces import (
    look_up_progress,
    number_leaks,
    readable,
    string_leaks,
)
from tracking import services as svc
from tracking.models import Case, CaseAttachment, CaseEvent, Citizen, State

pytestmark = pytest.mark.django_db

NOW = aware(2026, 3, 18, 10)
NAME, PHONE, EMAIL = "欧阳建国", "13987654321", "ouyang.jg@example.cn"
ADDRESS = "历下区幸福小区3号楼502室"
TAIL = PHONE[-4:]
DESCRIPTION_ONLY = "这一句只在诉求内容里"
GENERIC = "没有与该工单编号和号码后四位相符的诉求，请核对后重试。"
TOO_MANY = "查询失败次数过多"


@pytest.fixture(autouse=True)
def default_language_after():
    """The default language again after each test: a request to /en/ leaves
    English active in the thread (LocaleMiddleware does not reset it), and
    later tests that build URLs would get English ones."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


def register(*, phone=PHONE, name=NAME, **fields) -> Case:
    defaults = {
        "kind": "complaint",
        "title": f"{name}反映金胜路口没有人行横道，电话{phone}",
        "description": (
            f"我是{name}，住{ADDRESS}，电话{phone}，邮箱{EMAIL}。{DESCRIPTION_ONLY}。"
        ),
        "citizen": svc.CitizenData(
            name=name, phone=phone, address=ADDRESS, email=EMAIL
        ),
        "channel": "web",
        "now": NOW,
    }
    return svc.case_register(**{**defaults, **fields})


@pytest.fixture
def department(db):
    return DepartmentFactory(name="市交通运输局")


@pytest.fixture
def replied(calendar_2026, department):
    """A case the department has answered, quoting the citizen's data back."""
    user = officer()
    case = register(category=CategoryFactory(default_department=department))
    svc.case_accept(case=case.pk, user=user, now=NOW)
    svc.case_dispatch(case=case.pk, user=user, department=department, now=NOW)
    svc.case_reply(
        case=case.pk,
        user=user,
        text=(
            f"已联系{NAME[:2]}先生（{PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}），"
            "将于下月在路口施划人行横道。"
        ),
        now=aware(2026, 3, 20, 15),
    )
    return Case.objects.get(pk=case.pk)


def main(response) -> str:
    body = response.content.decode()
    return body.split('<main id="main" role="main">', 1)[1].split("</main>", 1)[0]


def non_field_errors(response) -> str:
    match = re.search(
        r'<div class="form-errors" role="alert">(.*?)</div>', main(response), re.S
    )
    return unescape(re.sub(r"<[^>]+>", " ", match.group(1))) if match else ""


# --- the page ---------------------------------------------------------------------


def test_the_lookup_form_is_in_chinese_and_posts_with_csrf(client):
    response = client.get("/progress/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("进度查询", "工单编号", "电话号码后四位", "查询"):
        assert text in body, text
    assert 'method="post"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert "no-store" in response["Cache-Control"]


def test_the_lookup_has_an_english_version(client):
    body = client.get("/en/progress/").content.decode()
    assert "Track a request" in body
    assert 'action="/en/progress/"' in body


def test_csrf_is_enforced(replied):
    browser = Client(enforce_csrf_checks=True)
    assert look_up_progress(browser, replied.reference, TAIL).status_code == 403
    browser.get("/progress/")
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        "/progress/",
        {
            "reference": replied.reference,
            "phone_tail": TAIL,
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 200
    assert "部门已答复" in main(response)


# --- the right pair -----------------------------------------------------------------


def test_the_right_pair_shows_status_timeline_and_answer(client, replied):
    response = look_up_progress(client, replied.reference, TAIL)
    assert response.status_code == 200
    page = main(response)
    assert replied.reference in page
    assert re.search(r'id="progress-status"><strong>部门已答复</strong>', page)
    timeline = page.split('<ol class="timeline"', 1)[1]
    labels = re.findall(r"</time><strong>(.*?)</strong>", timeline)
    assert labels == ["诉求已登记", "热线已受理", "已派发至承办单位", "部门已答复"]
    assert "市交通运输局" in timeline
    assert "市交通运输局的答复" in page
    assert "将于下月在路口施划人行横道" in page
    assert "2026-03-18" in page
    assert "no-store" in response["Cache-Control"]


def test_a_dispatched_case_shows_its_deadline(client, calendar_2026, department):
    case = register(category=CategoryFactory(default_department=department))
    user = officer()
    svc.case_accept(case=case.pk, user=user, now=NOW)
    case = svc.case_dispatch(case=case.pk, user=user, department=department, now=NOW)
    page = main(look_up_progress(client, case.reference, TAIL))
    assert re.search(r'id="progress-status"><strong>办理中</strong>', page)
    due = re.search(r'id="progress-due"><time datetime="[^"]+">([0-9-]+)</time>', page)
    assert due, page
    assert due.group(1) == case.due_at.astimezone(NOW.tzinfo).date().isoformat()


def test_a_just_registered_case_reads_registered(client):
    case = register()
    page = main(look_up_progress(client, case.reference, TAIL))
    assert re.search(r'id="progress-status"><strong>已登记</strong>', page)
    assert 'id="progress-due"' not in page


def test_a_case_returned_by_its_department_reads_in_progress(client, department):
    case = register()
    Case.objects.filter(pk=case.pk).update(state=State.RETURNED)
    page = main(look_up_progress(client, case.reference, TAIL))
    assert re.search(r'id="progress-status"><strong>办理中</strong>', page)
    assert "退" not in page


def test_a_merged_case_says_which_case_it_joined(client):
    earlier = register(phone="13800138000", name="李四")
    duplicate = register()
    svc.case_merge(case=duplicate.pk, user=officer(), into=earlier.reference, now=NOW)
    page = main(look_up_progress(client, duplicate.reference, TAIL))
    joined = re.search(r'id="progress-joined">(.*?)</p>', page, re.S)
    assert joined, page
    assert earlier.reference in joined.group(1)
    assert "已登记" in joined.group(1)
    # Nothing of the other citizen either.
    assert "李四" not in page
    assert "13800138000" not in page


def test_the_phone_tail_may_be_typed_in_full_width(client, replied):
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in TAIL)
    assert look_up_progress(client, replied.reference, full_width).status_code == 200


def test_no_personal_data_and_no_photo_on_the_lookup_page(client, replied):
    CaseAttachment.objects.create(
        case=replied, file="case-photos/2026/03/abcdef.jpg", content_type="image/jpeg"
    )
    response = look_up_progress(client, replied.reference, TAIL)
    assert response.status_code == 200
    text = readable(main(response))
    assert not number_leaks(text, PHONE)
    address_parts = ["幸福小区", "3号楼", "502室", ADDRESS]
    assert not string_leaks(text, [NAME, EMAIL, *address_parts])
    assert DESCRIPTION_ONLY not in text, "the description is not shown"
    assert "<img" not in response.content.decode()
    assert "abcdef" not in response.content.decode()
    assert "欧某" in text, "the name is masked, not dropped silently"


def test_the_lookup_reads_a_fixed_number_of_queries(client, replied):
    def queries() -> int:
        cache.clear()  # the censor rules are read too, not taken from the cache
        with CaptureQueriesContext(connection) as captured:
            assert look_up_progress(client, replied.reference, TAIL).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(20):
        CaseEvent.objects.create(
            case=replied, action="accept", public=True, created_at=NOW
        )
    # The case, its events, the censor rules…; one of them is the masthead's
    # columns, which the page shares with the paper's pages.
    assert queries() == few <= 6


# --- wrong pairs -------------------------------------------------------------------


def test_every_wrong_pair_gets_the_same_answer(client, replied):
    no_phone = register(citizen=None)
    no_digits = register(phone="不详", name="王五")
    attempts = [
        ("8890-20260318-99999", TAIL),  # no such case
        (replied.reference, "0000"),  # other digits
        (replied.reference, PHONE[-5:-1]),  # the wrong four
        (no_phone.reference, "0000"),  # a case with no citizen
        (no_digits.reference, "0000"),  # a citizen with no phone number
    ]
    bodies = set()
    for n, (reference, tail) in enumerate(attempts):
        response = look_up_progress(client, reference, tail, REMOTE_ADDR=f"10.2.0.{n}")
        assert response.status_code == 400
        assert non_field_errors(response).strip() == GENERIC
        assert 'id="progress-status"' not in main(response)
        bodies.add(re.sub(r'value="[^"]*"', "", main(response)))
    assert len(bodies) == 1, "no wrong pair can be told from another"


@pytest.mark.parametrize(
    ("reference", "tail", "field", "message"),
    [
        ("", TAIL, "reference", "必需字段"),
        ("8890 2026", TAIL, "reference", "请按收到的格式输入工单编号"),
        ("8890-20260318-00001", "", "phone_tail", "必需字段"),
        ("8890-20260318-00001", "56", "phone_tail", "请输入您的电话号码后四位。"),
        ("8890-20260318-00001", "abcd", "phone_tail", "请输入您的电话号码后四位。"),
        ("8890-20260318-00001", "٣٣٣٣", "phone_tail", "请输入您的电话号码后四位。"),
    ],
)
def test_malformed_input_is_told_next_to_its_field(
    client, reference, tail, field, message
):
    response = look_up_progress(client, reference, tail)
    assert response.status_code == 400
    errors = re.search(rf'id="id_{field}_error">(.*?)</ul>', response.content.decode())
    assert errors and message in unescape(errors.group(1))


# --- guessing ----------------------------------------------------------------------


def test_failures_per_address_are_limited_with_a_chinese_429(client, settings, replied):
    settings.LOOKUP_FAILURES_PER_IP = "3/h"
    # Successes are not counted.
    for _ in range(5):
        assert look_up_progress(client, replied.reference, TAIL).status_code == 200
    for n in range(3):
        wrong = look_up_progress(client, f"8890-20260318-9999{n}", "0000")
        assert wrong.status_code == 400
    refused = look_up_progress(client, "8890-20260318-99995", "0000")
    assert refused.status_code == 429
    assert TOO_MANY in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    # Over the limit, even the right pair is not looked at: guessing on is useless.
    right = look_up_progress(client, replied.reference, TAIL)
    assert right.status_code == 429
    assert "部门已答复" not in right.content.decode()
    # Another address is not limited.
    other = look_up_progress(client, replied.reference, TAIL, REMOTE_ADDR="10.3.0.1")
    assert other.status_code == 200


def test_failures_per_reference_are_limited_across_addresses(client, replied):
    # Five failures an hour on one reference, from wherever they come.
    for n in range(5):
        wrong = look_up_progress(
            client, replied.reference, f"{n:04d}", REMOTE_ADDR=f"10.4.0.{n}"
        )
        assert wrong.status_code == 400
    refused = look_up_progress(
        client, replied.reference, "0005", REMOTE_ADDR="10.4.0.5"
    )
    assert refused.status_code == 429
    assert TOO_MANY in refused.content.decode()
    right = look_up_progress(client, replied.reference, TAIL, REMOTE_ADDR="10.4.0.6")
    assert right.status_code == 429
    # Other cases are looked up as before.
    other = register(phone="13700001111", name="赵六")
    response = look_up_progress(client, other.reference, "1111", REMOTE_ADDR="10.4.0.7")
    assert response.status_code == 200


def test_the_rate_per_reference_is_a_setting(client, settings, replied):
    settings.LOOKUP_FAILURES_PER_REFERENCE = "1/h"
    assert look_up_progress(client, replied.reference, "0000").status_code == 400
    assert look_up_progress(client, replied.reference, "0001").status_code == 429


def test_a_lookup_stores_nothing(client, replied):
    before = (Case.objects.count(), Citizen.objects.count(), CaseEvent.objects.count())
    look_up_progress(client, replied.reference, TAIL)
    look_up_progress(client, replied.reference, "0000")
    after = (Case.objects.count(), Citizen.objects.count(), CaseEvent.objects.count())
    assert before == after
