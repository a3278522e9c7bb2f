"""Django admin limited to one authority (docs/architecture.md §5, §8): the one home of that rule.

A platform superuser sees and manages everything. Any other staff user is an *authority
administrator*: every admin page, picker, autocomplete, action and history page shows
them only the authority of their active staff record (none at all without one).

Every ModelAdmin derives from `AuthorityScopedAdmin` and every inline from
`AuthorityScopedInline`, naming how its model reaches an authority:

- `authority_path = "authority"` (or "policy__authority", "user__staff__authority", …,
  or a tuple of paths, any of which may match) — scoped to the authority;
- `authority_path = SHARED` — platform-wide data every administrator may view and only a
  superuser may add, change or delete (roles);
- `authority_path = PLATFORM` — invisible to authority administrators (groups, lock-outs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect

from staff.auth import signed_in_user
from staff.models import StaffMember

PLATFORM = "platform"
SHARED = "shared"

AuthorityPath = str | tuple[str, ...]

OTHER_AUTHORITY_CHOICE = (
    "That choice belongs to another authority, or no longer exists. Choose one from the list."
)
OTHER_AUTHORITY_CHOICES = (
    "%(value)s belongs to another authority, or no longer exists. Choose from the list."
)
HISTORY_READ_ONLY = (
    "Earlier versions are read-only. To change this record, edit it from its own page, "
    "where the checks apply."
)

# Inline-only models have no registry entry: their inlines say how they reach an authority.
_INLINE_PATHS: dict[type[models.Model], AuthorityPath] = {}


@dataclass(frozen=True)
class AdminScope:
    unrestricted: bool
    authority_id: int | None


def admin_scope(request: HttpRequest) -> AdminScope:
    """Who is asking: a superuser (everything) or an administrator of one authority."""
    cached = getattr(request, "_admin_scope", None)
    if cached is not None:
        return cached
    user = request.user
    if user.is_active and user.is_superuser:
        scope = AdminScope(unrestricted=True, authority_id=None)
    else:
        authority_id = (
            StaffMember.objects.filter(user_id=user.pk, is_active=True)
            .values_list("authority_id", flat=True)
            .first()
            if user.pk is not None
            else None
        )
        scope = AdminScope(unrestricted=False, authority_id=authority_id)
    # Kept on the request: asked many times per admin page. HttpRequest declares no such field.
    request._admin_scope = scope  # type: ignore[attr-defined]
    return scope


def _paths(path: AuthorityPath) -> tuple[str, ...]:
    return (path,) if isinstance(path, str) else tuple(path)


def authority_path_of(model: type[models.Model]) -> AuthorityPath | None:
    """How `model` reaches an authority, from its admin or inline; None if nobody says."""
    model_admin = admin.site._registry.get(model)
    if isinstance(model_admin, AuthorityScopedAdmin):
        return model_admin.authority_path
    return _INLINE_PATHS.get(model)


def scope_queryset(
    request: HttpRequest, queryset: QuerySet, path: AuthorityPath | None
) -> QuerySet:
    scope = admin_scope(request)
    if scope.unrestricted or path == SHARED:
        return queryset
    if path is None or path == PLATFORM or scope.authority_id is None:
        return queryset.none()
    condition = Q()
    for each in _paths(path):
        condition |= Q(**{each if each == "pk" else f"{each}_id": scope.authority_id})
    return queryset.filter(condition)


def authority_ids_of(obj: models.Model, path: AuthorityPath | None) -> set[int]:
    """The authorities an object belongs to, following its path(s) without a query if cached."""
    if path is None or path in (SHARED, PLATFORM):
        return set()
    found: set[int] = set()
    for each in _paths(path):
        if each == "pk":
            found.add(obj.pk)
            continue
        *hops, last = each.split("__")
        current: Any = obj
        try:
            for hop in hops:
                current = getattr(current, hop)
                if current is None:
                    break
            else:
                value = getattr(current, f"{last}_id", None)
                if value is not None:
                    found.add(value)
        except ObjectDoesNotExist:
            continue
    return found


def _authority_label(obj: models.Model, path: AuthorityPath) -> str:
    *hops, last = _paths(path)[0].split("__")
    current: Any = obj
    try:
        for hop in [*hops, last]:
            current = getattr(current, hop)
    except (AttributeError, ObjectDoesNotExist):
        return str(obj)
    return f"{obj} ({current})" if current is not None else str(obj)


def _scope_choice_field(
    request: HttpRequest, db_field: models.Field, field: forms.Field | None
) -> forms.Field | None:
    """Limit a picker to the user's authority; for a superuser, say whose each choice is."""
    remote = db_field.remote_field
    if remote is None or not isinstance(field, forms.ModelChoiceField) or field.queryset is None:
        return field
    target = remote.model
    path = authority_path_of(target)
    scope = admin_scope(request)
    field.queryset = scope_queryset(request, field.queryset, path)
    if not scope.unrestricted:
        many = isinstance(field, forms.ModelMultipleChoiceField)
        field.error_messages["invalid_choice"] = (
            OTHER_AUTHORITY_CHOICES if many else OTHER_AUTHORITY_CHOICE
        )
    elif path not in (None, SHARED, PLATFORM, "pk") and isinstance(path, str):
        # The same team name exists in many councils: a superuser must see whose it is.
        field.queryset = field.queryset.select_related(path)
        # Django's documented way to relabel one field's choices; mypy sees a method.
        field.label_from_instance = lambda obj: _authority_label(obj, path)  # type: ignore[method-assign]
    return field


