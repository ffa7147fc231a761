"""The whole loop, end to end, through the real UI in Debian's Chromium.

A citizen submits the web form; the officer accepts and dispatches it in the
admin; time passes; the beat-driven overdue scan escalates it and makes the Hot
Tracking draft; an editor changes the headline and submits it; the chief editor
approves (publishes); the public reads the story; the department's liaison
replies; the story shows the reply; the officer records a satisfied callback and
closes; the public statistics page counts one more completed request. Each step's
screenshot is kept in TEST_ARTIFACTS_DIR/e2e/ (else var/test-artifacts/e2e/).

How time passes. The escalation must come from the scan that beat schedules and a
worker runs, at a "now" days later, while everything keeps running. So every
server is a child process that follows one wall clock the test moves
(``tests.processes.FakeClock``): the web application under gunicorn, a Celery
worker and beat, on a private Redis (broker and shared cache) and the committed
PostgreSQL test database. An in-process live server under time-machine was not
chosen: it would move the test's own clock (Playwright's timeouts, the polling)
and not the worker's, which is where the scan must run. The test moves the clock
by the fewest days after which the case is overdue by its category's threshold
in working days, computed from the working calendar in the database, so any
date the suite runs on works, holidays included.

The test reads the database to find ids and to assert, and writes to it only to
set up: the demo (logins, departments, categories, pages), the site, and the
scan's beat schedule (every 2 s). Skipped without PostgreSQL, Chromium,
Playwright or time-machine.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests import e2e
from tracking import roles

pytest_plugins = ["tests.processes"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

SCAN = "tracking.tasks.scan_overdue"
CATEGORY = "交通设施"  # escalates; its default department is the traffic police
DEPARTMENT = "市公安局交通警察支队"  # the demo login "traffic" is its liaison
CITIZEN = {"name": "欧阳明远", "phone": "13905319876", "location": "光华路与长江路口"}
TITLE = "光华路与长江路口红绿灯坏了一周"
HEADLINE = "光华路口红绿灯坏了一周，热线派单后逾期无人修"
LIAISON_PHONE = "13900001111"
REPLY = f"已更换路口信号灯控制器，信号灯恢复正常。现场负责人电话 {LIAISON_PHONE}。"
REPLY_SHOWN = "已更换路口信号灯控制器，信号灯恢复正常。"


@pytest.fixture
def sync_playwright():
    if not os.path.exists(e2e.CHROMIUM):
        pytest.skip(f"Chromium is not installed at {e2e.CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    return sync_playwright


@pytest.fixture
def demo(hot_tracking_site):
    """What the migrations made and the flush of a transactional test removed
    (page permissions, review workflows), then the demo, then one default site.

    The demo's passwords are hashed with PBKDF2 of few iterations: the suite's
    MD5 (conftest) is unknown to the web server, which runs the project's
    settings, and reads the iterations from the hash. The demo's history of past
    years is left out where the command has one (``--scale``): nothing here
    needs it, and it would take most of the test's time.
    """
    from django.apps import apps
    from wagtail.models import GroupPagePermission, Page, Site

    from newsroom.models import HomePage
    from tests.factories import remake_review_workflows

    home = HomePage.objects.get()
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
    with override_settings(PASSWORD_HASHERS=["tests.e2e.QuickPBKDF2PasswordHasher"]):
        call_command("load_demo", verbosity=0, **e2e.demo_without_history())
    Site.objects.all().delete()
    # The default site answers any host, here 127.0.0.1 and a free port.
    Site.objects.create(
        hostname="localhost", port=80, root_page=home, is_default_site=True
    )


@pytest.fixture
def orm(transactional_db):
    """Database reads off Playwright's thread (see tests.e2e.Orm)."""
    reader = e2e.Orm()
    yield reader
    reader.close()


def scan_passes(celery) -> int:
    """Scan passes the worker finished so far (read from its log)."""
    return len(celery.task_results(SCAN))


