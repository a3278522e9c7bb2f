"""One embedded scheduler per database: an exclusive, non-blocking lock on a file.

Two `run_scheduler --loop` (two `dev.py run`, or a stray one) would each sweep and send.
The outbox's claims already stop a row being sent twice, but a second scheduler only
adds contention ("database is locked" on SQLite), so it refuses to start. The lock file
sits beside the SQLite database it guards (else in var/); the operating system releases
it when the process ends, however it ends.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import connection


class SchedulerAlreadyRunning(Exception):
    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def lock_path() -> Path:
    db = connection.settings_dict
    name = str(db.get("NAME") or "")
    if (
        connection.vendor == "sqlite"
        and name
        and not name.startswith("file:")
        and (name != ":memory:")
    ):
        return Path(f"{name}.scheduler.lock")
    return Path(settings.VAR_DIR) / "scheduler.lock"


def _try_lock(handle: IO[str]) -> bool:
    # sys.platform rather than os.name: mypy checks only the branch for this platform.
    if sys.platform == "win32":  # pragma: no cover - Windows laptops
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        # flock: held per open file, so even a second scheduler in this same process
        # (the tests) is refused.
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def scheduler_lock() -> Iterator[Path]:
    """Hold the scheduler lock, or raise SchedulerAlreadyRunning at once (no waiting)."""
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 (held open for the lock's lifetime)
    try:
        if not _try_lock(handle):
            raise SchedulerAlreadyRunning(path)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield path
    finally:
        handle.close()  # closing the file releases the lock
