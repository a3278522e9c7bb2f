"""Load a council's staff or children from a large export, outside the admin's time limits."""

from __future__ import annotations

import getpass
import time
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from import_export.formats.base_formats import CSV, XLSX

from children.resources import ChildResource
from imports.resources import AuthorityResource, column_of, result_counts, result_error_lines
from imports.services import people_import
from policies.models import LocalAuthority
from staff.resources import StaffResource

KINDS: dict[str, type[AuthorityResource]] = {"staff": StaffResource, "children": ChildResource}


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user with no name
        return "an unnamed system user"


def _read(path: Path) -> Any:
    if not path.is_file():
        raise CommandError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            return CSV().create_dataset(path.read_bytes().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise CommandError(
                f"{path.name} is not UTF-8 text: save it from Excel as “CSV UTF-8”."
            ) from None
    if suffix == ".xlsx":
        try:
            return XLSX().create_dataset(path.read_bytes())
        except Exception as error:  # openpyxl raises many kinds for a damaged file
            raise CommandError(
                f"{path.name} could not be read as a spreadsheet ({error})."
            ) from None
    raise CommandError(f"{path.name}: give a .csv or .xlsx file.")


class Command(BaseCommand):
    help = (
        "Import staff (an HR directory export) or children (a case-management report) from "
        "CSV or XLSX into one authority, matched by source ID: the admin's import, for files "
        "too large for a web page. Nothing is written if any line is bad, unless "
        "--skip-bad-rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--authority", required=True, help="The authority's slug.")
        parser.add_argument(
            "--kind",
            choices=sorted(KINDS),
            help="staff or children (default: children if the file has a reference column).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and count only.")
        parser.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="Import the good lines and leave out the bad ones.",
        )
        parser.add_argument(
            "--by", help="Username to record in the admin's log as having run the import."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        authority = LocalAuthority.objects.filter(slug=options["authority"]).first()
        if authority is None:
            raise CommandError(f"No authority with the slug “{options['authority']}”.")
        user = None
        if options["by"]:
            user = User.objects.filter(username=options["by"]).first()
            if user is None:
                raise CommandError(f"No user “{options['by']}”.")
        path: Path = options["file"]
        dataset = _read(path)
        kind = options["kind"] or (
            "children" if "reference" in {column_of(h) for h in dataset.headers or []} else "staff"
        )
        started = time.monotonic()
        result = people_import(
            resource_class=KINDS[kind],
            authority=authority,
            dataset=dataset,
            file_name=path.name,
            dry_run=options["dry_run"],
            skip_bad_rows=options["skip_bad_rows"],
            user=user,
        )
        counts = result_counts(result)
        for line in result_error_lines(result):
            self.stderr.write(line)
        what = "Dry run, nothing written" if options["dry_run"] else "Imported"
        summary = (
            f"{path.name} ({kind}) into {authority.name}, run by {_who()}: {counts}; "
            f"{time.monotonic() - started:.1f} s."
        )
        if result.has_errors() or (counts.bad and not options["skip_bad_rows"]):
            raise CommandError(
                f"Nothing {'would be' if options['dry_run'] else 'was'} imported: {summary} "
                "Correct the lines above, or run again with --skip-bad-rows."
            )
        self.stdout.write(f"{what}: {summary}")
