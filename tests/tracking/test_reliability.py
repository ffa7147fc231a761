"""The overdue scan with real processes: Celery workers and beats on PostgreSQL and a
private Redis, the way production runs it (see tests/processes.py).

These run against real time, not a frozen clock: the cases are due weeks ago, so
they are past any escalation threshold whenever the tests run.
"""

import time
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from newsroom.models import HotTrackingPage, YearIndexPage
from tests.factories import (
    CaseFactory,
    CategoryFactory,
    DepartmentFactory,
    liaison,
    officer,
)
from tracking.models import Case, CaseEvent, CaseNotice, OutboxMessage, State

pytest_plugins = ["tests.processes"]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("hot_tracking_site", "calendar_2026"),
]

SCAN = "tracking.tasks.scan_overdue"


def overdue_complaints(count: int, category=None, **kwargs) -> list[int]:
    """Efficiency complaints dispatched 40 days ago and due 30 days ago: past the
    3-working-day threshold at any real "now", holidays or not."""
    category = category or CategoryFactory(escalation_threshold_days=3)
    due_at = timezone.now() - timedelta(days=30)
    fields = {
        "state": State.DISPATCHED,
        "is_efficiency": True,
        "category": category,
        "citizen": None,
        "dispatched_at": due_at - timedelta(days=10),
        "due_at": due_at,
        **kwargs,
    }
    return [CaseFactory(**fields).pk for _ in range(count)]


def escalated(ids) -> int:
    return Case.objects.filter(pk__in=ids, escalated_at__isnull=False).count()


def stories(ids) -> int:
    """Stories made whole: the page, its draft revision, its workflow, its event
    on the case (the last transaction of a story makes all but the page)."""
    return HotTrackingPage.objects.filter(
        case_id__in=ids, latest_revision__isnull=False
    ).count()


def indexed(ids) -> int:
    """Stories in the search index (updated after their transactions commit)."""
    from wagtail.search.models import IndexEntry

    pages = HotTrackingPage.objects.filter(case_id__in=ids).values_list("pk", flat=True)
    return IndexEntry.objects.filter(
        content_type__model="hottrackingpage", object_id__in=[str(p) for p in pages]
    ).count()


def passes_after(celery, seen) -> int:
    """Scan passes received after ``seen`` (a task log) and finished since."""
    return sum(
        1
        for task_id, result in celery.task_log(SCAN).items()
        if task_id not in seen and result is not None
    )


def not_exactly_once(ids, counted) -> str:
    """'' when every case in ``ids`` appears exactly once in ``counted``."""
    counts = Counter(counted)
    missing = [pk for pk in ids if counts[pk] == 0]
    doubled = {pk: n for pk, n in counts.items() if n > 1}
    stray = set(counts) - set(ids)
    if not (missing or doubled or stray):
        return ""
    return (
        f"{len(missing)} missing (e.g. {missing[:5]}), {len(doubled)} more than once "
        f"(e.g. {dict(list(doubled.items())[:5])}), {len(stray)} unexpected"
    )


def assert_escalated_exactly_once(ids) -> None:
    """Every case supervised, with one escalate event, one story and one reminder
    (notice and event) each; and the story tree in order."""
    from wagtail.models import Page

    cases = Case.objects.filter(pk__in=ids)
    assert set(cases.values_list("state", flat=True)) == {State.SUPERVISED}
    assert cases.filter(escalated_at__isnull=True).count() == 0

    def problems(queryset):
        return not_exactly_once(ids, queryset.values_list("case_id", flat=True))

    events = CaseEvent.objects.filter(case_id__in=ids)
    notices = CaseNotice.objects.filter(case_id__in=ids)
    assert not problems(events.filter(action="escalate")), "escalate events"
    assert not problems(HotTrackingPage.objects.all()), "stories"
    assert not problems(events.filter(action="story")), "story events"
    assert not problems(events.filter(action="reminder")), "reminder events"
    assert not problems(notices.filter(kind="reminder")), "reminder notices"
    assert not events.filter(action="warning").exists()
    assert not notices.filter(kind="warning").exists()
    # Stories were added under one year index by parallel workers: the tree
    # (materialised paths and child counts) must have come through intact.
    (year,) = YearIndexPage.objects.all()
    assert year.get_children_count() == year.numchild == len(ids)
    assert all(not problem for problem in Page.find_problems()), Page.find_problems()


