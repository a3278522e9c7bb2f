from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import Notification
from staff.models import StaffMember


def notifications_for(staff: StaffMember) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=staff).select_related("escalation", "step")


def unread_count(staff: StaffMember) -> int:
    return Notification.objects.filter(recipient=staff, read_at__isnull=True).count()
