"""Public pages carry a Content-Security-Policy that runs no inline script or
style, on a fresh rendering and on a page-cache hit alike; the Wagtail admin,
which needs inline scripts, carries none. Security headers are always on."""

from __future__ import annotations

import pytest

from newsroom.models import HotTrackingPage
from newsroom.services import story_create_for_case
from tests.factories import CaseFactory, aware

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    page = story_create_for_case(
        case=CaseFactory(overdue=True), now=aware(2026, 3, 18, 10)
    )
    page.save_revision().publish()
    return HotTrackingPage.objects.get(pk=page.pk)


def directives(response) -> dict[str, set[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        parsed[name] = set(sources)
    return parsed


def assert_strict(response):
    policy = directives(response)
    assert policy["default-src"] == {"'self'"}
    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'"}
    assert policy["img-src"] == {"'self'", "data:"}
    assert policy["object-src"] == {"'none'"}
    assert policy["base-uri"] == {"'self'"}
    assert policy["frame-ancestors"] == {"'self'"}
    assert policy["form-action"] == {"'self'"}
    assert not any("'unsafe-inline'" in sources for sources in policy.values())


@pytest.mark.parametrize("where", ["home", "story"])
def test_public_pages_have_a_strict_policy_when_rendered_and_when_cached(
    client, story, where
):
    url = "/" if where == "home" else story.url

    miss = client.get(url)
    hit = client.get(url)

    assert miss.status_code == hit.status_code == 200
    assert miss["X-Page-Cache"] == "miss"
    assert hit["X-Page-Cache"] == "hit"
    assert_strict(miss)
    assert_strict(hit)


def test_the_wagtail_admin_has_no_policy(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


def test_public_pages_send_the_security_headers(client):
    response = client.get("/")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
