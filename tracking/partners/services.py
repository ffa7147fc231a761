"""Writes of the partners' service orders. One service per action.

Each runs in one transaction, locks the row it changes, checks the user's
permission and the input, and raises a :class:`tracking.exceptions.CaseError`
with a message fit for the user; a refusal leaves nothing behind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import outbox
from ..calendar import local_day_range, local_zone
from ..exceptions import CasePermissionDenied, InvalidInput, TransitionRefused
from ..models import (
    TERMINAL_STATES,
    CallbackMethod,
    CallbackOutcome,
    Case,
    Kind,
    State,
    may_act_on,
)
from ..redaction import automatic
from .models import (
    DISSATISFIED_UP_TO,
    MONEY,
    RATING_MAX,
    RATING_MIN,
    HomeVisit,
    HomeVisitSample,
    LineKind,
    OrderStatus,
    Partner,
    PartnerFlag,
    PartnerFollowUp,
    ServiceOrder,
    ServiceRecordLine,
    VisitOutcome,
    complaints_threshold,
    complaints_window,
    line_amount,
    partner_id_of,
)

FLAG_TASK = "tracking.partners.tasks.notify_partner_flagged"
MAX_AMOUNT = Decimal(10 ** (MONEY["max_digits"] - MONEY["decimal_places"])) - Decimal(
    "0.01"
)


@dataclass(frozen=True)
class LineData:
    """One line of a service record as entered."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    kind: str = LineKind.MATERIAL
    unit: str = ""


def _require(user, codename: str) -> None:
    if user is None or not user.has_perm(f"partners.{codename}"):
        raise CasePermissionDenied(_("You may not change service orders."))


def _check_window(start: datetime | None, end: datetime | None) -> None:
    if start is None or end is None:
        raise InvalidInput(_("Give the day and the time window of the appointment."))
    if end <= start:
        raise InvalidInput(_("The appointment must end after it starts."))


def _lock_order(order: ServiceOrder | int) -> ServiceOrder:
    pk = order.pk if isinstance(order, ServiceOrder) else order
    try:
        return ServiceOrder.objects.select_for_update().get(pk=pk)
    except ServiceOrder.DoesNotExist:
        raise InvalidInput(_("This service order does not exist.")) from None


def _scoped(order: ServiceOrder, user) -> None:
    """A partner account acts on its own partner's orders only; staff on the
    orders of cases they may act on."""
    partner_id = partner_id_of(user)
    if partner_id is not None:
        if order.partner_id != partner_id:
            raise CasePermissionDenied(_("This order is another partner's."))
        return
    if not may_act_on(order.case, user):
        raise CasePermissionDenied(_("You may not act on this case."))


def _staff_only(user) -> None:
    if partner_id_of(user) is not None:
        raise CasePermissionDenied(
            _("Referring, cancelling and rating are for the hotline's staff.")
        )


def order_create(
    *,
    case: Case | int,
    partner: Partner | int,
    appointment_start: datetime,
    appointment_end: datetime,
    user,
    now: datetime | None = None,
) -> ServiceOrder:
    """Refer a help request (求助) to a partner for an appointment.

    Only open help requests, and only active partners.
    """
    _require(user, "add_serviceorder")
    _staff_only(user)
    _check_window(appointment_start, appointment_end)
    now = now or timezone.now()
    with transaction.atomic():
        case_pk = case.pk if isinstance(case, Case) else case
        locked = Case.objects.select_for_update().filter(pk=case_pk).first()
        if locked is None:
            raise InvalidInput(_("This case does not exist."))
        if not may_act_on(locked, user):
            raise CasePermissionDenied(_("You may not act on this case."))
        if locked.kind != Kind.HELP:
            raise TransitionRefused(
                _("Only help requests can be referred to a partner.")
            )
        if locked.state in TERMINAL_STATES:
            raise TransitionRefused(
                _("Case %(reference)s is closed: it cannot be referred any more.")
                % {"reference": locked.reference}
            )
        partner_pk = partner.pk if isinstance(partner, Partner) else partner
        chosen = Partner.objects.filter(pk=partner_pk).first()
        if chosen is None or not chosen.is_active:
            raise InvalidInput(_("Choose an active partner."))
        return ServiceOrder.objects.create(
            case=locked,
            partner=chosen,
            appointment_start=appointment_start,
            appointment_end=appointment_end,
            created_at=now,
            created_by=user,
        )


