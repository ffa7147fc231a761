"""Point the default Wagtail site at the address the public site is served on."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from wagtail.models import Site

DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_address(address: str) -> tuple[str, int]:
    """The hostname and port of ``http://host:port`` (the scheme's port if none)."""
    parts = urlsplit(address.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise CommandError(
            f"Give an address such as http://127.0.0.1:8000, not {address!r}."
        )
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as error:
        raise CommandError(f"{address!r} has no valid port.") from error
    if parts.scheme == "https" and port != 443:
        # Wagtail's Site.root_url writes https only for port 443.
        raise CommandError("An https address must use port 443.")
    if parts.scheme == "http" and port == 443:
        raise CommandError("Port 443 is read as https; give https://host.")
    return parts.hostname, port


class Command(BaseCommand):
    help = (
        "Set the default site's hostname and port to ADDRESS, so that feeds, the "
        "sitemap and the back office's links name the address readers use."
    )

    def add_arguments(self, parser):
        parser.add_argument("address", help="for example http://127.0.0.1:8000")

    def handle(self, *args, address: str, **options):
        hostname, port = parse_address(address)
        with transaction.atomic():
            site = Site.objects.select_for_update().filter(is_default_site=True).first()
            if site is None:
                raise CommandError("There is no default site; load the demo first.")
            clash = (
                Site.objects.filter(hostname=hostname, port=port)
                .exclude(pk=site.pk)
                .first()
            )
            if clash is not None:
                raise CommandError(
                    f"The site {clash} already answers {hostname}:{port}."
                )
            if (site.hostname, site.port) != (hostname, port):
                site.hostname, site.port = hostname, port
                # Saving a site clears Wagtail's root paths and the page cache
                # (newsroom.receivers).
                site.save()
        self.stdout.write(f"The site answers at {site.root_url}/")
