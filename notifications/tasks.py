"""Celery tasks: only notification IDs travel in messages."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from notifications import services


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=services.MAX_ATTEMPTS,
    time_limit=60,
    soft_time_limit=45,
)
def send_notification(self, notification_id: int) -> bool:
    return services.deliver(notification_id=notification_id, now=timezone.now())


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def sweep() -> list[str]:
    """Celery beat runs this every few minutes; see CELERY_BEAT_SCHEDULE."""
    from notifications.sweep import process_due

    return process_due(timezone.now()).lines()
