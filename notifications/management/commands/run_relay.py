"""The outbox relay as a process: `manage.py run_relay` (docker-compose's `relay`).

Hands due notifications to the Celery workers (or sends them itself without a broker)
within seconds of commit; see notifications/relay.py.
"""

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from notifications.relay import RelayReport, relay_once, run_relay


class Command(BaseCommand):
    help = "Move due e-mails from the outbox to the workers (or send them): once, or until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            report = relay_once(now=timezone.now())
            self.stdout.write("; ".join(report.lines()) or "relay: nothing due")
            return
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write("Relay running: woken by new notifications, else every 2 seconds.")
        run_relay(should_stop=lambda: stopping, on_report=self._print)

    def _print(self, report: RelayReport) -> None:
        if lines := report.lines():
            self.stdout.write(f"{timezone.localtime():%H:%M:%S} " + "; ".join(lines))
