"""The public story page: the article, and its case's timeline, live and redacted."""

from __future__ import annotations

import re
from html import unescape

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext, ngettext

from newsroom import cache as page_cache
from newsroom.models import FollowUpPage, HotTrackingPage
from newsroom.services import story_create_for_case
from tests.factories import CategoryFactory, DepartmentFactory, aware, officer, staff
from tracking import roles
from tracking import services as svc
from tracking.models import Case, Kind
from tracking.services import CitizenData

pytestmark = pytest.mark.django_db

CITIZEN = CitizenData(
    name="周建国", phone="13812345678", address="历下区幸福小区3号楼2单元401室"
)
PERSONAL = [CITIZEN.name, CITIZEN.phone, CITIZEN.address, "13912345678"]

REGISTERED = aware(2026, 3, 2, 9)  # a Monday; no holiday for three weeks
DISPATCHED = aware(2026, 3, 2, 10)  # due at closing time on Monday 9 March
ESCALATED = aware(2026, 3, 13, 10)  # 10, 11 and 12 March have passed: 3 days
PUBLISHED = aware(2026, 3, 16, 9)
REPLIED = aware(2026, 3, 18, 15)
CALLED_BACK = aware(2026, 3, 19, 10)

REPLY = (
    "经核查，已安排施划直行标线。已电话告知市民周建国（13812345678），"
    "其住址历下区幸福小区3号楼2单元401室附近路口同步整治。另有群众来电13912345678。"
)
REPLY_PUBLIC = (
    "经核查，已安排施划直行标线。已电话告知市民周某（***********），"
    "其住址***附近路口同步整治。另有群众来电***********。"
)


def t(msgid: str) -> str:
    """``msgid`` as the site shows it in its default language."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(msgid)


@pytest.fixture
def desk():
    return officer()


@pytest.fixture
def chief():
    return staff(roles.CHIEF_EDITORS)


@pytest.fixture
def department():
    return DepartmentFactory(name="市交警支队")


@pytest.fixture
def escalated_case(calendar_2026, desk, department):
    """An efficiency complaint that went three working days past its deadline."""
    category = CategoryFactory(
        default_department=department, handling_days=5, escalation_threshold_days=3
    )
    case = svc.case_register(
        kind=Kind.COMPLAINT,
        is_efficiency=True,
        title="五湖路口直行车道拥堵",
        description="直行车道排长队，右转车道空着。联系人周建国13812345678。",
        citizen=CITIZEN,
        category=category,
        user=desk,
        now=REGISTERED,
    )
    svc.case_accept(case=case, user=desk, now=REGISTERED.replace(minute=30))
    svc.case_dispatch(case=case.pk, user=desk, department=department, now=DISPATCHED)
    return svc.case_escalate(case=case.pk, now=ESCALATED)


@pytest.fixture
def story(escalated_case, chief):
    """The case's story as the chief editor published it."""
    page = story_create_for_case(case=escalated_case, now=ESCALATED)
    page.title = "五湖路口为何久堵不疏"
    page.standfirst = "直行车道排长队，右转车道空着，记者追踪。"
    with time_machine.travel(PUBLISHED, tick=False):
        page.save_revision(user=chief).publish(user=chief)
    return HotTrackingPage.objects.get(pk=page.pk)


def get(client, page, query=""):
    response = client.get(page.url + query)
    assert response.status_code == 200
    return response


def timeline(html: str) -> list[tuple[str, str]]:
    """(kind, text) of each timeline entry, in page order, tags stripped."""
    section = html[html.index('<ol class="timeline">') :]
    section = section[: section.index("</ol>")]
    return [
        (kind, unescape(re.sub(r"<[^>]+>", " ", body)).strip())
        for kind, body in re.findall(
            r'<li class="timeline-([\w-]+)">(.*?)</li>', section, re.S
        )
    ]


def kinds(html: str) -> list[str]:
    return [kind for kind, _text in timeline(html)]


def entry(html: str, kind: str) -> str:
    texts = [text for k, text in timeline(html) if k == kind]
    assert len(texts) == 1, (kind, timeline(html))
    return texts[0]


def reply(case, user, now=REPLIED, text=REPLY):
    return svc.case_reply(case=case.pk, user=user, text=text, now=now)


# --- what the page shows ----------------------------------------------------------


def test_the_story_shows_its_article_status_and_department(client, story):
    html = get(client, story).content.decode()

    assert "五湖路口为何久堵不疏" in html
    assert "直行车道排长队，右转车道空着，记者追踪。" in html
    assert '<span class="badge badge-tracking">' in html
    assert "市交警支队" in html


def test_the_timeline_tells_the_case_so_far_in_order(client, story):
    html = get(client, story).content.decode()

    assert kinds(html) == [
        "register",
        "accept",
        "dispatch",
        "overdue",
        "escalate",
        "published",
    ]
    assert entry(html, "dispatch").endswith("市交警支队")
    assert t("Accepted by the hotline") in entry(html, "accept")
    with translation.override(settings.LANGUAGE_CODE):
        overdue = ngettext(
            "Overdue by %(days)s working day", "Overdue by %(days)s working days", 3
        ) % {"days": 3}
    assert overdue in entry(html, "overdue")
    assert entry(html, "published").startswith("2026-03-16 09:00")


def test_the_days_overdue_when_reported_are_a_key_figure(client, story):
    html = get(client, story).content.decode()

    assert re.search(
        r"<strong>3</strong>\s*" + re.escape(t("working days overdue when reported")),
        html,
    )


