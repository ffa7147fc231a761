"""Partners (加盟商) and the service orders the hotline refers to them.

A help request (求助) can be referred to a partner as a :class:`ServiceOrder`: an
appointment, what was done, and an itemised service record (every material 辅材
and labour line with quantity and price, the "一目了然" record the hotline asks its
partners to keep). The citizen judges the partner's work per order.

Money is ``Decimal`` throughout. A line's amount is :func:`line_amount` (quantity
× unit price, rounded half-up to 0.01), stored on the line when it is written, so
that the database can add the amounts for the figures (``Sum("amount")``) with
exactly the result of :meth:`ServiceOrder.total`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Avg, Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.models import Orderable

CENT = Decimal("0.01")
MONEY = {"max_digits": 10, "decimal_places": 2}
# The lowest and highest rating; a rating up to DISSATISFIED_UP_TO is a complaint.
RATING_MIN, RATING_MAX = 1, 5
DISSATISFIED_UP_TO = 2


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """The amount of one record line: quantity × unit price, rounded half-up to
    the cent. The one place this is computed."""
    return (Decimal(quantity) * Decimal(unit_price)).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def complaints_threshold() -> int:
    """Complaints within the window that flag a partner
    (``PARTNER_COMPLAINTS_FLAG``)."""
    return int(getattr(settings, "PARTNER_COMPLAINTS_FLAG", 3))


def complaints_window() -> timedelta:
    return timedelta(days=int(getattr(settings, "PARTNER_COMPLAINTS_WINDOW_DAYS", 90)))


class Trade(models.Model):
    """A kind of work partners do: waterproofing, plumbing, lock repair …"""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("trade")
        verbose_name_plural = _("trades")

    def __str__(self):
        return self.name


class PartnerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def with_figures(self, now: datetime | None = None):
        """Each partner with its figures, in one query:

        - ``orders_count``: orders, cancelled ones left out;
        - ``due_count`` / ``on_time_count``: orders whose appointment has ended or
          that are done, and of those the ones done on time (see
          :class:`ServiceOrder`);
        - ``rated_count`` / ``rating_avg``: the citizens' ratings;
        - ``complaints_count`` / ``recent_complaints``: complaints ever, and within
          the flag window (``PARTNER_COMPLAINTS_WINDOW_DAYS``) before ``now``;
        - ``billed_total``: the amounts of the record lines of its done orders.

        Subqueries rather than joins where two would multiply each other's rows.
        """
        now = now or timezone.now()
        counted = ~Q(orders__status=OrderStatus.CANCELLED)
        done = Q(orders__status=OrderStatus.DONE)
        due = done | Q(
            orders__status=OrderStatus.SCHEDULED, orders__appointment_end__lt=now
        )
        complaint = Q(orders__rating__lte=DISSATISFIED_UP_TO)
        billed = (
            ServiceRecordLine.objects.filter(
                order__partner=models.OuterRef("pk"), order__status=OrderStatus.DONE
            )
            .order_by()
            .values("order__partner")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return self.annotate(
            orders_count=Count("orders", filter=counted),
            due_count=Count("orders", filter=counted & due),
            on_time_count=Count(
                "orders",
                filter=done & Q(orders__completed_at__lte=F("orders__appointment_end")),
            ),
            rated_count=Count("orders", filter=Q(orders__rating__isnull=False)),
            rating_avg=Avg("orders__rating"),
            complaints_count=Count("orders", filter=complaint),
            recent_complaints=Count(
                "orders",
                filter=complaint & Q(orders__rated_at__gt=now - complaints_window()),
            ),
            billed_total=Coalesce(
                models.Subquery(billed, output_field=models.DecimalField(**MONEY)),
                Decimal("0.00"),
                output_field=models.DecimalField(max_digits=14, decimal_places=2),
            ),
        )

    def flagged(self, now: datetime | None = None):
        """Partners with at least ``PARTNER_COMPLAINTS_FLAG`` complaints in the
        window: computed, never stored."""
        return self.with_figures(now).filter(
            recent_complaints__gte=complaints_threshold()
        )


class Partner(models.Model):
    """A service provider that joined the hotline (加盟商).

    Its name and trades may be shown to the citizen it serves; its contact is for
    staff only and never reaches a public page.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    trades = models.ManyToManyField(
        Trade, verbose_name=_("trades"), related_name="partners", blank=True
    )
    service_area = models.CharField(_("service area"), max_length=200, blank=True)
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)
    is_active = models.BooleanField(_("active"), default=True)
    master_has_disability = models.BooleanField(
        _("master with a disability"),
        default=False,
        help_text=_(
            "The master is a person with a disability employed through the "
            "platform's programme."
        ),
    )
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    notes = models.TextField(_("internal notes"), blank=True)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self):
        return self.name