def test_the_whole_loop_in_the_browser(
    demo, celery_processes, redis_server, fake_clock, sync_playwright, orm
):
    celery = celery_processes
    celery.schedule(SCAN, seconds=2)
    celery.clock = fake_clock
    # One shared cache, as in production: the page cache's invalidations made by
    # the worker (the scan) and by the web server must reach each other.
    env = {"CACHE_URL": redis_server.url.removesuffix("/0") + "/1"}
    celery.worker("worker", concurrency=1, **env)
    celery.beat("beat", **env)
    web = celery.web("web", **env)
    celery.wait_until_serving(web, "/report/")
    stats = orm(e2e.stats_path)

    with sync_playwright() as playwright:
        browser = e2e.Browser(playwright, web.url, e2e.artifacts_dir())
        try:
            # 1. The citizen's web form.
            reference = e2e.submit_report(
                browser,
                category=CATEGORY,
                title=TITLE,
                text="光华路与长江路口的红绿灯坏了一周，早晚高峰车辆人流交织，很危险。",
                **CITIZEN,
            )
            case = orm(e2e.case_of, reference)
            assert case["state"] == "registered", case
            case_path = f"/admin/tracking/cases/{case['pk']}/"

            # 2. The officer accepts and dispatches it.
            e2e.accept_and_dispatch(browser, case_path, DEPARTMENT)
            case = orm(e2e.case_of, reference)
            assert case["state"] == "dispatched", case
            # A scan pass that began after the dispatch leaves it alone: it is
            # not overdue yet at the real time.
            seen = scan_passes(celery)
            celery.wait_until(
                lambda: scan_passes(celery) >= seen + 2,
                timeout=30,
                what="two beat-fired scan passes in the worker after the dispatch",
            )
            assert orm(e2e.case_of, reference)["state"] == "dispatched"

            # 3. Time passes for every server: past the escalation threshold.
            days = orm(
                e2e.days_until_escalation,
                case["awaiting_due_at"],
                case["threshold"],
                fake_clock.now(),
            )
            fake_clock.move(timedelta(days=days))
            escalation = celery.wait_until(
                lambda: orm(e2e.escalated_story, case["pk"]),
                timeout=60,
                what=(
                    f"the beat-fired scan in the worker to escalate {reference} "
                    f"and make its story, {days} days later"
                ),
            )
            assert escalation["state"] == "supervised", escalation
            assert escalation["escalated_by"] is None  # the scan, nobody's hand
            assert escalation["in_review"], escalation
            assert any(run["escalated"] for run in celery.task_results(SCAN))
            story_pk = escalation["story"]
            story_edit = f"/admin/pages/{story_pk}/edit/"

            # 4. An editor changes the headline and submits the draft.
            page = browser.login("editor", story_edit)
            assert page.locator("#id_title").input_value() == escalation["title"]
            page.fill("#id_title", HEADLINE)
            browser.shot(page, "editor-draft")
            submitted = e2e.approve_in_editor(page)
            browser.shot(page, "editor-submitted")
            page.context.close()
            story = orm(e2e.story_now, story_pk)
            assert story["title"] == HEADLINE and not story["live"], story
            assert story["task"] is not None, "the story left review at the editors"
            assert story["task"] in submitted, (story, submitted)

            # 5. The chief editor approves: the story is published.
            page = browser.login("chief", story_edit)
            assert page.locator("#id_title").input_value() == HEADLINE
            browser.shot(page, "chief-review")
            e2e.approve_in_editor(page)
            browser.shot(page, "chief-approved")
            page.context.close()
            story = orm(e2e.story_now, story_pk)
            assert story["live"] and story["task"] is None, story
            assert not story["unpublished_changes"], story

            # 6. The public reads it, with the new headline and nobody's details.
            public = browser.page()
            browser.goto(public, story["url"])
            assert public.inner_text("h1").strip() == HEADLINE
            assert public.locator("blockquote.reply-quote").count() == 0
            html = public.content()
            for detail in (CITIZEN["name"], CITIZEN["phone"]):
                assert detail not in html, detail
            browser.shot(public, "public-story")

            # 7. The department's liaison replies in the admin.
            e2e.record_reply(browser, case_path, REPLY)

            # 8. The story shows the reply, quoted, the liaison's phone redacted.
            browser.goto(public, story["url"])
            quote = public.locator("blockquote.reply-quote")
            assert quote.count() == 1, "the story does not show the reply"
            assert REPLY_SHOWN in quote.inner_text()
            assert LIAISON_PHONE not in public.content()
            browser.shot(public, "public-reply")

            # 9. The statistics before the case is closed.
            browser.goto(public, stats)
            completed = e2e.completed_figure(public)
            browser.shot(public, "stats-before")

            # 10. The officer records a satisfied callback and closes the case.
            e2e.callback_and_close(browser, case_path)
            assert orm(e2e.case_of, reference)["state"] == "closed"

            # 11. The statistics page counts it.
            browser.goto(public, stats)
            now_completed = e2e.completed_figure(public)
            browser.shot(public, "stats-after")
            assert now_completed == completed + 1, (completed, now_completed)
        finally:
            browser.close()
