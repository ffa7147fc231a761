"""The one redaction function every public surface uses.

Personal information (PIPL) never leaves the back office: text that comes from a
case and is shown to the public — timeline notes, department responses, citizen
text quoted in drafts, an editor's titles and standfirsts, feeds, the search index,
any API — passes :func:`redact`.

Redaction takes plain text and gives plain text. It runs where text is read for
display, before the text is cut, summarised or indexed; the template then escapes
the result. Nothing here ever sees or makes markup, so a replacement such as
``<img src=x onerror=...>`` is shown as those characters, never as an element.

In order: the case's own citizen data (name also as 周先生 or ``周 建国``, phone in
any grouping, address and the private parts of it) and the literal censor rules;
then the automatic masks (mobile numbers in any grouping, landlines with and
without an area code, 15- and 18-digit ID numbers, bank card numbers, e-mail
addresses); then the regular-expression censor rules, each with a time budget.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import regex
from django.core.cache import cache
from django.db.models import Q

logger = logging.getLogger(__name__)

# --- Text normal form ---------------------------------------------------------------

# Digits, Latin letters and the signs of phone numbers and e-mail addresses as a
# Chinese input method types them (１３９…) are the same personal data: they are
# read as ASCII before anything is matched. Chinese punctuation is left alone.
HALF_WIDTH = str.maketrans(
    {chr(0xFF10 + i): chr(0x30 + i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
    | {"＋": "+", "－": "-", "＠": "@", "．": ".", "＿": "_", "％": "%"}
)

# Private-use characters around every replacement while redacting, so that the
# editors' view can show what was masked (:func:`redact_segments`). They are
# removed from input first and never reach the public.
OPEN, CLOSE = "\ue000", "\ue001"
_MARKERS = str.maketrans({OPEN: None, CLOSE: None})

MASKED_PHONE = "***********"
MASKED = "***"

# --- Automatic masks ----------------------------------------------------------------

# What may stand between the digits of one number as people type them: spaces,
# hyphens and dashes, dots; at most three in a row ("139 - 1234 - 5678").
_SEP = r"[ \-.\u3000\u2010-\u2015]{0,3}"
# Not in the middle of a longer number: no digit, nor digit and separator, before.
_NO_DIGIT_BEFORE = r"(?<![0-9])(?<![0-9][ \-.])"
_NO_DIGIT_AFTER = r"(?![0-9])(?![ \-.][0-9])"

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# 18-digit resident ID numbers (the last may be X) and the old 15-digit ones,
# in one piece or grouped (340202 19900101 123X).
ID_NUMBER = re.compile(
    rf"(?<![0-9A-Za-z])[1-9](?:{_SEP}[0-9]){{16}}{_SEP}[0-9Xx](?![0-9A-Za-z])"
    rf"|(?<![0-9A-Za-z]){_NO_DIGIT_BEFORE}[1-9](?:{_SEP}[0-9]){{14}}"
    rf"(?![0-9A-Za-z]){_NO_DIGIT_AFTER}"
)
# Mainland mobiles: eleven digits from 13x to 19x, grouped any way, with +86, 86
# or 0086 in front, or dialled with a trunk zero.
MOBILE = re.compile(
    rf"(?<![0-9])(?:(?:\+|00)?86{_SEP})?0?1{_SEP}[3-9](?:{_SEP}[0-9]){{9}}(?![0-9])"
)
# Bank card numbers: 16 to 19 digits, in one piece or in groups of four.
BANK_CARD = re.compile(
    rf"{_NO_DIGIT_BEFORE}[1-9][0-9]{{3}}(?:[ -]?[0-9]{{4}}){{3}}(?:[ -]?[0-9]{{1,3}})?"
    rf"{_NO_DIGIT_AFTER}"
)
# An area code, in ASCII or full-width brackets as Chinese text has them, then a
# local number of seven or eight digits, grouped any way (0553-8123-4567).
LANDLINE = re.compile(
    rf"(?<![0-9])[(（]?0[1-9][0-9]{{1,2}}[)）]?{_SEP}"
    rf"(?P<local>[1-9](?:{_SEP}[0-9]){{6,7}})(?![0-9])"
)
# A local number without its area code (5123456, 8123-4567), unless what follows
# says it is an amount or a count (2000000元, 3000000人次).
LOCAL_NUMBER = re.compile(
    rf"{_NO_DIGIT_BEFORE}(?P<local>[2-9][0-9]{{2,3}}[ \-]?[0-9]{{4}}){_NO_DIGIT_AFTER}"
    r"(?![0-9]*\s*(?:元|万|亿|千|百|人|次|件|户|个|名|份|米|吨|平|公里|%|％))"
)
# Case reference numbers (8890-20260318-00042) are public, and are never read as
# phone or ID numbers.
REFERENCE = re.compile(r"(?<![0-9])8890-[0-9]{8}-[0-9]{5}(?![0-9])")
# Hotline numbers are public: 8890 and 88900000 are never personal data, with or
# without an area code.
PUBLIC_NUMBERS = frozenset({"8890", "88900000"})
_YEAR = r"(?:19|20)[0-9]{2}"
_DATE = re.compile(rf"{_YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")
_YEARS = re.compile(rf"{_YEAR}{_YEAR}")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


def _is_public_local(local: str) -> bool:
    digits = _digits(local)
    return (
        digits in PUBLIC_NUMBERS
        or _DATE.fullmatch(digits) is not None
        or _YEARS.fullmatch(digits) is not None
    )


@dataclass(frozen=True)
class Mask:
    """One automatic mask: what it finds, and what it leaves of a match."""

    pattern: re.Pattern
    keep: Callable[[re.Match], bool] = lambda match: False
    replacement: str = MASKED


AUTOMATIC_MASKS = (
    Mask(EMAIL),
    Mask(ID_NUMBER),
    Mask(MOBILE, replacement=MASKED_PHONE),
    Mask(BANK_CARD),
    Mask(LANDLINE, keep=lambda m: _digits(m.group("local")) in PUBLIC_NUMBERS),
    Mask(LOCAL_NUMBER, keep=lambda m: _is_public_local(m.group("local"))),
)


def _protect_references(text: str) -> tuple[str, list[str]]:
    found = []

    def hide(match):
        found.append(match.group(0))
        return f"\ue002{len(found) - 1}\ue003"

    return REFERENCE.sub(hide, text), found


def _restore_references(text: str, found: list[str]) -> str:
    if not found:
        return text
    return re.sub("\ue002([0-9]+)\ue003", lambda m: found[int(m.group(1))], text)


def automatic(text: str) -> str:
    """The automatic masks alone, replacements marked (see :data:`OPEN`)."""
    text, references = _protect_references(text)
    for mask in AUTOMATIC_MASKS:

        def replace(match, mask=mask):
            if mask.keep(match):
                return match.group(0)
            return f"{OPEN}{mask.replacement}{CLOSE}"

        text = mask.pattern.sub(replace, text)
    return _restore_references(text, references)


# --- Rules --------------------------------------------------------------------------

# Regular-expression censor rules are typed by people: each run has a time
# budget, and a rule that overruns it is skipped from then on in this process.
REGEX_TIMEOUT_SECONDS = 0.05
_too_slow: set[str] = set()
_too_slow_lock = threading.Lock()


@lru_cache(maxsize=512)
def compile_rule_pattern(pattern: str) -> regex.Pattern:
    """A censor rule's pattern, compiled with Python's ``re`` syntax (regex V0)."""
    return regex.compile(pattern, flags=regex.VERSION0)


@dataclass(frozen=True)
class Rule:
    """A replacement applied to text: a censor rule, or one of a citizen's own.

    ``is_regex`` rules come from people and run under a time budget; ``trusted``
    ones are built here from a citizen's data (escaped literals) and run as they
    are.
    """

    pattern: str
    replacement: str
    is_regex: bool = False
    trusted: bool = field(default=False, compare=False)

    def apply(self, text: str) -> str:
        """``text`` with this rule applied, replacements marked."""
        if not self.pattern:
            return text
        marked = f"{OPEN}{self.replacement}{CLOSE}"
        if self.trusted:
            return _trusted(self.pattern).sub(lambda m: marked, text)
        if not self.is_regex:
            return text.replace(self.pattern, marked)
        if self.pattern in _too_slow:
            return text
        try:
            compiled = compile_rule_pattern(self.pattern)
            return compiled.sub(
                lambda m: f"{OPEN}{m.expand(self.replacement)}{CLOSE}",
                text,
                timeout=REGEX_TIMEOUT_SECONDS,
            )
        except TimeoutError:
            with _too_slow_lock:
                _too_slow.add(self.pattern)
            logger.error(
                "redaction: censor rule %r took longer than %.0f ms and is skipped "
                "from now on; fix or deactivate it",
                self.pattern,
                REGEX_TIMEOUT_SECONDS * 1000,
            )
        except (regex.error, IndexError, ValueError):
            # An invalid rule never breaks a page; the admin refuses new ones.
            logger.warning("redaction: censor rule %r is invalid", self.pattern)
        return text

    def finditer(self, text: str) -> Iterable[tuple[int, int]]:
        if not self.pattern:
            return []
        if self.trusted:
            return (m.span() for m in _trusted(self.pattern).finditer(text))
        if not self.is_regex:
            return (m.span() for m in re.finditer(re.escape(self.pattern), text))
        return []


@lru_cache(maxsize=1024)
def _trusted(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def _spaced(value: str) -> str:
    """A pattern for ``value`` with any whitespace between its characters."""
    return r"\s*".join(re.escape(ch) for ch in value if not ch.isspace())


def _grouped_digits(value: str) -> str:
    """A pattern for the digits of ``value`` grouped any way."""
    return _SEP.join(re.escape(ch) for ch in _digits(value))


# Double surnames, so that 欧阳先生 is known as 欧阳娜娜's form of address.
DOUBLE_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 令狐 慕容 尉迟 长孙 宇文 公孙 夏侯 轩辕 端木 "
    "独孤 南宫 西门 司徒 司空 太史 申屠 闻人 万俟 澹台 公冶 宗政 濮阳 淳于 单于".split()
)
# How people are named by surname and a form of address: 周先生, 周女士, 周师傅.
FORMS_OF_ADDRESS = (
    "先生 女士 小姐 太太 夫人 师傅 阿姨 大爷 大妈 大姐 大哥 大叔 大娘 老人 老伯 "
    "老太 奶奶 爷爷 老师 同学 师傅 经理 老板".split()
)


def surname(name: str) -> str:
    name = "".join(name.split())
    if name[:2] in DOUBLE_SURNAMES and len(name) > 2:
        return name[:2]
    return name[:1]


def mask_name(name: str) -> str:
    """周建国 → 周某: how Chinese papers name private citizens (欧阳娜娜 → 欧某:
    a whole double surname would find her by a search for her name)."""
    name = "".join((name or "").split())
    return f"{name[0]}某" if name else name


# The administrative and street parts of an address are public (the story is about
# 金胜路); the compound, building, unit, floor, room and house number are not.
_PUBLIC_ADDRESS_PART = re.compile(
    r"[^\d\s,，、]{1,12}?(?:特别行政区|自治区|自治州|省|市|盟|旗|县|(?<![小社园])区"
    r"|镇|乡|街道|大道|大街|路|街|巷|胡同)"
)
# A compound's name (幸福小区, 东苑小区) and each numbered part (3号楼, 502室).
_PRIVATE_ADDRESS_PART = re.compile(
    r"[^\d\s,，、]{1,12}(?:小区|社区|花园|家园|新村|公寓|大厦|广场|苑|园|村|庄|院)"
    r"|[0-9A-Za-z]+(?:号楼|号院|栋|幢|座|单元|层|楼|室|号|户)"
)


def private_address_parts(address: str) -> list[str]:
    """The parts of ``address`` that point at one household, longest first.

    ``历下区幸福小区3号楼502室`` → ``幸福小区3号楼502室``, ``幸福小区``, ``3号楼``,
    ``502室``. A house number stays with its street (``金胜路18号``), so that a
    bare ``18号`` elsewhere in a story is not masked.
    """
    address = "".join(address.split())
    position = 0
    street = ""
    while match := _PUBLIC_ADDRESS_PART.match(address, position):
        street = match.group(0)
        position = match.end()
    rest = address[position:]
    if not rest:
        return []
    house_number = re.compile(r"[0-9]+号")
    parts = {street + rest if house_number.fullmatch(rest) else rest}
    for match in _PRIVATE_ADDRESS_PART.finditer(rest):
        part = match.group(0)
        if house_number.fullmatch(part):
            part = street + part if street else ""
        if len(part) >= 2:
            parts.add(part)
    return sorted(parts, key=lambda p: (-len(p), p))


def citizen_rules(citizen) -> list[Rule]:
    """Masks for one citizen's own name, phone, e-mail and address."""
    if citizen is None:
        return []
    rules = []

    def add(pattern: str, replacement: str):
        if pattern:
            rules.append(Rule(pattern, replacement, trusted=True))

    phone = (citizen.phone or "").translate(HALF_WIDTH)
    if len(_digits(phone)) >= 5:
        add(_grouped_digits(phone), MASKED_PHONE)
    email = (citizen.email or "").strip().translate(HALF_WIDTH)
    if len(email) >= 3:
        add(re.escape(email), MASKED)
    address = (citizen.address or "").translate(HALF_WIDTH)
    if len("".join(address.split())) >= 2:
        add(_spaced(address), MASKED)
        for part in private_address_parts(address):
            add(_spaced(part), MASKED)
    name = "".join((citizen.name or "").translate(HALF_WIDTH).split())
    if len(name) >= 2:
        add(_spaced(name), mask_name(name))
        forms = "|".join(FORMS_OF_ADDRESS)
        add(f"{_spaced(surname(name))}\\s*(?:{forms})", mask_name(name))
    # Longest first, so an address containing the name is masked whole.
    return sorted(rules, key=lambda r: -len(r.pattern))


