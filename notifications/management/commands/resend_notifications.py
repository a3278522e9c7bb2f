from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from notifications.models import EmailStatus, Notification
from notifications.services import notification_resend


class Command(BaseCommand):
    help = (
        "Send failed e-mails again: every failed one (--failed) or the notifications "
        "given (--id 12 --id 15). Each goes pending with a fresh day of retries."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--failed", action="store_true", help="Every failed e-mail.")
        which.add_argument(
            "--id", type=int, action="append", dest="ids", help="A notification's number."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["failed"]:
            rows = list(Notification.objects.filter(email_status=EmailStatus.FAILED).order_by("pk"))
        else:
            wanted = sorted(set(options["ids"]))
            rows = list(Notification.objects.filter(pk__in=wanted).order_by("pk"))
            missing = sorted(set(wanted) - {n.pk for n in rows})
            if missing:
                raise CommandError(
                    "No notification numbered "
                    + ", ".join(f"#{pk}" for pk in missing)
                    + ". Nothing was resent. (manage.py list_notifications lists them.)"
                )
        resent = 0
        for notification in rows:
            if notification_resend(notification=notification, actor=None, now=now):
                resent += 1
                self.stdout.write(f"#{notification.pk} resent: pending again, sent within seconds")
            else:
                self.stdout.write(
                    f"#{notification.pk} left alone: it is {notification.email_status}, not failed"
                )
        self.stdout.write(f"{resent} notification(s) resent.")
