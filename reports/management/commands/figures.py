"""`manage.py figures --refresh | --check`: the stored dashboard figures (reports/figures.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalations.management.commands.run_sweep import NOW_HELP, parse_now
from reports.figures import figures_check, figures_refresh


class Command(BaseCommand):
    help = (
        "--refresh recounts the current and previous quarters' figures of every authority "
        "whose stored figures no longer match the data; --check recounts every stored "
        "section that is current and says whether each equals what is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--refresh", action="store_true", help="Recount what is stale.")
        action.add_argument(
            "--check", action="store_true", help="Recount what is stored and compare."
        )
        parser.add_argument("--now", help=NOW_HELP)

    def handle(self, *args: Any, **options: Any) -> None:
        now = parse_now(options["now"])
        if options["refresh"]:
            recounted = figures_refresh(now=now)
            self.stdout.write(f"Recounted {recounted} section(s) of figures.")
            return
        differ = figures_check(now=now)
        if differ:
            raise CommandError(
                "Stored figures differ from a recount: " + ", ".join(differ) + ". "
                "Run `manage.py figures --refresh` and report this as a bug."
            )
        self.stdout.write("Every stored section of figures equals a recount.")
