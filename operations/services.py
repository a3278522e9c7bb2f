"""Writes for the operations records."""

from __future__ import annotations

from datetime import datetime, timedelta

from operations.models import SweepRun

# A week of runs is plenty for the status page; older rows are only noise.
KEEP_SWEEP_RUNS_FOR = timedelta(days=7)


def sweep_run_record(
    *, finished_at: datetime, notifications_created: int, auto_escalated: int
) -> SweepRun:
    """Called by the sweep itself once it has finished without an error."""
    run = SweepRun.objects.create(
        finished_at=finished_at,
        notifications_created=notifications_created,
        auto_escalated=auto_escalated,
    )
    SweepRun.objects.filter(finished_at__lt=finished_at - KEEP_SWEEP_RUNS_FOR).delete()
    return run
