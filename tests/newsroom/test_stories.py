"""story_create_for_case: one redacted Hot Tracking draft per case, in its year."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from wagtail.models import Page, WorkflowState

from newsroom.models import (
    ColumnPage,
    FollowUpPage,
    HomePage,
    HotTrackingPage,
    YearIndexPage,
)
from newsroom.services import NoHotTrackingColumn, story_create_for_case
from tests.concurrency import race
from tests.factories import CaseFactory, CitizenFactory, aware, staff
from tracking import hooks, roles

NOW = aware(2026, 3, 18, 10)

PERSONAL = [
    "13912345678",
    "110101199003071234",
    "zhou.jianguo@example.com",
    "周建国",
    "历下区幸福小区3号楼2单元401室",
    "13812345678",
]


def personal_case(**kwargs):
    """An escalated case whose text is full of the citizen's personal data."""
    citizen = CitizenFactory(
        name="周建国", phone="13812345678", address="历下区幸福小区3号楼2单元401室"
    )
    defaults = {
        "overdue": True,
        "citizen": citizen,
        "title": "周建国反映：五湖路口直行车道拥堵",
        "description": (
            "市民周建国（电话13912345678，身份证110101199003071234，"
            "邮箱zhou.jianguo@example.com，住历下区幸福小区3号楼2单元401室）反映："
            "五湖路口直行车道排长队，右转车道空着。请回电13812345678。"
        ),
        "location_text": "历下区幸福小区3号楼2单元401室门口",
    }
    return CaseFactory(**{**defaults, **kwargs})


def hot_tracking():
    return ColumnPage.objects.get(is_hot_tracking=True)


# --- the draft ------------------------------------------------------------------------


@pytest.mark.django_db
def test_creates_an_unpublished_story_bound_to_the_case():
    case = personal_case()

    page = story_create_for_case(case=case, now=NOW)

    page = HotTrackingPage.objects.get(pk=page.pk)
    assert page.case_id == case.pk
    assert page.live is False
    assert page.first_published_at is None
    assert page.slug == case.reference.lower()


@pytest.mark.django_db
def test_the_story_goes_under_a_year_index_of_the_hot_tracking_column_made_on_demand():
    column = hot_tracking()
    assert not YearIndexPage.objects.child_of(column).exists()

    page = story_create_for_case(case=personal_case(), now=NOW)

    year_index = page.get_parent().specific
    assert isinstance(year_index, YearIndexPage)
    assert year_index.year == 2026
    assert year_index.slug == "2026"
    assert year_index.live
    assert year_index.get_parent().pk == column.pk


@pytest.mark.django_db
def test_stories_of_one_year_share_its_index_and_a_new_year_gets_a_new_one():
    first = story_create_for_case(case=personal_case(), now=NOW)
    second = story_create_for_case(case=personal_case(), now=aware(2026, 11, 2, 9))
    next_year = story_create_for_case(case=personal_case(), now=aware(2027, 1, 4, 9))

    assert first.get_parent().pk == second.get_parent().pk
    assert next_year.get_parent().specific.year == 2027
    years = YearIndexPage.objects.child_of(hot_tracking()).order_by("year")
    assert [index.year for index in years] == [2026, 2027]


@pytest.mark.django_db
def test_the_year_is_the_year_in_shanghai():
    # 16:30 UTC on New Year's Eve is already 2027 in Shanghai.
    page = story_create_for_case(
        case=personal_case(), now=datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    )

    assert page.get_parent().specific.year == 2027


@pytest.mark.django_db
def test_title_standfirst_and_body_come_from_the_case_redacted():
    case = personal_case()

    page = story_create_for_case(case=case, now=NOW)

    page = HotTrackingPage.objects.get(pk=page.pk)
    body = json.dumps(list(page.body.raw_data), ensure_ascii=False)
    for text in (page.title, page.draft_title, page.standfirst, body):
        for value in PERSONAL:
            assert value not in text, (value, text)
    # The headline names the problem, not the caller; the location is the
    # citizen's own address, masked, so it names no place.
    assert page.title.startswith("五湖路口直行车道拥堵 ")
    assert "五湖路口直行车道拥堵" in page.standfirst
    assert "市民周某（电话***********" in body
    assert "右转车道空着" in body
    assert '"type": "box"' in body


@pytest.mark.django_db
def test_the_draft_is_saved_as_a_revision_without_personal_data():
    page = story_create_for_case(case=personal_case(), now=NOW)

    page = HotTrackingPage.objects.get(pk=page.pk)
    revision = page.latest_revision
    assert revision is not None
    assert page.revisions.count() == 1
    content = json.dumps(revision.content, ensure_ascii=False)
    # The body is stored as JSON text inside the revision's JSON.
    content += json.dumps(json.loads(revision.content["body"]), ensure_ascii=False)
    assert "周某" in content
    for value in PERSONAL:
        assert value not in content


@pytest.mark.django_db
def test_the_draft_enters_review_at_the_editors_writing_task():
    editor = staff(roles.EDITORS)
    chief = staff(roles.CHIEF_EDITORS)

    page = story_create_for_case(case=personal_case(), now=NOW)

    page = HotTrackingPage.objects.get(pk=page.pk)
    state = page.current_workflow_state
    assert state.workflow.name == "热点追踪审稿"
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.current_task_state.task.name == "编辑撰稿"
    # The editors hold the task: they may write the story, the chiefs wait.
    assert page.permissions_for_user(editor).can_edit()
    assert not page.permissions_for_user(editor).page_locked()
    assert page.permissions_for_user(chief).page_locked()


