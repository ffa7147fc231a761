"""Writes of the newsroom: turning a case into a Hot Tracking story draft."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from wagtail.models import Page
from wagtail.rich_text import RichText

from cms import tasks_backend
from tracking import calendar
from tracking.exceptions import TransitionRefused
from tracking.models import Case, CaseEvent
from tracking.redaction import redact, rules_for
from tracking.selectors import public_timeline

from .models import ColumnPage, HotTrackingPage, YearIndexPage

logger = logging.getLogger(__name__)


class NoHotTrackingColumn(TransitionRefused):
    """There is no column marked as the Hot Tracking column: a refusal with its
    message, like any other a case action can meet."""


def hot_tracking_column() -> ColumnPage:
    column = ColumnPage.objects.filter(is_hot_tracking=True).order_by("pk").first()
    if column is None:
        raise NoHotTrackingColumn(_("No column is marked as the Hot Tracking column."))
    return column


def _year_index(column: ColumnPage, year: int) -> YearIndexPage:
    """The column's index page for ``year``, created under a lock on the column."""
    existing = YearIndexPage.objects.child_of(column).filter(year=year).first()
    if existing:
        return existing
    with transaction.atomic():
        # Lock the column row: treebeard computes the new child's path from the
        # last sibling, so two workers adding children at once would collide.
        column = ColumnPage.objects.select_for_update().get(pk=column.pk)
        existing = YearIndexPage.objects.child_of(column).filter(year=year).first()
        if existing:
            return existing
        index = YearIndexPage(title=str(year), slug=str(year), year=year, live=True)
        column.add_child(instance=index)
        index.save_revision().publish()
        return index


# The road or community a case is about, as a headline names it. Read from the
# redacted location, so the citizen's own address is already masked; only Chinese
# characters count, so a house or room number, a phone number, a mask (***) or
# a masked name (周某) ends the place.
_PLACE_CHAR = r"(?:(?!某)[\u4e00-\u9fff])"
_ADMIN_PART = re.compile(
    rf"{_PLACE_CHAR}{{1,8}}?(?:特别行政区|自治区|自治州|省|市|县|(?<![小社园])区)"
)
_STREET_PART = re.compile(
    rf"{_PLACE_CHAR}{{1,12}}?"
    r"(?:十字路口|交叉口|路口|大道|大街|街道|胡同|小区|社区|路|街|巷)"
)
# "周某反映：" in front of a title: the headline names the problem, not the caller.
_SPEAKER = re.compile(r"^[^：:]{1,12}?(?:反映|投诉|求助|咨询|举报)\s*[：:]\s*")
_SENTENCE_END = "。！？!?.…"
DESCRIPTION_CHARS = 300
HEADLINE_CHARS = 255


def draft_place(location: str) -> tuple[str, list[str]]:
    """The short place of a redacted location and its street parts:
    ``镜湖区幸福路18号附近`` → ``幸福路``. The district is dropped when a street
    follows; without a street the last administrative part is the place."""
    position, admin, streets = 0, [], []
    text = "".join(location.split())
    while position < len(text):
        match = (not streets and _ADMIN_PART.match(text, position)) or (
            _STREET_PART.match(text, position)
        )
        if not match:
            break
        part = match.group(0)
        (streets if match.re is _STREET_PART else admin).append(part)
        position = match.end()
    if streets:
        return "".join(streets), streets
    return (admin[-1] if admin else ""), admin[-1:]


def _sentence(text: str) -> str:
    text = text.strip()
    if text and text[-1] not in _SENTENCE_END:
        text += pgettext("end of a sentence", ".")
    return text


def _days_overdue(case: Case, now: datetime) -> int | None:
    """Working days overdue as the paper reports it: when the case was escalated
    (kept whatever extends the deadline later), else now; None if not overdue."""
    if case.escalated_days_overdue is not None:
        return case.escalated_days_overdue
    if case.is_overdue(now):
        return case.working_days_overdue(now)
    return None


def story_draft_content(case: Case, *, now: datetime | None = None) -> dict:
    """Title, standfirst and body of a new story: a first draft in the paper's form.

    A headline naming the problem and the place and how long it is overdue; a
    standfirst; a lede with the facts (what was reported and when, the department
    and its deadline, the working days overdue, what the hotline did); the case's
    public timeline as the public story page shows it; and a "reporter's
    follow-up" box for the editor's own reporting. Every text from the case is
    redacted (then cut, then escaped into the rich text); everything is editable.
    Written in the install's language, whoever or whatever asks for it.
    """
    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        return _draft(case, now)


@dataclass
class _Facts:
    """What a draft says about its case, every text redacted."""

    problem: str
    place: str
    description: str
    department: str
    days_overdue: int | None


