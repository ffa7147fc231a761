"""The home screen of each staff role: its work queues (tracking.queues).

A role's panel has the count of each queue on top, each a link to the listing
that shows the same cases, then the first rows of each queue. Every queue costs a
fixed number of queries (its count and its first rows), however long it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext
from wagtail.admin.auth import user_has_any_page_permission
from wagtail.admin.ui.components import Component
from wagtail.admin.views.home import (
    LockedPagesPanel,
    RecentEditsPanel,
    UserObjectsInWorkflowModerationPanel,
    WorkflowObjectsToModeratePanel,
)

from .. import calendar, queues, roles
from ..models import Case
from .case import CASE_URL_NAMESPACE, case_url

#: Rows shown of each queue; the count links to the rest.
ROWS = 10

# Wagtail's own dashboard panels: pages, of no use to who has no page to edit.
PAGE_PANELS = (
    WorkflowObjectsToModeratePanel,
    UserObjectsInWorkflowModerationPanel,
    RecentEditsPanel,
    LockedPagesPanel,
)


# --- what a panel shows ---------------------------------------------------------------


@dataclass
class Cell:
    """One cell of a queue's table: text, a link, or an instant (local time)."""

    text: str = ""
    url: str | None = None
    at: datetime | None = None
    strong: bool = False
    note: str = ""


@dataclass
class Queue:
    """One queue: its count (a link to the listing of all of it) and first rows."""

    key: str
    title: str
    count: int
    url: str | None
    columns: list[str]
    rows: list[list[Cell]]
    empty: str
    #: The count is work past a deadline: shown in bold when there is any.
    urgent: bool = False

    @property
    def more(self) -> int:
        return max(self.count - len(self.rows), 0)


class QueuePanel(Component):
    """A role's home panel: counts on top, then each queue's first rows."""

    template_name = "tracking/admin/home/queue_panel.html"

    def __init__(self, *, name: str, heading: str, queues: list[Queue], order=20):
        self.name = name
        self.heading = heading
        self.queues = queues
        self.order = order

    def get_context_data(self, parent_context=None):
        return {"panel": self, "queues": self.queues}


# --- formatting -------------------------------------------------------------------


def short_date(at: datetime) -> str:
    """A local date as people say it: "9 Dec", "12月9日"."""
    # Translators: a date without the year (Django date format), e.g. "n月j日".
    return calendar.local_format(at, pgettext("day and month", "j M"))


def overdue_note(days: int) -> str:
    return ngettext(
        "Overdue by %(days)s working day", "Overdue by %(days)s working days", days
    ) % {"days": days}


def escalation_cell(at: datetime, now: datetime) -> Cell:
    if at <= now:
        # Past its day already: the next overdue scan hands it over.
        return Cell(str(_("Escalates at the next scan")), strong=True)
    return Cell(str(_("Escalates to the media on %(date)s") % {"date": short_date(at)}))


def case_listing_url(key: str) -> str:
    return (
        reverse(f"{CASE_URL_NAMESPACE}:index")
        + "?"
        + urlencode(queues.LISTING_QUERIES[key])
    )


def _ref(case: Case) -> Cell:
    return Cell(case.reference, url=case_url(case))


def _deadline(case: Case, now: datetime) -> Cell:
    days = case.working_days_overdue(now)
    return Cell(
        at=case.due_at,
        strong=days > 0,
        note=overdue_note(days) if days else "",
    )


def case_queue(
    key: str, title: str, queryset, columns, row, empty, *, urgent=False
) -> Queue:
    """A queue of cases: its count, its first rows, each made by ``row(case)``."""
    return Queue(
        key=key,
        title=title,
        count=queryset.count(),
        url=case_listing_url(key),
        columns=[str(c) for c in columns],
        rows=[row(case) for case in queryset[:ROWS]],
        empty=str(empty),
        urgent=urgent,
    )


# --- the roles' panels ------------------------------------------------------------


