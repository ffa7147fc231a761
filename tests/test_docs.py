"""The README and docs/ point only inside the repository, and every admin screen
they name ("Hotline → Censor rules") is in the admin menu."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.users.models import UserProfile

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# "Menu → Item": menu labels start with a capital, items may run over a line.
SCREEN = re.compile(
    r"\b(Settings|Hotline|Reports|Help) →\s+([A-Z][a-z0-9]+(?:\s[a-z]+)?)"
)


def named_screens() -> set[tuple[str, str]]:
    found = set()
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for menu, item in SCREEN.findall(text):
            found.add((menu, re.sub(r"\s+", " ", item)))
    return found


def test_the_docs_point_to_nothing_outside_the_repository():
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        assert "../" not in text, doc.name
        for target in re.findall(
            r"`((?:docs|bench|tests|cms|tracking|newsroom)/[\w./-]+)`", text
        ):
            assert (ROOT / target.rstrip("/")).exists(), (doc.name, target)


@pytest.mark.django_db
def test_every_admin_screen_the_docs_name_is_in_the_menu(client):
    screens = named_screens()
    assert ("Hotline", "Censor rules") in screens and (
        "Settings",
        "Scheduled tasks",
    ) in screens
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    profile = UserProfile.get_for_user(admin)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(admin)
    menu = client.get(reverse("wagtailadmin_home")).content.decode()
    for menu_label, item in screens:
        assert f'"label": "{menu_label}"' in menu, menu_label
        assert re.search(rf'"label": "{re.escape(item)}[a-z ]*"', menu), item
