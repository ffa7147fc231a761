from django.core.management.base import BaseCommand

from newsroom.search import index_all


class Command(BaseCommand):
    help = "Rebuild the Chinese full-text search index from the live pages."

    def handle(self, *args, **options):
        count = index_all()
        self.stdout.write(f"Indexed {count} pages.")