def test_beat_fires_the_scan_and_a_real_worker_escalates(celery_processes):
    celery = celery_processes
    category = CategoryFactory(escalation_threshold_days=3)
    overdue = overdue_complaints(3, category)
    (ordinary,) = overdue_complaints(1, category, is_efficiency=False)
    (not_due,) = overdue_complaints(
        1, category, due_at=timezone.now() + timedelta(days=20)
    )
    celery.schedule(SCAN, seconds=1)

    worker = celery.worker("worker1")
    beat = celery.beat("beat1")
    celery.wait_until(
        lambda: stories(overdue) == 3,
        timeout=90,
        what="the beat-fired scan to escalate three cases, with their stories",
    )

    assert_escalated_exactly_once(overdue)
    assert CaseEvent.objects.get(case_id=overdue[0], action="escalate").actor is None
    # The worker indexed the stories for search once they were committed.
    celery.wait_until(
        lambda: indexed(overdue) == 3, timeout=30, what="the stories in the index"
    )
    # An ordinary complaint is reminded, not escalated; one not yet due, neither.
    assert Case.objects.get(pk=ordinary).state == State.DISPATCHED
    assert CaseEvent.objects.filter(case_id=ordinary, action="reminder").count() == 1
    assert not CaseEvent.objects.filter(case_id=ordinary, action="escalate").exists()
    assert Case.objects.get(pk=not_due).state == State.DISPATCHED
    assert not CaseEvent.objects.filter(case_id=not_due).exists()
    # The work was done by beat sending and the worker running the task.
    assert f"Sending due task {SCAN} every 1 s (test)" in beat.log()
    assert any(r["escalated"] for r in celery.task_results(SCAN, worker))

    assert beat.stop() == 0, beat.tail()
    assert worker.stop() == 0, worker.tail()


def test_two_workers_and_two_beats_escalate_a_thousand_cases_exactly_once(
    celery_processes,
):
    celery = celery_processes
    cases = overdue_complaints(1000)
    celery.schedule(SCAN, seconds=1)

    # Small batches: the passes claim many batches each and contend all along.
    workers = [
        celery.worker(f"worker{n}", TRACKING_SCAN_BATCH_SIZE="50") for n in (1, 2)
    ]
    for n in (1, 2):
        celery.beat(f"beat{n}")
    # Stories come at a few per second (each adds its page under the year index's
    # lock): wait as long as they keep coming.
    celery.wait_until(
        lambda: stories(cases) == len(cases),
        progress=lambda: (escalated(cases), stories(cases)),
        timeout=120,
        limit=1200,
        interval=1,
        what="1,000 cases escalated, with their stories",
    )
    # Passes that start after the work is done find nothing left and double nothing.
    done = celery.task_log(SCAN)
    celery.wait_until(
        lambda: passes_after(celery, done) >= 4,
        timeout=120,
        what="four more scan passes",
    )

    assert_escalated_exactly_once(cases)
    # Each case was counted by exactly one pass...
    results = celery.task_results(SCAN)
    assert sum(r["escalated"] for r in results) == len(cases)
    assert sum(r["reminded"] for r in results) == len(cases)
    assert sum(r["stories"] for r in results) == len(cases)
    # ...and both workers took part.
    shares = [
        sum(r["escalated"] for r in celery.task_results(SCAN, worker))
        for worker in workers
    ]
    assert all(shares), shares


def test_a_worker_killed_mid_batch_is_caught_up_after_a_restart(
    celery_processes, redis_server
):
    celery = celery_processes
    cases = overdue_complaints(150)
    celery.schedule(SCAN, seconds=1)
    celery.beat("beat1")
    doomed = celery.worker("doomed", TRACKING_SCAN_BATCH_SIZE="25")

    def mid_batch():
        return 0 < escalated(cases) < len(cases) and celery.sessions(
            doomed, writing=True
        )

    celery.wait_until(
        mid_batch,
        timeout=120,
        interval=0.02,
        what="the worker to be part-way through escalating, a batch in flight",
    )
    group = doomed.members()
    doomed.kill()

    # The whole worker is gone, pool processes too, and so are its sessions: the
    # batch in flight was rolled back. Nothing is half done.
    assert len(group) == 3, group  # parent and two pool processes
    celery.wait_until(
        lambda: not doomed.members(), timeout=10, what="the pool processes to die"
    )
    celery.wait_until(
        lambda: celery.sessions(doomed) == 0,
        timeout=30,
        what="PostgreSQL to end the killed worker's sessions",
    )
    at_kill = escalated(cases)
    assert 0 < at_kill < len(cases)
    escalated_ids = set(
        Case.objects.filter(pk__in=cases, escalated_at__isnull=False).values_list(
            "pk", flat=True
        )
    )
    escalate_events = CaseEvent.objects.filter(case_id__in=cases, action="escalate")
    assert sorted(escalate_events.values_list("case_id", flat=True)) == sorted(
        escalated_ids
    )
    # The killed pass is acknowledged late, so Redis still holds it as unacked; it
    # goes back on the queue only after the visibility timeout (an hour).
    killed = {
        task_id
        for task_id, result in celery.task_log(SCAN, doomed).items()
        if result is None
    }
    assert killed and killed <= set(redis_server.unacked()), killed

    # Beat kept sending passes; a new worker runs them and finishes the work.
    restarted = celery.worker("restarted", TRACKING_SCAN_BATCH_SIZE="25")
    celery.wait_until(
        lambda: stories(cases) == len(cases),
        progress=lambda: (escalated(cases), stories(cases)),
        timeout=120,
        interval=0.5,
        what="the restarted worker to escalate the rest, with the stories",
    )
    done = celery.task_log(SCAN)
    celery.wait_until(
        lambda: passes_after(celery, done) >= 3,
        timeout=60,
        what="three more scan passes",
    )

    assert_escalated_exactly_once(cases)
    # The catch-up came from beat's later passes (the scan is level-triggered), not
    # from the killed pass delivered again: that is still waiting in Redis.
    assert not killed & set(celery.task_log(SCAN, restarted))
    assert killed <= set(redis_server.unacked())