# The active censor rules of the whole site and of each case, kept in the shared
# cache (public pages read them on every rendering); a rule's save or delete
# forgets the lists it was in (tracking.signals).
CENSOR_CACHE_PREFIX = "tracking:censor-rules:"
CENSOR_CACHE_TIMEOUT = 60 * 60


def _censor_key(case_id: int | None) -> str:
    return f"{CENSOR_CACHE_PREFIX}{case_id if case_id is not None else 'all'}"


def _censor_rows(case_ids: Iterable[int]) -> list[tuple]:
    """``(pk, case_id, pattern, replacement, is_regex)`` of the active global
    rules and those of ``case_ids``, in the order they were added."""
    # tracking.models.censor imports this module: a top-level import is circular.
    from .models import CensorRule

    scopes = [None, *dict.fromkeys(case_ids)]
    keys = {_censor_key(scope): scope for scope in scopes}
    found = cache.get_many(list(keys))
    missing = [scope for key, scope in keys.items() if key not in found]
    if missing:
        where = Q(case_id__in=[s for s in missing if s is not None])
        if None in missing:
            where |= Q(case__isnull=True)
        rows = list(
            CensorRule.objects.filter(where, is_active=True)
            .order_by("pk")
            .values_list("pk", "case_id", "pattern", "replacement", "is_regex")
        )
        fresh = {
            _censor_key(scope): [row for row in rows if row[1] == scope]
            for scope in missing
        }
        cache.set_many(fresh, CENSOR_CACHE_TIMEOUT)
        found.update(fresh)
    return sorted(row for rows in found.values() for row in rows)


