"""Run the deadline sweep once; `--now` runs it as at another moment (the demo clock)."""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from escalations.sweep import process_due

NOW_HELP = (
    "Run as at this moment instead of now, local time, e.g. 2026-12-10T09:00 (or a date, "
    "2026-12-10, for 09:00 that day): to see reminders and overdue alerts arrive in a demo."
)


def parse_now(value: str | None) -> datetime:
    """The moment --now names (local time unless it says otherwise), else now."""
    if value is None:
        return timezone.now()
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--now {value!r} is not a date and time: give it as YYYY-MM-DDTHH:MM, "
            "for example --now 2026-12-10T09:00."
        ) from None
    if len(text) == 10:  # a date alone: the start of the working day
        moment = moment.replace(hour=9)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "Run the deadline sweep once and print what it created (safe to repeat)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help=NOW_HELP)

    def handle(self, *args: Any, **options: Any) -> None:
        now = parse_now(options["now"])
        report = process_due(now)
        total = sum(report.created.values())
        self.stdout.write(f"Sweep as at {timezone.localtime(now):%a %d %b %Y %H:%M}:")
        for line in report.lines():
            self.stdout.write(f"  {line}")
        if total:
            self.stdout.write(
                f"{total} notification(s) created. They wait in the outbox until the relay "
                "sends them: `dev.py run` (or `manage.py run_scheduler`) does that."
            )
