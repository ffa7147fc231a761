"""Extension requests (延期申请): the department's liaison asks for more working
days, a supervisor grants them (all or fewer, through the working calendar) or
refuses with an answer; the supervisor's home screen lists what waits."""

from __future__ import annotations

import re
from html import unescape

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from wagtail.users.models import UserProfile

from tests.factories import (
    CategoryFactory,
    DepartmentFactory,
    aware,
    case_in_state,
    liaison,
    officer,
    supervisor,
)
from tracking import services as svc
from tracking.calendar import deadline_after
from tracking.exceptions import CasePermissionDenied, InvalidInput, TransitionRefused
from tracking.models import (
    Case,
    CaseEvent,
    ExtensionDecision,
    ExtensionRequest,
    OutboxMessage,
)
from tracking.queues import extensions_pending

pytestmark = pytest.mark.django_db

NOW = aware(2026, 9, 29, 10)  # a Tuesday, the day before the deadline
DUE = aware(2026, 9, 30, 18)  # National Day follows: 1-8 October are days off
NOTICES = "tracking.tasks.notify_case_event"


def in_progress_case(**kwargs) -> Case:
    return case_in_state(
        "in_progress",
        dispatched_at=aware(2026, 9, 23, 10),
        due_at=DUE,
        **kwargs,
    )


def request_for(
    case: Case, user=None, days=2, reason="需协调燃气公司停气"
) -> ExtensionRequest:
    return svc.case_request_extension(
        case=case,
        user=user or liaison(case.department),
        working_days=days,
        reason=reason,
        now=NOW,
    )


def due_of(case: Case):
    return Case.objects.get(pk=case.pk).due_at


# --- the liaison asks ---------------------------------------------------------------


def test_the_liaison_requests_an_extension_staff_only_and_the_deadline_waits(
    calendar_2026,
):
    case = in_progress_case()

    request = request_for(case, days=3)

    assert request.is_pending
    assert request.working_days == 3
    assert request.created_at == NOW
    assert due_of(case) == DUE  # nothing moves until a supervisor decides
    event = CaseEvent.objects.get(case=case, action="extension_requested")
    assert not event.public
    assert "需协调燃气公司停气" in event.note
    assert not OutboxMessage.objects.filter(task=NOTICES).exists()


def test_only_the_liaison_of_the_case_department_may_request(calendar_2026):
    case = in_progress_case()
    other = liaison(DepartmentFactory())

    with pytest.raises(CasePermissionDenied):
        request_for(case, user=other)
    with pytest.raises(CasePermissionDenied):
        request_for(case, user=officer())
    assert not ExtensionRequest.objects.exists()
    assert not CaseEvent.objects.filter(case=case).exists()


def test_one_pending_request_at_a_time(calendar_2026):
    case = in_progress_case()
    request_for(case)

    with translation.override("en"), pytest.raises(
        TransitionRefused, match="already has an extension request"
    ):
        request_for(case, days=5)
    assert ExtensionRequest.objects.filter(case=case).count() == 1
    # And the database holds the line too.
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtensionRequest.objects.create(
            case=case,
            requested_by=supervisor(),
            working_days=1,
            reason="x",
            created_at=NOW,
        )


def test_no_request_on_a_closed_case(calendar_2026):
    case = case_in_state("closed", due_at=DUE)

    with pytest.raises(TransitionRefused):
        request_for(case)
    assert not ExtensionRequest.objects.exists()


@pytest.mark.parametrize(("days", "reason"), [(2, ""), (2, "  "), (0, "理由")])
def test_a_request_needs_days_and_a_reason(calendar_2026, days, reason):
    case = in_progress_case()

    with pytest.raises(InvalidInput):
        request_for(case, days=days, reason=reason)
    assert not ExtensionRequest.objects.exists()


# --- the supervisor decides -----------------------------------------------------------


def test_granting_moves_the_deadline_through_the_working_calendar(calendar_2026):
    case = in_progress_case()
    request = request_for(case, days=2)
    boss = supervisor()

    decided = svc.case_decide_extension(
        request=request, user=boss, grant=True, now=aware(2026, 9, 29, 15)
    )

    # Two working days after 30 September, over the National Day holiday.
    assert due_of(case) == aware(2026, 10, 9, 18)
    assert decided.decision == ExtensionDecision.GRANTED
    assert decided.granted_days == 2
    assert decided.decided_by == boss
    assert decided.decided_at == aware(2026, 9, 29, 15)
    assert not ExtensionRequest.objects.pending().exists()
    event = CaseEvent.objects.get(case=case, action="extension_granted")
    assert "2026-10-09 18:00" in event.note
    assert not event.public
    # The department is told of the decision.
    assert OutboxMessage.objects.filter(task=NOTICES).count() == 1


