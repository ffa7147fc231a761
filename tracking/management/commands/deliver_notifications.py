"""Send the outbox's due notifications now; with --retry-given-up, try those again."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from tracking.models import OutboxMessage
from tracking.outbox import deliver_due


class Command(BaseCommand):
    help = (
        "Send every notification whose time has come (beat does this every minute). "
        "--retry-given-up first gives the ones that ran out of attempts a new start, "
        "e.g. after the mail relay was repaired."
    )

    def add_arguments(self, parser):
        parser.add_argument("--retry-given-up", action="store_true")

    def handle(self, *args, retry_given_up=False, **options):
        now = timezone.now()
        if retry_given_up:
            revived = OutboxMessage.objects.filter(
                sent_at__isnull=True, due_at__isnull=True
            ).update(due_at=now, attempts=0)
            self.stdout.write(f"given up before, trying again: {revived}")
        self.stdout.write(f"sent {deliver_due(now=now)}")
