"""No personal data survives on any public surface, however it is written.

Personal data is generated in the formats people really type (mobiles grouped
any way, with +86 or full width; landlines and local numbers; 18- and 15-digit ID
numbers, grouped or not; e-mail addresses; the citizen's name as 周先生 or
``周 建国``; parts of the citizen's address) and put at random positions (inside
long texts, at the start and end, next to Chinese punctuation and full-width
digits, across the points where listings cut the standfirst) into every place
public text comes from: a story's title, standfirst, search description and body,
and the department's reply on the case. The story is published and every public
surface is fetched over HTTP; none may give any of it away.

What "gives away" means (see tests.public_surfaces): names, address parts and
e-mail addresses must not appear; of a number, neither the whole nor seven of its
digits in a row may appear in one number on the page (139****5678 is masked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape
from urllib.parse import urlencode

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from newsroom.services import hot_tracking_column, story_create_for_case
from tests.factories import CaseFactory, CategoryFactory, DepartmentFactory, UserFactory
from tests.public_surfaces import (
    digit_runs,
    number_leaks,
    path,
    publish,
    readable,
    string_leaks,
)
from tracking import services as svc
from tracking.calendar import local_zone
from tracking.models import Citizen
from tracking.redaction import redact

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 10, 10, tzinfo=local_zone())
STORY_WORD = "人行横道"
STORY_SENTENCE = "金胜路口没有人行横道"
# Where public listings cut a standfirst: a card keeps 119 characters and "…"
# (truncatechars:120), a search result 159 (Truncator.chars(160)).
CARD_CUT, SNIPPET_CUT = 119, 159

RENDER = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=15,
    # Each example publishes a story and fetches 14 responses: shrinking a leak
    # would take minutes, and the failure message already lists every leak.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Cheap examples: shrinking a failure to the simplest text is worth it here.
DIRECT = settings(
    RENDER, max_examples=200, phases=[p for p in Phase if p is not Phase.explain]
)


# --- Personal data as people write it -------------------------------------------------

FULL_WIDTH = str.maketrans(
    {c: chr(ord(c) + 0xFEE0) for c in "0123456789+-.()Xx"} | {" ": "\u3000"}
)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_character(first17: str) -> str:
    """The ISO 7064 check character that ends an 18-digit resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def id18(region: str, birth: date, sequence: int) -> str:
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_character(first17)


def id18_ending_in_x(region: str, birth: date) -> str:
    return next(
        number
        for sequence in range(1000)
        if (number := id18(region, birth, sequence)).endswith("X")
    )


def grouped(digits: str, sizes, sep: str) -> str:
    parts, start = [], 0
    for size in sizes:
        parts.append(digits[start : start + size])
        start += size
    return sep.join(parts)


@dataclass(frozen=True)
class Mention:
    """Personal data as written into a text, and what of it must not be public."""

    written: str
    numbers: tuple[str, ...] = ()
    strings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Person:
    surname: str
    given: str
    honorific: str  # 先生 or 女士
    phone: str
    email: str
    community: str
    building: str
    unit: str
    room: str

    @property
    def name(self) -> str:
        return self.surname + self.given

    @property
    def address(self) -> str:
        return f"{self.community}{self.building}{self.unit}{self.room}"

    def private_strings(self) -> tuple[str, ...]:
        """The person's name in any form, and every part of their address."""
        return tuple(
            value
            for value in (
                self.name,
                f"{self.surname}先生",
                f"{self.surname}女士",
                f"{self.surname} {self.given}",
                self.email,
                self.address,
                self.community,
                self.building,
                self.unit,
                self.room,
            )
            if value
        )


SURNAMES = "周王李张刘陈杨赵黄吴徐孙胡朱高林何郭马罗"
GIVEN_NAMES = [
    "建国",
    "秀英",
    "志强",
    "丽娟",
    "伟",
    "敏",
    "海燕",
    "国华",
    "红梅",
    "子轩",
]
COMMUNITIES = ["幸福小区", "阳光花园", "翠湖苑", "金桥公寓", "东苑小区", "锦绣家园"]
EMAIL_DOMAINS = ["example.com", "qq.com", "163.com", "example.org.cn"]


