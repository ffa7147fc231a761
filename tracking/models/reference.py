"""Reference data: the departments that answer, the categories cases are about
(with their time limits), and the people on either side: citizens and staff.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    email = models.EmailField(_("notification e-mail"), blank=True)
    phone = models.CharField(_("office phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name


class AcknowledgeUnit(models.TextChoices):
    HOURS = "hours", _("working hours")
    DAYS = "days", _("working days")


class Category(models.Model):
    """What a case is about (an Open311 service), with its time limits."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    service_code = models.SlugField(
        _("Open311 service code"), max_length=50, unique=True
    )
    description = models.TextField(_("description"), blank=True)
    default_department = models.ForeignKey(
        Department,
        verbose_name=_("default department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="default_for_categories",
    )
    handling_days = models.PositiveSmallIntegerField(
        _("handling time limit (working days)"), default=5
    )
    acknowledge_limit = models.PositiveSmallIntegerField(
        _("acknowledge time limit"), default=1
    )
    acknowledge_unit = models.CharField(
        _("acknowledge limit unit"),
        max_length=10,
        choices=AcknowledgeUnit.choices,
        default=AcknowledgeUnit.DAYS,
    )
    escalates = models.BooleanField(
        _("escalates to the media"),
        default=False,
        help_text=_(
            "Overdue cases of this category go to Hot Tracking even when "
            "they are not efficiency complaints."
        ),
    )
    escalation_threshold_days = models.PositiveSmallIntegerField(
        _("escalation threshold (working days overdue)"), default=3
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name


_PHONE_SIGNS = re.compile(r"[\s\-()（）.·]")
_COUNTRY_CODE = re.compile(r"^(?:\+|00)?86(?=1[3-9]\d{9}$)")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋", "0123456789+")
#: A mainland mobile number, or a landline with its area code (0571xxxxxxxx).
PHONE_NUMBER = re.compile(r"^(?:1[3-9]\d{9}|0\d{9,11})$")


def normalize_phone(raw: str | None) -> str:
    """One spelling per number: digits only, without China's country code, so that
    "+86 138-0013-8000" and "13800138000" find the same citizen. Anything that is
    not a number after that is returned as typed (stripped)."""
    text = (raw or "").strip().translate(_FULL_WIDTH_DIGITS)
    compact = _PHONE_SIGNS.sub("", text)
    if not re.fullmatch(r"\+?\d+", compact):
        return text
    return _COUNTRY_CODE.sub("", compact).lstrip("+")


def is_phone_number(value: str) -> bool:
    return bool(PHONE_NUMBER.match(normalize_phone(value)))


class CitizenQuerySet(models.QuerySet):
    def with_phone(self, phone: str):
        number = normalize_phone(phone)
        return self.filter(phone=number) if number else self.none()


class Citizen(models.Model):
    """Contact details of whoever raised a case: personal information (PIPL).

    Kept apart from :class:`Case` so that nothing public ever joins it in. A
    citizen who calls again is the same row (found by phone, see
    :func:`tracking.services.citizen_for`); phones are stored normalized.
    """

    name = models.CharField(_("name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = CitizenQuerySet.as_manager()

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")

    def __str__(self):
        return self.name or self.phone or str(self.pk)


class StaffProfile(models.Model):
    """Which department a department liaison works for."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self):
        return f"{self.user} ({self.department or '-'})"