def order_reschedule(
    *,
    order: ServiceOrder | int,
    appointment_start: datetime,
    appointment_end: datetime,
    user,
) -> ServiceOrder:
    """Move a scheduled order's appointment (the citizen asked for another day)."""
    _require(user, "change_serviceorder")
    _check_window(appointment_start, appointment_end)
    with transaction.atomic():
        locked = _lock_order(order)
        _scoped(locked, user)
        if locked.status != OrderStatus.SCHEDULED:
            raise TransitionRefused(_("Only a scheduled order can be rescheduled."))
        locked.appointment_start = appointment_start
        locked.appointment_end = appointment_end
        locked.save(update_fields=["appointment_start", "appointment_end"])
    return locked


def _clean_lines(lines) -> list[LineData]:
    cleaned = []
    for number, line in enumerate(lines, start=1):
        description = (line.description or "").strip()
        if not description:
            raise InvalidInput(
                _("Line %(number)s: say what the item is.") % {"number": number}
            )
        if line.kind not in LineKind.values:
            raise InvalidInput(
                _("Line %(number)s: choose material or labour.") % {"number": number}
            )
        try:
            quantity = Decimal(line.quantity)
            unit_price = Decimal(line.unit_price)
        except (InvalidOperation, TypeError, ValueError):
            raise InvalidInput(
                _("Line %(number)s: quantity and price must be numbers.")
                % {"number": number}
            ) from None
        if not quantity.is_finite() or quantity <= 0 or quantity > MAX_AMOUNT:
            raise InvalidInput(
                _("Line %(number)s: the quantity must be more than 0.")
                % {"number": number}
            )
        if not unit_price.is_finite() or unit_price < 0 or unit_price > MAX_AMOUNT:
            raise InvalidInput(
                _("Line %(number)s: the unit price cannot be negative.")
                % {"number": number}
            )
        if quantity != quantity.quantize(Decimal("0.01")) or unit_price != (
            unit_price.quantize(Decimal("0.01"))
        ):
            raise InvalidInput(
                _("Line %(number)s: use at most two decimals.") % {"number": number}
            )
        if line_amount(quantity, unit_price) > MAX_AMOUNT:
            raise InvalidInput(
                _("Line %(number)s: the amount is too large.") % {"number": number}
            )
        cleaned.append(
            LineData(
                description=description[:200],
                quantity=quantity,
                unit_price=unit_price,
                kind=line.kind,
                unit=(line.unit or "").strip()[:20],
            )
        )
    return cleaned


def order_record(
    *,
    order: ServiceOrder | int,
    lines,
    service_done: str,
    user,
    completed_at: datetime | None = None,
) -> ServiceOrder:
    """Write the service record (服务记录): what was done, and every material and
    labour line with its quantity and price, replacing the lines written before.

    With ``completed_at`` the order is done. A done order's record can still be
    corrected; a cancelled one's cannot. The text is shown to the citizen on the
    progress lookup, so phone numbers and ID numbers typed into it are refused
    rather than published.
    """
    _require(user, "change_serviceorder")
    service_done = (service_done or "").strip()
    cleaned = _clean_lines(lines)
    texts = [service_done, *(line.description for line in cleaned)]
    if any(automatic(text) != text for text in texts):
        raise InvalidInput(
            _(
                "The service record is shown to the citizen: leave phone numbers, "
                "ID numbers and e-mail addresses out of it."
            )
        )
    with transaction.atomic():
        locked = _lock_order(order)
        _scoped(locked, user)
        if locked.status == OrderStatus.CANCELLED:
            raise TransitionRefused(_("A cancelled order has no service record."))
        if completed_at is not None:
            if not service_done:
                raise InvalidInput(_("Say what was done before completing the order."))
            if completed_at > timezone.now():
                raise InvalidInput(_("The completion time cannot be in the future."))
            locked.status = OrderStatus.DONE
            locked.completed_at = completed_at
        locked.service_done = service_done
        locked.save(update_fields=["status", "completed_at", "service_done"])
        locked.lines.all().delete()
        ServiceRecordLine.objects.bulk_create(
            [
                ServiceRecordLine(
                    order=locked,
                    position=position,
                    kind=line.kind,
                    description=line.description,
                    unit=line.unit,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    amount=line_amount(line.quantity, line.unit_price),
                )
                for position, line in enumerate(cleaned)
            ]
        )
    return locked


