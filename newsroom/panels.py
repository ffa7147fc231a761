"""Admin panels for editors working on a Hot Tracking story."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from wagtail.admin.panels import Panel

from tracking import calendar
from tracking.redaction import find_personal_data, redact_segments, rules_for


class CaseTimelinePanel(Panel):
    """The bound case's facts and full timeline, and personal data still in the
    draft.

    Editors write the story from the case; this shows them the figures a headline
    names (the department, the deadline, the working days overdue when the paper
    took the case up and now) and what happened, with the notes redacted as the
    public would read them and the masked spots highlighted, warns them about
    personal data left in the text they are about to submit, and lets them add a
    censor rule for this case.
    """

    class BoundPanel(Panel.BoundPanel):
        template_name = "newsroom/admin/case_timeline_panel.html"

        def is_shown(self):
            return bool(getattr(self.instance, "case_id", None))

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            page = self.instance
            case = page.case
            rules = rules_for(case)
            events = list(
                case.events.select_related("actor").order_by("created_at", "pk")
            )
            context["case"] = case
            context["facts"] = case_facts(case, timezone.now())
            context["events"] = [
                (event, redact_segments(event.note, rules=rules)) for event in events
            ]
            context["personal_data"] = find_personal_data(draft_text(page), case=case)
            context["add_rule_url"] = (
                reverse("tracking_censor_rules:add")
                + "?"
                + urlencode({"case": case.reference})
            )
            return context


def _local(moment) -> str:
    return calendar.local_format(moment, "DATETIME_FORMAT") if moment else ""


def case_facts(case, now) -> dict:
    """The case's deadline figures in the hotline's local time: the deadline in
    force, the one the paper reported (when the case was escalated) and the
    working days overdue then and now."""
    return {
        "due_at": _local(case.due_at),
        "escalated_at": _local(case.escalated_at),
        "escalated_due_at": _local(case.escalated_due_at),
        "days_overdue_at_escalation": case.escalated_days_overdue,
        "overdue_now": case.is_overdue(now),
        "days_overdue_now": case.working_days_overdue(now),
    }


def draft_text(page) -> str:
    """Everything readable in a story draft, for the personal-data check."""
    parts = [page.title, getattr(page, "standfirst", "")]
    for block in getattr(page, "body", None) or []:
        value = block.value
        if hasattr(value, "source"):
            parts.append(strip_tags(value.source))
        elif isinstance(value, dict) or hasattr(value, "get"):
            for item in value.values():
                if hasattr(item, "source"):  # rich text in a struct (the box)
                    parts.append(strip_tags(item.source))
                elif isinstance(item, str):
                    parts.append(item)
        elif isinstance(value, str):
            parts.append(value)
    return "\n".join(p for p in parts if p)
