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


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the default language: a request to /en/ activates
    English for the rest of its thread, which the next test must not inherit."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts and ends with an empty cache: pages, tag versions and
    censor-rule lists of a rolled-back test must not reach the next one."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def calendar_2026(db):
    """The official 2026 working calendar, as imported from chinesecalendar."""
    from tracking.calendar import import_chinesecalendar

    import_chinesecalendar([2025, 2026])


@pytest.fixture
def broker_down(monkeypatch):
    """Queuing a notification fails as it does when the broker refuses connections.

    (The real outage, with a real worker and Redis, is in test_reliability.py.)
    """
    from kombu.exceptions import OperationalError

    from tracking import tasks

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Refused.")

    monkeypatch.setattr(tasks.deliver_notification, "delay", refuse)


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def hot_tracking_site(transactional_db):
    """Role groups, the root collection and the site tree down to the Hot Tracking
    column, made again.

    Transactional tests flush every table when they end, including what the data
    migrations made. ``serialized_rollback`` cannot bring it back here: after a
    flush, deserialising a Wagtail page or task creates content types as a side
    effect, and the next content type restored then collides with them.
    """
    from django.apps import apps
    from django.conf import settings
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Collection, Locale, Page

    from newsroom.models import ColumnPage, HomePage
    from tracking.roles import sync_role_groups

    sync_role_groups(apps)
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    # Images need the root collection the migrations made.
    Collection.get_first_root_node() or Collection.add_root(name="Root")
    root = Page.get_first_root_node() or Page.add_root(
        instance=Page(title="Root", slug="root")
    )
    home = HomePage.objects.first() or root.add_child(
        instance=HomePage(title="8890 News+", slug="home")
    )
    if not ColumnPage.objects.filter(is_hot_tracking=True).exists():
        home.add_child(
            instance=ColumnPage(
                title="热点追踪", slug="hot-tracking", is_hot_tracking=True
            )
        )


@pytest.fixture
def private_storage(settings, tmp_path):
    """Citizens' photos go to a directory of the test's own (returned), in the
    same storage class as production (no public URL)."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "cms.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root
