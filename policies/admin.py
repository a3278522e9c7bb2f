"""Ladders, authorities, closure days and roles in Django admin (docs/architecture.md §3, §5).

The policy page stays short: one table row per stage with its main settings, the rest on
the stage's own page (the row's "Change" link); themes with their items typed one per
line, so a theme and its items are entered in one save; and a deadline preview that asks
policies/deadlines.py, as the raise and the sweep do.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from policies.models import (
    ClosureDay,
    ConcernCategory,
    LocalAuthority,
    Policy,
    RaisedBy,
    Role,
    Stage,
)
from policies.preview import DeadlinePreview, deadline_preview
from policies.working_days import is_working_day
from staff.admin_scope import SHARED, AuthorityScopedAdmin, AuthorityScopedInline, admin_scope

CONFIRM_FIELD = "confirm_change_in_use"
LONDON = ZoneInfo("Europe/London")


def _in_use_unconfirmed(policy: Policy | None, data: Any) -> bool:
    return bool(policy and policy.pk and policy.is_in_use() and not data.get(CONFIRM_FIELD))


IN_USE_MESSAGE = (
    "Escalations already use this policy. Tick the confirmation box to change it: running "
    "escalations keep the deadlines they were given, and new steps use the new values."
)


class ConfirmInUseField(forms.BooleanField):
    def __init__(self) -> None:
        super().__init__(
            required=False,
            label="I understand escalations already use this policy",
            help_text="Needed to change a policy in use. Running escalations keep their deadlines.",
        )


# --- stages -------------------------------------------------------------------------


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


def _names(roles: Any) -> str:
    return ", ".join(r.name for r in roles)


def stage_settings_summary(stage: Stage) -> str:
    """The stage's settings beyond its table row, in a line: what its own page holds."""
    parts: list[str] = []
    if also := list(stage.also_roles.all()):
        parts.append(f"or {_names(also)}")
    if stage.addresses_several:
        rule = {"all": "all reply", "any": "any replies"}.get(
            str(stage.completion), "the chair decides"
        )
        parts.append(f"several people at once ({rule})")
    if stage.partner_responders:
        parts.append("partner agencies")
    if stage.chair_sets_timescale:
        parts.append("the chair sets the timescale")
    if stage.chair_may_vary_timescale:
        parts.append("the chair may vary the timescale")
    if stage.issue_within_days is not None:
        unit = "working" if stage.day_type != "calendar" else "calendar"
        parts.append(f"issue within {stage.issue_within_days} {unit} days")
    if not stage.is_informal:
        if raisers := list(stage.raiser_roles.all()):
            parts.append(f"raised by {_names(raisers)}")
        elif stage.raised_by == RaisedBy.QA_MANAGER:
            parts.append("raised by a QA manager")
        if stage.statement_required:
            parts.append("written statement")
        if stage.optional:
            parts.append("optional")
        if stage.condition.strip():
            parts.append(f"only {stage.condition.strip()}")
        if stage.final:
            parts.append("final")
        if stage.referral:
            parts.append("referral at any point")
        copies = [
            label
            for label, on in (
                ("social workers", stage.copy_social_workers),
                ("the children's line", stage.copy_case_line_up_to_id is not None),
                ("the raiser", stage.copy_raiser),
                ("earlier recipients", stage.copy_earlier_recipients),
                ("QA managers", stage.copy_qa_managers),
            )
            if on
        ]
        roles = [
            *stage.copy_case_line_roles.all(),
            *stage.copy_raiser_line_roles.all(),
            *stage.copy_posts.all(),
        ]
        if roles:
            copies.append(_names(roles) if len(roles) == 1 else f"{len(roles)} managers")
        if copies:
            parts.append(f"copies {', '.join(copies)}")
    return "; ".join(parts) or "—"


STAGE_PREFETCH = [
    "also_roles",
    "raiser_roles",
    "copy_case_line_roles",
    "copy_raiser_line_roles",
    "copy_posts",
]


