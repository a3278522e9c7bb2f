"""Celery tasks of the reports: keeping the stored figures counted."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from reports.figures import figures_refresh


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def refresh_figures() -> int:
    """Celery beat runs this every few minutes (CELERY_BEAT_SCHEDULE): after a change, the
    standing quarters are recounted before a QA manager asks for them."""
    return figures_refresh(now=timezone.now())
