"""`python3 dev.py run` stops its children (the web server and the scheduler) when it is
told to stop, by SIGTERM or SIGINT: nothing is left running on the port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHILD = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)"
SUPERVISOR = """
import sys
sys.path.insert(0, sys.argv[1])
import dev
child = [sys.executable, "-c", sys.argv[2]]
sys.exit(dev.supervise([child + [sys.argv[3]], child + [sys.argv[4]]]))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(paths: list[Path]) -> list[int]:
    deadline = time.monotonic() + 20
    while not all(p.exists() and p.read_text() for p in paths):
        assert time.monotonic() < deadline, "the children did not start"
        time.sleep(0.05)
    return [int(p.read_text()) for p in paths]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_dev_run_stops_its_children_when_told_to_stop(tmp_path, signum):
    pid_files = [tmp_path / "web.pid", tmp_path / "scheduler.pid"]
    supervisor = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", SUPERVISOR, str(ROOT), CHILD, *map(str, pid_files)],
        # Its own session, so only the supervisor gets the signal (as from `kill` or a
        # process manager), never the children directly.
        start_new_session=True,
    )
    children = _wait_for(pid_files)
    supervisor.send_signal(signum)
    assert supervisor.wait(timeout=20) == 0
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in children), "a child was left running"
