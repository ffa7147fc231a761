"""Forms of the back office: registering a case, logging a call, and the small
form behind each action on a case.

The action forms only collect input. The business rules (a reason is required, a
department must be chosen, the outcome of a callback) are enforced by the services,
whose messages the views show; the forms mark such fields ``required`` in HTML so
the browser asks first, but leave the decision to the service so that the two can
never disagree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from . import calendar, hooks
from .exceptions import CaseError
from .models import (
    AcknowledgeUnit,
    Call,
    CallbackMethod,
    CallbackOutcome,
    CallOutcome,
    Case,
    Category,
    CensorRule,
    Channel,
    Department,
    Kind,
    ResponseChannel,
    State,
    normalize_phone,
)
from .models.extensions import pending_extension
from .parsing import whole_number
from .partners.models import CommunityVisit
from .services import CitizenData, check_heard_of

TEXTAREA_ROWS = 3


def _textarea():
    return forms.Textarea(attrs={"rows": TEXTAREA_ROWS})


# --- actions on a case -----------------------------------------------------------


class CaseActionForm(forms.Form):
    """Base of every action on a case: carries the state the user saw.

    The service refuses the action with a conflict when the case has moved on since
    the page was rendered, instead of acting on a case the user has not seen.
    """

    expect_state = forms.ChoiceField(
        choices=State.choices,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("The form is out of date. Reload the case and try again."),
            "invalid_choice": _(
                "The form is out of date. Reload the case and try again."
            ),
        },
    )
    #: Fields the service requires: rendered with the HTML ``required`` attribute.
    browser_required: tuple[str, ...] = ()

    def __init__(self, *args, case: Case, **kwargs):
        self.case = case
        initial = {"expect_state": case.state, **kwargs.pop("initial", {})}
        kwargs.setdefault("auto_id", f"id_{self.form_id()}_%s")
        super().__init__(*args, initial=initial, **kwargs)
        for name in self.browser_required:
            self.fields[name].widget.attrs["required"] = True

    @classmethod
    def form_id(cls) -> str:
        return cls.__name__.removesuffix("Form").lower()

    @property
    def has_input_fields(self) -> bool:
        return any(not field.is_hidden for field in self)

    def service_kwargs(self) -> dict:
        """Keyword arguments for the service, besides case, user and expect_state."""
        return {}


class ReasonForm(CaseActionForm):
    reason = forms.CharField(label=_("Reason"), required=False, widget=_textarea())
    browser_required = ("reason",)

    def service_kwargs(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}


class RejectForm(ReasonForm):
    reason = forms.CharField(
        label=_("Reason"),
        help_text=_("Told to the citizen."),
        required=False,
        widget=_textarea(),
    )


class ReturnForm(ReasonForm):
    reason = forms.CharField(
        label=_("Why the department returns the case"),
        required=False,
        widget=_textarea(),
    )


class EscalateForm(ReasonForm):
    reason = forms.CharField(
        label=_("Why the case goes to the media"),
        required=False,
        widget=_textarea(),
    )


class OptionalNoteForm(ReasonForm):
    reason = forms.CharField(label=_("Note"), required=False, widget=_textarea())
    browser_required = ()


class WithdrawForm(OptionalNoteForm):
    pass


class ReopenForm(OptionalNoteForm):
    pass


class MergeForm(CaseActionForm):
    into = forms.CharField(
        label=_("Reference number of the case it duplicates"),
        max_length=24,
        required=False,
        help_text=_("The public timeline of this report then points to that case."),
    )
    browser_required = ("into",)

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        duplicates = getattr(case, "possible_duplicates", None)
        if duplicates:
            self.fields["into"].initial = duplicates[0].reference

    def service_kwargs(self) -> dict:
        return {"into": self.cleaned_data["into"]}


class AnswerForm(CaseActionForm):
    answer = forms.CharField(
        label=_("Answer given to the citizen"), required=False, widget=_textarea()
    )
    browser_required = ("answer",)

    def service_kwargs(self) -> dict:
        return {"answer": self.cleaned_data["answer"]}


@dataclass(frozen=True)
class DispatchDeadlines:
    """The deadlines a dispatch sets if made at ``at``: they follow the case's
    category (and the working calendar), whichever department is chosen."""

    at: datetime
    due_at: datetime
    handling_days: int
    acknowledge_due_at: datetime
    acknowledge_limit: int
    acknowledge_in_hours: bool


class DispatchForm(CaseActionForm):
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.filter(is_active=True),
        required=False,
    )
    note = forms.CharField(
        label=_("Note to the department"),
        help_text=_("Staff only: the department sees it, the public never does."),
        required=False,
        max_length=2000,
        widget=_textarea(),
    )
    browser_required = ("department",)

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("department", case.department_id)
        super().__init__(*args, case=case, **kwargs)

    def deadlines(self, now: datetime | None = None) -> DispatchDeadlines:
        """What the dialog tells the officer before they send the case."""
        now = now or timezone.now()
        case = self.case
        category = case.category if case.category_id else Category()
        return DispatchDeadlines(
            at=now,
            due_at=case.deadline_from(now),
            handling_days=case.handling_days,
            acknowledge_due_at=case.acknowledge_deadline_from(now),
            acknowledge_limit=category.acknowledge_limit,
            acknowledge_in_hours=category.acknowledge_unit == AcknowledgeUnit.HOURS,
        )

    def service_kwargs(self) -> dict:
        return {
            "department": self.cleaned_data["department"],
            "note": self.cleaned_data["note"],
        }


class ReplyForm(CaseActionForm):
    text = forms.CharField(
        label=_("The department's response"), required=False, widget=_textarea()
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=ResponseChannel.choices,
        initial=ResponseChannel.SYSTEM,
    )
    browser_required = ("text",)

    def service_kwargs(self) -> dict:
        return {
            "text": self.cleaned_data["text"],
            "channel": self.cleaned_data["channel"],
        }


class CallbackForm(CaseActionForm):
    method = forms.ChoiceField(
        label=_("Method"), choices=CallbackMethod.choices, initial=CallbackMethod.PHONE
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=CallbackOutcome.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), required=False, widget=_textarea())
    browser_required = ("outcome",)

    def service_kwargs(self) -> dict:
        return {
            "method": self.cleaned_data["method"],
            "outcome": self.cleaned_data["outcome"],
            "note": self.cleaned_data["note"],
        }


class ExtendDeadlineForm(CaseActionForm):
    working_days = forms.IntegerField(
        label=_("Working days"), min_value=1, max_value=250, required=False
    )
    reason = forms.CharField(label=_("Reason"), required=False, widget=_textarea())
    browser_required = ("working_days", "reason")

    def service_kwargs(self) -> dict:
        return {
            "working_days": self.cleaned_data["working_days"] or 0,
            "reason": self.cleaned_data["reason"],
        }


class ExtensionRequestForm(CaseActionForm):
    """The liaison asks for more working days, saying why (延期申请)."""

    working_days = forms.IntegerField(
        label=_("Working days"), min_value=1, max_value=250, required=False
    )
    reason = forms.CharField(label=_("Reason"), required=False, widget=_textarea())
    browser_required = ("working_days", "reason")

    def service_kwargs(self) -> dict:
        return {
            "working_days": self.cleaned_data["working_days"] or 0,
            "reason": self.cleaned_data["reason"],
        }


class GrantExtensionForm(CaseActionForm):
    """The supervisor grants the days asked, or fewer."""

    working_days = forms.IntegerField(
        label=_("Working days granted"),
        min_value=1,
        max_value=250,
        required=False,
        help_text=_("Leave empty to grant the days asked."),
    )
    answer = forms.CharField(
        label=_("Answer to the department"), required=False, widget=_textarea()
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        pending = pending_extension(case)
        if pending is not None:
            self.fields["working_days"].widget.attrs["max"] = pending.working_days
            self.initial.setdefault("working_days", pending.working_days)

    def service_kwargs(self) -> dict:
        return {
            "working_days": self.cleaned_data["working_days"],
            "answer": self.cleaned_data["answer"],
        }


class RefuseExtensionForm(CaseActionForm):
    """The supervisor refuses, and says why."""

    answer = forms.CharField(
        label=_("Answer to the department"), required=False, widget=_textarea()
    )
    browser_required = ("answer",)

    def service_kwargs(self) -> dict:
        return {"answer": self.cleaned_data["answer"]}


class StoryForm(CaseActionForm):
    """Start the case's Hot Tracking story: nothing to fill in."""


