"""The processes a fault test starts, each its own and each on 127.0.0.1: a Redis server on
a port of its own (never the machine's 6379), the SMTP sink (smtp_sink.py), a Celery
worker and the outbox relay — and the faults done to them.

Every process is started in a session of its own, so `close()` can kill it with whatever
it started, however the test ended.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

SINK = Path(__file__).with_name("smtp_sink.py")
STOP_SECONDS = 10


class StackFailure(AssertionError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(
    condition: Callable[[], bool], *, seconds: float, what: str, logs: Callable[[], str]
) -> float:
    """Poll until `condition()`; the monotonic time it became true. Fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return time.monotonic()
        if time.monotonic() >= deadline:
            raise StackFailure(f"No {what} within {seconds:.0f} s.\n{logs()}")
        time.sleep(0.2)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def database_url() -> str:
    """The test database (as pytest-django set it up), for the processes started here."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class Stack:
    """Redis, the sink, workers and relays for one test; `close()` stops them all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.redis_port = free_port()
        self.sink_port = free_port()
        self.sink_record = folder / "sink.jsonl"
        self.sink_control = folder / "sink-control.json"
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    # --- processes ---------------------------------------------------------------------

    def _start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = self.folder / f"{name}.log"
        self.logs[name] = log
        with open(log, "ab") as output:
            self.processes[name] = subprocess.Popen(  # noqa: S603 (our own command lines)
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _signal(self, name: str, signum: int) -> None:
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, signum)

    def _stop(self, name: str) -> None:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        self._signal(name, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        self._signal(name, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self._signal(name, signal.SIGKILL)
            process.wait()

    def close(self) -> None:
        """Every process stopped, all at once (killed if one will not stop in time),
        whatever state it is in."""
        for name in self.processes:
            for signum in (signal.SIGCONT, signal.SIGTERM):
                with suppress(ProcessLookupError):  # gone between the check and the signal
                    self._signal(name, signum)
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log_tail(self, characters: int = 2500) -> str:
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"--- {name}\n{text[-characters:]}")
        return "\n".join(parts)

    # --- Redis -------------------------------------------------------------------------

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def start_redis(self) -> None:
        self._start(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        wait_until(lambda: port_open(self.redis_port), seconds=10, what="Redis", logs=self.log_tail)

    def stop_redis(self) -> None:
        self._stop("redis")

    def hang_redis(self) -> None:
        self._signal("redis", signal.SIGSTOP)

    def continue_redis(self) -> None:
        self._signal("redis", signal.SIGCONT)

    # --- the SMTP sink -----------------------------------------------------------------

    def start_sink(self, **behaviour: object) -> None:
        self.sink_behaves(**(behaviour or {"mode": "accept"}))
        self._start(
            "sink",
            [
                sys.executable,
                str(SINK),
                "--port",
                str(self.sink_port),
                "--record",
                str(self.sink_record),
                "--control",
                str(self.sink_control),
            ],
        )
        wait_until(
            lambda: port_open(self.sink_port), seconds=10, what="SMTP sink", logs=self.log_tail
        )

    def sink_behaves(self, **behaviour: object) -> None:
        """Atomically: the sink reads the file afresh for every connection and message."""
        draft = self.sink_control.with_suffix(".draft")
        draft.write_text(json.dumps(behaviour))
        draft.replace(self.sink_control)

    def received(self) -> list[dict]:
        if not self.sink_record.exists():
            return []
        return [json.loads(line) for line in self.sink_record.read_text().splitlines() if line]

    # --- the worker and the relay -------------------------------------------------------

    def environment(self, name: str, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DJANGO_ENV", "DJANGO_SETTINGS_MODULE", "EMAIL_FILE_PATH")
        }
        return env | {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(settings.BASE_DIR),
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.redis_url,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.sink_port),
            "EMAIL_TIMEOUT_SECONDS": "5",
            "ESCALATION_VAR_DIR": str(self.folder / f"var-{name}"),
            "LOG_FORMAT": "text",
            # Names the process's database connections, so a test can cut them.
            "PGAPPNAME": f"faults-{name}",
            **extra,
        }

    def start_worker(self, name: str = "worker", **env: str) -> None:
        """Started, and waited for until it takes messages."""
        log = self.folder / f"{name}.log"
        already = log.read_text(errors="replace").count(" ready.") if log.exists() else 0
        self._start(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-n",
                f"{name}-{self.redis_port}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            env=self.environment(name, **env),
        )
        wait_until(
            lambda: log.read_text(errors="replace").count(" ready.") > already,
            seconds=60,
            what=f"{name} ready",
            logs=self.log_tail,
        )

    def kill_worker(self, name: str = "worker") -> None:
        self._signal(name, signal.SIGKILL)
        self.processes[name].wait()

    def start_relay(self, name: str = "relay", **env: str) -> None:
        """Started; see `wait_listening` for when it relays."""
        self._start(
            name, [sys.executable, "manage.py", "run_relay"], env=self.environment(name, **env)
        )

    def start_scheduler(self, name: str) -> None:
        """The embedded scheduler (the sweep, and the relay sending itself): no broker.
        A var/ of its own, as on another machine, so its one-per-host lock cannot see
        the other scheduler: only the outbox's claims keep them apart."""
        self._start(
            name,
            [sys.executable, "manage.py", "run_scheduler", "--loop", "--interval", "60"],
            env=self.environment(name, REDIS_URL=""),
        )

    def wait_listening(self, *names: str) -> None:
        """Until each relay or scheduler named has its LISTEN connection open: it is past
        start-up and relaying."""
        wanted = {f"faults-{name}" for name in names}

        def listening() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT DISTINCT application_name FROM pg_stat_activity "
                    "WHERE query ILIKE 'LISTEN %%'"
                )
                return wanted <= {row[0] for row in cursor.fetchall()}

        wait_until(listening, seconds=60, what=f"{', '.join(names)} listening", logs=self.log_tail)

    def cut_database_connections(self, name: str) -> int:
        """pg_terminate_backend on every connection of the process: how many were cut."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                [f"faults-{name}"],
            )
            return cursor.fetchone()[0]
