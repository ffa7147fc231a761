"""Load official holidays and make-up workdays into the working calendar."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tracking.calendar import (
    CalendarFileError,
    import_chinesecalendar,
    import_csv,
    missing_years,
)


class Command(BaseCommand):
    help = (
        "Import the Chinese working calendar: years from the chinesecalendar "
        "package (2004-2026) and/or a CSV file with date,is_workday,name rows."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "years",
            nargs="*",
            type=int,
            help="Years to take from chinesecalendar (default: all it knows).",
        )
        parser.add_argument("--csv", type=Path, help="CSV file: date,is_workday,name")
        parser.add_argument(
            "--no-package",
            action="store_true",
            help="Only read --csv, not the chinesecalendar package.",
        )

    def handle(self, *args, years, csv, no_package, **options):
        # All or nothing: a bad CSV also undoes the package years of the same run.
        with transaction.atomic():
            self._import(years, csv, no_package)
        from django.utils import timezone

        year = timezone.localdate().year
        for missing in missing_years([year, year + 1]):
            self.stderr.write(
                self.style.WARNING(
                    f"No official working calendar for {missing}: deadlines in it "
                    "fall back to Monday-Friday."
                )
            )

    def _import(self, years, csv, no_package):
        if not no_package:
            import chinese_calendar

            wanted = years or sorted({d.year for d in chinese_calendar.holidays})
            try:
                result = import_chinesecalendar(wanted)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"chinesecalendar: {result.created} days added, {result.updated} "
                f"updated ({min(result.years)}-{max(result.years)})"
            )
        if csv:
            try:
                with csv.open(encoding="utf-8-sig", newline="") as lines:
                    result = import_csv(lines, source=f"csv:{csv.name}")
            except OSError as exc:
                raise CommandError(f"cannot read {csv}: {exc}") from None
            except CalendarFileError as exc:
                raise CommandError(f"{csv}: {exc}") from None
            self.stdout.write(
                f"{csv.name}: {result.created} days added, {result.updated} updated "
                f"({', '.join(str(y) for y in sorted(result.years))})"
            )
