"""Celery tasks: only notification IDs travel in messages."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from notifications import services


class DeliveryFailed(Exception):
    """Carries only the error's type: Celery logs a retried task's exception, and a mail
    server's message can quote addresses."""


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(DeliveryFailed,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=services.MAX_ATTEMPTS,
    time_limit=60,
    soft_time_limit=45,
)
def send_notification(self, notification_id: int) -> bool:
    try:
        return services.deliver(notification_id=notification_id, now=timezone.now())
    except Exception as exc:
        raise DeliveryFailed(type(exc).__name__) from None


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def sweep() -> list[str]:
    """Celery beat runs this every few minutes; see CELERY_BEAT_SCHEDULE."""
    from notifications.sweep import process_due

    return process_due(timezone.now()).lines()
