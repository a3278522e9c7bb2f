from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from notifications.models import EmailStatus, Notification
from notifications.selectors import STUCK_AFTER, stuck_condition

STUCK = "stuck"
OPEN = "open"


class Command(BaseCommand):
    help = (
        "List notifications by the state of their e-mail: pending and failed by default, "
        "or sent, stuck or all (no personal data printed). Resend failed ones with "
        "resend_notifications."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--status",
            choices=[EmailStatus.PENDING, EmailStatus.FAILED, EmailStatus.SENT, STUCK, OPEN, "all"],
            default=OPEN,
            help=(
                "Which to list (default: open, meaning pending and failed; all: every one, "
                "sent too). Stuck: pending more than "
                f"{STUCK_AFTER.seconds // 60} minutes past its time, or past a sender's "
                "claim that ran out."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        status = options["status"]
        rows = Notification.objects.select_related("escalation")
        if status == STUCK:
            rows = rows.filter(stuck_condition(now))
            described = "stuck"
        elif status == "all":
            described = "in all"
        else:
            statuses = [EmailStatus.PENDING, EmailStatus.FAILED] if status == OPEN else [status]
            rows = rows.filter(email_status__in=statuses)
            described = " or ".join(statuses)
        stuck_ids = set(
            Notification.objects.filter(stuck_condition(now)).values_list("pk", flat=True)
        )
        count = stuck_listed = 0
        for n in rows.order_by("created_at", "pk"):
            count += 1
            stuck = n.pk in stuck_ids
            stuck_listed += stuck
            # By id alone, as the logs: a partner-agency contact's row names no staff.
            to = f"partner #{n.partner_id}" if n.partner_id else f"staff #{n.recipient_id}"
            self.stdout.write(
                f"#{n.pk} {n.email_status:<8} {n.kind:<18} {n.escalation.reference} "
                f"step {n.step_id} to {to} "
                f"created {timezone.localtime(n.created_at):%Y-%m-%d %H:%M} "
                f"attempts {n.attempts}{' — ' + n.last_error if n.last_error else ''}"
                + (f" — STUCK: {self._why_stuck(n, now)}" if stuck else "")
            )
        self.stdout.write(f"{count} notification(s) {described}.")
        if stuck_listed:
            self.stdout.write(
                f"{stuck_listed} of them stuck: is the relay running (manage.py run_relay, "
                "or run_scheduler --loop), and can it reach the database and the broker?"
            )

    @staticmethod
    def _why_stuck(n: Notification, now: datetime) -> str:
        if n.claimed_until is not None and n.claimed_until < now - STUCK_AFTER:
            return f"claimed until {timezone.localtime(n.claimed_until):%Y-%m-%d %H:%M}, not sent"
        return f"due since {timezone.localtime(n.next_attempt_at):%Y-%m-%d %H:%M}"
