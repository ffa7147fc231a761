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
# An area code, in ASCII or full-width brackets as Chinese text has them, then a
# local number. A local number may start with 1 here: a mobile number dialled with
# the trunk prefix (013912345678) is caught by nothing else.
LANDLINE = re.compile(
    r"(?<![0-9])[(（]?0[1-9][0-9]{1,2}[)）]?[- ]?(?P<local>[1-9][0-9]{6,7})(?![0-9])"
)
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Hotline numbers are public: 8890 and 88900000 are never personal data, with or
# without an area code.
PUBLIC_NUMBERS = frozenset({"8890", "88900000"})

# Digits, Latin letters and the signs of phone numbers and e-mail addresses as a
# Chinese input method types them (１３９…) are the same personal data: they are
# read as ASCII before anything is matched. Chinese punctuation is left alone.
HALF_WIDTH = str.maketrans(
    {chr(0xFF10 + i): chr(0x30 + i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
    | {"＋": "+", "－": "-", "＠": "@", "．": "."}
)

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
        value = (value or "").strip().translate(HALF_WIDTH)
        if len(value) >= 2:
            rules.append(Rule(value, replacement))
    # Longest first, so an address containing the name is masked whole.
    return sorted(rules, key=lambda r: -len(r.pattern))


def _is_public_number(match: re.Match) -> bool:
    return match.group("local") in PUBLIC_NUMBERS


def automatic(text: str) -> str:
    text = EMAIL.sub(MASKED, text)
    text = ID_NUMBER.sub(MASKED, text)
    text = MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = LANDLINE.sub(
        lambda m: m.group(0) if _is_public_number(m) else MASKED, text
    )
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
    text = text.translate(HALF_WIDTH)
    # Read twice below: a generator would be spent by the first loop.
    rules = rules_for(case) if rules is None else list(rules)
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
    text = text.translate(HALF_WIDTH)
    hits = []
    for rule in citizen_rules(getattr(case, "citizen", None)):
        if rule.pattern in text:
            hits.append(rule.pattern)
    for pattern in (EMAIL, ID_NUMBER, MOBILE):
        hits.extend(m.group(0) for m in pattern.finditer(text))
    hits.extend(
        m.group(0) for m in LANDLINE.finditer(text) if not _is_public_number(m)
    )
    return sorted(set(hits))


def rules_for_cases(cases: Iterable) -> dict[int | None, list[Rule]]:
    """:func:`rules_for` of many cases in one query, keyed by
    case id (``None``: the global rules). Same rules, same order."""
    cases = {case.pk: case for case in cases if case is not None}
    from django.db.models import Q

    from .models import CensorRule

    censor = list(
        CensorRule.objects.filter(
            Q(case__isnull=True) | Q(case_id__in=list(cases)), is_active=True
        ).order_by("pk")
    )

    def scoped(case_id):
        return [
            Rule(r.pattern, r.replacement, r.is_regex)
            for r in censor
            if r.case_id is None or r.case_id == case_id
        ]

    rules = {None: scoped(None)}
    for pk, case in cases.items():
        rules[pk] = citizen_rules(case.citizen) + scoped(pk)
    return rules
