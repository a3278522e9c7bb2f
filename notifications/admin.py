from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from children.services import AccessLogSubject
from notifications.models import EmailStatus, Notification
from notifications.services import notification_resend
from staff.admin_scope import AuthorityScopedAdmin
from staff.auth import signed_in_user


@admin.register(Notification)
class NotificationAdmin(AuthorityScopedAdmin, admin.ModelAdmin):
    """Read-only, but for one action: resend e-mails that failed after a day of retries."""

    authority_path = "escalation__authority"
    read_log_action = "notification"

    list_display = [
        "created_at",
        "kind",
        "escalation",
        "recipient",
        "email_status",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["email_status", "kind"]
    list_select_related = ["escalation", "recipient__user"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        # Resending changes no part of the record, only when it is tried again: whoever
        # may see an authority's notifications may send them again. The queryset the
        # action gets is already limited to that authority (AuthorityScopedAdmin).
        return self.has_view_permission(request)

    @admin.action(description="Resend the e-mail (failed ones only)", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        now = timezone.now()
        resent = skipped = 0
        for notification in queryset.order_by("pk"):
            if notification.email_status == EmailStatus.FAILED and notification_resend(
                notification=notification, actor=signed_in_user(request), now=now
            ):
                resent += 1
                self.log_change(request, notification, "Set the e-mail to be sent again.")
            else:
                skipped += 1
        if resent:
            self.message_user(
                request, f"{resent} e-mail(s) will be sent again within seconds.", messages.SUCCESS
            )
        if skipped:
            self.message_user(
                request,
                f"{skipped} left alone: only failed e-mails can be resent "
                "(pending ones are still being tried, sent ones went).",
                messages.WARNING,
            )

    def access_log_subject(self, obj: Notification) -> AccessLogSubject:
        return {"children": list(obj.escalation.children.all()), "escalation": obj.escalation}