class StageInline(AuthorityScopedInline, admin.TabularInline):
    """One row per stage: what a ladder is at a glance. Everything else: the stage's page."""

    model = Stage
    authority_path = "policy__authority"
    formset = StageFormSet
    extra = 0
    ordering = ["order"]
    verbose_name_plural = "stages (0 is the informal stage; “All settings” opens the rest)"
    fields = [
        "order",
        "name",
        "role",
        "response_days",
        "day_type",
        "mode",
        "direct_entry",
        "other_settings",
    ]
    readonly_fields = ["other_settings"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related(*STAGE_PREFETCH)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(field, "widget", None)
        if db_field.name == "role" and isinstance(widget, RelatedFieldWidgetWrapper):
            # Roles are shared by every authority and added by a superuser on their own
            # page: the row needs the choice only, not the add/change/view icons under it.
            widget.can_add_related = widget.can_change_related = False
            widget.can_delete_related = widget.can_view_related = False
        return field

    @admin.display(description="other settings")
    def other_settings(self, stage: Stage) -> str:
        if stage.pk is None:
            return "Save, then “All settings” sets the rest."
        return format_html(
            '<a href="{}">All settings<span class="visually-hidden"> of {}</span></a>: {}',
            reverse("admin:policies_stage_change", args=[stage.pk]),
            stage.name,
            stage_settings_summary(stage),
        )


class StageForm(forms.ModelForm):
    confirm_change_in_use = ConfirmInUseField()

    class Meta:
        model = Stage
        fields = "__all__"  # noqa: DJ007 - the admin lays the fields out itself

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if (
            self.has_changed()
            and set(self.changed_data) - {CONFIRM_FIELD}
            and _in_use_unconfirmed(self.instance.policy, self.data)
        ):
            raise ValidationError(IN_USE_MESSAGE)
        return data


# Fields only a formal stage has; the informal stage's page leaves them out (as the
# ladder files do: docs/ladder-format.md).
STAGE_FIELDSETS: list[tuple[str | None, dict[str, Any]]] = [
    (None, {"fields": [("policy", "order"), "name", "role", "also_roles", "mode", "guidance"]}),
    (
        "Timescale",
        {
            "fields": [
                ("response_days", "day_type"),
                ("chair_sets_timescale", "chair_may_vary_timescale"),
                "issue_within_days",
            ]
        },
    ),
    (
        "Addressed to several people, or to partner agencies",
        {"fields": [("addresses_several", "completion"), "partner_responders"]},
    ),
    (
        "Who raises it",
        {
            "fields": ["raised_by", "raiser_roles", "statement_required", "statement_wanted_label"],
            "formal": True,
        },
    ),
    (
        "Entering, passing over and ending",
        {
            "fields": [("direct_entry", "optional"), "condition", ("final", "referral")],
            "formal": True,
        },
    ),
    (
        "Who is copied (relationships to the case, never a whole role)",
        {
            "fields": [
                ("copy_social_workers", "copy_raiser", "copy_earlier_recipients"),
                ("copy_qa_managers", "response_to_qa_managers"),
                "copy_case_line_roles",
                "copy_case_line_up_to",
                "copy_raiser_line_roles",
                "copy_posts",
            ],
            "formal": True,
            "classes": ["collapse"],
        },
    ),
]


@admin.register(Stage)
class StageAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    """Every setting of one stage. Stages are added, numbered and removed on the policy page,
    so the ladder stays whole; here the rest of a stage is set."""

    authority_path = "policy__authority"
    form = StageForm
    list_display = ["name", "policy", "order", "role", "response_days", "day_type"]
    list_filter = ["policy"]
    list_select_related = ["policy", "role"]
    readonly_fields = ["policy", "order"]
    filter_horizontal = STAGE_PREFETCH

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in ("condition", "guidance") and field is not None:
            field.widget.attrs["rows"] = 2 if db_field.name == "condition" else 5
        return field

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        formal = obj is None or not obj.is_informal
        fieldsets = [
            (name, {k: v for k, v in options.items() if k != "formal"})
            for name, options in STAGE_FIELDSETS
            if formal or not options.get("formal")
        ]
        if obj is not None and obj.policy.is_in_use():
            fieldsets.append(("Changing a policy in use", {"fields": [CONFIRM_FIELD]}))
        return fieldsets

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        # Back to the ladder the stage belongs to, not to a list of every stage.
        if "_continue" in request.POST or "_saveasnew" in request.POST:
            return super().response_change(request, obj)
        messages.success(request, f"“{obj}” was changed.")
        return HttpResponseRedirect(reverse("admin:policies_policy_change", args=[obj.policy_id]))


# --- categories: a theme and its items in one row -------------------------------------


def _item_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ThemeForm(forms.ModelForm):
    items_text = forms.CharField(
        label="items (one per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        help_text="Each line is one item of this theme, in this order.",
    )

    class Meta:
        model = ConcernCategory
        fields = ["name", "order", "good_practice"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["items_text"].initial = "\n".join(
                self.instance.items.order_by("order", "pk").values_list("name", flat=True)
            )

    def clean_items_text(self) -> str:
        lines = _item_lines(self.cleaned_data["items_text"])
        seen: set[str] = set()
        for line in lines:
            if line in seen:
                raise ValidationError(f"“{line}” is listed twice. List each item once.")
            if len(line) > 300:
                raise ValidationError(f"“{line[:40]}…” is longer than 300 characters.")
            seen.add(line)
        return "\n".join(lines)

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if self.instance.pk and "items_text" in self.cleaned_data:
            kept = set(_item_lines(self.cleaned_data["items_text"]))
            for item in self.instance.items.exclude(name__in=kept):
                if item.escalations.exists():
                    self.add_error(
                        "items_text",
                        f"“{item.name}” is recorded on escalations and cannot be removed or "
                        "renamed. Put it back as it was.",
                    )
        return data

    def save_items(self, theme: ConcernCategory) -> None:
        """Items follow the text: added, reordered, removed; an unchanged item is not saved."""
        lines = _item_lines(self.cleaned_data.get("items_text", ""))
        existing = {item.name: item for item in theme.items.all()}
        for order, name in enumerate(lines):
            item = existing.pop(name, None)
            if item is None:
                ConcernCategory.objects.create(
                    policy=theme.policy,
                    parent=theme,
                    name=name,
                    order=order,
                    good_practice=theme.good_practice,
                )
            elif (item.order, item.good_practice) != (order, theme.good_practice):
                item.order, item.good_practice = order, theme.good_practice
                item.save()
        for item in existing.values():
            item.delete()


class ThemeFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        names = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE"):
                theme = form.instance
                if theme.pk and (
                    theme.escalations.exists()
                    or ConcernCategory.objects.filter(
                        parent=theme, escalations__isnull=False
                    ).exists()
                ):
                    raise ValidationError(
                        f"“{theme}” or one of its items is recorded on escalations and cannot "
                        "be deleted."
                    )
                continue
            if data.get("name"):
                names.append(data["name"].strip())
        if len(set(names)) != len(names):
            raise ValidationError("Two themes have the same name. Give each its own.")
        if any(form.has_changed() for form in self.forms) and _in_use_unconfirmed(
            self.instance, self.data
        ):
            raise ValidationError(IN_USE_MESSAGE)

    def save(self, commit: bool = True) -> list[Any]:
        saved = super().save(commit=commit)
        deleted = {id(o) for o in self.deleted_objects}
        for form in self.forms:
            theme = form.instance
            if (
                commit
                and isinstance(form, ThemeForm)
                and theme.pk
                and id(theme) not in deleted
                and form.has_changed()
            ):
                form.save_items(theme)
        return saved


class CategoryInline(AuthorityScopedInline, admin.TabularInline):
    """Concern categories, two levels: each row is a theme with its items, one per line."""

    model = ConcernCategory
    authority_path = "policy__authority"
    form = ThemeForm
    formset = ThemeFormSet
    extra = 0
    fields = ["name", "items_text", "order", "good_practice"]
    verbose_name = "concern theme"
    verbose_name_plural = "concern categories (themes, each with its items)"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(parent__isnull=True)


# --- policies and the deadline preview --------------------------------------------------


class PolicyForm(forms.ModelForm):
    confirm_change_in_use = ConfirmInUseField()

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


class PreviewForm(forms.Form):
    """The moment to preview: a date (required) and a time (noon when left out)."""

    on = forms.DateField(
        label="Raised on",
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Enter the date to preview, for example 2026-11-02.",
            "invalid": "Enter a real date, for example 2026-11-02 (2 November 2026).",
        },
    )
    at = forms.TimeField(
        label="at",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Enter a time of day, for example 09:30."},
    )

    def clean_on(self) -> date:
        on = self.cleaned_data["on"]
        if not 2000 <= on.year <= 2100:
            raise ValidationError("Pick a date between the years 2000 and 2100.")
        return on

    def moment(self) -> datetime:
        at = self.cleaned_data.get("at") or time(12, 0)
        return datetime.combine(self.cleaned_data["on"], at, tzinfo=LONDON)


@admin.register(Policy)
class PolicyAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    authority_path = "authority"
    form = PolicyForm
    change_form_template = "admin/policies/policy/change_form.html"
    list_display = ["name", "authority", "kind", "effective_from", "is_active"]
    list_filter = ["authority", "kind", "is_active"]
    search_fields = ["name", "slug"]
    inlines = [StageInline, CategoryInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("authority", "kind"),
                    ("name", "slug"),
                    ("source", "effective_from", "is_active"),
                    ("chair_title", "raisers", "raise_window_working_days"),
                ]
            },
        ),
        (
            "The formal process",
            {
                "fields": [
                    ("formal_cap_working_days", "bypass_rule", "bypass_reason_required"),
                    (
                        "overdue_repeat_working_days",
                        "auto_escalate_when_overdue",
                        "calendar_day_off",
                    ),
                ]
            },
        ),
        (
            "Immediate safety",
            {
                "fields": [
                    ("immediate_safety_role", "immediate_safety_response_days"),
                    "immediate_safety_route",
                ],
                "classes": ["collapse"],
            },
        ),
    ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().add_view(request, form_url, extra_context)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.is_in_use():
            fieldsets.append(("Changing a policy in use", {"fields": [CONFIRM_FIELD]}))
        return fieldsets

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "immediate_safety_route" and field is not None:
            field.widget.attrs["rows"] = 4
        if db_field.name == "raisers" and field is not None:
            # A short list box (labelled, keyboard-usable): a policy names one or two of the
            # platform's roles, and a two-pane selector would take a third of the page.
            field.widget.attrs["size"] = 6
        return field

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # The ladder is a wide table: the page takes the whole width (breadcrumbs lead back).
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        policy = self.get_object(request, unquote(object_id))
        if policy is not None and request.method == "GET":
            extra_context.update(self._preview_context(request, policy))
        return super().change_view(request, object_id, form_url, extra_context)

    def _preview_context(self, request: HttpRequest, policy: Policy) -> dict[str, Any]:
        asked = "preview-on" in request.GET
        form = PreviewForm(request.GET if asked else None, prefix="preview")
        preview: DeadlinePreview | None = None
        if asked and form.is_valid():
            preview = deadline_preview(policy=policy, at=form.moment())
        return {"preview_form": form, "deadline_preview": preview}


