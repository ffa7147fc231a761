"""The UI speaks Simplified Chinese by default, English on request."""

import pytest
from django.urls import reverse
from django.utils import translation
from wagtail.users.models import UserProfile

from tests.factories import case_in_state, officer
from tracking.models import State


def test_state_names_are_translated_to_chinese():
    with translation.override("zh-hans"):
        assert str(State.ACCEPTED.label) == "已受理"
        assert str(State.SUPERVISED.label) == "媒体督办中"
    with translation.override("en"):
        assert str(State.ACCEPTED.label) == "Accepted"


@pytest.mark.django_db
def test_back_office_is_chinese_by_default_and_english_by_preference(client):
    user = officer()
    case = case_in_state(State.REGISTERED)
    client.force_login(user)
    url = reverse("tracking_cases:detail", args=[case.pk])

    chinese = client.get(url).content.decode()
    assert "不予受理" in chinese
    assert "Reject" not in chinese

    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    english = client.get(url).content.decode()
    assert "Reject" in english
    assert "不予受理" not in english


@pytest.mark.django_db
def test_public_pages_have_an_english_version(client):
    chinese = client.get("/").content.decode()
    assert 'lang="zh-hans"' in chinese
    assert "跳到正文" in chinese
    english = client.get("/en/").content.decode()
    assert 'lang="en"' in english
    assert "Skip to content" in english
