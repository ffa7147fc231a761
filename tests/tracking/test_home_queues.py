"""Each hotline role's home screen is its work queue: counts that link to the
listing of the same cases, rows in the order the work is done, and a cost in
queries that does not grow with the queue."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from wagtail.admin.views.home import (
    LockedPagesPanel,
    RecentEditsPanel,
    UserObjectsInWorkflowModerationPanel,
    WorkflowObjectsToModeratePanel,
)

from tests.factories import (
    CategoryFactory,
    DepartmentFactory,
    aware,
    case_in_state,
    liaison,
    officer,
    supervisor,
)
from tracking import queues
from tracking.models import Call, Case, State
from tracking.views import home

pytestmark = pytest.mark.django_db

COUNT = re.compile(
    r'data-queue-count="(?P<key>\w+)" data-count="(?P<count>\d+)">\s*'
    r'<a href="(?P<url>[^"]+)"'
)


def home_counts(client) -> dict[str, tuple[int, str]]:
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    return {
        m["key"]: (int(m["count"]), unescape(m["url"]))
        for m in COUNT.finditer(response.content.decode())
    }


def listed_references(client, url) -> set[str]:
    html = client.get(url).content.decode()
    return set(re.findall(r"8890-\d{8}-\d{5}", html))


def references(queryset) -> set[str]:
    return set(queryset.values_list("reference", flat=True))


def officer_cases():
    now = timezone.now()
    case_in_state(State.REGISTERED, registered_at=now - timedelta(hours=3))
    case_in_state(State.REGISTERED, registered_at=now - timedelta(hours=1))
    case_in_state(State.REPLIED, replied_at=now - timedelta(days=3))
    case_in_state(State.ANSWERED, replied_at=now - timedelta(hours=2))
    case_in_state(State.RETURNED, bounce_count=1, due_at=now + timedelta(days=2))
    closed = case_in_state(State.CLOSED)
    today = Call.objects.create(received_at=now, case=case_in_state(State.ACCEPTED))
    Call.objects.create(received_at=now - timedelta(days=2), case=closed)
    return today


def test_officer_home_counts_each_queue_and_links_to_the_same_cases(client):
    user = officer()
    call = officer_cases()
    client.force_login(user)

    counts = home_counts(client)

    expected = {
        "to_accept": queues.to_accept(user),
        "callbacks_due": queues.callbacks_due(user),
        "returned": queues.returned(user),
    }
    assert {key: counts[key][0] for key in expected} == {
        "to_accept": 2,
        "callbacks_due": 2,
        "returned": 1,
    }
    for key, queryset in expected.items():
        assert listed_references(client, counts[key][1]) == references(queryset), key
    assert counts["calls_today"][0] == 1
    assert listed_references(client, counts["calls_today"][1]) == {call.case.reference}


def test_callbacks_due_oldest_answer_first_with_the_callback_deadline(client):
    user = officer()
    now = timezone.now()
    newer = case_in_state(State.REPLIED, replied_at=now - timedelta(hours=1))
    older = case_in_state(State.ANSWERED, replied_at=now - timedelta(days=5))

    due = list(queues.callbacks_due(user))

    assert due == [older, newer]
    assert queues.callback_due_at(older) < now  # five days: past its callback time
    assert queues.callback_due_at(newer) > now
    client.force_login(user)
    section = home_section(client, "callbacks_due")
    assert section.index(older.reference) < section.index(newer.reference)
    # The missed callback time is in bold.
    assert re.search(r"<strong>\s*<time", section)


def home_section(client, key) -> str:
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    start = html.index(f'data-queue="{key}"')
    return html[start : html.index("</section>", start)]


def test_a_liaison_sees_only_their_departments_queue_as_the_listing_does(client):
    mine, other = DepartmentFactory(name="交警支队"), DepartmentFactory(name="住建局")
    now = timezone.now()
    for department in (mine, other):
        case_in_state(
            State.DISPATCHED,
            department=department,
            acknowledge_due_at=now + timedelta(hours=4),
        )
        case_in_state(
            State.IN_PROGRESS, department=department, due_at=now - timedelta(days=9)
        )
        case_in_state(
            State.SUPERVISED,
            department=department,
            due_at=now - timedelta(days=20),
            escalated_at=now - timedelta(days=5),
        )
    user = liaison(mine)
    client.force_login(user)

    counts = home_counts(client)

    assert {k: v[0] for k, v in counts.items()} == {
        "to_acknowledge": 1,
        "in_hand": 2,
        "overdue": 2,
        "media_supervised": 1,
    }
    for key, queryset in {
        "to_acknowledge": queues.to_acknowledge(user),
        "in_hand": queues.in_hand(user),
        "overdue": queues.overdue(user),
        "media_supervised": queues.media_supervised(user),
    }.items():
        assert set(queryset.values_list("department", flat=True)) == {mine.pk}
        assert listed_references(client, counts[key][1]) == references(queryset), key
    # Overdue in bold, with its working days.
    section = home_section(client, "overdue")
    assert re.search(r"<strong>.*已逾期 \d+ 个工作日", section, re.S)
    assert "尚未见报" in home_section(client, "media_supervised") or (
        "Not yet reported" in home_section(client, "media_supervised")
    )


@pytest.fixture
def escalating(calendar_2026):
    """At Thursday 3 December 2026, noon: a traffic case due on Friday 4 December
    escalates three working days later, on Wednesday 9 December."""
    category = CategoryFactory(escalates=True, escalation_threshold_days=3)
    soon = case_in_state(
        State.IN_PROGRESS,
        category=category,
        due_at=aware(2026, 12, 4, 18),
    )
    # Not an escalating category nor an efficiency complaint: never escalates.
    case_in_state(
        State.IN_PROGRESS,
        category=CategoryFactory(escalates=False),
        due_at=aware(2026, 12, 4, 18),
    )
    # Escalates, but after the week.
    case_in_state(State.DISPATCHED, category=category, due_at=aware(2026, 12, 20, 18))
    return soon


def test_the_supervisor_is_told_which_case_escalates_next_and_when(client, escalating):
    now = aware(2026, 12, 3, 12)
    user = supervisor()

    forecast = queues.escalation_forecast(user, now)

    assert forecast == [(escalating, aware(2026, 12, 9, 18))]
    with translation.override("en"):
        assert home.escalation_cell(forecast[0][1], now).text == (
            "Escalates to the media on 9 Dec"
        )
    with time_machine.travel(now, tick=False):
        client.force_login(user)
        counts = home_counts(client)
        assert counts["escalating_soon"][0] == 1
        assert listed_references(client, counts["escalating_soon"][1]) == {
            escalating.reference
        }


def test_bounced_cases_and_their_filter(client):
    user = supervisor()
    twice = case_in_state(State.RETURNED, bounce_count=2)
    case_in_state(State.RETURNED, bounce_count=1)
    case_in_state(State.CLOSED, bounce_count=3)
    client.force_login(user)

    counts = home_counts(client)

    assert list(queues.bounced(user)) == [twice]
    assert counts["bounced"][0] == 1
    assert listed_references(client, counts["bounced"][1]) == {twice.reference}


def test_a_boolean_filter_chip_reads_in_words(client):
    case_in_state(State.DISPATCHED, due_at=timezone.now() - timedelta(days=3))
    client.force_login(officer())

    html = client.get(reverse("tracking_cases:index") + "?overdue=true")
    chips = html.content.decode()
    chips = chips[chips.index('<ul class="w-active-filters">') :]
    chips = chips[: chips.index("</ul>")]

    label = re.search(r'<span class="w-text-14">(.*?)</span>', chips, re.S)[1]
    label = re.sub(r"\s+", "", label)
    assert (label, re.findall(r'<b class="w-ml-1">(.*?)</b>', chips)) == (
        "已逾期:",
        ["是"],
    )


def test_staff_without_pages_get_no_page_panels_and_the_calendar_banner_stays(rf):
    from tracking.wagtail_hooks import add_hotline_home_panels

    request = rf.get("/admin/")
    request.user = officer()
    panels = [
        WorkflowObjectsToModeratePanel(),
        UserObjectsInWorkflowModerationPanel(),
        RecentEditsPanel(),
        LockedPagesPanel(),
    ]

    add_hotline_home_panels(request, panels)

    assert [type(p).__name__ for p in panels if not isinstance(p, home.QueuePanel)] in (
        [],
        ["MissingCalendarPanel"],
    )
    assert [p.name for p in panels if isinstance(p, home.QueuePanel)] == [
        "officer_queues"
    ]


def queries_for_home(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("wagtailadmin_home")).status_code == 200
    return len(captured)


def fill_every_queue(department, n):
    now = timezone.now()
    category = CategoryFactory(escalates=True, default_department=department)
    for _ in range(n):
        case_in_state(State.REGISTERED, category=category)
        case_in_state(State.REPLIED, category=category, replied_at=now)
        case_in_state(State.RETURNED, category=category, bounce_count=2, due_at=now)
        case_in_state(
            State.DISPATCHED,
            category=category,
            acknowledge_due_at=now,
            due_at=now + timedelta(days=1),
        )
        case_in_state(
            State.IN_PROGRESS, category=category, due_at=now - timedelta(days=8)
        )
        case_in_state(
            State.SUPERVISED,
            category=category,
            due_at=now - timedelta(days=20),
            escalated_at=now,
        )
        Call.objects.create(received_at=now, case=Case.objects.last())


@pytest.mark.parametrize("role", ["officer", "liaison", "supervisor"])
def test_the_home_screen_costs_the_same_queries_however_long_the_queues(
    client, role, django_assert_max_num_queries
):
    department = DepartmentFactory(name="交警支队")
    user = {
        "officer": officer,
        "supervisor": supervisor,
        "liaison": lambda: liaison(department),
    }[role]()
    client.force_login(user)
    fill_every_queue(department, 1)
    few = queries_for_home(client)
    fill_every_queue(department, 12)

    with django_assert_max_num_queries(few):
        client.get(reverse("wagtailadmin_home"))
    assert few <= 40
