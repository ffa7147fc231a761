"""The page chooser offers a user only pages they may see: live public pages,
and what their page permissions cover. A department liaison, who holds no page
permission, cannot find drafts or stories in review through it; editors can."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from newsroom.models import HotTrackingPage
from newsroom.services import story_create_for_case
from tests.factories import CaseFactory, DepartmentFactory, aware, liaison, staff
from tracking import roles

pytestmark = pytest.mark.django_db

NOW = aware(2026, 3, 18, 10)
# Wagtail's chooser search matches the beginning of a title.
QUERY = "五湖路"


@pytest.fixture
def draft(django_capture_on_commit_callbacks):
    """A story in review: at the Editors' writing task of "Hot Tracking review"."""
    # Committed, as in production: the search index is updated after the commit.
    with django_capture_on_commit_callbacks(execute=True):
        story = story_create_for_case(
            case=CaseFactory(overdue=True, title="五湖路井盖缺失无人修"), now=NOW
        )
    assert not story.live
    assert story.current_workflow_state is not None
    return story


@pytest.fixture
def published(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        story = story_create_for_case(
            case=CaseFactory(overdue=True, title="五湖路路灯不亮两个月"), now=NOW
        )
        story.save_revision().publish()
    return HotTrackingPage.objects.get(pk=story.pk)


@pytest.fixture
def department_liaison():
    return liaison(DepartmentFactory())


@pytest.fixture
def editor():
    return staff(roles.EDITORS)


def search(client):
    return client.get(reverse("wagtailadmin_choose_page_search"), {"q": QUERY})


def browse(client, page=None):
    if page is None:
        return client.get(reverse("wagtailadmin_choose_page"))
    return client.get(reverse("wagtailadmin_choose_page_child", args=[page.pk]))


def chosen(client, *pages):
    return client.get(
        reverse("wagtailadmin_choose_page_chosen_multiple"),
        {"id": [page.pk for page in pages]},
    )


def text(response) -> str:
    """What the chooser shows: its HTML, or its modal's JSON (HTML and results)."""
    assert response.status_code == 200
    if response["Content-Type"].startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    return response.content.decode()


def test_a_liaison_searching_the_chooser_finds_published_stories_only(
    client, draft, published, department_liaison
):
    client.force_login(department_liaison)

    found = text(search(client))

    assert published.title in found
    assert draft.title not in found


def test_an_editor_searching_the_chooser_finds_drafts_in_review(
    client, draft, published, editor
):
    client.force_login(editor)

    found = text(search(client))

    assert draft.title in found
    assert published.title in found


def test_a_liaison_browsing_the_chooser_sees_published_stories_only(
    client, draft, published, department_liaison
):
    client.force_login(department_liaison)
    year_index = draft.get_parent()

    listed = text(browse(client, year_index))

    assert published.title in listed
    assert draft.title not in listed
    assert "8890 News+" in text(browse(client))


def test_an_editor_browsing_the_chooser_sees_drafts(client, draft, published, editor):
    client.force_login(editor)

    listed = text(browse(client, draft.get_parent()))

    assert draft.title in listed
    assert published.title in listed
    assert draft.title in text(browse(client, draft))
    assert draft.title in text(chosen(client, draft))


def test_a_liaison_cannot_open_a_draft_in_the_chooser_by_its_id(
    client, draft, published, department_liaison
):
    client.force_login(department_liaison)

    assert browse(client, draft).status_code == 404
    assert chosen(client, draft).status_code == 404
    assert chosen(client, published, draft).status_code == 404
    assert published.title in text(browse(client, published))
    assert published.title in text(chosen(client, published))


@pytest.mark.parametrize("junk", ["²", "①", "𝟙", "abc", "9" * 30])
def test_the_chooser_answers_ids_that_are_not_numbers_with_404(client, editor, junk):
    client.force_login(editor)

    response = client.get(
        reverse("wagtailadmin_choose_page_chosen_multiple"), {"id": junk}
    )

    assert response.status_code == 404
