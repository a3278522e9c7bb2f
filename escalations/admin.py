"""Read-mostly: escalations change only through the services (the chair's and manager's screens)."""

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from children.services import AccessLogSubject
from escalations.models import Escalation, Step
from staff.admin_scope import AuthorityScopedAdmin, AuthorityScopedInline


class StepInline(AuthorityScopedInline, admin.StackedInline):
    model = Step
    authority_path = "escalation__authority"
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Escalation | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Escalation | None = None) -> bool:
        return False


@admin.register(Escalation)
class EscalationAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    authority_path = "authority"
    read_log_action = "escalation"
    list_display = [
        "reference",
        "authority",
        "policy",
        "state",
        "current_stage",
        "raised_by",
        "raised_at",
    ]
    list_filter = ["authority", "state", "policy"]
    list_select_related = ["authority", "policy", "current_stage", "raised_by__user"]
    date_hierarchy = "raised_at"
    inlines = [StepInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Escalation | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Escalation | None = None) -> bool:
        return False

    def access_log_subject(self, obj: Escalation) -> AccessLogSubject:
        return {"children": list(obj.children.all()), "escalation": obj}
