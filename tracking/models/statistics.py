"""Daily rollups of the hotline's figures (see :mod:`tracking.statistics`).

Each row counts what happened on one local day (``TIME_ZONE``) under one
combination of dimensions. The dimensions are plain integers with 0 for "none"
rather than nullable foreign keys: a unique key over them must treat "no
department" as one value, which NULL is not. The rows are kept by
:mod:`tracking.statistics.rollups` in the transaction of each change, and rebuilt
from the raw rows by ``manage.py rebuild_statistics``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# The counters of CaseDay, in the order of the workflow.
CASE_COUNTERS = (
    "registered",
    "accepted",
    "answered",
    "dispatched",
    "acknowledged",
    "acknowledged_on_time",
    "returned",
    "escalated",
    "published",
    "replied",
    "replied_on_time",
    "completed",
    "finished",
    "reopened",
    "callbacks_satisfied",
    "callbacks_dissatisfied",
    "callbacks_unreachable",
    "callbacks_phone",
    "callbacks_home_visit",
    "callbacks_media_joint",
)
CASE_DIMENSIONS = ("day", "department_id", "category_id", "kind", "is_efficiency")


class CallDay(models.Model):
    """Calls received on one local day."""

    day = models.DateField(_("day"), primary_key=True)
    calls = models.IntegerField(_("calls"), default=0, db_default=0)

    class Meta:
        ordering = ["day"]
        verbose_name = _("calls of a day")
        verbose_name_plural = _("calls per day")


def _counter(label):
    return models.IntegerField(label, default=0, db_default=0)


class CaseDay(models.Model):
    """What happened to cases on one local day, by department (the one in charge
    when it happened), category, kind and efficiency complaint or not."""

    day = models.DateField(_("day"))
    department_id = models.PositiveIntegerField(_("department"), default=0)
    category_id = models.PositiveIntegerField(_("category"), default=0)
    kind = models.CharField(_("kind"), max_length=20)
    is_efficiency = models.BooleanField(_("efficiency complaint"), default=False)

    registered = _counter(_("registered"))
    accepted = _counter(_("accepted"))
    answered = _counter(_("answered by the hotline"))
    dispatched = _counter(_("dispatched"))
    acknowledged = _counter(_("acknowledged"))
    acknowledged_on_time = _counter(_("acknowledged within the limit"))
    returned = _counter(_("returned"))
    escalated = _counter(_("escalated to the paper"))
    published = _counter(_("first reported in the paper"))
    replied = _counter(_("replied"))
    replied_on_time = _counter(_("replied by the deadline"))
    completed = _counter(_("completed"))
    finished = _counter(_("finished (any end)"))
    reopened = _counter(_("reopened"))
    callbacks_satisfied = _counter(_("callbacks: satisfied"))
    callbacks_dissatisfied = _counter(_("callbacks: dissatisfied"))
    callbacks_unreachable = _counter(_("callbacks: unreachable"))
    callbacks_phone = _counter(_("callbacks by phone"))
    callbacks_home_visit = _counter(_("callbacks by home visit"))
    callbacks_media_joint = _counter(_("callbacks with the media"))

    class Meta:
        ordering = ["day"]
        verbose_name = _("case figures of a day")
        verbose_name_plural = _("case figures per day")
        constraints = [
            models.UniqueConstraint(fields=CASE_DIMENSIONS, name="caseday_key")
        ]


class ReplyDays(models.Model):
    """Replies of one local day by the working days they took from dispatch: the
    distribution behind the median time to reply."""

    day = models.DateField(_("day"))
    department_id = models.PositiveIntegerField(_("department"), default=0)
    category_id = models.PositiveIntegerField(_("category"), default=0)
    kind = models.CharField(_("kind"), max_length=20)
    is_efficiency = models.BooleanField(_("efficiency complaint"), default=False)
    working_days = models.PositiveSmallIntegerField(_("working days"))
    replies = _counter(_("replies"))

    class Meta:
        ordering = ["day"]
        verbose_name = _("reply times of a day")
        verbose_name_plural = _("reply times per day")
        constraints = [
            models.UniqueConstraint(
                fields=(*CASE_DIMENSIONS, "working_days"), name="replydays_key"
            )
        ]


# MediaEffectDay.response_days of a case the department has not answered yet.
NO_RESPONSE = -1


class MediaEffectDay(models.Model):
    """The media effect, by the day a case entered the comparison: the first
    publication of its story (reported), or the day an efficiency complaint's
    deadline passed (not reported). ``response_days`` is the number of days from
    then to the department's reply (``NO_RESPONSE`` while there is none);
    ``solved_within_7`` whether it was closed within seven days of that day."""

    day = models.DateField(_("day"))
    department_id = models.PositiveIntegerField(_("department"), default=0)
    reported = models.BooleanField(_("reported in the paper"))
    response_days = models.IntegerField(_("days to the response"))
    solved_within_7 = models.BooleanField(_("solved within 7 days"))
    cases = _counter(_("cases"))

    class Meta:
        ordering = ["day"]
        verbose_name = _("media effect of a day")
        verbose_name_plural = _("media effect per day")
        constraints = [
            models.UniqueConstraint(
                fields=(
                    "day",
                    "department_id",
                    "reported",
                    "response_days",
                    "solved_within_7",
                ),
                name="mediaeffectday_key",
            )
        ]


class FirstContact(models.Model):
    """The first contact ever of one phone number with the hotline, a call or a
    case: what makes its caller a first-time caller on that day, and what they
    said of how they heard of 8890 (:mod:`tracking.statistics.first_contacts`).
    Kept current as calls and cases are written, rebuilt with the rollups."""

    phone = models.CharField(_("phone"), max_length=30, primary_key=True)
    at = models.DateTimeField(_("first contact at"))
    kind = models.CharField(_("first contact"), max_length=4)  # "call" or "case"
    contact_id = models.BigIntegerField(_("call or case id"))
    heard_of = models.CharField(
        _("heard of 8890 through"), max_length=20, blank=True, default=""
    )
    #: The community visit day named, 0 for none (a plain integer, as in the
    #: daily rollups: no foreign key for a visit day to be deleted through).
    visit_id = models.PositiveIntegerField(_("community visit day"), default=0)

    class Meta:
        ordering = ["at"]
        verbose_name = _("first contact of a phone number")
        verbose_name_plural = _("first contacts of phone numbers")


class FirstContactDay(models.Model):
    """First-time callers of one local day, by how they heard of 8890 and the
    community visit day they named (0: none)."""

    day = models.DateField(_("day"))
    heard_of = models.CharField(_("heard of 8890 through"), max_length=20)
    visit_id = models.PositiveIntegerField(_("community visit day"), default=0)
    callers = _counter(_("first-time callers"))

    class Meta:
        ordering = ["day"]
        verbose_name = _("first-time callers of a day")
        verbose_name_plural = _("first-time callers per day")
        constraints = [
            models.UniqueConstraint(
                fields=("day", "heard_of", "visit_id"), name="firstcontactday_key"
            )
        ]