def order_cancel(*, order: ServiceOrder | int, reason: str, user) -> ServiceOrder:
    """Cancel a scheduled order (the citizen no longer needs it, or the partner
    cannot come); the reason is kept."""
    _require(user, "change_serviceorder")
    _staff_only(user)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("A reason is required to cancel an order."))
    with transaction.atomic():
        locked = _lock_order(order)
        _scoped(locked, user)
        if locked.status != OrderStatus.SCHEDULED:
            raise TransitionRefused(_("Only a scheduled order can be cancelled."))
        locked.status = OrderStatus.CANCELLED
        locked.cancel_reason = reason
        locked.save(update_fields=["status", "cancel_reason"])
    return locked


def _recent_complaints(partner_id: int, now: datetime) -> int:
    return ServiceOrder.objects.filter(
        partner_id=partner_id,
        rating__lte=DISSATISFIED_UP_TO,
        rated_at__gt=now - complaints_window(),
        rated_at__lte=now,
    ).count()


def order_rate(
    *,
    order: ServiceOrder | int,
    rating: int,
    comment: str = "",
    user,
    now: datetime | None = None,
) -> ServiceOrder:
    """Record the citizen's verdict on the partner's work (1–5, and a comment),
    taken by an officer on the phone or at a home visit. A later call may correct
    it.

    A rating of 2 or less is a complaint about the partner. When it brings the
    partner's complaints within the window to ``PARTNER_COMPLAINTS_FLAG``, the
    partner is flagged and the supervisors are told once (a :class:`PartnerFlag`
    and its notice in the outbox, in this transaction); further complaints do not
    tell them again until the count has fallen below the threshold and reaches it
    anew. The partner's row is locked so that two ratings at once cannot both, or
    neither, cross.
    """
    _require(user, "change_serviceorder")
    _staff_only(user)
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not RATING_MIN <= rating <= RATING_MAX:
        raise InvalidInput(
            _("Choose a rating from %(low)s to %(high)s.")
            % {"low": RATING_MIN, "high": RATING_MAX}
        )
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_order(order)
        _scoped(locked, user)
        if locked.status != OrderStatus.DONE:
            raise TransitionRefused(_("An order is rated once the service is done."))
        Partner.objects.select_for_update().filter(pk=locked.partner_id).first()
        before = _recent_complaints(locked.partner_id, now)
        locked.rating = rating
        locked.rating_comment = (comment or "").strip()
        locked.rated_at = now
        locked.rated_by = user
        locked.save(update_fields=["rating", "rating_comment", "rated_at", "rated_by"])
        after = _recent_complaints(locked.partner_id, now)
        threshold = complaints_threshold()
        if (
            before < threshold <= after
            and not PartnerFlag.objects.filter(order=locked).exists()
        ):
            flag = PartnerFlag.objects.create(
                partner_id=locked.partner_id,
                order=locked,
                complaints=after,
                raised_at=now,
            )
            outbox.send(FLAG_TASK, flag.pk, now=now)
    return locked


# --- home visits (入户回访) ---------------------------------------------------------


def recent_visit_days() -> int:
    """Citizens visited (or drawn) this recently are not drawn again
    (``HOME_VISIT_RECENT_DAYS``), unless the draw says otherwise."""
    return int(getattr(settings, "HOME_VISIT_RECENT_DAYS", 180))


MAX_SAMPLE = 500
MAX_RECENT_DAYS = 3650


def home_visit_candidates(
    *,
    period_start: date,
    period_end: date,
    now: datetime,
    recent_days: int | None = None,
) -> list[tuple[int, int]]:
    """``(citizen id, order id)`` of every citizen a partner served in the period
    (an order done between the two days, local time), with their latest such
    order, in citizen order; without those who opted out and those visited or
    drawn within ``recent_days`` (default ``HOME_VISIT_RECENT_DAYS``)."""
    start, end = local_day_range(period_start, period_end)
    if recent_days is None:
        recent_days = recent_visit_days()
    recent = now - timedelta(days=recent_days)
    visited = HomeVisit.objects.filter(visited_at__gt=recent).values("citizen_id")
    drawn = HomeVisit.objects.filter(sample__drawn_at__gt=recent).values("citizen_id")
    orders = (
        ServiceOrder.objects.filter(
            status=OrderStatus.DONE,
            completed_at__gte=start,
            completed_at__lt=end,
            case__citizen__isnull=False,
            case__citizen__visit_opt_out__isnull=True,
        )
        .exclude(case__citizen_id__in=visited)
        .exclude(case__citizen_id__in=drawn)
        .order_by("case__citizen_id", "completed_at", "pk")
        .values_list("case__citizen_id", "pk")
    )
    latest: dict[int, int] = {}
    for citizen_id, order_id in orders:
        latest[citizen_id] = order_id  # the last one in time wins
    return sorted(latest.items())


