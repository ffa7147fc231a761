"""The services every door calls: a known caller is found again, photos are stored
with their case or not at all, calls are logged, duplicates are merged."""

from __future__ import annotations

import pytest
from django.core.files.storage import storages
from django.db import transaction

from tests.factories import (
    CategoryFactory,
    CitizenFactory,
    aware,
    case_in_state,
    liaison,
    officer,
)
from tracking import services as svc
from tracking.exceptions import (
    CaseConflict,
    CasePermissionDenied,
    InvalidInput,
    TransitionRefused,
)
from tracking.models import (
    Call,
    CallOutcome,
    Case,
    CaseAttachment,
    CaseEvent,
    Citizen,
    State,
    normalize_phone,
)

pytestmark = pytest.mark.django_db

NOW = aware(2026, 3, 18, 10)


def register(**kwargs):
    defaults = {
        "kind": "complaint",
        "title": "小区门口路灯不亮",
        "description": "幸福路12号门口路灯坏了一周。",
        "now": NOW,
    }
    return svc.case_register(**{**defaults, **kwargs})


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


# --- phone numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("(0531) 8890-0000", "053188900000"),
        ("  ", ""),
        ("不详", "不详"),
    ],
)
def test_phone_numbers_have_one_spelling(raw, normal):
    assert normalize_phone(raw) == normal


# --- a citizen who calls again --------------------------------------------------------


def test_a_known_caller_joins_their_citizen_row_and_blanks_are_filled():
    first = register(citizen=svc.CitizenData(name="周建国", phone="13905310001"))
    again = register(
        citizen=svc.CitizenData(
            name="周建国", phone="+86 139 0531 0001", address="五湖路88号"
        )
    )

    assert again.citizen_id == first.citizen_id
    assert Citizen.objects.count() == 1
    citizen = Citizen.objects.get()
    assert (citizen.phone, citizen.address) == ("13905310001", "五湖路88号")


def test_a_caller_who_gives_no_name_joins_the_known_citizen():
    first = register(citizen=svc.CitizenData(name="周建国", phone="13905310001"))
    again = register(citizen=svc.CitizenData(phone="13905310001"))

    assert again.citizen_id == first.citizen_id
    assert Citizen.objects.get().name == "周建国"


def test_another_name_on_a_known_phone_is_another_citizen_and_nothing_is_overwritten():
    # A family's phone: each case's redaction must mask the name given on it.
    first = register(citizen=svc.CitizenData(name="周建国", phone="13905310001"))
    other = register(citizen=svc.CitizenData(name="李秀英", phone="13905310001"))

    assert other.citizen_id != first.citizen_id
    first.citizen.refresh_from_db()
    assert first.citizen.name == "周建国"


def test_a_registration_without_contact_details_has_no_citizen():
    assert register(citizen=svc.CitizenData()).citizen is None


# --- photos ---------------------------------------------------------------------------


PHOTO = svc.Photo(
    content=b"\xff\xd8\xff\xe0 not really a jpeg, stored as given",
    content_type="image/jpeg",
    extension="jpg",
    width=4,
    height=3,
)


def test_photos_are_stored_with_the_case_under_generated_names(private_storage):
    case = register(photos=[PHOTO, PHOTO])

    attachments = list(case.attachments.all())
    assert len(attachments) == 2
    names = {a.file.name for a in attachments}
    assert len(names) == 2
    for attachment in attachments:
        assert attachment.file.name.startswith("case-photos/")
        assert attachment.file.name.endswith(".jpg")
        assert "photo" not in attachment.file.name.rsplit("/", 1)[-1]
        assert (private_storage / attachment.file.name).read_bytes() == PHOTO.content
        assert (attachment.size, attachment.width, attachment.height) == (
            len(PHOTO.content),
            4,
            3,
        )


def test_private_photos_are_not_under_the_public_media_root(settings):
    assert not settings.PRIVATE_MEDIA_ROOT.resolve().is_relative_to(
        settings.MEDIA_ROOT.resolve()
    )
    with pytest.raises(ValueError, match="no public URL"):
        storages["private"].url("case-photos/2026/03/x.jpg")


