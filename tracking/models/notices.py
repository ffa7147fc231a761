"""What the case system owes others: one notice per deadline, and the outbox of
notifications written with their cause.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    WARNING = "warning", _("Early warning")
    REMINDER = "reminder", _("Reminder")
    ACKNOWLEDGE_WARNING = "acknowledge_warning", _("Acknowledgement deadline near")


class CaseNotice(models.Model):
    """A warning or reminder sent for one deadline of a case: at most once each.

    The unique constraint is what makes the scan exactly-once: however many scans
    run at once, only one insert per case, kind and deadline succeeds.
    """

    case = models.ForeignKey(
        "tracking.Case", on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "due_at"], name="case_notice_once_per_deadline"
            )
        ]

    def __str__(self):
        return f"{self.case_id} {self.kind} {self.due_at:%Y-%m-%d %H:%M}"


class OutboxMessage(models.Model):
    """A notification owed, written in the same transaction as its cause.

    After the commit it is queued to a worker; if the broker is down, the worker
    dies or the mail relay fails, the outbox sweep delivers it later. A worker
    claims a message for a while before it runs the handler, outside any
    transaction, and records the outcome only if its claim still holds; while it
    holds, other deliveries of the message do nothing (``tracking.outbox``).
    """

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # When the sweep should try next (while claimed: when the claim runs out);
    # empty once sent or given up.
    due_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # While a worker sends it: others leave it alone until then. Together with
    # ``attempts`` (one more per claim) it tells one claim from the next.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("outgoing notification")
        verbose_name_plural = _("outgoing notifications")
        indexes = [
            models.Index(
                fields=["due_at"],
                name="outbox_due_idx",
                condition=Q(due_at__isnull=False),
            )
        ]

    def __str__(self):
        return f"{self.task}{tuple(self.args)}"

    @property
    def given_up(self) -> bool:
        return self.sent_at is None and self.due_at is None