@pytest.mark.django_db
def test_a_second_call_returns_the_same_page():
    case = personal_case()

    first = story_create_for_case(case=case, now=NOW)
    second = story_create_for_case(case=case.pk, now=aware(2027, 1, 4, 9))

    assert second.pk == first.pk
    assert HotTrackingPage.objects.filter(case=case).count() == 1
    assert second.revisions.count() == 1
    assert not YearIndexPage.objects.filter(year=2027).exists()


@pytest.mark.django_db
def test_a_second_story_for_the_same_case_is_refused_by_validation_and_database():
    case = personal_case()
    page = story_create_for_case(case=case, now=NOW)
    other = story_create_for_case(case=personal_case(), now=NOW)
    year_index = page.get_parent()

    with pytest.raises(ValidationError), transaction.atomic():
        year_index.add_child(
            instance=HotTrackingPage(title="又一篇", slug="another", case=case)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        HotTrackingPage.objects.filter(pk=other.pk).update(case=case)

    assert list(HotTrackingPage.objects.filter(case=case)) == [page]


@pytest.mark.django_db
def test_without_a_hot_tracking_column_no_story_is_made():
    ColumnPage.objects.update(is_hot_tracking=False)

    with pytest.raises(NoHotTrackingColumn):
        story_create_for_case(case=personal_case(), now=NOW)

    assert not HotTrackingPage.objects.exists()
    assert not YearIndexPage.objects.exists()


@pytest.mark.django_db
def test_the_tracking_hook_creates_the_story_once():
    case = personal_case()

    page = hooks.call("create_story", case.pk)
    again = hooks.call("create_story", case.pk)

    assert isinstance(page, HotTrackingPage)
    assert page.case_id == case.pk
    assert again.pk == page.pk
    assert HotTrackingPage.objects.filter(case=case).count() == 1


# --- page-type rules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "parents"),
    [
        (ColumnPage, [HomePage]),
        (YearIndexPage, [ColumnPage]),
        (HotTrackingPage, [YearIndexPage]),
        (FollowUpPage, [HotTrackingPage]),
    ],
)
def test_each_page_type_has_exactly_its_parent_type(model, parents):
    assert model.allowed_parent_page_models() == parents


def test_a_story_only_holds_follow_ups_and_a_follow_up_holds_nothing():
    assert HotTrackingPage.allowed_subpage_models() == [FollowUpPage]
    assert FollowUpPage.allowed_subpage_models() == []


@pytest.mark.django_db
def test_pages_can_be_created_only_where_the_tree_allows():
    story = story_create_for_case(case=personal_case(), now=NOW)
    year_index = story.get_parent().specific
    column = year_index.get_parent().specific
    home = column.get_parent().specific

    assert ColumnPage.can_create_at(home)
    assert YearIndexPage.can_create_at(column)
    assert HotTrackingPage.can_create_at(year_index)
    assert FollowUpPage.can_create_at(story)

    for parent in (home, column, story):
        assert not HotTrackingPage.can_create_at(parent)
    for parent in (home, column, year_index):
        assert not FollowUpPage.can_create_at(parent)
    for parent in (home, year_index, story):
        assert not YearIndexPage.can_create_at(parent)
    for parent in (column, year_index, story):
        assert not ColumnPage.can_create_at(parent)


# --- concurrency (PostgreSQL) -----------------------------------------------------

THREADS = 8
ROUNDS = 3


def assert_tree_is_sound():
    problems = Page.find_problems()
    assert problems == ([], [], [], [], []), problems


@pytest.mark.postgres
def test_stories_of_many_cases_created_at_once_all_get_sound_tree_paths(
    hot_tracking_site,
):
    for round_ in range(2 * ROUNDS):
        # Every other round starts a new year: its index is created in the race,
        # and in the round after it exists already.
        year = 2026 + round_ // 2
        now = aware(year, 3, 18, 10)
        cases = [personal_case() for _ in range(THREADS)]

        outcomes = race(
            *[partial(story_create_for_case, case=case, now=now) for case in cases]
        )

        assert all(isinstance(o, HotTrackingPage) for o in outcomes), outcomes
        assert sorted(o.case_id for o in outcomes) == sorted(c.pk for c in cases)
        paths = [Page.objects.get(pk=o.pk).path for o in outcomes]
        assert len(set(paths)) == THREADS
        year_index = YearIndexPage.objects.get(year=year)
        expected = THREADS * (1 + round_ % 2)
        assert year_index.get_children().count() == expected
        assert Page.objects.get(pk=year_index.pk).numchild == expected
        assert_tree_is_sound()
    assert YearIndexPage.objects.count() == ROUNDS


@pytest.mark.postgres
def test_one_case_asked_for_at_once_gets_exactly_one_story(hot_tracking_site):
    for _round in range(ROUNDS):
        case = personal_case()

        outcomes = race(
            *[partial(story_create_for_case, case=case.pk, now=NOW)] * THREADS
        )

        assert all(isinstance(o, HotTrackingPage) for o in outcomes), outcomes
        assert {o.pk for o in outcomes} == {HotTrackingPage.objects.get(case=case).pk}
        assert_tree_is_sound()
    assert HotTrackingPage.objects.count() == ROUNDS