def test_a_registration_that_fails_leaves_no_photo_file(private_storage, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(svc, "record_event", fail)

    with pytest.raises(RuntimeError):
        register(photos=[PHOTO])

    assert stored_files(private_storage) == []
    assert not Case.objects.exists()
    assert not CaseAttachment.objects.exists()


# --- refusals store nothing -----------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"latitude": 36.6},
        {"category": "inactive"},
        {"kind": "praise"},
        {"title": "  "},
        {"media_url": "not a url"},
    ],
)
def test_a_refused_registration_stores_nothing(bad, private_storage):
    if bad.get("category") == "inactive":
        bad = {"category": CategoryFactory(is_active=False)}
    with pytest.raises(InvalidInput):
        register(
            citizen=svc.CitizenData(name="周建国", phone="13905310001"),
            photos=[PHOTO],
            **bad,
        )

    assert not Case.objects.exists()
    assert not Citizen.objects.exists()
    assert not CaseEvent.objects.exists()
    assert stored_files(private_storage) == []


# --- calls ----------------------------------------------------------------------------


def test_a_call_from_a_known_phone_names_its_citizen():
    citizen = CitizenFactory(phone="13905310001")
    user = officer()

    call = svc.call_register(
        user=user,
        caller_phone="139-0531-0001",
        outcome=CallOutcome.ANSWERED,
        note="问停水时间",
        duration_seconds=95,
        received_at=NOW,
    )

    assert (call.caller_phone, call.citizen, call.operator) == (
        "13905310001",
        citizen,
        user,
    )


def test_a_case_registered_from_a_call_keeps_the_call():
    user = officer()
    call = svc.call_register(
        user=user, caller_phone="13905310001", outcome=CallOutcome.ANSWERED
    )

    case = register(
        user=user,
        citizen=svc.CitizenData(name="周建国", phone="13905310001"),
        call=call,
    )

    call.refresh_from_db()
    assert (call.case, call.citizen, call.outcome) == (
        case,
        case.citizen,
        CallOutcome.CASE_CREATED,
    )


def test_a_call_registers_one_case_only():
    user = officer()
    call = svc.call_register(
        user=user, caller_phone="13905310001", outcome=CallOutcome.ANSWERED
    )
    first = register(user=user, call=call)

    with pytest.raises(CaseConflict):
        register(user=user, call=call, title="又一次登记")

    assert list(Case.objects.all()) == [first]
    call.refresh_from_db()
    assert call.case == first


def test_a_call_needs_a_known_outcome_and_the_permission():
    with pytest.raises(InvalidInput):
        svc.call_register(user=officer(), caller_phone="1", outcome="hung up")
    category = CategoryFactory()
    with pytest.raises(CasePermissionDenied):
        svc.call_register(
            user=liaison(category.default_department),
            caller_phone="13905310001",
            outcome=CallOutcome.ANSWERED,
        )
    assert not Call.objects.exists()


# --- duplicates -----------------------------------------------------------------------


def test_a_duplicate_joins_the_case_it_repeats_with_one_public_event():
    original = case_in_state("dispatched")
    duplicate = case_in_state("registered", category=original.category)

    merged = svc.case_merge(
        case=duplicate, user=officer(), into=original.reference, now=NOW
    )

    assert (merged.state, merged.duplicate_of, merged.closed_at) == (
        State.MERGED,
        original,
        NOW,
    )
    event = CaseEvent.objects.get(case=duplicate)
    assert (event.action, event.note, event.public) == (
        "merge",
        original.reference,
        True,
    )
    assert not Case.objects.open().filter(pk=duplicate.pk).exists()


@pytest.mark.parametrize("target", ["itself", "closed", "unknown"])
def test_a_merge_into_no_open_other_case_is_refused(target):
    duplicate = case_in_state("accepted")
    into = {
        "itself": duplicate.reference,
        "closed": case_in_state("closed").reference,
        "unknown": "8890-20990101-00001",
    }[target]

    with pytest.raises(InvalidInput):
        svc.case_merge(case=duplicate, user=officer(), into=into, now=NOW)

    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.duplicate_of) == (State.ACCEPTED, None)
    assert not CaseEvent.objects.filter(case=duplicate).exists()


def test_a_case_a_department_works_on_is_not_merged():
    original = case_in_state("accepted")
    working = case_in_state("in_progress")

    with pytest.raises(TransitionRefused):
        svc.case_merge(case=working, user=officer(), into=original, now=NOW)


def test_a_liaison_may_not_merge():
    original = case_in_state("accepted")
    duplicate = case_in_state("accepted", category=original.category)

    with pytest.raises(CasePermissionDenied), transaction.atomic():
        svc.case_merge(
            case=duplicate,
            user=liaison(duplicate.department),
            into=original,
            now=NOW,
        )
    assert Case.objects.get(pk=duplicate.pk).state == State.ACCEPTED
