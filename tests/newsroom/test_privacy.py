"""Privacy sweep: no citizen's personal data on any public response (PIPL).

Cases are registered and worked through the real services with personal data
everywhere a citizen or an officer might put it: the citizen's own record, the
title, description and location, department responses, escalation, return and
reopening reasons, callback notes. Their stories are drafted by the newsroom
service and published. Then every public URL is fetched (pages, print views,
feeds, search, sitemap, in both languages) and none may contain any of it.
"""

from __future__ import annotations

import html
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from newsroom.models import FollowUpPage, HotTrackingPage
from newsroom.services import hot_tracking_column, story_create_for_case
from tests.factories import DepartmentFactory, UserFactory, aware
from tracking import services as svc
from tracking.models import CallbackOutcome, Case, Kind

pytestmark = pytest.mark.django_db

NOW = aware(2026, 6, 10, 10)

ID_NUMBER = "110101199003071234"
LANDLINE = "0531-88888888"
CITIZENS = [
    svc.CitizenData(
        name="欧阳娜娜",
        phone="13912345678",
        address="幸福小区3号楼2单元401室",
        email="ouyang.nana@example.com",
    ),
    svc.CitizenData(
        name="司马光明",
        phone="13987654321",
        address="历下区解放路123号4单元502",
        email="sima.guangming@example.org",
    ),
    svc.CitizenData(
        name="诸葛亮亮", phone=LANDLINE, address="泉城路88号院7号楼1单元101"
    ),
    svc.CitizenData(
        name="上官婉儿",
        phone="13800138000",
        address="经十路9999号东苑小区12号楼",
        email="shangguan@example.net",
    ),
]
# Every string that must never be in a public response.
PERSONAL = sorted(
    {ID_NUMBER, LANDLINE}
    | {value for c in CITIZENS for value in (c.name, c.phone, c.address, c.email)}
    - {""}
)
# What each case is about: public, and what the stories are found by.
SUBJECTS = [
    "楼道堆物堵塞消防通道",
    "金胜路公交站之间无人行横道",
    "夜市占道经营噪音扰民",
    "自来水水压低高层住户用水困难",
]
STORY_WORD = "消防通道"


def personal_text(citizen: svc.CitizenData, what: str) -> str:
    """Free text full of the citizen's own data and of numbers of any citizen."""
    return (
        f"市民{citizen.name}（身份证号{ID_NUMBER}，电话{citizen.phone}，"
        f"座机{LANDLINE}，邮箱{citizen.email or 'none@example.com'}，"
        f"住{citizen.address}）：{what}"
    )


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=True):
        yield


def register(citizen: svc.CitizenData, subject: str, user, at) -> Case:
    return svc.case_register(
        kind=Kind.COMPLAINT,
        is_efficiency=True,
        title=f"{citizen.name}（{citizen.phone}）反映：{subject}",
        description=personal_text(citizen, f"{subject}，多次反映无人处理。"),
        location_text=f"{citizen.address}门口",
        citizen=citizen,
        user=user,
        now=at,
    )


def escalated_story(citizen, subject, *, user, department) -> Case:
    """A case taken through dispatch to media supervision, its story published."""
    at = NOW - timedelta(days=40)
    # By primary key: each step reads the case as the previous one left it.
    case = register(citizen, subject, user, at).pk
    svc.case_accept(case=case, user=user, now=at + timedelta(hours=1))
    svc.case_dispatch(
        case=case, user=user, department=department, now=at + timedelta(hours=2)
    )
    svc.case_return(
        case=case,
        user=user,
        reason=personal_text(citizen, "不属于本单位职责，已电话告知市民。"),
        now=at + timedelta(days=1),
    )
    svc.case_dispatch(
        case=case, user=user, department=department, now=at + timedelta(days=2)
    )
    svc.case_acknowledge(case=case, user=user, now=at + timedelta(days=3))
    svc.case_escalate(
        case=case,
        user=user,
        reason=personal_text(citizen, "逾期未办结，转热点追踪。"),
        now=NOW - timedelta(days=10),
    )
    story = story_create_for_case(case=case, user=user, now=NOW - timedelta(days=9))
    story.save_revision(user=user).publish()
    return Case.objects.get(pk=case)


