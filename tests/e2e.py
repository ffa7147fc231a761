"""Helpers of the end-to-end test (``test_e2e_loop.py``): the browser, each role's
steps through the real UI, and database reads from a thread of their own.

Playwright's sync API runs an event loop in the test's thread, where Django
refuses the ORM; :class:`Orm` runs reads in a thread without one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from django.contrib.auth.hashers import PBKDF2PasswordHasher

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
PASSWORD = "8890demo"  # load_demo's password for every login
ROOT = Path(__file__).resolve().parent.parent
# Actions of an edit page's footer menu: Wagtail's approve button without the
# comment dialog (the one "with comment" has a modal URL).
APPROVE = (
    'footer button[data-workflow-action-name="approve"]'
    ":not([data-workflow-action-modal-url])"
)
T = TypeVar("T")


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 (which the web server knows) at a cost fit for set-up; the server
    upgrades a demo login's hash to its own cost when it logs in."""

    iterations = 1000


def demo_without_history() -> dict[str, Any]:
    """Options of ``load_demo`` that leave out its history, if it has one."""
    from django.core.management import load_command_class

    command = load_command_class("cms", "load_demo")
    parser = command.create_parser("manage.py", "load_demo")
    known = {action.dest for action in parser._actions}
    return {"scale": 0} if "scale" in known else {}


def artifacts_dir() -> Path:
    where = Path(
        os.environ.get("TEST_ARTIFACTS_DIR") or ROOT / "var" / "test-artifacts"
    )
    where = where / "e2e"
    where.mkdir(parents=True, exist_ok=True)
    return where


class Orm:
    """Runs database reads in one thread of its own (see the module docstring)."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orm")

    def __call__(self, function: Callable[..., T], *args: Any) -> T:
        return self._pool.submit(function, *args).result()

    def close(self) -> None:
        from django.db import connections

        # The thread's connection must not outlive the test: the flush after it
        # and the end of the session's database need it gone.
        self._pool.submit(connections.close_all).result()
        self._pool.shutdown()


class Browser:
    """Debian's Chromium on one server, a fresh context per person, numbered
    screenshots of each step."""

    def __init__(self, playwright, base_url: str, shots: Path):
        self.base_url = base_url
        self.shots = shots
        self.count = 0
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)

    def close(self) -> None:
        self.browser.close()

    def page(self):
        """A new person: cookies of nobody else."""
        context = self.browser.new_context(
            locale="zh-CN", viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page

    def goto(self, page, path: str):
        response = page.goto(f"{self.base_url}{path}")
        assert response is not None and response.status == 200, (
            f"GET {path}: {response.status if response else 'no response'}"
        )
        return response

    def login(self, username: str, next_path: str):
        page = self.page()
        self.goto(page, f"/admin/login/?next={next_path}")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("form.login-form button[type=submit]")
        page.wait_for_url(f"{self.base_url}{next_path}")
        return page

    def shot(self, page, step: str) -> Path:
        self.count += 1
        path = self.shots / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


# --- the steps, through the UI only ------------------------------------------------


def submit_report(browser: Browser, *, category: str, title: str, text: str, **who):
    """The citizen's web form (提交诉求); returns the reference number shown."""
    page = browser.page()
    browser.goto(page, "/report/")
    page.check('input[name=kind][value="complaint"]')
    page.select_option("#id_category", label=category)
    page.fill("#id_title", title)
    page.fill("#id_description", text)
    page.fill("#id_location_text", who["location"])
    page.fill("#id_name", who["name"])
    page.fill("#id_phone", who["phone"])
    page.check("#id_consent_to_publish")
    browser.shot(page, "citizen-form")
    page.click("form.intake-form button[type=submit]")
    page.wait_for_url(f"{browser.base_url}/report/done/")
    reference = page.inner_text("#reference").strip()
    browser.shot(page, "citizen-reference")
    page.context.close()
    return reference


