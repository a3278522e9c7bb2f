"""Reads about staff: who a signed-in user is, and who is in a person's line."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import OuterRef

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
        .annotate(closures=LocalAuthority.listed_closure_dates(OuterRef("authority")))
        .first()
    )
    if staff is not None:
        # Nearly every page counts working days: the closure days come with the record.
        staff.authority.keep_listed_closure_dates(staff.closures)
    return staff


def people_below(staff: StaffMember) -> set[int]:
    """Everyone whose line runs up to `staff` (breadth-first, safe on loops)."""
    found: set[int] = set()
    frontier = {staff.pk}
    while frontier:
        frontier = (
            set(
                # Unordered: StaffMember's default order joined auth_user to sort a set.
                StaffMember.objects.filter(
                    authority_id=staff.authority_id, line_manager_id__in=frontier
                )
                .order_by()
                .values_list("pk", flat=True)
            )
            - found
            - {staff.pk}
        )
        found |= frontier
    return found
