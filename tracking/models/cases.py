"""The case and its state machine: who asked what, who must answer, by when.

The state machine lives on :class:`Case` (django-fsm-2). Transitions change only
the case's own fields in memory; :mod:`tracking.services` owns the transaction,
the row lock, the :class:`CaseEvent` and the side effects.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from .. import calendar
from .calls import heard_of_fields
from .reference import AcknowledgeUnit, Category, Citizen, Department
from .timeline import CallbackOutcome


class State(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    ANSWERED = "answered", _("Answered by the hotline")
    DISPATCHED = "dispatched", _("Dispatched")
    IN_PROGRESS = "in_progress", _("In progress")
    RETURNED = "returned", _("Returned by department")
    SUPERVISED = "supervised", _("Under media supervision")
    REPLIED = "replied", _("Department replied")
    REOPENED = "reopened", _("Reopened")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    MERGED = "merged", _("Merged into another case")


TERMINAL_STATES = (State.REJECTED, State.CLOSED, State.WITHDRAWN, State.MERGED)
# A duplicate report is merged before a department works on it.
MERGEABLE_STATES = (State.REGISTERED, State.ACCEPTED, State.RETURNED)
OPEN_STATES = tuple(s for s in State if s not in TERMINAL_STATES)
# States in which a department owes an answer: the deadline runs and the case can be
# overdue. The overdue index covers exactly these rows, so keep the two in step.
AWAITING_DEPARTMENT_STATES = (
    State.DISPATCHED,
    State.IN_PROGRESS,
    State.RETURNED,
    State.SUPERVISED,
    State.REOPENED,
)
ESCALATABLE_STATES = (
    State.DISPATCHED,
    State.IN_PROGRESS,
    State.RETURNED,
    State.REOPENED,
)


class Kind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    HELP = "help", _("Help")
    COMPLAINT = "complaint", _("Complaint")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    WEB = "web", _("Web form")
    OPEN311 = "open311", _("Open311")
    VISIT = "visit", _("Visit")


class ReferenceSequence(models.Model):
    """Per-day counter behind reference numbers such as 8890-20261128-00042."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state__in=OPEN_STATES)

    def awaiting_department(self):
        return self.filter(state__in=AWAITING_DEPARTMENT_STATES)

    def overdue(self, now: datetime | None = None, *, by_working_days: int = 0):
        """Cases a department owes an answer on and whose deadline has passed.

        ``by_working_days=N`` keeps only cases at least N full working days past
        their deadline. The filter is one range on ``due_at`` over the partial
        index of open cases, so its cost follows the number of overdue cases, not
        the size of the history.
        """
        cutoff = calendar.overdue_cutoff(now or timezone.now(), by_working_days)
        return self.filter(awaiting_due_at__lt=cutoff)

    def due_within(self, delta, now: datetime | None = None):
        """Cases not yet overdue whose deadline falls within ``delta`` from now."""
        now = now or timezone.now()
        return self.filter(awaiting_due_at__gte=now, awaiting_due_at__lt=now + delta)

    def escalated(self):
        return self.filter(escalated_at__isnull=False)

    def visible_to(self, user):
        """The cases a staff member may see: all, or their own department's."""
        if user.has_perm("tracking.view_all_cases"):
            return self
        department_id = department_id_of(user)
        if department_id is None or not user.has_perm("tracking.view_case"):
            return self.none()
        return self.filter(department_id=department_id)


def department_id_of(user) -> int | None:
    profile = getattr(user, "staff_profile", None) if user.is_authenticated else None
    return profile.department_id if profile else None


def may_act_on(case: Case, user) -> bool:
    """Whether ``user`` may act on ``case`` at all (department scoping)."""
    if user.has_perm("tracking.view_all_cases"):
        return True
    department_id = department_id_of(user)
    return department_id is not None and department_id == case.department_id


def _role(permission: str):
    """A django-fsm permission: the model permission plus department scoping."""

    def check(case: Case, user) -> bool:
        return user.has_perm(f"tracking.{permission}") and may_act_on(case, user)

    check.__name__ = f"may_{permission}"
    return check


# --- Transition conditions: reads only, no side effects ------------------------


def has_department(case: Case) -> bool:
    return case.department_id is not None


def has_response_since_dispatch(case: Case) -> bool:
    responses = case.responses.all()
    if case.dispatched_at:
        responses = responses.filter(responded_at__gte=case.dispatched_at)
    return responses.exists()