# Strategies are built once, here: building them inside each draw costs more than
# the drawing. Mentions of the person's own data are drawn as templates (functions
# of the person) so that the strategies do not depend on the person drawn.
DIGITS = "0123456789"
MOBILE_DIGITS = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(DIGITS, min_size=9, max_size=9),
)
EMAILS = st.builds(
    lambda first, rest, domain: f"{first}{rest.strip('._') or 'x'}@{domain}",
    st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789._", min_size=2, max_size=12),
    st.sampled_from(EMAIL_DOMAINS),
)
ROOMS = st.builds(
    lambda floor, door: f"{floor}0{door}室", st.integers(1, 25), st.integers(1, 6)
)
BUILDINGS = st.builds(
    lambda n, kind: f"{n}{kind}", st.integers(1, 30), st.sampled_from(["号楼", "栋"])
)
PEOPLE = st.builds(
    Person,
    surname=st.sampled_from(SURNAMES),
    given=st.sampled_from(GIVEN_NAMES),
    honorific=st.sampled_from(["先生", "女士"]),
    phone=MOBILE_DIGITS,
    email=EMAILS,
    community=st.sampled_from(COMMUNITIES),
    building=BUILDINGS,
    unit=st.sampled_from(["", "1单元", "2单元", "3单元"]),
    room=ROOMS,
)
ONE_IN_FOUR = st.integers(0, 3).map(lambda n: n == 0)
GROUPINGS = st.sampled_from([(11,), (3, 4, 4), (3, 3, 5), (4, 3, 4), (5, 6)])
DIGIT_SEPARATORS = st.sampled_from([" ", "-", "."])
COUNTRY_CODES = st.sampled_from(["", "", "+86", "+86 ", "86", "86-", "+86-"])
AREA_TAILS = st.text(DIGITS, min_size=1, max_size=2)
LOCAL_TAILS = st.text(DIGITS, min_size=6, max_size=7)


def written_as(written: str, wide: bool) -> str:
    return written.translate(FULL_WIDTH) if wide else written


@st.composite
def mobile_templates(draw):
    """The person's own mobile, or anybody's, grouped any way."""
    own, other = draw(st.booleans()), draw(MOBILE_DIGITS)
    sizes, sep = draw(GROUPINGS), draw(DIGIT_SEPARATORS)
    prefix, wide = draw(COUNTRY_CODES), draw(ONE_IN_FOUR)

    def mention(person: Person) -> Mention:
        digits = person.phone if own else other
        written = prefix + grouped(digits, sizes, sep if len(sizes) > 1 else "")
        return Mention(written_as(written, wide), numbers=(digits,))

    return mention


@st.composite
def landlines(draw) -> Mention:
    area = "0" + draw(st.sampled_from("123456789")) + draw(AREA_TAILS)
    local = draw(st.sampled_from("345678")) + draw(
        st.text(DIGITS, min_size=7, max_size=7)
    )
    layout = draw(st.integers(0, 4))
    written = [
        f"{area}-{local[:4]}-{local[4:]}",
        f"({area}){local}",
        f"（{area}）{local}",
        f"{area}-{local}",
        f"{area} {local}",
    ][layout]
    return Mention(written_as(written, draw(ONE_IN_FOUR)), numbers=(area + local,))


@st.composite
def local_numbers(draw) -> Mention:
    """A number without its area code: 5123456, 8123-4567 (not the hotline's)."""
    local = draw(st.sampled_from("345678")) + draw(LOCAL_TAILS)
    written = local
    if len(local) == 8 and draw(st.booleans()):
        written = f"{local[:4]}-{local[4:]}"
    return Mention(written_as(written, draw(ONE_IN_FOUR)), numbers=(local,))


REGIONS = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("123456"),
    st.text(DIGITS, min_size=5, max_size=5),
)
BIRTHDAYS = st.dates(date(1950, 1, 1), date(2005, 12, 31))
OLD_BIRTHDAYS = st.dates(date(1950, 1, 1), date(1999, 9, 30))
SEQUENCES = st.integers(0, 999)


@st.composite
def id_numbers(draw) -> Mention:
    region, birth = draw(REGIONS), draw(BIRTHDAYS)
    if draw(st.booleans()):
        number = id18_ending_in_x(region, birth)
    else:
        number = id18(region, birth, draw(SEQUENCES))
    written = [
        number,
        number.lower(),
        f"{number[:6]} {number[6:14]} {number[14:]}",
    ][draw(st.integers(0, 2))]
    return Mention(written_as(written, draw(ONE_IN_FOUR)), numbers=(number,))


