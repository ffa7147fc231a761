"""Load official holidays and make-up workdays into the working calendar."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from tracking.calendar import (
    CalendarFileError,
    chinesecalendar_years,
    import_chinesecalendar,
    import_csv,
    missing_years,
)

_PACKAGE_YEARS = f"{min(chinesecalendar_years())}-{max(chinesecalendar_years())}"


def _years(years) -> str:
    return ", ".join(str(year) for year in sorted(years))


class Command(BaseCommand):
    help = (
        "Import the Chinese working calendar and record each year imported as a "
        "whole, with its source and who imported it: years from the chinesecalendar "
        f"package ({_PACKAGE_YEARS}) and/or a CSV file with date,is_workday,name rows. "
        "Only a year imported as a whole counts as official; a day added by hand "
        "does not. A year of the CSV file counts as whole when the file lists, as "
        "holidays, all of that year's statutory holidays that fall on a weekday "
        "(New Year's Day, Spring Festival with its eve, Qingming, Labour Day, "
        "Dragon Boat, Mid-Autumn, National Day: the days fixed by law or by the "
        "lunar calendar, which every official calendar keeps); the rows of a year "
        "that is not whole are stored all the same, and the year stays missing."
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
        parser.add_argument(
            "--by",
            metavar="USERNAME",
            help="Who imports, recorded with each year (default: the system).",
        )

    def handle(self, *args, years, csv, no_package, by, **options):
        user = self._user(by)
        # All or nothing: a bad CSV also undoes the package years of the same run.
        with transaction.atomic():
            self._import(years, csv, no_package, user)
        year = timezone.localdate().year
        for missing in missing_years([year, year + 1]):
            self.stderr.write(
                self.style.WARNING(
                    f"No official working calendar for {missing}: deadlines in it "
                    "fall back to Monday-Friday minus the statutory holidays."
                )
            )

    def _user(self, username):
        if username is None:
            return None
        User = get_user_model()
        try:
            return User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"no user {username!r}") from None

    def _import(self, years, csv, no_package, user):
        if not no_package:
            wanted = years or sorted(chinesecalendar_years())
            try:
                result = import_chinesecalendar(wanted, by=user)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"chinesecalendar: {result.created} days added, {result.updated} "
                f"updated ({min(result.years)}-{max(result.years)}); imported as a "
                f"whole: {_years(result.official)}"
            )
        if csv:
            try:
                with csv.open(encoding="utf-8-sig", newline="") as lines:
                    result = import_csv(lines, source=f"csv:{csv.name}", by=user)
            except OSError as exc:
                raise CommandError(f"cannot read {csv}: {exc}") from None
            except CalendarFileError as exc:
                raise CommandError(f"{csv}: {exc}") from None
            self.stdout.write(
                f"{csv.name}: {result.created} days added, {result.updated} updated "
                f"({_years(result.years)}); imported as a whole: "
                f"{_years(result.official) or 'none'}"
            )
            for year, lacking in sorted(result.incomplete.items()):
                self.stderr.write(
                    self.style.WARNING(
                        f"{csv.name}: {year} is not imported as a whole: the file "
                        "does not list the statutory holidays "
                        f"{', '.join(day.isoformat() for day in lacking)} as holidays."
                    )
                )
