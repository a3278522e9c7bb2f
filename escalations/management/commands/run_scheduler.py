"""The embedded scheduler for a laptop: the deadline sweep and the outbox relay.

`python3 dev.py run` starts it beside the web server. With --loop it relays every
2 seconds (sooner when PostgreSQL says rows were committed) and sweeps every --interval
seconds; one at a time per database (notifications/scheduler_lock.py). In production
Celery beat sweeps, `run_relay` relays and the workers send (docker-compose.yml).
"""

import signal
import time
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from escalations.management.commands.run_sweep import NOW_HELP, parse_now
from escalations.sweep import process_due
from notifications.relay import POLL_SECONDS, outbox_wakeups, relay_once
from notifications.scheduler_lock import SchedulerAlreadyRunning, scheduler_lock
from notifications.services import describe_failure


class Command(BaseCommand):
    help = (
        "Run the deadline sweep and send due e-mail now, or keep running (--loop): the "
        "relay every 2 seconds, the sweep every --interval seconds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between sweeps.")
        parser.add_argument("--now", help=f"{NOW_HELP} Runs once: not with --loop.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] < 5:
            self.stderr.write("--interval must be at least 5 seconds.")
            return
        if options["now"] is not None and options["loop"]:
            raise CommandError(
                "--now runs the sweep and the relay once as at that moment; it cannot be "
                "combined with --loop."
            )
        if not options["loop"]:
            now = parse_now(options["now"])
            self._sweep(now)
            self._relay(now)
            return
        try:
            with scheduler_lock():
                self._loop(options["interval"])
        except SchedulerAlreadyRunning as exc:
            raise CommandError(
                "Another scheduler is already running on this database (it holds the lock "
                f"{exc.path}). Only one may run at a time: stop the other one (another "
                "`dev.py run` or `manage.py run_scheduler --loop`), or keep using it."
            ) from None

    def _loop(self, interval: int) -> None:
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        next_sweep = 0.0
        with outbox_wakeups() as wait:
            while not stopping:
                close_old_connections()
                if time.monotonic() >= next_sweep:
                    self._sweep()
                    next_sweep = time.monotonic() + interval
                more_due = self._relay()
                if not stopping and not more_due:
                    wait(POLL_SECONDS)

    def _sweep(self, now: datetime | None = None) -> None:
        try:
            report = process_due(now or timezone.now())
        except Exception as exc:  # keep the loop alive; the next sweep retries
            self.stderr.write(f"Sweep failed ({describe_failure(exc)}); retrying next time.")
            return
        if sum(report.created.values()):
            self._print(report.lines())

    def _relay(self, now: datetime | None = None) -> bool:
        """One relay pass; True when it stopped with rows still due."""
        try:
            report = relay_once(now=now or timezone.now())
        except Exception as exc:
            self.stderr.write(f"Relay failed ({describe_failure(exc)}); retrying in seconds.")
            return False
        if lines := report.lines():
            self._print(lines)
        return report.more_due

    def _print(self, lines: list[str]) -> None:
        self.stdout.write(f"{timezone.localtime():%H:%M:%S} " + "; ".join(lines))