if TYPE_CHECKING:
    from children.services import AccessLogSubject

    # Typed as what it is mixed into (an admin or an inline), so its super() calls check.
    _MixedInto = admin.options.BaseModelAdmin[Any]
else:
    _MixedInto = object


class _ScopedFields(_MixedInto):
    """Shared by admins and inlines: every foreign-key and many-to-many picker is scoped."""

    authority_path: AuthorityPath | None = None

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _scope_choice_field(request, db_field, field)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return _scope_choice_field(request, db_field, field)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        return scope_queryset(request, queryset, self.authority_path)


def same_authority_errors(
    instance: models.Model, cleaned_data: dict[str, Any], path: AuthorityPath | None
) -> dict[str, str]:
    """Related records that belong to another authority than the record itself."""
    if path is None or path in (SHARED, PLATFORM) or not isinstance(path, str):
        return {}
    # The form's own choice of the first hop (a new child, say) counts, not the old value.
    first, _, rest = path.partition("__")
    chosen = cleaned_data.get(first)
    if isinstance(chosen, models.Model):
        own = authority_ids_of(chosen, rest) if rest else {chosen.pk}
    else:
        own = authority_ids_of(instance, path)
    if not own:
        return {}
    errors: dict[str, str] = {}
    for name, value in cleaned_data.items():
        if name == first or not isinstance(value, (models.Model, QuerySet, list)):
            continue
        values: Iterable[Any] = [value] if isinstance(value, models.Model) else value
        for each in values:
            if not isinstance(each, models.Model):
                continue
            target_path = authority_path_of(type(each))
            if not isinstance(target_path, str) or target_path in (SHARED, PLATFORM, "pk"):
                continue
            theirs = authority_ids_of(each, target_path)
            if theirs and not theirs & own:
                errors[name] = (
                    f"“{each}” belongs to another authority. Choose one from this "
                    "record's own authority."
                )
                break
    return errors