def test_a_department_reply_shows_at_once_even_on_a_cached_page(
    client, story, desk, django_capture_on_commit_callbacks
):
    first = get(client, story)
    cached = get(client, story)
    assert first["X-Page-Cache"] == "miss"
    assert cached["X-Page-Cache"] == "hit"
    assert "reply" not in kinds(cached.content.decode())

    with django_capture_on_commit_callbacks(execute=True):
        reply(story.case, desk)
    after = get(client, story)

    assert after["X-Page-Cache"] == "miss"
    html = after.content.decode()
    assert kinds(html)[-1] == "reply"
    assert REPLY_PUBLIC in entry(html, "reply")
    assert '<span class="badge badge-replied">' in html


def test_a_page_cache_that_lost_its_version_never_serves_an_older_page(
    client, story, desk, django_capture_on_commit_callbacks
):
    cache.clear()  # a cold cache: the version counter starts afresh
    get(client, story)  # cached before the reply
    with django_capture_on_commit_callbacks(execute=True):
        reply(story.case, desk)
    assert "reply" in kinds(get(client, story).content.decode())

    # Evicted, as any cache key may be: the versions of every tag of the page.
    for tag in (page_cache.SITE, page_cache.case_tag(story.case_id)):
        cache.delete(page_cache.TAG_PREFIX + tag)
    html = get(client, story).content.decode()

    assert "reply" in kinds(html)


def test_the_days_from_the_report_to_the_answer_are_a_key_figure(client, story, desk):
    reply(story.case, desk)

    html = get(client, story).content.decode()

    assert re.search(
        r"<strong>2</strong>\s*"
        + re.escape(t("days from the report to the department's answer")),
        html,
    )


def test_callback_and_closing_complete_the_timeline(client, story, desk):
    reply(story.case, desk)
    svc.callback_record(
        case=story.case_id,
        user=desk,
        outcome="satisfied",
        now=CALLED_BACK,
        note="周建国表示满意，电话13812345678",
    )
    svc.case_close(case=story.case_id, user=desk, now=CALLED_BACK.replace(minute=5))

    html = get(client, story).content.decode()

    assert kinds(html)[-3:] == ["reply", "callback", "close"]
    assert t("Phone callback") in entry(html, "callback")
    assert t("Satisfied") in entry(html, "callback")
    assert '<span class="badge badge-resolved">' in html


def test_a_reopened_case_shows_no_deadline_that_has_not_passed(client, story, desk):
    reply(story.case, desk)
    svc.callback_record(
        case=story.case_id, user=desk, outcome="dissatisfied", now=CALLED_BACK
    )
    svc.case_reopen(case=story.case_id, user=desk, now=CALLED_BACK.replace(minute=5))
    assert Case.objects.get(pk=story.case_id).due_at > aware(2026, 3, 20, 10)

    with time_machine.travel(aware(2026, 3, 20, 10), tick=False):
        html = get(client, story).content.decode()

    # The new deadline has not passed: only the one the paper reported is shown,
    # with the figure reported then, and the key figure stays.
    assert kinds(html).count("overdue") == 1
    with translation.override(settings.LANGUAGE_CODE):
        reported = ngettext(
            "Overdue by %(days)s working day", "Overdue by %(days)s working days", 3
        ) % {"days": 3}
    assert reported in entry(html, "overdue")
    assert kinds(html).index("overdue") < kinds(html).index("escalate")
    assert re.search(
        r"<strong>3</strong>\s*" + re.escape(t("working days overdue when reported")),
        html,
    )
    assert kinds(html)[-1] == "reopen"
    assert '<span class="badge badge-tracking">' in html


def test_personal_data_never_reaches_the_page(client, story, desk):
    reply(story.case, desk)
    svc.callback_record(
        case=story.case_id,
        user=desk,
        outcome="satisfied",
        now=CALLED_BACK,
        note="周建国表示满意，电话13812345678",
    )
    svc.case_close(case=story.case_id, user=desk, now=CALLED_BACK.replace(minute=5))

    for query in ("", "?print=1"):
        html = get(client, story, query).content.decode()
        for value in PERSONAL:
            assert value not in html, value
    assert "周某" in html


def test_the_print_view_renders_the_story(client, story):
    html = get(client, story, "?print=1").content.decode()

    assert re.search(r'<body class="[^"]*\bprint-view\b', html)
    assert "五湖路口为何久堵不疏" in html
    assert "escalate" in kinds(html)
    assert "print-view" not in get(client, story).content.decode()


def test_follow_up_reports_are_listed_in_order_once_published(client, story, chief):
    titles = ["交警：本周内施划直行标线", "标线已施划，路口通行好转", "草稿：尚未发布"]
    for title in titles:
        story.add_child(instance=FollowUpPage(title=title, live=False))
    for page in FollowUpPage.objects.child_of(story).order_by("path")[:2]:
        page.save_revision(user=chief).publish(user=chief)

    html = get(client, story).content.decode()

    section = html[html.index('id="follow-ups"') :]
    positions = [section.find(title) for title in titles]
    assert 0 < positions[0] < positions[1]
    assert positions[2] == -1


def test_an_unpublished_story_is_not_public(client, escalated_case):
    page = story_create_for_case(case=escalated_case, now=ESCALATED)

    assert client.get(page.url).status_code == 404
