"""Calls to the hotline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CallOutcome(models.TextChoices):
    ANSWERED = "answered", _("Answered on the spot")
    CASE_CREATED = "case_created", _("New case")
    TRANSFERRED = "transferred", _("Transferred")
    FOLLOW_UP = "follow_up", _("Caller asked about an existing case")
    DROPPED = "dropped", _("Dropped")


class HeardOf(models.TextChoices):
    """How a citizen first heard of the hotline (asked on a first contact)."""

    COMMUNITY_VISIT = "community_visit", _("A community visit day")
    NEWSPAPER = "newspaper", _("The newspaper")
    FRIEND = "friend", _("Family or friends")
    BROADCAST = "broadcast", _("Television or radio")
    ONLINE = "online", _("Online")
    OTHER = "other", _("Other")


def heard_of_fields():
    """The two fields a call and a case share: how the citizen heard of 8890,
    and which community visit day, when that was how."""
    return (
        models.CharField(
            _("heard of 8890 through"),
            max_length=20,
            choices=HeardOf.choices,
            blank=True,
            help_text=_("Asked of a first-time caller; leave empty if not asked."),
        ),
        models.ForeignKey(
            "partners.CommunityVisit",
            on_delete=models.SET_NULL,
            null=True,
            blank=True,
            related_name="+",
            verbose_name=_("at the community visit"),
        ),
    )


class Call(models.Model):
    """One inbound call to the hotline: logged by an officer, or imported from the
    telephony system's export (``external_id`` is its call id)."""

    external_id = models.CharField(
        _("telephony call id"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Set by imports from the telephony system."),
    )
    received_at = models.DateTimeField(
        _("received at"), default=timezone.now, db_index=True
    )
    caller_phone = models.CharField(
        _("caller phone"), max_length=30, blank=True, db_index=True
    )
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), default=0)
    outcome = models.CharField(
        _("outcome"),
        max_length=20,
        choices=CallOutcome.choices,
        default=CallOutcome.ANSWERED,
    )
    note = models.TextField(_("summary"), blank=True)
    citizen = models.ForeignKey(
        "tracking.Citizen",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("citizen"),
    )
    case = models.ForeignKey(
        "tracking.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("case"),
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    heard_of, heard_of_visit = heard_of_fields()

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")

    def __str__(self):
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.get_outcome_display()}"