def test_granting_fewer_days_than_asked(calendar_2026):
    case = in_progress_case()
    request_for(case, days=3)

    decided = svc.case_decide_extension(
        case=case, user=supervisor(), grant=True, working_days=1, now=NOW
    )

    assert decided.granted_days == 1
    assert due_of(case) == deadline_after(DUE, 1)
    assert due_of(case) != deadline_after(DUE, 3)


def test_granting_more_than_asked_is_refused(calendar_2026):
    case = in_progress_case()
    request_for(case, days=2)

    with translation.override("en"), pytest.raises(InvalidInput, match="no more than"):
        svc.case_decide_extension(
            case=case, user=supervisor(), grant=True, working_days=5, now=NOW
        )
    assert due_of(case) == DUE
    assert ExtensionRequest.objects.pending().count() == 1


def test_refusing_needs_an_answer_and_leaves_the_deadline(calendar_2026):
    case = in_progress_case()
    request = request_for(case)
    boss = supervisor()

    with pytest.raises(InvalidInput):
        svc.case_decide_extension(request=request, user=boss, grant=False, now=NOW)
    assert ExtensionRequest.objects.get(pk=request.pk).is_pending

    decided = svc.case_decide_extension(
        request=request, user=boss, grant=False, answer="期限内可以完成", now=NOW
    )

    assert decided.decision == ExtensionDecision.REFUSED
    assert decided.answer == "期限内可以完成"
    assert decided.granted_days is None
    assert due_of(case) == DUE
    event = CaseEvent.objects.get(case=case, action="extension_refused")
    assert event.note == "期限内可以完成"
    assert OutboxMessage.objects.filter(task=NOTICES).count() == 1
    # Once decided, the department may ask again.
    assert request_for(case).is_pending


def test_the_liaison_cannot_decide_and_a_decided_request_stays_decided(
    calendar_2026,
):
    case = in_progress_case()
    request = request_for(case)

    with pytest.raises(CasePermissionDenied):
        svc.case_decide_extension(
            request=request, user=liaison(case.department), grant=True, now=NOW
        )
    assert due_of(case) == DUE

    svc.case_decide_extension(request=request, user=supervisor(), grant=True, now=NOW)
    with pytest.raises(TransitionRefused):
        svc.case_decide_extension(
            request=request, user=supervisor(), grant=True, now=NOW
        )
    assert due_of(case) == aware(2026, 10, 9, 18)  # moved once only


# --- through the admin ----------------------------------------------------------------


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(user) -> Client:
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client = Client()
    client.force_login(user)
    return client


def action_url(case, name: str) -> str:
    return reverse(f"tracking_cases:{name}_extension", args=[case.pk])


def case_page(client, case) -> BeautifulSoup:
    response = client.get(reverse("tracking_cases:detail", args=[case.pk]))
    assert response.status_code == 200
    return BeautifulSoup(response.content.decode(), "html.parser")


def offered(page: BeautifulSoup) -> set[str]:
    """The actions whose forms the case page holds."""
    return {
        form["data-case-action-form"]
        for form in page.find_all("form", attrs={"data-case-action-form": True})
    }


def messages_text(response) -> str:
    page = BeautifulSoup(response.content.decode(), "html.parser")
    return " ".join(li.get_text(" ", strip=True) for li in page.select(".messages li"))


def test_the_admin_request_then_grant(calendar_2026, frozen_now):
    case = in_progress_case()
    dept = client_for(liaison(case.department))
    boss = client_for(supervisor())

    assert "extension_requested" in offered(case_page(dept, case))
    assert not offered(case_page(boss, case)) & {
        "extension_granted",
        "extension_refused",
    }

    response = dept.post(
        action_url(case, "request"),
        {"expect_state": "in_progress", "working_days": "2", "reason": "等待停气"},
        follow=True,
    )
    assert response.status_code == 200
    assert "2 more working days requested" in messages_text(response)
    assert ExtensionRequest.objects.pending().get().case_id == case.pk
    # Asked once: the liaison is not offered to ask again.
    assert "extension_requested" not in offered(case_page(dept, case))

    page = case_page(boss, case)
    box = page.select_one("[data-pending-extension]")
    assert box is not None and "等待停气" in box.get_text()
    assert box.select_one("[data-extension-days]").get_text(strip=True) == (
        "2 working days"
    )
    assert {"extension_granted", "extension_refused"} <= offered(page)

    response = boss.post(
        action_url(case, "grant"),
        {"expect_state": "in_progress", "working_days": "", "answer": ""},
        follow=True,
    )
    assert "Extension granted" in messages_text(response)
    assert due_of(case) == aware(2026, 10, 9, 18)
    assert case_page(boss, case).select_one("[data-pending-extension]") is None


