"""`manage.py subject_access_export AUTHORITY REFERENCE --by USERNAME --output FILE.zip`:
the same export as the page, for a QA manager or administrator of the child's authority
(named with --by, and logged in the access log as theirs)."""

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from children.models import Child
from records.selectors import may_export_subject_access
from records.services import subject_access_export
from staff.selectors import staff_of


class Command(BaseCommand):
    help = "Export everything held about one child as a ZIP of CSV files (logged)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("authority", help="The authority's slug, e.g. rutland.")
        parser.add_argument("reference", help="The child's case reference.")
        parser.add_argument("--by", required=True, help="Username of the person asking.")
        parser.add_argument("--output", required=True, help="Where to write the ZIP.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["by"], is_active=True).first()
        staff = staff_of(user) if user is not None else None
        if staff is None or not may_export_subject_access(staff):
            raise CommandError(
                f"{options['by']!r} is not a QA manager or administrator with an active staff "
                "record."
            )
        if staff.authority.slug != options["authority"]:
            raise CommandError(f"{options['by']!r} does not work for {options['authority']!r}.")
        child = Child.objects.filter(
            authority=staff.authority, reference=options["reference"]
        ).first()
        if child is None:
            raise CommandError(f"No child of {options['authority']!r} has that case reference.")
        output = Path(options["output"])
        if output.exists():
            raise CommandError(f"{output} exists already; choose a new file name.")
        output.write_bytes(subject_access_export(user=staff.user, child=child))
        self.stdout.write(f"Written to {output} (logged in the access log).")