def new_seed() -> int:
    """A seed for a draw when the supervisor gives none; shown with the
    campaign so that the draw can be repeated."""
    return random.SystemRandom().randrange(1, 10**9)


def home_visit_sample_draw(
    *,
    period_start: date,
    period_end: date,
    size: int,
    seed: int,
    user,
    recent_days: int | None = None,
    now: datetime | None = None,
) -> HomeVisitSample:
    """Draw ``size`` households at random among the citizens served in the
    period (supervisors): a home-visit campaign. The candidates are listed in a
    fixed order and drawn with ``random.Random(seed)``: the same seed and
    exclusion on the same data draw the same households, so a draw can be
    checked afterwards. Fewer candidates than ``size``: all of them."""
    if user is None or not user.has_perm("partners.add_homevisitsample"):
        raise CasePermissionDenied(_("You may not draw home visits."))
    _staff_only(user)
    if period_start is None or period_end is None:
        raise InvalidInput(_("Give the first and the last day of the period."))
    if period_end < period_start:
        raise InvalidInput(_("The period must end after it starts."))
    if not 1 <= size <= MAX_SAMPLE:
        raise InvalidInput(
            _("Draw between 1 and %(most)s households.") % {"most": MAX_SAMPLE}
        )
    if recent_days is None:
        recent_days = recent_visit_days()
    if not 0 <= recent_days <= MAX_RECENT_DAYS:
        raise InvalidInput(
            _("Leave out citizens visited within 0 to %(most)s days.")
            % {"most": MAX_RECENT_DAYS}
        )
    if not -(2**63) <= seed < 2**63:
        raise InvalidInput(_("The seed is too large."))
    now = now or timezone.now()
    with transaction.atomic():
        candidates = home_visit_candidates(
            period_start=period_start,
            period_end=period_end,
            now=now,
            recent_days=recent_days,
        )
        chosen = random.Random(seed).sample(candidates, min(size, len(candidates)))
        sample = HomeVisitSample.objects.create(
            period_start=period_start,
            period_end=period_end,
            size=size,
            seed=seed,
            recent_days=recent_days,
            drawn_at=now,
            drawn_by=user,
        )
        HomeVisit.objects.bulk_create(
            [
                HomeVisit(
                    sample=sample,
                    citizen_id=citizen_id,
                    order_id=order_id,
                    position=position,
                )
                for position, (citizen_id, order_id) in enumerate(chosen, start=1)
            ]
        )
    return sample


def _may_visit(user) -> None:
    if user is None or not user.has_perm("partners.change_homevisit"):
        raise CasePermissionDenied(_("You may not plan or record home visits."))
    _staff_only(user)


def _lock_visit(visit: HomeVisit | int) -> HomeVisit:
    pk = visit.pk if isinstance(visit, HomeVisit) else visit
    locked = (
        HomeVisit.objects.select_for_update()
        .select_related("order")
        .filter(pk=pk)
        .first()
    )
    if locked is None:
        raise InvalidInput(_("This home visit does not exist."))
    return locked


def home_visit_plan(
    *,
    visit: HomeVisit | int,
    planned_at: datetime,
    invite_partner: bool,
    user,
) -> HomeVisit:
    """Give a household of a campaign its day and time, and say whether the
    partner who served the order comes along. Until the visit is recorded it
    can be planned again (the citizen asked for another day)."""
    _may_visit(user)
    if planned_at is None:
        raise InvalidInput(_("Give the day and the time of the visit."))
    with transaction.atomic():
        locked = _lock_visit(visit)
        if locked.is_recorded:
            raise TransitionRefused(_("This visit is recorded: it is not planned."))
        locked.planned_at = planned_at
        locked.invite_partner = bool(invite_partner)
        locked.save(update_fields=["planned_at", "invite_partner"])
    return locked


# How each outcome of a visit is the case's callback: a visit nobody opened the
# door to is an unreachable callback; a declined one is no callback at all.
CALLBACK_OF_VERDICT = {
    True: CallbackOutcome.SATISFIED,
    False: CallbackOutcome.DISSATISFIED,
}


