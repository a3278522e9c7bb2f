#!/usr/bin/env python3
"""The two commands for a fresh machine with only Python 3.11+.

    python3 dev.py run          install, set up SQLite with the policies and demo data, and run
    python3 dev.py test         install with the test tools and run the test suite
    python3 dev.py screenshots  run the browser tests, refreshing docs/screenshots/
                                (give test files to refresh only their pictures)

Both create ./.venv on first use and reinstall only when pyproject.toml changes.
Everything runs offline after the install: no CDN, no broker needed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]}).")
    if not PY.exists():
        print("Creating the virtual environment in .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed{extras}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("Installing dependencies …", flush=True)
    subprocess.run([PY, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([PY, "-m", "pip", "install", "-q", "-e", f".{extras}"], cwd=ROOT, check=True)
    stamp.write_text(digest)


def manage(*args: str, quiet: bool = False) -> str:
    """Run a management command; with `quiet`, return its output instead of printing it."""
    done = subprocess.run([PY, "manage.py", *args], cwd=ROOT, capture_output=quiet, text=True)
    if done.returncode:
        # What it said, so a failure is not silent.
        sys.stdout.write(done.stdout or "")
        sys.stderr.write(done.stderr or "")
        sys.exit(f"manage.py {' '.join(args)} failed (exit status {done.returncode}).")
    return done.stdout if quiet else ""


class Stopped(Exception):
    """SIGTERM (or SIGINT) reached dev.py: stop the children and leave."""


def _stop(signum: int, _frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


def supervise(
    commands: list[list[str]],
    *,
    ready: Callable[[], bool] = lambda: True,
    when_ready: Callable[[], None] = lambda: None,
) -> int:
    """Run `commands` side by side until one ends or dev.py is told to stop (SIGTERM or
    SIGINT); then stop the others, so nothing is left running (no orphan on the port).

    `when_ready` runs once, as soon as `ready()` says the children are up.
    """
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    children: list[subprocess.Popen[bytes]] = []
    try:
        for command in commands:
            children.append(subprocess.Popen(command, cwd=ROOT))
        announced = False
        # Until either stops: the scheduler refuses to start when another `dev.py run`
        # (or run_scheduler) already sends this database's e-mail, and then so does this.
        while all(child.poll() is None for child in children):
            if not announced and ready():
                when_ready()
                announced = True
            time.sleep(0.2)
        return next(child.returncode for child in children if child.returncode is not None)
    except Stopped:
        return 0
    finally:
        # No more signals until the children are gone: a second Ctrl+C must not leave them.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def run() -> int:
    ensure_venv("")
    manage("migrate", "--noinput", "-v0")
    # The last line is the summary; the one line per ladder created would bury the accounts.
    print(manage("load_policies", quiet=True).strip().splitlines()[-1], flush=True)
    accounts = manage("seed_demo", "--if-empty", quiet=True).strip()
    address = os.environ.get("RUN_ADDRESS", "127.0.0.1:8000")

    def announce() -> None:
        # Last, once the server answers: what a newcomer needs is then on screen.
        print(
            f"\n{accounts}\n\nOpen http://{address}/ and sign in with a demo account above.\n",
            flush=True,
        )

    # The web server, and the deadline sweep and outbox relay (in production: Celery beat,
    # run_relay and the Celery workers).
    return supervise(
        [
            [str(PY), "manage.py", "runserver", address, "--noreload"],
            [str(PY), "manage.py", "run_scheduler", "--loop"],
        ],
        ready=lambda: _listening(address),
        when_ready=announce,
    )


# Timed against a one-second limit: run alone, after the parallel part of the suite.
FAULT_SUITE = "tests/faults"


def test(args: list[str], env: dict[str, str] | None = None) -> int:
    """The whole suite, when no arguments are given, in TEST_WORKERS processes
    (pytest-xdist; default one per core). A test file stays on one worker (--dist
    loadfile), as its module fixtures assume. With arguments, pytest runs as given (add
    `-n 2` to spread them).

    In parallel, the fault suite runs on its own afterwards: it requires each raise during
    an outage to take under a second (a raise must not wait for a broker that is down),
    and beside another worker's Chromium one took 1.2 s. On this project's two-core CI
    machine two workers ran the suite in 19 minutes against 34 in one process."""
    ensure_venv("[dev]")
    runs = [args]
    if not args:
        workers = os.environ.get("TEST_WORKERS") or str(os.cpu_count() or 1)
        if not workers.isdigit():
            sys.exit(f"TEST_WORKERS must be a whole number (it is {workers!r}).")
        runs = [[]]
        if int(workers) > 1:
            runs = [["-n", workers, "--dist", "loadfile", f"--ignore={FAULT_SUITE}"], [FAULT_SUITE]]
    failed = 0
    for run in runs:
        code = subprocess.run([PY, "-m", "pytest", *run], cwd=ROOT, env=env).returncode
        failed = failed or code
    return failed


# The pictures docs/screenshots/ keeps (the README's): `dev.py screenshots` copies these,
# and only these, from the browser tests' ignored var/screenshots/. A test may take others
# (the admin's ladder builder, the partner's reply); they stay in var/screenshots/.
README_SCREENSHOTS = (
    # Each person's home page, their To do list (tests/browser/test_keyboard_verdict.py).
    "home_chair",
    "home_team_manager",
    "home_qa_manager",
    "home_social_worker",
    # The chair's and the responder's way through (tests/browser/test_end_to_end.py).
    "raise",
    "raise_who_is_told",
    "raise_errors",
    "escalation",
    "escalation_with_cap",
    "my_escalations",
    "awaiting",
    "respond",
    "escalate",
    "record",
    "record_print",
    "child_file",
    "second_factor_setup",
    # The QA manager's reports (tests/browser/test_reports.py).
    "dashboard",
    "tracker",
)


def screenshots(args: list[str]) -> int:
    """The browser tests (or the test files and options given), then the README's
    screenshots they took copied to docs/screenshots/.

    The tests write to the ignored var/screenshots/, so running them leaves the working
    tree as it was; only this command changes docs/screenshots/, and only with pictures
    taken by this run.
    """
    taken, docs = ROOT / "var" / "screenshots", ROOT / "docs" / "screenshots"
    started = time.time()
    env = {**os.environ, "SCREENSHOTS_DIR": str(taken)}
    paths = [a for a in args if not a.startswith("-")]
    code = test(args if paths else ["tests/browser", *args], env=env)
    docs.mkdir(parents=True, exist_ok=True)
    stale = []
    for name in README_SCREENSHOTS:
        picture = taken / f"{name}.png"
        if picture.exists() and picture.stat().st_mtime >= started:
            shutil.copyfile(picture, docs / picture.name)
        else:
            stale.append(name)
    print(
        f"docs/screenshots/: {len(README_SCREENSHOTS) - len(stale)} refreshed"
        + (f"; not taken by this run: {', '.join(stale)}" if stale else ""),
        flush=True,
    )
    return code


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "run":
        sys.exit(run())
    elif command == "test":
        sys.exit(test(sys.argv[2:]))
    elif command == "screenshots":
        sys.exit(screenshots(sys.argv[2:]))
    else:
        sys.exit(__doc__)
