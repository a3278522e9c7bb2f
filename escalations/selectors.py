"""Reads: who may see which escalation, and what the screens show about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from escalations.models import OPEN_STATES, Escalation, State, Step
from policies.models import Policy, RaisedBy
from policies.working_days import working_days_between
from staff.models import StaffMember


def staff_for(user: AbstractBaseUser | AnonymousUser) -> StaffMember | None:
    """The signed-in user's active staff record (read once per request: kept on the user)."""
    if not user.is_authenticated:
        return None
    if not hasattr(user, "_staff_record"):
        user._staff_record = (
            StaffMember.objects.select_related("role", "authority", "team", "user")
            .filter(user=user, is_active=True)
            .first()
        )
    return user._staff_record


def people_below(staff: StaffMember) -> set[int]:
    """Everyone whose line runs up to `staff` (breadth-first, safe on loops)."""
    found: set[int] = set()
    frontier = {staff.pk}
    while frontier:
        frontier = (
            set(
                StaffMember.objects.filter(
                    authority_id=staff.authority_id, line_manager_id__in=frontier
                ).values_list("pk", flat=True)
            )
            - found
            - {staff.pk}
        )
        found |= frontier
    return found


def visible_escalations(staff: StaffMember) -> QuerySet[Escalation]:
    """QA managers see their authority's escalations; everyone else (chairs too) only
    what involves them (DESIGN §8).

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
    """One step's deadlines: the stage's own, the formal cap, and which one bites."""

    due_on: date | None
    cap_due_on: date | None
    effective: date | None
    binding: str
    days_left: int | None
    overdue: bool

    @classmethod
    def of(cls, step: Step, today: date, nation: str, closures: frozenset[date]) -> Clock:
        effective = step.effective_due_on
        days_left = None
        if effective is not None and step.is_open:
            days_left = working_days_between(today, effective, nation=nation, closures=closures)
        return cls(
            due_on=step.due_on,
            cap_due_on=step.cap_due_on,
            effective=effective,
            binding=step.binding_clock,
            days_left=days_left,
            overdue=bool(step.is_open and effective and effective < today),
        )


def escalation_rows(staff: StaffMember, escalations: Any, today: date) -> list[dict[str, Any]]:
    """Each escalation with its open step and clocks: open first, overdue first, soonest due."""
    closures = staff.authority.closure_dates()
    rows = []
    for escalation in escalations:
        step = next((s for s in escalation.steps.all() if s.closed_at is None), None)
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
        Step.objects.filter(responder=staff, closed_at__isnull=True, responded_at__isnull=True)
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
    steps = list(
        escalation.steps.select_related("responder__user", "responder__role", "raised_by__user")
        .prefetch_related("attachments")
        .order_by("sequence")
    )
    step_rows = [
        {"step": s, "clock": Clock.of(s, today, escalation.authority.nation, closures)}
        for s in steps
    ]
    open_step = next((s for s in steps if s.closed_at is None), None)
    is_driver = staff.authority_id == escalation.authority_id and (
        staff.pk == escalation.raised_by_id or staff.is_quality_assurance
    )
    is_open = escalation.state in OPEN_STATES
    later = escalation.policy.stages.filter(
        order__gt=escalation.current_stage.order if escalation.current_stage else -1
    )
    qa_next = later.filter(raised_by=RaisedBy.QA_MANAGER).exists() and staff.is_quality_assurance
    return {
        "staff": staff,
        "escalation": escalation,
        "children": list(escalation.children.all()),
        "categories": list(escalation.categories.select_related("parent")),
        "step_rows": step_rows,
        "open_step": open_step,
        "can_escalate": is_open and (is_driver or qa_next) and later.exists(),
        "can_resolve": is_open and is_driver,
        "can_final": is_open
        and is_driver
        and escalation.state != State.INFORMAL
        and escalation.at_final_stage(),
        "can_withdraw": is_open and is_driver,
        "can_respond": bool(
            open_step and open_step.responder_id == staff.pk and open_step.responded_at is None
        ),
    }
