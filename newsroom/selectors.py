"""Reads for the public pages, each in a fixed number of queries: a story's live
timeline, and the figures of the statistics page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.images import get_image_model

from tracking import calendar
from tracking.calendar import working_days_overdue
from tracking.models import Callback, CallbackMethod
from tracking.partners.models import CommunityVisit, CommunityVisitPhoto, ServiceTeam
from tracking.redaction import rules_for
from tracking.selectors import TimelineItem, public_events, public_timeline
from tracking.statistics import periods
from tracking.statistics.figures import (
    DepartmentFigures,
    Rate,
    Report,
    min_sample,
    story_silence,
)

from . import charts, public
from .models import status_of

# TimelineItem lives in tracking.selectors (the progress lookup reads the same
# timeline); it is still importable from here.
__all__ = [
    "StoryFacts",
    "TimelineItem",
    "shown_rate",
    "statistics_figures",
    "story_facts",
]


@dataclass
class StoryFacts:
    items: list[TimelineItem]
    days_overdue_at_escalation: int | None
    days_to_response: int | None
    status: str
    callback: Callback | None
    # Working days the department has left the case unanswered past its deadline
    # ("未回复，已逾期 N 个工作日"), or None when it owes nothing overdue.
    silence_days: int | None = None
    # The department's latest reply as the public reads it (redacted), set apart
    # on the story as a quote with its date; None before the department replies.
    reply: TimelineItem | None = None


def story_facts(story, now: datetime | None = None, *, rules=None) -> StoryFacts:
    """Everything a story page shows from its case, read live and redacted."""
    # The days overdue (timeline, silence) read the year's calendar once.
    with calendar.shared():
        return _story_facts(story, now or timezone.now(), rules)


def _story_facts(story, now: datetime, rules) -> StoryFacts:
    case = story.case
    if rules is None:
        rules = rules_for(case)
    events = public_events(case)
    callback = (
        Callback.objects.filter(case_id=case.pk).order_by("-called_at", "-pk").first()
    )
    items = public_timeline(case, rules=rules, events=events)

    # Overdue when the paper took the case up (stored then: a deadline extended or
    # restarted later does not change what was reported), else overdue now.
    days_overdue = None
    figure = None
    deadline = case.due_at
    if case.escalated_days_overdue is not None:
        days_overdue = figure = case.escalated_days_overdue
        deadline = case.escalated_due_at
    elif case.is_overdue(now):
        figure = working_days_overdue(case.due_at, now)
    if figure is not None:
        items.append(
            TimelineItem(
                deadline,
                "overdue",
                str(_("Deadline passed")),
                ngettext(
                    "Overdue by %(days)s working day",
                    "Overdue by %(days)s working days",
                    figure,
                )
                % {"days": figure},
            )
        )
    published = story.first_published_at
    if published:
        edition = ""
        if story.print_date:
            edition = str(_("Print edition %(date)s, page %(page)s")) % {
                "date": story.print_date.isoformat(),
                "page": story.print_page or "-",
            }
        items.append(
            TimelineItem(
                published, "published", str(_("Reported in the paper")), edition
            )
        )
    if callback is not None:
        items.append(
            TimelineItem(
                callback.called_at,
                "callback",
                str(_("Callback")),
                f"{callback.get_method_display()}: {callback.get_outcome_display()}",
            )
        )
    items.sort(key=lambda item: item.at)

    days_to_response = None
    if published:
        reply = next(
            (e for e in events if e.action == "reply" and e.created_at >= published),
            None,
        )
        if reply is not None:
            days_to_response = (
                timezone.localdate(reply.created_at) - timezone.localdate(published)
            ).days
    return StoryFacts(
        items=items,
        days_overdue_at_escalation=days_overdue,
        days_to_response=days_to_response,
        status=status_of(case.state),
        callback=callback,
        silence_days=story_silence(case, now),
        reply=next(
            (item for item in reversed(items) if item.kind == "reply" and item.text),
            None,
        ),
    )


# --- The statistics page ------------------------------------------------------------


@dataclass(frozen=True)
class ShownRate:
    """A rate as the public reads it: its percentage, or "too few cases" (样本不足)
    under the threshold; always with its sample size."""

    value: str
    sample: int
    sufficient: bool


def shown_rate(rate: Rate) -> ShownRate:
    value = rate.percent if rate.sufficient else str(_("Too few cases"))
    return ShownRate(value=value, sample=rate.sample, sufficient=rate.sufficient)


@dataclass(frozen=True)
class DepartmentRow:
    figures: DepartmentFigures
    response: ShownRate
    resolution: ShownRate
    satisfaction: ShownRate

    @property
    def rates(self) -> tuple[ShownRate, ShownRate, ShownRate]:
        return (self.response, self.resolution, self.satisfaction)

    @property
    def score(self) -> str:
        """The ranking's score as a percentage ("" for a department not ranked)."""
        score = self.figures.score
        return "" if score is None else f"{score * 100:.1f}%"


