"""The editorial side of the back office: starting stories from cases, censor
rules, the case panel on story drafts, and editors' follow-up notices."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from newsroom.models import EditorNotice, HotTrackingPage
from tests.factories import (
    CaseFactory,
    CitizenFactory,
    DepartmentFactory,
    officer,
    staff,
    supervisor,
)
from tracking import roles
from tracking.models import CaseEvent, CensorRule, State

pytestmark = pytest.mark.django_db


def escalated_case(**kwargs):
    now = timezone.now()
    return CaseFactory(
        state=State.SUPERVISED,
        is_efficiency=True,
        dispatched_at=now - timedelta(days=30),
        due_at=now - timedelta(days=20),
        escalated_at=now - timedelta(days=1),
        **kwargs,
    )


def story_url(case):
    return reverse("tracking_cases:story", args=[case.pk])


def test_supervisor_starts_the_story_of_an_escalated_case_once(client):
    case = escalated_case()
    client.force_login(supervisor())
    page = client.get(reverse("tracking_cases:detail", args=[case.pk])).content.decode()
    assert story_url(case) in page

    response = client.post(story_url(case), {"expect_state": case.state})
    assert response.status_code == 302
    story = HotTrackingPage.objects.get(case=case)
    assert not story.live
    assert story.current_workflow_state is not None
    assert CaseEvent.objects.filter(case=case, action="story").count() == 1

    client.post(story_url(case), {"expect_state": case.state})
    assert HotTrackingPage.objects.filter(case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, action="story").count() == 1
    detail = client.get(reverse("tracking_cases:detail", args=[case.pk])).content
    assert story_url(case) not in detail.decode()
    assert reverse("wagtailadmin_pages:edit", args=[story.pk]) in detail.decode()


def test_officer_may_not_start_a_story(client):
    case = escalated_case()
    client.force_login(officer())
    assert (
        story_url(case)
        not in client.get(
            reverse("tracking_cases:detail", args=[case.pk])
        ).content.decode()
    )
    response = client.post(story_url(case), {"expect_state": case.state})
    assert response.status_code == 403
    assert not HotTrackingPage.objects.filter(case=case).exists()


def test_a_case_not_handed_to_the_media_gets_no_story(client):
    case = CaseFactory(dispatched=True)
    client.force_login(supervisor())
    response = client.post(story_url(case), {"expect_state": case.state}, follow=True)
    assert "media" in response.content.decode() or response.status_code == 200
    assert not HotTrackingPage.objects.filter(case=case).exists()
    assert not CaseEvent.objects.filter(case=case, action="story").exists()


def test_supervisor_adds_global_and_case_rules_by_reference(client):
    case = escalated_case()
    user = supervisor()
    client.force_login(user)
    add = reverse("tracking_censor_rules:add")
    data = {
        "pattern": "幸福小区",
        "replacement": "某小区",
        "reason": "identifies the caller",
        "is_active": "on",
    }
    assert client.post(add, data).status_code == 302
    assert (
        client.post(add, {**data, "case_reference": case.reference}).status_code == 302
    )
    rules = CensorRule.objects.order_by("pk")
    assert [r.case_id for r in rules] == [None, case.pk]
    assert all(r.created_by_id == user.pk for r in rules)

    bad_regex = client.post(add, {**data, "pattern": "(", "is_regex": "on"})
    assert bad_regex.status_code == 200
    unknown = client.post(add, {**data, "case_reference": "8890-19990101-99999"})
    assert unknown.status_code == 200
    assert CensorRule.objects.count() == 2


def test_editor_sees_case_timeline_and_personal_data_left_in_the_draft(client):
    from newsroom.services import story_create_for_case

    citizen = CitizenFactory(name="周建国", phone="13912345678")
    case = escalated_case(citizen=citizen, department=DepartmentFactory())
    story = story_create_for_case(case=case)
    client.force_login(staff(roles.EDITORS))
    edit = reverse("wagtailadmin_pages:edit", args=[story.pk])

    clean = client.get(edit).content.decode()
    assert case.reference in clean
    assert "13912345678" not in clean

    story.standfirst = "市民周建国（电话13912345678）反映"
    story.save_revision()
    dirty = client.get(edit).content.decode()
    assert "<code>13912345678</code>" in dirty
    assert "<code>周建国</code>" in dirty


def test_editor_dashboard_lists_follow_up_notices_until_read(client):
    from newsroom.services import story_create_for_case

    editor = staff(roles.EDITORS)
    story = story_create_for_case(case=escalated_case())
    EditorNotice.objects.create(
        user=editor, story=story, message="部门已答复：请追踪报道", event_id=1
    )
    client.force_login(editor)
    assert (
        "部门已答复：请追踪报道"
        in client.get(reverse("wagtailadmin_home")).content.decode()
    )

    client.post(reverse("newsroom_notices_read"))
    assert EditorNotice.objects.get().read_at is not None
    assert (
        "部门已答复：请追踪报道"
        not in client.get(reverse("wagtailadmin_home")).content.decode()
    )
