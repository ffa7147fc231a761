"""Where a review step sends a story, said where editors look: the message after
an editor's approval names the next step and its reviewers, and the page
explorer shows the step each page in moderation waits at.

Driven through the real admin views with the test client. The steps' names are
read from the workflow (a migration translates them), never written here.
"""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape, strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
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


def new_story() -> HotTrackingPage:
    return story_create_for_case(case=CaseFactory(overdue=True), now=NOW)


@pytest.fixture
def story():
    return new_story()


def fresh(page) -> HotTrackingPage:
    return HotTrackingPage.objects.get(pk=page.pk)


def steps(page):
    """The story's review tasks in order, as the workflow holds them."""
    return list(fresh(page).get_workflow().tasks)


def approve_url(page) -> str:
    task_state = fresh(page).current_workflow_task_state
    return reverse(
        "wagtailadmin_pages:workflow_action",
        args=[page.pk, "approve", task_state.pk],
    )


def messages_of(response) -> list[str]:
    """The messages a response leaves for the next page, as text (Wagtail renders
    them as HTML, with buttons)."""
    return [
        " ".join(unescape(strip_tags(str(m))).split())
        for m in get_messages(response.wsgi_request)
    ]


def approve(client, user, page):
    """``user`` approves the page's current step, and reads the page it leads to
    (which shows, and so clears, the messages)."""
    client.force_login(user)
    return client.post(approve_url(page), {"comment": ""}, follow=True)


def submitted_message(page, task) -> str:
    separator = pgettext("between the names in a list", ", ")
    groups = separator.join(
        group.name for group in task.specific.groups.order_by("name")
    )
    return _("Page '%(title)s' has been submitted to %(task)s (%(groups)s).") % {
        "title": fresh(page).get_admin_display_title(),
        "task": task.name,
        "groups": groups,
    }


def edit_form(page, **fields) -> dict:
    """What the edit form posts when the editor clicks "Approve" in its menu."""
    return nested_form_data(
        {
            "title": "幸福路地砖为何久拖不修",
            "slug": page.slug,
            "standfirst": "地砖松动，老人多次绊倒。",
            "body": streamfield(
                [("paragraph", rich_text("<p>记者现场看到，地砖翘起。</p>"))]
            ),
            "print_date": "",
            "print_page": "",
            "seo_title": "",
            "search_description": "",
            "go_live_at": "",
            "expire_at": "",
            "comments": inline_formset([]),
            "action-workflow-action": "1",
            "workflow-action-name": "approve",
            "workflow-action-extra-data": "{}",
            **fields,
        }
    )


# --- the message after an approval ---------------------------------------------------


def test_an_editors_approval_says_it_went_to_the_chief_editors(client, editor, story):
    _writing, approval = steps(story)
    client.force_login(editor)

    response = client.post(approve_url(story), {"comment": ""})

    assert response.status_code == 302
    assert fresh(story).current_workflow_task_state.task_id == approval.pk
    message = submitted_message(story, approval)
    assert messages_of(response) == [message]
    assert approval.name in message
    for group in approval.specific.groups.all():
        assert group.name in message
    # And the editor reads it on the page the approval leads to.
    assert escape(message) in client.get(response.url).content.decode()


def test_the_message_after_an_approval_in_the_edit_form_names_the_next_step(
    client, editor, story
):
    _writing, approval = steps(story)
    client.force_login(editor)

    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[story.pk]), edit_form(story)
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    page = fresh(story)
    assert page.current_workflow_task_state.task_id == approval.pk
    assert page.get_latest_revision_as_object().title == "幸福路地砖为何久拖不修"
    shown = messages_of(response)
    assert len(shown) == 1
    assert shown[0].startswith(submitted_message(story, approval))
    updated = _("Page '%(page_title)s' has been updated.") % {
        "page_title": page.get_admin_display_title()
    }
    assert not any(updated in text for text in shown)


def test_the_chief_editors_approval_says_the_story_is_published(
    client, editor, chief, story
):
    approve(client, editor, story)
    client.force_login(chief)

    response = client.post(approve_url(story), {"comment": ""})

    assert fresh(story).live
    title = fresh(story).get_admin_display_title()
    assert messages_of(response) == [
        _("Page '%(title)s' has been approved and published.") % {"title": title}
    ]


def test_the_chief_editors_approval_in_the_edit_form_says_the_story_is_published(
    client, editor, chief, story
):
    approve(client, editor, story)
    client.force_login(chief)

    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[story.pk]), edit_form(story)
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    page = fresh(story)
    assert page.live
    shown = messages_of(response)
    assert len(shown) == 1
    assert shown[0].startswith(
        _("Page '%(title)s' has been approved and published.")
        % {"title": page.get_admin_display_title()}
    )


def test_requesting_changes_says_nothing_of_a_next_step(client, editor, chief, story):
    approve(client, editor, story)
    client.force_login(chief)
    task_state = fresh(story).current_workflow_task_state

    response = client.post(
        reverse(
            "wagtailadmin_pages:workflow_action",
            args=[story.pk, "reject", task_state.pk],
        ),
        {"comment": "请补充部门回应"},
    )

    assert response.status_code == 302
    assert not any("submitted" in m or "提交" in m for m in messages_of(response))


# --- the step in the page explorer -------------------------------------------------


def explorer(client, page):
    return client.get(reverse("wagtailadmin_explore", args=[page.get_parent().pk]))


def step_cells(response) -> list[str]:
    html = response.content.decode()
    return [
        part.split("</div>")[0] for part in html.split('<div class="review-step">')[1:]
    ]


def test_the_explorer_shows_the_step_each_story_waits_at(client, editor, story):
    writing, approval = steps(story)
    other = new_story()
    approve(client, editor, other)

    response = explorer(client, story)

    assert response.status_code == 200
    cells = step_cells(response)
    assert len(cells) == 2
    assert sum(writing.name in cell for cell in cells) == 1
    assert sum(approval.name in cell for cell in cells) == 1


def test_the_explorer_shows_a_story_sent_back_for_changes(client, editor, chief, story):
    _writing, approval = steps(story)
    approve(client, editor, story)
    task_state = fresh(story).current_workflow_task_state
    task_state.task.specific.on_action(task_state, chief, "reject")

    cells = step_cells(explorer(client, story))

    assert cells == [
        _("Step: %(step)s")
        % {"step": _("Changes requested at %(task)s") % {"task": approval.name}}
    ]


def test_a_published_story_shows_no_step(client, editor, chief, story):
    for user in (editor, chief):
        approve(client, user, story)
    assert fresh(story).live

    assert step_cells(explorer(client, story)) == []


def test_the_steps_cost_no_query_per_story(client, editor, story):
    client.force_login(editor)

    def workflow_queries():
        with CaptureQueriesContext(connection) as queries:
            assert explorer(client, story).status_code == 200
        return [
            q["sql"]
            for q in queries
            if "wagtailcore_task" in q["sql"] or "wagtailcore_workflowstate" in q["sql"]
        ]

    one = workflow_queries()
    for _story in range(3):
        new_story()
    assert len(workflow_queries()) == len(one)