def _facts(case: Case, rules, now: datetime) -> _Facts:
    title = redact(case.title, case=case, rules=rules).strip()
    problem = _SPEAKER.sub("", title).rstrip(_SENTENCE_END + "，,；; ") or title
    place, streets = draft_place(redact(case.location_text, case=case, rules=rules))
    if place and not any(part in problem for part in streets):
        problem = place + problem
    description = redact(case.description, case=case, rules=rules).strip()
    return _Facts(
        problem=problem,
        place=place,
        description=Truncator(description).chars(DESCRIPTION_CHARS),
        department=case.department.name if case.department_id else "",
        days_overdue=_days_overdue(case, now),
    )


def _headline(facts: _Facts) -> str:
    """The problem and the place, then what residents say: "幸福路人行道地砖松动
    市民反映逾期 7 个工作日未解决"."""
    days = facts.days_overdue
    if days:
        report = ngettext(
            "Residents report it unresolved %(days)s working day past the deadline",
            "Residents report it unresolved %(days)s working days past the deadline",
            days,
        ) % {"days": days}
    else:
        report = _("Residents report it still unresolved")
    problem = Truncator(facts.problem).chars(HEADLINE_CHARS - len(report) - 1)
    return f"{problem} {report}"


def _standfirst(facts: _Facts) -> list[str]:
    sentences = [
        _("Residents reported to the 8890 hotline: %(problem)s.")
        % {"problem": facts.problem}
    ]
    values = {"department": facts.department, "days": facts.days_overdue}
    if facts.department and facts.days_overdue:
        sentences.append(
            ngettext(
                "%(department)s has left it unresolved %(days)s working day past "
                "its deadline.",
                "%(department)s has left it unresolved %(days)s working days past "
                "its deadline.",
                facts.days_overdue,
            )
            % values
        )
    elif facts.department:
        sentences.append(_("%(department)s has not resolved it yet.") % values)
    return sentences


def _lede(case: Case, facts: _Facts, now: datetime) -> list[str]:
    """The facts: what was reported and when, the department and its deadline,
    the working days overdue, what the hotline did."""
    values = {
        "date": calendar.local_format(case.registered_at, "DATE_FORMAT"),
        "place": facts.place,
        "description": _sentence(facts.description),
        "department": facts.department,
    }
    if facts.place:
        sentences = [
            _(
                "On %(date)s, a resident told the 8890 hotline about %(place)s: "
                "%(description)s"
            )
            % values
        ]
    else:
        sentences = [
            _("On %(date)s, a resident told the 8890 hotline: %(description)s") % values
        ]
    deadline = case.escalated_due_at or case.due_at
    if facts.department and deadline:
        values["deadline"] = calendar.local_format(deadline, "DATETIME_FORMAT")
        sentences.append(
            _(
                "The hotline set a deadline of %(deadline)s and passed it to "
                "%(department)s."
            )
            % values
        )
    elif facts.department:
        sentences.append(_("The hotline passed it to %(department)s.") % values)
    if facts.days_overdue:
        sentences.append(
            ngettext(
                "By %(date)s it was %(days)s working day past the deadline and "
                "still unresolved.",
                "By %(date)s it was %(days)s working days past the deadline and "
                "still unresolved.",
                facts.days_overdue,
            )
            % {
                "date": calendar.local_format(case.escalated_at or now, "DATE_FORMAT"),
                "days": facts.days_overdue,
            }
        )
    reminders = CaseEvent.objects.filter(case_id=case.pk, action="reminder").count()
    if reminders:
        sentences.append(
            ngettext(
                "The hotline reminded the department %(count)s time.",
                "The hotline reminded the department %(count)s times.",
                reminders,
            )
            % {"count": reminders}
        )
    if case.bounce_count:
        sentences.append(
            ngettext(
                "The case was sent back to the hotline %(count)s time.",
                "The case was sent back to the hotline %(count)s times.",
                case.bounce_count,
            )
            % {"count": case.bounce_count}
        )
    if case.escalated_at:
        sentences.append(
            _("On %(date)s the hotline handed it to the paper for media supervision.")
            % {"date": calendar.local_format(case.escalated_at, "DATE_FORMAT")}
        )
    return sentences


def _timeline(case: Case, rules) -> str:
    """The case's public timeline (the story page's, so nothing internal), as a
    list under a heading; "" when it is empty."""
    lines = []
    for item in public_timeline(case, rules=rules):
        values = {
            "time": calendar.local_format(item.at, "DATETIME_FORMAT"),
            "label": item.label,
            "text": Truncator(item.text.strip()).chars(DESCRIPTION_CHARS),
        }
        if values["text"]:
            line = _("%(time)s %(label)s: “%(text)s”") % values
        else:
            line = _("%(time)s %(label)s") % values
        lines.append(f"<li>{escape(line)}</li>")
    if not lines:
        return ""
    return f"<h3>{escape(_('How the case went'))}</h3><ul>{''.join(lines)}</ul>"


