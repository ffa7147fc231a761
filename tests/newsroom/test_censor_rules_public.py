"""Censor rules as an attacker would write them: markup in a replacement, a
pattern that backtracks without end, values with HTML's special characters.

Rules are added through the admin as an editor, then every public surface
(pages, print views, feeds, search, sitemap, both languages) is fetched.
"""

from __future__ import annotations

import html
import time

import feedparser
import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.urls import reverse

from newsroom.models import HotTrackingPage
from newsroom.services import hot_tracking_column
from tests.factories import CitizenFactory, DepartmentFactory, staff, supervisor
from tests.newsroom.test_editorial_admin import escalated_case
from tests.newsroom.test_privacy import (  # noqa: F401 (fixtures used below)
    STORY_WORD,
    frozen_now,
    public_urls,
    stories,
)
from tracking import redaction, roles
from tracking.models import CaseEvent, CensorRule, OutboxMessage

pytestmark = pytest.mark.django_db

PAYLOAD = "<img src=x onerror=alert(document.domain)>"
ADD = "tracking_censor_rules:add"


@pytest.fixture(autouse=True)
def no_rule_known_slow():
    redaction._too_slow.clear()
    yield
    redaction._too_slow.clear()


def add_rule(client, **data):
    data = {"replacement": "***", "reason": "test", "is_active": "on", **data}
    return client.post(reverse(ADD), data)


def is_feed(url: str) -> bool:
    return "/feed/" in url or url.endswith("sitemap.xml")


def elements_with_handlers(body: str) -> list:
    soup = BeautifulSoup(body, "html.parser")
    return [
        tag
        for tag in soup.find_all(True)
        if any(name.lower().startswith("on") for name in tag.attrs)
    ]


def test_a_replacement_with_markup_is_shown_as_text_on_every_public_surface(
    client,
    stories,
):
    editor = staff(roles.EDITORS)
    client.force_login(editor)
    assert add_rule(client, pattern=STORY_WORD, replacement=PAYLOAD).status_code == 302
    assert CensorRule.objects.get().replacement == PAYLOAD
    public = Client()

    bodies = {url: public.get(url) for url in public_urls(stories)}

    story_url = stories[0].url
    for url, response in bodies.items():
        assert response.status_code == 200, url
        body = response.content.decode()
        if url.endswith("/feed/atom/"):
            parsed = feedparser.parse(body, sanitize_html=False)
            for entry in parsed.entries:
                assert "<img" not in entry.summary, url
                assert entry.title_detail.type == "text/plain", url
        elif is_feed(url):
            # XML decoded once is what a feed reader renders as HTML.
            decoded = html.unescape(body)
            assert "<img" not in decoded, url
        else:
            assert "<img src=x" not in body, url
            assert elements_with_handlers(body) == [], url
    story = bodies[story_url].content.decode()
    assert html.escape(PAYLOAD, quote=False) in story  # shown, as text
    assert STORY_WORD not in BeautifulSoup(story, "html.parser").title.string


def test_a_literal_rule_matches_text_with_html_special_characters(client, stories):
    story = stories[1]
    story.standfirst = '涉事商户“老王&小李\'s "烧烤"”占道经营。'
    story.save_revision().publish()
    client.force_login(staff(roles.EDITORS))
    add_rule(client, pattern='老王&小李\'s "烧烤"', replacement="某商户")

    for url in (story.url, f"{story.url}?print=1", f"/en{story.url}", "/"):
        body = Client().get(url).content.decode()
        assert "老王" not in html.unescape(body), url
        assert "某商户" in body, url


def test_a_pattern_that_backtracks_without_end_is_refused_with_a_reason(client):
    client.force_login(staff(roles.EDITORS))

    started = time.perf_counter()
    response = add_rule(client, pattern="(a|aa)+$", is_regex="on")

    assert time.perf_counter() - started < 5
    assert response.status_code == 200
    assert "(a|aa)+$" in response.content.decode()
    assert response.context["form"].errors["pattern"]
    assert not CensorRule.objects.exists()


