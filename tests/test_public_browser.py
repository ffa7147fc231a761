"""The public pages in a real Chromium, at a desktop and a phone size: axe-core
finds no serious or critical violation, the tap targets of the navigation, the
filters and the pagination are at least 44 by 44 px on a phone, dates never wrap,
English is not justified. A full-page screenshot of each page at each size is kept
in TEST_ARTIFACTS_DIR (else var/test-artifacts/).

Runs against pytest-django's live server with Debian's Chromium; skipped when
Chromium, Playwright or axe-playwright-python is not installed. Playwright never
downloads a browser here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from wagtail.models import Site

from newsroom.models import ArticlePage, ColumnPage, HomePage, StatsPage, YearIndexPage
from newsroom.services import hot_tracking_column, story_create_for_case
from tests.factories import CategoryFactory, DepartmentFactory, officer
from tracking import services as svc
from tracking.models import Kind
from tracking.services import CitizenData

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
ROOT = Path(__file__).resolve().parent.parent
MIN_TARGET = 44

pytestmark = pytest.mark.browser

# Tap targets of the masthead, the filters and the pagination smaller than 44 px.
SMALL_TARGETS = """(minimum) => {
  const selector = ['.masthead', '.filters', '.pagination', '.period-links']
    .flatMap(area => ['a', 'button', 'input', 'select'].map(t => `${area} ${t}`))
    .join(', ');
  return [...document.querySelectorAll(selector)]
    .filter(el => el.offsetParent !== null
      && getComputedStyle(el).visibility !== 'hidden')
    .map(el => {
      const box = el.getBoundingClientRect();
      return {html: el.outerHTML.slice(0, 120), width: box.width, height: box.height};
    })
    .filter(t => t.width < minimum || t.height < minimum);
}"""
# Dates broken over two lines: an inline element wrapped has more than one box.
WRAPPED_DATES = """() => [...document.querySelectorAll('time')]
  .filter(el => el.offsetParent !== null && el.getClientRects().length > 1)
  .map(el => el.outerHTML)"""
JUSTIFIED = """() => [...document.querySelectorAll('p, li, div, blockquote')]
  .filter(el => el.offsetParent !== null && el.closest(':lang(en)')
    && getComputedStyle(el).textAlign === 'justify')
  .map(el => el.outerHTML.slice(0, 80))"""


@pytest.fixture
def browser_tools():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    try:
        from axe_playwright_python.sync_playwright import Axe
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright or axe-playwright-python is not installed")
    return sync_playwright, Axe


@pytest.fixture
def artifacts() -> Path:
    where = Path(
        os.environ.get("TEST_ARTIFACTS_DIR") or ROOT / "var" / "test-artifacts"
    )
    where.mkdir(parents=True, exist_ok=True)
    return where


def publish(page):
    page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.fixture
def paper(hot_tracking_site, live_server):
    """The site on the live server: a story the department replied to, the
    statistics page, and a growers' column with two pages of articles."""
    home = HomePage.objects.get()
    Site.objects.all().delete()
    Site.objects.create(
        hostname="localhost", port=80, root_page=home, is_default_site=True
    )
    if not StatsPage.objects.exists():
        stats = StatsPage(title="数据公开", slug="statistics")
        home.add_child(instance=stats)
        publish(stats)
    growers = ColumnPage(title="果农帮帮团", slug="growers", intro="<p>帮果农。</p>")
    home.add_child(instance=growers)
    growers = publish(growers)
    year = YearIndexPage(title="2026", slug="2026", year=2026)
    growers.add_child(instance=year)
    year = publish(year)
    for n in range(12):
        article = ArticlePage(
            title=f"柿子丰收愁销路（{n + 1}）",
            slug=f"persimmons-{n + 1}",
            standfirst="舟山镇柿子丰收，商会企业帮柿农把柿子卖出去。",
            body=[("paragraph", "<p>柿农说，今年的柿子又大又甜。</p>")],
        )
        year.add_child(instance=article)
        publish(article)

    desk = officer()
    department = DepartmentFactory(name="市交警支队")
    case = svc.case_register(
        kind=Kind.COMPLAINT,
        title="五湖路口直行车道拥堵",
        description="直行车道排长队，右转车道空着。",
        citizen=CitizenData(name="周建国", phone="13812345678"),
        category=CategoryFactory(default_department=department),
        user=desk,
    )
    svc.case_accept(case=case, user=desk)
    svc.case_dispatch(case=case.pk, user=desk, department=department)
    story = story_create_for_case(case=case)
    story.title = "五湖路与花园大道路口：直行车道拥挤不堪，右转车道空空如也"
    story.standfirst = "市民通过8890反映路口车道设置不合理。"
    story.body = [
        ("paragraph", "<p>五湖路与花园大道的十字路口，早晚高峰时直行车道拥挤不堪。</p>")
    ]
    story = publish(story)
    svc.case_reply(case=case.pk, user=desk, text="已安排施划直行标线，三日内完成。")
    column = hot_tracking_column()
    return {
        "home": "/",
        "column": column.url,
        "growers": growers.url,
        "story": story.url,
        "story-en": f"/en{story.url}",
        "search": "/search/?q=路口",
        "stats": StatsPage.objects.get().url,
        "home-en": "/en/",
    }


def serious(results) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


# The live server needs committed data; hot_tracking_site remakes the role groups
# and pages that the flush after a transactional test removes.
@pytest.mark.django_db(transaction=True)
def test_public_pages_are_accessible_and_fit_a_phone(
    paper, live_server, browser_tools, artifacts
):
    sync_playwright, Axe = browser_tools
    axe = Axe()
    problems: dict[str, list] = {}

    # No ORM inside this block: Playwright runs an event loop in this thread.
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for size, (width, height) in SIZES.items():
                # Tests only: axe-core is injected as a script, which the CSP of
                # the public pages (no inline script) would refuse.
                context = browser.new_context(
                    viewport={"width": width, "height": height}, bypass_csp=True
                )
                page = context.new_page()
                page.set_default_timeout(15_000)
                for name, url in paper.items():
                    response = page.goto(f"{live_server.url}{url}")
                    where = f"{name} at {size}"
                    assert response is not None and response.status == 200, where
                    page.screenshot(
                        path=str(artifacts / f"public-{name}-{size}.png"),
                        full_page=True,
                    )
                    found = {
                        "axe": serious(axe.run(page)),
                        "wrapped dates": page.evaluate(WRAPPED_DATES),
                        "justified English": page.evaluate(JUSTIFIED),
                    }
                    if size == "phone":
                        found["small targets"] = page.evaluate(
                            SMALL_TARGETS, MIN_TARGET
                        )
                        overflow = page.evaluate(
                            "() => document.documentElement.scrollWidth"
                            " - document.documentElement.clientWidth"
                        )
                        found["wider than the phone"] = (
                            [overflow] if overflow > 1 else []
                        )
                    for kind, items in found.items():
                        if items:
                            problems[f"{where}: {kind}"] = items
                # The growers' column has a second page: its pagination was seen.
                page.goto(f"{live_server.url}{paper['growers']}")
                assert page.locator(".pagination a[rel=next]").count() == 1
                assert page.locator(".filters select").count() == 0
                context.close()
        finally:
            browser.close()

    assert problems == {}
    for name in paper:
        for size in SIZES:
            assert (artifacts / f"public-{name}-{size}.png").stat().st_size > 0
