from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from children.models import AccessLog, Child, ChildProtectionPlan, Conference, SignificantEvent
from children.resources import ChildResource
from children.services import AccessLogSubject
from imports.admin import AuthorityImportMixin
from staff.admin_scope import AuthorityScopedAdmin, AuthorityScopedInline


class PlanInline(AuthorityScopedInline, admin.TabularInline):
    model = ChildProtectionPlan
    authority_path = "child__authority"
    extra = 0


class ConferenceInline(AuthorityScopedInline, admin.TabularInline):
    model = Conference
    authority_path = "child__authority"
    extra = 0


@admin.register(Child)
class ChildAdmin(AuthorityScopedAdmin, AuthorityImportMixin, SimpleHistoryAdmin):
    authority_path = "authority"
    read_log_action = "child"
    resource_classes = [ChildResource]
    list_display = ["reference", "last_name", "first_name", "authority", "team", "social_worker"]
    list_filter = ["authority"]
    list_select_related = ["authority", "team", "social_worker__user"]
    search_fields = ["reference", "last_name", "first_name"]
    inlines = [PlanInline, ConferenceInline]

    def access_log_subject(self, obj: Child) -> AccessLogSubject:
        return {"children": [obj]}


@admin.register(SignificantEvent)
class SignificantEventAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    authority_path = "child__authority"
    read_log_action = "significant event"
    list_display = ["child", "date", "description"]
    list_select_related = ["child"]
    autocomplete_fields = ["child"]

    def access_log_subject(self, obj: SignificantEvent) -> AccessLogSubject:
        return {"children": [obj.child]}


@admin.register(AccessLog)
class AccessLogAdmin(AuthorityScopedAdmin, admin.ModelAdmin):
    # A row names a child, an escalation or both; either one places it in an authority.
    authority_path = ("child__authority", "escalation__authority")
    list_display = ["at", "name", "username", "action", "child", "escalation"]
    list_filter = ["action"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
