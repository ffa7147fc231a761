"""The embedded cache store: diskcache's Django backend under VAR_DIR/cache.

It must do what Django 5.2's cache API promises (the page cache counts on
``add``, ``incr`` raising ValueError for a missing key, ``get_many``...), stay
within its size limit, and be one store for every process on the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from diskcache import DjangoCache
from django.core.cache import CacheHandler

ROOT = Path(__file__).resolve().parents[2]


def open_cache(location, **options) -> DjangoCache:
    handler = CacheHandler(
        {
            "default": {
                "BACKEND": "cms.cache.PersistentDiskCache",
                "LOCATION": str(location),
                **options,
            }
        }
    )
    return handler["default"]


@pytest.fixture
def store(tmp_path):
    cache = open_cache(tmp_path / "cache")
    yield cache
    cache.close()


def test_get_set_add_and_delete(store):
    assert store.get("missing") is None
    assert store.get("missing", "default") == "default"

    assert store.set("page", {"content": b"<html>", "status": 200}) is True
    assert store.get("page") == {"content": b"<html>", "status": 200}
    assert store.has_key("page")

    assert store.add("page", "other") is False
    assert store.get("page")["status"] == 200
    assert store.add("fresh", 1, timeout=None) is True

    assert store.delete("page") is True
    assert store.delete("page") is False
    assert store.get("page") is None


def test_incr_is_atomic_and_refuses_a_missing_key(store):
    store.set("version", 41, timeout=None)
    assert store.incr("version") == 42
    assert store.incr("version", 10) == 52
    assert store.decr("version") == 51
    with pytest.raises(ValueError):
        store.incr("never-set")


def test_get_many_and_set_many(store):
    assert store.set_many({"a": 1, "b": [2], "c": "三"}) == []

    assert store.get_many(["a", "b", "c", "missing"]) == {"a": 1, "b": [2], "c": "三"}
    store.delete_many(["a", "b"])
    assert store.get_many(["a", "b", "c"]) == {"c": "三"}


def test_timeouts_and_touch(store):
    store.set("gone", 1, timeout=0)
    assert store.get("gone") is None

    store.set("kept", 1, timeout=60)
    assert store.touch("kept", timeout=None) is True
    assert store.touch("missing") is False
    _, expire_time = store.get("kept", expire_time=True)
    assert expire_time is None

    store.touch("kept", timeout=0)
    assert store.get("kept") is None


def test_versions_and_clear(store):
    store.set("key", "v1", version=1)
    store.set("key", "v2", version=2)
    assert store.get("key", version=1) == "v1"
    assert store.get("key", version=2) == "v2"

    store.clear()
    assert store.get("key", version=1) is None


def test_the_size_limit_evicts_the_oldest_entries(tmp_path):
    limit = 2 * 2**20
    store = open_cache(tmp_path / "small", SHARDS=1, OPTIONS={"size_limit": limit})
    try:
        for number in range(200):
            store.set(f"page:{number}", os.urandom(50_000))

        assert store.get("page:199") is not None
        assert store.get("page:0") is None
        # Eviction runs a bounded number of rows per write: a little over is fine.
        assert store._cache.volume() < 2 * limit
    finally:
        store.close()


CHILD = textwrap.dedent(
    """
    import sys
    from django.core.cache import CacheHandler

    location, worker, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cache = CacheHandler(
        {"default": {"BACKEND": "cms.cache.PersistentDiskCache", "LOCATION": location}}
    )["default"]
    for _ in range(rounds):
        cache.incr("hits")
    cache.set(f"seen-by-{worker}", cache.get("written-by-parent"))
    cache.close()
    """
)


def test_processes_share_the_store(tmp_path, store):
    store.set("written-by-parent", "你好", timeout=None)
    store.set("hits", 0, timeout=None)

    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path / "cache"), str(worker), "50"],
            cwd=ROOT,
        )
        for worker in range(4)
    ]
    assert [child.wait(timeout=120) for child in children] == [0, 0, 0, 0]

    assert store.get("hits") == 200
    assert store.get_many([f"seen-by-{worker}" for worker in range(4)]) == {
        f"seen-by-{worker}": "你好" for worker in range(4)
    }


def test_the_embedded_default_is_this_store_under_var(tmp_path):
    """With neither CACHE_URL nor DJANGO_CACHE, the project's cache is diskcache
    in VAR_DIR/cache, and what a management command writes there, this process
    reads."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"CACHE_URL", "DJANGO_CACHE"}
    }
    env["NEWSPLUS_VAR_DIR"] = str(tmp_path / "var")
    code = (
        "import json; from django.conf import settings; "
        "from django.core.cache import cache; "
        "cache.set('from-manage-py', 8890, timeout=None); "
        "print(json.dumps(settings.CACHES['default']))"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    config = json.loads(done.stdout.strip().splitlines()[-1])

    assert config["BACKEND"] == "cms.cache.PersistentDiskCache"
    assert config["LOCATION"] == str(tmp_path / "var" / "cache")
    assert config["OPTIONS"]["size_limit"] > 0
    shared = open_cache(config["LOCATION"], OPTIONS=config["OPTIONS"])
    try:
        assert shared.get("from-manage-py") == 8890
    finally:
        shared.close()


def test_the_store_stays_open_when_django_closes_caches_after_a_request(tmp_path):
    from django.core.cache import close_caches

    cache = open_cache(str(tmp_path / "cache"))
    cache.set("key", "value")
    shard = cache._cache._shards[0]
    connection = shard._con

    cache.close()
    close_caches()

    assert shard._con is connection
    assert cache.get("key") == "value"
