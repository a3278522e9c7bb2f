"""`manage.py apply_retention [--dry-run] [--authority SLUG]`: run daily (cron, or a
scheduled job). Anonymises or deletes, as each authority chose, the closed escalations
past its retention period; prints and logs references and counts, never names."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from policies.models import LocalAuthority
from records.retention import retention_plan
from records.services import retention_apply


class Command(BaseCommand):
    help = "Anonymise or delete closed escalations past their authority's retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be done; change nothing."
        )
        parser.add_argument("--authority", help="Only this authority (its slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        authorities = LocalAuthority.objects.order_by("slug")
        if options["authority"]:
            authorities = authorities.filter(slug=options["authority"])
            if not authorities.exists():
                raise CommandError(f"No authority has the slug {options['authority']!r}.")
        now = timezone.now()
        today = timezone.localdate(now)
        for authority in authorities:
            if authority.retention_years_after_adulthood is None:
                self.stdout.write(f"{authority.slug}: no retention rule set; nothing done.")
                continue
            undated = len(retention_plan(authority=authority, today=today).kept_undated)
            outcomes = retention_apply(
                authority=authority, today=today, now=now, dry_run=options["dry_run"]
            )
            for outcome in outcomes:
                self.stdout.write(f"{authority.slug}: {outcome.line()}")
            if not outcomes:
                self.stdout.write(f"{authority.slug}: nothing past its retention period.")
            if undated:
                self.stdout.write(
                    f"{authority.slug}: {undated} closed escalation(s) kept: a child's date of "
                    "birth is not recorded, so the period cannot be worked out."
                )
