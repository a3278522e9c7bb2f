from typing import Any

from django.contrib import admin

from notifications.models import Notification
from staff.admin_scope import AuthorityScopedAdmin


@admin.register(Notification)
class NotificationAdmin(AuthorityScopedAdmin, admin.ModelAdmin):
    """Read-only: lets administrators see what is pending or failed, and why."""

    authority_path = "escalation__authority"
    read_log_action = "notification"

    list_display = ["created_at", "kind", "escalation", "recipient", "email_status", "attempts"]
    list_filter = ["email_status", "kind"]
    list_select_related = ["escalation", "recipient__user"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def access_log_subject(self, obj: Notification) -> dict[str, Any]:
        return {"children": list(obj.escalation.children.all()), "escalation": obj.escalation}