def forget_censor_rules(case_ids: Iterable[int | None]) -> None:
    """A rule of these cases (``None``: a global one) changed."""
    cache.delete_many([_censor_key(case_id) for case_id in case_ids])


def _as_rule(row) -> Rule:
    return Rule(row[2], row[3], row[4])


def censor_rules(case=None) -> list[Rule]:
    """The editable rules that apply: global ones, and the case's own."""
    case_ids = [case.pk] if case is not None else []
    return [_as_rule(row) for row in _censor_rows(case_ids)]


def rules_for(case=None) -> list[Rule]:
    """Every rule for ``case``: its citizen's own data, then the censor rules."""
    citizen = getattr(case, "citizen", None) if case is not None else None
    return citizen_rules(citizen) + censor_rules(case)


def rules_for_cases(cases: Iterable) -> dict[int | None, list[Rule]]:
    """:func:`rules_for` of many cases in one read, keyed by
    case id (``None``: the global rules). Same rules, same order."""
    cases = {case.pk: case for case in cases if case is not None}
    censor = _censor_rows(list(cases))

    def scoped(case_id):
        return [_as_rule(row) for row in censor if row[1] is None or row[1] == case_id]

    rules = {None: scoped(None)}
    for pk, case in cases.items():
        rules[pk] = citizen_rules(case.citizen) + scoped(pk)
    return rules


