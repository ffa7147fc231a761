import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_page_cache():
    """Every newsroom test starts and ends with an empty public page cache."""
    cache.clear()
    yield
    cache.clear()
