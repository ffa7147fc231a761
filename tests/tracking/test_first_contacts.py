"""The first-contact rollup (tracking.statistics.first_contacts): after every kind
of write a hotline sees (a call, a case, a case from a call that gives the call
its answer, a back-dated call, an edited answer, a moved call, a citizen's new
phone, a deletion, a deleted visit day, a bulk import), the live tables equal
the ones rebuilt from the raw rows, and a new call costs two statements."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import aware, officer
from tracking import services as svc
from tracking.models import (
    Call,
    CallOutcome,
    Citizen,
    FirstContact,
    FirstContactDay,
    HeardOf,
    Kind,
)
from tracking.partners.models import CommunityVisit
from tracking.statistics import periods, rollups
from tracking.statistics.attribution import attribution

pytestmark = pytest.mark.django_db

NOW = aware(2026, 12, 10, 10)
NOVEMBER = periods.month(2026, 11)
VISIT = HeardOf.COMMUNITY_VISIT
TABLES = ("FirstContact", "FirstContactDay")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def desk():
    return officer()


def assert_current():
    """The live first-contact tables are what the raw rows give."""
    computed = rollups.computed()
    stored = rollups.stored()
    found = [d for d in rollups.differences(stored, computed) if d.table in TABLES]
    assert found == []
    return computed


def first_time(period=NOVEMBER) -> dict:
    result = attribution(period)
    return {
        row.value: row.first_time_callers
        for row in result.heard_of
        if row.first_time_callers
    }


def phone_call(desk, phone, at, heard_of="", visit=None):
    return svc.call_register(
        user=desk,
        caller_phone=phone,
        outcome=CallOutcome.ANSWERED,
        received_at=at,
        heard_of=heard_of,
        heard_of_visit=visit,
    )


def web_case(desk, phone, at, *, call=None, heard_of="", visit=None):
    return svc.case_register(
        user=desk,
        kind=Kind.HELP,
        title="路灯不亮",
        description="小区门口路灯坏了两周。",
        citizen=svc.CitizenData(name="演示", phone=phone),
        call=call,
        heard_of=heard_of,
        heard_of_visit=visit,
        now=at,
    )


@pytest.fixture
def visit_day():
    return CommunityVisit.objects.create(
        date=date(2026, 11, 8),
        community="幸福里社区",
        district="历下区",
        services="义务维修",
        people_served=100,
    )


def test_a_first_call_and_a_repeat_call(desk, visit_day):
    phone_call(desk, "13900000001", aware(2026, 11, 9, 9), VISIT, visit_day)
    phone_call(desk, "13900000001", aware(2026, 11, 10, 9), HeardOf.NEWSPAPER)

    assert FirstContact.objects.get(phone="13900000001").visit_id == visit_day.pk
    assert first_time() == {VISIT: 1}
    assert_current()


def test_a_case_from_a_call_gives_the_first_call_its_answer(desk, visit_day):
    first = phone_call(desk, "13900000002", aware(2026, 11, 21, 9))
    assert first_time() == {"": 1}

    web_case(
        desk,
        "13900000002",
        aware(2026, 11, 21, 9, 5),
        call=first,
        heard_of=VISIT,
        visit=visit_day,
    )

    assert first_time() == {VISIT: 1}
    assert_current()


def test_a_web_case_is_a_first_contact_and_a_later_call_is_not(desk):
    web_case(desk, "13900000003", aware(2026, 11, 15, 20), heard_of=HeardOf.ONLINE)
    phone_call(desk, "13900000003", aware(2026, 11, 16, 9), HeardOf.FRIEND)

    assert first_time() == {HeardOf.ONLINE: 1}
    assert FirstContact.objects.get(phone="13900000003").kind == "case"
    assert_current()


def test_a_back_dated_call_takes_the_place_of_the_first(desk):
    phone_call(desk, "13900000004", aware(2026, 11, 20, 9), HeardOf.FRIEND)
    # Logged late, from the paper notes of an earlier call (October).
    phone_call(desk, "13900000004", aware(2026, 10, 30, 9), HeardOf.NEWSPAPER)

    assert first_time() == {}
    assert first_time(periods.month(2026, 10)) == {HeardOf.NEWSPAPER: 1}
    assert_current()


def test_an_edited_answer_moves_the_first_time_caller(desk, visit_day):
    call = phone_call(desk, "13900000005", aware(2026, 11, 12, 9))
    later = phone_call(desk, "13900000005", aware(2026, 11, 13, 9))

    call = Call.objects.get(pk=call.pk)
    call.heard_of, call.heard_of_visit = VISIT, visit_day
    call.save()
    later = Call.objects.get(pk=later.pk)
    later.heard_of = HeardOf.OTHER  # not the first contact: counts nothing
    later.save()

    assert first_time() == {VISIT: 1}
    assert attribution(NOVEMBER).visits[0].first_time_callers == 1
    assert_current()


def test_a_call_moved_in_time_or_to_another_number(desk):
    call = phone_call(desk, "13900000006", aware(2026, 11, 12, 9), HeardOf.FRIEND)
    phone_call(desk, "13900000006", aware(2026, 11, 14, 9), HeardOf.OTHER)

    call = Call.objects.get(pk=call.pk)
    call.received_at = aware(2026, 12, 1, 9)  # now after the other one
    call.save()
    assert first_time() == {HeardOf.OTHER: 1}
    assert_current()

    call.caller_phone = "13900000007"  # the number was mistyped
    call.save()
    assert first_time(periods.month(2026, 12)) == {HeardOf.FRIEND: 1}
    assert_current()


def test_a_citizen_with_a_new_phone(desk):
    case = web_case(
        desk, "13900000008", aware(2026, 11, 15, 9), heard_of=HeardOf.ONLINE
    )
    phone_call(desk, "13900000009", aware(2026, 11, 10, 9), HeardOf.FRIEND)

    citizen = Citizen.objects.get(pk=case.citizen_id)
    citizen.phone = "13900000009"  # the case's citizen is the earlier caller
    citizen.save()

    assert first_time() == {HeardOf.FRIEND: 1}
    assert not FirstContact.objects.filter(phone="13900000008").exists()
    assert_current()


def test_deleting_the_first_contact_makes_the_next_one_first(desk):
    first = phone_call(desk, "13900000010", aware(2026, 11, 3, 9), HeardOf.FRIEND)
    case = web_case(desk, "13900000010", aware(2026, 11, 4, 9), heard_of=HeardOf.ONLINE)

    Call.objects.get(pk=first.pk).delete()
    assert first_time() == {HeardOf.ONLINE: 1}
    assert_current()

    type(case).objects.get(pk=case.pk).delete()
    assert first_time() == {}
    assert not FirstContact.objects.exists()
    assert_current()


def test_a_deleted_visit_day_is_no_longer_named(desk, visit_day):
    phone_call(desk, "13900000011", aware(2026, 11, 9, 9), VISIT, visit_day)

    visit_day.delete()

    result = attribution(NOVEMBER)
    assert result.attributed_to_visits == 1
    assert result.visit_not_recorded == 1
    assert_current()


def test_an_import_counts_its_first_time_callers(desk, tmp_path):
    phone_call(desk, "13900000012", aware(2026, 11, 20, 9), HeardOf.FRIEND)
    path = tmp_path / "calls.csv"
    path.write_text(
        "call_id,started_at,caller,duration,outcome,case_reference,summary\n"
        "T-1,2026-11-05 09:00:00,13900000012,60,已解答,,\n"  # earlier than the live one
        "T-2,2026-11-06 09:00:00,13900000013,60,已解答,,\n"
        "T-3,2026-11-07 09:00:00,13900000013,60,已解答,,\n"
        "T-4,2026-11-08 09:00:00,anonymous,60,已解答,,\n",
        encoding="utf-8",
    )

    call_command("import_calls", str(path), stdout=StringIO(), stderr=StringIO())

    assert attribution(NOVEMBER).first_time_callers == 2
    assert first_time() == {"": 2}
    assert FirstContact.objects.get(phone="13900000012").at == aware(2026, 11, 5, 9)
    assert_current()


def test_a_rebuild_puts_a_tampered_rollup_right(desk):
    phone_call(desk, "13900000014", aware(2026, 11, 20, 9), HeardOf.FRIEND)
    FirstContactDay.objects.update(callers=5)
    FirstContact.objects.all().delete()
    out = StringIO()

    call_command("rebuild_statistics", stdout=out)

    assert "2 differed" in out.getvalue()
    assert first_time() == {HeardOf.FRIEND: 1}
    assert_current()


def test_a_call_adds_two_statements_for_its_first_contact(desk):
    phone_call(desk, "13900000015", aware(2026, 11, 20, 9))
    for phone, kind in (("13900000015", "repeat"), ("13900000016", "new")):
        with CaptureQueriesContext(connection) as queries:
            phone_call(desk, phone, aware(2026, 11, 21, 9))
        ours = [
            q["sql"]
            for q in queries.captured_queries
            if "firstcontact" in q["sql"].lower()
        ]
        assert len(ours) == 2, (kind, ours)
    assert_current()


def test_the_migration_fills_the_first_contacts_of_an_existing_history(desk):
    """Migration 0023 on a database that already has calls and cases."""
    import importlib

    from django.apps import apps

    phone_call(desk, "13900000017", aware(2026, 11, 2, 9), HeardOf.FRIEND)
    web_case(desk, "13900000018", aware(2026, 11, 3, 9), heard_of=HeardOf.ONLINE)
    FirstContact.objects.all().delete()
    FirstContactDay.objects.all().delete()
    migration = importlib.import_module("tracking.migrations.0023_first_contacts")

    migration.fill(apps, None)

    assert first_time() == {HeardOf.FRIEND: 1, HeardOf.ONLINE: 1}
    assert_current()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_contacts_saved_outside_a_transaction_are_counted():
    """A save in autocommit mode (a shell, a script) opens a transaction of its
    own for the locked comparison; PostgreSQL refuses ``FOR UPDATE`` outside
    one, SQLite does not check."""
    from tests.factories import CaseFactory, CitizenFactory

    citizen = CitizenFactory(phone="13900000019")
    CaseFactory(citizen=citizen, registered_at=aware(2026, 11, 5, 9))
    Call.objects.create(caller_phone="13900000019", received_at=aware(2026, 11, 6, 9))
    call = Call.objects.create(
        caller_phone="13900000020", received_at=aware(2026, 11, 7, 9)
    )
    call.heard_of = HeardOf.FRIEND
    call.save()
    call.received_at = aware(2026, 11, 4, 9)
    call.save()
    Call.objects.create(caller_phone="13900000019", received_at=aware(2026, 11, 1, 9))

    assert attribution(NOVEMBER).first_time_callers == 2
    assert_current()
