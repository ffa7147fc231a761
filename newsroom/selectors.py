"""Reads for the public pages: a story's live timeline, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracking.calendar import working_days_overdue
from tracking.models import Callback
from tracking.redaction import rules_for
from tracking.selectors import TimelineItem, public_events, public_timeline

from .models import status_of

# TimelineItem lives in tracking.selectors (the progress lookup reads the same
# timeline); it is still importable from here.
__all__ = ["StoryFacts", "TimelineItem", "story_facts"]


@dataclass
class StoryFacts:
    items: list[TimelineItem]
    days_overdue_at_escalation: int | None
    days_to_response: int | None
    status: str
    callback: Callback | None


def story_facts(story, now: datetime | None = None, *, rules=None) -> StoryFacts:
    """Everything a story page shows from its case, read live and redacted."""
    now = now or timezone.now()
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
    )
