"""Import the call log exported by the telephony system (CSV)."""

from __future__ import annotations

import csv
import io
from argparse import RawDescriptionHelpFormatter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tracking.calendar import local_zone
from tracking.forms import caller_number, parse_duration
from tracking.models import Call, CallOutcome, Case, Citizen
from tracking.statistics import first_contacts, rollups

BATCH_SIZE = 1000
REQUIRED_COLUMNS = ("call_id", "started_at", "caller", "duration")
OPTIONAL_COLUMNS = ("outcome", "case_reference", "summary")
CALL_ID_LENGTH = Call._meta.get_field("external_id").max_length
REFERENCE_LENGTH = Case._meta.get_field("reference").max_length
# A telephony clock a few minutes ahead is not an error; a call next week is.
FUTURE_TOLERANCE = timedelta(minutes=5)

#: What the ``outcome`` column may say, in English or as Chinese exports do.
OUTCOMES = {
    "answered": CallOutcome.ANSWERED,
    "已解答": CallOutcome.ANSWERED,
    "case_created": CallOutcome.CASE_CREATED,
    "新建工单": CallOutcome.CASE_CREATED,
    "transferred": CallOutcome.TRANSFERRED,
    "转接": CallOutcome.TRANSFERRED,
    "follow_up": CallOutcome.FOLLOW_UP,
    "咨询进度": CallOutcome.FOLLOW_UP,
    "dropped": CallOutcome.DROPPED,
    "未接通": CallOutcome.DROPPED,
}

HELP = """\
Import calls from a telephony export: a CSV file with a header row and these
columns (in any order; other columns are ignored):

  call_id         the telephony system's call id (required, at most 64
                  characters); a call already imported is skipped, so running
                  the same file twice adds nothing
  started_at      when the call came in (required): ISO 8601 such as
                  2026-11-27T09:30:05+08:00, or YYYY-MM-DD HH:MM:SS, which is
                  read as local time (Asia/Shanghai)
  caller          the caller's number (required column; empty, "anonymous" or
                  "未知" for a withheld number); stored normalized, and linked
                  to the citizen the hotline knows by that number
  duration        the call's length in seconds (required; m:ss also read)
  outcome         optional: answered, case_created, transferred, follow_up,
                  dropped, or 已解答, 新建工单, 转接, 咨询进度, 未接通;
                  empty means answered
  case_reference  optional: the reference number of the case the call made or
                  asked about (the call then joins that case's citizen)
  summary         optional: what the call was about

The file may be UTF-8, with or without a byte-order mark; when it is not valid
UTF-8 it is read as GBK (GB18030), as Chinese exports often are, and the
summary line says so. --encoding forces one.

Every row is checked first; the good rows are then imported in batches of 1000,
and each rejected row is reported on stderr with its line number and why
(a bad date, duration or number, an unknown outcome or case, a call id given
twice in the file). The last line on stdout sums up: imported, skipped as
already present, rejected. The command exits with status 1 when any row was
rejected (the good rows are imported all the same: fix the bad ones and run
the file again, which skips what is already in), 0 otherwise.
"""


@dataclass
class Row:
    line: int
    call_id: str = ""
    received_at: datetime | None = None
    caller_phone: str = ""
    duration_seconds: int = 0
    outcome: str = CallOutcome.ANSWERED
    reference: str = ""
    note: str = ""
    errors: list[str] = field(default_factory=list)


def decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    """The file's text and the name of the encoding it was read in."""
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read the file as {encoding}: {exc}") from None
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GBK"
    except UnicodeDecodeError:
        raise CommandError(
            "the file is neither UTF-8 nor GBK; give its encoding with --encoding"
        ) from None


def records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank CSV record with the line it starts on (a quoted field may
    run over several lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous_end = 0
    for record in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if any(cell.strip() for cell in record):
            yield start, record


def parse_started_at(text: str, now: datetime) -> datetime:
    text = text.strip()
    # A date alone would silently become midnight.
    if len(text) < len("YYYY-MM-DD HH:MM"):
        raise ValueError
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone())
    if value > now + FUTURE_TOLERANCE:
        raise OverflowError
    return value