# --- broker down --------------------------------------------------------------------

SWEEP = "tracking.tasks.deliver_due_notifications"
CASES_URL = "/admin/tracking/cases/"


@contextmanager
def web_on_broker(url: str):
    """This test process as a web server: tasks go to ``url``, not run in-process."""
    from cms import celery_app

    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, url
    celery_app._pool = celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url = saved
        celery_app._pool = celery_app.amqp._producer_pool = None


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def test_broker_down_the_web_keeps_working_and_the_next_pass_catches_up(
    celery_processes, redis_server, settings
):
    celery = celery_processes
    settings.OUTBOX_REDELIVER_AFTER_SECONDS = 1  # the web's messages, swept soon
    department = DepartmentFactory(name="交警支队", email="jjzd@example.gov.cn")
    liaison(department)
    category = CategoryFactory(escalation_threshold_days=3)
    before = overdue_complaints(3, category)
    celery.schedule(SCAN, seconds=1)
    celery.schedule(SWEEP, seconds=1, only=False)
    celery.worker("worker1")
    celery.beat("beat1")
    celery.wait_until(
        lambda: stories(before) == 3,
        timeout=90,
        what="the first passes to escalate the cases due before the outage",
    )

    redis_server.stop()

    desk = Client()
    desk.force_login(officer())
    with web_on_broker(redis_server.url):
        registered, took_register = timed(
            lambda: desk.post(
                f"{CASES_URL}new/",
                {
                    "kind": "complaint",
                    "is_efficiency": "on",
                    "category": category.pk,
                    "title": "停电期间信号灯不亮",
                    "description": "路口信号灯三天不亮。",
                    "location_text": "五湖路与花园大道路口",
                    "channel": "phone",
                    "citizen_name": "李四",
                    "citizen_phone": "13700001234",
                    "citizen_address": "",
                    "citizen_email": "",
                },
            )
        )
        assert registered.status_code == 302, registered.content[:2000]
        case = Case.objects.get(title="停电期间信号灯不亮")
        took = [took_register]
        steps = (("accept", {}), ("dispatch", {"department": department.pk}))
        for action, data in steps:
            response, seconds = timed(
                lambda action=action, data=data: desk.post(
                    f"{CASES_URL}{case.pk}/transitions/{action}/",
                    {"expect_state": Case.objects.get(pk=case.pk).state, **data},
                )
            )
            assert response.status_code == 302, response.content[:2000]
            took.append(seconds)
    # Meanwhile more cases became due (their deadlines passed during the outage).
    meanwhile = overdue_complaints(5, category)

    case.refresh_from_db()
    assert case.state == State.DISPATCHED
    assert list(case.events.values_list("action", flat=True)) == [
        "register", "accept", "dispatch",
    ]
    assert max(took) < 3, took  # queuing gives up fast; the request is not held up
    owed = OutboxMessage.objects.get(
        args=[case.events.get(action="dispatch").pk]
    )
    assert owed.sent_at is None
    # Without the broker, beat cannot send a pass: nothing is escalated.
    time.sleep(3)
    assert escalated(meanwhile) == 0

    redis_server.start()

    celery.wait_until(
        lambda: stories(meanwhile) == len(meanwhile),
        timeout=120,
        what="the first passes after the outage to escalate what became due",
    )
    celery.wait_until(
        lambda: OutboxMessage.objects.filter(pk=owed.pk, sent_at__isnull=False)
        .exists(),
        timeout=60,
        what="the sweep to deliver the dispatch notice owed since the outage",
    )
    assert_escalated_exactly_once(before + meanwhile)
    assert not OutboxMessage.objects.filter(
        sent_at__isnull=True, due_at__isnull=True
    ).exists()
