"""Three years of demo history shaped like the article (``load_demo --scale``).

At scale 1.0 the three years up to today hold about 780,000 calls, a busiest day
of exactly 1,809 calls, 280,000 accepted and 270,000 completed requests (the
third year alone about as many as the first two together), a satisfaction above
98 %, and about 1,000 unfinished efficiency complaints a year ago against about
200 now. Every figure scales with ``scale``; what the hand-made demo cases already
count is taken off, so that the statistics page shows the article's figures.

How it is made:

- The plan is drawn from one seeded random generator, so the same scale on the
  same day gives the same rows. History ends at the start of today (local
  time): an event planned after that has not happened yet, and its case is
  still open in the state it had reached.
- Rows are written in bulk with primary keys chosen here (PostgreSQL: ``COPY``;
  other databases: one prepared ``INSERT`` per batch), never one save per row. The
  services' live rollup updates are therefore not made: the rollups are rebuilt
  once from the raw rows at the end, as ``manage.py rebuild_statistics`` does.
- The history's calls carry the telephony id ``demo-history-<scale>-<n>``: a
  history already loaded is found by it and not loaded again.

Citizens are fake and say so (演示市民, phones 199xxxxxxxx, no address); the
same caller often calls again, and a first-time caller is asked how they heard of
8890 (a share of them at one of this year's community visits).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import random
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone, translation

from tracking import actions
from tracking import calendar as workcal
from tracking.models import (
    Call,
    Callback,
    CallbackMethod,
    CallbackOutcome,
    Case,
    CaseEvent,
    Citizen,
    DepartmentResponse,
    ReferenceSequence,
)
from tracking.statistics import periods, rollups

# The article's figures (seeds: "the hotline's third anniversary").
CALLS = 780_000
BUSIEST_DAY = 1_809
# Accepted / completed: the first two years, then the third year alone (the
# article: 140,000+ / 138,000+, then 138,000+ / 130,000+; 280,000+ / 270,000+ in
# all).
ACCEPTED_EARLY, ACCEPTED_THIRD = 141_000, 139_000
COMPLETED_EARLY, COMPLETED_THIRD = 139_000, 131_000
BACKLOG_YEAR_AGO, BACKLOG_NOW = 1_000, 200

DEFAULT_SCALE = 0.01
MAX_SCALE = 5.0
HISTORY_DAYS = 1096  # three years ending today
THIRD_YEAR_DAYS = 362  # 2016-11-27 .. 2017-11-23 in the article
EXTERNAL_PREFIX = "demo-history-"
SEED = 8890

# Shares the plan is drawn with.
REJECTED_SHARE = 0.02
KINDS = (("consultation", 0.33), ("help", 0.32), ("complaint", 0.35))
HOTLINE_ANSWERS_CONSULTATION = 0.7
EFFICIENCY_SHARE_OF_COMPLAINTS = 0.10
LATE_REPLY_SHARE = 0.04
DISSATISFIED_SHARE = 0.012
UNREACHABLE_SHARE = 0.03
NEW_CALLER_SHARE = 0.55
ASKED_HEARD_OF_SHARE = 0.7
VISIT_ATTRIBUTED_SHARE = 0.3
VISIT_EFFECT_DAYS = 45
HEARD_OF = (
    ("newspaper", 0.3),
    ("friend", 0.35),
    ("broadcast", 0.1),
    ("online", 0.2),
    ("other", 0.05),
)
OTHER_CALLS = (
    ("answered", 0.55),
    ("follow_up", 0.25),
    ("transferred", 0.1),
    ("dropped", 0.1),
)
WEEKDAY = (1.15, 1.0, 1.0, 1.0, 1.0, 0.75, 0.7)
# Local hours calls come in at, by weight (the line is staffed round the clock).
HOURS = (
    [0.2] * 7
    + [1.0, 2.2, 2.6, 2.4, 1.8, 1.4, 1.9, 2.2, 2.1, 1.9, 1.6]
    + [1.2, 1.0, 0.8, 0.6, 0.4, 0.3]
)

# What the history's cases are about, by category name: titles.
TITLES = {
    "交通设施": ["路口信号灯配时不合理", "道路标线磨损不清", "违章停车堵塞通道"],
    "道路建设": ["人行道砖松动破损", "道路坑洼积水", "施工围挡占道时间过长"],
    "市容环境": ["占道经营影响通行", "路灯不亮", "垃圾清运不及时"],
    "消费维权": ["商家拒不退款", "预付卡消费纠纷", "商品质量问题投诉"],
    "供水服务": ["小区停水未提前通知", "自来水水压偏低", "水表漏水"],
    "劳动保障": ["工资拖欠", "社保缴费咨询", "劳动合同纠纷"],
    "政策咨询": ["落户政策咨询", "补贴申请条件咨询", "办事材料咨询"],
    "环境保护": ["夜间施工噪声扰民", "餐饮油烟扰民", "河道污水直排"],
    "教育服务": ["入学划片咨询", "校外培训机构退费", "校车接送安全"],
    "物业管理": ["小区电梯故障频繁", "物业服务不到位", "公共维修资金使用咨询"],
    "食品安全": ["餐馆卫生状况差", "超市销售过期食品", "无证食品摊贩"],
}
DEFAULT_TITLES = ["市民诉求"]
PLACES = [
    "五湖路",
    "花园大道",
    "金胜路",
    "光明路",
    "人民路",
    "和平路",
    "东方小区",
    "锦绣花园",
    "幸福小区",
    "河西桥",
    "新华街",
    "滨河路",
    "建设路",
    "解放路",
]
REPLY_TEXT = "已现场核查并处理，处理情况已向市民说明。"
ANSWER_TEXT = "已按政策口径答复市民。"
WITHDRAW_TEXT = "市民来电撤回诉求。"
REJECT_TEXT = "不属于热线受理范围，已告知市民相关渠道。"
ESCALATE_TEXT = "效能投诉逾期未办结，转热点追踪栏目督办。"


def loaded_scale() -> str | None:
    """The scale of the history in the database (as written), or ``None``."""
    external_id = (
        Call.objects.filter(external_id__startswith=EXTERNAL_PREFIX)
        .values_list("external_id", flat=True)
        .first()
    )
    if external_id is None:
        return None
    return external_id[len(EXTERNAL_PREFIX) :].rsplit("-", 1)[0]


# --- the figures a scale asks for ----------------------------------------------


@dataclass(frozen=True)
class Targets:
    """The article's figures at ``scale`` (before what exists is taken off)."""

    calls: int
    busiest_day: int
    accepted_early: int
    accepted_third: int
    completed_early: int
    completed_third: int
    backlog_year_ago: int
    backlog_now: int

    @classmethod
    def of(cls, scale: float) -> Targets:
        return cls(
            calls=round(CALLS * scale),
            busiest_day=round(BUSIEST_DAY * scale),
            accepted_early=round(ACCEPTED_EARLY * scale),
            accepted_third=round(ACCEPTED_THIRD * scale),
            completed_early=round(COMPLETED_EARLY * scale),
            completed_third=round(COMPLETED_THIRD * scale),
            backlog_year_ago=round(BACKLOG_YEAR_AGO * scale),
            backlog_now=round(BACKLOG_NOW * scale),
        )

    @property
    def accepted(self) -> int:
        return self.accepted_early + self.accepted_third

    @property
    def completed(self) -> int:
        return self.completed_early + self.completed_third


