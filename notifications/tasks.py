"""Celery tasks: only notification IDs (and the relay's claim token) travel in messages."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from notifications import services

logger = logging.getLogger(__name__)


# No autoretry: the outbox schedules retries (next_attempt_at, see services.retry_delay)
# and the relay hands the row over again, so a message is never retried by Celery. Late
# acknowledgement with the settings' reject-on-worker-lost puts a message back if the
# worker dies; deliver()'s claim makes the redelivered copy a no-op unless the claim has
# expired. The hard limit is shorter than services.SEND_LEASE, so a killed send's claim
# has always outlived it.
@shared_task(acks_late=True, time_limit=40, soft_time_limit=30, ignore_result=True)
def send_notification(notification_id: int, claim: str = "") -> bool:
    """Deliver one notification; `claim` is the token the relay claimed it under."""
    try:
        return services.deliver(notification_id=notification_id, now=timezone.now(), claim=claim)
    except Exception as exc:
        # The category and type only (database / mail server / unexpected): a mail
        # server's message can quote addresses. Nothing is raised, so Celery logs nothing
        # more; the row itself holds the schedule of the next attempt.
        logger.warning(
            "Notification %s not sent (%s)", notification_id, services.describe_failure(exc)
        )
        return False
