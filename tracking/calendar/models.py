"""The working calendar's table: the days that differ from Monday–Friday."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkingCalendar(models.Model):
    """A day that differs from Monday–Friday: a holiday or a make-up workday (调休).

    A year counts as known once it has any row; days of a known year without a row
    follow Monday–Friday. Years with no row at all fall back to Monday–Friday with
    a warning.
    """

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=60, blank=True)
    source = models.CharField(_("source"), max_length=40, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("working calendar day")
        verbose_name_plural = _("working calendar")

    def __str__(self):
        return f"{self.date} {self.name}"


class CalendarYear(models.Model):
    """A year whose official calendar was imported as a whole.

    Only such a year counts as official: a day added by hand does not make its year
    known, and the admin keeps warning until the year is imported.
    """

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    source = models.CharField(_("source"), max_length=40)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["year"]
        verbose_name = _("official calendar year")
        verbose_name_plural = _("official calendar years")

    def __str__(self):
        return f"{self.year} ({self.source})"