def history_days(today: date) -> list[date]:
    return [today - timedelta(days=HISTORY_DAYS - i) for i in range(HISTORY_DAYS)]


def third_year_start(today: date) -> date:
    return today - timedelta(days=THIRD_YEAR_DAYS)


def year_ago(today: date) -> date:
    return periods.Period(today, today, "").year_earlier().start


def allocate(total: int, weights: list[float], caps: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights``, no share above its cap,
    the rounding given to the largest remainders (deterministic)."""
    if total <= 0:
        return [0] * len(weights)
    if total > sum(caps):
        raise ValueError(f"cannot place {total} in days holding {sum(caps)}")
    whole = sum(weights)
    ideal = [total * w / whole for w in weights]
    counts = [min(math.floor(x), cap) for x, cap in zip(ideal, caps, strict=True)]
    left = total - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - ideal[i], i))
    while left > 0:
        placed = 0
        for i in order:
            if left == 0:
                break
            if counts[i] < caps[i]:
                counts[i] += 1
                left -= 1
                placed += 1
        if not placed:
            raise ValueError("no room left")
    return counts


# --- working days, precomputed for the whole span --------------------------------


class WorkingDays:
    """The working days from ``first`` on, read once a year as they are needed
    (a year ahead only when a deadline falls in it)."""

    def __init__(self, first: date):
        self.calendar = workcal.WorkCalendar()
        self.days: list[date] = []
        self.last = first - timedelta(days=1)
        self.zone = workcal.local_zone()
        self.closing = settings.TRACKING_OFFICE_CLOSING_TIME

    def _through(self, day: date) -> None:
        while self.last < day:
            self.last += timedelta(days=1)
            if self.calendar.is_workday(self.last):
                self.days.append(self.last)

    def add(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` never counts)."""
        self._through(day + timedelta(days=2 * n + 4))
        place = bisect.bisect_right(self.days, day) + n - 1
        while place >= len(self.days):
            self._through(self.last + timedelta(days=30))
        return self.days[place]

    def between(self, after: date, until: date) -> int:
        """Working days in (``after``, ``until``]."""
        self._through(until)
        return bisect.bisect_right(self.days, until) - bisect.bisect_right(
            self.days, after
        )

    def deadline(self, start: datetime, n: int) -> datetime:
        day = self.add(start.astimezone(self.zone).date(), n)
        return datetime.combine(day, self.closing, self.zone)

    def at(self, day: date, hour: float) -> datetime:
        return datetime.combine(day, clock(), self.zone) + timedelta(hours=hour)


# --- the plan of one case --------------------------------------------------------


class Plan:
    """The timeline one history case is to follow (times local, aware)."""

    __slots__ = (
        "index", "call_index", "registered", "kind", "category", "efficiency",
        "fate", "times", "end", "citizen",
    )  # fmt: skip

    def __init__(self, index, call_index, registered, kind, category):
        self.index = index
        self.call_index = call_index
        self.registered = registered
        self.kind = kind
        self.category = category
        self.efficiency = False
        self.fate = ""
        # action -> time, or (for callbacks, dispatches...) lists; see _timeline.
        self.times: dict = {}
        self.end: datetime | None = None
        self.citizen = 0


@dataclass(frozen=True)
class CategoryInfo:
    pk: int
    name: str
    department_id: int | None
    handling_days: int
    acknowledge_days: int
    threshold_days: int


@dataclass(frozen=True)
class Step:
    action: str
    at: datetime
    to_state: str
    department_id: int | None
    on_time: bool | None = None
    working_days: int | None = None
    note: str = ""
    callback: tuple[str, str] | None = None
    response: bool = False
    actor: str = "officer"


class History:
    """Plans the history of one scale, then writes it."""

    def __init__(self, *, scale, categories, users, now):
        self.scale = scale
        self.targets = Targets.of(scale)
        self.rng = random.Random(f"{SEED}-{scale:g}")
        self.zone = workcal.local_zone()
        self.today = timezone.localtime(now, self.zone).date()
        # History ends where today starts: deterministic whatever the hour.
        self.cutoff = datetime.combine(self.today, clock(), self.zone)
        self.days = history_days(self.today)
        self.third_start = third_year_start(self.today)
        self.year_ago = year_ago(self.today)
        self.work = WorkingDays(self.days[0])
        self.categories = [
            CategoryInfo(
                c.pk,
                c.name,
                c.default_department_id,
                c.handling_days,
                c.acknowledge_limit if c.acknowledge_unit == "days" else 1,
                c.escalation_threshold_days,
            )
            for c in categories
        ]
        self.departments = sorted(
            {c.department_id for c in self.categories if c.department_id}
        )
        self.users = {name: user.pk for name, user in users.items()}
        self.liaisons = {
            user.staff_profile.department_id: user.pk
            for user in users.values()
            if getattr(getattr(user, "staff_profile", None), "department_id", None)
        }

    # Planning ---------------------------------------------------------------------

    def _existing(self):
        """What the database counts already in the history's span (the hand-made
        demo cases): calls per day, accepted and completed per part, backlogs."""
        first = self.days[0]
        calls = dict(
            Call.objects.filter(
                received_at__gte=datetime.combine(first, clock(), self.zone)
            )
            .annotate(day=TruncDate("received_at", tzinfo=self.zone))
            .values("day")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("day", "n")
        )
        events = (
            CaseEvent.objects.filter(action__in=("accept", "close"))
            .annotate(day=TruncDate("created_at", tzinfo=self.zone))
            .filter(day__gte=first, day__lte=self.today)
            .values_list("action", "day")
        )
        parts: Counter = Counter()
        for action, day in events:
            parts[(action, day >= self.third_start)] += 1
        unfinished = Case.objects.filter(is_efficiency=True).exclude(
            state__in=rollups.FINISHING_STATES
        )
        year_ago_end = datetime.combine(
            self.year_ago + timedelta(days=1), clock(), self.zone
        )
        backlog_year_ago = (
            Case.objects.filter(is_efficiency=True, registered_at__lt=year_ago_end)
            .exclude(closed_at__lt=year_ago_end)
            .count()
        )
        return calls, parts, unfinished.count(), backlog_year_ago

    def plan(self) -> None:
        rng, t = self.rng, self.targets
        calls_existing, parts, backlog_now, backlog_year_ago = self._existing()
        n = len(self.days)
        third = [day >= self.third_start for day in self.days]
        weights = []
        for i, day in enumerate(self.days):
            if third[i]:
                trend = 1.9 + 0.2 * (i - third.index(True)) / THIRD_YEAR_DAYS
            else:
                trend = 0.55 + 0.9 * i / (n - THIRD_YEAR_DAYS)
            weights.append(trend * WEEKDAY[day.weekday()] * rng.lognormvariate(0, 0.12))
        existing = [calls_existing.get(day, 0) for day in self.days]
        # The busiest day: a Monday of the third year, the rest stay below it.
        mondays = [i for i in range(n) if third[i] and self.days[i].weekday() == 0]
        busiest = rng.choice(mondays[:-1] or mondays)
        self.busiest = self.days[busiest]
        caps = [max(t.busiest_day - 1 - e, 0) for e in existing]
        caps[busiest] = 0
        total = t.calls - sum(calls_existing.values())
        on_busiest = max(t.busiest_day - existing[busiest], 0)
        calls = allocate(total - on_busiest, weights, caps)
        calls[busiest] = on_busiest
        self.calls_per_day = calls

        # Accepted cases per day, per part of the history; then the rejected.
        accepted = [0] * n
        for is_third, target in (
            (False, t.accepted_early - parts[("accept", False)]),
            (True, t.accepted_third - parts[("accept", True)]),
        ):
            idx = [i for i in range(n) if third[i] == is_third]
            share = allocate(
                max(target, 0), [weights[i] for i in idx], [calls[i] for i in idx]
            )
            for i, k in zip(idx, share, strict=True):
                accepted[i] = k
        rejected_total = round(sum(accepted) * REJECTED_SHARE)
        rejected = allocate(
            rejected_total,
            weights,
            [c - a for c, a in zip(calls, accepted, strict=True)],
        )

        # The calls: times, and which of them registered a case.
        self.calls: list[tuple[datetime, int]] = []  # (received, plan index or -1)
        self.plans: list[Plan] = []
        for i, day in enumerate(self.days):
            moments = sorted(self._moment(day) for _ in range(calls[i]))
            registering = set(rng.sample(range(calls[i]), accepted[i] + rejected[i]))
            rejecting = set(rng.sample(sorted(registering), rejected[i]))
            for j, moment in enumerate(moments):
                plan_index = -1
                if j in registering:
                    plan_index = len(self.plans)
                    plan = Plan(
                        plan_index,
                        len(self.calls),
                        moment + timedelta(minutes=rng.uniform(2, 8)),
                        self._pick(KINDS),
                        rng.choice(self.categories),
                    )
                    if plan.kind == "consultation" and rng.random() < 0.5:
                        policy = [c for c in self.categories if c.department_id is None]
                        plan.category = policy[0] if policy else plan.category
                    self._lifecycle(plan, rejected=j in rejecting)
                    self.plans.append(plan)
                self.calls.append((moment, plan_index))

        self._efficiency(backlog_now, backlog_year_ago)
        self._withdrawals(parts)

    def _moment(self, day: date) -> datetime:
        hour = self.rng.choices(range(24), weights=HOURS)[0]
        return datetime.combine(day, clock(hour), self.zone) + timedelta(
            seconds=self.rng.randrange(3600)
        )

    def _pick(self, choices):
        values, weights = zip(*choices, strict=True)
        return self.rng.choices(values, weights=weights)[0]

    def _department(self, plan: Plan) -> int | None:
        if plan.category.department_id or not self.departments:
            return plan.category.department_id
        # A policy question the hotline cannot answer goes to the department
        # whose policy it is.
        return self.departments[plan.index % len(self.departments)]

    def _lifecycle(self, plan: Plan, *, rejected: bool = False) -> None:
        """The times of the case's steps, as it would go if nothing stopped it."""
        rng = self.rng
        times = plan.times = {}
        end_of_day = datetime.combine(
            plan.registered.date() + timedelta(days=1), clock(), self.zone
        ) - timedelta(minutes=1)
        accept = min(
            plan.registered + timedelta(minutes=rng.uniform(5, 60)), end_of_day
        )
        accept = max(accept, plan.registered + timedelta(seconds=30))
        if rejected:
            plan.fate = "rejected"
            times["reject"] = accept
            plan.end = accept
            return
        times["accept"] = accept
        if plan.kind == "consultation" and rng.random() < HOTLINE_ANSWERS_CONSULTATION:
            plan.fate = "answered"
            answered = accept + timedelta(minutes=rng.uniform(10, 180))
            times["answer"] = answered
            reply = answered
        else:
            plan.fate = "dispatched"
            dispatch = accept + timedelta(minutes=rng.uniform(20, 180))
            reply = self._round(plan, times, dispatch, 1)
        callback = self._callback_time(reply)
        if plan.fate == "dispatched" and rng.random() < DISSATISFIED_SHARE:
            times["callback_1"] = (callback, CallbackOutcome.DISSATISFIED)
            reopen = callback + timedelta(minutes=5)
            times["reopen"] = reopen
            reply = self._round(plan, times, reopen + timedelta(minutes=60), 2)
            callback = self._callback_time(reply)
        elif rng.random() < UNREACHABLE_SHARE:
            times["callback_u"] = (callback, CallbackOutcome.UNREACHABLE)
            callback = self._callback_time(callback)
        times["callback"] = (callback, CallbackOutcome.SATISFIED)
        times["close"] = callback + timedelta(minutes=3)
        plan.end = times["close"]

    def _round(self, plan: Plan, times: dict, dispatch: datetime, n: int) -> datetime:
        """One dispatch, acknowledgement and reply; returns the reply's time."""
        rng, work = self.rng, self.work
        category = plan.category
        ack_due = work.deadline(dispatch, category.acknowledge_days)
        due = work.deadline(dispatch, category.handling_days)
        ack = dispatch + timedelta(hours=rng.uniform(0.5, 20))
        if rng.random() < 0.03:
            ack = ack_due + timedelta(hours=rng.uniform(1, 20))
        limit = category.handling_days
        if rng.random() < LATE_REPLY_SHARE:
            k = limit + rng.randint(1, 4)
        else:
            k = min(int(rng.triangular(0, limit + 1, limit * 0.45)), limit)
        dispatch_day = dispatch.astimezone(self.zone).date()
        if k == 0:
            reply = ack + timedelta(hours=rng.uniform(0.5, 3))
        else:
            reply = work.at(work.add(dispatch_day, k), rng.uniform(9, 17))
        reply = max(reply, ack + timedelta(minutes=20))
        # A case still waiting at the end of the history is not overdue: its
        # department answers by the deadline (the live scan takes it from there).
        if due < self.cutoff < reply:
            reply = max(due - timedelta(hours=2), ack + timedelta(minutes=20))
        times[f"dispatch_{n}"] = (dispatch, ack_due, due)
        times[f"acknowledge_{n}"] = ack
        times[f"reply_{n}"] = reply
        return reply

    def _callback_time(self, after: datetime) -> datetime:
        day = self.work.add(after.astimezone(self.zone).date(), 1)
        return self.work.at(day, self.rng.uniform(9.5, 17.5))

    def _local_day(self, moment: datetime | None) -> date | None:
        return moment.astimezone(self.zone).date() if moment else None

    def _unfinished_on(self, plan: Plan, day: date) -> bool:
        registered = self._local_day(plan.registered)
        end = self._local_day(plan.end)
        return registered <= day and (end is None or end > day)

    def _efficiency(self, backlog_now: int, backlog_year_ago: int) -> None:
        """Efficiency complaints: a share of complaints, exactly as many open at
        the end as the article says now, and, a year ago, as many unfinished as it
        says then: the long-stuck ones the paper's supervision cleared since."""
        rng, t = self.rng, self.targets
        open_at_end = [p for p in self.plans if p.end >= self.cutoff]
        for plan in self.plans:
            if plan.kind == "complaint" and plan.fate != "rejected":
                plan.efficiency = rng.random() < EFFICIENCY_SHARE_OF_COMPLAINTS
        for plan in open_at_end:
            plan.efficiency = False
        wanted = max(t.backlog_now - backlog_now, 0)
        candidates = [p for p in open_at_end if p.fate == "dispatched"]
        for plan in rng.sample(candidates, min(wanted, len(candidates))):
            plan.kind, plan.efficiency = "complaint", True
        counted = sum(
            1
            for p in self.plans
            if p.efficiency and self._unfinished_on(p, self.year_ago)
        )
        stuck = t.backlog_year_ago - backlog_year_ago - counted
        if stuck < 0:
            natural = [
                p
                for p in self.plans
                if p.efficiency
                and p.end < self.cutoff
                and self._unfinished_on(p, self.year_ago)
            ]
            for plan in rng.sample(natural, min(-stuck, len(natural))):
                plan.efficiency = False
            return
        first = self.year_ago - timedelta(days=330)
        last = self.year_ago - timedelta(days=10)
        pool = [
            p
            for p in self.plans
            if p.fate == "dispatched"
            and not p.efficiency
            and first <= self._local_day(p.registered) <= last
        ]
        for plan in rng.sample(pool, min(stuck, len(pool))):
            self._stuck(plan)

    def _stuck(self, plan: Plan) -> None:
        """An efficiency complaint its department sat on past the year-ago date,
        handed to the paper and then answered (within the last year)."""
        rng, work = self.rng, self.work
        plan.kind, plan.efficiency, plan.fate = "complaint", True, "stuck"
        times = plan.times
        dispatch, _ack_due, due = times["dispatch_1"]
        for key in ("callback_1", "reopen", "dispatch_2", "acknowledge_2", "reply_2"):
            times.pop(key, None)
        times.pop("callback_u", None)
        span = (self.cutoff - timedelta(days=8)) - datetime.combine(
            self.year_ago + timedelta(days=1), clock(), self.zone
        )
        # Most of them were cleared early in the year: the backlog fell steadily.
        reply = datetime.combine(
            self.year_ago + timedelta(days=1), clock(10), self.zone
        ) + span * (rng.random() ** 1.6)
        threshold_day = work.add(
            due.astimezone(self.zone).date(), plan.category.threshold_days
        )
        escalate = max(
            reply - timedelta(days=rng.uniform(2, 20)),
            work.at(threshold_day + timedelta(days=1), 10),
        )
        if escalate >= reply:
            escalate = reply - timedelta(hours=4)
        times["escalate"] = (escalate, due)
        times["reply_1"] = reply
        callback = self._callback_time(reply)
        times["callback"] = (callback, CallbackOutcome.SATISFIED)
        times["close"] = callback + timedelta(minutes=3)
        plan.end = times["close"]

    def _withdrawals(self, parts: Counter) -> None:
        """Cases the citizen withdrew, as many in each part of the history as make
        its completed cases the article's."""
        rng, t = self.rng, self.targets
        for is_third, target in (
            (False, t.completed_early - parts[("close", False)]),
            (True, t.completed_third - parts[("close", True)]),
        ):
            closing = [
                p
                for p in self.plans
                if p.fate in ("dispatched", "answered", "stuck")
                and p.end < self.cutoff
                and (self._local_day(p.end) >= self.third_start) == is_third
            ]
            extra = len(closing) - max(target, 0)
            pool = [p for p in closing if not p.efficiency and p.fate == "dispatched"]
            for plan in rng.sample(pool, min(max(extra, 0), len(pool))):
                dispatch = plan.times["dispatch_1"][0]
                withdraw = dispatch + (plan.times["reply_1"] - dispatch) / 2
                ack = plan.times["acknowledge_1"]
                kept = ("accept", "dispatch_1") + (
                    ("acknowledge_1",) if ack < withdraw else ()
                )
                plan.times = {key: plan.times[key] for key in kept}
                plan.times["withdraw"] = withdraw
                plan.fate = "withdrawn"
                plan.end = withdraw

    # The timeline of a plan ---------------------------------------------------------

    def steps(self, plan: Plan) -> list[Step]:
        """The plan's events in time order (all of them, even those after the end
        of the history)."""
        times, department = plan.times, self._department(plan)
        registered_department = plan.category.department_id
        steps = [Step("register", plan.registered, "", registered_department)]
        if "reject" in times:
            steps.append(
                Step(
                    "reject",
                    times["reject"],
                    "rejected",
                    registered_department,
                    note=REJECT_TEXT,
                )
            )
            return steps
        steps.append(Step("accept", times["accept"], "accepted", registered_department))
        if "answer" in times:
            steps.append(
                Step(
                    "answer",
                    times["answer"],
                    "answered",
                    registered_department,
                    note=ANSWER_TEXT,
                )
            )
            department = registered_department
        for n in (1, 2):
            if f"dispatch_{n}" not in times:
                continue
            dispatch, ack_due, due = times[f"dispatch_{n}"]
            actor = self.liaisons.get(department) and "liaison"
            steps.append(Step("dispatch", dispatch, "dispatched", department))
            if f"acknowledge_{n}" in times:
                ack = times[f"acknowledge_{n}"]
                steps.append(
                    Step(
                        "acknowledge",
                        ack,
                        "in_progress",
                        department,
                        on_time=ack <= ack_due,
                        actor=actor or "officer",
                    )
                )
            if f"reply_{n}" in times:
                reply = times[f"reply_{n}"]
                days = self.work.between(
                    self._local_day(dispatch), self._local_day(reply)
                )
                steps.append(
                    Step(
                        "reply",
                        reply,
                        "replied",
                        department,
                        on_time=reply <= due,
                        working_days=days,
                        note=REPLY_TEXT,
                        response=True,
                        actor=actor or "officer",
                    )
                )
        if "escalate" in times:
            steps.append(
                Step(
                    "escalate",
                    times["escalate"][0],
                    "supervised",
                    department,
                    note=ESCALATE_TEXT,
                    actor="supervisor",
                )
            )
        for key in ("callback_u", "callback_1", "callback"):
            if key in times:
                at, outcome = times[key]
                steps.append(
                    Step(
                        "callback",
                        at,
                        "",
                        department,
                        callback=(self._method(plan, at), outcome),
                    )
                )
        if "reopen" in times:
            steps.append(Step("reopen", times["reopen"], "reopened", department))
        if "withdraw" in times:
            steps.append(
                Step(
                    "withdraw",
                    times["withdraw"],
                    "withdrawn",
                    department,
                    note=WITHDRAW_TEXT,
                )
            )
        if "close" in times:
            steps.append(Step("close", times["close"], "closed", department))
        steps.sort(key=lambda step: step.at)
        return steps

    def _method(self, plan: Plan, at: datetime) -> str:
        if plan.fate == "stuck":
            return CallbackMethod.MEDIA_JOINT
        # This July the callbacks went from the phone to the doorstep (入户回访).
        if at.month in (7, 8) and at.year == self.today.year and plan.index % 8 == 0:
            return CallbackMethod.HOME_VISIT
        return CallbackMethod.PHONE


# --- writing rows in bulk ---------------------------------------------------------


class Writer:
    """Rows of one model, written in batches: ``COPY`` on PostgreSQL, one
    ``executemany`` elsewhere. NOT NULL fields the caller does not give get
    their default (the models grow; a new field must not stop the demo)."""

    BATCH = 20_000

    def __init__(self, model, fields: list[str]):
        self.model = model
        self.fields = list(fields)
        given = set(self.fields)
        self.defaults = {}
        for field in model._meta.concrete_fields:
            if isinstance(field, models.GeneratedField) or field.attname in given:
                continue
            if field.null or field.db_default is not models.NOT_PROVIDED:
                continue
            self.defaults[field.attname] = field.get_default()
        self.columns = [model._meta.get_field(f).column for f in self.fields] + [
            model._meta.get_field(f).column for f in self.defaults
        ]
        self.rows: list[tuple] = []
        self.written = 0
        self.statements = 0

    def add(self, *row) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if connection.vendor == "postgresql":
            quote = connection.ops.quote_name
            sql = (
                f"COPY {quote(self.model._meta.db_table)} "
                f"({', '.join(quote(c) for c in self.columns)}) FROM STDIN"
            )
            extra = tuple(self.defaults.values())
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                for row in self.rows:
                    copy.write_row(row + extra)
            self.statements += 1
        else:
            # One prepared INSERT run over the batch: bulk_create would cut it
            # into statements of at most 999 parameters on SQLite.
            fields = [self.model._meta.get_field(f) for f in self.fields] + [
                self.model._meta.get_field(f) for f in self.defaults
            ]
            extra = tuple(self.defaults.values())
            prepared = [
                [
                    field.get_db_prep_save(value, connection)
                    for field, value in zip(fields, row + extra, strict=True)
                ]
                for row in self.rows
            ]
            quote = connection.ops.quote_name
            sql = (
                f"INSERT INTO {quote(self.model._meta.db_table)} "
                f"({', '.join(quote(c) for c in self.columns)}) "
                f"VALUES ({', '.join(['%s'] * len(self.columns))})"
            )
            with connection.cursor() as cursor:
                cursor.executemany(sql, prepared)
            self.statements += 1
        self.written += len(self.rows)
        self.rows = []


def _next_pk(model) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


@dataclass
class Loaded:
    scale: float
    calls: int = 0
    cases: int = 0
    events: int = 0
    citizens: int = 0
    seconds: float = 0.0
    skipped: str = ""
    #: Seconds of each phase: plan, write, check (foreign keys), rollups, commit.
    phases: dict = dataclasses.field(default_factory=dict)


def load_history(
    *, scale: float, categories, users, now: datetime | None = None
) -> Loaded:
    """Load the history of ``scale`` unless a history is there already; all or
    nothing, then the rollups rebuilt once from the raw rows."""
    started = time.monotonic()
    result = Loaded(scale=scale)
    if scale <= 0:
        return result
    existing = loaded_scale()
    if existing is not None:
        result.skipped = existing
        return result
    now = now or timezone.now()
    phases = result.phases
    with transaction.atomic():
        history = History(scale=scale, categories=categories, users=users, now=now)
        history.plan()
        phases["plan"] = time.monotonic() - started
        with _foreign_keys_checked_once(WRITTEN):
            _write(history, result)
            phases["write"] = time.monotonic() - started - sum(phases.values())
        phases["check"] = time.monotonic() - started - sum(phases.values())
        rollups.lock_tables()
        rollups.replace(rollups.computed())
        phases["rollups"] = time.monotonic() - started - sum(phases.values())
    phases["commit"] = time.monotonic() - started - sum(phases.values())
    result.seconds = time.monotonic() - started
    return result


WRITTEN = (Citizen, Case, Call, CaseEvent, Callback, DepartmentResponse)


@contextmanager
def _foreign_keys_checked_once(written):
    """PostgreSQL checks a deferred foreign key row by row at the commit, which
    for millions of rows is most of the load. Dropped while the rows are copied
    and added again (in the same transaction), each constraint is checked by one
    query over its table instead."""
    if connection.vendor != "postgresql":
        yield
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Rows written earlier in the transaction (the demo's own, or a test's)
        # leave deferred checks pending, and PostgreSQL refuses to alter a table
        # with pending trigger events: run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [[model._meta.db_table for model in written]],
        )
        found = cursor.fetchall()
        for table, name, _definition in found:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    yield
    with connection.cursor() as cursor:
        for table, name, definition in found:
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}"
            )
        # Back to Django's way for the rest of the transaction: checked at commit.
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _visits(history: History) -> list[tuple[date, int]]:
    from tracking.partners.models import CommunityVisit

    return sorted(
        CommunityVisit.objects.filter(
            date__lt=history.today, date__gte=history.today - timedelta(days=365)
        ).values_list("date", "pk")
    )


