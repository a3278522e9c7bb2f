"""Who may see which child's record (docs/architecture.md §5, §8): written once, asked by every page."""

from __future__ import annotations

from django.db.models import QuerySet

from children.models import Child
from staff.models import StaffMember
from staff.selectors import people_below


def visible_children(staff: StaffMember) -> QuerySet[Child]:
    """Chairs and QA see their authority's children; everyone else the children allocated
    to them or to anyone in their line below them.

    A chair may chair any child's conference and must be able to find a child to raise a
    concern. Being named in an escalation never makes a child visible: that would let a
    sibling's name widen who sees the file, and spread from sibling to sibling.
    """
    qs = Child.objects.filter(authority=staff.authority)
    if staff.is_chair or staff.is_quality_assurance:
        return qs
    return qs.filter(social_worker_id__in=people_below(staff) | {staff.pk})
