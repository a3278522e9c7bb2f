"""Reads: who may see which escalation, and what the screens show about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import (
    Case,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)

from escalations import rules
from escalations.models import OPEN_STATES, Escalation, Step
from policies.models import Policy
from policies.working_days import working_days_between
from staff.models import StaffMember
from staff.selectors import people_below


def visible_escalations(staff: StaffMember) -> QuerySet[Escalation]:
    """QA managers see their authority's escalations; everyone else (chairs too) only
    what involves them (docs/architecture.md §5, §8).

    Involved: raised it, it is about them, they or their line are addressed on a step,
    they were told of it (a copy or an alert: "was told" is "may see"), or one of its
    children is allocated to them or their line. Naming a child never widens this.
    """
    qs = Escalation.objects.filter(authority=staff.authority)
    if staff.is_quality_assurance:
        return qs
    line = people_below(staff) | {staff.pk}
    ids = qs.filter(
        Q(raised_by=staff)
        | Q(about_staff=staff)
        | Q(steps__responder_id__in=line)
        | Q(notifications__recipient=staff)
        | Q(children__social_worker_id__in=line)
    ).values("pk")
    return qs.filter(pk__in=ids)


def policies_for(staff: StaffMember) -> QuerySet[Policy]:
    """The policies this person may raise under, in their authority."""
    return Policy.objects.filter(
        authority=staff.authority, is_active=True, raisers=staff.role
    ).order_by("kind", "name")


@dataclass
class Clock:
    """One step's deadlines (the stage's own, the formal cap, and which one bites) and
    where it stands by the Step predicates: overdue, or awaiting the chair once answered
    (its clock stopped: no days left and never overdue)."""

    due_on: date | None
    cap_due_on: date | None
    effective: date | None
    binding: str
    days_left: int | None
    overdue: bool
    awaiting_chair: bool

    @classmethod
    def of(cls, step: Step, today: date, nation: str, closures: frozenset[date]) -> Clock:
        effective = step.effective_due_on
        days_left = None
        if effective is not None and step.is_awaiting_response:
            days_left = working_days_between(today, effective, nation=nation, closures=closures)
        return cls(
            due_on=step.due_on,
            cap_due_on=step.cap_due_on,
            effective=effective,
            binding=step.binding_clock,
            days_left=days_left,
            overdue=step.is_overdue(today),
            awaiting_chair=step.is_awaiting_chair,
        )


def escalation_rows(staff: StaffMember, escalations: Any, today: date) -> list[dict[str, Any]]:
    """Each escalation with its open step and clocks: open first, overdue first, soonest due."""
    closures = staff.authority.closure_dates()
    rows = []
    for escalation in escalations:
        step = escalation.open_step()
        clock = Clock.of(step, today, staff.authority.nation, closures) if step else None
        rows.append({"escalation": escalation, "step": step, "clock": clock})
    rows.sort(
        key=lambda r: (
            not r["escalation"].is_open,
            not (r["clock"] and r["clock"].overdue),
            r["clock"].effective if r["clock"] and r["clock"].effective else date.max,
        )
    )
    return rows


def split_decisions(
    staff: StaffMember, rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the rows whose step has been answered and waits on this person's decision, as
    the one who raised it; the rest): the chair's own section of My escalations."""
    deciding: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for row in rows:
        waits_on_me = (
            row["step"] is not None
            and row["step"].is_awaiting_chair
            and row["escalation"].raised_by_id == staff.pk
        )
        (deciding if waits_on_me else others).append(row)
    return deciding, others


def my_escalations(staff: StaffMember) -> QuerySet[Escalation]:
    """The landing list: what I raised, must answer, is about me, is on my own children
    or I was told of (QA: the authority's)."""
    qs = Escalation.objects.filter(authority=staff.authority)
    if not staff.is_quality_assurance:
        ids = qs.filter(
            Q(raised_by=staff)
            | Q(steps__responder=staff)
            | Q(about_staff=staff)
            | Q(children__social_worker=staff)
            | Q(notifications__recipient=staff)
        ).values("pk")
        qs = qs.filter(pk__in=ids)
    return (
        qs.annotate(
            open_rank=Case(
                When(state__in=OPEN_STATES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .select_related("policy", "current_stage", "raised_by__user")
        .prefetch_related("children", "steps__responder__user")
        .order_by("open_rank", "-raised_at")
    )


def awaiting_rows(staff: StaffMember, today: date) -> list[dict[str, Any]]:
    """Open steps addressed to me with no response yet, most urgent first."""
    steps = (
        Step.objects.awaiting_response()
        .filter(responder=staff)
        .select_related("escalation__policy", "escalation__raised_by__user")
        .prefetch_related("escalation__children")
    )
    closures = staff.authority.closure_dates()
    rows = [
        {
            "escalation": s.escalation,
            "step": s,
            "clock": Clock.of(s, today, staff.authority.nation, closures),
        }
        for s in steps
    ]
    rows.sort(
        key=lambda r: (
            not r["clock"].overdue,
            r["clock"].effective or date.max,
        )
    )
    return rows


def escalation_context(staff: StaffMember, escalation: Escalation, today: date) -> dict[str, Any]:
    """Everything the escalation page, its action pages and the printed record show."""
    closures = escalation.authority.closure_dates()
    # Loaded onto the escalation, so its open_step() and the rules read these rows.
    prefetch_related_objects(
        [escalation],
        Prefetch(
            "steps",
            queryset=Step.objects.select_related(
                "responder__user", "responder__role", "raised_by__user"
            )
            .prefetch_related("attachments")
            .order_by("sequence"),
        ),
    )
    steps = list(escalation.steps.all())
    step_rows = [
        {"step": s, "clock": Clock.of(s, today, escalation.authority.nation, closures)}
        for s in steps
    ]
    actions = rules.allowed_actions(staff, escalation)
    return {
        "staff": staff,
        "escalation": escalation,
        "children": list(escalation.children.all()),
        "categories": list(escalation.categories.select_related("parent")),
        "step_rows": step_rows,
        "open_step": escalation.open_step(),
        "can_escalate": rules.Action.ESCALATE in actions,
        "can_resolve": rules.Action.RESOLVE in actions,
        "can_final": rules.Action.FINAL_DECISION in actions,
        "can_withdraw": rules.Action.WITHDRAW in actions,
        "can_respond": rules.Action.RESPOND in actions,
    }
