"""Deadlines for stages and the formal cap, from policies/working_days.py.

Takes aware datetimes (stored in UTC) and works on the Europe/London calendar date.
The raise, the sweep (through the dates the raise stores), the escalation pages and the
admin's preview all ask `stage_deadline` (and `issue_by_deadline` for the issue-by clock),
so they agree on every date.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone

from policies.models import CalendarDayOff, DayType, LocalAuthority, Policy, Stage
from policies.working_days import (
    add_working_days,
    deadline_for,
    is_working_day,
    next_working_day_on_or_after,
)


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def stage_deadline(
    *,
    stage: Stage,
    authority: LocalAuthority,
    received_at: datetime,
    response_days: int | None = None,
    closures: frozenset[date] | None = None,
) -> tuple[date, date | None]:
    """The deemed day of receipt and the stage's own deadline (None: no timescale).

    `response_days` overrides the stage's own days where the chair sets or varies the
    timescale. A calendar-day deadline that lands on a day off stays there unless the
    policy moves it to the next working day (Policy.calendar_day_off).
    """
    closures = authority.closure_dates() if closures is None else closures
    day = local_date(received_at)
    received_on = next_working_day_on_or_after(day, nation=authority.nation, closures=closures)
    days = response_days if response_days is not None else stage.response_days
    day_type = stage.day_type or DayType.WORKING
    due = deadline_for(
        day,
        days,
        day_type=day_type,
        nation=authority.nation,
        closures=closures,
    )
    if (
        due is not None
        and day_type == DayType.CALENDAR
        and stage.policy.calendar_day_off == CalendarDayOff.NEXT_WORKING_DAY
    ):
        due = next_working_day_on_or_after(due, nation=authority.nation, closures=closures)
    return received_on, due


def issue_by_deadline(
    *,
    stage: Stage | None,
    authority: LocalAuthority,
    start: date,
    closures: frozenset[date] | None = None,
) -> date | None:
    """By when `stage` must be issued, its issue-by clock (Stage.issue_within_days) started
    on `start`; None where there is no stage or it has no issue-by clock.

    Counted as the stage's own timescale is (working or calendar days, a calendar-day date
    moved off a day off where the policy says so): it is `stage_deadline` with the issue-by
    days, so the raise, the sweep and the admin's preview give the same date.
    """
    if stage is None or stage.issue_within_days is None:
        return None
    # stage_deadline works from a moment; any time on the start day gives the same date.
    _received_on, due = stage_deadline(
        stage=stage,
        authority=authority,
        received_at=timezone.make_aware(datetime.combine(start, time(12))),
        response_days=stage.issue_within_days,
        closures=closures,
    )
    return due


def falls_on_day_off(
    day: date | None, *, authority: LocalAuthority, closures: frozenset[date] | None = None
) -> bool:
    """True when a deadline lands on a weekend, bank holiday or closure day (a calendar-day
    deadline the policy keeps where it falls): the pages say so beside the date."""
    if day is None:
        return False
    closures = authority.closure_dates() if closures is None else closures
    return not is_working_day(day, nation=authority.nation, closures=closures)


def formal_cap_deadline(
    *,
    policy: Policy,
    authority: LocalAuthority,
    started_at: datetime,
    closures: frozenset[date] | None = None,
) -> date | None:
    if policy.formal_cap_working_days is None:
        return None
    closures = authority.closure_dates() if closures is None else closures
    return add_working_days(
        local_date(started_at),
        policy.formal_cap_working_days,
        nation=authority.nation,
        closures=closures,
    )
