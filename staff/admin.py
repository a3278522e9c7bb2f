from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin
from axes.admin import AccessLogAdmin as AxesAccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from imports.admin import AuthorityImportMixin
from staff.admin_scope import PLATFORM, AuthorityScopedAdmin, admin_scope
from staff.models import IdentityProvider, Partner, StaffMember, Team
from staff.resources import StaffResource


@admin.register(Team)
class TeamAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    authority_path = "authority"
    list_display = ["name", "authority"]
    list_filter = ["authority"]
    search_fields = ["name", "authority__name"]
    list_select_related = ["authority"]


@admin.register(StaffMember)
class StaffMemberAdmin(AuthorityScopedAdmin, AuthorityImportMixin, SimpleHistoryAdmin):
    authority_path = "authority"
    resource_classes = [StaffResource]
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


@admin.register(Partner)
class PartnerAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    """The authority's partner directory: named people at partner agencies (police, health,
    education …) to whom a stage open to partners may be addressed. They have no account:
    they answer through an e-mailed link and a one-time code sent to the address here.
    Untick "active" rather than delete someone who has left: their replies stay theirs."""

    authority_path = "authority"
    list_display = ["name", "job_title", "organisation", "email", "authority", "is_active"]
    list_filter = ["authority", "organisation", "is_active"]
    search_fields = ["name", "job_title", "organisation", "email"]
    list_select_related = ["authority"]
    fields = ["authority", "name", "job_title", "organisation", "email", "is_active"]


@admin.register(IdentityProvider)
class IdentityProviderAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    """A council's single sign-on. Its administrator tunes it; a platform administrator
    adds it and names its secret's variable (an environment variable of the servers)."""

    authority_path = "authority"
    list_display = [
        "display_name",
        "authority",
        "subject_claim",
        "second_factor",
        "local_passwords_allowed",
        "is_active",
    ]
    list_filter = ["authority", "is_active"]
    search_fields = ["display_name", "authority__name", "email_domains"]
    list_select_related = ["authority"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not admin_scope(request).unrestricted:
            fields += ["client_secret_env"]
        return fields


# Django's and the libraries' own admins, limited the same way ---------------------------

RESTRICTED_USER_FIELDSETS = (
    (None, {"fields": ("username", "password")}),
    ("Personal info", {"fields": ("first_name", "last_name", "email")}),
    ("Permissions", {"fields": ("is_active",)}),
    ("Important dates", {"fields": ("last_login", "date_joined")}),
)


def _without_superusers(request: HttpRequest, queryset: QuerySet, user_path: str) -> QuerySet:
    # An authority administrator must never reset a superuser's password or device.
    if admin_scope(request).unrestricted:
        return queryset
    return queryset.exclude(**{f"{user_path}is_superuser": True})


admin.site.unregister(User)


@admin.register(User)
class ScopedUserAdmin(AuthorityScopedAdmin, UserAdmin):
    """An authority administrator edits their own staff's accounts, never rights."""

    authority_path = "staff__authority"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return _without_superusers(request, super().get_queryset(request), "")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and not admin_scope(request).unrestricted:
            return RESTRICTED_USER_FIELDSETS
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if admin_scope(request).unrestricted:
            return super().get_readonly_fields(request, obj)
        return ["last_login", "date_joined"]


admin.site.unregister(Group)


# GroupAdmin's stub lets `request` be None in formfield_for_manytomany; the admin always
# passes one, which the scoping needs.
@admin.register(Group)
class ScopedGroupAdmin(AuthorityScopedAdmin, GroupAdmin):  # type: ignore[misc]
    authority_path = PLATFORM


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class ScopedTOTPDeviceAdmin(AuthorityScopedAdmin, TOTPDeviceAdmin):
    """An authority administrator may see and remove (reset) a device, never its key."""

    authority_path = "user__staff__authority"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return _without_superusers(request, super().get_queryset(request), "user__")

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        if admin_scope(request).unrestricted:
            return shown
        return [name for name in shown if name != "qrcode_link"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if admin_scope(request).unrestricted:
            return fieldsets
        return [
            (title, {**options, "fields": [f for f in options["fields"] if f != "key"]})
            for title, options in fieldsets
            if options["fields"] != ["qrcode_link"]
        ]

    def config_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not admin_scope(request).unrestricted:
            raise PermissionDenied
        return super().config_view(request, pk)

    def qrcode_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not admin_scope(request).unrestricted:
            raise PermissionDenied
        return super().qrcode_view(request, pk)


for _model, _admin_class in [
    (AccessAttempt, AccessAttemptAdmin),
    (AxesAccessLog, AxesAccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
]:
    # Lock-outs are per username across the platform: only a superuser sees or clears them.
    admin.site.unregister(_model)
    admin.site.register(
        _model,
        type(
            f"Scoped{_admin_class.__name__}",
            (AuthorityScopedAdmin, _admin_class),
            {
                "authority_path": PLATFORM,
            },
        ),
    )
