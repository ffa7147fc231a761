"""Running database work in real threads, each on its own connection."""

import threading

from django.db import connection


def race(*actions, timeout: float = 60):
    """Run ``actions`` in threads released together; their results or exceptions.

    Each thread opens its own database connection and closes it at the end, so on
    PostgreSQL the actions really contend for row locks.
    """
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(index, action):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=10)
            outcomes[index] = action()
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, action))
        for index, action in enumerate(actions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
        assert not thread.is_alive(), "a racing action hung on a lock"
    return outcomes