def _callbacks_since_reply(case: Case):
    callbacks = case.callbacks.all()
    if case.replied_at:
        callbacks = callbacks.filter(called_at__gte=case.replied_at)
    return callbacks


def callback_allows_close(case: Case) -> bool:
    """Satisfied on the latest callback, or unreachable after N tries."""
    callbacks = _callbacks_since_reply(case)
    latest = callbacks.order_by("-called_at", "-pk").first()
    if latest is None:
        return False
    if latest.outcome == CallbackOutcome.SATISFIED:
        return True
    tries = settings.TRACKING_UNREACHABLE_CALLBACKS_TO_CLOSE
    unreachable = callbacks.filter(outcome=CallbackOutcome.UNREACHABLE).count()
    return latest.outcome == CallbackOutcome.UNREACHABLE and unreachable >= tries


def callback_dissatisfied(case: Case) -> bool:
    latest = _callbacks_since_reply(case).order_by("-called_at", "-pk").first()
    return latest is not None and latest.outcome == CallbackOutcome.DISSATISFIED


def overdue_past_threshold(case: Case) -> bool:
    return case.is_overdue_for_escalation(case.clock())


def escalation_due(case: Case) -> bool:
    """Not handed to the media yet, and overdue past the threshold (the scan's
    rule) or a supervisor's decision: the escalation service names the supervisor
    on the case it is escalating only after checking their permission and their
    reason."""
    decided = getattr(case, "escalation_decided_by", None) is not None
    return case.escalated_at is None and (decided or overdue_past_threshold(case))


