"""Chinese full-text search: jieba-segmented index of live pages, redacted."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction

from newsroom import search
from newsroom.models import (
    ArticlePage,
    FollowUpPage,
    HotTrackingPage,
    SearchTerm,
    YearIndexPage,
)
from newsroom.services import hot_tracking_column, story_create_for_case
from tests.factories import CaseFactory, CitizenFactory
from tracking.models import CensorRule, State

JINSHENG = {
    "title": "金胜路口行人过街难",
    "description": "金胜路与胜利大道交叉口没有人行横道，行人过马路很危险。",
}
WUHU = {
    "title": "五湖路与花园大道十字路口直行车道拥堵",
    "description": "直行车道排长队，右转车道空着。",
}
# The citizen behind a case: none of this may reach the index or a result.
NAME, PHONE, ID_NUMBER = "周建国", "13912345678", "110101199003071234"
ADDRESS = "幸福小区3号楼2单元401室"
PERSONAL = (NAME, PHONE, ID_NUMBER, ADDRESS, "建国", "幸福小区", "12345678")


def publish(page):
    page.save_revision().publish()
    return page.__class__.objects.get(pk=page.pk)


def published_story(*, state=None, citizen=None, **case_fields) -> HotTrackingPage:
    """A case's story made by the newsroom service and published as drafted."""
    extra = {"state": state} if state else {}
    if citizen is not None:
        extra["citizen"] = citizen
    case = CaseFactory(**case_fields, **extra)
    return publish(story_create_for_case(case=case))


def article(title: str, standfirst: str = "", **fields) -> ArticlePage:
    """A published article in the Hot Tracking column's year index."""
    column = hot_tracking_column()
    year = YearIndexPage.objects.child_of(column).first()
    if year is None:
        year = YearIndexPage(title="2026", slug="2026", year=2026, live=True)
        column.add_child(instance=year)
    page = ArticlePage(title=title, standfirst=standfirst, **fields)
    year.add_child(instance=page)
    return publish(page)


def found(client, query: str, *, path="/search/", **params) -> str:
    response = client.get(path, {"q": query, **params})
    assert response.status_code == 200
    return response.content.decode()


def url(page) -> str:
    return page.get_url()


# --- Finding the stories --------------------------------------------------------------


@pytest.mark.django_db
def test_crossing_finds_the_jinsheng_road_story_and_turn_lane_the_wuhu_road_one(
    client,
):
    jinsheng = published_story(**JINSHENG)
    wuhu = published_story(**WUHU)

    crossing = found(client, "人行横道")
    assert url(jinsheng) in crossing
    assert url(wuhu) not in crossing
    assert "金胜路口行人过街难" in crossing

    turn_lane = found(client, "右转车道")
    assert url(wuhu) in turn_lane
    assert url(jinsheng) not in turn_lane


@pytest.mark.django_db
def test_pages_are_found_by_segmented_words_not_by_substrings(client):
    jinsheng = published_story(**JINSHENG)
    wuhu = published_story(**WUHU)

    # jieba cuts the query into words that each occur in the story, apart.
    query = "胜利大道人行横道"
    assert query not in JINSHENG["description"]
    assert len(search.query_terms(query)) > 1
    assert "人行横道" in search.query_terms(query)
    assert url(jinsheng) in found(client, query)

    assert search.query_terms("右转车道") == ["右转", "车道"]
    assert url(wuhu) in found(client, "五湖路右转车道")

    indexed = set(
        SearchTerm.objects.filter(page=jinsheng).values_list("term", flat=True)
    )
    assert {"人行横道", "人行", "金胜路", "胜利"} <= indexed
    assert not any("，" in term or term.isspace() for term in indexed)


@pytest.mark.django_db
def test_every_word_must_match_unless_no_page_has_them_all(client):
    jinsheng = published_story(**JINSHENG)
    wuhu = published_story(**WUHU)

    # Both stories mention a 大道, only one a crossing: all words are required.
    both_words = found(client, "大道 人行横道")
    assert url(jinsheng) in both_words
    assert url(wuhu) not in both_words

    # No story has both; each has one: shown, with a note that they are partial.
    either = found(client, "人行横道 右转车道")
    assert url(jinsheng) in either
    assert url(wuhu) in either
    assert 'id="partial-results"' in either
    assert 'id="partial-results"' not in both_words


@pytest.mark.django_db
def test_a_word_in_the_title_ranks_above_the_same_word_in_the_text(client):
    in_text = article("花园大道夜间施工", "居民反映噪声扰民，夜间施工持续到凌晨。")
    in_title = article("噪声扰民何时休", "花园大道附近工地昼夜作业。")

    html = found(client, "噪声")
    assert html.index(url(in_title)) < html.index(url(in_text))
    assert SearchTerm.objects.get(page=in_title, term="噪声").weight > (
        SearchTerm.objects.get(page=in_text, term="噪声").weight
    )


