from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from children.models import AccessLog, Child, ChildProtectionPlan, Conference, SignificantEvent


class PlanInline(admin.TabularInline):
    model = ChildProtectionPlan
    extra = 0


class ConferenceInline(admin.TabularInline):
    model = Conference
    extra = 0


@admin.register(Child)
class ChildAdmin(SimpleHistoryAdmin):
    list_display = ["reference", "last_name", "first_name", "authority", "team", "social_worker"]
    list_filter = ["authority"]
    search_fields = ["reference", "last_name", "first_name"]
    inlines = [PlanInline, ConferenceInline]


@admin.register(SignificantEvent)
class SignificantEventAdmin(SimpleHistoryAdmin):
    list_display = ["child", "date", "description"]


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "action", "child", "escalation"]
    list_filter = ["action"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
