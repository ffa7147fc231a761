"""Editors' and chief editors' home screens: drafts waiting, follow-ups owed,
scheduled publications and approvals with their age, in a bounded number of
queries."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.admin.views.home import (
    LockedPagesPanel,
    RecentEditsPanel,
    UserObjectsInWorkflowModerationPanel,
    WorkflowObjectsToModeratePanel,
)

from newsroom import queues
from newsroom.models import FollowUpPage, HotTrackingPage
from newsroom.services import story_create_for_case
from tests.factories import CaseFactory, EventFactory, staff
from tracking import roles

pytestmark = pytest.mark.django_db

COUNT = re.compile(r'data-queue-count="(?P<key>\w+)" data-count="(?P<count>\d+)"')


@pytest.fixture
def editor():
    return staff(roles.EDITORS)


@pytest.fixture
def chief():
    return staff(roles.CHIEF_EDITORS)


def new_story() -> HotTrackingPage:
    return story_create_for_case(case=CaseFactory(overdue=True))


def pass_on(story, user):
    """The reviewer of the story's current task approves it."""
    task_state = story.current_workflow_state.current_task_state
    task_state.task.specific.on_action(task_state, user, "approve")
    return HotTrackingPage.objects.get(pk=story.pk)


def published(story, at):
    story.save_revision().publish()
    HotTrackingPage.objects.filter(pk=story.pk).update(
        first_published_at=at, last_published_at=at
    )
    return HotTrackingPage.objects.get(pk=story.pk)


def home_counts(client) -> dict[str, int]:
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    return {m["key"]: int(m["count"]) for m in COUNT.finditer(html)}


def test_a_story_waits_for_the_editors_then_for_the_chief_editors(
    client, editor, chief
):
    story = new_story()

    assert [s.workflow_state.object_id for s in queues.awaiting_review(editor)] == [
        str(story.pk)
    ]
    assert not queues.awaiting_review(chief).exists()

    pass_on(story, editor)

    assert not queues.awaiting_review(editor).exists()
    client.force_login(chief)
    assert home_counts(client)["awaiting_approval"] == 1
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    section = html[html.index('data-queue="awaiting_approval"') :]
    assert story.title in unescape(section[: section.index("</section>")])


def test_a_published_story_owes_a_follow_up_when_its_case_moves_after_it_ran(
    client, editor
):
    ran = timezone.now() - timedelta(days=3)
    story = published(new_story(), ran)
    # Before it ran, and a change the public is not owed a follow-up for.
    EventFactory(case=story.case, action="reply", created_at=ran - timedelta(days=1))
    EventFactory(case=story.case, action="note", created_at=ran + timedelta(hours=1))
    assert not queues.follow_ups_due().exists()

    EventFactory(case=story.case, action="reply", created_at=ran + timedelta(days=1))

    assert list(queues.follow_ups_due()) == [story]
    client.force_login(editor)
    assert home_counts(client)["follow_ups_due"] == 1

    follow_up = FollowUpPage(title="追踪：已整改", slug="follow-up")
    story.add_child(instance=follow_up)
    follow_up.save_revision().publish()

    assert not queues.follow_ups_due().exists()


def test_a_publication_scheduled_for_later_is_listed(client, editor):
    story = new_story()
    story.go_live_at = timezone.now() + timedelta(days=2)
    story.save_revision().publish()

    assert [int(r.object_id) for r in queues.scheduled_publications()] == [story.pk]
    client.force_login(editor)
    assert home_counts(client)["scheduled"] == 1


def test_the_newsroom_queues_replace_wagtails_review_panels(rf, editor):
    from newsroom.wagtail_hooks import add_newsroom_home_panels
    from tracking.wagtail_hooks import add_hotline_home_panels

    request = rf.get("/admin/")
    request.user = editor
    panels = [
        WorkflowObjectsToModeratePanel(),
        UserObjectsInWorkflowModerationPanel(),
        RecentEditsPanel(),
        LockedPagesPanel(),
    ]

    add_hotline_home_panels(request, panels)
    add_newsroom_home_panels(request, panels)

    kinds = {type(p).__name__ for p in panels}
    assert "WorkflowObjectsToModeratePanel" not in kinds
    assert "UserObjectsInWorkflowModerationPanel" not in kinds
    assert {"RecentEditsPanel", "LockedPagesPanel"} <= kinds
    assert [getattr(p, "name", "") for p in panels][-1] == "editor_queues"


def queries_for_home(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("wagtailadmin_home")).status_code == 200
    return len(captured)


def fill_queues(editor, n):
    for _ in range(n):
        waiting = new_story()
        in_review = pass_on(new_story(), editor)
        assert waiting and in_review
        story = published(new_story(), timezone.now() - timedelta(days=2))
        EventFactory(case=story.case, action="close", created_at=timezone.now())


@pytest.mark.parametrize("role", ["editor", "chief"])
def test_the_newsroom_home_costs_the_same_queries_however_long_the_queues(
    client, editor, chief, role, django_assert_max_num_queries
):
    client.force_login({"editor": editor, "chief": chief}[role])
    fill_queues(editor, 1)
    few = queries_for_home(client)
    fill_queues(editor, 4)

    with django_assert_max_num_queries(few):
        client.get(reverse("wagtailadmin_home"))
