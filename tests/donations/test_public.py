"""爱心传递 (/donations/): matched and handed-over donations by item, month and
district, never a name, phone, address or ID number of donor or recipient, never
a case reference; a bad ``page`` is a 404, never a server error; the number of
queries does not grow with the rows."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import CitizenFactory, officer
from tests.newsroom.test_public_fuzz import SPECIAL_VALUES, UNICODE_DIGITS
from tests.public_surfaces import number_leaks, readable, string_leaks
from tracking.calendar import local_zone
from tracking.donations import services
from tracking.donations.models import ItemCategory
from tracking.donations.views import PER_PAGE
from tracking.models import CensorRule

from .factories import donor_data, handed_over, help_request, matched, offer

pytestmark = pytest.mark.django_db

URLS = ["/donations/", "/en/donations/"]

# Personal data put in every field of the donor and of the recipient's case.
DONOR_NAME, DONOR_PHONE = "梅德华", "13905330001"
DONOR_ADDRESS = "城区香格里拉小区5号楼102室"
DONOR_EMAIL = "meidehua@example.com"
RECIPIENT_NAME, RECIPIENT_PHONE = "陈建国", "13800001111"
RECIPIENT_ADDRESS = "开发区金色港湾小区3号楼101室"
RECIPIENT_EMAIL = "chenjianguo@example.com"
ID_NUMBER = "340202195501011234"
EVERYTHING = (
    f"{DONOR_NAME} {DONOR_PHONE} {DONOR_ADDRESS} {RECIPIENT_NAME} "
    f"{RECIPIENT_PHONE} {RECIPIENT_ADDRESS} {ID_NUMBER}"
)


def leaks(text: str) -> list[str]:
    text = readable(text)
    found = string_leaks(
        text,
        [
            DONOR_NAME,
            "香格里拉小区",
            "5号楼102室",
            DONOR_EMAIL,
            RECIPIENT_NAME,
            "金色港湾小区",
            "3号楼101室",
            RECIPIENT_EMAIL,
            "8890-2",  # a case reference (tests.factories numbers them 8890-2000…)
        ],
    )
    for number in (DONOR_PHONE, RECIPIENT_PHONE, ID_NUMBER):
        found += number_leaks(text, number)
    return found


def rows(response) -> list[str]:
    from bs4 import BeautifulSoup

    page = BeautifulSoup(response.content.decode(), "html.parser")
    return [row.get_text(" ", strip=True) for row in page.select("tr.donation")]


def test_matched_and_handed_over_donations_show_item_month_and_district():
    user = officer()
    at = datetime(2026, 3, 5, 10, tzinfo=local_zone())
    bed = offer(user, item="多功能护理床", district="开发区", now=at)
    services.donation_match(offer=bed, case=help_request(), user=user, now=at)
    services.donation_hand_over(
        offer=bed, user=user, now=datetime(2026, 4, 2, 9, tzinfo=local_zone())
    )
    matched(user, item="助行器", district="舟山镇")
    offer(user, item="儿童冬衣")  # not matched yet
    withdrawn = matched(user, item="轮椅")
    services.donation_withdraw(offer=withdrawn, reason="自家用", user=user)
    refused = offer(user, item="过期药", category=ItemCategory.PRESCRIPTION_MEDICINE)
    services.donation_confirm(offer=refused, approve=False, reason="过期", user=user)

    client = Client()
    response = client.get("/en/donations/")
    assert response.status_code == 200
    shown = rows(response)
    assert len(shown) == 2
    assert "助行器" in shown[0] and "舟山镇" in shown[0]
    assert "多功能护理床" in shown[1] and "开发区" in shown[1]
    assert "April 2026" in shown[1] and "Handed over" in shown[1]
    body = response.content.decode()
    for hidden in ("儿童冬衣", "轮椅", "过期药"):
        assert hidden not in body
    zh = client.get("/donations/")
    assert "爱心传递" in zh.content.decode() or "Passing on kindness" in (
        zh.content.decode()
    )
    assert "2026年4月" in rows(zh)[1]


def test_no_personal_data_of_donor_or_recipient_reaches_the_page():
    user = officer()
    recipient = CitizenFactory(
        name=RECIPIENT_NAME,
        phone=RECIPIENT_PHONE,
        address=RECIPIENT_ADDRESS,
        email=RECIPIENT_EMAIL,
    )
    case = help_request(
        citizen=recipient,
        title=EVERYTHING,
        description=EVERYTHING,
        location_text=RECIPIENT_ADDRESS,
    )
    made = offer(
        user,
        item=f"护理床 {EVERYTHING}"[:200],
        unit=RECIPIENT_NAME,
        pickup_address=DONOR_ADDRESS,
        note=EVERYTHING,
        donor=donor_data(
            name=DONOR_NAME,
            phone=DONOR_PHONE,
            address=DONOR_ADDRESS,
            email=DONOR_EMAIL,
        ),
        quantity=2,
    )
    services.donation_match(offer=made, case=case, note=EVERYTHING, user=user)
    services.donation_hand_over(offer=made, note=EVERYTHING, user=user)
    for url in URLS:
        response = Client().get(url)
        assert response.status_code == 200
        assert "护理床" in rows(response)[0]
        assert leaks(response.content.decode()) == [], url


def test_the_censor_rules_apply_to_the_item():
    user = officer()
    matched(user, item="护理床（王老板家的）")
    CensorRule.objects.create(pattern="王老板", replacement="某商户")
    body = Client().get("/donations/").content.decode()
    assert "王老板" not in body and "某商户" in body


def test_pages_of_donations_and_a_bad_page_is_not_found():
    user = officer()
    for n in range(PER_PAGE + 1):
        matched(user, item=f"冬衣{n}号", donor=donor_data(phone=f"1390533{n:04d}"))
    client = Client()
    first, second = client.get("/donations/"), client.get("/donations/?page=2")
    assert len(rows(first)) == PER_PAGE and len(rows(second)) == 1
    assert 'href="?page=2"' in first.content.decode()
    for junk in ("3", "0", "-1", "x", "1.5", "²", "", "99999999"):
        assert client.get("/donations/", {"page": junk}).status_code == 404, junk


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_rows():
    user = officer()
    client = Client()
    matched(user, item="护理床")
    _queries(client, "/donations/")  # warm the per-process caches (site, rules)
    one = _queries(client, "/donations/")
    for n in range(PER_PAGE):
        handed_over(user, item=f"冬衣{n}号", donor=donor_data(phone=f"1390533{n:04d}"))
    # New cases, categories and departments move the caches' tags: warm again.
    _queries(client, "/donations/")
    many = _queries(client, "/donations/")
    assert one == many
    assert many == 2  # the count and the page, the donors and cases joined in


FUZZ = settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    page=st.one_of(
        st.sampled_from(SPECIAL_VALUES + UNICODE_DIGITS),
        st.text(max_size=30),
        st.integers(min_value=-(10**20), max_value=10**20).map(str),
    ),
    prefix=st.sampled_from(URLS),
)
def test_no_page_parameter_gives_a_server_error(page, prefix):
    client = Client(raise_request_exception=False)
    response = client.get(prefix, {"page": page, "q": page})
    assert response.status_code in (200, 404)


def test_the_item_is_shown_as_text_never_as_markup():
    matched(officer(), item='<img src=x onerror="alert(1)">护理床')
    body = Client().get("/donations/").content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x" in body