def _draft(case: Case, now: datetime) -> dict:
    rules = rules_for(case)
    facts = _facts(case, rules, now)
    # Sentences of Chinese text follow each other without a space.
    separator = "" if translation.get_language().startswith("zh") else " "
    body = [("paragraph", f"<p>{escape(separator.join(_lede(case, facts, now)))}</p>")]
    if timeline := _timeline(case, rules):
        body.append(("paragraph", timeline))
    placeholder = _("(The reporter's interviews and on-site checks)")
    body.append(
        (
            "box",
            {
                "heading": _("Reporter's follow-up"),
                "text": RichText(f"<p>{escape(placeholder)}</p>"),
            },
        )
    )
    return {
        "title": _headline(facts),
        "standfirst": separator.join(_standfirst(facts)),
        "body": body,
    }


def story_create_for_case(
    *,
    case: Case | int,
    user=None,
    now: datetime | None = None,
    on_created: Callable[[HotTrackingPage], object] | None = None,
) -> HotTrackingPage:
    """The Hot Tracking story draft of a case, created once and put into review.

    Idempotent: a second call returns the same page (and one story per case is
    enforced by a unique constraint). The page goes under the column's year index,
    is saved as a draft revision and starts the column's review workflow, whose
    first task belongs to the Editors (they write it and pass it on) and whose
    second to the Chief editors (their approval publishes it).

    Made in two short transactions, so that parallel scans add stories side by
    side: the first only adds the page under the year index, whose row lock
    serialises additions under one parent and is held this long and no longer;
    the second saves the draft revision, starts the workflow and calls
    ``on_created(story)`` (where the case records its story), all or nothing. A
    story left without its second transaction (a crash between the two) is
    completed by the next call. Search- and reference-index updates run once, after
    both (``cms.tasks_backend``). Call it outside any transaction of the case.
    """
    case_id = case.pk if isinstance(case, Case) else case
    story = HotTrackingPage.objects.filter(case_id=case_id).first()
    if story is not None and story.latest_revision_id:
        return story
    with tasks_backend.hold():  # index the story once, not after each transaction
        # The workflow is read before the transaction. A new page has none of its
        # own and takes its year index's (the nearest ancestor's that has one).
        if story is None:
            story, year_index = _add_story_page(case_id, now or timezone.now(), user)
            workflow = year_index.get_workflow()
        else:  # left incomplete by an earlier call
            workflow = story.get_workflow()
        return _complete_story(story, workflow, user, on_created)


def _add_story_page(
    case_id: int, now: datetime, user
) -> tuple[HotTrackingPage, YearIndexPage]:
    """The story's page under its year index (and the index), in a transaction of
    its own."""
    # Everything the page needs is read before the lock.
    case = Case.objects.select_related("citizen", "department").get(pk=case_id)
    year_index = _year_index(hot_tracking_column(), timezone.localdate(now).year)
    content = story_draft_content(case, now=now)
    page = HotTrackingPage(
        title=content["title"],
        slug=case.reference.lower(),
        standfirst=content["standfirst"],
        body=content["body"],
        case=case,
        live=False,
        owner=user,
        locale_id=year_index.locale_id,
    )
    try:
        with transaction.atomic():
            # Serialise additions under the same parent (see _year_index); the
            # parent is read again under the lock, as treebeard needs it current.
            parent = YearIndexPage.objects.select_for_update().get(pk=year_index.pk)
            if HotTrackingPage.objects.filter(case_id=case_id).exists():
                return HotTrackingPage.objects.get(case_id=case_id), year_index
            parent.add_child(instance=page)
    except IntegrityError:
        # Another worker added this case's story first.
        return HotTrackingPage.objects.get(case_id=case_id), year_index
    return page, year_index


def _complete_story(
    story: HotTrackingPage, workflow, user, on_created
) -> HotTrackingPage:
    """The draft revision and the review workflow of a new story, once."""
    with transaction.atomic():
        # One completion per story: a second worker waits here, then finds it done.
        revision_id = (
            Page.objects.select_for_update()
            .filter(pk=story.pk)
            .values_list("latest_revision_id", flat=True)
            .get()
        )
        if revision_id is not None:
            return HotTrackingPage.objects.get(pk=story.pk)
        # Validated when the page was added, and unchanged since (as in Wagtail's
        # own create view).
        revision = story.save_revision(user=user, clean=False, log_action=True)
        if workflow is not None:
            workflow.start(story, user)
        if on_created is not None:
            on_created(story)
        logger.info(
            "story %s created for case %s (revision %s)",
            story.pk,
            story.case.reference,
            revision.pk,
        )
    return story
