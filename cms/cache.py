"""The embedded default's cache store: diskcache, kept open between requests."""

from diskcache import DjangoCache


class PersistentDiskCache(DjangoCache):
    """diskcache's Django backend without closing its SQLite connections after
    every request.

    Django closes every cache when a request finishes; diskcache then drops its
    connections and the next request opens them again, which made each page-cache
    hit several times slower (about 1.4 ms instead of 40 µs of cache reads). Its
    connections are per thread and safe to keep, as a Redis client keeps its pool.
    """

    def close(self, **kwargs):
        pass
