"""Celery tasks of the escalations: the deadline sweep that beat runs."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from escalations.sweep import process_due


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def sweep() -> list[str]:
    """Celery beat runs this every few minutes; see CELERY_BEAT_SCHEDULE."""
    return process_due(timezone.now()).lines()
