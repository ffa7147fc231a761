"""``manage.py import_calls``: a telephony export in, in batches, once per call id,
with each bad row reported by its line."""

from __future__ import annotations

import math
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CitizenFactory, aware, case_in_state
from tracking.management.commands.import_calls import Command
from tracking.models import Call, CallOutcome

pytestmark = pytest.mark.django_db

NOW = aware(2026, 11, 27, 10)
HEADER = "call_id,started_at,caller,duration,outcome,case_reference,summary"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def write(tmp_path, text: str, encoding="utf-8", name="calls.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(path, *args):
    """Run the command; (stdout, stderr, the CommandError or None)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_calls", str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def test_a_file_is_imported_with_citizens_cases_and_local_times(tmp_path):
    citizen = CitizenFactory(phone="13905310001")
    case = case_in_state("accepted")
    path = write(
        tmp_path,
        "\n".join(
            [
                HEADER,
                "T-1,2026-11-26 09:30:05,+86 139-0531-0001,95,已解答,,问停水时间",
                f"T-2,2026-11-26T23:59:00+08:00,13700000000,1:30,咨询进度,"
                f"{case.reference},问进度",
                "T-3,2026-11-26T16:00:00Z,anonymous,0,未接通,,",
                "T-4,2026-11-26 08:00:00,13600000000,60,,,",
            ]
        )
        + "\n",
    )

    out, err, error = run(path)

    assert error is None, err
    assert err == ""
    assert "imported 4, skipped 0 already present, rejected 0" in out
    calls = {call.external_id: call for call in Call.objects.all()}
    one, two, three, four = (calls[f"T-{n}"] for n in range(1, 5))
    assert (one.received_at, one.caller_phone, one.citizen, one.outcome) == (
        aware(2026, 11, 26, 9, 30, 5),
        "13905310001",
        citizen,
        CallOutcome.ANSWERED,
    )
    assert (one.duration_seconds, one.note, one.operator) == (95, "问停水时间", None)
    assert (two.case, two.citizen, two.outcome, two.duration_seconds) == (
        case,
        case.citizen,
        CallOutcome.FOLLOW_UP,
        90,
    )
    assert three.received_at == aware(2026, 11, 27, 0, 0)
    assert (three.caller_phone, three.citizen, three.outcome) == (
        "",
        None,
        CallOutcome.DROPPED,
    )
    assert (four.outcome, four.citizen) == (CallOutcome.ANSWERED, None)


@pytest.mark.parametrize(
    ("word", "outcome"),
    [
        ("answered", CallOutcome.ANSWERED),
        ("CASE_CREATED", CallOutcome.CASE_CREATED),
        ("新建工单", CallOutcome.CASE_CREATED),
        ("转接", CallOutcome.TRANSFERRED),
        ("follow_up", CallOutcome.FOLLOW_UP),
        ("dropped", CallOutcome.DROPPED),
    ],
)
def test_outcomes_in_english_or_chinese(tmp_path, word, outcome):
    path = write(tmp_path, f"{HEADER}\nX,2026-11-26 09:00:00,13700000000,5,{word},,\n")

    run(path)

    assert Call.objects.get().outcome == outcome


def bulk_file(tmp_path, rows: int, start: int = 0, name="bulk.csv"):
    lines = [HEADER]
    for n in range(start, start + rows):
        moment = NOW - timedelta(minutes=n + 1)
        lines.append(
            f"B-{n},{moment:%Y-%m-%d %H:%M:%S},139{n % 500:08d},{n % 600},"
            f"answered,,第{n}个来电"
        )
    return write(tmp_path, "\n".join(lines) + "\n", name=name)


def test_two_thousand_rows_in_batches_with_a_bounded_number_of_queries(tmp_path):
    for n in range(0, 500, 50):
        CitizenFactory(phone=f"139{n:08d}")
    path = bulk_file(tmp_path, 2000)

    # Per batch of 1000: ids present, citizens, the insert (which the database
    # may split at its limit of parameters), a savepoint; never one query per row.
    columns = len(Call._meta.concrete_fields) - 1  # not the id
    limit = connection.features.max_query_params
    rows_per_insert = min(1000, limit // columns) if limit else 1000
    inserts = 2 * math.ceil(1000 / rows_per_insert)
    # The first contacts of a batch (tracking.statistics.first_contacts): the new
    # numbers inserted (6 parameters a row), the known ones read 500 at a time,
    # those the batch moves earlier updated, and the day counts.
    contacts = 2 * (
        math.ceil(1000 / (limit // 6 if limit else 1000))
        + 2
        + math.ceil(1000 / (limit // 7 if limit else 1000))
        + 1
    )
    with CaptureQueriesContext(connection) as queries:
        out, err, error = run(path)
    ours = [q for q in queries.captured_queries if "firstcontact" in q["sql"].lower()]
    assert len(queries.captured_queries) - len(ours) <= inserts + 10
    assert 0 < len(ours) <= contacts

    assert error is None, err
    assert Call.objects.count() == 2000
    assert "imported 2000, skipped 0 already present, rejected 0" in out
    linked = Call.objects.filter(citizen__isnull=False)
    assert linked.count() == 2000 // 500 * 10
    assert all(call.citizen.phone == call.caller_phone for call in linked)


def test_importing_the_same_file_again_adds_nothing(tmp_path):
    path = bulk_file(tmp_path, 1200)
    run(path)
    before = set(Call.objects.values_list("pk", flat=True))

    out, err, error = run(path)

    assert error is None
    assert "imported 0, skipped 1200 already present, rejected 0" in out
    assert set(Call.objects.values_list("pk", flat=True)) == before


def test_a_file_that_overlaps_an_earlier_one_adds_only_the_new_calls(tmp_path):
    run(bulk_file(tmp_path, 30, name="monday.csv"))

    out, _err, _error = run(bulk_file(tmp_path, 30, start=20, name="tuesday.csv"))

    assert "imported 20, skipped 10 already present" in out
    assert Call.objects.count() == 50


def test_bad_rows_are_reported_by_line_and_the_good_ones_imported(tmp_path):
    path = write(
        tmp_path,
        "\n".join(
            [
                HEADER,  # line 1
                "G-1,2026-11-26 09:00:00,13700000000,30,,,",  # 2
                'G-2,2026-11-26 09:05:00,13700000001,30,,,"两行的',  # 3
                '摘要"',  # 4: the same record
                "",  # 5: blank
                "B-1,2026-13-01 09:00:00,13700000000,30,,,",  # 6
                "B-2,2026-11-26,13700000000,30,,,",  # 7: no time
                "B-3,2026-11-26 09:00:00,13700000000,-5,,,",  # 8
                "B-4,2026-11-26 09:00:00,13700000000,thirty,,,",  # 9
                "B-5,2026-11-26 09:00:00,call me,30,,,",  # 10
                "B-6,2026-11-26 09:00:00,13700000000,30,hung up,,",  # 11
                "B-7,2026-11-26 09:00:00,13700000000,30,,8890-20990101-00001,",  # 12
                "G-1,2026-11-26 10:00:00,13700000000,30,,,",  # 13
                ",2026-11-26 09:00:00,13700000000,30,,,",  # 14
                "B-8,2026-12-30 09:00:00,13700000000,30,,,",  # 15: future
                "B-9,2026-11-26 09:00:00,13700000000,30,,,,extra",  # 16
                "G-3,2026-11-26 09:10:00,,0,dropped,,",  # 17
                'B-10,2026-11-26 25:00:00,13700000000,30,,,"多行的',  # 18
                '摘要"',  # 19: the same record
            ]
        )
        + "\n",
    )

    out, err, error = run(path)

    assert error is not None
    assert error.returncode == 1
    assert "12 rows rejected" in str(error)
    assert "imported 3, skipped 0 already present, rejected 12" in out
    assert set(Call.objects.values_list("external_id", flat=True)) == {
        "G-1",
        "G-2",
        "G-3",
    }
    assert Call.objects.get(external_id="G-2").note == "两行的\n摘要"
    lines = err.strip().splitlines()
    expected = {
        6: "started_at: not a date and time: '2026-13-01 09:00:00'",
        7: "started_at: not a date and time: '2026-11-26'",
        8: "duration: not a number of seconds",
        9: "duration: not a number of seconds",
        10: "caller: not a phone number: 'call me'",
        11: "outcome: unknown: 'hung up'",
        12: "case_reference: no such case: '8890-20990101-00001'",
        13: "call_id: 'G-1' already on line 2",
        14: "call_id: empty",
        15: "started_at: in the future",
        16: "more cells than the header has columns",
        18: "started_at: not a date and time: '2026-11-26 25:00:00'",
    }
    reported = {int(line.split(":")[0].removeprefix("line ")): line for line in lines}
    assert sorted(reported) == sorted(expected)
    for line, reason in expected.items():
        assert reason in reported[line], reported[line]


def test_a_dry_run_checks_and_imports_nothing(tmp_path):
    path = write(
        tmp_path,
        f"{HEADER}\nD-1,2026-11-26 09:00:00,13700000000,30,,,\n"
        "D-2,bad,13700000000,30,,,\n",
    )

    out, err, error = run(path, "--dry-run")

    assert error is not None and error.returncode == 1
    assert "line 3: started_at" in err
    assert "1 good (nothing imported: dry run), rejected 1" in out
    assert not Call.objects.exists()


def test_a_byte_order_mark_is_read_as_utf8(tmp_path):
    path = write(
        tmp_path,
        f"{HEADER}\nU-1,2026-11-26 09:00:00,13700000000,30,已解答,,问路\n",
        encoding="utf-8-sig",
    )

    out, err, error = run(path)

    assert error is None, err
    assert "read as UTF-8" in out
    call = Call.objects.get()
    assert (call.external_id, call.note) == ("U-1", "问路")


def test_a_gbk_export_is_read_as_gbk(tmp_path):
    path = write(
        tmp_path,
        f"{HEADER}\nK-1,2026-11-26 09:00:00,13700000000,30,新建工单,,小区停水\n",
        encoding="gbk",
    )

    out, err, error = run(path)

    assert error is None, err
    assert "read as GBK" in out
    call = Call.objects.get()
    assert (call.outcome, call.note) == (CallOutcome.CASE_CREATED, "小区停水")


def test_an_encoding_can_be_forced(tmp_path):
    path = write(
        tmp_path,
        f"{HEADER}\nE-1,2026-11-26 09:00:00,13700000000,30,,,问路\n",
        encoding="gbk",
    )

    out, _err, error = run(path, "--encoding", "gb18030")

    assert error is None
    assert Call.objects.get().note == "问路"


def test_a_file_without_the_required_columns_imports_nothing(tmp_path):
    path = write(tmp_path, "id,time,phone\nX,2026-11-26 09:00:00,13700000000\n")

    _out, _err, error = run(path)

    assert error is not None
    assert "call_id, started_at, caller, duration" in str(error)
    assert not Call.objects.exists()


def test_a_missing_or_empty_file_is_a_clear_error(tmp_path):
    _out, _err, missing = run(tmp_path / "nope.csv")
    _out, _err, empty = run(write(tmp_path, ""))

    assert "cannot read" in str(missing)
    assert "the file is empty" in str(empty)


def test_the_columns_and_the_exit_status_are_documented_in_the_help():
    text = Command().create_parser("manage.py", "import_calls").format_help()

    for column in (
        "call_id",
        "started_at",
        "caller",
        "duration",
        "outcome",
        "case_reference",
        "summary",
    ):
        assert f"\n  {column} " in text
    assert "Asia/Shanghai" in text
    assert "GBK" in text
    assert "status 1" in text