class PartnerAccount(models.Model):
    """A login of a partner's own (optional): it sees and records its own
    service orders only, as a department liaison sees its department's cases."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="partner_account",
    )
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="accounts",
    )

    class Meta:
        verbose_name = _("partner account")
        verbose_name_plural = _("partner accounts")

    def __str__(self):
        return f"{self.user} ({self.partner})"


def partner_id_of(user) -> int | None:
    """The partner a partner account works for; None for everyone else."""
    if user is None or not user.is_authenticated:
        return None
    account = getattr(user, "partner_account", None)
    return account.partner_id if account else None


class OrderStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class ServiceOrderQuerySet(models.QuerySet):
    def with_totals(self):
        """Each order with ``amount_total``: the database's sum of its lines."""
        return self.annotate(
            amount_total=Coalesce(
                Sum("lines__amount"),
                Decimal("0.00"),
                output_field=models.DecimalField(max_digits=14, decimal_places=2),
            )
        )


class ServiceOrder(models.Model):
    """A help request referred to a partner (服务工单).

    **On time**: an order is done on time when it was completed no later than the
    end of its appointment window (``completed_at <= appointment_end``); a partner
    who comes earlier on the citizen's wish is on time too. The on-time share of a
    partner counts the orders that are *due*: done, or still scheduled after their
    window ended (late already); cancelled orders and those still ahead do not
    count.

    **Complaint**: an order the citizen rated dissatisfied, i.e. a rating of
    ``DISSATISFIED_UP_TO`` (2) or less on the 1–5 scale, counted at the time it
    was rated. One rule, one place: a complaint case about a partner is rated
    on its order by the officer who takes it.
    """

    case = models.ForeignKey(
        "tracking.Case",
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        related_name="service_orders",
    )
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.SCHEDULED,
    )
    appointment_start = models.DateTimeField(_("appointment from"))
    appointment_end = models.DateTimeField(_("appointment until"))
    service_done = models.TextField(_("service done"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(RATING_MIN), MaxValueValidator(RATING_MAX)],
    )
    rating_comment = models.TextField(_("citizen's comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rating recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("referred at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("referred by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ServiceOrderQuerySet.as_manager()

    class Meta:
        ordering = ["-appointment_start", "-pk"]
        verbose_name = _("service order")
        verbose_name_plural = _("service orders")
        constraints = [
            models.CheckConstraint(
                condition=Q(appointment_end__gt=F("appointment_start")),
                name="service_order_window_positive",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True)
                | Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX),
                name="service_order_rating_range",
            ),
            models.CheckConstraint(
                condition=Q(status=OrderStatus.DONE, completed_at__isnull=False)
                | (~Q(status=OrderStatus.DONE) & Q(completed_at__isnull=True)),
                name="service_order_completed_when_done",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "rated_at"], name="order_partner_rated_idx")
        ]

    def __str__(self):
        return f"{self.partner} · {self.case_id}"

    def total(self) -> Decimal:
        """The order's total: the sum of its lines' amounts."""
        return sum((line.line_total() for line in self.lines.all()), Decimal("0.00"))

    def _total_of(self, kind: str) -> Decimal:
        return sum(
            (line.line_total() for line in self.lines.all() if line.kind == kind),
            Decimal("0.00"),
        )

    def materials_total(self) -> Decimal:
        return self._total_of(LineKind.MATERIAL)

    def labour_total(self) -> Decimal:
        return self._total_of(LineKind.LABOUR)

    def is_on_time(self, now: datetime | None = None) -> bool | None:
        """True or False once the order is due (see the class docstring), None
        before, and for cancelled orders."""
        if self.status == OrderStatus.DONE:
            return self.completed_at <= self.appointment_end
        now = now or timezone.now()
        if self.status == OrderStatus.SCHEDULED and self.appointment_end < now:
            return False
        return None

    @property
    def is_complaint(self) -> bool:
        return self.rating is not None and self.rating <= DISSATISFIED_UP_TO