def error_text(form: forms.Form) -> str:
    """All errors of a bound form as one line, each prefixed with its field label."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        for error in errors:
            if field is None or field.widget.is_hidden:
                parts.append(str(error))
            else:
                parts.append(
                    _("%(field)s: %(error)s") % {"field": field.label, "error": error}
                )
    return " ".join(parts)


# --- how the citizen heard of 8890 ---------------------------------------------------


VISIT_HELP = _("Only with “A community visit day”: which visit day it was.")


def heard_of_field() -> forms.ChoiceField:
    """The model field's own choice, for the forms that are no model form."""
    return Call._meta.get_field("heard_of").formfield()


def past_visits_field() -> forms.ModelChoiceField:
    """The community visit days up to today, the latest first: only a visit
    already held can be where the citizen heard of 8890."""
    return Call._meta.get_field("heard_of_visit").formfield(
        queryset=CommunityVisit.objects.none(), help_text=VISIT_HELP
    )


def limit_to_past_visits(field: forms.ModelChoiceField, today) -> None:
    field.queryset = CommunityVisit.objects.filter(date__lte=today).order_by(
        "-date", "-pk"
    )


def clean_heard_of(form: forms.Form, *, on) -> None:
    """The service's rule on heard_of, as an error next to the visit field."""
    data = form.cleaned_data
    if "heard_of" not in data or "heard_of_visit" not in data:
        return
    try:
        check_heard_of(data["heard_of"], data["heard_of_visit"], on=on)
    except CaseError as exc:
        form.add_error("heard_of_visit", str(exc))


