from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from simple_history.admin import SimpleHistoryAdmin

from policies.models import ClosureDay, ConcernCategory, LocalAuthority, Policy, Role, Stage
from staff.admin_scope import SHARED, AuthorityScopedAdmin, AuthorityScopedInline, admin_scope

CONFIRM_FIELD = "confirm_change_in_use"


def _in_use_unconfirmed(policy: Policy | None, data: Any) -> bool:
    return bool(policy and policy.pk and policy.is_in_use() and not data.get(CONFIRM_FIELD))


IN_USE_MESSAGE = (
    "Escalations already use this policy. Tick the confirmation box to change it: running "
    "escalations keep the deadlines they were given, and new steps use the new values."
)


class StageFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        orders = []
        for form in self.forms:
            if not getattr(form, "cleaned_data", None):
                continue
            # Deleting a stage that steps use is refused by the admin's own PROTECT check.
            if form.cleaned_data.get("DELETE"):
                continue
            orders.append(form.cleaned_data["order"])
        formal = sorted(o for o in orders if o != 0)
        if len(set(orders)) != len(orders):
            raise ValidationError(
                "Two stages have the same number. Give each stage its own number."
            )
        if formal != list(range(1, len(formal) + 1)):
            missing = sorted(set(range(1, max(formal, default=0) + 1)) - set(formal))
            raise ValidationError(
                "Formal stages must be numbered 1, 2, 3 … without gaps"
                + (f" (missing: {', '.join(map(str, missing))})." if missing else ".")
            )
        if any(form.has_changed() for form in self.forms) and _in_use_unconfirmed(
            self.instance, self.data
        ):
            raise ValidationError(IN_USE_MESSAGE)


class CategoryFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") and form.instance.pk and form.instance.escalations.exists():
                raise ValidationError(
                    f"“{form.instance}” is recorded on escalations and cannot be deleted."
                )
        if any(form.has_changed() for form in self.forms) and _in_use_unconfirmed(
            self.instance, self.data
        ):
            raise ValidationError(IN_USE_MESSAGE)


class StageInline(AuthorityScopedInline, admin.StackedInline):
    model = Stage
    authority_path = "policy__authority"
    formset = StageFormSet
    extra = 0
    ordering = ["order"]
    filter_horizontal = [
        "also_roles",
        "copy_case_line_roles",
        "copy_raiser_line_roles",
        "copy_posts",
    ]
    fields = [
        ("order", "name"),
        ("role", "mode", "raised_by", "statement_required"),
        "also_roles",
        ("response_days", "day_type", "chair_sets_timescale"),
        ("direct_entry", "final", "referral", "partner_responders"),
        # Who is copied: relationships to this case, never a whole role.
        ("copy_social_workers", "copy_raiser", "copy_earlier_recipients", "copy_qa_managers"),
        "copy_case_line_roles",
        "copy_case_line_up_to",
        "copy_raiser_line_roles",
        "copy_posts",
        "response_to_qa_managers",
        "guidance",
    ]


class CategoryInline(AuthorityScopedInline, admin.TabularInline):
    model = ConcernCategory
    authority_path = "policy__authority"
    formset = CategoryFormSet
    extra = 0
    fields = ["parent", "name", "order", "good_practice"]

    def formfield_for_foreignkey(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name == "parent":
            policy_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = ConcernCategory.objects.filter(
                policy_id=policy_id, parent__isnull=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PolicyForm(forms.ModelForm):
    confirm_change_in_use = forms.BooleanField(
        required=False,
        label="I understand escalations already use this policy",
        help_text="Needed to change a policy in use. Running escalations keep their deadlines.",
    )

    class Meta:
        model = Policy
        fields = "__all__"  # noqa: DJ007 - the admin lays the fields out itself

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if (
            self.has_changed()
            and set(self.changed_data) - {CONFIRM_FIELD}
            and _in_use_unconfirmed(self.instance, self.data)
        ):
            raise ValidationError(IN_USE_MESSAGE)
        return data


@admin.register(Policy)
class PolicyAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    authority_path = "authority"
    form = PolicyForm
    list_display = ["name", "authority", "kind", "effective_from", "is_active"]
    list_filter = ["authority", "kind", "is_active"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["raisers"]
    inlines = [StageInline, CategoryInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "authority",
                    "name",
                    "slug",
                    "kind",
                    "source",
                    "effective_from",
                    "is_active",
                    "chair_title",
                    "raisers",
                    "raise_window_working_days",
                ]
            },
        ),
        (
            "The formal process",
            {
                "fields": [
                    "formal_cap_working_days",
                    "bypass_rule",
                    "bypass_reason_required",
                    "overdue_repeat_working_days",
                    "auto_escalate_when_overdue",
                ]
            },
        ),
        ("Immediate safety", {"fields": ["immediate_safety_role", "immediate_safety_route"]}),
        ("Changing a policy in use", {"fields": [CONFIRM_FIELD]}),
    ]


class ClosureDayInline(AuthorityScopedInline, admin.TabularInline):
    model = ClosureDay
    authority_path = "authority"
    extra = 1


@admin.register(LocalAuthority)
class LocalAuthorityAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    """A superuser manages authorities; their own administrators keep its closure days."""

    authority_path = "pk"
    list_display = ["name", "slug", "nation"]
    search_fields = ["name"]
    inlines = [ClosureDayInline]

    def has_add_permission(self, request: Any) -> bool:
        return admin_scope(request).unrestricted and super().has_add_permission(request)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return admin_scope(request).unrestricted and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        if admin_scope(request).unrestricted:
            return super().get_readonly_fields(request, obj)
        return ["name", "slug", "nation"]


@admin.register(Role)
class RoleAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    authority_path = SHARED
    list_display = ["name", "slug", "is_chair", "is_quality_assurance"]
    search_fields = ["name", "slug"]


@admin.register(Stage)
class StageAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    """Read-only here: stages are edited within their policy so the ladder stays whole."""

    authority_path = "policy__authority"
    list_display = ["name", "policy", "order", "role", "response_days", "day_type"]
    list_filter = ["policy"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
