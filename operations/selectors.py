"""What the health endpoint and the status page report: each rule written once here.

Counts and times only: nothing here may name a child, a member of staff or a case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q

from notifications.models import EmailStatus, Notification
from notifications.selectors import stuck_condition
from operations.models import SweepRun


def sweep_alert_after() -> timedelta:
    return timedelta(minutes=settings.SWEEP_ALERT_MINUTES)


@dataclass(frozen=True)
class SweepState:
    last_finished_at: datetime | None
    now: datetime

    @property
    def age(self) -> timedelta | None:
        return None if self.last_finished_at is None else self.now - self.last_finished_at

    @property
    def late(self) -> bool:
        """The alert condition: no successful sweep within SWEEP_ALERT_MINUTES (also
        true before the first sweep ever, since then nothing sends reminders)."""
        return self.age is None or self.age > sweep_alert_after()


def sweep_state(*, now: datetime) -> SweepState:
    last = SweepRun.objects.order_by("-finished_at").values_list("finished_at", flat=True).first()
    return SweepState(last_finished_at=last, now=now)


@dataclass(frozen=True)
class OutboxState:
    pending: int
    stuck: int
    failed: int
    oldest_pending_at: datetime | None
    now: datetime

    @property
    def oldest_pending_age(self) -> timedelta | None:
        return None if self.oldest_pending_at is None else self.now - self.oldest_pending_at

    @property
    def unhealthy(self) -> bool:
        # Stuck (notifications.selectors), not merely waiting: a pending row inside its
        # retry schedule is the outbox working as designed.
        return self.stuck > 0


def outbox_state(*, now: datetime) -> OutboxState:
    pending = Q(email_status=EmailStatus.PENDING)
    counts = Notification.objects.aggregate(
        pending=Count("pk", filter=pending),
        stuck=Count("pk", filter=stuck_condition(now)),
        failed=Count("pk", filter=Q(email_status=EmailStatus.FAILED)),
        oldest=Min("created_at", filter=pending),
    )
    return OutboxState(
        pending=counts["pending"],
        stuck=counts["stuck"],
        failed=counts["failed"],
        oldest_pending_at=counts["oldest"],
        now=now,
    )


def minutes_in_words(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return "less than a minute"
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"
