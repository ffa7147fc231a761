"""Issue, list or revoke the API keys of Open311 clients.

manage.py open311_key "City app"        # prints the new key, once
manage.py open311_key --revoke AbCd1234 # revokes the key starting so
manage.py open311_key --list
"""

from django.core.management.base import BaseCommand, CommandError

from tracking.open311.models import ApiClient


class Command(BaseCommand):
    help = (
        "Issue an Open311 key for a client (printed once, stored only as its "
        "digest), list the clients, or revoke a key by its first characters."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="the client's name")
        parser.add_argument(
            "--revoke", metavar="PREFIX", help="revoke the active key starting so"
        )
        parser.add_argument(
            "--list", action="store_true", dest="show_list", help="list the clients"
        )

    def handle(self, *args, name=None, revoke=None, show_list=False, **options):
        if sum(bool(x) for x in (name, revoke, show_list)) != 1:
            raise CommandError("Give a client name, --revoke PREFIX or --list.")
        if show_list:
            for client in ApiClient.objects.all():
                state = "revoked" if client.revoked_at else "active"
                used = client.last_used_at.isoformat() if client.last_used_at else "-"
                self.stdout.write(
                    f"{client.key_prefix}  {state:7}  last used {used}  {client.name}"
                )
            return
        if revoke:
            prefix = revoke.strip()[:8]
            if len(prefix) < 4:
                raise CommandError("Give at least the first 4 characters of the key.")
            # Compared here, not by the database: keys are case-sensitive, and
            # SQLite's LIKE is not.
            found = [
                c for c in ApiClient.objects.active() if c.key_prefix.startswith(prefix)
            ]
            if not found:
                raise CommandError(f"No active key starts with {prefix!r}.")
            if len(found) > 1:
                raise CommandError(
                    f"{len(found)} active keys start with {prefix!r}: revoke them "
                    "in the admin (Hotline → Open311 clients)."
                )
            found[0].revoke()
            self.stdout.write(f"Revoked the key of {found[0].name}.")
            return
        if not name.strip():
            raise CommandError("The client's name is empty.")
        if len(name.strip()) > 100:
            raise CommandError("The client's name is longer than 100 characters.")
        client, key = ApiClient.issue(name)
        self.stderr.write(
            f"Key of {client.name} (shown once, it is not stored; give it to the "
            "client):"
        )
        self.stdout.write(key)
