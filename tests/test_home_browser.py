"""End to end in a real Chromium: every demo login's home screen is its queue.

Each role logs in and reads the counts on top of its home screen; they must be
what the queue selectors count in the demo database, and a count's link must
list the same cases. Runs against pytest-django's live server with Debian's
Chromium; skipped when Chromium or Playwright is not installed. Playwright never
downloads a browser here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from newsroom import queues as newsroom_queues
from tests.factories import remake_review_workflows
from tracking import queues, roles

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "8890demo"  # load_demo's password for every login
ARTIFACTS = Path(
    os.environ.get("TEST_ARTIFACTS_DIR")
    or Path(__file__).resolve().parents[1] / "var" / "test-artifacts"
)

pytestmark = pytest.mark.browser


@pytest.fixture
def sync_playwright():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    return sync_playwright


@pytest.fixture
def newsroom_site(hot_tracking_site):
    """What the newsroom's data migrations made and a transactional test's flush
    removes: the home page's page permissions, the review workflow and its tasks
    (each function does nothing where its rows are there)."""
    from django.apps import apps
    from wagtail.models import GroupPagePermission, Page

    from newsroom.models import HomePage

    home = HomePage.objects.first()
    if not GroupPagePermission.objects.filter(page=home).exists():
        # 0002 makes them with the home page, which hot_tracking_site made.
        for group, codenames in {
            roles.EDITORS: ["add_page", "change_page"],
            roles.CHIEF_EDITORS: ["add_page", "change_page", "publish_page"],
        }.items():
            for codename in codenames:
                GroupPagePermission.objects.get_or_create(
                    group=apps.get_model("auth", "Group").objects.get(name=group),
                    page=Page.objects.get(pk=home.pk),
                    permission=apps.get_model("auth", "Permission").objects.get(
                        content_type__app_label="wagtailcore", codename=codename
                    ),
                )
    remake_review_workflows()


def expected_queues() -> dict[str, dict[str, int]]:
    """Each demo login's queue counts, by the selectors the home screen uses."""
    users = {u.username: u for u in get_user_model().objects.all()}
    counts = {}
    for name in ("officer", "supervisor", "traffic", "construction", "admin"):
        user = users[name]
        counts[name] = {}
        if name in ("officer", "admin"):
            counts[name] |= {
                "to_accept": queues.to_accept(user).count(),
                "callbacks_due": queues.callbacks_due(user).count(),
                "returned": queues.returned(user).count(),
                "calls_today": queues.calls_today(user).count(),
            }
        if name in ("supervisor", "admin"):
            counts[name] |= {
                "overdue": queues.overdue(user).count(),
                "escalating_soon": len(queues.escalation_forecast(user)),
                "bounced": queues.bounced(user).count(),
                "extensions_pending": queues.extensions_pending(user).count(),
            }
        if name in ("traffic", "construction"):
            counts[name] = {
                "to_acknowledge": queues.to_acknowledge(user).count(),
                "in_hand": queues.in_hand(user).count(),
                "overdue": queues.overdue(user).count(),
                "media_supervised": queues.media_supervised(user).count(),
            }
    for name, key in (("editor", "drafts_waiting"), ("chief", "awaiting_approval")):
        counts[name] = {
            key: newsroom_queues.awaiting_review(users[name]).count(),
            "follow_ups_due": newsroom_queues.follow_ups_due().count(),
            "scheduled": newsroom_queues.scheduled_publications().count(),
        }
    counts["admin"] |= {
        "drafts_waiting": newsroom_queues.awaiting_review(users["admin"]).count(),
        "follow_ups_due": newsroom_queues.follow_ups_due().count(),
        "scheduled": newsroom_queues.scheduled_publications().count(),
    }
    return counts


# Per login, the queue whose count link is followed to the case listing.
FOLLOWED = {
    "officer": "callbacks_due",
    "supervisor": "escalating_soon",
    "traffic": "overdue",
    "construction": "media_supervised",
}


def read_home(page, base_url, username, shot):
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_selector("[data-home-counts]")
    counts = {}
    links = {}
    items = page.locator("[data-queue-count]")
    for i in range(items.count()):
        item = items.nth(i)
        key = item.get_attribute("data-queue-count")
        counts[key] = int(item.get_attribute("data-count"))
        link = item.locator("a")
        links[key] = link.get_attribute("href") if link.count() else None
    page_panels = page.locator(
        '[id^="recent-edits"], [id^="locked-pages"], [id^="objects-in-workflow"],'
        ' [id^="awaiting-review"]'
    ).count()
    page.screenshot(path=str(shot), full_page=True)
    return counts, links, page_panels


@pytest.mark.django_db(transaction=True)
def test_every_role_finds_its_queue_on_its_home_screen(
    newsroom_site, live_server, sync_playwright
):
    call_command("load_demo", verbosity=0)
    expected = expected_queues()
    # Every role has something waiting in the demo.
    for name, queue in expected.items():
        assert any(queue.values()), name
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    seen, links, listed, page_panels = {}, {}, {}, {}
    # No ORM inside this block: Playwright runs an event loop in this thread.
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
            ],
        )
        try:
            for name in expected:
                context = browser.new_context(locale="zh-CN")
                page = context.new_page()
                page.set_default_timeout(20_000)
                seen[name], links[name], page_panels[name] = read_home(
                    page, live_server.url, name, ARTIFACTS / f"home_{name}.png"
                )
                if key := FOLLOWED.get(name):
                    page.click(f'[data-queue-count="{key}"] a')
                    page.wait_for_selector("#listing-results")
                    listed[name] = page.locator("#listing-results tbody tr").count()
                    page.screenshot(
                        path=str(ARTIFACTS / f"home_{name}_{key}.png"), full_page=True
                    )
                context.close()
        finally:
            browser.close()

    assert seen == expected
    for name, key in FOLLOWED.items():
        assert listed[name] == expected[name][key], (name, key)
    for name in ("officer", "supervisor", "traffic", "construction"):
        assert all(url and url.startswith("/admin/") for url in links[name].values())
    # None of Wagtail's page panels that these queues replace: the hotline's
    # staff edit no pages, and the newsroom's review queue lists the tasks that
    # Wagtail's "awaiting your review" would (editors keep "recent edits" and
    # "locked pages", which the demo leaves empty).
    roles = ("officer", "supervisor", "traffic", "construction", "editor", "chief")
    assert {name: page_panels[name] for name in roles} == dict.fromkeys(roles, 0)