def officer_panel(user, now: datetime) -> QueuePanel:
    calls = queues.calls_today(user, now)
    today = timezone.localtime(now).date().isoformat()
    calls_url = (
        reverse("tracking_calls:index")
        + "?"
        + urlencode({"received_at_from": today, "received_at_to": today})
    )

    def callback_row(case):
        due = queues.callback_due_at(case)
        return [
            _ref(case),
            Cell(case.title),
            Cell(case.get_state_display()),
            Cell(at=case.replied_at),
            Cell(at=due, strong=bool(due and due < now)),
        ]

    return QueuePanel(
        name="officer_queues",
        heading=str(_("Hotline work")),
        queues=[
            case_queue(
                "to_accept",
                _("To accept"),
                queues.to_accept(user),
                [_("Reference"), _("Title"), _("Kind"), _("Registered")],
                lambda case: [
                    _ref(case),
                    Cell(case.title),
                    Cell(case.get_kind_display()),
                    Cell(at=case.registered_at),
                ],
                _("No case waits to be accepted."),
            ),
            case_queue(
                "callbacks_due",
                _("Callbacks due"),
                queues.callbacks_due(user),
                [
                    _("Reference"),
                    _("Title"),
                    _("State"),
                    _("Answered"),
                    _("Callback due by"),
                ],
                callback_row,
                _("No callback is due."),
            ),
            case_queue(
                "returned",
                _("Returned by departments"),
                queues.returned(user),
                [
                    _("Reference"),
                    _("Title"),
                    _("Returned by"),
                    _("Times returned"),
                    _("Deadline"),
                ],
                lambda case: [
                    _ref(case),
                    Cell(case.title),
                    Cell(str(case.department or "")),
                    Cell(str(case.bounce_count)),
                    _deadline(case, now),
                ],
                _("No case was returned."),
            ),
            Queue(
                key="calls_today",
                title=str(_("Today's calls")),
                count=calls.count(),
                url=calls_url,
                columns=[str(_("Received")), str(_("Outcome")), str(_("Case"))],
                rows=[
                    [
                        Cell(at=call.received_at),
                        Cell(call.get_outcome_display()),
                        Cell(call.case.reference, url=case_url(call.case_id))
                        if call.case_id
                        else Cell(),
                    ]
                    for call in calls[:ROWS]
                ],
                empty=str(_("No call today yet.")),
            ),
        ],
    )


def liaison_panel(user, now: datetime) -> QueuePanel:
    def acknowledge_row(case):
        late = bool(case.acknowledge_due_at and case.acknowledge_due_at < now)
        return [
            _ref(case),
            Cell(case.title),
            Cell(at=case.dispatched_at),
            Cell(
                at=case.acknowledge_due_at,
                strong=late,
                note=str(_("Late")) if late else "",
            ),
        ]

    def supervised_row(case):
        if case.reported_at:
            story = Cell(
                str(_("Reported on %(date)s") % {"date": short_date(case.reported_at)})
            )
        else:
            story = Cell(str(_("Not yet reported")))
        return [
            _ref(case),
            Cell(case.title),
            Cell(case.get_state_display()),
            Cell(at=case.escalated_at),
            story,
        ]

    overdue = queues.overdue(user, now)
    return QueuePanel(
        name="liaison_queues",
        heading=str(_("Your department's cases")),
        queues=[
            case_queue(
                "to_acknowledge",
                _("To acknowledge"),
                queues.to_acknowledge(user),
                [_("Reference"), _("Title"), _("Dispatched"), _("Acknowledge by")],
                acknowledge_row,
                _("No case waits to be acknowledged."),
            ),
            case_queue(
                "in_hand",
                _("In progress"),
                queues.in_hand(user),
                [_("Reference"), _("Title"), _("State"), _("Deadline")],
                lambda case: [
                    _ref(case),
                    Cell(case.title),
                    Cell(case.get_state_display()),
                    _deadline(case, now),
                ],
                _("No case in progress."),
            ),
            case_queue(
                "overdue",
                _("Overdue"),
                overdue,
                [_("Reference"), _("Title"), _("State"), _("Deadline")],
                lambda case: [
                    _ref(case),
                    Cell(case.title),
                    Cell(case.get_state_display()),
                    _deadline(case, now),
                ],
                _("No case is overdue."),
                urgent=True,
            ),
            case_queue(
                "media_supervised",
                _("Under media supervision"),
                queues.media_supervised(user),
                [_("Reference"), _("Title"), _("State"), _("Escalated"), _("Story")],
                supervised_row,
                _("No case is under media supervision."),
            ),
        ],
    )


