"""Writes of the case workflow. One service per business action.

Every service runs in one transaction: it locks the case row, checks that the case
is still in the state the user saw, checks permission and conditions, runs the
transition, saves, writes exactly one :class:`CaseEvent`, and queues side effects
to run after commit. A refusal leaves nothing behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy
from django_fsm import ConcurrentTransition

from . import actions, hooks, outbox
from . import models as m
from .actions import DEPARTMENT
from .calendar import (
    deadline_after,
    local_day,
    local_format,
    working_days_between,
)
from .exceptions import (
    CaseConflict,
    CasePermissionDenied,
    InvalidInput,
    TransitionRefused,
)
from .models import (
    Callback,
    Case,
    CaseEvent,
    Category,
    Citizen,
    Department,
    DepartmentResponse,
    State,
)
from .models.timeline import local_day_and_time
from .signals import case_changed, case_event_recorded
from .statistics import first_contacts, rollups

logger = logging.getLogger(__name__)

CONDITION_MESSAGES = {
    m.has_department: gettext_lazy("Choose the department to dispatch the case to."),
    m.has_response_since_dispatch: gettext_lazy(
        "Record the department's response before replying."
    ),
    m.callback_allows_close: ngettext_lazy(
        "A case is closed after a satisfied callback, or after the citizen could "
        "not be reached %(tries)s time.",
        "A case is closed after a satisfied callback, or after the citizen could "
        "not be reached %(tries)s times.",
        "tries",
    ),
    m.callback_dissatisfied: gettext_lazy(
        "A case is reopened only after a dissatisfied callback."
    ),
    m.overdue_past_threshold: ngettext_lazy(
        "The case is not yet %(days)s working day overdue.",
        "The case is not yet %(days)s working days overdue.",
        "days",
    ),
    m.escalation_due: ngettext_lazy(
        "The case is not yet %(days)s working day overdue.",
        "The case is not yet %(days)s working days overdue.",
        "days",
    ),
}

# --- the one path every transition takes ---------------------------------------------


def _lock(case: Case | int, *, expect_state: str | None, user=None) -> Case:
    """Lock the case row; refuse users outside its department before telling them
    anything about it, then refuse if it changed since the user saw it."""
    pk = case.pk if isinstance(case, Case) else case
    try:
        locked = Case.objects.select_for_update().get(pk=pk)
    except Case.DoesNotExist:
        raise InvalidInput(_("This case does not exist.")) from None
    if user is not None and not m.may_act_on(locked, user):
        raise CasePermissionDenied(_("You may not act on this case."))
    if expect_state is not None and locked.state != expect_state:
        raise CaseConflict(
            _(
                "Case %(reference)s was changed by someone else meanwhile (it is now "
                "%(state)s). Reload it and try again."
            )
            % {"reference": locked.reference, "state": locked.get_state_display()}
        )
    return locked


def _expected_state(case: Case | int, expect_state: str | None) -> str | None:
    if expect_state is not None:
        return expect_state
    return case.state if isinstance(case, Case) else None


def _check_allowed(locked: Case, name: str, user) -> None:
    """Refuse a transition the state or the user's role does not allow."""
    meta = getattr(locked, name)._django_fsm
    if not meta.has_transition(locked.state):
        raise TransitionRefused(
            _("A case that is “%(state)s” cannot be %(action)s.")
            % {
                "state": locked.get_state_display(),
                "action": actions.get(name).done or name,
            }
        )
    if user is not None and not meta.has_transition_perm(locked, locked.state, user):
        raise CasePermissionDenied(
            _("You may not do this to case %(reference)s.")
            % {"reference": locked.reference}
        )


def _check_conditions(locked: Case, name: str) -> None:
    """Refuse a transition whose conditions fail, saying which one."""
    transition = getattr(locked, name)._django_fsm.get_transition(locked.state)
    for condition in transition.conditions:
        if not condition(locked):
            message = CONDITION_MESSAGES.get(condition, _("The case is not ready."))
            # Formatted before str(): a counted message picks its plural form
            # from the number it is given.
            raise TransitionRefused(
                str(
                    message
                    % {
                        "days": locked.escalation_threshold_days,
                        "tries": settings.TRACKING_UNREACHABLE_CALLBACKS_TO_CLOSE,
                    }
                )
            )