# --- registering a case ------------------------------------------------------------


class CaseRegisterForm(forms.Form):
    """What the officer takes down from the citizen; the service does the rest."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=Kind.choices, widget=forms.RadioSelect
    )
    is_efficiency = forms.BooleanField(
        label=_("Efficiency complaint"),
        required=False,
        help_text=_("A complaint about how an office works; escalates when overdue."),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True),
        required=False,
        help_text=_("Sets the default department and the time limits."),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea)
    location_text = forms.CharField(label=_("Location"), max_length=255, required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE
    )
    citizen_name = forms.CharField(label=_("Name"), max_length=100, required=False)
    citizen_phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    citizen_address = forms.CharField(
        label=_("Address"), max_length=255, required=False
    )
    citizen_email = forms.EmailField(label=_("E-mail"), required=False)
    heard_of = heard_of_field()
    heard_of_visit = past_visits_field()

    CITIZEN_FIELDS = (
        "citizen_name",
        "citizen_phone",
        "citizen_address",
        "citizen_email",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = calendar.local_day(timezone.now())
        limit_to_past_visits(self.fields["heard_of_visit"], self.today)

    def clean(self):
        cleaned = super().clean()
        clean_heard_of(self, on=self.today)
        return cleaned

    def request_fields(self):
        return [self[name] for name in self.fields if name not in self.CITIZEN_FIELDS]

    def citizen_fields(self):
        return [self[name] for name in self.CITIZEN_FIELDS]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "is_efficiency": data["is_efficiency"],
            "category": data["category"],
            "title": data["title"],
            "description": data["description"],
            "location_text": data["location_text"],
            "channel": data["channel"],
            "citizen": CitizenData(
                name=data["citizen_name"],
                phone=data["citizen_phone"],
                address=data["citizen_address"],
                email=data["citizen_email"],
            ),
            "heard_of": data["heard_of"],
            "heard_of_visit": data["heard_of_visit"],
        }


# --- call log ----------------------------------------------------------------------


class CaseReferenceForm(WagtailAdminModelForm):
    """A model form linked to a case by its reference number, not a list of cases."""

    case_reference = forms.CharField(
        label=_("Case reference number"), max_length=24, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.case_id:
            self.initial.setdefault("case_reference", self.instance.case.reference)

    def clean_case_reference(self):
        reference = self.cleaned_data["case_reference"].strip()
        if not reference:
            return None
        cases = Case.objects.all()
        if self.for_user is not None:
            cases = Case.objects.visible_to(self.for_user)
            # An editor may name the case of a story they may edit.
            editable = hooks.call("story_cases_editable_by", self.for_user)
            if editable is not None:
                cases = cases | editable
        case = cases.filter(reference=reference).first()
        if case is None:
            raise forms.ValidationError(
                _("No case has the reference number %(reference)s."),
                params={"reference": reference},
                code="unknown_case",
            )
        return case

    def save(self, commit=True):
        self.instance.case = self.cleaned_data["case_reference"]
        return super().save(commit=commit)


#: What telephony systems put in the caller column when the number is withheld.
WITHHELD_NUMBERS = frozenset(
    {"anonymous", "unknown", "private", "withheld", "匿名", "未知", "不详", "无主叫"}
)
MAX_CALL_SECONDS = 24 * 60 * 60
_CALLER_NUMBER = re.compile(r"\d{3,20}")
# Calls are logged as they come in; a clock a few minutes fast is not a mistake.
FUTURE_TOLERANCE = timedelta(minutes=5)


def caller_number(raw: str | None) -> str:
    """The caller's number as stored (normalized), ``""`` when withheld; a
    ValueError for anything that is not a phone number."""
    text = (raw or "").strip()
    if not text or text.casefold() in WITHHELD_NUMBERS:
        return ""
    number = normalize_phone(text)
    if not _CALLER_NUMBER.fullmatch(number):
        raise ValueError(text)
    return number


def parse_duration(raw: str | int | None) -> int:
    """Seconds from ``95``, ``1:35`` (minutes:seconds) or ``1:02:03``; ``""`` is
    0. Full-width digits and colons are read as their plain forms. A ValueError
    for anything else, a negative or a call longer than a day."""
    if isinstance(raw, int):
        seconds = raw
    else:
        text = unicodedata.normalize("NFKC", raw or "").strip()
        if not text:
            return 0
        parts = text.split(":")
        numbers = [whole_number(part, max_digits=6) for part in parts]
        if len(parts) > 3 or None in numbers:
            raise ValueError(text)
        if any(n >= 60 for n in numbers[1:]):
            raise ValueError(text)
        seconds = 0
        for number in numbers:
            seconds = seconds * 60 + number
    if not 0 <= seconds <= MAX_CALL_SECONDS:
        raise ValueError(str(raw))
    return seconds


def format_duration(seconds: int) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


class CallDurationField(forms.Field):
    """A call's length, typed quickly: seconds or minutes:seconds."""

    widget = forms.TextInput(
        attrs={"placeholder": "1:35", "size": 8, "autocomplete": "off"}
    )
    default_error_messages = {
        "invalid": _(
            "Enter the duration in seconds (95) or as minutes:seconds (1:35), "
            "at most 24 hours."
        ),
    }

    def to_python(self, value):
        try:
            return parse_duration(value)
        except ValueError:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid"
            ) from None

    def prepare_value(self, value):
        if isinstance(value, int):
            return format_duration(value)
        return value


