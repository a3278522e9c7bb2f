"""Who may see an authority's figures: asked by every report page, the menu, and the
subject-access export (records/), which is for the same people."""

from __future__ import annotations

from staff.models import StaffMember


def may_view_reports(staff: StaffMember | None) -> bool:
    """QA managers and administrators of the person's own authority (the pages scope
    every figure to `staff.authority`)."""
    return bool(
        staff is not None
        and staff.is_active
        and (staff.is_quality_assurance or staff.user.is_staff)
    )