def test_the_admin_refusal_needs_an_answer(calendar_2026, frozen_now):
    case = in_progress_case()
    request_for(case)
    boss = client_for(supervisor())
    data = {"expect_state": "in_progress", "answer": ""}

    response = boss.post(action_url(case, "refuse"), data, follow=True)
    assert response.status_code == 200
    assert "Say why the extension is refused." in messages_text(response)
    assert ExtensionRequest.objects.pending().exists()

    data["answer"] = "请按期办结"
    response = boss.post(action_url(case, "refuse"), data, follow=True)
    assert "refused" in messages_text(response)
    assert ExtensionRequest.objects.get().decision == ExtensionDecision.REFUSED
    assert due_of(case) == DUE
    # The department reads the answer on the case page.
    page = case_page(client_for(liaison(case.department)), case)
    box = page.find(attrs={"data-last-extension": "refused"})
    assert box is not None
    assert box.find(attrs={"data-extension-answer": True}).get_text() == "请按期办结"


def test_the_admin_refuses_the_wrong_roles(calendar_2026, frozen_now):
    case = in_progress_case()
    request = {"expect_state": "in_progress", "working_days": "2", "reason": "理由"}

    response = client_for(officer()).post(action_url(case, "request"), request)
    assert response.status_code == 403
    assert not ExtensionRequest.objects.exists()

    # A liaison of another department does not even see the case.
    other = client_for(liaison(DepartmentFactory()))
    assert other.post(action_url(case, "request"), request).status_code == 404

    request_for(case)
    dept = client_for(liaison(case.department))
    response = dept.post(
        action_url(case, "grant"), {"expect_state": "in_progress", "answer": ""}
    )
    assert response.status_code == 403
    assert due_of(case) == DUE
    assert ExtensionRequest.objects.pending().exists()


# --- the supervisor's queue -----------------------------------------------------------

COUNT = re.compile(
    r'data-queue-count="(?P<key>\w+)" data-count="(?P<count>\d+)">\s*'
    r'<a href="(?P<url>[^"]+)"'
)


def test_the_home_queue_counts_what_the_filtered_listing_lists(
    calendar_2026, frozen_now
):
    category = CategoryFactory()
    first, second, untouched = (in_progress_case(category=category) for _ in "abc")
    svc.case_request_extension(
        case=second,
        user=liaison(second.department),
        working_days=1,
        reason="后",
        now=aware(2026, 9, 29, 9),
    )
    svc.case_request_extension(
        case=first,
        user=liaison(first.department),
        working_days=4,
        reason="先",
        now=aware(2026, 9, 28, 9),
    )
    boss = supervisor()

    assert list(extensions_pending(boss)) == [first, second]  # oldest request first
    client = client_for(boss)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    counts = {
        m["key"]: (int(m["count"]), unescape(m["url"])) for m in COUNT.finditer(html)
    }
    count, url = counts["extensions_pending"]
    assert count == 2
    assert url.endswith("?extension=pending")
    listed = set(re.findall(r"8890-\d{8}-\d{5}", client.get(url).content.decode()))
    assert listed == {first.reference, second.reference}
    assert untouched.reference not in listed

    # A decision takes the case off the queue.
    svc.case_decide_extension(case=first, user=boss, grant=True, now=NOW)
    assert list(extensions_pending(boss)) == [second]


# --- the demo -------------------------------------------------------------------------


def test_the_demo_has_one_pending_request_from_the_traffic_police_once():
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    call_command("load_demo", verbosity=0)

    request = ExtensionRequest.objects.get()
    assert request.is_pending
    assert request.requested_by.username == "traffic"
    assert request.case.department == request.requested_by.staff_profile.department
    assert CaseEvent.objects.filter(action="extension_requested").count() == 1


def test_a_request_left_behind_by_a_reply_can_still_be_refused(calendar_2026):
    case = in_progress_case()
    request = request_for(case)
    Case.objects.filter(pk=case.pk).update(state="replied")
    case.refresh_from_db()
    boss = supervisor()
    from tracking.views import case_actions

    names = {button.name for button in case_actions(case, boss)}
    assert "extension_refused" in names and "extension_granted" not in names
    with pytest.raises(TransitionRefused):
        svc.case_decide_extension(request=request, user=boss, grant=True, now=NOW)
    svc.case_decide_extension(
        request=request, user=boss, grant=False, answer="已答复，无需延期", now=NOW
    )
    assert not extensions_pending(boss).exists()
