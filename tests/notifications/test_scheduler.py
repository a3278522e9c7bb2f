"""One embedded scheduler at a time (notifications/scheduler_lock.py)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command

from notifications.scheduler_lock import SchedulerAlreadyRunning, scheduler_lock


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """The lock file of the (in-memory) test database lives in var/: here, a fresh one."""
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def signal_handlers_restored() -> Iterator[None]:
    """run_scheduler --loop installs SIGINT/SIGTERM handlers: put pytest's back; and fail
    the test (instead of hanging) if the command starts looping."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def too_long(*_: object) -> None:
        raise TimeoutError("run_scheduler started instead of refusing")

    previous_alarm = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(10)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous_alarm)
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def test_a_second_scheduler_refuses_to_start_while_one_runs(db, var_dir, signal_handlers_restored):
    # The first one running holds the lock.
    with scheduler_lock(), pytest.raises(CommandError) as refused:
        call_command("run_scheduler", "--loop")

    message = str(refused.value)
    assert "Another scheduler is already running on this database" in message
    assert str(var_dir / "scheduler.lock") in message


def test_the_lock_is_free_again_once_the_first_scheduler_stops(var_dir):
    with scheduler_lock():
        pass

    with scheduler_lock() as path:
        assert path == var_dir / "scheduler.lock"


def test_two_holders_of_the_lock_cannot_overlap(var_dir):
    with scheduler_lock(), pytest.raises(SchedulerAlreadyRunning), scheduler_lock():
        pass
