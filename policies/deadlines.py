"""Deadlines for stages and the formal cap, from policies/working_days.py.

Takes aware datetimes (stored in UTC) and works on the Europe/London calendar date.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from policies.models import DayType, LocalAuthority, Policy, Stage
from policies.working_days import add_working_days, deadline_for, next_working_day_on_or_after


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

    `response_days` overrides the stage's own days where the chair sets the timescale.
    """
    closures = authority.closure_dates() if closures is None else closures
    day = local_date(received_at)
    received_on = next_working_day_on_or_after(day, nation=authority.nation, closures=closures)
    days = response_days if response_days is not None else stage.response_days
    due = deadline_for(
        day,
        days,
        day_type=stage.day_type or DayType.WORKING,
        nation=authority.nation,
        closures=closures,
    )
    return received_on, due


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