@st.composite
def old_id_numbers(draw) -> Mention:
    """The 15-digit ID numbers issued before 1999: region, YYMMDD, sequence."""
    region, birth = draw(REGIONS), draw(OLD_BIRTHDAYS)
    number = f"{region}{birth:%y%m%d}{draw(SEQUENCES):03d}"
    if draw(st.booleans()):
        written = f"{number[:6]} {number[6:12]} {number[12:]}"
    else:
        written = number
    return Mention(written_as(written, draw(ONE_IN_FOUR)), numbers=(number,))


def anybody(strategy):
    """A mention that is the same whoever the person is."""
    return strategy.map(lambda mention: lambda person: mention)


def name_forms(person: Person) -> list[str]:
    return [
        person.name,
        person.surname + person.honorific,
        f"{person.surname} {person.given}",
    ]


def address_forms(person: Person) -> list[str]:
    return [
        person.address,
        person.community,
        person.building,
        person.room,
        person.community + person.building,
        person.building + person.unit + person.room,
    ]


def own(forms, count: int):
    return st.integers(0, count - 1).map(
        lambda i: lambda person: Mention(forms(person)[i])
    )


# Any personal data: the person's own, and numbers and addresses of anybody.
MENTIONS = st.one_of(
    mobile_templates(),
    anybody(landlines()),
    anybody(local_numbers()),
    anybody(id_numbers()),
    anybody(old_id_numbers()),
    st.just(lambda person: Mention(person.email, strings=(person.email,))),
    anybody(EMAILS.map(lambda e: Mention(e, strings=(e,)))),
    own(name_forms, 3),
    own(address_forms, 6),
)

# Text around the data. No filler starts with a unit (元, 人, 次...) that would
# make a number an amount, and none holds a digit: digits come from the mentions.
FILLER = [
    "金胜路与胜利大道交叉口没有人行横道",
    "行人过马路只能在车流中穿行",
    "附近居民多次向热线反映",
    "记者来到现场看到",
    "早晚高峰车流密集",
    "交警部门表示将尽快施划标线",
    "学生上学放学要绕行很远",
    "市民希望早日解决",
]
FILLER_TEXT = "，".join(FILLER) + "。"
BEFORE = ["", "电话", "联系电话：", "（", "“", "、", "，", "：", "市民", "第２次反映，"]
AFTER = ["", "。", "，", "）", "”", "、", "：", "，共３次"]
JOINERS = ["，", "。", "、", "；", "：", "（", "）", "“", "”"]
FILLERS, BEFORES, AFTERS = map(st.sampled_from, (FILLER, BEFORE, AFTER))
JOINS = st.sampled_from(JOINERS)


