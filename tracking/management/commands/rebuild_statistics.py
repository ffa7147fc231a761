"""Rebuild the statistics rollups from the raw rows and report what differed."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from tracking.statistics import rollups


class Command(BaseCommand):
    help = (
        "Compute the daily statistics rollups again from the timeline, the "
        "callbacks and the call log, report every row where the live rollups "
        "differed, and replace them (with --check: only report; exit 1 if any "
        "row differs)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only compare; change nothing. Exit status 1 when rows differ.",
        )
        parser.add_argument(
            "--show",
            type=int,
            default=20,
            help="How many differing rows to list (default 20).",
        )

    def handle(self, *args, check=False, show=20, **options):
        started = time.monotonic()
        # Live updates wait while the rollups are read and replaced: a change is
        # counted once, either in the rows read or on top of the replacement.
        with transaction.atomic():
            rollups.lock_tables()
            computed = rollups.computed()
            found = rollups.differences(rollups.stored(), computed)
            if not check:
                rollups.replace(computed)
        elapsed = time.monotonic() - started
        rows = sum(len(table) for table in computed.values())
        for difference in found[:show]:
            self.stdout.write(
                f"{difference.table} {difference.key!r}: live "
                f"{difference.stored or '{}'} != computed {difference.computed or '{}'}"
            )
        if len(found) > show:
            self.stdout.write(f"… and {len(found) - show} more")
        verb = "checked" if check else "rebuilt"
        self.stdout.write(
            f"{verb} {rows} rollup rows in {elapsed:.1f} s; "
            f"{len(found)} differed from the live rollups"
        )
        if check and found:
            raise SystemExit(1)