@pytest.mark.parametrize(
    "replacement, field",
    [(r"\2", "replacement"), (r"\g<name>", "replacement"), ("a\nb", "replacement")],
)
def test_a_regex_rule_with_an_unusable_replacement_is_refused(
    client, replacement, field
):
    client.force_login(staff(roles.EDITORS))

    response = add_rule(
        client, pattern="(刘)师傅", is_regex="on", replacement=replacement
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not CensorRule.objects.exists()


def test_the_regex_from_the_report_saves_quickly_and_every_page_still_renders(
    client,
    stories,
):
    client.force_login(staff(roles.EDITORS))
    started = time.perf_counter()
    assert add_rule(client, pattern="(.+)+Z", is_regex="on").status_code == 302
    assert time.perf_counter() - started < 1

    public = Client()
    for url in public_urls(stories):
        started = time.perf_counter()
        response = public.get(url)
        assert response.status_code == 200, url
        assert time.perf_counter() - started < 1, url


def test_a_slow_rule_in_the_database_is_skipped_and_logged_and_pages_render(
    stories,
    caplog,
):
    # Saved before rules were checked (or by hand): the admin would refuse it.
    CensorRule.objects.create(pattern="(a|aa)+$", is_regex=True, reason="old")
    story = stories[2]
    story.standfirst = "a" * 40 + "!"
    story.save_revision().publish()
    public = Client()

    for url in public_urls(stories):
        started = time.perf_counter()
        response = public.get(url)
        assert response.status_code == 200, url
        assert time.perf_counter() - started < 1, url

    assert "(a|aa)+$" in redaction._too_slow
    assert "is skipped" in caplog.text
    assert ("a" * 40 + "!") in public.get(f"{story.url}?print=1").content.decode()


def test_saving_a_global_rule_reindexes_through_the_outbox_not_in_the_request(
    client,
    stories,
    django_capture_on_commit_callbacks,
    broker_down,
):
    client.force_login(staff(roles.EDITORS))
    found = Client().get("/search/", {"q": "夜市"}).content.decode()
    assert stories[2].url in found

    with django_capture_on_commit_callbacks(execute=True):
        add_rule(client, pattern="夜市", replacement="某市场")

    # The broker is down: the request succeeded, the index is as it was, and the
    # reindex waits in the outbox.
    waiting = OutboxMessage.objects.get(task="newsroom.tasks.reindex_for_censor_rule")
    assert waiting.args == [None] and waiting.sent_at is None
    from tracking import outbox

    assert outbox.deliver(waiting.pk)
    found = Client().get("/search/", {"q": "夜市"}).content.decode()
    assert stories[2].url not in found


# --- the editors' view of the case ----------------------------------------------------


def test_editors_read_case_notes_redacted_with_the_masked_spots_marked(client):
    from newsroom.services import story_create_for_case

    citizen = CitizenFactory(name="周建国", phone="13912345678")
    case = escalated_case(citizen=citizen, department=DepartmentFactory())
    CaseEvent.objects.create(
        case=case, action="note", note="周建国来电13912345678，住幸福小区"
    )
    story = story_create_for_case(case=case)
    client.force_login(staff(roles.EDITORS))

    page = client.get(reverse("wagtailadmin_pages:edit", args=[story.pk]))

    body = page.content.decode()
    assert "13912345678" not in body
    assert '<mark class="masked"' in body
    soup = BeautifulSoup(body, "html.parser")
    marked = [m.get_text() for m in soup.select("td.case-note mark.masked")]
    assert "周某" in marked and "***********" in marked


def test_an_editor_adds_a_censor_rule_for_the_case_of_the_story_they_edit(client):
    from newsroom.services import story_create_for_case

    case = escalated_case(department=DepartmentFactory())
    story = story_create_for_case(case=case)
    client.force_login(staff(roles.EDITORS))
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[story.pk]))
    link = BeautifulSoup(edit.content, "html.parser").find(
        "a", href=lambda h: h and h.startswith(reverse(ADD))
    )
    assert link is not None

    form = client.get(link["href"])
    assert case.reference in form.content.decode()
    response = add_rule(client, pattern="老王烧烤", case_reference=case.reference)

    assert response.status_code == 302
    assert CensorRule.objects.get().case_id == case.pk


def test_an_editor_cannot_name_a_case_without_a_story_they_may_edit(client):
    other = escalated_case(department=DepartmentFactory())
    client.force_login(staff(roles.EDITORS))

    response = add_rule(client, pattern="老王烧烤", case_reference=other.reference)

    assert response.status_code == 200
    assert "case_reference" in response.context["form"].errors


def test_starting_a_story_with_no_hot_tracking_column_gives_a_message(client):
    column = hot_tracking_column()
    column.is_hot_tracking = False
    column.save()
    case = escalated_case()
    client.force_login(supervisor())

    response = client.post(
        reverse("tracking_cases:story", args=[case.pk]),
        {"expect_state": case.state},
        follow=True,
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("Hot Tracking" in m or "热点追踪" in m for m in messages), messages
    assert not HotTrackingPage.objects.filter(case=case).exists()
