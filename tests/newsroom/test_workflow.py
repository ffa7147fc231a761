"""The editorial workflow of a story: editors write and submit, chief editors approve.

A story enters "Hot Tracking review" when it is created, at the Editors' writing
task; an editor approving that task submits the story to the Chief editors, whose
approval publishes it.

Driven through the Wagtail admin with the test client where an editor or a chief
editor would click, so the page permissions of the migrations are what is tested.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import TaskState, WorkflowState
from wagtail.test.utils.form_data import (
    inline_formset,
    nested_form_data,
    rich_text,
    streamfield,
)

from newsroom.models import HotTrackingPage
from newsroom.services import story_create_for_case
from tests.factories import CaseFactory, aware, staff
from tracking import roles

pytestmark = pytest.mark.django_db

NOW = aware(2026, 3, 18, 10)


@pytest.fixture
def editor():
    return staff(roles.EDITORS)


@pytest.fixture
def chief():
    return staff(roles.CHIEF_EDITORS)


@pytest.fixture
def story():
    return story_create_for_case(case=CaseFactory(overdue=True), now=NOW)


def fresh(page) -> HotTrackingPage:
    return HotTrackingPage.objects.get(pk=page.pk)


def edit_form(page, action: str, **fields) -> dict:
    """What the admin's edit form posts for ``page`` when ``action`` is clicked."""
    data = {
        "title": "五湖路口为何久堵不疏",
        "slug": page.slug,
        "standfirst": "直行车道排长队，右转车道空着。",
        "body": streamfield(
            [("paragraph", rich_text("<p>记者现场看到，直行车道排起长队。</p>"))]
        ),
        "print_date": "",
        "print_page": "",
        "seo_title": "",
        "search_description": "",
        "go_live_at": "",
        "expire_at": "",
        "comments": inline_formset([]),
        **fields,
    }
    if action:
        data[f"action-{action}"] = "1"
    return nested_form_data(data)


def post_edit(client, page, action: str, **fields):
    return client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        edit_form(page, action, **fields),
    )


def save_draft(client, page, **fields):
    return post_edit(client, page, "", **fields)


def submit(client, editor, page, **fields):
    """What an editor does: write the draft, then pass the writing task on."""
    client.force_login(editor)
    response = save_draft(client, page, **fields)
    assert response.status_code == 302, response.content.decode()[:2000]
    return approve(client, page)


def approve(client, page):
    task_state = fresh(page).current_workflow_task_state
    return client.post(
        reverse(
            "wagtailadmin_pages:workflow_action",
            args=[page.pk, "approve", task_state.pk],
        ),
        {"comment": ""},
    )


# --- editors ------------------------------------------------------------------------


def test_an_editor_writes_the_draft_and_submits_it_for_review(client, editor, story):
    response = submit(client, editor, story)

    assert response.status_code == 302
    page = fresh(story)
    assert page.live is False
    state = page.current_workflow_state
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.workflow.name == "热点追踪审稿"
    assert state.current_task_state.task.name == "主编审批"
    revision = page.latest_revision
    assert revision.user == editor
    assert revision.as_object().title == "五湖路口为何久堵不疏"


def test_an_editor_may_not_publish(client, editor, story):
    assert not story.permissions_for_user(editor).can_publish()
    client.force_login(editor)

    post_edit(client, story, "publish")

    page = fresh(story)
    assert page.live is False
    assert page.first_published_at is None
    assert page.latest_revision.as_object().title == "五湖路口为何久堵不疏"


def test_an_editor_may_not_approve_for_the_chief_editors(client, editor, story):
    submit(client, editor, story)

    approve(client, story)

    page = fresh(story)
    assert page.live is False
    assert page.current_workflow_state.status == WorkflowState.STATUS_IN_PROGRESS
    assert page.current_workflow_task_state.task.name == "主编审批"
    assert page.current_workflow_task_state.status == TaskState.STATUS_IN_PROGRESS


def test_once_submitted_only_chief_editors_may_change_the_story(
    client, editor, chief, story
):
    submit(client, editor, story)

    page = fresh(story)
    assert page.permissions_for_user(editor).page_locked()
    assert not page.permissions_for_user(chief).page_locked()


# --- chief editors ----------------------------------------------------------------


def test_a_chief_editors_approval_publishes_the_submitted_revision(
    client, editor, chief, story
):
    submit(client, editor, story)
    client.force_login(chief)

    response = approve(client, story)

    assert response.status_code == 302
    page = fresh(story)
    assert page.live
    assert page.title == "五湖路口为何久堵不疏"
    assert page.live_revision.user == editor
    assert page.current_workflow_state is None
    state = WorkflowState.objects.for_instance(page).get()
    assert state.status == WorkflowState.STATUS_APPROVED
    finished = TaskState.objects.filter(workflow_state=state).order_by("pk")
    assert [t.status for t in finished] == [TaskState.STATUS_APPROVED] * 2
    assert [t.finished_by for t in finished] == [editor, chief]


def test_approval_through_the_task_api_publishes_too(editor, chief, story):
    story.title = "五湖路口为何久堵不疏"
    story.save_revision(user=editor)
    for user in (editor, chief):
        task_state = fresh(story).current_workflow_task_state
        task_state.task.specific.on_action(task_state, user, "approve")

    assert fresh(story).live


def test_changes_requested_go_back_to_the_editors(client, editor, chief, story):
    submit(client, editor, story)
    task_state = fresh(story).current_workflow_task_state
    task_state.task.specific.on_action(task_state, chief, "reject")
    assert not fresh(story).permissions_for_user(editor).page_locked()

    # Resubmitting resumes the review where it was sent back: with the chiefs.
    response = post_edit(client, story, "submit", title="五湖路口拥堵调查")
    assert response.status_code == 302
    client.force_login(chief)
    approve(client, story)

    page = fresh(story)
    assert page.live
    assert page.title == "五湖路口拥堵调查"


def test_a_chief_editor_cannot_publish_a_story_the_editors_still_hold(
    client, chief, story
):
    assert fresh(story).permissions_for_user(chief).page_locked()
    client.force_login(chief)

    post_edit(client, story, "publish")

    assert not fresh(story).live


# --- scheduled publishing -----------------------------------------------------------


def test_an_approved_story_with_a_later_go_live_time_is_published_on_schedule(
    editor, chief, story
):
    go_live_at = NOW + timedelta(hours=20)
    with time_machine.travel(NOW, tick=False):
        story.go_live_at = go_live_at
        story.save_revision(user=editor)
        for user in (editor, chief):
            task_state = fresh(story).current_workflow_task_state
            task_state.task.specific.on_action(task_state, user, "approve")

        page = fresh(story)
        assert page.live is False
        assert page.latest_revision.approved_go_live_at == go_live_at

    with time_machine.travel(go_live_at - timedelta(minutes=1), tick=False):
        call_command("publish_scheduled", verbosity=0)
        assert fresh(story).live is False

    with time_machine.travel(go_live_at + timedelta(minutes=1), tick=False):
        call_command("publish_scheduled", verbosity=0)

    page = fresh(story)
    assert page.live
    assert page.first_published_at == go_live_at + timedelta(minutes=1)
    assert page.latest_revision.approved_go_live_at is None
