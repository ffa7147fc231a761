"""Editors hear when a tracked case moves: one notice and one e-mail per event."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from newsroom.models import EditorNotice
from newsroom.services import story_create_for_case
from newsroom.tasks import notify_editors_of_case_event
from tests.factories import DepartmentFactory, aware, case_in_state, officer, staff
from tracking import roles
from tracking import services as svc
from tracking.models import CaseEvent, OutboxMessage

pytestmark = pytest.mark.django_db

NOW = aware(2026, 3, 18, 10)


@pytest.fixture
def newsroom():
    """Who should hear, and who should not."""
    both = staff(roles.EDITORS)
    both.groups.add(Group.objects.get(name=roles.CHIEF_EDITORS))
    return {
        "editors": [
            staff(roles.EDITORS),
            staff(roles.EDITORS),
            staff(roles.CHIEF_EDITORS),
            both,
        ],
        "no_email": staff(roles.EDITORS, email=""),
        "inactive": staff(roles.EDITORS, is_active=False),
        "officer": staff(roles.CASE_OFFICERS),
    }


@pytest.fixture
def desk():
    return officer()


@pytest.fixture
def story(mailoutbox):
    case = case_in_state("supervised", department=DepartmentFactory())
    page = story_create_for_case(case=case, now=NOW)
    mailoutbox.clear()
    return page


def mails_to(mailoutbox, users) -> Counter:
    return Counter(
        user.pk for user in users for mail in mailoutbox if user.email in mail.to
    )


def notices_of(users) -> Counter:
    return Counter(
        EditorNotice.objects.filter(user__in=users).values_list("user_id", flat=True)
    )


def act(capture, service, **kwargs) -> CaseEvent:
    """Run a case service and what it queues on commit; return its event."""
    with capture(execute=True):
        service(**kwargs)
    return CaseEvent.objects.filter(case_id=kwargs["case"]).latest("pk")


@pytest.fixture
def replied(newsroom, story, desk, django_capture_on_commit_callbacks):
    """The department's reply, after the newsroom's staff were in place."""
    return act(
        django_capture_on_commit_callbacks,
        svc.case_reply,
        case=story.case_id,
        user=desk,
        text="已安排施划直行标线。",
        now=NOW,
    )


def test_a_reply_notifies_every_editor_and_chief_editor_once(
    newsroom, story, replied, mailoutbox
):
    editors = newsroom["editors"]

    assert replied.action == "reply"
    assert notices_of(editors) == Counter({u.pk: 1 for u in editors})
    assert mails_to(mailoutbox, editors) == Counter({u.pk: 1 for u in editors})
    notice = EditorNotice.objects.filter(user=editors[0]).get()
    assert notice.event_id == replied.pk
    assert notice.story_id == story.pk
    assert notice.read_at is None


def test_the_notice_and_mail_name_the_story_and_link_to_it(
    newsroom, story, replied, mailoutbox
):
    notice = EditorNotice.objects.filter(user=newsroom["editors"][0]).get()
    [mail] = [m for m in mailoutbox if newsroom["editors"][0].email in m.to]

    assert story.title in notice.message
    assert notice.message in mail.subject
    assert f"/admin/pages/{story.pk}/" in mail.body


def test_inactive_users_and_other_staff_hear_nothing(newsroom, replied, mailoutbox):
    quiet = [newsroom["inactive"], newsroom["officer"]]

    assert not EditorNotice.objects.filter(user__in=quiet).exists()
    assert not mails_to(mailoutbox, quiet)


def test_an_editor_without_e_mail_still_gets_the_notice(newsroom, replied):
    assert EditorNotice.objects.filter(user=newsroom["no_email"]).count() == 1


def test_running_the_task_again_adds_nothing(newsroom, replied, mailoutbox):
    sent = len(mailoutbox)

    assert notify_editors_of_case_event(replied.pk) == 0
    assert notify_editors_of_case_event.delay(replied.pk).get() == 0

    assert len(mailoutbox) == sent
    assert EditorNotice.objects.filter(event_id=replied.pk).count() == 5


def test_an_editor_who_joins_later_is_notified_on_the_retry(
    newsroom, replied, mailoutbox, django_capture_on_commit_callbacks
):
    newcomer = staff(roles.EDITORS)

    # The notices are written now; their mail is owed to the outbox and sent
    # after the commit, with no transaction holding the database meanwhile.
    with django_capture_on_commit_callbacks() as owed:
        assert notify_editors_of_case_event(replied.pk) == 1
    assert mails_to(mailoutbox, [newcomer]) == Counter()
    assert OutboxMessage.objects.filter(task="newsroom.tasks.mail_editor_notices")
    for callback in owed:
        callback()

    assert notices_of([newcomer]) == Counter({newcomer.pk: 1})
    assert mails_to(mailoutbox, [newcomer]) == Counter({newcomer.pk: 1})
    assert mails_to(mailoutbox, newsroom["editors"]) == Counter(
        {u.pk: 1 for u in newsroom["editors"]}
    )


@pytest.mark.parametrize(
    "outcome, service, action",
    [
        ("satisfied", svc.case_close, "close"),
        ("dissatisfied", svc.case_reopen, "reopen"),
    ],
)
def test_closing_or_reopening_after_the_callback_notifies_once_more(
    newsroom,
    story,
    replied,
    desk,
    mailoutbox,
    django_capture_on_commit_callbacks,
    outcome,
    service,
    action,
):
    editors = newsroom["editors"]
    act(
        django_capture_on_commit_callbacks,
        svc.callback_record,
        case=story.case_id,
        user=desk,
        outcome=outcome,
        now=NOW,
    )
    assert notices_of(editors) == Counter({u.pk: 1 for u in editors})

    event = act(
        django_capture_on_commit_callbacks,
        service,
        case=story.case_id,
        user=desk,
        now=NOW,
    )

    assert event.action == action
    assert notices_of(editors) == Counter({u.pk: 2 for u in editors})
    assert mails_to(mailoutbox, editors) == Counter({u.pk: 2 for u in editors})
    assert EditorNotice.objects.filter(event_id=event.pk).count() == 5


def test_a_case_without_a_story_notifies_no_editor(
    newsroom, desk, mailoutbox, django_capture_on_commit_callbacks
):
    case = case_in_state("dispatched", department=DepartmentFactory())

    event = act(
        django_capture_on_commit_callbacks,
        svc.case_reply,
        case=case.pk,
        user=desk,
        text="已处理。",
        now=NOW,
    )

    assert event.action == "reply"
    assert not EditorNotice.objects.exists()
    assert not mails_to(mailoutbox, newsroom["editors"])
    assert notify_editors_of_case_event(event.pk) == 0


def test_accepting_and_dispatching_a_case_with_a_story_notifies_no_editor(
    newsroom, desk, mailoutbox, django_capture_on_commit_callbacks
):
    case = case_in_state("registered", department=None)
    story_create_for_case(case=case, now=NOW)
    mailoutbox.clear()

    act(
        django_capture_on_commit_callbacks,
        svc.case_accept,
        case=case.pk,
        user=desk,
        now=NOW,
    )
    act(
        django_capture_on_commit_callbacks,
        svc.case_dispatch,
        case=case.pk,
        user=desk,
        department=DepartmentFactory(),
        now=NOW,
    )

    assert list(
        CaseEvent.objects.filter(case=case).values_list("action", flat=True)
    ) == ["accept", "dispatch"]
    assert not EditorNotice.objects.exists()
    assert not mails_to(mailoutbox, newsroom["editors"])


def test_a_notice_owed_while_the_broker_is_down_is_sent_by_the_sweep(
    newsroom, story, desk, mailoutbox, broker_down, django_capture_on_commit_callbacks
):
    from tracking import outbox

    editors = newsroom["editors"]

    replied = act(
        django_capture_on_commit_callbacks,
        svc.case_reply,
        case=story.case_id,
        user=desk,
        text="已安排施划直行标线。",
        now=NOW,
    )

    assert replied.action == "reply"  # the reply stands
    assert not EditorNotice.objects.exists()
    assert outbox.deliver_due(now=NOW + timedelta(minutes=5)) >= 1
    assert notices_of(editors) == Counter({u.pk: 1 for u in editors})
    # The mail is its own outbox message, sent outside the notices' transaction:
    # the broker is still down, so the next sweep sends it.
    later = timezone.now() + timedelta(minutes=5)
    assert outbox.deliver_due(now=later) == 1
    assert mails_to(mailoutbox, editors) == Counter({u.pk: 1 for u in editors})
    assert outbox.deliver_due(now=later + timedelta(hours=5)) == 0
    assert notices_of(editors) == Counter({u.pk: 1 for u in editors})
    assert mails_to(mailoutbox, editors) == Counter({u.pk: 1 for u in editors})


def test_the_review_mail_for_a_new_story_leaves_only_after_its_commit(
    newsroom, mailoutbox, django_capture_on_commit_callbacks
):
    writers = [u for u in newsroom["editors"] if u.groups.filter(name=roles.EDITORS)]
    case = case_in_state("supervised", department=DepartmentFactory())

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            story_create_for_case(case=case, now=NOW)
            raise RuntimeError("the scan's transaction fails afterwards")
    assert mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        story_create_for_case(case=case, now=NOW)
        assert mailoutbox == []

    assert mails_to(mailoutbox, writers) == Counter({u.pk: 1 for u in writers})
