from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.ladder_files import LADDER_DIR, LadderError, load_ladders, read_ladders


class Command(BaseCommand):
    help = "Load the policy ladder files (idempotent: a second run changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths",
            nargs="*",
            type=Path,
            help=f"Ladder files or folders (default: every file in {LADDER_DIR}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] = []
        for path in options["paths"] or [LADDER_DIR]:
            if path.is_dir():
                files += sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{path}: no such file or folder.")
        if not files:
            raise CommandError("No ladder files (*.yaml) found.")
        try:
            report = load_ladders(read_ladders(files))
        except LadderError as exc:
            raise CommandError(f"{exc}. Nothing was loaded.") from None
        for verb, items in (
            ("created", report.created),
            ("updated", report.updated),
            ("deleted", report.deleted),
        ):
            for item in items:
                self.stdout.write(f"{verb}: {item}")
        if report.changed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded {len(files)} ladder files: {len(report.created)} created, "
                    f"{len(report.updated)} updated, {len(report.deleted)} deleted."
                )
            )
        else:
            self.stdout.write(f"Loaded {len(files)} ladder files: nothing changed.")
