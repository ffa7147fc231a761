"""Extension requests (延期申请): a department liaison asks for more working days
before the deadline; a supervisor grants them (all or fewer) or refuses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .cases import may_act_on


class ExtensionDecision(models.TextChoices):
    PENDING = "pending", _("Pending")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class ExtensionRequestQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(decision=ExtensionDecision.PENDING)


class ExtensionRequest(models.Model):
    """One request to extend a case's deadline, and the supervisor's answer."""

    case = models.ForeignKey(
        "tracking.Case",
        on_delete=models.CASCADE,
        related_name="extension_requests",
        verbose_name=_("case"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    working_days = models.PositiveSmallIntegerField(_("working days asked"))
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("asked at"))
    decision = models.CharField(
        _("decision"),
        max_length=10,
        choices=ExtensionDecision.choices,
        default=ExtensionDecision.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    granted_days = models.PositiveSmallIntegerField(
        _("working days granted"), null=True, blank=True
    )
    answer = models.TextField(_("answer"), blank=True)

    objects = ExtensionRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(decision="pending"),
                name="one_pending_extension_per_case",
            ),
        ]
        permissions = [
            ("request_extension", _("Can request deadline extensions")),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.working_days} ({self.decision})"

    @property
    def is_pending(self) -> bool:
        return self.decision == ExtensionDecision.PENDING


def pending_extension(case) -> ExtensionRequest | None:
    """The case's request waiting for a supervisor, if any."""
    return (
        ExtensionRequest.objects.pending()
        .filter(case=case)
        .select_related("requested_by")
        .first()
    )


def last_decided_extension(case) -> ExtensionRequest | None:
    """The case's latest decided request: the answer the department reads."""
    return (
        ExtensionRequest.objects.filter(case=case)
        .exclude(decision=ExtensionDecision.PENDING)
        .select_related("decided_by")
        .order_by("-decided_at", "-pk")
        .first()
    )


def may_request_extension(case, user) -> bool:
    """The liaison of the case's department, while the deadline runs and no
    request waits."""
    return (
        case.is_awaiting_department
        and case.due_at is not None
        and user.has_perm("tracking.request_extension")
        and may_act_on(case, user)
        and not ExtensionRequest.objects.pending().filter(case=case).exists()
    )


def may_decide_extension(case, user) -> bool:
    """A supervisor, while a request waits and the case still has a deadline."""
    return (
        case.is_awaiting_department
        and case.due_at is not None
        and user.has_perm("tracking.extend_deadline")
        and may_act_on(case, user)
        and ExtensionRequest.objects.pending().filter(case=case).exists()
    )


def may_refuse_extension(case, user) -> bool:
    """A supervisor, while a request waits: also once the case has moved on (the
    department replied meanwhile), so that no request waits for ever."""
    return (
        user.has_perm("tracking.extend_deadline")
        and may_act_on(case, user)
        and ExtensionRequest.objects.pending().filter(case=case).exists()
    )