def reply(case, citizen, user, *, days_ago: int) -> Case:
    return svc.case_reply(
        case=case,
        user=user,
        text=personal_text(citizen, "已联系市民现场核查，问题已整改。"),
        now=NOW - timedelta(days=days_ago),
    )


def callback(case, citizen, user, outcome, *, days_ago: int) -> None:
    svc.callback_record(
        case=case,
        user=user,
        outcome=outcome,
        note=personal_text(citizen, "回访记录。"),
        now=NOW - timedelta(days=days_ago),
    )


@pytest.fixture
def stories():
    """Four published stories: resolved, reopened, replied and still tracked."""
    user = UserFactory(is_superuser=True, is_staff=True)
    department = DepartmentFactory(name="市城市管理局")
    cases = [
        escalated_story(citizen, subject, user=user, department=department)
        for citizen, subject in zip(CITIZENS, SUBJECTS, strict=True)
    ]
    closed, reopened, replied, _tracked = (case.pk for case in cases)
    reply(closed, CITIZENS[0], user, days_ago=6)
    callback(closed, CITIZENS[0], user, CallbackOutcome.SATISFIED, days_ago=5)
    svc.case_close(case=closed, user=user, now=NOW - timedelta(days=4))
    reply(reopened, CITIZENS[1], user, days_ago=6)
    callback(reopened, CITIZENS[1], user, CallbackOutcome.DISSATISFIED, days_ago=5)
    svc.case_reopen(
        case=reopened,
        user=user,
        reason=personal_text(CITIZENS[1], "市民不满意，重办。"),
        now=NOW - timedelta(days=4),
    )
    reply(replied, CITIZENS[2], user, days_ago=3)

    pages = list(HotTrackingPage.objects.filter(case__in=cases).order_by("pk"))
    follow_up = FollowUpPage(
        title="追踪：消防通道已清理",
        slug="follow-up",
        standfirst="记者回访，堆物已清理。",
        body=[("paragraph", "<p>记者再次来到现场，消防通道已畅通。</p>")],
    )
    pages[0].add_child(instance=follow_up)
    follow_up.save_revision(user=user).publish()
    return pages


def path(page) -> str:
    """The page's path in the default language (the client's requests switch it)."""
    with translation.override(settings.LANGUAGE_CODE):
        return page.url


def public_urls(stories) -> list[str]:
    column = path(hot_tracking_column())
    department = stories[0].case.department_id
    urls = ["/", "/en/", "/sitemap.xml", "/search/"]
    urls += [search_url(STORY_WORD), search_url(STORY_WORD, prefix="/en")]
    urls += [search_url(SUBJECTS[2][:4])]
    urls += [column, f"/en{column}", f"{column}feed/rss/", f"{column}feed/atom/"]
    urls += [f"{column}?status={s}" for s in ("tracking", "replied", "resolved")]
    urls += [f"{column}?department={department}", f"{column}?year={NOW.year}"]
    urls.append(path(stories[0].get_parent()))  # the year index
    for story in map(path, stories):
        urls += [story, f"{story}?print=1", f"/en{story}"]
    for follow_up in map(path, FollowUpPage.objects.all()):
        urls += [follow_up, f"{follow_up}?print=1", f"/en{follow_up}"]
    return urls


def search_url(query: str, *, prefix: str = "") -> str:
    return f"{prefix}/search/?{urlencode({'q': query})}"


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code != 404, (
        f"{url} answered 404: the public surface it stands for (page, feed, "
        "search or sitemap) is missing, so its privacy cannot be checked"
    )
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return response.content.decode()


def leaks(body: str) -> list[str]:
    """The personal strings in ``body``, as written or as HTML/XML entities."""
    decoded = html.unescape(body)
    return [value for value in PERSONAL if value in body or value in decoded]


def test_the_seeded_data_really_holds_personal_data(stories):
    case = stories[0].case
    assert CITIZENS[0].phone in case.title
    assert ID_NUMBER in case.description
    assert CITIZENS[0].address in case.location_text
    assert case.events.filter(action="reply", note__contains=ID_NUMBER).exists()
    assert case.responses.filter(text__contains=CITIZENS[0].email).exists()
    assert case.callbacks.filter(note__contains=CITIZENS[0].name).exists()
    assert [s.case.state for s in stories] == [
        "closed",
        "reopened",
        "replied",
        "supervised",
    ]


