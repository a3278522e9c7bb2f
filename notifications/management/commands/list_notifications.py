from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from notifications.models import EmailStatus, Notification


class Command(BaseCommand):
    help = "List notifications whose e-mail is pending or failed (no personal data printed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--status",
            choices=[EmailStatus.PENDING, EmailStatus.FAILED, "all"],
            default="all",
            help="Which to list (default: pending and failed).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        statuses = (
            [EmailStatus.PENDING, EmailStatus.FAILED]
            if options["status"] == "all"
            else [options["status"]]
        )
        rows = Notification.objects.filter(email_status__in=statuses).select_related("escalation")
        count = 0
        for n in rows.order_by("created_at", "pk"):
            count += 1
            self.stdout.write(
                f"#{n.pk} {n.email_status:<8} {n.kind:<18} {n.escalation.reference} "
                f"step {n.step_id} to staff #{n.recipient_id} "
                f"created {timezone.localtime(n.created_at):%Y-%m-%d %H:%M} "
                f"attempts {n.attempts}{' — ' + n.last_error if n.last_error else ''}"
            )
        self.stdout.write(f"{count} notification(s) {' or '.join(statuses)}.")