def accept_and_dispatch(browser: Browser, case_path: str, department: str) -> None:
    page = browser.login("officer", case_path)
    page.click('form[data-case-action="accept"] button[type=submit]')
    page.wait_for_selector('[data-case-state="accepted"]')
    browser.shot(page, "officer-accepted")
    page.click('button[data-case-action="dispatch"]')
    dialog = page.locator("#case-action-dispatch")
    dialog.locator("select[name=department]").select_option(label=department)
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector('[data-case-state="dispatched"]')
    browser.shot(page, "officer-dispatched")
    page.context.close()


def approve_in_editor(page) -> str:
    """Click the edit page's Approve (the current review step's); returns the
    message the admin shows after it."""
    page.click("footer .w-dropdown__toggle")
    page.click(APPROVE)
    page.wait_for_selector(".messages")
    return " ".join(page.inner_text(".messages").split())


def record_reply(browser: Browser, case_path: str, text: str) -> None:
    page = browser.login("traffic", case_path)
    page.click('button[data-case-action="reply"]')
    dialog = page.locator("#case-action-reply")
    dialog.locator("textarea[name=text]").fill(text)
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector('[data-case-state="replied"]')
    browser.shot(page, "liaison-replied")
    page.context.close()


def callback_and_close(browser: Browser, case_path: str) -> None:
    page = browser.login("officer", case_path)
    page.click('button[data-case-action="callback"]')
    dialog = page.locator("#case-action-callback")
    dialog.locator("select[name=method]").select_option("media_joint")
    dialog.locator('input[name=outcome][value="satisfied"]').check()
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector('#case-timeline-table tr[data-event-action="callback"]')
    browser.shot(page, "officer-callback")
    page.click('form[data-case-action="close"] button[type=submit]')
    page.wait_for_selector('[data-case-state="closed"]')
    browser.shot(page, "officer-closed")
    page.context.close()


def completed_figure(page) -> int:
    """The statistics page's headline "requests completed" (since launch)."""
    return int(page.inner_text(".fact-completed strong").strip())


# --- reads (run them through Orm) --------------------------------------------------


def case_of(reference: str) -> dict:
    from tracking.models import Case

    case = Case.objects.select_related("category").get(reference=reference)
    return {
        "pk": case.pk,
        "state": case.state,
        "awaiting_due_at": case.awaiting_due_at,
        "threshold": case.category.escalation_threshold_days,
    }


def days_until_escalation(awaiting_due_at: datetime, threshold: int, now) -> int:
    """The fewest whole days from ``now`` after which a case awaiting its department
    until ``awaiting_due_at`` is overdue by ``threshold`` working days, by the
    working calendar in the database (holidays and make-up workdays included)."""
    from tracking import calendar

    with calendar.shared():
        for days in range(1, 120):
            if awaiting_due_at < calendar.overdue_cutoff(
                now + timedelta(days=days), threshold
            ):
                return days
    raise AssertionError(f"no escalation within 120 days of {now}")


def escalated_story(case_pk: int) -> dict | None:
    """The case's state and its story once the scan escalated it and made the
    story whole (page, draft revision, workflow); None before."""
    from newsroom.models import HotTrackingPage
    from tracking.models import Case, CaseEvent

    case = Case.objects.get(pk=case_pk)
    story = HotTrackingPage.objects.filter(
        case_id=case_pk, latest_revision__isnull=False
    ).first()
    if case.escalated_at is None or story is None:
        return None
    escalation = CaseEvent.objects.get(case_id=case_pk, action="escalate")
    return {
        "state": case.state,
        "escalated_by": escalation.actor_id,
        "story": story.pk,
        "title": story.title,
        "in_review": story.current_workflow_task is not None,
    }


def story_now(story_pk: int) -> dict:
    from newsroom.models import HotTrackingPage

    story = HotTrackingPage.objects.get(pk=story_pk)
    return {
        "live": story.live,
        "title": story.title,
        "url": story.get_url(),
        "unpublished_changes": story.has_unpublished_changes,
        "task": story.current_workflow_task.name
        if story.current_workflow_task
        else None,
    }


def stats_path() -> str:
    from newsroom.models import StatsPage

    return StatsPage.objects.live().get().get_url()