@dataclass(frozen=True)
class AgeRow:
    label: str
    cases: int


def _age_label(low: int, high: int | None) -> str:
    if high is None:
        return str(_("%(days)s days or more")) % {"days": low}
    if low == 0:
        return str(_("Under %(days)s days")) % {"days": high}
    return str(_("%(low)s to %(high)s days")) % {"low": low, "high": high - 1}


def _departments(report: Report, period) -> list[DepartmentRow]:
    return [
        DepartmentRow(
            figures=d,
            response=shown_rate(d.response),
            resolution=shown_rate(d.resolution),
            satisfaction=shown_rate(d.satisfaction),
        )
        for d in report.departments(period)
    ]


def statistics_figures(report: Report) -> dict:
    """Everything the statistics page shows, from one :class:`Report` (a fixed
    number of queries whatever the history), with the geometry of its charts."""
    # The days overdue of every listed case read each year's calendar once.
    with calendar.shared():
        return _statistics_figures(report)


def _statistics_figures(report: Report) -> dict:
    period = report.period
    headline = report.headline()
    callbacks = headline.callbacks
    months = report.months()
    daily = report.daily_calls()
    ranking_period = report.ranking_month()
    ranking = _departments(report, ranking_period)
    ranked = [row for row in ranking if row.figures.rank is not None]
    media = report.media_effect()
    years = report.years()
    backlog = report.backlog()
    today = report.today
    last_year_start = (today.replace(day=1) - timedelta(days=334)).replace(day=1)
    return {
        "period": period,
        "period_label": period.label(),
        "headline": headline,
        "satisfaction": shown_rate(headline.satisfaction),
        "years": [(h, shown_rate(h.satisfaction)) for h in years],
        "months": months,
        "months_chart": charts.vertical_bars(
            [(accepted, completed) for _m, _calls, accepted, completed in months],
            [month.strftime("%m") for month, *_rest in months],
        ),
        "daily": daily,
        "daily_chart": charts.vertical_bars(
            [(n,) for _day, n in daily],
            [day.strftime("%m-%d") for day, _n in daily],
            label_every=15,
        ),
        "backlog": backlog,
        "ages": [AgeRow(_age_label(low, high), n) for low, high, n in backlog.ages],
        "departments": _departments(report, None),
        "ranking_period": ranking_period,
        "ranking_label": ranking_period.label(),
        "ranking": ranking,
        "ranking_chart": charts.horizontal_bars(
            [row.figures.score * 100 for row in ranked],
            [row.figures.name for row in ranked],
            maximum=100,
        ),
        "callbacks": callbacks,
        "callback_methods": [
            (label, callbacks.by_method.get(method, 0))
            for method, label in CallbackMethod.choices
        ],
        "unreachable": shown_rate(callbacks.unreachable_share),
        "media": media,
        "media_solved": (
            shown_rate(media.reported.solved_within_7),
            shown_rate(media.unreported.solved_within_7),
        ),
        "silence": [
            (silence, silence.overdue - len(silence.cases))
            for silence in report.silence()
        ],
        "choices": {
            "years": [h.period for h in years],
            "months": [periods.month(m.year, m.month) for m, *_rest in months],
            "last_12_months": f"{last_year_start.isoformat()}..{today.isoformat()}",
        },
        "minimum_sample": min_sample(),
    }