# --- Redaction ----------------------------------------------------------------------


def _marked(text: str, rules: list[Rule]) -> str:
    text = text.translate(_MARKERS).translate(HALF_WIDTH)
    for rule in rules:
        if not rule.is_regex:
            text = rule.apply(text)
    text = automatic(text)
    for rule in rules:
        if rule.is_regex:
            text = rule.apply(text)
    return text


def _rules(case, rules) -> list[Rule]:
    # Read twice while redacting: a generator would be spent by the first loop.
    return rules_for(case) if rules is None else list(rules)


def redact(text: str | None, *, case=None, rules: Iterable[Rule] | None = None) -> str:
    """``text`` fit for the public: personal data masked, censor rules applied.

    Plain text in, plain text out: escape the result where it becomes HTML. Pass
    ``rules`` (from :func:`rules_for`) when redacting many texts of one case, to
    read the rules once.
    """
    if not text:
        return ""
    return _marked(str(text), _rules(case, rules)).translate(_MARKERS)


def redact_segments(
    text: str | None, *, case=None, rules: Iterable[Rule] | None = None
) -> list[tuple[str, bool]]:
    """:func:`redact` as ``(text, masked)`` pieces, for the editors' view that
    highlights what was masked. Joined, the pieces are exactly :func:`redact`."""
    if not text:
        return []
    marked = _marked(str(text), _rules(case, rules))
    segments: list[tuple[str, bool]] = []
    depth = 0
    piece = []

    def flush():
        if piece:
            segments.append(("".join(piece), depth > 0))
            piece.clear()

    for ch in marked:
        if ch == OPEN:
            flush()
            depth += 1
        elif ch == CLOSE:
            flush()
            depth = max(depth - 1, 0)
        else:
            piece.append(ch)
    flush()
    return segments


