"""Who may see which child's record."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from children.models import Child
from escalations.selectors import people_below, visible_escalations
from staff.models import StaffMember


def visible_children(staff: StaffMember) -> QuerySet[Child]:
    """Chairs and QA see their authority's children; others their line's and their cases'."""
    qs = Child.objects.filter(authority=staff.authority)
    if staff.is_chair or staff.is_quality_assurance:
        return qs
    line = people_below(staff) | {staff.pk}
    return qs.filter(
        Q(social_worker_id__in=line) | Q(escalations__in=visible_escalations(staff).values("pk"))
    ).distinct()