def filler_of_length(n: int) -> str:
    return (FILLER_TEXT * (n // len(FILLER_TEXT) + 1))[:n]


@dataclass
class Written:
    """A text with personal data in it, and the data it holds."""

    text: str
    mentions: list[Mention] = field(default_factory=list)


@st.composite
def text_templates(draw, min_mentions: int, max_mentions: int):
    """A text around a few mentions: at its start or end, between punctuation."""
    templates = draw(st.lists(MENTIONS, min_size=min_mentions, max_size=max_mentions))
    lead = draw(FILLERS) + draw(JOINS) if draw(st.booleans()) else ""
    around = [
        (
            draw(JOINS) + (draw(FILLERS) + "，" if draw(st.booleans()) else ""),
            draw(BEFORES),
            draw(AFTERS),
        )
        for _ in templates
    ]
    tail = draw(JOINS) + draw(FILLERS) if draw(st.booleans()) else ""

    def written(person: Person) -> Written:
        mentions = [template(person) for template in templates]
        parts = [lead]
        for i, (mention, (join, before, after)) in enumerate(
            zip(mentions, around, strict=True)
        ):
            parts += [join if i else "", before, mention.written, after]
        return Written("".join(parts) + tail, mentions)

    return written


SHORT_TEXTS = text_templates(1, 2)
TEXTS = text_templates(1, 3)
MORE_TEXTS = text_templates(0, 2)
CUTS = st.sampled_from([CARD_CUT, SNIPPET_CUT])
SHARES = st.floats(0, 1)


@st.composite
def standfirst_templates(draw):
    """A long standfirst with one mention across a listing's cut."""
    cut, template, before = draw(CUTS), draw(MENTIONS), draw(BEFORES)
    share, rest = draw(SHARES), draw(MORE_TEXTS)

    def written(person: Person) -> Written:
        mention = template(person)
        # How many of its characters come before the cut: at least one, not all.
        shown = 1 + int(share * (len(mention.written) - 2))
        head = filler_of_length(cut - shown - len(before)) + before + mention.written
        more = rest(person)
        text = f"{head}，{more.text}。{STORY_SENTENCE}。"
        return Written(text, [mention, *more.mentions])

    return written


@dataclass
class StoryText:
    person: Person
    title: Written
    standfirst: Written
    search_description: Written
    body: Written
    reply: Written

    def fields(self) -> dict[str, Written]:
        return {
            "title": self.title,
            "standfirst": self.standfirst,
            "search_description": self.search_description,
            "body": self.body,
            "reply": self.reply,
        }

    def numbers(self) -> set[str]:
        found = {self.person.phone}
        for written in self.fields().values():
            found.update(n for m in written.mentions for n in m.numbers)
        return found

    def strings(self) -> set[str]:
        found = set(self.person.private_strings())
        for written in self.fields().values():
            found.update(s for m in written.mentions for s in m.strings)
        return found


@st.composite
def story_texts(draw) -> StoryText:
    person = draw(PEOPLE)
    title = draw(SHORT_TEXTS)(person)
    return StoryText(
        person=person,
        title=Written(f"{title.text}：{STORY_SENTENCE}", title.mentions),
        standfirst=draw(standfirst_templates())(person),
        search_description=draw(SHORT_TEXTS)(person),
        body=draw(TEXTS)(person),
        reply=draw(TEXTS)(person),
    )


STORIES = story_texts()


# Each format on its own, in a sentence: which ones redaction misses, by name.
ZHOU = Person(
    surname="周",
    given="建国",
    honorific="先生",
    phone="13912345678",
    email="zhou.jianguo@example.com",
    community="幸福小区",
    building="3号楼",
    unit="",
    room="502室",
)
OTHER_MOBILE = "13587654321"
ID_18 = id18("340202", date(1990, 1, 1), 123)
ID_18_X = id18_ending_in_x("440305", date(1985, 7, 23))
ID_15 = "110105850315123"
FORMATS = {
    "mobile plain": ("13587654321", OTHER_MOBILE),
    "mobile 3-4-4 hyphens": ("135-8765-4321", OTHER_MOBILE),
    "mobile 3-4-4 spaces": ("135 8765 4321", OTHER_MOBILE),
    "mobile 3-3-5": ("135 876 54321", OTHER_MOBILE),
    "mobile 4-3-4": ("1358 765 4321", OTHER_MOBILE),
    "mobile 5-6": ("13587 654321", OTHER_MOBILE),
    "mobile dots": ("135.8765.4321", OTHER_MOBILE),
    "mobile +86": ("+86 135 8765 4321", OTHER_MOBILE),
    "mobile +86 joined": ("+8613587654321", OTHER_MOBILE),
    "mobile 86-": ("86-13587654321", OTHER_MOBILE),
    "mobile full width": ("１３５８７６５４３２１", OTHER_MOBILE),
    "mobile full width 3-4-4": ("１３５－８７６５－４３２１", OTHER_MOBILE),
    "own phone 3-3-5": ("139 123 45678", ZHOU.phone),
    "own phone dots": ("139.1234.5678", ZHOU.phone),
    "landline 4-4-4": ("0553-7642-9183", "055376429183"),
    "landline (area)": ("(0553)76429183", "055376429183"),
    "landline area-local": ("0553-76429183", "055376429183"),
    "landline （area） full-width brackets": ("（0553）76429183", "055376429183"),
    "local 7 digits": ("5830271", "5830271"),
    "local 4-4": ("6914-2758", "69142758"),
    "ID 18": (ID_18, ID_18),
    "ID 18 ending in X": (ID_18_X, ID_18_X),
    "ID 18 ending in x": (ID_18_X.lower(), ID_18_X),
    "ID 18 spaced": (f"{ID_18_X[:6]} {ID_18_X[6:14]} {ID_18_X[14:]}", ID_18_X),
    "ID 18 full width": (ID_18.translate(FULL_WIDTH), ID_18),
    "ID 15": (ID_15, ID_15),
    "ID 15 spaced": (f"{ID_15[:6]} {ID_15[6:12]} {ID_15[12:]}", ID_15),
    "e-mail": ("zhou.jianguo@example.com", None),
    "other e-mail": ("li_ming88@qq.com", None),
    "name": ("周建国", None),
    "name as 周先生": ("周先生", None),
    "name as 周女士": ("周女士", None),
    "name spaced": ("周 建国", None),
    "address": ("幸福小区3号楼502室", None),
    "address: community": ("幸福小区", None),
    "address: building": ("3号楼", None),
    "address: room": ("502室", None),
}


# --- The leak check ---------------------------------------------------------------


def leaks(body: bytes | str, numbers, strings) -> list[str]:
    """How ``body`` gives the personal data away, in words; [] if it does not."""
    text = readable(body)
    runs = digit_runs(text)
    found = [
        f"{number} as {run}"
        for number in sorted(numbers)
        for run in number_leaks(text, number, runs=runs)
    ]
    return found + string_leaks(text, sorted(strings))


def test_the_leak_check_finds_numbers_however_they_are_grouped():
    phone, id_number = "13912345678", "34020219900101123X"
    for written in [
        "电话13912345678。",
        "139 1234 5678",
        "139-123-45678",
        "1391.234.5678",
        "+86 139 1234 5678",
        "&#49;&#51;&#57;12345678",  # as character references
        "&amp;#49;3912345678",  # escaped twice, as in a feed
        "１３９－１２３４－５６７８",
        "电话1391234…",  # cut after seven digits
    ]:
        assert leaks(written, [phone], []), written
    for written in [
        "340202 19900101 123X",
        "34020219900101123x",
        "３４０２０２１９９０",
    ]:
        assert leaks(written, [id_number], []), written


def test_the_leak_check_lets_masks_and_unrelated_digits_pass():
    phone = "13912345678"
    for written in [
        "电话139****5678。",
        "电话***********",
        "电话1391…",  # four digits: what a mask keeps too
        "139，1234，5678",  # three numbers, not one
        "2026-06-10 10:00 热线8890、88900000",
    ]:
        assert not leaks(written, [phone], []), written


def test_the_formats_do_not_share_seven_digits():
    """So that a leak of one number is never reported as a leak of another."""
    numbers = {n for _w, n in FORMATS.values() if n}
    for number in numbers:
        others = [n for n in numbers if n != number]
        assert not leaks("，".join(others), [number], []), number


def test_the_leak_check_finds_names_and_address_parts_in_any_encoding():
    person = Person(
        surname="周",
        given="建国",
        honorific="先生",
        phone="13912345678",
        email="zhou.jg@example.com",
        community="幸福小区",
        building="3号楼",
        unit="",
        room="502室",
    )
    strings = person.private_strings()
    for written in [
        "周先生",
        "周女士说",
        "周 建国",
        "&#21608;建国",
        "住３号楼",
        "502室",
        "ZHOU.JG@EXAMPLE.COM",
        "幸福小区门口",
    ]:
        assert leaks(written, [], strings), written
    assert not leaks("周某反映，住***，电话139****5678", [person.phone], strings)


@DIRECT
@given(story=STORIES)
def test_every_generated_mention_is_caught_by_the_leak_check(story):
    """The generators and the check agree: unredacted, every mention is a leak."""
    numbers, strings = story.numbers(), story.strings()
    for name, written in story.fields().items():
        for mention in written.mentions:
            assert leaks(mention.written, numbers, strings), (name, mention)
        assert leaks(written.text, numbers, strings), (name, written.text)


# --- Redaction itself, directly (cheap, many examples) ------------------------------


def citizen_case(person: Person, department, *, reference="8890-pii-story"):
    citizen = Citizen.objects.create(
        name=person.name,
        phone=person.phone,
        address=person.address,
        email=person.email,
    )
    return CaseFactory(
        reference=reference,
        dispatched=True,
        citizen=citizen,
        department=department,
        category=CategoryFactory(default_department=department),
        title="金胜路口行人过街难",
        description=f"{STORY_SENTENCE}。",
    )


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def newsroom(db, frozen):
    hot_tracking_column()  # made by the migrations
    department = DepartmentFactory(name="市交通运输局")
    return {
        "user": UserFactory(is_superuser=True, is_staff=True),
        "department": department,
        # For redact() on its own: its citizen becomes each generated person.
        "case": citizen_case(ZHOU, department, reference="8890-pii-redact"),
    }


@DIRECT
@given(story=STORIES)
def test_redact_leaves_no_personal_data_in_any_text(newsroom, story):
    case = newsroom["case"]
    person = story.person
    # In memory only: the citizen is read from the case, the censor rules by it.
    case.citizen = Citizen(
        name=person.name,
        phone=person.phone,
        address=person.address,
        email=person.email,
    )
    redacted = {
        name: redact(written.text, case=case)
        for name, written in story.fields().items()
    }
    found = {
        name: (story.fields()[name].text, text, shown)
        for name, text in redacted.items()
        if (shown := leaks(text, story.numbers(), story.strings()))
    }
    assert not found, f"redact() lets personal data through: {found}"


@pytest.mark.parametrize("written, number", FORMATS.values(), ids=FORMATS.keys())
def test_redact_masks_each_format(newsroom, written, number):
    case = newsroom["case"]  # 周建国's
    text = f"市民反映：联系人{written}，请核实。"
    numbers = [number] if number else []
    strings = [*ZHOU.private_strings(), "li_ming88@qq.com"]
    assert leaks(text, numbers, strings)  # the check sees it unredacted
    redacted = redact(text, case=case)
    assert not leaks(redacted, numbers, strings), redacted


# --- Through the whole site ---------------------------------------------------------


def publish_story(newsroom, story: StoryText):
    """The story of the person's case as an editor wrote it, and the department's
    reply on the case, published the way production data is."""
    user = newsroom["user"]
    case = citizen_case(story.person, newsroom["department"])
    svc.case_reply(case=case.pk, user=user, text=story.reply.text, now=timezone.now())
    page = story_create_for_case(case=case, user=user)
    page.title = story.title.text
    page.standfirst = story.standfirst.text
    page.search_description = story.search_description.text
    page.body = [("paragraph", f"<p>{escape(story.body.text)}</p>")]
    return publish(page, user)


def public_surfaces(page) -> list[str]:
    story = path(page)
    column = path(hot_tracking_column())
    search = f"/search/?{urlencode({'q': STORY_WORD})}"
    urls = [
        story,
        f"{story}?print=1",
        "/",
        column,
        f"{column}feed/rss/",
        f"{column}feed/atom/",
        search,
    ]
    return [u for url in urls for u in (url, f"/en{url}")]


HEAD_PARTS = {
    "<title>": re.compile(r"<title>(.*?)</title>", re.S),
    '<meta name="description">': re.compile(
        r'<meta name="description" content="([^"]*)"'
    ),
}


def surface_leaks(client, page, numbers, strings) -> dict[str, list[str]]:
    """Every public response that shows ``page``, and what it gives away."""
    found = {}
    for url in public_surfaces(page):
        cache.clear()  # about redaction, not caching: always a fresh rendering
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        # The surface really shows the story, not an empty listing.
        assert page.slug in body or STORY_SENTENCE in readable(body), url
        if shown := leaks(body, numbers, strings):
            found[url] = shown
        if url == path(page):
            for part, pattern in HEAD_PARTS.items():
                match = pattern.search(body)
                if match and (shown := leaks(match.group(1), numbers, strings)):
                    found[f"{url} {part}"] = shown
    return found


@RENDER
@given(story=STORIES)
def test_no_public_surface_shows_generated_personal_data(client, newsroom, story):
    with transaction.atomic():
        page = publish_story(newsroom, story)
        found = surface_leaks(client, page, story.numbers(), story.strings())
        transaction.set_rollback(True)
    assert not found, (
        f"personal data on public surfaces: {found}\n"
        f"texts: { {k: w.text for k, w in story.fields().items()} }"
    )


def every_format_story() -> StoryText:
    """Every format of FORMATS once, spread over all the texts of a story."""
    mentions = [Mention(w, numbers=(n,) if n else ()) for w, n in FORMATS.values()]
    chunks = [mentions[i::5] for i in range(5)]

    def written(chunk) -> Written:
        return Written("，".join(f"联系人{m.written}" for m in chunk), chunk)

    title, standfirst, description, body, reply = map(written, chunks)
    return StoryText(
        person=ZHOU,
        title=Written(f"{title.text}：{STORY_SENTENCE}", title.mentions),
        standfirst=Written(
            f"{standfirst.text}。{STORY_SENTENCE}。", standfirst.mentions
        ),
        search_description=description,
        body=body,
        reply=reply,
    )


def test_no_public_surface_shows_any_format_of_personal_data(client, newsroom):
    story = every_format_story()
    strings = {*story.strings(), "li_ming88@qq.com"}
    page = publish_story(newsroom, story)
    found = surface_leaks(client, page, story.numbers(), strings)
    assert not found, f"personal data on public surfaces: {found}"


# --- Across the cut of a listing ----------------------------------------------------


def standfirst_with(data: str, start: int) -> str:
    """A standfirst with ``data`` from character ``start`` (0-based) on."""
    return f"{filler_of_length(start)}{data}，{FILLER_TEXT}{STORY_SENTENCE}。"


def plain_story(standfirst: str) -> StoryText:
    return StoryText(
        person=ZHOU,
        title=Written(f"市民反映{STORY_SENTENCE}"),
        standfirst=Written(standfirst),
        search_description=Written(""),
        body=Written("记者现场核实。"),
        reply=Written("已安排施划。"),
    )


# A card keeps about 120 characters of the standfirst, a search result about 160,
# then an ellipsis, which is one character in English and two in Chinese: the
# data starts where some of it falls before the cut in either language.
CUT_DATA = {
    "phone": ("电话", ZHOU.phone),
    "ID number": ("身份证", ID_18),
    "address": ("住", ZHOU.address),
    "name": ("市民", ZHOU.name),
}
CUT_CASES = [
    ("phone", 115),  # "电话1391…" in English
    ("phone", 113),  # "电话1391……" in Chinese
    ("phone", 111),
    ("ID number", 109),
    ("ID number", 111),
    ("address", 113),
    ("address", 115),
    ("name", 115),  # "周建……" in Chinese
    ("name", 117),  # "周建…" in English
]
LISTINGS = ["/", "/hot-tracking/", "/en/", "/en/hot-tracking/"]
SEARCH = [f"{prefix}/search/?{urlencode({'q': STORY_WORD})}" for prefix in ("", "/en")]


def partial_leaks(body: bytes, kind: str) -> list[str]:
    """What of the ``kind`` of data the listing shows, whole or cut."""
    text = readable(body)
    shown = leaks(text, [ZHOU.phone, ID_18], ZHOU.private_strings())
    if kind == "phone":
        shown += re.findall(rf"电话{ZHOU.phone[:4]}[0-9]*", text)
    if kind == "name":  # the name cut after 周建
        shown += re.findall(rf"{ZHOU.name[:2]}(?:…|\.\.\.)", text)
    return shown


def shown_across_the_cut(client, newsroom, kind, start, urls) -> dict:
    prefix, value = CUT_DATA[kind]
    standfirst = standfirst_with(prefix + value, start - len(prefix))
    assert standfirst.index(value) == start
    found = {}
    with transaction.atomic():
        page = publish_story(newsroom, plain_story(standfirst))
        for url in urls:
            cache.clear()
            response = client.get(url)
            assert response.status_code == 200, url
            assert page.slug in response.content.decode(), url
            if shown := partial_leaks(response.content, kind):
                found[url] = shown
        transaction.set_rollback(True)
    return found


@pytest.mark.parametrize(
    "kind, start", CUT_CASES, ids=[f"{k} at {s}" for k, s in CUT_CASES]
)
def test_personal_data_across_the_cut_of_a_card_is_not_shown_in_part(
    client, newsroom, kind, start
):
    """Home page and column cards cut the standfirst: not through personal data."""
    found = shown_across_the_cut(client, newsroom, kind, start, LISTINGS)
    assert not found, f"{''.join(CUT_DATA[kind])!r}, from character {start}: {found}"


@pytest.mark.parametrize("start", [151, 153, 155])
def test_a_phone_number_across_the_cut_of_a_search_result_is_not_shown_in_part(
    client, newsroom, start
):
    found = shown_across_the_cut(client, newsroom, "phone", start, SEARCH)
    assert not found, f"phone from character {start}: {found}"
