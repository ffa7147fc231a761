"""Bad input never gives a server error at the citizen's doors, and a rejected
request never leaves anything behind.

Generated posts of the web form (junk strings, huge values, repeated fields,
numbers no coordinate can be, random bytes as photos, odd file names) and of the
progress lookup. Each answer must be below 500; after each rejected post the
cases, citizens, events and photos are counted again and must be as before.
Black box: only HTTP and the counts are looked at.
"""

from __future__ import annotations

import io

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import storages
from django.test import Client
from django.utils import translation
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.factories import CategoryFactory
from tests.newsroom.test_public_fuzz import SPECIAL_VALUES, UNICODE_DIGITS
from tests.public_surfaces import look_up_progress
from tracking import services as svc
from tracking.models import Case, CaseAttachment, CaseEvent, Citizen, Kind

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=250,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def default_language_after():
    """The default language again after each test: a request to /en/ leaves
    English active in the thread (LocaleMiddleware does not reset it), and
    later tests that build URLs would get English ones."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Case, Citizen, CaseEvent, CaseAttachment)
    )


def _image(fmt: str, size=(24, 16), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red").save(out, fmt)
    return out.getvalue()


JPEG, PNG, WEBP = _image("JPEG"), _image("PNG", mode="RGBA"), _image("WEBP")
HUGE = [
    "路" * 6000,
    "x" * 300,
    "9" * 400,
    "1e999999",
    "-1e-999999",
    "1" + "0" * 40,
    "Infinity",
    "-inf",
    "nan",
    "sNaN",
    "0x1F",
    "1_000",
    "36.6,117.1",
]
JUNK = st.one_of(
    st.sampled_from(SPECIAL_VALUES + UNICODE_DIGITS + HUGE),
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)


def plausible(field: str):
    """Values a person could send for ``field``: often right, so that the other
    fields' junk is what the form must refuse."""
    return {
        "kind": st.sampled_from(Kind.values),
        "title": st.sampled_from(["小区门口路灯不亮", "路口没有红绿灯"]),
        "description": st.sampled_from(["路灯坏了一周。", "晚上看不清路。"]),
        "location_text": st.sampled_from(["", "金胜路18号"]),
        "latitude": st.decimals(-90, 90, places=8).map(str),
        "longitude": st.decimals(-180, 180, places=8).map(str),
        "name": st.sampled_from(["周建国", "李四"]),
        "phone": st.sampled_from([PHONE, "+86 138 0013 8000", "0531-88900000"]),
        "consent_to_publish": st.sampled_from(["", "on", "1", "false"]),
    }.get(field, JUNK)


FIELDS = [
    "kind",
    "category",
    "title",
    "description",
    "location_text",
    "latitude",
    "longitude",
    "name",
    "phone",
    "consent_to_publish",
]
VALUE = st.one_of(JUNK, JUNK.map(lambda v: [v, v + "x"]))  # repeated fields too
FILE_CONTENT = st.one_of(
    st.sampled_from(
        [JPEG, PNG, WEBP, JPEG[: len(JPEG) // 2], b"", b"GIF89a", b"\x89PNG\r\n"]
    ),
    st.binary(max_size=2048),
    st.binary(max_size=64).map(lambda tail: JPEG[:200] + tail),
)
FILE_NAMES = st.one_of(
    st.sampled_from(["photo.jpg", "a.png", "x", ".jpg", "..", "照片.webp"]),
    st.text(st.characters(codec="utf-8", exclude_characters='"\r\n\\'), max_size=30),
)
FILES = st.lists(st.tuples(FILE_NAMES, FILE_CONTENT), max_size=5)


@st.composite
def form_posts(draw):
    data = {}
    for field in FIELDS:
        choice = draw(st.sampled_from(["plausible", "junk", "missing"]), label=field)
        if choice == "plausible":
            data[field] = draw(plausible(field), label=field)
        elif choice == "junk":
            data[field] = draw(VALUE, label=field)
    if draw(st.integers(0, 9), label="robot") == 0:
        data["website"] = draw(JUNK, label="website")
    files = draw(FILES, label="photos")
    if files:
        data["photos"] = [named(name, body) for name, body in files]
    return data


def named(name: str, body: bytes) -> io.BytesIO:
    """A file as the test client sends it, under any name (the server must cope
    with names Django's own file classes would refuse, such as "..")."""
    upload = io.BytesIO(body)
    upload.name = name
    return upload


@pytest.fixture
def visitor():
    """A browser: server errors come back as 500 responses, not as exceptions."""
    return Client(raise_request_exception=False)


@pytest.fixture
def doors(settings, tmp_path):
    """Limits too high to stop the fuzzing, photos in a directory of the test's."""
    settings.INTAKE_RATE_PER_IP = "100000/h"
    settings.INTAKE_RATE_PER_PHONE = "100000/h"
    settings.LOOKUP_FAILURES_PER_IP = "100000/h"
    settings.LOOKUP_FAILURES_PER_REFERENCE = "100000/h"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    storages._storages.pop("private", None)
    category = CategoryFactory()
    yield category
    storages._storages.pop("private", None)


@FUZZ
@given(data=st.data(), post=form_posts())
def test_no_form_post_gives_a_server_error_or_stores_a_rejected_one(
    doors, visitor, data, post
):
    if "category" in post and data.draw(st.booleans(), label="real category"):
        post["category"] = str(doors.pk)
    url = data.draw(st.sampled_from(["/report/", "/en/report/"]), label="url")
    before = counts()
    response = visitor.post(url, post)
    event(f"status {response.status_code}")
    assert response.status_code < 500, (response.status_code, post)
    stored = response.status_code == 302 and not post.get("website", "").strip()
    if stored:
        assert counts()[0] == before[0] + 1
    else:
        assert counts() == before, (response.status_code, post)


@settings(FUZZ, max_examples=150)
@given(
    data=st.data(),
    reference=st.one_of(JUNK, st.just("REAL")),
    tail=st.one_of(JUNK, st.sampled_from(["5678", "５６７８", "0000", " 5678 "])),
)
def test_no_lookup_gives_a_server_error_or_stores_anything(
    doors, visitor, data, reference, tail
):
    case = Case.objects.filter(reference__startswith="8890-").first() or (
        svc.case_register(
            kind="help",
            title="路灯不亮",
            description="路灯坏了一周。",
            citizen=svc.CitizenData(name="周建国", phone=PHONE),
        )
    )
    if reference == "REAL":
        reference = case.reference
    before = counts()
    response = look_up_progress(visitor, reference, tail)
    event(f"status {response.status_code}")
    assert response.status_code < 500, (response.status_code, reference, tail)
    assert counts() == before
