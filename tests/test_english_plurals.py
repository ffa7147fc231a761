"""English pages count right: "1 call", "1 working day", never "1 calls"."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.test import Client
from wagtail.users.models import UserProfile

from tests.factories import CaseFactory, aware, supervisor
from tracking.models import CallDay

pytestmark = pytest.mark.django_db

NOW = aware(2026, 11, 27, 10)
NOUNS = (
    "days|working days|hours|minutes|cases|calls|times|stories|replies|callbacks"
    "|reminders|items|pages|errors|departments|categories"
)
# "1 days", "(1 working days past…", "1 cases": a count of one with a plural noun.
ONE_PLURAL = re.compile(rf"(?<![\d.,])1\s+(?:{NOUNS})\b")


def wrong_plurals(html: str) -> list[str]:
    text = re.sub(r"<[^>]+>", " ", html)
    return [
        text[max(0, m.start() - 30) : m.end() + 10].strip()
        for m in ONE_PLURAL.finditer(text)
    ]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def english_supervisor() -> Client:
    user = supervisor()
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def test_the_check_finds_a_count_of_one_with_a_plural_noun():
    assert wrong_plurals("<p>Overdue by <b>1</b> working days</p>") != []
    assert wrong_plurals("<p>1 day, 11 days, 21 cases, 1.1 days</p>") == []


def test_the_statistics_dashboard_names_one_call_of_the_busiest_day(
    english_supervisor,
):
    CallDay.objects.create(day=date(2026, 11, 10), calls=1)

    html = english_supervisor.get(
        "/admin/tracking/statistics/", {"period": "2026-11"}
    ).content.decode()

    assert "2026-11-10: 1 call" in html
    assert wrong_plurals(html) == []


@pytest.mark.parametrize(
    "url",
    ["/admin/tracking/cases/", "/admin/tracking/cases/?overdue=true"],
)
def test_the_case_listing_counts_one_case_right(english_supervisor, url):
    CaseFactory(overdue=True)

    html = english_supervisor.get(url).content.decode()

    assert wrong_plurals(html) == []


def test_the_public_pages_in_english_count_one_right(client, calendar_2026):
    CaseFactory(overdue=True)

    for url in ("/en/", "/en/progress/"):
        response = client.get(url)
        if response.status_code == 404:
            continue
        assert wrong_plurals(response.content.decode()) == [], url