class CallForm(CaseReferenceForm):
    """A call as the officer takes it down: the number (focused first), what came
    of the call, a summary, its length; when it came in defaults to now."""

    duration_seconds = CallDurationField(
        label=_("Duration"),
        required=False,
        help_text=_("Seconds, or minutes:seconds."),
    )
    field_order = [
        "caller_phone",
        "outcome",
        "note",
        "duration_seconds",
        "received_at",
        "case_reference",
        "heard_of",
        "heard_of_visit",
    ]

    class Meta:
        model = Call
        fields = [
            "caller_phone",
            "outcome",
            "note",
            "duration_seconds",
            "received_at",
            "heard_of",
            "heard_of_visit",
        ]
        widgets = {
            "outcome": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        phone = self.fields["caller_phone"]
        phone.widget.attrs.update(
            {"autofocus": True, "inputmode": "tel", "autocomplete": "off"}
        )
        phone.help_text = _("Leave empty when the number was withheld.")
        self.fields["outcome"].initial = CallOutcome.ANSWERED
        received_at = self.fields["received_at"]
        received_at.required = False
        received_at.help_text = _("Leave as it is for a call taken now.")
        if self.instance.pk is None:
            received_at.initial = timezone.now
        self.fields["case_reference"].help_text = _(
            "The case this call registered or asked about, if any."
        )
        visit = self.fields["heard_of_visit"]
        visit.help_text = VISIT_HELP
        limit_to_past_visits(visit, calendar.local_day(timezone.now()))

    def clean_caller_phone(self):
        try:
            return caller_number(self.cleaned_data["caller_phone"])
        except ValueError:
            raise forms.ValidationError(
                _(
                    "Enter the caller's number in digits: a mobile number, or a "
                    "landline with its area code."
                ),
                code="invalid_phone",
            ) from None

    def clean_duration_seconds(self):
        return self.cleaned_data["duration_seconds"] or 0

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        now = timezone.now()
        if value is None:
            return self.instance.received_at if self.instance.pk else now
        if value > now + FUTURE_TOLERANCE:
            raise forms.ValidationError(
                _("A call cannot come in later than now."), code="future"
            )
        return value

    def clean(self):
        cleaned = super().clean()
        received_at = cleaned.get("received_at")
        if received_at is not None:
            clean_heard_of(
                self,
                on=calendar.local_day(received_at),
            )
        return cleaned

    def service_kwargs(self) -> dict:
        """Keyword arguments of :func:`tracking.services.call_register`."""
        data = self.cleaned_data
        return {
            "caller_phone": data["caller_phone"],
            "outcome": data["outcome"],
            "note": data["note"],
            "duration_seconds": data["duration_seconds"],
            "received_at": data["received_at"],
            "case": data["case_reference"],
            "heard_of": data["heard_of"],
            "heard_of_visit": data["heard_of_visit"],
        }

    def save(self, commit=True):
        if self.instance.operator_id is None and self.for_user is not None:
            self.instance.operator = self.for_user
        return super().save(commit=commit)


class CensorRuleForm(CaseReferenceForm):
    """A redaction rule, for every case or for one case (by its reference)."""

    field_order = [
        "pattern",
        "is_regex",
        "replacement",
        "case_reference",
        "reason",
        "is_active",
    ]

    class Meta:
        model = CensorRule
        fields = ["pattern", "is_regex", "replacement", "reason", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_reference"].help_text = _(
            "Leave empty for a rule that applies to every case."
        )

    def save(self, commit=True):
        if self.instance.created_by_id is None and self.for_user is not None:
            self.instance.created_by = self.for_user
        return super().save(commit=commit)
