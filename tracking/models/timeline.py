"""The timeline of a case: its events, the departments' responses and the
callbacks to the citizen.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import actions
from ..calendar import local_format

# How a warning or a reminder names the deadline it is about (its ``due_at``).
DUE_SENTENCES = {
    "acknowledge_warning": _("To be acknowledged by %(time)s"),
    "warning": _("To be completed by %(time)s"),
    "reminder": _("Was due to be completed by %(time)s"),
}


class CaseEventQuerySet(models.QuerySet):
    def public(self):
        return self.filter(public=True)


class CaseEvent(models.Model):
    """One line of a case's timeline. Append-only: never updated, never deleted."""

    case = models.ForeignKey(
        "tracking.Case",
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("case"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=30)
    from_state = models.CharField(_("from state"), max_length=20, blank=True)
    to_state = models.CharField(_("to state"), max_length=20, blank=True)
    note = models.TextField(_("note"), blank=True)
    # What staff wrote for staff (the officer's note to the department on a
    # dispatch): never on a public timeline, feed or API, whatever ``public`` says.
    staff_note = models.TextField(_("internal note"), blank=True)
    public = models.BooleanField(_("public"), default=False)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # Facts the statistics count, as they were when the event happened: the
    # department in charge then, whether an acknowledgement or a reply kept its
    # limit, and the working days a reply took from the dispatch.
    department = models.ForeignKey(
        "tracking.Department",
        verbose_name=_("department in charge"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    on_time = models.BooleanField(_("within the limit"), null=True, blank=True)
    working_days = models.PositiveSmallIntegerField(
        _("working days taken"), null=True, blank=True
    )
    # For a warning or a reminder: the deadline it is about (when the case was
    # due), as against ``created_at``, when the scan noticed.
    due_at = models.DateTimeField(_("was due"), null=True, blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [models.Index(fields=["case", "created_at"], name="event_case_idx")]

    def __str__(self):
        return f"{self.case_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("Case events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Case events are append-only.")

    @property
    def action_label(self):
        return actions.get(self.action).label

    def due_text(self) -> str:
        """The deadline a warning or reminder is about, in the active language:
        "应于 12月3日 17:30 签收" (empty for other events)."""
        sentence = DUE_SENTENCES.get(self.action)
        if sentence is None or self.due_at is None:
            return ""
        return str(sentence) % {"time": local_day_and_time(self.due_at)}


def local_day_and_time(value) -> str:
    """ "12月3日 17:30": the day and time of ``value`` in the hotline's zone, the
    day as the active language writes a month and day."""
    return f"{local_format(value, 'MONTH_DAY_FORMAT')} {local_format(value, 'H:i')}"


class ResponseChannel(models.TextChoices):
    SYSTEM = "system", _("Case system")
    PHONE = "phone", _("Phone")
    DOCUMENT = "document", _("Written document")
    ON_SITE = "on_site", _("On site")


class DepartmentResponse(models.Model):
    case = models.ForeignKey(
        "tracking.Case",
        on_delete=models.CASCADE,
        related_name="responses",
        verbose_name=_("case"),
    )
    department = models.ForeignKey(
        "tracking.Department",
        on_delete=models.PROTECT,
        related_name="responses",
        verbose_name=_("department"),
    )
    text = models.TextField(_("response"))
    channel = models.CharField(
        _("channel"),
        max_length=20,
        choices=ResponseChannel.choices,
        default=ResponseChannel.SYSTEM,
    )
    responded_at = models.DateTimeField(_("responded at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["responded_at", "pk"]
        verbose_name = _("department response")
        verbose_name_plural = _("department responses")

    def __str__(self):
        return f"{self.department}: {self.text[:40]}"


class CallbackMethod(models.TextChoices):
    PHONE = "phone", _("Phone callback")
    HOME_VISIT = "home_visit", _("Home visit")
    MEDIA_JOINT = "media_joint", _("Joint callback with the media")


class CallbackOutcome(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")
    UNREACHABLE = "unreachable", _("Unreachable")


class Callback(models.Model):
    """Follow-up with the citizen after an answer (回访)."""

    case = models.ForeignKey(
        "tracking.Case",
        on_delete=models.CASCADE,
        related_name="callbacks",
        verbose_name=_("case"),
    )
    method = models.CharField(
        _("method"),
        max_length=20,
        choices=CallbackMethod.choices,
        default=CallbackMethod.PHONE,
    )
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=CallbackOutcome.choices
    )
    note = models.TextField(_("note"), blank=True)
    called_at = models.DateTimeField(_("time"), default=timezone.now)
    # The department whose work the citizen judged (the one in charge then).
    department = models.ForeignKey(
        "tracking.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["called_at", "pk"]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")

    def __str__(self):
        return f"{self.get_method_display()}: {self.get_outcome_display()}"
