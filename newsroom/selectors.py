"""Reads for the public pages: a story's live timeline, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracking.calendar import working_days_overdue
from tracking.models import Callback, CaseEvent
from tracking.redaction import redact, rules_for

# Public events of a case and how the public timeline words them.
TIMELINE_LABELS = {
    "register": _("Request received"),
    "accept": _("Accepted by the hotline"),
    "dispatch": _("Dispatched to the department"),
    "acknowledge": _("Department took the case"),
    "escalate": _("Handed to Hot Tracking"),
    "reply": _("Department replied"),
    "reopen": _("Citizen dissatisfied: handled again"),
    "close": _("Closed"),
    "withdraw": _("Withdrawn by the citizen"),
    "answer": _("Answered by the hotline"),
    "reject": _("Not accepted"),
}
# Whose words a note is: department responses are quoted, other notes are not
# shown (they are internal reasons), except the department's name on dispatch.
QUOTED_NOTES = {"reply", "answer"}
SHOWN_NOTES = {"dispatch"}


@dataclass
class TimelineItem:
    at: datetime
    kind: str
    label: str
    text: str = ""


@dataclass
class StoryFacts:
    items: list[TimelineItem]
    days_overdue_at_escalation: int | None
    days_to_response: int | None
    status: str
    callback: Callback | None


def story_facts(story, now: datetime | None = None, *, rules=None) -> StoryFacts:
    """Everything a story page shows from its case, read live and redacted."""
    from .models import status_of

    now = now or timezone.now()
    case = story.case
    if rules is None:
        rules = rules_for(case)
    events = list(
        CaseEvent.objects.public().filter(case_id=case.pk).order_by("created_at", "pk")
    )
    callback = (
        Callback.objects.filter(case_id=case.pk).order_by("-called_at", "-pk").first()
    )
    items = []
    for event in events:
        label = TIMELINE_LABELS.get(event.action)
        if label is None:
            continue
        text = ""
        if event.action in QUOTED_NOTES or event.action in SHOWN_NOTES:
            text = redact(event.note, case=case, rules=rules)
        items.append(TimelineItem(event.created_at, event.action, str(label), text))

    # Overdue when the paper took the case up, else overdue now. A deadline set
    # after the escalation (reopened, extended) has not passed at that instant.
    days_overdue = None
    figure = None
    if case.due_at and case.escalated_at and case.escalated_at > case.due_at:
        days_overdue = figure = working_days_overdue(case.due_at, case.escalated_at)
    elif case.is_overdue(now):
        figure = working_days_overdue(case.due_at, now)
    if figure is not None:
        items.append(
            TimelineItem(
                case.due_at,
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

