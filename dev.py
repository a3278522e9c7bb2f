#!/usr/bin/env python3
"""The two commands for a fresh machine with only Python 3.11+.

    python3 dev.py run    install, set up SQLite with the policies and demo data, and run
    python3 dev.py test   install with the test tools and run the test suite

Both create ./.venv on first use and reinstall only when pyproject.toml changes.
Everything runs offline after the install: no CDN, no broker needed.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
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


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def run() -> None:
    ensure_venv("")
    manage("migrate", "--noinput", "-v0")
    manage("load_policies")
    manage("seed_demo", "--if-empty")
    address = os.environ.get("RUN_ADDRESS", "127.0.0.1:8000")
    print(f"\nOpen http://{address}/ and sign in with a demo account above.\n", flush=True)
    # The web server, and the deadline sweep and outbox relay (in production: Celery beat,
    # run_relay and the Celery workers).
    children = [
        subprocess.Popen([PY, "manage.py", "runserver", address, "--noreload"], cwd=ROOT),
        subprocess.Popen([PY, "manage.py", "run_scheduler", "--loop"], cwd=ROOT),
    ]
    try:
        # Until either stops: the scheduler refuses to start when another `dev.py run`
        # (or run_scheduler) already sends this database's e-mail, and then so does this.
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
            child.wait()


def test(args: list[str]) -> int:
    ensure_venv("[dev]")
    return subprocess.run([PY, "-m", "pytest", *args], cwd=ROOT).returncode


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "run":
        run()
    elif command == "test":
        sys.exit(test(sys.argv[2:]))
    else:
        sys.exit(__doc__)