def find_personal_data(text: str, *, case=None) -> list[str]:
    """What :func:`redact` would remove from ``text`` as personal data (the
    automatic masks and the citizen's own data): for editors' warnings."""
    if not text:
        return []
    text = text.translate(_MARKERS).translate(HALF_WIDTH)
    spans = []
    for rule in citizen_rules(getattr(case, "citizen", None)):
        spans.extend(rule.finditer(text))
    protected, _references = _protect_references(text)
    if protected == text:
        for mask in AUTOMATIC_MASKS:
            spans.extend(
                m.span() for m in mask.pattern.finditer(text) if not mask.keep(m)
            )
    else:
        # Reference numbers are public: look at the rest only.
        for mask in AUTOMATIC_MASKS:
            for m in mask.pattern.finditer(text):
                if not mask.keep(m) and not REFERENCE.search(m.group(0)):
                    spans.append(m.span())
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return sorted({text[start:end] for start, end in merged})


# --- Validating censor rules --------------------------------------------------------

# Texts a pattern is tried on when it is saved: long runs of one character, with
# and without a tail that makes a backtracking pattern fail late.
PROBES = tuple(
    probe
    for unit in ("a", "1", "周", " ", "a1", "周a ", "aZ", "\n")
    for probe in (unit * 40, unit * 40 + "!", unit * 400 + "!")
) + ("周建国反映金胜路12号路口没有人行横道，电话13912345678。" * 40,)
PROBE_TIMEOUT_SECONDS = 0.2


def check_rule_pattern(pattern: str) -> str | None:
    """Why a censor rule's regular expression may not be saved, or None.

    Refused: patterns that do not compile, and patterns that take too long on
    any probe text (catastrophic backtracking such as ``(a|aa)+$``).
    """
    try:
        compiled = compile_rule_pattern(pattern)
    except regex.error as exc:
        return str(exc)
    for probe in PROBES:
        try:
            compiled.search(probe, timeout=PROBE_TIMEOUT_SECONDS)
            compiled.sub("", probe, timeout=PROBE_TIMEOUT_SECONDS)
        except TimeoutError:
            return "too slow"
    return None


_GROUP_REFERENCE = re.compile(r"\\(?:g<([^>]*)>|([0-9]{1,2}))")


def check_rule_replacement(pattern: str, replacement: str) -> str | None:
    """Why a regex rule's replacement is unusable (a group it refers to does not
    exist), or None."""
    try:
        compiled = compile_rule_pattern(pattern)
    except regex.error:
        return None  # the pattern's own error is reported
    for match in _GROUP_REFERENCE.finditer(replacement):
        name, number = match.groups()
        ref = name if name is not None else number
        if ref.isdecimal() and ref.isascii():
            if int(ref) > compiled.groups:
                return ref
        elif ref not in compiled.groupindex:
            return ref
    return None
