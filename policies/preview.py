"""The admin's deadline preview: every stage's dates for a moment an administrator picks.

Read-only. The dates come from policies/deadlines.py (stage_deadline, issue_by_deadline,
formal_cap_deadline), the functions the raise and the sweep use, so the preview can never disagree with what an escalation would be given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from policies.deadlines import (
    falls_on_day_off,
    formal_cap_deadline,
    issue_by_deadline,
    local_date,
    stage_deadline,
)
from policies.models import CalendarDayOff, DayType, Policy, Stage


@dataclass(frozen=True)
class StagePreview:
    stage: Stage
    timescale: str
    due_on: date | None
    due_on_day_off: bool
    issue_by: date | None
    issue_by_day_off: bool
    issue_within: str

    @property
    def counts_calendar_days(self) -> bool:
        return self.stage.day_type == DayType.CALENDAR


@dataclass(frozen=True)
class DeadlinePreview:
    at: datetime
    picked_on: date
    received_on: date
    stages: list[StagePreview]
    cap: date | None
    cap_days: int | None
    moves_calendar_days_off: bool

    @property
    def received_later(self) -> bool:
        """Picked on a day off: the clocks start from the next working day."""
        return self.received_on != self.picked_on


def _days_label(days: int, day_type: str) -> str:
    unit = "working day" if day_type != DayType.CALENDAR else "calendar day"
    return f"{days} {unit}{'s' if days != 1 else ''}"


def deadline_preview(*, policy: Policy, at: datetime) -> DeadlinePreview:
    """Each stage as if raised at `at`; its issue-by date as if the stage before it (or the
    conference, for the first) ended at `at`; and the cap of a formal process begun at `at`."""
    authority = policy.authority
    closures = authority.closure_dates()
    stages = []
    received_on = local_date(at)
    for stage in policy.stages.select_related("policy").order_by("order"):
        received_on, due = stage_deadline(
            stage=stage, authority=authority, received_at=at, closures=closures
        )
        issue_by = issue_by_deadline(
            stage=stage, authority=authority, start=local_date(at), closures=closures
        )
        stages.append(
            StagePreview(
                stage=stage,
                timescale=stage.timescale_label,
                due_on=due,
                due_on_day_off=falls_on_day_off(due, authority=authority, closures=closures),
                issue_by=issue_by,
                issue_by_day_off=falls_on_day_off(issue_by, authority=authority, closures=closures),
                issue_within=_days_label(stage.issue_within_days, stage.day_type)
                if stage.issue_within_days is not None
                else "",
            )
        )
    return DeadlinePreview(
        at=at,
        picked_on=local_date(at),
        received_on=received_on,
        stages=stages,
        cap=formal_cap_deadline(
            policy=policy, authority=authority, started_at=at, closures=closures
        ),
        cap_days=policy.formal_cap_working_days,
        moves_calendar_days_off=policy.calendar_day_off == CalendarDayOff.NEXT_WORKING_DAY,
    )
