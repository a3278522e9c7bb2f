"""Reads about staff: who a signed-in user is, and who is in a person's line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Exists, OuterRef, QuerySet

from policies.models import LocalAuthority
from staff.models import StaffMember


def staff_of(user: AbstractBaseUser | AnonymousUser) -> StaffMember | None:
    """The user's active staff record, with what every page reads of it, or None.

    A request reads it once, in `StaffMiddleware` (`request.staff`); commands that act for
    a named user ask here.
    """
    if not isinstance(user, User) or not user.is_authenticated:
        return None
    staff = (
        StaffMember.objects.select_related("role", "authority", "team", "user")
        .filter(user=user, is_active=True)
        .annotate(
            closures=LocalAuthority.listed_closure_dates(OuterRef("authority")),
            # Whether anyone's line runs to them (people_below asks no query when not).
            manages_anyone=Exists(_reports_of(OuterRef("pk"), OuterRef("authority"))),
        )
        .first()
    )
    if staff is not None:
        # Nearly every page counts working days: the closure days come with the record.
        staff.authority.keep_listed_closure_dates(staff.closures)
    return staff


def _reports_of(managers: Any, authority: Any) -> QuerySet[StaffMember]:
    # Unordered: StaffMember's default order joined auth_user to sort a set.
    return StaffMember.objects.filter(authority=authority, line_manager__in=managers).order_by()


def people_below(staff: StaffMember) -> set[int]:
    """Everyone whose line runs up to `staff` (breadth-first, safe on loops). Nobody, with
    no query, for a record read by `staff_of` that manages no one (most people)."""
    if getattr(staff, "manages_anyone", True) is False:
        return set()
    found: set[int] = set()
    frontier = {staff.pk}
    while frontier:
        frontier = (
            set(_reports_of(frontier, staff.authority_id).values_list("pk", flat=True))
            - found
            - {staff.pk}
        )
        found |= frontier
    return found