class AuthorityScopedAdmin(_ScopedFields, admin.ModelAdmin):
    """Put first in the bases of every ModelAdmin (see the module docstring)."""

    authority_path: AuthorityPath | None = None
    # Case data: reading a change or history page writes an access-log row (docs/architecture.md §5, §8).
    read_log_action: str | None = None

    # Permissions -------------------------------------------------------------------------

    def _restricted_may(self, request: HttpRequest, obj: Any, write: bool) -> bool:
        scope = admin_scope(request)
        if scope.unrestricted:
            return True
        if self.authority_path in (None, PLATFORM) or scope.authority_id is None:
            return False
        if self.authority_path == SHARED:
            return not write
        return obj is None or scope.authority_id in authority_ids_of(obj, self.authority_path)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._restricted_may(request, None, write=False) and super().has_module_permission(
            request
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._restricted_may(request, obj, write=False) and super().has_view_permission(
            request, obj
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._restricted_may(request, obj, write=True) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._restricted_may(request, obj, write=True) and super().has_delete_permission(
            request, obj
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._restricted_may(request, None, write=True) and super().has_add_permission(
            request, *args
        )

    # Lists -------------------------------------------------------------------------------

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)
        if admin_scope(request).unrestricted:
            return filters
        # A filter lists every value in the table; offer only the values in this authority.
        scoped = []
        for entry in filters:
            if isinstance(entry, str) and "__" not in entry:
                field = self.model._meta.get_field(entry)
                if field.is_relation:
                    if entry == "authority":
                        continue
                    entry = (entry, admin.RelatedOnlyFieldListFilter)
            scoped.append(entry)
        return scoped

    # Forms -------------------------------------------------------------------------------

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str | list[str]]:
        initial = super().get_changeform_initial_data(request)
        scope = admin_scope(request)
        if (
            self.authority_path == "authority"
            and not scope.unrestricted
            and scope.authority_id is not None
        ):
            initial.setdefault("authority", str(scope.authority_id))
        return initial

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        path = self.authority_path

        # A subclass of the form class the admin built at run time, which mypy cannot follow.
        class ScopedForm(form_class):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                cleaned = super().clean()
                for name, message in same_authority_errors(
                    self.instance, cleaned or {}, path
                ).items():
                    self.add_error(name, message)
                return cleaned

        ScopedForm.__name__ = form_class.__name__
        return ScopedForm

    # Pages -------------------------------------------------------------------------------

    def _scoped_object(self, request: HttpRequest, object_id: str) -> Any:
        return self.get_object(request, unquote(object_id))

    def access_log_subject(self, obj: Any) -> AccessLogSubject:
        """The access_log_record arguments naming what this page shows (children, escalation)."""
        return {}

    def _log_read(self, request: HttpRequest, obj: Any, page: str) -> None:
        if self.read_log_action is None or obj is None:
            return
        from children.services import access_log_record

        access_log_record(
            user=signed_in_user(request),
            action=f"admin {page} {self.read_log_action}"[:50],
            **self.access_log_subject(obj),
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            self._log_read(request, self._scoped_object(request, object_id), "view")
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # simple-history falls back to the history of a deleted record: only a superuser may
        # reach a record that is not (or no longer) in their own authority.
        obj = self._scoped_object(request, object_id)
        if obj is None and not admin_scope(request).unrestricted:
            raise Http404
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            self._log_read(request, obj, "history")
        return response

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # simple-history saves a posted earlier version with the bare model form: no
        # formsets, no in-use confirmation. Earlier versions are for reading only.
        if request.method == "POST":
            messages.error(request, HISTORY_READ_ONLY)
            return HttpResponseRedirect(request.path)
        obj = self._scoped_object(request, object_id)
        if obj is None and not admin_scope(request).unrestricted:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        # simple-history's mixin comes later in the admin's bases; mypy sees only ModelAdmin.
        response = super().history_form_view(  # type: ignore[misc]
            request, object_id, version_id, extra_context
        )
        if response.status_code == 200:
            self._log_read(request, obj, "history")
        return response


class AuthorityScopedInline(_ScopedFields):
    """Put first in the bases of every inline; `authority_path` from the inline's model."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        model = getattr(cls, "model", None)
        if model is not None and cls.authority_path is not None:
            _INLINE_PATHS.setdefault(model, cls.authority_path)