@pytest.mark.django_db
def test_latin_is_found_whatever_its_case_or_width(client):
    page = article("ETC车道改造", "高速出口ETC车道增加到四条。")
    assert url(page) in found(client, "etc")
    assert url(page) in found(client, "ＥＴＣ车道")


@pytest.mark.django_db
def test_the_result_shows_a_story_status_and_its_standfirst(client):
    story = published_story(state=State.REPLIED, **WUHU)

    html = found(client, "右转车道")
    assert 'class="badge badge-replied"' in html
    assert str(story.status_label) in html
    assert story.standfirst[:20] in html


@pytest.mark.django_db
def test_stopwords_and_punctuation_alone_find_nothing(client):
    published_story(**JINSHENG)
    assert search.query_terms("的，了。") == []
    assert 'class="card"' not in found(client, "的，了。")


# --- Never found ----------------------------------------------------------------------


@pytest.mark.django_db
def test_drafts_are_never_found(client):
    live = published_story(**WUHU)
    draft = story_create_for_case(case=CaseFactory(**JINSHENG))
    assert not draft.live

    assert url(draft) not in found(client, "人行横道")
    assert not SearchTerm.objects.filter(page=draft).exists()

    # A live story's unpublished draft revision is not searchable either...
    live.standfirst = "彩虹桥下积水严重。"
    live.save_revision()
    assert url(live) not in found(client, "彩虹桥")
    # ... until it is published.
    live.get_latest_revision().publish()
    cache.clear()
    assert url(live) in found(client, "彩虹桥")


@pytest.mark.django_db
def test_unpublished_and_deleted_pages_leave_the_index(client):
    story = published_story(**JINSHENG)
    other = published_story(**WUHU)
    assert url(story) in found(client, "人行横道")

    story.unpublish()
    cache.clear()
    assert url(story) not in found(client, "人行横道")
    assert not SearchTerm.objects.filter(page=story).exists()

    assert SearchTerm.objects.filter(page=other).exists()
    Page.objects.get(pk=other.pk).delete()
    assert not SearchTerm.objects.filter(page_id=other.pk).exists()


@pytest.mark.django_db
def test_private_pages_and_what_is_under_them_are_never_found(client):
    story = published_story(**JINSHENG)
    follow_up = FollowUpPage(title="金胜路人行横道追踪", standfirst="斑马线施划完成。")
    story.add_child(instance=follow_up)
    follow_up = publish(follow_up)
    assert url(follow_up) in found(client, "斑马线")

    PageViewRestriction.objects.create(
        page=story, restriction_type=PageViewRestriction.PASSWORD, password="8890"
    )
    cache.clear()
    html = found(client, "人行横道")
    assert url(story) not in html
    assert url(follow_up) not in html
    assert url(follow_up) not in found(client, "斑马线")
    # Still live and indexed: only the query keeps private pages out.
    assert SearchTerm.objects.filter(page=story).exists()


# --- Personal data -------------------------------------------------------------------


@pytest.fixture
def zhou(db):
    return CitizenFactory(name=NAME, phone=PHONE, address=ADDRESS)


@pytest.fixture
def story_with_personal_data(zhou):
    """An editor pasted the citizen's own words, personal data and all."""
    raw = (
        f"市民{NAME}（身份证{ID_NUMBER}，电话{PHONE}，住{ADDRESS}）反映："
        "金胜路与胜利大道交叉口没有人行横道。"
    )
    story = story_create_for_case(
        case=CaseFactory(title=JINSHENG["title"], description=raw, citizen=zhou)
    )
    story.title = f"{NAME}：金胜路口行人过街难"
    story.standfirst = raw + "另一号码１３９１２３４５６７８。"
    story.body = [("paragraph", f"<p>{NAME}说：“打{PHONE}没人管”。</p>")]
    story = publish(story)
    follow_up = FollowUpPage(
        title=f"{NAME}的诉求有回音", standfirst=f"{NAME}表示满意。"
    )
    story.add_child(instance=follow_up)
    publish(follow_up)
    return story


def all_terms() -> set[str]:
    return set(SearchTerm.objects.values_list("term", flat=True))


@pytest.mark.django_db
def test_the_index_holds_no_personal_data_of_the_citizen(story_with_personal_data):
    terms = all_terms()
    assert "人行横道" in terms  # the story was indexed
    for value in PERSONAL:
        assert not any(value in term for term in terms), value
    # The story of the case and its follow-up both mask the name.
    assert "周某" in terms


@pytest.mark.django_db
@pytest.mark.parametrize("query", [NAME, PHONE, ID_NUMBER, "幸福小区", "建国"])
def test_searching_for_the_citizen_finds_nothing(
    client, story_with_personal_data, query
):
    html = found(client, query)
    assert 'class="card"' not in html
    assert url(story_with_personal_data) not in html


