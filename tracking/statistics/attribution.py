"""First-time callers and how they heard of 8890 (issue 13: "many first called
8890 because of a community visit day").

A first-time caller of a period is a citizen whose first contact with the
hotline ever, a call or a case, falls in the period. A citizen is known by their
phone number, as the hotline finds a caller again (``Citizen.phone``): a call by
its ``caller_phone``, a case by its citizen's phone, both stored normalized. A
contact without a number (a withheld call, a case with no phone) cannot be told
apart from anyone else's and is left out.

The first contact is the earliest by time; on a tie a call comes before a case
(a case is registered from its call), and the lower id first. Each citizen has
exactly one, so nobody is counted twice: the first contact is read for what it
says of ``heard_of`` and ``heard_of_visit``, and a case registered from a call
gives the call its answer (:func:`tracking.services.case_register`).

The figures are read from a rollup kept as calls and cases are written
(:mod:`.first_contacts`): the first-time callers per day, answer and visit day,
so a period costs one query on that table and one on the visit days, whatever
the number of calls. The definition itself is the pair of querysets below, the
contacts that have no earlier contact of the same number (``NOT EXISTS``, on the
indexes of ``Call.caller_phone``, ``Citizen.phone`` and ``Case.citizen``): the
rollup is rebuilt from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, Sum
from django.utils.translation import gettext as _

from .. import redaction
from ..calendar import local_day_range
from ..models import Call, Case, FirstContactDay, HeardOf
from ..partners.models import CommunityVisit
from .periods import Period

#: The key of first-time callers who were not asked (or did not say).
NOT_ASKED = ""


def _earlier_calls(calls, phone, at, pk=None, *, inclusive: bool):
    """Calls of the number ``phone`` before ``at`` (or at ``at``: ``inclusive``;
    or at ``at`` with an id below ``pk``)."""
    before = Q(received_at__lt=at)
    if inclusive:
        before |= Q(received_at=at)
    elif pk is not None:
        before |= Q(received_at=at, pk__lt=pk)
    return calls.objects.filter(before, caller_phone=phone)


def _earlier_cases(cases, phone, at, pk=None):
    """Cases of a citizen with the number ``phone`` before ``at`` (or at ``at``
    with an id below ``pk``)."""
    before = Q(registered_at__lt=at)
    if pk is not None:
        before |= Q(registered_at=at, pk__lt=pk)
    return cases.objects.filter(before, citizen__phone=phone)


def _models(m):
    return (m.Call, m.Case) if m is not None else (Call, Case)


def first_calls(period: Period | None, m=None):
    """The calls of the period (None: ever) that are their caller's first
    contact. ``m`` holds the models (a migration passes its own)."""
    calls, cases = _models(m)
    phone, at, pk = OuterRef("caller_phone"), OuterRef("received_at"), OuterRef("pk")
    queryset = calls.objects.exclude(caller_phone="")
    if period is not None:
        since, until = local_day_range(period.start, period.end)
        queryset = queryset.filter(received_at__gte=since, received_at__lt=until)
    return queryset.filter(
        ~Exists(_earlier_calls(calls, phone, at, pk, inclusive=False)),
        ~Exists(_earlier_cases(cases, phone, at)),
    )


def first_cases(period: Period | None, m=None):
    """The cases of the period (None: ever) that are their citizen's first
    contact (no call of the number came before, or at the same instant)."""
    calls, cases = _models(m)
    phone = OuterRef("citizen__phone")
    at, pk = OuterRef("registered_at"), OuterRef("pk")
    queryset = cases.objects.exclude(citizen__isnull=True).exclude(citizen__phone="")
    if period is not None:
        since, until = local_day_range(period.start, period.end)
        queryset = queryset.filter(registered_at__gte=since, registered_at__lt=until)
    return queryset.filter(
        ~Exists(_earlier_calls(calls, phone, at, inclusive=True)),
        ~Exists(_earlier_cases(cases, phone, at, pk)),
    )


def _answers(period: Period) -> list[tuple[str, int, int]]:
    """(answer, visit id or 0, first-time callers) of the period, from the
    rollup."""
    return list(
        FirstContactDay.objects.filter(day__gte=period.start, day__lte=period.end)
        .values_list("heard_of", "visit_id")
        .annotate(n=Sum("callers"))
        .filter(n__gt=0)
        .order_by()
    )


@dataclass(frozen=True)
class HeardOfCount:
    value: str  # a HeardOf value, or NOT_ASKED
    label: str
    first_time_callers: int

    def as_dict(self) -> dict:
        return {
            "heard_of": self.value or None,
            "label": self.label,
            "first_time_callers": self.first_time_callers,
        }


@dataclass(frozen=True)
class VisitFigures:
    """A community visit day and the first-time callers who said they heard of
    8890 there."""

    visit_id: int
    date: date
    place: str  # redacted
    people_served: int | None
    first_time_callers: int

    def as_dict(self) -> dict:
        return {
            "date": self.date.isoformat(),
            "place": self.place,
            "people_served": self.people_served,
            "first_time_callers": self.first_time_callers,
        }


@dataclass(frozen=True)
class Attribution:
    """First-time callers of a period, by how they heard of 8890 and by visit
    day. Numbers only: nothing of any caller."""

    period: Period
    first_time_callers: int
    heard_of: list[HeardOfCount]
    #: Those whose first contact says "a community visit day".
    attributed_to_visits: int
    #: Of those, the ones whose visit day was not recorded.
    visit_not_recorded: int
    #: Visit days held in the period, and any earlier day a caller named.
    visits: list[VisitFigures]

    @property
    def asked(self) -> int:
        return self.first_time_callers - sum(
            row.first_time_callers for row in self.heard_of if row.value == NOT_ASKED
        )

    def as_dict(self) -> dict:
        return {
            "first_time_callers": self.first_time_callers,
            "asked": self.asked,
            "attributed_to_visits": self.attributed_to_visits,
            "visit_not_recorded": self.visit_not_recorded,
            "heard_of": [row.as_dict() for row in self.heard_of],
            "visits": [visit.as_dict() for visit in self.visits],
        }


def attribution(period: Period, *, rules=None) -> Attribution:
    """The first-time callers of ``period`` (local days) and how they heard of
    8890, in two queries whatever the number of calls and cases.

    A visit's place is redacted with ``rules`` (a public page passes its own);
    without them the global rules are read, only when there is a visit to show.
    """
    counts: dict[tuple[str, int | None], int] = {}
    for heard_of, visit_id, n in _answers(period):
        # An answer no longer offered counts as none.
        answer = heard_of if heard_of in HeardOf.values else NOT_ASKED
        key = (answer, visit_id or None)
        counts[key] = counts.get(key, 0) + n
    by_heard_of: dict[str, int] = {}
    by_visit: dict[int, int] = {}
    not_recorded = 0
    for (heard_of, visit_id), n in counts.items():
        by_heard_of[heard_of] = by_heard_of.get(heard_of, 0) + n
        if heard_of != HeardOf.COMMUNITY_VISIT:
            continue
        if visit_id is None:
            not_recorded += n
        else:
            by_visit[visit_id] = by_visit.get(visit_id, 0) + n
    visits = CommunityVisit.objects.filter(
        Q(date__gte=period.start, date__lte=period.end) | Q(pk__in=list(by_visit))
    ).order_by("date", "pk")
    if rules is None:
        rules = redaction.rules_for() if visits else []
    labels = dict(HeardOf.choices)
    heard_of = [
        HeardOfCount(value, str(labels[value]), by_heard_of.get(value, 0))
        for value in HeardOf.values
    ]
    heard_of.append(
        HeardOfCount(NOT_ASKED, _("Not asked"), by_heard_of.get(NOT_ASKED, 0))
    )
    return Attribution(
        period=period,
        first_time_callers=sum(counts.values()),
        heard_of=heard_of,
        attributed_to_visits=by_heard_of.get(HeardOf.COMMUNITY_VISIT, 0),
        visit_not_recorded=not_recorded,
        visits=[
            VisitFigures(
                visit_id=visit.pk,
                date=visit.date,
                place=redaction.redact(visit.place, rules=rules),
                people_served=visit.people_served,
                first_time_callers=by_visit.get(visit.pk, 0),
            )
            for visit in visits
        ],
    )
