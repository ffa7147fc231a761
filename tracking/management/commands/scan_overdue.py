"""Run one pass of the overdue scan: warnings, reminders, media escalation."""

from django.core.management.base import BaseCommand

from tracking.escalation import scan_overdue


class Command(BaseCommand):
    help = "One pass of the overdue scan (beat runs the same code every few minutes)."

    def handle(self, *args, **options):
        result = scan_overdue()
        self.stdout.write(
            f"warned {result.warned}, reminded {result.reminded}, "
            f"escalated {result.escalated}, stories {result.stories}"
        )