@pytest.mark.django_db
def test_results_show_titles_and_snippets_redacted(client, story_with_personal_data):
    html = found(client, "人行横道")
    assert url(story_with_personal_data) in html
    assert "周某：金胜路口行人过街难" in html
    for value in (*PERSONAL, "１３９１２３４５６７８"):
        assert value not in html


@pytest.mark.django_db
def test_a_new_censor_rule_takes_its_words_out_of_the_index(
    client, django_capture_on_commit_callbacks
):
    story = published_story(
        title="油烟扰民", description="老王烧烤店油烟直排，楼上住户无法开窗。"
    )
    other = article("夜市管理", "夜市摊主阿强烧烤摊占道。")
    assert url(story) in found(client, "老王烧烤店")

    with django_capture_on_commit_callbacks(execute=True):
        CensorRule.objects.create(
            case=story.case, pattern="老王烧烤店", replacement="某店", reason="商户"
        )
    cache.clear()
    assert url(story) not in found(client, "老王烧烤店")

    assert url(other) in found(client, "阿强")
    with django_capture_on_commit_callbacks(execute=True):
        CensorRule.objects.create(pattern="阿强", replacement="某人", reason="姓名")
    cache.clear()
    assert url(other) not in found(client, "阿强")


# --- The results page ---------------------------------------------------------------


@pytest.mark.django_db
def test_results_come_ten_to_a_page(client):
    pages = [article(f"桥梁检修通报第{n}期", "城东大桥封闭检修。") for n in range(12)]
    first = found(client, "大桥")
    second = found(client, "大桥", page="2")
    assert sum(url(p) in first for p in pages) == 10
    assert sum(url(p) in second for p in pages) == 2
    assert not any(url(p) in first and url(p) in second for p in pages)
    assert "?q=%E5%A4%A7%E6%A1%A5&amp;page=2" in first
    # Past the end: the last page.
    assert found(client, "大桥", page="99") == second
    assert found(client, "大桥", page="x") == first


@pytest.mark.django_db
def test_the_results_page_is_accessible_and_the_same_for_everybody(client):
    html = found(client, "")
    assert 'role="search"' in html
    assert '<label for="search-q">' in html
    assert 'id="search-q"' in html
    assert "csrfmiddlewaretoken" not in html
    assert 'class="card"' not in html


@pytest.mark.django_db
def test_search_speaks_english_under_en(client):
    story = published_story(**JINSHENG)
    html = found(client, "人行横道", path="/en/search/")
    assert 'lang="en"' in html
    assert "1 result for" in html
    assert url(story) in html


@pytest.mark.django_db
def test_search_is_served_from_the_page_cache_until_something_is_published(client):
    published_story(**JINSHENG)
    assert client.get("/search/", {"q": "人行横道"})["X-Page-Cache"] == "miss"
    assert client.get("/search/", {"q": "人行横道"})["X-Page-Cache"] == "hit"
    another = article("学校门口人行横道褪色", "家长希望重新施划。")
    response = client.get("/search/", {"q": "人行横道"})
    assert response["X-Page-Cache"] == "miss"
    assert url(another) in response.content.decode()


def _queries_for(client, query: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/search/", {"q": query}).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_results_page_takes_the_same_queries_for_2_or_12_results(client):
    published_story(title="小巷路灯不亮", description="小巷路灯坏了一个月。")
    article("路灯改造", "全市路灯节能改造。")
    few = _queries_for(client, "路灯")
    for n in range(5):
        published_story(title=f"路灯不亮{n}", description="小巷路灯坏了一个月。")
        article(f"路灯改造{n}", "全市路灯节能改造。")
    many = _queries_for(client, "路灯")
    html = found(client, "路灯")
    assert html.count('class="card"') == 10
    assert 'class="badge' in html
    assert few == many


# --- Rebuilding ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_index_can_be_rebuilt_from_the_live_pages(client):
    story = published_story(**JINSHENG)
    draft = story_create_for_case(case=CaseFactory(**WUHU))
    SearchTerm.objects.all().delete()
    SearchTerm.objects.create(page=draft, term="右转")  # stale

    out = io.StringIO()
    call_command("rebuild_search_index", stdout=out)
    assert "Indexed" in out.getvalue()

    assert url(story) in found(client, "人行横道")
    assert not SearchTerm.objects.filter(page=draft).exists()
    year_index = YearIndexPage.objects.first()
    assert not SearchTerm.objects.filter(page=year_index).exists()


@pytest.mark.django_db
def test_the_more_recently_published_page_wins_a_tie(client):
    now = timezone.now()
    pages = [article("公交站台遮雨棚", "站台遮雨棚破损。") for _ in range(3)]
    for page, days_ago in zip(pages, (0, 3, 1), strict=True):
        Page.objects.filter(pk=page.pk).update(
            first_published_at=now - timedelta(days=days_ago)
        )
    html = found(client, "遮雨棚")
    newest, oldest, middle = (html.index(url(page)) for page in pages)
    assert newest < middle < oldest