def record_event(
    case: Case,
    *,
    action: str,
    user,
    now: datetime,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    staff_note: str = "",
    public: bool | None = None,
    callback: Callback | None = None,
    due_at: datetime | None = None,
) -> CaseEvent:
    """Write one line of the case's timeline, with the facts the statistics count
    (the department in charge, the limit kept), and count it in the rollups."""
    event = CaseEvent.objects.create(
        case=case,
        actor=user,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        staff_note=staff_note,
        public=actions.get(action).public if public is None else public,
        created_at=now,
        due_at=due_at,
        department_id=case.department_id,
        **_measures(case, action, now),
    )
    rollups.event_recorded(case, event, callback)
    _after_commit(case, event)
    return event


def _measures(case: Case, action: str, now: datetime) -> dict:
    """Whether an acknowledgement or a reply kept its limit, and the working days
    a reply took from the dispatch (not counting the day of dispatch)."""
    if action == "acknowledge" and case.acknowledge_due_at:
        return {"on_time": now <= case.acknowledge_due_at}
    if action == "reply":
        measures = {"on_time": bool(case.due_at and now <= case.due_at)}
        if case.dispatched_at:
            measures["working_days"] = min(
                working_days_between(case.dispatched_at, now), 32767
            )
        return measures
    return {}


def _after_commit(case: Case, event: CaseEvent) -> None:
    """Owe the event's notifications (in this transaction), then tell receivers."""
    if actions.get(event.action).notifies(DEPARTMENT) and case.department_id:
        outbox.send("tracking.tasks.notify_case_event", event.pk, now=event.created_at)
    case_event_recorded.send(sender=Case, case=case, event=event)
    case_id, action, event_id = case.pk, event.action, event.pk
    transaction.on_commit(
        lambda: case_changed.send(
            sender=Case, case_id=case_id, action=action, event_id=event_id
        )
    )


def _transition(
    case: Case | int,
    name: str,
    *,
    user,
    now: datetime | None,
    expect_state: str | None = None,
    note: str = "",
    staff_note: str = "",
    prepare=None,
    **params,
) -> Case:
    """Lock, check, transition, save, log one event: all or nothing."""
    now = now or timezone.now()
    expected = _expected_state(case, expect_state)
    try:
        with transaction.atomic():
            locked = _lock(case, expect_state=expected, user=user)
            locked._now = now
            _check_allowed(locked, name, user)
            if prepare is not None:
                prepare(locked)
            _check_conditions(locked, name)
            from_state = locked.state
            try:
                getattr(locked, name)(**params)
            except ValidationError as exc:
                raise InvalidInput(" ".join(exc.messages)) from None
            locked.save()
            record_event(
                locked,
                action=name,
                user=user,
                now=now,
                from_state=from_state,
                to_state=locked.state,
                note=note,
                staff_note=staff_note,
            )
    except ConcurrentTransition:
        raise CaseConflict(
            _(
                "The case was changed by someone else meanwhile. "
                "Reload it and try again."
            )
        ) from None
    except IntegrityError:
        logger.exception("integrity error during %s", name)
        raise CaseConflict(
            _("The case could not be saved. Reload it and try again.")
        ) from None
    return locked


# --- transitions ---------------------------------------------------------------------