def parse_row(line: int, cells: dict[str, str], now: datetime) -> Row:
    row = Row(line=line)
    row.call_id = cells.get("call_id", "").strip()
    if not row.call_id:
        row.errors.append("call_id: empty")
    elif len(row.call_id) > CALL_ID_LENGTH:
        row.errors.append(f"call_id: longer than {CALL_ID_LENGTH} characters")

    started = cells.get("started_at", "")
    try:
        row.received_at = parse_started_at(started, now)
    except OverflowError:
        row.errors.append(f"started_at: in the future: {started.strip()!r}")
    except ValueError:
        row.errors.append(f"started_at: not a date and time: {started.strip()!r}")

    caller = cells.get("caller", "")
    try:
        row.caller_phone = caller_number(caller)
    except ValueError:
        row.errors.append(f"caller: not a phone number: {caller.strip()!r}")

    duration = cells.get("duration", "")
    try:
        row.duration_seconds = parse_duration(duration)
    except ValueError:
        row.errors.append(
            f"duration: not a number of seconds from 0 to 86400: {duration.strip()!r}"
        )

    outcome = cells.get("outcome", "").strip()
    if outcome:
        if outcome.casefold() not in OUTCOMES:
            row.errors.append(f"outcome: unknown: {outcome!r}")
        else:
            row.outcome = OUTCOMES[outcome.casefold()]

    row.reference = cells.get("case_reference", "").strip()
    if len(row.reference) > REFERENCE_LENGTH:
        row.errors.append(f"case_reference: no such case: {row.reference!r}")
    row.note = cells.get("summary", "").strip()
    return row


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the CSV export")
        parser.add_argument(
            "--encoding", help="read the file in this encoding (default: detect)"
        )
        parser.add_argument(
            "--delimiter", default=",", help="the column separator (default: ,)"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every row and report, but import nothing",
        )

    def handle(self, *args, file, encoding, delimiter, dry_run, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        if len(delimiter) != 1:
            raise CommandError("--delimiter must be one character")
        text, used = decode(data, encoding)
        now = timezone.now()

        rows = self.read(text, delimiter, now)
        self.check_duplicates(rows)
        cases = self.resolve_cases(rows)
        good = [row for row in rows if not row.errors]
        rejected = [row for row in rows if row.errors]
        for row in rejected:
            self.stderr.write(f"line {row.line}: " + "; ".join(row.errors))

        if dry_run:
            self.stdout.write(
                f"{len(rows)} rows read as {used}: {len(good)} good (nothing "
                f"imported: dry run), rejected {len(rejected)}."
            )
        else:
            imported = skipped = 0
            for batch in chunks(good, BATCH_SIZE):
                added, present = self.import_batch(batch, cases)
                imported += added
                skipped += present
            self.stdout.write(
                f"{len(rows)} rows read as {used}: imported {imported}, skipped "
                f"{skipped} already present, rejected {len(rejected)}."
            )
        if rejected:
            raise CommandError(
                f"{len(rejected)} rows rejected, see above; the good rows "
                + ("were only checked." if dry_run else "were imported."),
                returncode=1,
            )

    def read(self, text: str, delimiter: str, now: datetime) -> list[Row]:
        lines = records(text, delimiter)
        try:
            _line, header = next(lines)
        except StopIteration:
            raise CommandError("the file is empty") from None
        columns = [name.strip().removeprefix("\ufeff").lower() for name in header]
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise CommandError(
                "the header row lacks the columns: " + ", ".join(missing)
            )
        rows = []
        for line, record in lines:
            if len(record) > len(columns):
                row = Row(line=line, errors=["more cells than the header has columns"])
            else:
                cells = dict(zip(columns, record, strict=False))
                row = parse_row(line, cells, now)
            rows.append(row)
        return rows

    def check_duplicates(self, rows: list[Row]) -> None:
        first_line: dict[str, int] = {}
        for row in rows:
            if not row.call_id:
                continue
            if row.call_id in first_line:
                first = first_line[row.call_id]
                row.errors.append(f"call_id: {row.call_id!r} already on line {first}")
            else:
                first_line[row.call_id] = row.line

    def resolve_cases(self, rows: list[Row]) -> dict[str, tuple[int, int | None]]:
        """The case (id, citizen id) of every reference the file names: one query
        per thousand references; rows naming no known case are rejected."""
        references = sorted(
            {row.reference for row in rows if row.reference and not row.errors}
        )
        cases: dict[str, tuple[int, int | None]] = {}
        for chunk in chunks(references, BATCH_SIZE):
            for reference, pk, citizen_id in Case.objects.filter(
                reference__in=chunk
            ).values_list("reference", "pk", "citizen_id"):
                cases[reference] = (pk, citizen_id)
        for row in rows:
            if row.reference and not row.errors and row.reference not in cases:
                row.errors.append(f"case_reference: no such case: {row.reference!r}")
        return cases

    def import_batch(
        self, batch: list[Row], cases: dict[str, tuple[int, int | None]]
    ) -> tuple[int, int]:
        """Insert the rows not imported before; (inserted, already present)."""
        # A concurrent import of the same ids loses nothing and fails nothing: the
        # batch that lost the race is read again and inserts only what is left.
        # (Not ignore_conflicts: the calls counted in the statistics must be the
        # rows this batch inserted.)
        attempts = 3
        while True:
            try:
                with transaction.atomic():
                    calls, present = self._insert(batch, cases)
                return len(calls), len(present)
            except IntegrityError:
                attempts -= 1
                if not attempts:
                    raise

    def _insert(self, batch, cases):
        present = set(
            Call.objects.filter(
                external_id__in=[row.call_id for row in batch]
            ).values_list("external_id", flat=True)
        )
        new = [row for row in batch if row.call_id not in present]
        citizens: dict[str, int] = {}
        phones = {row.caller_phone for row in new if row.caller_phone}
        # The first citizen known by the number, as call_register takes.
        for phone, pk in (
            Citizen.objects.filter(phone__in=phones)
            .order_by("-pk")
            .values_list("phone", "pk")
        ):
            citizens[phone] = pk
        calls = []
        for row in new:
            case_id, case_citizen = cases.get(row.reference, (None, None))
            calls.append(
                Call(
                    external_id=row.call_id,
                    received_at=row.received_at,
                    caller_phone=row.caller_phone,
                    duration_seconds=row.duration_seconds,
                    outcome=row.outcome,
                    note=row.note,
                    case_id=case_id,
                    citizen_id=case_citizen or citizens.get(row.caller_phone),
                )
            )
        Call.objects.bulk_create(calls, batch_size=BATCH_SIZE)
        rollups.calls_received(call.received_at for call in calls)
        if all(call.pk is not None for call in calls):
            first_contacts.contacts_added(first_contacts.of_call(c) for c in calls)
        else:  # a database that does not return the ids of a bulk insert
            first_contacts.phones_changed(call.caller_phone for call in calls)
        return calls, present
