"""End to end in a real Chromium: an officer accepts and dispatches a case.

Runs against pytest-django's live server with Debian's Chromium; skipped when
Chromium or Playwright is not installed. Playwright never downloads a browser here.
"""

from __future__ import annotations

import os

import pytest
from wagtail.users.models import UserProfile

from tests.factories import CategoryFactory, DepartmentFactory, officer
from tracking import services as svc

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "pw-8890-test"  # what tests.factories.UserFactory sets

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


# The live server needs committed data; hot_tracking_site remakes the role groups
# and pages that the flush after a transactional test removes.
@pytest.mark.django_db(transaction=True)
def test_officer_accepts_and_dispatches_a_case_in_the_browser(
    hot_tracking_site, live_server, sync_playwright
):
    user = officer(username="li.officer")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    department = DepartmentFactory(name="市政工程管理处")
    case = svc.case_register(
        user=user,
        kind="complaint",
        title="人行道地砖松动",
        description="幸福路人行道多块地砖松动，雨天溅水。",
        category=CategoryFactory(default_department=None),
        citizen=svc.CitizenData(name="王五", phone="13600001111"),
    )
    case_page = f"{live_server.url}/admin/tracking/cases/{case.pk}/"

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
            page = browser.new_page(locale="en-US")
            page.set_default_timeout(15_000)

            page.goto(f"{live_server.url}/admin/login/?next={case_page}")
            page.fill("#id_username", "li.officer")
            page.fill("#id_password", PASSWORD)
            page.click("form.login-form button[type=submit]")
            page.wait_for_url(case_page)

            page.click('form[data-case-action="accept"] button[type=submit]')
            page.wait_for_selector('[data-case-state="accepted"]')
            assert f"Case {case.reference}: Accepted." in page.inner_text(".messages")

            page.click('button[data-case-action="dispatch"]')
            dialog = page.locator("#case-action-dispatch")
            dialog.locator("select[name=department]").select_option(
                label="市政工程管理处"
            )
            dialog.locator("button[type=submit]").click()
            page.wait_for_selector('[data-case-state="dispatched"]')

            timeline = page.locator("#case-timeline-table tbody tr")
            actions = [
                timeline.nth(i).get_attribute("data-event-action")
                for i in range(timeline.count())
            ]
            dispatch_row = page.inner_text(
                '#case-timeline-table tr[data-event-action="dispatch"]'
            )
            handling = page.inner_text("#case-handling-section")
            page.screenshot(
                path="/tmp/admin_browser_case_dispatched.png", full_page=True
            )
        finally:
            browser.close()

    assert actions == ["register", "accept", "dispatch"]
    assert "Accepted → Dispatched" in dispatch_row
    assert "市政工程管理处" in dispatch_row
    assert "市政工程管理处" in handling
    case.refresh_from_db()
    assert case.state == "dispatched"
    assert case.department == department
    assert case.due_at is not None
