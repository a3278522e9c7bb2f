from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from staff.models import StaffMember, Team


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name", "authority"]
    list_filter = ["authority"]
    search_fields = ["name"]


@admin.register(StaffMember)
class StaffMemberAdmin(SimpleHistoryAdmin):
    list_display = [
        "display_name",
        "authority",
        "role",
        "team",
        "line_manager",
        "agency",
        "is_active",
    ]
    list_filter = ["authority", "role", "is_active"]
    search_fields = ["user__first_name", "user__last_name", "user__username", "job_title"]
    autocomplete_fields = ["user", "line_manager"]
    list_select_related = ["user", "authority", "role", "team", "line_manager__user"]
