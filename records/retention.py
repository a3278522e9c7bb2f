"""The retention rule (docs/architecture.md §9), written once: which closed escalations have expired.

An authority keeps a closed escalation for `retention_years_after_adulthood` years after
the youngest child it is about turns 18. With no rule set, nothing expires. Where a
child's date of birth is unknown (or the escalation names no child) the end cannot be
worked out, so the escalation is kept and counted for someone to look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from escalations.models import CLOSED_STATES, Escalation
from policies.models import LocalAuthority
from records.models import RetentionRecord

ADULT_AGE = 18


def add_years(day: date, years: int) -> date:
    """29 February moves to 1 March in a year without one (an 18th birthday in law)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def retention_ends_on(dates_of_birth: list[date | None], years: int) -> date | None:
    if not dates_of_birth or any(born is None for born in dates_of_birth):
        return None
    youngest = max(born for born in dates_of_birth if born is not None)
    return add_years(youngest, ADULT_AGE + years)


@dataclass
class RetentionPlan:
    authority: LocalAuthority
    expired: list[Escalation] = field(default_factory=list)
    kept_undated: list[Escalation] = field(default_factory=list)


def retention_plan(*, authority: LocalAuthority, today: date) -> RetentionPlan:
    plan = RetentionPlan(authority=authority)
    years = authority.retention_years_after_adulthood
    if years is None:
        return plan
    done = RetentionRecord.objects.filter(authority=authority).values("escalation_id")
    closed = (
        Escalation.objects.filter(authority=authority, state__in=CLOSED_STATES)
        .exclude(pk__in=done)
        .prefetch_related("children")
        .order_by("pk")
    )
    for escalation in closed:
        ends = retention_ends_on([c.date_of_birth for c in escalation.children.all()], years)
        if ends is None:
            plan.kept_undated.append(escalation)
        elif ends <= today:
            plan.expired.append(escalation)
    return plan