# --- community visit days (社区月月进) ------------------------------------------------

# How many past visits the column lists (the newest).
PAST_VISITS_SHOWN = 12


# The photos of past visits, as the column shows them.
VISIT_PHOTO_SPEC = "max-640x480"


@dataclass(frozen=True)
class PublicPhoto:
    url: str
    width: int
    height: int
    alt: str


@dataclass(frozen=True)
class PublicVisit:
    """A community visit day as the public reads it: redacted text, no partner
    and nothing of a partner's contact; photos once the day is past."""

    date: date
    place: str
    services: str
    teams: tuple[str, ...]
    summary: str
    people_served: int | None
    photos: tuple[PublicPhoto, ...] = ()


@dataclass(frozen=True)
class CommunityVisits:
    upcoming: list[PublicVisit]
    past: list[PublicVisit]
    people_served: int

    def __bool__(self) -> bool:
        return bool(self.upcoming or self.past)


def _public_photo(photo, place: str, rules) -> PublicPhoto:
    # The renditions were prefetched: an existing one costs no query; a missing
    # one is made once, and is there for every later reader.
    rendition = photo.image.get_rendition(VISIT_PHOTO_SPEC)
    caption = public.text(photo.caption, rules)
    return PublicPhoto(
        url=rendition.url,
        width=rendition.width,
        height=rendition.height,
        alt=caption or place,
    )


def _public_visit(visit: CommunityVisit, rules, *, past: bool = False) -> PublicVisit:
    place = public.text(visit.place, rules)
    return PublicVisit(
        date=visit.date,
        place=place,
        services=public.text(visit.services, rules),
        teams=tuple(public.text(team.name, rules) for team in visit.teams.all()),
        summary=public.text(visit.summary, rules),
        people_served=visit.people_served,
        photos=tuple(
            _public_photo(photo, place, rules) for photo in visit.visit_photos.all()
        )
        if past
        else (),
    )


def community_visits(rules, today: date | None = None) -> CommunityVisits:
    """The upcoming visits (from ``today``, the local date, soonest first) and
    the latest past ones with their photos, split by the local date, in a fixed
    number of queries whatever their number: the visits, their teams, the past
    ones' photos with their images, those images' renditions, the sum served."""
    today = today or timezone.localdate()
    rules = public.rules_key(rules)
    renditions = (
        get_image_model()
        .get_rendition_model()
        .objects.filter(filter_spec=VISIT_PHOTO_SPEC)
    )
    photos = (
        CommunityVisitPhoto.objects.filter(visit__date__lt=today)
        .select_related("image")
        .prefetch_related(
            Prefetch(
                "image__renditions",
                queryset=renditions,
                to_attr="prefetched_renditions",
            )
        )
        .order_by("sort_order", "pk")
    )
    visits = CommunityVisit.objects.filter(
        Q(date__gte=today) | Q(pk__in=_latest_past(today))
    ).prefetch_related(
        Prefetch("teams", queryset=ServiceTeam.objects.order_by("name")),
        Prefetch("visit_photos", queryset=photos),
    )
    upcoming, past = [], []
    for visit in visits.order_by("date", "pk"):
        if visit.date >= today:
            upcoming.append(_public_visit(visit, rules))
        else:
            past.append(_public_visit(visit, rules, past=True))
    served = CommunityVisit.objects.filter(date__lt=today).aggregate(
        total=Sum("people_served")
    )["total"]
    return CommunityVisits(
        upcoming=upcoming, past=past[::-1], people_served=served or 0
    )


def _latest_past(today: date):
    return CommunityVisit.objects.past(today).values("pk")[:PAST_VISITS_SHOWN]