def _write(history: History, result: Loaded) -> None:
    rng = random.Random(f"{SEED}-{history.scale:g}-rows")
    zone, cutoff = history.zone, history.cutoff
    officer, supervisor = history.users["officer"], history.users.get("supervisor")
    visits = _visits(history)
    visit_days = [day for day, _pk in visits]
    public = {}
    for name in (
        "register",
        "accept",
        "reject",
        "answer",
        "dispatch",
        "acknowledge",
        "reply",
        "escalate",
        "callback",
        "reopen",
        "withdraw",
        "close",
    ):
        public[name] = actions.get(name).public
    # The callback events say what the services write, in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        method_labels = {k: str(v) for k, v in CallbackMethod.choices}
        outcome_labels = {k: str(v) for k, v in CallbackOutcome.choices}

    citizens = Writer(
        Citizen, ["id", "name", "phone", "address", "email", "created_at"]
    )
    calls = Writer(
        Call,
        [
            "id",
            "external_id",
            "received_at",
            "caller_phone",
            "duration_seconds",
            "outcome",
            "note",
            "citizen_id",
            "case_id",
            "operator_id",
            "heard_of",
            "heard_of_visit_id",
        ],
    )
    cases = Writer(
        Case,
        [
            "id",
            "reference",
            "kind",
            "is_efficiency",
            "title",
            "description",
            "location_text",
            "channel",
            "category_id",
            "department_id",
            "citizen_id",
            "heard_of",
            "heard_of_visit_id",
            "state",
            "registered_at",
            "accepted_at",
            "dispatched_at",
            "acknowledge_due_at",
            "acknowledged_at",
            "late_acknowledgements",
            "due_at",
            "replied_at",
            "closed_at",
            "escalated_at",
            "escalated_due_at",
            "escalated_days_overdue",
            "bounce_count",
        ],
    )
    events = Writer(
        CaseEvent,
        [
            "id",
            "case_id",
            "actor_id",
            "action",
            "from_state",
            "to_state",
            "note",
            "staff_note",
            "public",
            "created_at",
            "department_id",
            "on_time",
            "working_days",
            "due_at",
        ],
    )
    callbacks = Writer(
        Callback,
        [
            "id",
            "case_id",
            "method",
            "outcome",
            "note",
            "called_at",
            "department_id",
            "recorded_by_id",
        ],
    )
    responses = Writer(
        DepartmentResponse,
        [
            "id",
            "case_id",
            "department_id",
            "text",
            "channel",
            "responded_at",
            "recorded_by_id",
        ],
    )
    writers = (citizens, calls, cases, events, callbacks, responses)
    pk = {w.model: _next_pk(w.model) for w in writers}

    def new_pk(model) -> int:
        value = pk[model]
        pk[model] += 1
        return value

    sequences = dict(ReferenceSequence.objects.values_list("day", "last"))
    case_pk = {}
    pool: list[tuple[int, str]] = []  # citizens so far: (pk, phone)
    citizen_of_plan: dict[int, tuple[int, str, str, int | None]] = {}
    call_rows = []
    for number, (received, plan_index) in enumerate(history.calls):
        heard_of, visit = "", None
        if not pool or rng.random() < NEW_CALLER_SHARE:
            citizen_pk = new_pk(Citizen)
            serial = len(pool) + 1
            phone = f"199{serial:08d}"
            citizens.add(citizen_pk, f"演示市民{serial:06d}", phone, "", "", received)
            pool.append((citizen_pk, phone))
            if rng.random() < ASKED_HEARD_OF_SHARE:
                heard_of, visit = _heard_of(rng, received.date(), visits, visit_days)
        else:
            citizen_pk, phone = pool[rng.randrange(len(pool))]
        if plan_index >= 0:
            plan = history.plans[plan_index]
            plan.citizen = citizen_pk
            case_pk[plan_index] = new_pk(Case)
            citizen_of_plan[plan_index] = (citizen_pk, phone, heard_of, visit)
            outcome = "case_created"
        else:
            outcome = history._pick(OTHER_CALLS)
        call_rows.append(
            (number, received, phone, citizen_pk, plan_index, outcome, heard_of, visit)
        )
    prefix = f"{EXTERNAL_PREFIX}{history.scale:g}-"
    for (
        number,
        received,
        phone,
        citizen_pk,
        plan_index,
        outcome,
        heard_of,
        visit,
    ) in call_rows:
        calls.add(
            new_pk(Call),
            f"{prefix}{number:07d}",
            received,
            phone,
            rng.randint(40, 600),
            outcome,
            "",
            citizen_pk,
            case_pk.get(plan_index),
            officer,
            heard_of,
            visit,
        )
    del call_rows

    for plan in history.plans:
        steps = [s for s in history.steps(plan) if s.at < cutoff]
        case_id = case_pk[plan.index]
        citizen_pk, _phone, heard_of, visit = citizen_of_plan[plan.index]
        day = plan.registered.astimezone(zone).date()
        sequences[day] = sequences.get(day, 0) + 1
        reference = f"8890-{day:%Y%m%d}-{sequences[day]:05d}"
        fields = {
            "state": "registered",
            "accepted_at": None,
            "dispatched_at": None,
            "acknowledge_due_at": None,
            "acknowledged_at": None,
            "late": 0,
            "due_at": None,
            "replied_at": None,
            "closed_at": None,
            "escalated_at": None,
            "escalated_due_at": None,
            "escalated_days_overdue": None,
            "department_id": plan.category.department_id,
        }
        state = "registered"
        for step in steps:
            from_state = state if step.to_state else ""
            fields["department_id"] = step.department_id
            actor = {"officer": officer, "supervisor": supervisor}.get(
                step.actor, history.liaisons.get(step.department_id, officer)
            )
            due_at = None
            if step.action == "accept":
                fields["accepted_at"] = step.at
            elif step.action in ("reject", "close", "withdraw"):
                fields["closed_at"] = step.at
            elif step.action in ("answer", "reply"):
                fields["replied_at"] = step.at
            elif step.action == "dispatch":
                key = next(
                    k
                    for k in ("dispatch_1", "dispatch_2")
                    if plan.times.get(k, (None,))[0] == step.at
                )
                _at, ack_due, due = plan.times[key]
                fields.update(
                    dispatched_at=step.at,
                    acknowledged_at=None,
                    acknowledge_due_at=ack_due,
                    due_at=due,
                )
            elif step.action == "acknowledge":
                fields["acknowledged_at"] = step.at
                fields["late"] += not step.on_time
            elif step.action == "escalate":
                due = fields["due_at"]
                fields.update(
                    escalated_at=step.at,
                    escalated_due_at=due,
                    escalated_days_overdue=history.work.between(
                        due.astimezone(zone).date(),
                        step.at.astimezone(zone).date() - timedelta(days=1),
                    ),
                )
            elif step.action == "reopen":
                fields["replied_at"] = None
                fields["due_at"] = history.work.deadline(
                    step.at, plan.category.handling_days
                )
            note = step.note
            if step.callback is not None:
                method, outcome = step.callback
                note = f"{method_labels[method]}: {outcome_labels[outcome]}"
                callbacks.add(
                    new_pk(Callback),
                    case_id,
                    method,
                    outcome,
                    "",
                    step.at,
                    step.department_id,
                    officer,
                )
            if step.response:
                responses.add(
                    new_pk(DepartmentResponse),
                    case_id,
                    step.department_id,
                    REPLY_TEXT,
                    "system",
                    step.at,
                    actor,
                )
            events.add(
                new_pk(CaseEvent),
                case_id,
                actor,
                step.action,
                from_state,
                step.to_state,
                str(note),
                "",
                public[step.action],
                step.at,
                step.department_id,
                step.on_time,
                step.working_days,
                due_at,
            )
            if step.to_state:
                state = step.to_state
        fields["state"] = state
        titles = TITLES.get(plan.category.name, DEFAULT_TITLES)
        place = PLACES[plan.index % len(PLACES)]
        title = f"{place}{titles[plan.index % len(titles)]}"
        cases.add(
            case_id,
            reference,
            plan.kind,
            plan.efficiency,
            title,
            f"市民来电反映：{title}，请核实处理。",
            place,
            "phone",
            plan.category.pk,
            fields["department_id"],
            citizen_pk,
            heard_of,
            visit,
            state,
            plan.registered,
            fields["accepted_at"],
            fields["dispatched_at"],
            fields["acknowledge_due_at"],
            fields["acknowledged_at"],
            fields["late"],
            fields["due_at"],
            fields["replied_at"],
            fields["closed_at"],
            fields["escalated_at"],
            fields["escalated_due_at"],
            fields["escalated_days_overdue"],
            0,
        )
    # The foreign keys are checked at the commit (deferred on both backends).
    for writer in writers:
        writer.flush()
    ReferenceSequence.objects.bulk_create(
        [ReferenceSequence(day=day, last=last) for day, last in sequences.items()],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=["last"],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(
            no_style(), [w.model for w in writers]
        ):
            cursor.execute(sql)
    result.calls = calls.written
    result.cases = cases.written
    result.events = events.written
    result.citizens = citizens.written


def _heard_of(rng, day: date, visits, visit_days) -> tuple[str, int | None]:
    """How a first-time caller heard of 8890: often at a community visit held in
    the weeks before the call."""
    place = bisect.bisect_right(visit_days, day) - 1
    if place >= 0 and (day - visit_days[place]).days <= VISIT_EFFECT_DAYS:
        if rng.random() < VISIT_ATTRIBUTED_SHARE:
            return "community_visit", visits[place][1]
    values, weights = zip(*HEARD_OF, strict=True)
    return rng.choices(values, weights=weights)[0], None