class LineKind(models.TextChoices):
    MATERIAL = "material", _("Material")
    LABOUR = "labour", _("Labour")


class ServiceRecordLine(models.Model):
    """One line of an order's service record: a material or a labour item."""

    order = models.ForeignKey(
        ServiceOrder,
        verbose_name=_("service order"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(
        _("kind"), max_length=20, choices=LineKind.choices, default=LineKind.MATERIAL
    )
    description = models.CharField(_("item"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    quantity = models.DecimalField(
        _("quantity"), **MONEY, validators=[MinValueValidator(CENT)]
    )
    unit_price = models.DecimalField(
        _("unit price"), **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    # line_amount(quantity, unit_price), written with the line (services only).
    amount = models.DecimalField(_("amount"), **MONEY, editable=False)

    class Meta:
        ordering = ["order", "position", "pk"]
        verbose_name = _("service record line")
        verbose_name_plural = _("service record lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="record_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="record_line_price_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.description} × {self.quantity}"

    def line_total(self) -> Decimal:
        return line_amount(self.quantity, self.unit_price)

    def save(self, *args, **kwargs):
        self.amount = self.line_total()
        super().save(*args, **kwargs)


class PartnerFlag(models.Model):
    """The moment a partner reached ``PARTNER_COMPLAINTS_FLAG`` complaints within
    the window, and the supervisors were told. One per crossing: the rating that
    crossed is unique, and the service writes it under the partner's row lock
    only when the count before it was below the threshold."""

    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="flags",
    )
    order = models.OneToOneField(
        ServiceOrder,
        verbose_name=_("complaint that raised it"),
        on_delete=models.CASCADE,
        related_name="raised_flag",
    )
    complaints = models.PositiveSmallIntegerField(_("complaints within the window"))
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("partner flag")
        verbose_name_plural = _("partner flags")

    def __str__(self):
        return f"{self.partner} {self.raised_at:%Y-%m-%d}"


# --- home visits (入户回访) ---------------------------------------------------------


class VisitOptOut(models.Model):
    """A citizen who asked not to be visited at home: never drawn."""

    citizen = models.OneToOneField(
        "tracking.Citizen",
        verbose_name=_("citizen"),
        on_delete=models.CASCADE,
        related_name="visit_opt_out",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("home visit opt-out")
        verbose_name_plural = _("home visit opt-outs")

    def __str__(self):
        return str(self.citizen_id)


class HomeVisitSampleQuerySet(models.QuerySet):
    def with_figures(self):
        """Each campaign (a sample) with its figures, in one query:

        - ``visits_count``: the households drawn;
        - ``planned_count``: those given a day for the visit;
        - ``done_count`` / ``unreachable_count`` / ``declined_count``: the visits
          by outcome;
        - ``satisfied_count``: the done visits whose citizen was satisfied with
          the partner's work (the share is of ``done_count``);
        - ``suggestions_count``: the done visits that brought suggestions.
        """
        visit = "visits__"
        done = Q(**{f"{visit}outcome": VisitOutcome.DONE})
        return self.annotate(
            visits_count=Count("visits"),
            planned_count=Count(
                "visits", filter=Q(**{f"{visit}planned_at__isnull": False})
            ),
            done_count=Count("visits", filter=done),
            unreachable_count=Count(
                "visits", filter=Q(**{f"{visit}outcome": VisitOutcome.UNREACHABLE})
            ),
            declined_count=Count(
                "visits", filter=Q(**{f"{visit}outcome": VisitOutcome.DECLINED})
            ),
            satisfied_count=Count(
                "visits", filter=done & Q(**{f"{visit}satisfied": True})
            ),
            suggestions_count=Count(
                "visits", filter=done & ~Q(**{f"{visit}suggestions": ""})
            ),
        )


class HomeVisitSample(models.Model):
    """A home-visit campaign: a random draw of citizens served in a period, to
    be visited at home with the partner who served them. Drawn again with the
    same seed and exclusion from the same data, it gives the same citizens (see
    ``home_visit_sample_draw``)."""

    period_start = models.DateField(_("served from"))
    period_end = models.DateField(_("served until"))
    size = models.PositiveSmallIntegerField(_("households wanted"))
    seed = models.BigIntegerField(_("random seed"))
    recent_days = models.PositiveSmallIntegerField(
        _("left out when visited within (days)"),
        default=180,
        help_text=_(
            "Citizens visited or drawn within this many days before the draw "
            "are not drawn again."
        ),
    )
    drawn_at = models.DateTimeField(_("drawn at"), default=timezone.now)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drawn by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = HomeVisitSampleQuerySet.as_manager()

    class Meta:
        ordering = ["-drawn_at", "-pk"]
        verbose_name = _("home visit campaign")
        verbose_name_plural = _("home visit campaigns")

    def __str__(self):
        return f"{self.period_start}–{self.period_end} #{self.seed}"


class VisitOutcome(models.TextChoices):
    DONE = "done", _("Visited")
    UNREACHABLE = "unreachable", _("Nobody reached")
    DECLINED = "declined", _("Declined the visit")


class HomeVisitQuerySet(models.QuerySet):
    def with_suggestions(self):
        """Done visits whose citizen made suggestions."""
        return self.filter(outcome=VisitOutcome.DONE).exclude(suggestions="")


class HomeVisit(models.Model):
    """One household of a campaign: the citizen, the order whose partner may
    come along, the planned day and, once visited, the outcome, the citizen's
    verdict on that order and their suggestions."""

    sample = models.ForeignKey(
        HomeVisitSample,
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="visits",
    )
    citizen = models.ForeignKey(
        "tracking.Citizen",
        verbose_name=_("citizen"),
        on_delete=models.PROTECT,
        related_name="home_visits",
    )
    order = models.ForeignKey(
        ServiceOrder,
        verbose_name=_("service order"),
        on_delete=models.PROTECT,
        related_name="home_visits",
    )
    position = models.PositiveSmallIntegerField(_("position"))
    planned_at = models.DateTimeField(_("planned for"), null=True, blank=True)
    invite_partner = models.BooleanField(
        _("partner invited"),
        default=False,
        help_text=_("The partner who served the order comes along."),
    )
    visited_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=VisitOutcome.choices, blank=True
    )
    satisfied = models.BooleanField(
        _("satisfied with the service"), null=True, blank=True
    )
    suggestions = models.TextField(_("suggestions"), blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = HomeVisitQuerySet.as_manager()

    class Meta:
        ordering = ["sample", "position"]
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "citizen"], name="home_visit_once_per_sample"
            ),
            # A verdict is given at a visit that took place, and only there.
            models.CheckConstraint(
                condition=Q(outcome=VisitOutcome.DONE, satisfied__isnull=False)
                | (~Q(outcome=VisitOutcome.DONE) & Q(satisfied__isnull=True)),
                name="home_visit_verdict_when_done",
            ),
        ]

    def __str__(self):
        return f"{self.sample_id}/{self.position}"

    @property
    def is_recorded(self) -> bool:
        return bool(self.outcome)


class PartnerFollowUp(models.Model):
    """Follow-up work for a partner (整改), made from a citizen's suggestion at
    a home visit: what to do, by when, and once done, when and how."""

    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="follow_ups",
    )
    visit = models.ForeignKey(
        HomeVisit,
        verbose_name=_("home visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    order = models.ForeignKey(
        ServiceOrder,
        verbose_name=_("service order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    task = models.TextField(_("what to do"))
    due_on = models.DateField(_("due on"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    done_note = models.TextField(_("what was done"), blank=True)

    class Meta:
        ordering = ["done_at", "due_on", "pk"]
        verbose_name = _("follow-up work")
        verbose_name_plural = _("follow-up work")

    def __str__(self):
        return f"{self.partner} {self.due_on:%Y-%m-%d}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


# --- community visit days (社区月月进) ------------------------------------------------


class ServiceTeam(models.Model):
    """A team the hotline takes along on its community visit days, such as the
    便民服务队 (everyday repairs) or the 养生服务队 (health advice)."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service team")
        verbose_name_plural = _("service teams")

    def __str__(self):
        return self.name


class CommunityVisitQuerySet(models.QuerySet):
    def upcoming(self, today=None):
        """Visits on ``today`` (the local date) or later, soonest first."""
        today = today or timezone.localdate()
        return self.filter(date__gte=today).order_by("date", "pk")

    def past(self, today=None):
        """Visits before ``today`` (the local date), latest first."""
        today = today or timezone.localdate()
        return self.filter(date__lt=today).order_by("-date", "-pk")


class CommunityVisit(ClusterableModel):
    """A community visit day (社区月月进): the hotline, its service teams and
    partners spend a day in one residential community or village.

    The number of people served is entered after the day: it is refused for a
    date still ahead. What is shown in public is the date, the place, the
    services, the teams, what happened and the number served, redacted; never a
    partner's contact.
    """

    date = models.DateField(_("date"))
    community = models.CharField(
        _("community"),
        max_length=100,
        help_text=_("The residential community (小区) or village (村)."),
    )
    district = models.CharField(_("district"), max_length=100, blank=True)
    teams = models.ManyToManyField(
        ServiceTeam,
        verbose_name=_("service teams"),
        related_name="visits",
        blank=True,
    )
    partners = models.ManyToManyField(
        Partner,
        verbose_name=_("partners"),
        related_name="community_visits",
        blank=True,
    )
    services = models.TextField(
        _("services offered"),
        help_text=_("For example: free repairs, appliance cleaning, health advice."),
    )
    people_served = models.PositiveIntegerField(
        _("people served"),
        null=True,
        blank=True,
        help_text=_("Entered after the day."),
    )
    summary = models.TextField(_("what happened"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CommunityVisitQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("community visit")
        verbose_name_plural = _("community visits")

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.community}"

    @property
    def place(self) -> str:
        return " ".join(part for part in (self.district, self.community) if part)

    def is_upcoming(self, today=None) -> bool:
        return self.date >= (today or timezone.localdate())

    def clean(self):
        super().clean()
        errors = {}
        if self.community is not None and not self.community.strip():
            errors["community"] = _("Say which community or village is visited.")
        if (
            self.people_served is not None
            and self.date is not None
            and self.date > timezone.localdate()
        ):
            errors["people_served"] = _(
                "The number of people served is entered after the day; "
                "this visit is still ahead."
            )
        if errors:
            raise ValidationError(errors)


class CommunityVisitPhoto(Orderable):
    """A photo of a community visit day, shown in public once the day is past;
    its caption is the alternative text (the visit's place when there is none)."""

    visit = ParentalKey(
        CommunityVisit,
        verbose_name=_("community visit"),
        on_delete=models.CASCADE,
        related_name="visit_photos",
    )
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("image"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    caption = models.CharField(_("caption"), max_length=200, blank=True)

    class Meta(Orderable.Meta):
        verbose_name = _("community visit photo")
        verbose_name_plural = _("community visit photos")

    def __str__(self):
        return self.caption or str(self.image_id)
