import pytest
from django.db import connection

from cms import celery_app


def pytest_configure(config):
    from django.conf import settings

    # Tasks queued on commit run in-process here; real workers are tested apart.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    # Every staff factory sets a password; PBKDF2 would cost ~0.4 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture
def calendar_2026(db):
    """The official 2026 working calendar, as imported from chinesecalendar."""
    from tracking.calendar import import_chinesecalendar

    import_chinesecalendar([2025, 2026])


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"
