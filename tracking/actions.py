"""The registry of case actions: one declaration per thing that can happen to a case.

An action is a transition of ``Case.state`` (its name is the transition method's)
or an event that changes no state (a callback, a reminder, a story). Its entry says
everything the rest of the product needs to know about it: how the back office
labels it and its button, whether the public sees it and in which words, which
service runs it and which form collects its input, whom it notifies and whether
editors follow it. The services, the admin, the notices and the newsroom all read
this table; nothing keeps a parallel list of action names.

Services and forms are named by dotted path, so that this module imports nothing
of the case system and every other module may import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

# Button tones on the case page, in the order the buttons are shown.
PRIMARY = "primary"
SECONDARY = "secondary"
SERIOUS = "serious"
TONES = (PRIMARY, SECONDARY, SERIOUS)

# Who is told about an action.
DEPARTMENT = "department"  # the liaisons of the case's department, by e-mail

# How the public timeline shows an action's note.
QUOTED = "quoted"  # as a quotation: the words of the department or the hotline
SHOWN = "shown"  # as plain text (the department's name on dispatch)


@dataclass(frozen=True)
class Action:
    """One thing that can happen to a case."""

    name: str
    #: The line on the case's timeline in the back office and in notices.
    label: str | Promise
    #: A transition of ``Case.state`` (its method is called ``name``).
    transition: bool = False
    #: The service that performs it (dotted path), if staff can perform it.
    service: str = ""
    #: The form behind its button on the case page (dotted path).
    form: str = ""
    #: The button's label and tone; no button without a label.
    button: str | Promise = ""
    tone: str = PRIMARY
    #: What the case "cannot be" in a refusal ("A case that is … cannot be …").
    done: str | Promise = ""
    #: Shown on the public timeline (story pages, progress lookup), in these words.
    public_label: str | Promise = ""
    #: How the public timeline shows the event's note: QUOTED, SHOWN or not at all.
    public_note: str = ""
    #: Who is notified when it happens.
    notices: frozenset[str] = field(default_factory=frozenset)
    #: Editors of the case's story owe the public a follow-up when it happens.
    editors_follow: bool = False
    #: For actions that are not transitions: who may perform it now (dotted path
    #: of ``(case, user) -> bool``) and the name of its URL in the case viewset
    #: (or a name with its own namespace, ``namespace:name``).
    available: str = ""
    url_name: str = ""

    @property
    def public(self) -> bool:
        return bool(self.public_label)

    @cached_property
    def run(self) -> Callable:
        """The service function (keyword arguments only)."""
        return import_string(self.service)

    @cached_property
    def form_class(self) -> type:
        return import_string(self.form)

    @cached_property
    def is_available(self) -> Callable:
        return import_string(self.available)

    def notifies(self, audience: str) -> bool:
        return audience in self.notices


def _forms(name: str) -> str:
    return f"tracking.forms.{name}"


def _services(name: str) -> str:
    return f"tracking.services.{name}"


#: Every action, in workflow order (the order of the buttons of one tone).
DECLARED: tuple[Action, ...] = (
    Action(
        "register",
        _("Registered"),
        service=_services("case_register"),
        public_label=_("Request received"),
    ),
    Action(
        "accept",
        _("Accepted"),
        transition=True,
        service=_services("case_accept"),
        form=_forms("CaseActionForm"),
        button=_("Accept"),
        done=_("accepted"),
        public_label=_("Accepted by the hotline"),
    ),
    Action(
        "reject",
        _("Rejected"),
        transition=True,
        service=_services("case_reject"),
        form=_forms("RejectForm"),
        button=_("Reject"),
        tone=SERIOUS,
        done=_("rejected"),
        public_label=_("Not accepted"),
    ),
    Action(
        "answer",
        _("Answered by the hotline"),
        transition=True,
        service=_services("case_answer"),
        form=_forms("AnswerForm"),
        button=_("Answer directly"),
        tone=SECONDARY,
        done=_("answered"),
        public_label=_("Answered by the hotline"),
        public_note=QUOTED,
    ),
    Action(
        "dispatch",
        _("Dispatched"),
        transition=True,
        service=_services("case_dispatch"),
        form=_forms("DispatchForm"),
        button=_("Dispatch"),
        done=_("dispatched"),
        public_label=_("Dispatched to the department"),
        public_note=SHOWN,
        notices=frozenset({DEPARTMENT}),
    ),
    Action(
        "acknowledge",
        _("Acknowledged by department"),
        transition=True,
        service=_services("case_acknowledge"),
        form=_forms("CaseActionForm"),
        button=_("Acknowledge"),
        done=_("acknowledged"),
        public_label=_("Department took the case"),
    ),
    Action(
        "return_case",
        _("Returned by department"),
        transition=True,
        service=_services("case_return"),
        form=_forms("ReturnForm"),
        button=_("Return to the hotline"),
        tone=SERIOUS,
        done=_("returned"),
    ),
    Action(
        "escalate",
        _("Reported by the newspaper"),
        transition=True,
        service=_services("case_escalate"),
        form=_forms("EscalateForm"),
        button=_("Escalate to the media"),
        tone=SERIOUS,
        done=_("escalated"),
        public_label=_("Handed to Hot Tracking"),
        notices=frozenset({DEPARTMENT}),
    ),
    Action(
        "reply",
        _("Department replied"),
        transition=True,
        service=_services("case_reply"),
        form=_forms("ReplyForm"),
        button=_("Record the reply"),
        done=_("replied"),
        public_label=_("Department replied"),
        public_note=QUOTED,
        editors_follow=True,
    ),
    Action(
        "close",
        _("Closed"),
        transition=True,
        service=_services("case_close"),
        form=_forms("CaseActionForm"),
        button=_("Close"),
        done=_("closed"),
        public_label=_("Closed"),
        editors_follow=True,
    ),
    Action(
        "reopen",
        _("Reopened"),
        transition=True,
        service=_services("case_reopen"),
        form=_forms("ReopenForm"),
        button=_("Reopen"),
        tone=SECONDARY,
        done=_("reopened"),
        public_label=_("Citizen dissatisfied: handled again"),
        editors_follow=True,
    ),
    Action(
        "merge",
        _("Merged as a duplicate"),
        transition=True,
        service=_services("case_merge"),
        form=_forms("MergeForm"),
        button=_("Merge as a duplicate"),
        tone=SECONDARY,
        done=_("merged"),
        public_label=_("Joined an earlier report of the same problem"),
        public_note=SHOWN,
    ),
    Action(
        "withdraw",
        _("Withdrawn"),
        transition=True,
        service=_services("case_withdraw"),
        form=_forms("WithdrawForm"),
        button=_("Withdraw"),
        tone=SERIOUS,
        done=_("withdrawn"),
        public_label=_("Withdrawn by the citizen"),
    ),
    Action(
        "callback",
        _("Callback"),
        service=_services("callback_record"),
        form=_forms("CallbackForm"),
        button=_("Record callback"),
        available="tracking.selectors.may_record_callback",
        url_name="callback",
    ),
    Action(
        "extend",
        _("Deadline extended"),
        service=_services("case_extend_deadline"),
        form=_forms("ExtendDeadlineForm"),
        button=_("Extend deadline"),
        tone=SECONDARY,
        notices=frozenset({DEPARTMENT}),
        available="tracking.selectors.may_extend_deadline",
        url_name="extend_deadline",
    ),
    Action(
        "extension_requested",
        _("Extension requested"),
        service=_services("case_request_extension"),
        form=_forms("ExtensionRequestForm"),
        button=_("Request extension"),
        tone=SECONDARY,
        available="tracking.models.extensions.may_request_extension",
        url_name="request_extension",
    ),
    Action(
        "extension_granted",
        _("Extension granted"),
        service=_services("case_grant_extension"),
        form=_forms("GrantExtensionForm"),
        button=_("Grant extension"),
        notices=frozenset({DEPARTMENT}),
        available="tracking.models.extensions.may_decide_extension",
        url_name="grant_extension",
    ),
    Action(
        "extension_refused",
        _("Extension refused"),
        service=_services("case_refuse_extension"),
        form=_forms("RefuseExtensionForm"),
        button=_("Refuse extension"),
        tone=SERIOUS,
        notices=frozenset({DEPARTMENT}),
        available="tracking.models.extensions.may_refuse_extension",
        url_name="refuse_extension",
    ),
    Action(
        "story",
        _("Hot Tracking story started"),
        service=_services("case_request_story"),
        form=_forms("StoryForm"),
        button=_("Create the Hot Tracking story now"),
        available="tracking.selectors.may_request_story",
        url_name="story",
    ),
    # Recorded by the newsroom when a case's story is first published: where the
    # media effect is measured from (the public timeline shows the story itself).
    Action("publish", _("Story first published in the paper")),
    Action(
        "acknowledge_warning",
        _("Early warning: acknowledgement deadline near"),
        notices=frozenset({DEPARTMENT}),
    ),
    Action(
        "warning",
        _("Early warning: deadline near"),
        notices=frozenset({DEPARTMENT}),
    ),
    Action(
        "reminder",
        _("Reminder: deadline passed"),
        notices=frozenset({DEPARTMENT}),
    ),
    Action("note", _("Note")),
)


def build(declared) -> dict[str, Action]:
    """The registry by name; an action declared twice is a mistake."""
    registry: dict[str, Action] = {}
    for action in declared:
        if action.name in registry:
            raise ValueError(f"case action {action.name!r} is declared twice")
        registry[action.name] = action
    return registry


ACTIONS = build(DECLARED)


def get(name: str) -> Action:
    """The action called ``name``; an unknown name (an old event) gets a bare one."""
    return ACTIONS.get(name) or Action(name, name)


def transitions() -> Iterator[Action]:
    """The transitions of ``Case.state``, in workflow order."""
    return (action for action in ACTIONS.values() if action.transition)


def transition_names() -> tuple[str, ...]:
    return tuple(action.name for action in transitions())


def other_actions() -> Iterator[Action]:
    """Actions staff perform on a case that change no state (callback, story…)."""
    return (
        action
        for action in ACTIONS.values()
        if not action.transition and action.url_name
    )
