"""The embedded scheduler for a laptop: the sweep and the sender, with no broker.

`python3 dev.py run` starts it beside the web server. In production Celery beat and
workers do the same work (docker-compose.yml).
"""

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from notifications.sweep import process_due


class Command(BaseCommand):
    help = "Run the deadline sweep (and send pending e-mail) now, or every --interval seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between sweeps.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] < 5:
            self.stderr.write("--interval must be at least 5 seconds.")
            return
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        if options["loop"]:
            signal.signal(signal.SIGINT, stop)
            signal.signal(signal.SIGTERM, stop)
        while True:
            close_old_connections()
            try:
                report = process_due(timezone.now())
            except Exception as exc:  # keep the loop alive; the next sweep retries
                self.stderr.write(f"Sweep failed ({type(exc).__name__}); retrying next time.")
            else:
                created = sum(report.created.values())
                if created or report.dispatched:
                    self.stdout.write(
                        f"{timezone.localtime():%H:%M:%S} " + "; ".join(report.lines())
                    )
            if not options["loop"] or stopping:
                return
            for _ in range(options["interval"]):
                if stopping:
                    return
                time.sleep(1)