def home_visit_record(
    *,
    visit: HomeVisit | int,
    outcome: str,
    satisfied: bool | None = None,
    suggestions: str = "",
    note: str = "",
    user,
    now: datetime | None = None,
) -> HomeVisit:
    """Record how a home visit went, once: visited (``done``, with the citizen's
    verdict on the partner's order and their suggestions), nobody reached
    (``unreachable``) or the citizen declined (``declined``).

    On a case that waits for its callback (answered or replied) a visit that
    took place is that callback, of method ``home_visit``, satisfied or
    dissatisfied as the verdict; an unreachable visit is an unreachable one. The
    callback service writes it in this transaction: both or neither.
    """
    from .. import services as case_services

    _may_visit(user)
    if outcome not in VisitOutcome.values:
        raise InvalidInput(_("Choose the outcome of the visit."))
    suggestions = (suggestions or "").strip()
    note = (note or "").strip()
    if outcome == VisitOutcome.DONE:
        if satisfied is None:
            raise InvalidInput(_("Say whether the citizen was satisfied."))
    else:
        if satisfied is not None or suggestions:
            raise InvalidInput(
                _("A verdict and suggestions come from a visit that took place.")
            )
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_visit(visit)
        if locked.is_recorded:
            raise TransitionRefused(_("This visit is already recorded."))
        case = Case.objects.get(pk=locked.order.case_id)
        if not may_act_on(case, user):
            raise CasePermissionDenied(_("You may not act on this case."))
        locked.visited_at = now
        locked.outcome = outcome
        locked.satisfied = bool(satisfied) if outcome == VisitOutcome.DONE else None
        locked.suggestions = suggestions
        locked.note = note
        locked.recorded_by = user
        locked.save(
            update_fields=[
                "visited_at",
                "outcome",
                "satisfied",
                "suggestions",
                "note",
                "recorded_by",
            ]
        )
        callback_outcome = (
            CALLBACK_OF_VERDICT[locked.satisfied]
            if outcome == VisitOutcome.DONE
            else CallbackOutcome.UNREACHABLE
            if outcome == VisitOutcome.UNREACHABLE
            else None
        )
        if callback_outcome and case.state in (State.REPLIED, State.ANSWERED):
            case_services.callback_record(
                case=case,
                user=user,
                outcome=callback_outcome,
                method=CallbackMethod.HOME_VISIT,
                note=note or suggestions,
                now=now,
            )
    return locked


# --- follow-up work for partners (整改) ---------------------------------------------


def follow_up_create(
    *,
    visit: HomeVisit | int,
    task: str,
    due_on: date,
    user,
    now: datetime | None = None,
) -> PartnerFollowUp:
    """Turn a citizen's suggestion at a home visit into follow-up work for the
    partner who served the order (supervisors): what to do, and by when."""
    if user is None or not user.has_perm("partners.add_partnerfollowup"):
        raise CasePermissionDenied(_("You may not give partners follow-up work."))
    _staff_only(user)
    task = (task or "").strip()
    if not task:
        raise InvalidInput(_("Say what the partner is to do."))
    now = now or timezone.now()
    if due_on is None or due_on < timezone.localdate(now, local_zone()):
        raise InvalidInput(_("The due date cannot be in the past."))
    with transaction.atomic():
        locked = _lock_visit(visit)
        if locked.outcome != VisitOutcome.DONE:
            raise TransitionRefused(
                _("Follow-up work comes from a visit that took place.")
            )
        return PartnerFollowUp.objects.create(
            partner_id=locked.order.partner_id,
            visit=locked,
            order=locked.order,
            task=task,
            due_on=due_on,
            created_at=now,
            created_by=user,
        )


def follow_up_complete(
    *,
    follow_up: PartnerFollowUp | int,
    note: str,
    user,
    now: datetime | None = None,
) -> PartnerFollowUp:
    """Mark follow-up work done, saying what was done: the supervisors, or the
    partner's own account for its own work. Done once."""
    if user is None or not user.has_perm("partners.change_partnerfollowup"):
        raise CasePermissionDenied(_("You may not mark follow-up work done."))
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Say what was done."))
    now = now or timezone.now()
    pk = follow_up.pk if isinstance(follow_up, PartnerFollowUp) else follow_up
    with transaction.atomic():
        locked = PartnerFollowUp.objects.select_for_update().filter(pk=pk).first()
        if locked is None:
            raise InvalidInput(_("This follow-up work does not exist."))
        partner_id = partner_id_of(user)
        if partner_id is not None and locked.partner_id != partner_id:
            raise CasePermissionDenied(_("This follow-up work is another partner's."))
        if locked.is_done:
            raise TransitionRefused(_("This follow-up work is already done."))
        locked.done_at = now
        locked.done_by = user
        locked.done_note = note
        locked.save(update_fields=["done_at", "done_by", "done_note"])
    return locked
