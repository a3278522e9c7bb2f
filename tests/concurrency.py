"""Running actions at the same moment, each on its own database connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction


def race(*actions: Callable[[], object], timeout: float = 60) -> list[object]:
    """Run the actions in threads released together; return each result or exception."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(i: int, action: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[i] = action()
        except Exception as exc:  # the outcome under test, whatever it is
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results


def start(action: Callable[[], object], timeout: float = 60) -> Callable[[], object]:
    """Start the action in a thread of its own; call the answer to wait for its result
    (or the exception it raised)."""
    box: list[object] = [None]

    def run() -> None:
        try:
            box[0] = action()
        except Exception as exc:  # the outcome under test, whatever it is
            box[0] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()

    def result() -> object:
        thread.join(timeout=timeout)
        assert not thread.is_alive(), "the action did not finish"
        return box[0]

    return result


@contextmanager
def held_open(action: Callable[[], object], timeout: float = 60) -> Iterator[list[object]]:
    """Run the action in a transaction on its own connection and keep that transaction
    open, its locks held and its writes unseen, until the block ends (then it commits).
    Yields a one-item list holding the action's result or exception."""
    box: list[object] = [None]
    done, release = threading.Event(), threading.Event()

    def run() -> None:
        try:
            with transaction.atomic():
                try:
                    box[0] = action()
                except Exception as exc:  # the outcome under test, whatever it is
                    box[0] = exc
                done.set()
                release.wait(timeout)
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    done.wait(timeout)
    try:
        yield box
    finally:
        release.set()
        thread.join(timeout=timeout)


def wait_for_lock_waiters(count: int = 1, timeout: float = 30) -> None:
    """Wait until `count` other connections to this database are blocked on a lock
    (PostgreSQL), so a test knows the contender is queued before it lets the holder go."""
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            (waiting,) = cursor.fetchone()
        if waiting >= count:
            return
        assert time.monotonic() < deadline, f"only {waiting} of {count} connections waited"
        time.sleep(0.05)