# --- authorities and their closure days ------------------------------------------------


class ClosureDayInline(AuthorityScopedInline, admin.TabularInline):
    model = ClosureDay
    authority_path = "authority"
    extra = 1


@admin.register(LocalAuthority)
class LocalAuthorityAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    """A superuser manages authorities; their own administrators keep its closure days."""

    authority_path = "pk"
    list_display = ["name", "slug", "nation", "closure_days_link"]
    search_fields = ["name"]
    inlines = [ClosureDayInline]

    def has_add_permission(self, request: Any) -> bool:
        return admin_scope(request).unrestricted and super().has_add_permission(request)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return admin_scope(request).unrestricted and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        always = ["closure_days_link"]
        if admin_scope(request).unrestricted:
            return [*super().get_readonly_fields(request, obj), *always]
        return ["name", "slug", "nation", *always]

    @admin.display(description="closure days")
    def closure_days_link(self, authority: LocalAuthority) -> str:
        if authority.pk is None:
            return "—"
        url = reverse("admin:policies_closureday_changelist")
        count = authority.closure_days.count()
        return format_html(
            '<a href="{}?authority__id__exact={}">{} closure day{} — list and edit</a>',
            url,
            authority.pk,
            count,
            "" if count == 1 else "s",
        )


class ClosureDayForm(forms.ModelForm):
    last_day = forms.DateField(
        required=False,
        label="last day (for a run of days)",
        help_text="Optional, when adding: a closure of several days (e.g. a Christmas "
        "shutdown) is added as one closure day for each working day from the date to this "
        "one. Weekends and bank holidays are days off already and are left out.",
    )

    class Meta:
        model = ClosureDay
        fields = ["authority", "date", "description"]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        first, last = data.get("date"), data.get("last_day")
        if last is not None and first is not None:
            if self.instance.pk is not None:
                self.add_error("last_day", "A run of days can only be added, not changed.")
            elif last < first:
                self.add_error("last_day", "The last day must be on or after the date.")
            elif (last - first).days > 62:
                self.add_error("last_day", "A run of days may be at most two months long.")
        return data

    def run_of_days(self) -> list[date]:
        """The later days of a run, working days only, not yet listed for the authority."""
        first, last = self.cleaned_data["date"], self.cleaned_data.get("last_day")
        authority = self.cleaned_data["authority"]
        if last is None:
            return []
        listed = authority.closure_dates()
        days = [first + timedelta(days=n) for n in range(1, (last - first).days + 1)]
        return [
            day
            for day in days
            if day not in listed and is_working_day(day, nation=authority.nation, closures=())
        ]