class Case(ConcurrentTransitionMixin, models.Model):
    reference = models.CharField(_("reference number"), max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    is_efficiency = models.BooleanField(_("efficiency complaint"), default=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    location_text = models.CharField(_("location"), max_length=255, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.PHONE
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    citizen = models.ForeignKey(
        Citizen,
        verbose_name=_("citizen"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    heard_of, heard_of_visit = heard_of_fields()
    consent_to_publish = models.BooleanField(
        _("may be reported in the newspaper (anonymised)"), default=False
    )
    # Open311: a picture the client hosts itself (its URL, given with the request).
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    # The Open311 client that posted the request, if one did.
    api_client = models.ForeignKey(
        "tracking.ApiClient",
        verbose_name=_("Open311 client"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    # A duplicate report of the same problem points to the case it joined.
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    state = FSMField(
        _("state"), default=State.REGISTERED, choices=State.choices, protected=True
    )
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    # The acknowledgement deadline (签收时限) of the current dispatch.
    acknowledge_due_at = models.DateTimeField(
        _("acknowledge by"), null=True, blank=True
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    late_acknowledgements = models.PositiveSmallIntegerField(
        _("late acknowledgements"), default=0
    )
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    # What the paper reported: the deadline in force when the case was escalated,
    # and how many working days it was overdue then. Kept when the deadline is
    # later extended or the case is reopened and dispatched again.
    escalated_due_at = models.DateTimeField(
        _("deadline when escalated"), null=True, blank=True
    )
    escalated_days_overdue = models.PositiveSmallIntegerField(
        _("working days overdue when escalated"), null=True, blank=True
    )
    # When the case's story was first published (the newsroom tells the case).
    reported_at = models.DateTimeField(
        _("first reported in the paper"), null=True, blank=True
    )
    bounce_count = models.PositiveSmallIntegerField(_("times returned"), default=0)
    # ``due_at`` while a department owes an answer, else NULL; kept by the database.
    # Overdue queries filter on this one column so that both SQLite (which cannot
    # match a partial index on ``state IN (...)`` with bound parameters) and
    # PostgreSQL (whose row estimates for state and due_at combined are far off)
    # use the small index of open cases only.
    awaiting_due_at = models.GeneratedField(
        expression=models.Case(
            models.When(state__in=AWAITING_DEPARTMENT_STATES, then=models.F("due_at")),
            default=None,
            output_field=models.DateTimeField(),
        ),
        output_field=models.DateTimeField(null=True, blank=True),
        db_persist=True,
        verbose_name=_("due while awaiting a department"),
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-registered_at", "-pk"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            # Only open cases awaiting a department: small however long the history.
            models.Index(
                fields=["awaiting_due_at"],
                name="case_awaiting_due_idx",
                condition=Q(awaiting_due_at__isnull=False),
            ),
            models.Index(fields=["state", "-registered_at"], name="case_state_idx"),
            models.Index(
                fields=["department", "state"], name="case_department_state_idx"
            ),
            # Cases the paper tracks now (escalated, open): the scan's story check.
            models.Index(
                fields=["escalated_at"],
                name="case_tracked_idx",
                condition=Q(escalated_at__isnull=False, closed_at__isnull=True),
            ),
        ]
        permissions = [
            ("view_all_cases", _("Can see cases of every department")),
            ("accept_case", _("Can accept cases")),
            ("reject_case", _("Can reject cases")),
            ("answer_case", _("Can answer cases directly")),
            ("dispatch_case", _("Can dispatch cases")),
            ("acknowledge_case", _("Can acknowledge cases")),
            ("return_case", _("Can return cases")),
            ("escalate_case", _("Can escalate cases to the media")),
            ("reply_case", _("Can reply to cases")),
            ("close_case", _("Can close cases")),
            ("reopen_case", _("Can reopen cases")),
            ("withdraw_case", _("Can withdraw cases")),
            ("merge_case", _("Can merge duplicate cases")),
            ("extend_deadline", _("Can extend case deadlines")),
            ("record_callback", _("Can record callbacks")),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    # --- time -------------------------------------------------------------------

    def clock(self) -> datetime:
        """The instant this case is being judged at: set by services, else now."""
        return getattr(self, "_now", None) or timezone.now()

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_awaiting_department(self) -> bool:
        return self.state in AWAITING_DEPARTMENT_STATES

    def is_overdue(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return bool(self.is_awaiting_department and self.due_at and self.due_at < now)

    def working_days_overdue(self, now: datetime | None = None) -> int:
        """Full working days past the deadline (0 when not overdue)."""
        if not self.is_overdue(now):
            return 0
        return calendar.working_days_overdue(self.due_at, now or timezone.now())

    @property
    def escalation_threshold_days(self) -> int:
        if self.category_id:
            return self.category.escalation_threshold_days
        return settings.TRACKING_DEFAULT_ESCALATION_DAYS

    @property
    def handling_days(self) -> int:
        if self.category_id:
            return self.category.handling_days
        return settings.TRACKING_DEFAULT_HANDLING_DAYS

    @property
    def escalates_automatically(self) -> bool:
        return self.is_efficiency or bool(self.category_id and self.category.escalates)

    def is_overdue_for_escalation(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.is_overdue(now)
            and self.working_days_overdue(now) >= self.escalation_threshold_days
        )

    def may_be_escalated_by_hand(self) -> bool:
        """A case a supervisor may hand to the media now, before the scan would:
        one a department owes an answer on, not handed over yet."""
        return self.state in ESCALATABLE_STATES and self.escalated_at is None

    def escalates_at(self) -> datetime | None:
        """When the overdue scan will hand this case to the media if nothing
        happens: the close of the working day on which it has been overdue by its
        category's threshold. None for a case that does not escalate by itself,
        is escalated already, or owes no department answer."""
        if (
            not self.escalates_automatically
            or self.escalated_at
            or self.state not in ESCALATABLE_STATES
            or not self.due_at
        ):
            return None
        due_day = timezone.localtime(self.due_at, calendar.local_zone()).date()
        return calendar.end_of_day(
            calendar.add_working_days(due_day, self.escalation_threshold_days)
        )

    def deadline_from(self, start: datetime) -> datetime:
        return calendar.deadline_after(start, self.handling_days)

    def acknowledge_deadline_from(self, start: datetime) -> datetime:
        """When the department must acknowledge a case dispatched at ``start``
        (a case without a category has the limit a new category gets)."""
        category = self.category if self.category_id else Category()
        if category.acknowledge_unit == AcknowledgeUnit.HOURS:
            return calendar.add_working_hours(start, category.acknowledge_limit)
        return calendar.deadline_after(start, category.acknowledge_limit)

    # --- transitions: change this case's own fields only --------------------------

    @transition(
        field=state,
        source=State.REGISTERED,
        target=State.ACCEPTED,
        permission=_role("accept_case"),
    )
    def accept(self):
        """The hotline takes the request on."""
        self.accepted_at = self.clock()

    @transition(
        field=state,
        source=State.REGISTERED,
        target=State.REJECTED,
        permission=_role("reject_case"),
    )
    def reject(self, *, reason: str):
        """Not a matter for the hotline; the reason is told to the citizen."""
        require_text(reason, _("A reason is required to reject a case."))
        self.closed_at = self.clock()

    @transition(
        field=state,
        source=State.ACCEPTED,
        target=State.ANSWERED,
        permission=_role("answer_case"),
    )
    def answer(self, *, answer: str):
        """The hotline answers a consultation itself, without a department."""
        require_text(answer, _("The answer given to the citizen is required."))
        self.replied_at = self.clock()

    @transition(
        field=state,
        source=[State.ACCEPTED, State.RETURNED, State.REOPENED],
        target=State.DISPATCHED,
        conditions=[has_department],
        permission=_role("dispatch_case"),
    )
    def dispatch(self):
        """Send to ``self.department``; the deadline restarts from now."""
        now = self.clock()
        self.dispatched_at = now
        self.acknowledged_at = None
        self.acknowledge_due_at = self.acknowledge_deadline_from(now)
        self.due_at = self.deadline_from(now)

    @transition(
        field=state,
        source=State.DISPATCHED,
        target=State.IN_PROGRESS,
        permission=_role("acknowledge_case"),
    )
    def acknowledge(self):
        """The department confirms it has the case (签收); late ones are counted."""
        self.acknowledged_at = self.clock()
        if self.acknowledge_due_at and self.acknowledged_at > self.acknowledge_due_at:
            self.late_acknowledgements += 1

    @transition(
        field=state,
        source=[State.DISPATCHED, State.IN_PROGRESS],
        target=State.RETURNED,
        permission=_role("return_case"),
    )
    def return_case(self, *, reason: str):
        """The department sends the case back (退单); each bounce is counted."""
        require_text(reason, _("A reason is required to return a case."))
        self.bounce_count += 1

    @transition(
        field=state,
        source=list(ESCALATABLE_STATES),
        target=State.SUPERVISED,
        conditions=[escalation_due],
        permission=_role("escalate_case"),
    )
    def escalate(self):
        """Hand a case to the newspaper's Hot Tracking column (媒体督办): overdue
        past its threshold, or earlier by a supervisor's decision.

        What the paper reports stays as it was now: the deadline in force and the
        working days it was overdue (0 when a supervisor acts before the deadline
        passes), whatever later extends or restarts it.
        """
        now = self.clock()
        self.escalated_at = now
        if self.due_at is not None:
            self.escalated_due_at = self.due_at
            self.escalated_days_overdue = self.working_days_overdue(now)

    @transition(
        field=state,
        source=[State.DISPATCHED, State.IN_PROGRESS, State.SUPERVISED],
        target=State.REPLIED,
        conditions=[has_response_since_dispatch],
        permission=_role("reply_case"),
    )
    def reply(self):
        """The department has answered; a callback to the citizen follows."""
        self.replied_at = self.clock()

    @transition(
        field=state,
        source=[State.REPLIED, State.ANSWERED],
        target=State.CLOSED,
        conditions=[callback_allows_close],
        permission=_role("close_case"),
    )
    def close(self):
        """Done: the citizen was satisfied, or could not be reached N times."""
        self.closed_at = self.clock()

    @transition(
        field=state,
        source=State.REPLIED,
        target=State.REOPENED,
        conditions=[callback_dissatisfied],
        permission=_role("reopen_case"),
    )
    @transition(
        field=state,
        source=State.ANSWERED,
        target=State.ACCEPTED,
        conditions=[callback_dissatisfied],
        permission=_role("reopen_case"),
    )
    def reopen(self):
        """The citizen was dissatisfied: handle the case again.

        A department's case goes back to its department with a new deadline; a
        consultation the hotline answered itself is accepted again, to be answered
        anew or dispatched.
        """
        self.replied_at = None
        if self.state == State.REPLIED:
            self.due_at = self.deadline_from(self.clock())

    @transition(
        field=state,
        source=list(MERGEABLE_STATES),
        target=State.MERGED,
        permission=_role("merge_case"),
    )
    def merge(self, *, into: Case):
        """A duplicate report of a problem another case already covers: it closes
        and points to that case, which the citizen is told about."""
        if into is None or into.pk == self.pk:
            raise ValidationError(
                _("Choose the case this report duplicates."), code="invalid"
            )
        if into.state in TERMINAL_STATES:
            raise ValidationError(
                _("Case %(reference)s is closed: a report cannot join it."),
                params={"reference": into.reference},
                code="invalid",
            )
        self.duplicate_of = into
        self.closed_at = self.clock()

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=State.WITHDRAWN,
        permission=_role("withdraw_case"),
    )
    def withdraw(self):
        """The citizen withdrew the request."""
        self.closed_at = self.clock()


def require_text(value: str | None, message) -> None:
    if not (value or "").strip():
        raise ValidationError(message, code="required")
