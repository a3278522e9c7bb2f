"""What the running system records about itself (no personal data)."""

from __future__ import annotations

from django.db import models


class SweepRun(models.Model):
    """A deadline sweep that finished. The health endpoint reads the latest one: in the
    database, so it survives a restart of every process, and the web processes see what the
    beat/scheduler process did."""

    finished_at = models.DateTimeField(db_index=True)
    notifications_created = models.PositiveIntegerField(default=0)
    auto_escalated = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-finished_at", "-pk"]
        get_latest_by = "finished_at"

    def __str__(self) -> str:
        return f"Sweep finished {self.finished_at:%d %b %Y %H:%M}"
