"""The one redaction function every public surface uses.

Personal information (PIPL) never leaves the back office: text that comes from a
case and is shown to the public — timeline notes, department responses, citizen
text quoted in drafts, feeds, the search index, any API — passes :func:`redact`.

First the automatic masks (mainland mobile numbers, landlines, 18-digit ID
numbers, e-mail addresses, and the case's own citizen name, phone and address),
then the editable :class:`~tracking.models.CensorRule` rules, global ones and those
of the case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Digits next to a match mean it is part of a longer number, not a phone number.
MOBILE = re.compile(
    r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9][0-9])[- ]?([0-9]{4})[- ]?([0-9]{4})(?![0-9])"
)
LANDLINE = re.compile(
    r"(?<![0-9])(?:\(?0[1-9][0-9]{1,2}\)?[- ]?)[2-9][0-9]{6,7}(?![0-9])"
)
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Hotline numbers are public: 8890 and 88900000 are never personal data.

MASKED_PHONE = "***********"
MASKED = "***"


@dataclass(frozen=True)
class Rule:
    pattern: str
    replacement: str
    is_regex: bool = False

    def apply(self, text: str) -> str:
        if self.is_regex:
            try:
                return re.sub(self.pattern, self.replacement, text)
            except re.error:
                return text  # an invalid rule never breaks a page; the admin warns
        return text.replace(self.pattern, self.replacement) if self.pattern else text


def mask_name(name: str) -> str:
    """周建国 → 周某: how Chinese papers name private citizens."""
    return f"{name[0]}某" if name else name


def citizen_rules(citizen) -> list[Rule]:
    """Literal masks for one citizen's own name, phone and address."""
    if citizen is None:
        return []
    rules = []
    for value, replacement in (
        (citizen.phone, MASKED_PHONE),
        (citizen.address, MASKED),
        (citizen.email, MASKED),
        (citizen.name, mask_name(citizen.name)),
    ):
        value = (value or "").strip()
        if len(value) >= 2:
            rules.append(Rule(value, replacement))
    # Longest first, so an address containing the name is masked whole.
    return sorted(rules, key=lambda r: -len(r.pattern))


def automatic(text: str) -> str:
    text = EMAIL.sub(MASKED, text)
    text = ID_NUMBER.sub(MASKED, text)
    text = MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = LANDLINE.sub(MASKED, text)
    return text


def censor_rules(case=None) -> list[Rule]:
    """The editable rules that apply: global ones, and the case's own."""
    from django.db.models import Q

    from .models import CensorRule

    scope = Q(case__isnull=True)
    if case is not None:
        scope |= Q(case=case)
    return [
        Rule(r.pattern, r.replacement, r.is_regex)
        for r in CensorRule.objects.filter(scope, is_active=True).order_by("pk")
    ]


def redact(text: str | None, *, case=None, rules: Iterable[Rule] | None = None) -> str:
    """``text`` fit for the public: personal data masked, censor rules applied.

    Pass ``rules`` (from :func:`rules_for`) when redacting many texts of one case,
    to read the rules once.
    """
    if not text:
        return ""
    if rules is None:
        rules = rules_for(case)
    for rule in rules:
        if not rule.is_regex:
            text = rule.apply(text)
    text = automatic(text)
    for rule in rules:
        if rule.is_regex:
            text = rule.apply(text)
    return text


def rules_for(case=None) -> list[Rule]:
    """Every rule for ``case``: its citizen's own data, then the censor rules."""
    citizen = getattr(case, "citizen", None) if case is not None else None
    return citizen_rules(citizen) + censor_rules(case)


def find_personal_data(text: str, *, case=None) -> list[str]:
    """What :func:`redact` would remove from ``text``: for editors' warnings."""
    if not text:
        return []
    hits = []
    for rule in citizen_rules(getattr(case, "citizen", None)):
        if rule.pattern in text:
            hits.append(rule.pattern)
    for pattern in (EMAIL, ID_NUMBER, MOBILE, LANDLINE):
        hits.extend(m.group(0) for m in pattern.finditer(text))
    return sorted(set(hits))
