from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet

from notifications.models import EmailStatus, Notification
from staff.models import StaffMember

# A pending row this far past its time, or past a claim that ran out, is stuck: the relay
# (or a worker) is not running, or cannot reach the database or the broker.
STUCK_AFTER = timedelta(minutes=5)


def notifications_for(staff: StaffMember) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=staff).select_related(
        "escalation", "step", "amendment"
    )


def unread_count(staff: StaffMember) -> int:
    return Notification.objects.filter(recipient=staff, read_at__isnull=True).count()


def stuck_condition(now: datetime) -> Q:
    """The one definition of a stuck e-mail (list_notifications, the admin banner)."""
    late = now - STUCK_AFTER
    return Q(email_status=EmailStatus.PENDING) & (
        Q(next_attempt_at__lt=late) | Q(claimed_until__lt=late)
    )


@dataclass(frozen=True)
class DeliveryProblems:
    failed: int
    stuck: int

    def __bool__(self) -> bool:
        return bool(self.failed or self.stuck)


def delivery_problems(*, authority_id: int | None, now: datetime) -> DeliveryProblems:
    """Failed and stuck e-mails, in one authority or (authority_id None) everywhere."""
    rows = Notification.objects.exclude(email_status=EmailStatus.SENT)
    if authority_id is not None:
        rows = rows.filter(escalation__authority_id=authority_id)
    counts = rows.aggregate(
        failed=Count("pk", filter=Q(email_status=EmailStatus.FAILED)),
        stuck=Count("pk", filter=stuck_condition(now)),
    )
    return DeliveryProblems(failed=counts["failed"], stuck=counts["stuck"])
