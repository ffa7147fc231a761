"""Censor rules: editable redaction applied to everything public from a case."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..redaction import check_rule_pattern, check_rule_replacement


class CensorRule(models.Model):
    """An editable redaction rule applied to everything public from a case."""

    pattern = models.CharField(_("text or pattern"), max_length=255)
    is_regex = models.BooleanField(_("regular expression"), default=False)
    replacement = models.CharField(
        _("replacement"),
        max_length=100,
        default="***",
        help_text=_(
            "Plain text, shown exactly as typed (markup is not needed and "
            "is shown as text)."
        ),
    )
    case = models.ForeignKey(
        "tracking.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="censor_rules",
        help_text=_("Leave empty for a rule that applies to every case."),
    )
    reason = models.CharField(_("why"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("censor rule")
        verbose_name_plural = _("censor rules")

    def __str__(self):
        return f"{self.pattern} → {self.replacement}"

    @classmethod
    def from_db(cls, db, field_names, values):
        rule = super().from_db(db, field_names, values)
        rule._loaded_case_id = rule.__dict__.get("case_id")
        return rule

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # After the signals: they read the case the rule had before this save.
        self._loaded_case_id = self.case_id

    def affected_case_ids(self) -> set[int | None]:
        """The cases whose public text this rule changes, before and after an
        edit (``None``: every case). A rule moved from one case to another, or
        narrowed from all cases to one, changes both."""
        return {self.case_id, getattr(self, "_loaded_case_id", self.case_id)}

    def clean(self):
        errors = {}
        if any(ch in self.replacement for ch in "\r\n\t\x00\ue000\ue001"):
            errors["replacement"] = _("The replacement is plain text on one line.")
        if self.is_regex and self.pattern:
            problem = check_rule_pattern(self.pattern)
            if problem == "too slow":
                errors["pattern"] = _(
                    "This pattern takes too long on some texts (it backtracks "
                    "without end, like (a|aa)+$): write it more simply."
                )
            elif problem:
                errors["pattern"] = _("Not a valid regular expression: %(error)s") % {
                    "error": problem
                }
            elif group := check_rule_replacement(self.pattern, self.replacement):
                errors["replacement"] = _(
                    "The replacement refers to group %(group)s, which the pattern "
                    "does not have."
                ) % {"group": group}
        if errors:
            raise ValidationError(errors)