def case_accept(
    *,
    case: Case | int,
    user,
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """The hotline takes the request on (受理)."""
    return _transition(case, "accept", user=user, now=now, expect_state=expect_state)


def case_reject(
    *,
    case: Case | int,
    user,
    reason: str,
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """Refuse a request that is not for the hotline; a reason is required."""
    return _transition(
        case,
        "reject",
        user=user,
        now=now,
        reason=reason,
        note=reason.strip(),
        expect_state=expect_state,
    )


def case_answer(
    *,
    case: Case | int,
    user,
    answer: str,
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """The hotline answers a consultation itself; a callback then closes it."""
    return _transition(
        case,
        "answer",
        user=user,
        now=now,
        answer=answer,
        note=answer.strip(),
        expect_state=expect_state,
    )


def case_dispatch(
    *,
    case: Case | int,
    user,
    department: Department | None,
    note: str = "",
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """Send the case to a department; its deadline counts working days from now.

    ``note`` is the officer's word to the department (staff only: the public
    timeline names the department and nothing else).
    """
    if department is not None and not department.is_active:
        raise InvalidInput(
            _("Department %(name)s is not active.") % {"name": department}
        )

    def prepare(locked: Case) -> None:
        locked.department = department

    return _transition(
        case,
        "dispatch",
        user=user,
        now=now,
        prepare=prepare,
        note=department.name if department else "",
        staff_note=note.strip(),
        expect_state=expect_state,
    )


def case_acknowledge(
    *,
    case: Case | int,
    user,
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """The department confirms it has taken the case (签收)."""
    return _transition(
        case, "acknowledge", user=user, now=now, expect_state=expect_state
    )


def case_return(
    *,
    case: Case | int,
    user,
    reason: str,
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """The department sends the case back to the hotline; a reason is required."""
    return _transition(
        case,
        "return_case",
        user=user,
        now=now,
        reason=reason,
        note=reason.strip(),
        expect_state=expect_state,
    )


def case_escalate(
    *,
    case: Case | int,
    user=None,
    reason: str = "",
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """Hand a case to the media (媒体督办), once.

    ``user=None`` is the system (the escalation scan): only a case overdue past its
    category's threshold. A supervisor (``escalate_case``) may decide earlier, even
    before the deadline, but must give a reason; the timeline records the decision
    as theirs. Either way the case gets its Hot Tracking story the same way.
    """
    reason = reason.strip()
    if user is not None and not reason:
        raise InvalidInput(_("A reason is required to escalate a case by hand."))

    def prepare(locked: Case) -> None:
        if locked.escalated_at is not None:
            raise TransitionRefused(
                _("Case %(reference)s was handed to the media already, on %(day)s.")
                % {
                    "reference": locked.reference,
                    "day": local_day_and_time(locked.escalated_at),
                }
            )
        if user is not None:
            locked.escalation_decided_by = user
            # The scan makes the stories of its own escalations in the same pass;
            # a supervisor's gets the same treatment right after the commit.
            outbox.send(
                "tracking.escalation.story_for_escalated_case", locked.pk, now=now
            )

    return _transition(
        case,
        "escalate",
        user=user,
        now=now,
        prepare=prepare,
        note=reason,
        expect_state=expect_state,
    )


def case_reply(
    *,
    case: Case | int,
    user,
    text: str,
    channel: str = m.ResponseChannel.SYSTEM,
    responded_at: datetime | None = None,
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """Record the department's response and mark the case replied."""
    if not text.strip():
        raise InvalidInput(_("The department's response is required."))
    now = now or timezone.now()

    def prepare(locked: Case) -> None:
        if locked.department_id is None:
            raise InvalidInput(_("The case has not been dispatched to a department."))
        DepartmentResponse.objects.create(
            case=locked,
            department_id=locked.department_id,
            text=text.strip(),
            channel=channel,
            responded_at=responded_at or now,
            recorded_by=user,
        )

    return _transition(
        case,
        "reply",
        user=user,
        now=now,
        prepare=prepare,
        note=text.strip(),
        expect_state=expect_state,
    )


def case_close(
    *,
    case: Case | int,
    user,
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """Close after a satisfied callback (or N unreachable tries)."""
    return _transition(case, "close", user=user, now=now, expect_state=expect_state)


def case_reopen(
    *,
    case: Case | int,
    user,
    reason: str = "",
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """The citizen was dissatisfied: handle the case again with a new deadline."""
    return _transition(
        case,
        "reopen",
        user=user,
        now=now,
        note=reason.strip(),
        expect_state=expect_state,
    )


def case_withdraw(
    *,
    case: Case | int,
    user,
    reason: str = "",
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """The citizen withdrew the request."""
    return _transition(
        case,
        "withdraw",
        user=user,
        now=now,
        note=reason.strip(),
        expect_state=expect_state,
    )


# --- actions that are not transitions -------------------------------------------------


def _locked_for_action(case, expect_state, user, permission: str) -> Case:
    # _lock has already refused users outside the case's department.
    locked = _lock(case, expect_state=_expected_state(case, expect_state), user=user)
    if user is not None and not user.has_perm(f"tracking.{permission}"):
        raise CasePermissionDenied(
            _("You may not do this to case %(reference)s.")
            % {"reference": locked.reference}
        )
    return locked


def callback_record(
    *,
    case: Case | int,
    user,
    outcome: str,
    method: str = m.CallbackMethod.PHONE,
    note: str = "",
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Callback:
    """Record a callback to the citizen after an answer (回访)."""
    now = now or timezone.now()
    if outcome not in m.CallbackOutcome.values:
        raise InvalidInput(_("Choose the outcome of the callback."))
    if method not in m.CallbackMethod.values:
        raise InvalidInput(_("Choose how the citizen was called back."))
    with transaction.atomic():
        locked = _locked_for_action(case, expect_state, user, "record_callback")
        if locked.state not in (State.REPLIED, State.ANSWERED):
            raise TransitionRefused(
                _("Callbacks are recorded once the case has been answered.")
            )
        callback = Callback.objects.create(
            case=locked,
            method=method,
            outcome=outcome,
            note=note.strip(),
            called_at=now,
            recorded_by=user,
            department_id=locked.department_id,
        )
        record_event(
            locked,
            action="callback",
            user=user,
            now=now,
            note=f"{callback.get_method_display()}: {callback.get_outcome_display()}",
            callback=callback,
        )
    return callback


def case_extend_deadline(
    *,
    case: Case | int,
    user,
    working_days: int,
    reason: str,
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """A supervisor moves the deadline later by some working days (延期)."""
    now = now or timezone.now()
    _check_extension_input(working_days, reason)
    with transaction.atomic():
        locked = _locked_for_action(case, expect_state, user, "extend_deadline")
        _move_deadline(
            locked,
            user=user,
            working_days=working_days,
            reason=reason.strip(),
            now=now,
            action="extend",
        )
    return locked


def _check_extension_input(working_days, reason: str) -> None:
    if not (reason or "").strip():
        raise InvalidInput(_("A reason is required to extend a deadline."))
    if working_days is None or working_days < 1:
        raise InvalidInput(_("Extend by at least one working day."))


def _check_has_deadline(locked: Case) -> None:
    if not locked.is_awaiting_department or locked.due_at is None:
        raise TransitionRefused(
            _("Only a case waiting for a department has a deadline to extend.")
        )


def _move_deadline(
    locked: Case, *, user, working_days: int, reason: str, now: datetime, action: str
) -> CaseEvent:
    """Move a locked case's deadline by working days; one event says so."""
    _check_has_deadline(locked)
    old_due = locked.due_at
    Case.objects.filter(pk=locked.pk).update(
        due_at=deadline_after(old_due, working_days)
    )
    locked.refresh_from_db(fields=["due_at"])
    return record_event(
        locked,
        action=action,
        user=user,
        now=now,
        note=_("%(old)s → %(new)s: %(reason)s")
        % {
            "old": local_format(old_due, "Y-m-d H:i"),
            "new": local_format(locked.due_at, "Y-m-d H:i"),
            "reason": reason,
        },
    )


def case_request_extension(
    *,
    case: Case | int,
    user,
    working_days: int,
    reason: str,
    now: datetime | None = None,
    expect_state: str | None = None,
) -> m.ExtensionRequest:
    """The department's liaison asks for more working days (延期申请)."""
    now = now or timezone.now()
    if not (reason or "").strip():
        raise InvalidInput(_("Say why the department needs more time."))
    if working_days is None or working_days < 1:
        raise InvalidInput(_("Ask for at least one working day."))
    with transaction.atomic():
        locked = _locked_for_action(case, expect_state, user, "request_extension")
        _check_has_deadline(locked)
        if m.ExtensionRequest.objects.pending().filter(case=locked).exists():
            raise TransitionRefused(
                _(
                    "Case %(reference)s already has an extension request waiting "
                    "for a supervisor."
                )
                % {"reference": locked.reference}
            )
        request = m.ExtensionRequest.objects.create(
            case=locked,
            requested_by=user,
            working_days=working_days,
            reason=reason.strip(),
            created_at=now,
        )
        record_event(
            locked,
            action="extension_requested",
            user=user,
            now=now,
            note=ngettext(
                "%(days)s working day: %(reason)s",
                "%(days)s working days: %(reason)s",
                working_days,
            )
            % {"days": working_days, "reason": request.reason},
        )
    return request


def _locked_pending_request(case: Case, wanted) -> m.ExtensionRequest:
    request = (
        m.ExtensionRequest.objects.select_for_update()
        .filter(case=case)
        .pending()
        .first()
    )
    if request is None or (wanted is not None and wanted.pk != request.pk):
        raise TransitionRefused(
            _("Case %(reference)s has no extension request waiting for a decision.")
            % {"reference": case.reference}
        )
    return request


def case_decide_extension(
    *,
    request: m.ExtensionRequest | None = None,
    case: Case | int | None = None,
    user,
    grant: bool,
    working_days: int | None = None,
    answer: str = "",
    now: datetime | None = None,
    expect_state: str | None = None,
) -> m.ExtensionRequest:
    """A supervisor grants the pending extension request (``request``, or the one
    of ``case``) by the days asked or fewer, or refuses it with an answer the
    department reads. The deadline moves in the same transaction."""
    now = now or timezone.now()
    answer = (answer or "").strip()
    if request is None and case is None:
        raise InvalidInput(_("Choose the extension request to decide on."))
    if not grant and not answer:
        raise InvalidInput(_("Say why the extension is refused."))
    wanted = request
    if case is None:
        case = request.case_id
    with transaction.atomic():
        locked = _locked_for_action(case, expect_state, user, "extend_deadline")
        request = _locked_pending_request(locked, wanted)
        if grant:
            days = request.working_days if working_days is None else working_days
            if days < 1:
                raise InvalidInput(_("Grant at least one working day."))
            if days > request.working_days:
                raise InvalidInput(
                    ngettext(
                        "The department asked for %(days)s working day; grant "
                        "no more than that.",
                        "The department asked for %(days)s working days; grant "
                        "no more than that.",
                        request.working_days,
                    )
                    % {"days": request.working_days}
                )
            _move_deadline(
                locked,
                user=user,
                working_days=days,
                reason=answer or request.reason,
                now=now,
                action="extension_granted",
            )
            request.decision = m.ExtensionDecision.GRANTED
            request.granted_days = days
        else:
            request.decision = m.ExtensionDecision.REFUSED
            record_event(
                locked, action="extension_refused", user=user, now=now, note=answer
            )
        request.decided_by = user
        request.decided_at = now
        request.answer = answer
        request.save(
            update_fields=[
                "decision",
                "granted_days",
                "decided_by",
                "decided_at",
                "answer",
            ]
        )
    return request


def case_grant_extension(
    *,
    case: Case | int,
    user,
    working_days: int | None = None,
    answer: str = "",
    now: datetime | None = None,
    expect_state: str | None = None,
) -> m.ExtensionRequest:
    """The "grant" button: :func:`case_decide_extension` with ``grant=True``."""
    return case_decide_extension(
        case=case,
        user=user,
        grant=True,
        working_days=working_days,
        answer=answer,
        now=now,
        expect_state=expect_state,
    )


def case_refuse_extension(
    *,
    case: Case | int,
    user,
    answer: str = "",
    now: datetime | None = None,
    expect_state: str | None = None,
) -> m.ExtensionRequest:
    """The "refuse" button: :func:`case_decide_extension` with ``grant=False``."""
    return case_decide_extension(
        case=case,
        user=user,
        grant=False,
        answer=answer,
        now=now,
        expect_state=expect_state,
    )


@dataclass(frozen=True)
class CitizenData:
    name: str = ""
    phone: str = ""
    address: str = ""
    email: str = ""

    def __bool__(self) -> bool:
        return any((self.name, self.phone, self.address, self.email))


@dataclass(frozen=True)
class Photo:
    """A photo ready to store: re-encoded, without metadata (see intake.photos)."""

    content: bytes
    content_type: str
    extension: str
    width: int
    height: int


def next_reference(now: datetime) -> str:
    """The next reference number of the day, e.g. ``8890-20261128-00042``.

    Must run inside a transaction: the day's counter row stays locked until commit.
    """
    day = local_day(now)
    model = m.ReferenceSequence
    table = connection.ops.quote_name(model._meta.db_table)
    day_column, last_column = (
        connection.ops.quote_name(model._meta.get_field(name).column)
        for name in ("day", "last")
    )
    # One statement: the increment returns the number it reached (PostgreSQL,
    # SQLite 3.35+).
    increment = (
        f"UPDATE {table} SET {last_column} = {last_column} + 1 "
        f"WHERE {day_column} = %s RETURNING {last_column}"
    )
    last = None
    for _attempt in range(3):
        with connection.cursor() as cursor:
            cursor.execute(increment, [connection.ops.adapt_datefield_value(day)])
            row = cursor.fetchone()
        if row is not None:
            last = row[0]
            break
        try:
            with transaction.atomic():
                model.objects.create(day=day, last=1)
            last = 1
            break
        except IntegrityError:
            continue  # created by a concurrent registration; increment it instead
    if last is None:
        raise CaseConflict(_("No reference number could be given; try again."))
    return f"8890-{day:%Y%m%d}-{last:05d}"


def citizen_for(data: CitizenData | None, *, now: datetime) -> Citizen | None:
    """The citizen these details name: the one the hotline knows by this phone and
    name (blanks filled in from what is given now), else a new row.

    A different name on a known phone is a different person (a family's phone):
    each case's redaction masks the name given on that case, so an earlier
    citizen's name is never overwritten.
    """
    if not data:
        return None
    name, phone = data.name.strip(), m.normalize_phone(data.phone)
    address, email = data.address.strip(), data.email.strip()
    if phone:
        known = list(Citizen.objects.with_phone(phone).order_by("pk"))
        match = next((c for c in known if c.name == name), None) or next(
            (c for c in known if not c.name or not name), None
        )
        if match is not None:
            changed = []
            for attr, value in (("name", name), ("address", address), ("email", email)):
                if value and not getattr(match, attr):
                    setattr(match, attr, value)
                    changed.append(attr)
            if changed:
                match.save(update_fields=changed)
            return match
    return Citizen.objects.create(
        name=name, phone=phone, address=address, email=email, created_at=now
    )


def _store_photos(case: Case, photos, now: datetime, written: list) -> None:
    for photo in photos:
        attachment = m.CaseAttachment(
            case=case,
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
            size=len(photo.content),
            created_at=now,
        )
        attachment.file.save(
            f"photo.{photo.extension}", ContentFile(photo.content), save=False
        )
        written.append(attachment.file.name)
        attachment.save()


def check_heard_of(heard_of: str, visit, *, on: date) -> None:
    """How the citizen heard of 8890: one of :class:`~.models.HeardOf` (or
    nothing), and a community visit day only with "community visit", held on or
    before ``on`` (the local day of the contact), since nobody hears of the
    hotline at a visit that has not happened yet."""
    if heard_of and heard_of not in m.HeardOf.values:
        raise InvalidInput(_("Choose how the citizen heard of 8890 from the list."))
    if visit is None:
        return
    if heard_of != m.HeardOf.COMMUNITY_VISIT:
        raise InvalidInput(
            _(
                "A community visit day can be given only when the citizen heard of "
                "8890 at a community visit."
            )
        )
    if visit.date > on:
        raise InvalidInput(
            _(
                "The community visit of %(date)s comes after this contact: choose a "
                "visit on or before %(day)s."
            )
            % {"date": visit.date.isoformat(), "day": on.isoformat()}
        )


def case_register(
    *,
    kind: str,
    title: str,
    description: str,
    user=None,
    category: Category | None = None,
    citizen: CitizenData | None = None,
    channel: str = m.Channel.PHONE,
    is_efficiency: bool = False,
    location_text: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    consent_to_publish: bool = False,
    media_url: str = "",
    api_client=None,
    photos=(),
    call: m.Call | None = None,
    heard_of: str = "",
    heard_of_visit=None,
    now: datetime | None = None,
) -> Case:
    """Register a citizen's request; it starts in ``registered`` with a reference.

    Every door calls this: the officer's form (``user``), the public web form and
    Open311 (no user). A known caller's case joins their citizen row; ``call`` is
    the call the case was registered from, which then points to it. Photos are
    stored with the case, or not at all.

    ``heard_of`` (and ``heard_of_visit``) say how the citizen heard of 8890. A
    case from a call takes the call's answer when it has none of its own, and
    gives its own to a call that had none: the call is the citizen's contact, and
    the first-time callers statistic reads whichever came first.
    """
    now = now or timezone.now()
    if user is not None and not user.has_perm("tracking.add_case"):
        raise CasePermissionDenied(_("You may not register cases."))
    if kind not in m.Kind.values:
        raise InvalidInput(
            _("Choose whether this is a consultation, help or complaint.")
        )
    if channel not in m.Channel.values:
        raise InvalidInput(_("Unknown channel."))
    if not title.strip() or not description.strip():
        raise InvalidInput(_("A title and a description are required."))
    if (latitude is None) != (longitude is None):
        raise InvalidInput(_("A map point needs both latitude and longitude."))
    if category is not None and not category.is_active:
        raise InvalidInput(_("This category is no longer in use."))
    if call is not None and not heard_of and heard_of_visit is None:
        heard_of, heard_of_visit = call.heard_of, call.heard_of_visit
    check_heard_of(heard_of, heard_of_visit, on=local_day(now))
    written: list[str] = []
    try:
        with transaction.atomic():
            person = citizen_for(citizen, now=now)
            case = Case(
                reference=next_reference(now),
                kind=kind,
                is_efficiency=bool(is_efficiency and kind == m.Kind.COMPLAINT),
                title=title.strip(),
                description=description.strip(),
                location_text=location_text.strip(),
                latitude=latitude,
                longitude=longitude,
                channel=channel,
                category=category,
                department=category.default_department if category else None,
                citizen=person,
                consent_to_publish=bool(consent_to_publish),
                media_url=media_url.strip(),
                api_client=api_client,
                registered_at=now,
                heard_of=heard_of,
                heard_of_visit=heard_of_visit,
            )
            try:
                # The foreign keys are the rows given or found above: checking
                # that they exist would cost a query each.
                case.full_clean(
                    exclude=[
                        "reference",
                        "citizen",
                        "state",
                        "category",
                        "department",
                        "api_client",
                        "heard_of_visit",
                    ]
                )
            except ValidationError as exc:
                raise InvalidInput(" ".join(exc.messages)) from None
            case.save()
            _store_photos(case, photos, now, written)
            if call is not None:
                # A call registers one case: a second registration from the same
                # call (two officers, a double submit) is refused, not linked over.
                linked = m.Call.objects.filter(pk=call.pk, case__isnull=True).update(
                    case=case,
                    citizen=person or call.citizen,
                    outcome=m.CallOutcome.CASE_CREATED,
                )
                if not linked:
                    raise CaseConflict(_("This call already has its case."))
                if heard_of and m.Call.objects.filter(pk=call.pk, heard_of="").update(
                    heard_of=heard_of, heard_of_visit=heard_of_visit
                ):
                    call.heard_of, call.heard_of_visit = heard_of, heard_of_visit
                    first_contacts.answer_changed(first_contacts.of_call(call))
            record_event(case, action="register", user=user, now=now)
    except BaseException:
        storage = m.CaseAttachment._meta.get_field("file").storage
        for name in written:
            storage.delete(name)
        raise
    return case


def call_register(
    *,
    user,
    caller_phone: str,
    outcome: str,
    note: str = "",
    duration_seconds: int = 0,
    received_at: datetime | None = None,
    case: Case | None = None,
    heard_of: str = "",
    heard_of_visit=None,
) -> m.Call:
    """Log a call (来电登记); a known caller's call joins their citizen row.

    ``heard_of`` (and ``heard_of_visit``): how the caller heard of 8890, as
    :func:`check_heard_of` allows for the day of the call.
    """
    if user is not None and not user.has_perm("tracking.add_call"):
        raise CasePermissionDenied(_("You may not log calls."))
    if outcome not in m.CallOutcome.values:
        raise InvalidInput(_("Choose the outcome of the call."))
    if duration_seconds < 0:
        raise InvalidInput(_("A call cannot last less than no time."))
    received_at = received_at or timezone.now()
    check_heard_of(
        heard_of,
        heard_of_visit,
        on=local_day(received_at),
    )
    phone = m.normalize_phone(caller_phone)
    with transaction.atomic():
        citizen = (
            case.citizen
            if case is not None and case.citizen_id
            else Citizen.objects.with_phone(phone).order_by("pk").first()
        )
        return m.Call.objects.create(
            received_at=received_at,
            caller_phone=phone,
            duration_seconds=duration_seconds,
            outcome=outcome,
            note=note.strip(),
            case=case,
            citizen=citizen,
            operator=user,
            heard_of=heard_of,
            heard_of_visit=heard_of_visit,
        )


def case_merge(
    *,
    case: Case | int,
    user,
    into: Case | int | str,
    now: datetime | None = None,
    expect_state: str | None = None,
) -> Case:
    """Close a duplicate report, pointing to the case it joins (合并).

    ``into`` is that case, its id or its reference number.
    """
    if isinstance(into, str):
        target = Case.objects.filter(reference=into.strip()).first()
    elif isinstance(into, int):
        target = Case.objects.filter(pk=into).first()
    else:
        target = into
    if target is None:
        raise InvalidInput(_("Choose the case this report duplicates."))
    if user is not None and not m.may_act_on(target, user):
        raise CasePermissionDenied(_("You may not act on this case."))
    return _transition(
        case,
        "merge",
        user=user,
        now=now,
        into=target,
        note=target.reference,
        expect_state=expect_state,
    )


def case_request_story(
    *,
    case: Case | int,
    user,
    now: datetime | None = None,
    expect_state: str | None = None,
) -> object:
    """Start the Hot Tracking story of an escalated case now (supervisors).

    The story itself belongs to the newsroom, reached through the ``create_story``
    hook; the case records who asked for it. Asking twice returns the same story.
    """
    now = now or timezone.now()
    if not hooks.is_registered("create_story"):
        raise TransitionRefused(_("No newsroom is connected to create stories."))
    with transaction.atomic():
        # Checked under the case's lock; the story is made after it (the newsroom
        # commits it on its own). An escalation is never undone, so this holds.
        locked = _locked_for_action(case, expect_state, user, "escalate_case")
        if locked.escalated_at is None:
            raise TransitionRefused(
                _("Only a case handed to the media gets a Hot Tracking story.")
            )
    story, _made = start_story(locked.pk, user=user, now=now)
    return story


def case_story_published(*, case: Case | int, now: datetime) -> bool:
    """Record the first publication of the case's story (the newsroom calls this
    as it publishes); later publications record nothing. True if this recorded."""
    with transaction.atomic():
        locked = _lock(case, expect_state=None)
        if locked.reported_at is not None:
            return False
        Case.objects.filter(pk=locked.pk).update(reported_at=now)
        locked.reported_at = now
        record_event(locked, action="publish", user=None, now=now, public=False)
    return True


def start_story(case_id: int, *, user=None, now: datetime) -> tuple[object, bool]:
    """Have the newsroom make the story of a case (outside any transaction of the
    case) and record it on the case in the transaction that completes it, once:
    by hand or by the scan. Returns the story and whether this call made it."""
    made = []

    def record(story) -> None:
        record_event(
            story.case,
            action="story",
            user=user,
            now=now,
            note=str(story.title),
            public=False,
        )
        made.append(story)

    story = hooks.call("create_story", case_id, user=user, on_created=record)
    return story, bool(made)