def test_no_public_page_feed_search_or_sitemap_shows_personal_data(client, stories):
    checked = {}
    for url in public_urls(stories):
        cache.clear()
        checked[url] = get(client, url)
    found = {url: leaks(body) for url, body in checked.items() if leaks(body)}
    assert not found, f"personal data on public responses: {found}"

    # The sweep saw the stories themselves, masked, not empty pages.
    story_html = checked[path(stories[0])]
    assert SUBJECTS[0] in story_html
    assert "欧某" in story_html  # the citizen, named as papers name them
    assert "已联系市民现场核查" in story_html  # the department's answer, quoted
    column = path(hot_tracking_column())
    for story in map(path, stories):
        assert story in checked["/sitemap.xml"]
        assert story in checked[f"{column}feed/rss/"]
        assert story in checked[f"{column}feed/atom/"]
    assert path(stories[0]) in checked[search_url(STORY_WORD)]


def without_query_echo(body: str) -> str:
    """The results page minus the places that repeat the visitor's own query."""
    soup = BeautifulSoup(body, "html.parser")
    soup.title.decompose()
    for field in soup.select("input[name=q]"):
        del field["value"]
    soup.select_one("#results").decompose()
    for link in soup.select("a[href*='q=']"):
        del link["href"]  # pagination links carry the query
    return str(soup)


def test_searching_for_personal_data_finds_nothing_and_shows_none(client, stories):
    shown, found = {}, {}
    for value in PERSONAL:
        cache.clear()
        results = without_query_echo(get(client, search_url(value)))
        if leaked := leaks(results):
            shown[value] = leaked
        if hits := [path(s) for s in stories if path(s) in results]:
            found[value] = hits
    assert not shown, f"search results show personal data: {shown}"
    assert not found, f"stories found by personal data: {found}"


def test_personal_data_an_editor_left_in_a_story_is_masked_too(client, stories):
    """The draft panel warns editors that such data "is masked on the public site":
    the story page, its print view and every listing must keep that promise."""
    citizen = CITIZENS[0]
    story = stories[0]
    story.title = f"{citizen.name}：{SUBJECTS[0]}"
    story.standfirst = personal_text(citizen, "记者现场核实。")
    story.body = [
        ("paragraph", f"<p>{personal_text(citizen, '物业称已清理。')}</p>"),
        ("quote", {"text": f"打{citizen.phone}没人管", "attribution": citizen.name}),
    ]
    story.save_revision().publish()
    column = path(hot_tracking_column())

    found = {}
    for url in [
        path(story),
        f"{path(story)}?print=1",
        "/",
        column,
        f"{column}feed/rss/",
        f"{column}feed/atom/",
        search_url(STORY_WORD),
    ]:
        cache.clear()
        if shown := leaks(get(client, url)):
            found[url] = shown
    assert not found, f"personal data on public responses: {found}"


FULL_WIDTH_PHONE = "１３９１２３４５６７８"  # 13912345678 as a Chinese IME types it
FULL_WIDTH_ID = "１１０１０１１９９００３０７１２３４"


def test_personal_data_typed_full_width_is_masked_too(client, stories):
    """Numbers typed with a Chinese input method are the same personal data."""
    user = UserFactory(is_superuser=True)
    case = stories[2].case  # replied; called back, reopened, answered again
    svc.callback_record(
        case=case.pk,
        user=user,
        outcome=CallbackOutcome.DISSATISFIED,
        note=f"回访电话{FULL_WIDTH_PHONE}",
        now=NOW - timedelta(days=2),
    )
    svc.case_reopen(case=case.pk, user=user, now=NOW - timedelta(days=2))
    svc.case_dispatch(
        case=case.pk, user=user, department=case.department, now=NOW - timedelta(days=1)
    )
    svc.case_reply(
        case=case.pk,
        user=user,
        text=f"已再次联系市民（电话{FULL_WIDTH_PHONE}，身份证{FULL_WIDTH_ID}）。",
        now=NOW - timedelta(hours=5),
    )
    column = path(hot_tracking_column())

    found = {}
    story = path(stories[2])
    for url in [story, f"{story}?print=1", "/", column, f"{column}feed/rss/"]:
        cache.clear()
        body = html.unescape(get(client, url))
        if shown := [v for v in (FULL_WIDTH_PHONE, FULL_WIDTH_ID) if v in body]:
            found[url] = shown
    assert not found, f"personal data on public responses: {found}"