def supervisor_panel(user, now: datetime) -> QueuePanel:
    forecast = queues.escalation_forecast(user, now)
    return QueuePanel(
        name="supervisor_queues",
        heading=str(_("Supervision")),
        queues=[
            case_queue(
                "overdue",
                _("Overdue"),
                queues.overdue(user, now),
                [_("Reference"), _("Title"), _("Department"), _("Deadline")],
                lambda case: [
                    _ref(case),
                    Cell(case.title),
                    Cell(str(case.department or "")),
                    _deadline(case, now),
                ],
                _("No case is overdue."),
                urgent=True,
            ),
            Queue(
                key="escalating_soon",
                title=str(_("Will escalate next")),
                count=len(forecast),
                url=case_listing_url("escalating_soon"),
                columns=[
                    str(_("Reference")),
                    str(_("Title")),
                    str(_("Department")),
                    str(_("Deadline")),
                    str(_("Escalation")),
                ],
                rows=[
                    [
                        _ref(case),
                        Cell(case.title),
                        Cell(str(case.department or "")),
                        _deadline(case, now),
                        escalation_cell(at, now),
                    ]
                    for case, at in forecast[:ROWS]
                ],
                empty=str(_("No case will escalate within a week.")),
            ),
            case_queue(
                "bounced",
                _("Returned more than once"),
                queues.bounced(user),
                [
                    _("Reference"),
                    _("Title"),
                    _("Department"),
                    _("Times returned"),
                    _("State"),
                ],
                lambda case: [
                    _ref(case),
                    Cell(case.title),
                    Cell(str(case.department or "")),
                    Cell(str(case.bounce_count)),
                    Cell(case.get_state_display()),
                ],
                _("No case was returned more than once."),
            ),
            case_queue(
                "extensions_pending",
                _("Extensions to decide"),
                queues.extensions_pending(user),
                [
                    _("Reference"),
                    _("Title"),
                    _("Department"),
                    _("Days asked"),
                    _("Reason"),
                    _("Asked at"),
                ],
                lambda case: [
                    _ref(case),
                    Cell(case.title),
                    Cell(str(case.department or "")),
                    Cell(str(case.extension_days)),
                    Cell(Truncator(case.extension_reason).chars(80)),
                    Cell(at=case.extension_asked_at),
                ],
                _("No extension request waits for a decision."),
            ),
        ],
    )


def role_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def home_panels(user, now: datetime | None = None) -> list[QueuePanel]:
    """The queue panels of ``user``'s roles (all of them for a superuser)."""
    now = now or timezone.now()
    names = role_names(user)
    everything = user.is_superuser
    panels = []
    # Deadlines of many cases at one moment: each year's calendar is read once.
    with calendar.shared():
        if everything or roles.SUPERVISORS in names:
            panels.append(supervisor_panel(user, now))
        if everything or roles.CASE_OFFICERS in names:
            panels.append(officer_panel(user, now))
        if roles.DEPARTMENT_LIAISONS in names and not user.has_perm(
            "tracking.view_all_cases"
        ):
            panels.append(liaison_panel(user, now))
    return panels


def prune_page_panels(user, panels: list) -> None:
    """Take out Wagtail's page panels for staff who have no page to edit."""
    if user.is_superuser or user_has_any_page_permission(user):
        return
    panels[:] = [panel for panel in panels if not isinstance(panel, PAGE_PANELS)]