@admin.register(ClosureDay)
class ClosureDayAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    """An authority's closure days on their own page: listed by year and month, edited."""

    authority_path = "authority"
    form = ClosureDayForm
    list_display = ["date", "weekday", "description", "authority"]
    list_display_links = ["date"]
    list_filter = ["authority"]
    list_select_related = ["authority"]
    date_hierarchy = "date"
    search_fields = ["description"]
    ordering = ["authority__name", "date"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["authority", "date", "description"]
        return fields if obj is not None else [*fields, "last_day"]

    @admin.display(description="day", ordering="date")
    def weekday(self, closure: ClosureDay) -> str:
        return f"{closure.date:%A}"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            more = [] if change else form.run_of_days()
            for day in more:
                ClosureDay.objects.create(
                    authority=obj.authority, date=day, description=obj.description
                )
        if more:
            messages.info(
                request,
                f"Also added {len(more)} more closure day{'s' if len(more) != 1 else ''}, "
                f"to {more[-1]:%a} {more[-1].day} {more[-1]:%b %Y}.",
            )


@admin.register(Role)
class RoleAdmin(AuthorityScopedAdmin, SimpleHistoryAdmin):
    authority_path = SHARED
    list_display = ["name", "slug", "is_chair", "is_quality_assurance"]
    search_fields = ["name", "slug"]
