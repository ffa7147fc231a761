"""The daily rollups always equal a brute-force count over the raw rows.

Random sequences of calls, case actions (through the real services), overdue
scans, call edits (time, answer, number), deletions and imports, by a few
phone numbers, run while time moves forward across
local days and a new year. After every step the live rollups must equal both a
count written here in plain Python over the ``CaseEvent``, ``Callback`` and
``Call`` and ``Case`` rows (following the definitions of
:mod:`tracking.statistics.rollups`, :mod:`tracking.statistics.figures` and
:mod:`tracking.statistics.attribution`) and the rebuild
(:func:`~tracking.statistics.rollups.computed`); a refused action changes none.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections import Counter, defaultdict
from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import CategoryFactory, DepartmentFactory, aware
from tracking import hooks
from tracking import services as svc
from tracking.escalation import scan_overdue
from tracking.exceptions import CaseError
from tracking.models import Call, Callback, Case, CaseEvent
from tracking.statistics import rollups

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Late on 29 December 2025: the first steps cross into 2026.
START = aware(2025, 12, 29, 21, 30)

# --- the brute force ------------------------------------------------------------------

# What each action counts in CaseDay (figures.py: registered, accepted, completed
# = closed, replied, dispatched, acknowledged, returned, escalated, published...).
COUNTED = {
    "register": "registered",
    "accept": "accepted",
    "answer": "answered",
    "dispatch": "dispatched",
    "acknowledge": "acknowledged",
    "return_case": "returned",
    "escalate": "escalated",
    "publish": "published",
    "reply": "replied",
    "close": "completed",
    "reopen": "reopened",
}
ENDS = {"rejected", "closed", "withdrawn", "merged"}


def day_of(moment):
    return moment.astimezone(SHANGHAI).date()


def _drop_zeros(table):
    result = {}
    for key, counts in table.items():
        kept = {name: n for name, n in counts.items() if n}
        if kept:
            result[key] = kept
    return result


def brute_force() -> dict:
    """Every rollup, counted one raw row at a time."""
    cases = {case.pk: case for case in Case.objects.all()}
    case_day: dict = defaultdict(Counter)
    reply_days: dict = defaultdict(Counter)

    def key(case, department_id, moment):
        return (
            day_of(moment),
            department_id or 0,
            case.category_id or 0,
            case.kind,
            case.is_efficiency,
        )

    events = list(CaseEvent.objects.order_by("created_at", "pk"))
    for event in events:
        case = cases[event.case_id]
        counts = case_day[key(case, event.department_id, event.created_at)]
        if event.action in COUNTED:
            counts[COUNTED[event.action]] += 1
        if event.action == "acknowledge" and event.on_time:
            counts["acknowledged_on_time"] += 1
        if event.action == "reply" and event.on_time:
            counts["replied_on_time"] += 1
        if event.to_state in ENDS:
            counts["finished"] += 1
        if event.action == "reply" and event.working_days is not None:
            reply_key = key(case, event.department_id, event.created_at)
            reply_days[(*reply_key, event.working_days)]["replies"] += 1
    for callback in Callback.objects.all():
        counts = case_day[
            key(cases[callback.case_id], callback.department_id, callback.called_at)
        ]
        counts[f"callbacks_{callback.outcome}"] += 1
        counts[f"callbacks_{callback.method}"] += 1

    # The media effect: a case enters on its first publication (reported), or, an
    # efficiency complaint never reported, on its first reminder (the deadline
    # passed); then the days to the first reply after that and whether it was
    # closed within 7 days.
    media: Counter = Counter()
    per_case = defaultdict(list)
    for event in events:
        if event.action in ("publish", "reminder", "reply", "close"):
            per_case[event.case_id].append(event)
    for case_id, timeline in per_case.items():
        case = cases[case_id]
        published = [e for e in timeline if e.action == "publish"]
        reminders = [e for e in timeline if e.action == "reminder"]
        if published:
            start, reported = published[0], True
        elif case.is_efficiency and reminders:
            start, reported = reminders[0], False
        else:
            continue
        after = [e for e in timeline if e.created_at >= start.created_at]
        replies = [e for e in after if e.action == "reply"]
        closes = [e for e in after if e.action == "close"]
        days = (
            (day_of(replies[0].created_at) - day_of(start.created_at)).days
            if replies
            else -1
        )
        solved = bool(closes) and (
            closes[0].created_at - start.created_at <= timedelta(days=7)
        )
        media[
            (day_of(start.created_at), start.department_id or 0, reported, days, solved)
        ] += 1

    calls: Counter = Counter(day_of(call.received_at) for call in Call.objects.all())
    first, first_days = first_contacts()
    return {
        "CallDay": _drop_zeros({(day,): {"calls": n} for day, n in calls.items()}),
        "CaseDay": _drop_zeros(case_day),
        "ReplyDays": _drop_zeros(reply_days),
        "MediaEffectDay": _drop_zeros({key: {"cases": n} for key, n in media.items()}),
        "FirstContact": _drop_zeros(first),
        "FirstContactDay": _drop_zeros(first_days),
    }


def first_contacts():
    """Each number's earliest contact (by time; a call before a case on a tie;
    then by id), and the first-time callers per day, answer and visit day."""
    contacts = [
        ((call.received_at, 0, call.pk), call.caller_phone, "call", call)
        for call in Call.objects.exclude(caller_phone="")
    ]
    contacts += [
        ((case.registered_at, 1, case.pk), case.citizen.phone, "case", case)
        for case in Case.objects.select_related("citizen")
        if case.citizen is not None and case.citizen.phone
    ]
    first: dict = {}
    for order, phone, kind, row in sorted(contacts, key=lambda c: c[0]):
        first.setdefault(
            (phone,),
            {
                "at": order[0],
                "kind": kind,
                "contact_id": row.pk,
                "heard_of": row.heard_of,
                "visit_id": row.heard_of_visit_id or 0,
            },
        )
    days: Counter = Counter(
        (day_of(row["at"]), row["heard_of"], row["visit_id"]) for row in first.values()
    )
    return first, {key: {"callers": n} for key, n in days.items()}


def assert_rollups_are_exact(where=""):
    expected = brute_force()
    live = rollups.stored()
    assert live == expected, (where, rollups.differences(live, expected))
    assert rollups.computed() == expected, where


# --- the simulation -------------------------------------------------------------------

# What moves a case on in each state; the ends (withdraw, reject, merge) and
# anything else at all are tried now and then, and a refusal must leave no trace.
ACTIONS = {
    "registered": ["accept", "accept", "publish"],
    "accepted": ["answer", "dispatch", "dispatch", "dispatch"],
    "answered": ["callback", "callback", "close", "reopen"],
    "dispatched": ["acknowledge", "acknowledge", "return", "reply", "escalate"],
    "in_progress": ["reply", "reply", "return", "escalate", "publish"],
    "returned": ["dispatch", "dispatch", "escalate"],
    "supervised": ["reply", "reply", "publish"],
    "replied": ["callback", "callback", "close", "close", "reopen", "publish"],
    "reopened": ["dispatch", "escalate"],
}
ENDINGS = {
    "registered": ["reject", "withdraw", "merge"],
    "accepted": ["withdraw", "merge"],
    "returned": ["withdraw", "merge"],
}
ALL_ACTIONS = sorted(
    {name for names in (*ACTIONS.values(), *ENDINGS.values()) for name in names}
)
OUTCOMES = ["satisfied", "dissatisfied", "unreachable"]
METHODS = ["phone", "home_visit", "media_joint"]
KINDS = ["consultation", "help", "complaint"]
# A few numbers, so that first and later contacts of the same caller meet.
PHONES = ["13900001111", "13900002222", "13700000000"]
ANSWERS = ["", "", "newspaper", "friend"]

# How far time moves between steps: minutes, hours, or days (to pass deadlines).
ADVANCE = st.one_of(
    st.integers(1, 240).map(lambda n: timedelta(minutes=n)),
    st.integers(1, 30).map(lambda n: timedelta(hours=n)),
    st.integers(1, 12).map(lambda n: timedelta(days=n)),
)


@pytest.fixture
def without_newsroom(monkeypatch):
    """The scan escalates without making Wagtail stories: publication is recorded
    by ``case_story_published``, as the newsroom calls it."""
    for name in list(hooks._registry):
        monkeypatch.delitem(hooks._registry, name)


class Simulation:
    def __init__(self, data):
        self.data = data
        self.now = START
        self.call_ids = itertools.count(1)
        self.departments = [DepartmentFactory(name=f"统计部门{n}") for n in range(3)]
        self.categories = [
            CategoryFactory(
                service_code="stats-a",
                default_department=self.departments[0],
                handling_days=2,
                escalation_threshold_days=1,
            ),
            CategoryFactory(
                service_code="stats-b",
                default_department=self.departments[1],
                acknowledge_limit=4,
                acknowledge_unit="hours",
                escalates=True,
                handling_days=1,
                escalation_threshold_days=1,
            ),
            None,
        ]

    def draw(self, strategy, label):
        return self.data.draw(strategy, label=label)

    def cases(self):
        return list(Case.objects.order_by("pk"))

    # Steps --------------------------------------------------------------------------

    def step(self):
        self.now += self.draw(ADVANCE, "advance")
        kind = self.draw(
            st.sampled_from(
                [
                    "register",
                    "register",
                    *["act"] * 8,
                    "call",
                    "scan",
                    "scan",
                    "edit_call",
                    "delete_call",
                    "import",
                ]
            ),
            "step",
        )
        before = rollups.stored()
        try:
            getattr(self, f"do_{kind}")()
        except CaseError:
            # Refused: the transaction rolled back, and with it its counts.
            assert rollups.stored() == before, kind
        assert_rollups_are_exact(kind)

    def do_register(self):
        if Case.objects.open().count() >= 3:
            # Few cases at a time, taken further along.
            return self.do_act()
        kind = self.draw(st.sampled_from(KINDS), "kind")
        category = self.draw(st.sampled_from(self.categories), "category")
        phone = self.draw(st.sampled_from(["", *PHONES]), "citizen phone")
        svc.case_register(
            kind=kind,
            title="路灯不亮",
            description="幸福路12号门口路灯坏了一周。",
            category=category,
            is_efficiency=self.draw(st.booleans(), "efficiency"),
            citizen=svc.CitizenData(name="市民", phone=phone) if phone else None,
            heard_of=self.draw(st.sampled_from(ANSWERS), "heard of"),
            now=self.now,
        )

    def do_call(self):
        cases = self.cases()
        case = (
            self.draw(st.sampled_from(cases), "call case")
            if cases and self.draw(st.booleans(), "about a case")
            else None
        )
        svc.call_register(
            user=None,
            caller_phone=self.draw(st.sampled_from(PHONES), "caller phone"),
            heard_of=self.draw(st.sampled_from(ANSWERS), "heard of"),
            outcome=self.draw(
                st.sampled_from(["answered", "transferred", "dropped", "follow_up"]),
                "outcome",
            ),
            received_at=self.now
            - self.draw(st.integers(0, 120), "minutes ago") * timedelta(minutes=1),
            case=case,
        )

    def do_edit_call(self):
        calls = list(Call.objects.order_by("pk"))
        if not calls:
            return
        call = self.draw(st.sampled_from(calls), "edited call")
        edit = self.draw(st.sampled_from(["time", "time", "answer", "phone"]), "edit")
        if edit == "time":
            call.received_at += self.draw(st.integers(-36, 36), "hours") * timedelta(
                hours=1
            )
        elif edit == "answer":
            call.heard_of = self.draw(st.sampled_from(ANSWERS), "new answer")
        else:
            call.caller_phone = self.draw(st.sampled_from(PHONES), "new phone")
        call.save()

    def do_delete_call(self):
        calls = list(Call.objects.order_by("pk"))
        if calls:
            self.draw(st.sampled_from(calls), "deleted call").delete()

    def do_import(self):
        lines = ["call_id,started_at,caller,duration,outcome"]
        for _n in range(self.draw(st.integers(1, 3), "imported calls")):
            started = self.now - self.draw(st.integers(0, 48 * 60), "minutes ago") * (
                timedelta(minutes=1)
            )
            phone = self.draw(st.sampled_from(PHONES), "imported phone")
            lines.append(
                f"SIM-{next(self.call_ids)},{started.isoformat()},{phone},60,answered"
            )
        if self.draw(st.booleans(), "a bad row"):
            lines.append("SIM-bad,not a time,13700000000,60,answered")
        with tempfile.NamedTemporaryFile(
            "w", suffix=".csv", delete=False, encoding="utf-8"
        ) as file:
            file.write("\n".join(lines) + "\n")
        try:
            with time_machine.travel(self.now, tick=False):
                call_command(
                    "import_calls", file.name, stdout=StringIO(), stderr=StringIO()
                )
        except CommandError:
            pass  # the bad row is reported; the good ones are imported
        finally:
            os.unlink(file.name)

    def do_scan(self):
        scan_overdue(now=self.now)

    def do_act(self):
        cases = self.cases()
        if not cases:
            return
        open_cases = [case for case in cases if case.state in ACTIONS]
        if open_cases and self.draw(st.integers(0, 9), "an open case") > 0:
            cases = open_cases
        case = self.draw(st.sampled_from(cases), "case")
        choices = ACTIONS.get(case.state, [])
        rare = self.draw(st.integers(0, 9), "rare")
        if rare == 0 or not choices:
            choices = ALL_ACTIONS
        elif rare == 1:
            choices = ENDINGS.get(case.state, ["withdraw"])
        action = self.draw(st.sampled_from(choices), "action")
        getattr(self, f"act_{action}")(case)

    # Case actions, through the services -----------------------------------------------

    def act_accept(self, case):
        svc.case_accept(case=case, user=None, now=self.now)

    def act_reject(self, case):
        svc.case_reject(case=case, user=None, reason="不属于受理范围", now=self.now)

    def act_answer(self, case):
        svc.case_answer(case=case, user=None, answer="已电话解答", now=self.now)

    def act_dispatch(self, case):
        department = self.draw(st.sampled_from(self.departments), "department")
        svc.case_dispatch(case=case, user=None, department=department, now=self.now)

    def act_acknowledge(self, case):
        due = case.acknowledge_due_at
        svc.case_acknowledge(case=case, user=None, now=self.now)
        event = CaseEvent.objects.filter(case=case).latest("pk")
        # The limit is kept when the department acknowledged by its deadline.
        assert event.on_time is (None if due is None else self.now <= due)

    def act_return(self, case):
        svc.case_return(case=case, user=None, reason="不属于本单位职责", now=self.now)

    def act_escalate(self, case):
        svc.case_escalate(case=case, user=None, now=self.now)

    def act_publish(self, case):
        svc.case_story_published(case=case, now=self.now)

    def act_reply(self, case):
        due = case.due_at
        svc.case_reply(case=case, user=None, text="已安排维修。", now=self.now)
        event = CaseEvent.objects.filter(case=case).latest("pk")
        assert event.on_time is bool(due and self.now <= due)

    def act_callback(self, case):
        svc.callback_record(
            case=case,
            user=None,
            outcome=self.draw(st.sampled_from(OUTCOMES), "outcome"),
            method=self.draw(st.sampled_from(METHODS), "method"),
            now=self.now,
        )

    def act_close(self, case):
        svc.case_close(case=case, user=None, now=self.now)

    def act_reopen(self, case):
        svc.case_reopen(case=case, user=None, reason="市民不满意", now=self.now)

    def act_withdraw(self, case):
        svc.case_withdraw(case=case, user=None, reason="市民撤回", now=self.now)

    def act_merge(self, case):
        others = [c for c in self.cases() if c.pk != case.pk]
        if not others:
            return
        into = self.draw(st.sampled_from(others), "merged into")
        svc.case_merge(case=case, user=None, into=into, now=self.now)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), steps=st.integers(10, 45))
def test_rollups_equal_a_brute_force_count_after_every_step(
    without_newsroom, data, steps
):
    with transaction.atomic():
        simulation = Simulation(data)
        for _step in range(steps):
            simulation.step()
        transaction.set_rollback(True)


# --- one scenario that takes every path ---------------------------------------------


def test_every_action_outcome_and_method_is_counted_exactly(without_newsroom, tmp_path):
    """A fixed walk through every service, checked after each step."""
    now = START
    check = assert_rollups_are_exact
    roads, water = (DepartmentFactory(name=n) for n in ("道路部门", "水务部门"))
    category = CategoryFactory(
        service_code="stats-walk",
        default_department=roads,
        handling_days=2,
        escalation_threshold_days=1,
    )

    def register(**kwargs):
        return svc.case_register(
            title="路灯不亮", description="门口路灯坏了。", now=now, **kwargs
        )

    complaint = register(kind="complaint", category=category, is_efficiency=True)
    consultation = register(kind="consultation")
    duplicate = register(kind="help", category=category)
    rejected = register(kind="help")
    check("register")
    call = svc.call_register(
        user=None, caller_phone="13900001111", outcome="answered", received_at=now
    )
    check("call")

    now += timedelta(hours=3)  # past midnight in Shanghai: 2025-12-30
    svc.case_accept(case=complaint.pk, user=None, now=now)
    svc.case_accept(case=consultation.pk, user=None, now=now)
    svc.case_reject(case=rejected.pk, user=None, reason="不属于受理范围", now=now)
    svc.case_merge(case=duplicate.pk, user=None, into=complaint, now=now)
    check("accept, reject, merge")

    before = rollups.stored()
    with pytest.raises(CaseError):
        svc.case_close(case=complaint.pk, user=None, now=now)
    with pytest.raises(CaseError):
        svc.case_escalate(case=complaint.pk, user=None, now=now)
    assert rollups.stored() == before

    # The hotline answers the consultation; dissatisfied, answered again, closed.
    svc.case_answer(case=consultation.pk, user=None, answer="已解答", now=now)
    svc.callback_record(
        case=consultation.pk, user=None, outcome="dissatisfied", method="phone", now=now
    )
    svc.case_reopen(case=consultation.pk, user=None, reason="不满意", now=now)
    svc.case_answer(case=consultation.pk, user=None, answer="再次解答", now=now)
    for method in ("phone", "home_visit", "media_joint"):
        now += timedelta(minutes=10)
        svc.callback_record(
            case=consultation.pk,
            user=None,
            outcome="unreachable",
            method=method,
            now=now,
        )
    svc.case_close(case=consultation.pk, user=None, now=now)
    check("answered, reopened, closed after unreachable callbacks")

    # Dispatched and acknowledged in time; returned; dispatched elsewhere and
    # acknowledged late; overdue, reminded, escalated, published, replied.
    svc.case_dispatch(case=complaint.pk, user=None, department=roads, now=now)
    now += timedelta(hours=1)
    svc.case_acknowledge(case=complaint.pk, user=None, now=now)
    svc.case_return(case=complaint.pk, user=None, reason="非本单位职责", now=now)
    svc.case_dispatch(case=complaint.pk, user=None, department=water, now=now)
    check("dispatch, acknowledge, return")
    now += timedelta(days=3)
    svc.case_acknowledge(case=complaint.pk, user=None, now=now)
    assert CaseEvent.objects.filter(case=complaint.pk).latest("pk").on_time is False
    now += timedelta(days=4)  # into 2026
    scan_overdue(now=now)
    assert CaseEvent.objects.filter(case=complaint.pk, action="reminder").exists()
    assert Case.objects.get(pk=complaint.pk).state == "supervised"
    check("reminder and escalation by the scan")
    now += timedelta(days=1)
    assert svc.case_story_published(case=complaint.pk, now=now)
    assert not svc.case_story_published(case=complaint.pk, now=now + timedelta(hours=1))
    check("published")
    now += timedelta(days=2)
    svc.case_reply(case=complaint.pk, user=None, text="已修复。", now=now)
    svc.callback_record(
        case=complaint.pk, user=None, outcome="satisfied", method="media_joint", now=now
    )
    svc.case_close(case=complaint.pk, user=None, now=now)
    check("replied and closed")
    media = rollups.stored()["MediaEffectDay"]
    assert media == {
        (day_of(now - timedelta(days=2)), water.pk, True, 2, True): {"cases": 1}
    }

    # A case withdrawn while in a department's hands.
    third = register(kind="help", category=category)
    svc.case_accept(case=third.pk, user=None, now=now)
    svc.case_dispatch(case=third.pk, user=None, department=roads, now=now)
    svc.case_withdraw(case=third.pk, user=None, reason="已自行解决", now=now)
    check("withdrawn")

    # Calls moved to another day, deleted, and imported.
    call = Call.objects.get(pk=call.pk)
    call.received_at += timedelta(days=1)
    call.save()
    check("call moved")
    Call.objects.get(pk=call.pk).delete()
    check("call deleted")
    path = tmp_path / "calls.csv"
    path.write_text(
        "call_id,started_at,caller,duration\n"
        f"W-1,{(now - timedelta(hours=20)).isoformat()},13700000000,60\n"
        f"W-2,{now.isoformat()},13700000000,60\n",
        encoding="utf-8",
    )
    with time_machine.travel(now, tick=False):
        call_command("import_calls", str(path), stdout=StringIO())
        call_command("import_calls", str(path), stdout=StringIO())  # nothing new
    check("import")
    assert sum(n["calls"] for n in rollups.stored()["CallDay"].values()) == 2

    counted = Counter()
    for counts in rollups.stored()["CaseDay"].values():
        counted.update(counts)
    assert counted == {
        "registered": 5,
        "accepted": 3,  # a reopened consultation is not accepted a second time
        "answered": 2,
        "dispatched": 3,
        "acknowledged": 2,
        "acknowledged_on_time": 1,
        "returned": 1,
        "escalated": 1,
        "published": 1,
        "replied": 1,
        "completed": 2,
        "finished": 5,
        "reopened": 1,
        "callbacks_satisfied": 1,
        "callbacks_dissatisfied": 1,
        "callbacks_unreachable": 3,
        "callbacks_phone": 2,
        "callbacks_home_visit": 1,
        "callbacks_media_joint": 2,
    }


def test_a_story_of_a_case_never_escalated_counts_its_reply(without_newsroom):
    """A Hot Tracking story may be about any case, not only an escalated one: the
    department's reply after its publication moves the media effect too."""
    now = START
    department = DepartmentFactory(name="道路部门")
    case = svc.case_register(
        kind="help", title="路灯不亮", description="门口路灯坏了。", now=now
    ).pk
    svc.case_accept(case=case, user=None, now=now)
    svc.case_dispatch(case=case, user=None, department=department, now=now)
    published = now + timedelta(hours=1)
    svc.case_story_published(case=case, now=published)
    svc.case_reply(case=case, user=None, text="已修复。", now=now + timedelta(days=1))

    assert rollups.stored()["MediaEffectDay"] == {
        (day_of(published), department.pk, True, 1, False): {"cases": 1}
    }
    assert_rollups_are_exact()
