"""Reads: who may see which escalation, and the lists people work from."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from escalations.models import OPEN_STATES, Escalation, Step
from staff.models import StaffMember


def staff_for(user: AbstractBaseUser | AnonymousUser) -> StaffMember | None:
    if not user.is_authenticated:
        return None
    return (
        StaffMember.objects.select_related("role", "authority", "team")
        .filter(user=user, is_active=True)
        .first()
    )


def visible_escalations(staff: StaffMember) -> QuerySet[Escalation]:
    """Chairs and QA see their authority's escalations; everyone else what involves them.

    A manager sees what is addressed to them and to anyone in their line below them.
    """
    qs = Escalation.objects.filter(authority=staff.authority)
    if staff.is_chair or staff.is_quality_assurance:
        return qs
    line = _people_below(staff) | {staff.pk}
    return qs.filter(
        Q(raised_by_id__in=line)
        | Q(steps__responder_id__in=line)
        | Q(about_staff=staff)
        | Q(children__social_worker_id__in=line)
    ).distinct()


def _people_below(staff: StaffMember) -> set[int]:
    """Everyone whose line runs up to `staff` (breadth-first, safe on loops)."""
    found: set[int] = set()
    frontier = {staff.pk}
    while frontier:
        frontier = (
            set(
                StaffMember.objects.filter(line_manager_id__in=frontier).values_list(
                    "pk", flat=True
                )
            )
            - found
            - {staff.pk}
        )
        found |= frontier
    return found


def my_escalations(staff: StaffMember) -> QuerySet[Escalation]:
    """The landing list: what I raised or must answer; open first."""
    qs = Escalation.objects.filter(authority=staff.authority).filter(
        Q(raised_by=staff) | Q(steps__responder=staff) | Q(about_staff=staff)
    )
    if staff.is_quality_assurance:
        qs = Escalation.objects.filter(authority=staff.authority)
    return (
        qs.distinct()
        .annotate(
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


def open_step_of(escalation: Escalation) -> Step | None:
    return next((s for s in escalation.steps.all() if s.closed_at is None), None)
