"""Importing through Django admin, into the administrator's own authority only.

Put `AuthorityImportMixin` after `AuthorityScopedAdmin` in a ModelAdmin's bases and name
the resource in `resource_classes`. Upload, then a preview (a dry run) with every bad line
in plain words; the confirm button appears only when no line is bad, or when the
administrator ticked "Skip the lines with errors". Every preview and import is logged.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.results import Result, RowResult

from imports.resources import import_written, result_counts
from imports.services import import_log_record
from policies.models import LocalAuthority
from staff.admin_scope import admin_scope
from staff.auth import signed_in_user
from staff.models import StaffMember

SKIP_LABEL = "Skip the lines with errors"
SKIP_HELP = (
    "Import the good lines and leave out the lines with errors. Without this, nothing is "
    "imported while any line has an error."
)


class AuthorityImportForm(ImportForm):
    skip_bad_rows = forms.BooleanField(required=False, label=SKIP_LABEL, help_text=SKIP_HELP)


class AuthorityConfirmImportForm(ConfirmImportForm):
    skip_bad_rows = forms.BooleanField(required=False, widget=forms.HiddenInput)


def import_authority(request: HttpRequest) -> LocalAuthority | None:
    """The authority an administrator imports into: always their own, never one chosen.

    A platform superuser imports into the authority of their own staff record, if they
    have one; otherwise they use the import_people command, which names the authority.
    """
    scope = admin_scope(request)
    authority_id = scope.authority_id
    if scope.unrestricted:
        authority_id = (
            StaffMember.objects.filter(user_id=signed_in_user(request).pk, is_active=True)
            .values_list("authority_id", flat=True)
            .first()
        )
    if authority_id is None:
        return None
    return LocalAuthority.objects.filter(pk=authority_id).first()


class AuthorityImportMixin(ImportMixin):
    import_form_class = AuthorityImportForm
    confirm_form_class = AuthorityConfirmImportForm
    import_template_name = "admin/imports/import.html"
    import_formats = [CSV, XLSX]
    # One summary log entry per import (import_log_record), not one per line.
    skip_admin_log = True

    def has_import_permission(self, request: HttpRequest) -> bool:
        return (
            self.has_add_permission(request)
            and self.has_change_permission(request)
            and import_authority(request) is not None
        )

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {"authority": import_authority(request)}

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.pop("form", None)
        skip = bool(form is not None and form.cleaned_data.get("skip_bad_rows"))
        return {**kwargs, "rollback_on_validation_errors": not skip}

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["skip_bad_rows"] = import_form.cleaned_data.get("skip_bad_rows", False)
        return initial

    # The preview --------------------------------------------------------------------------

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None)
        if context is None:
            return response
        context["authority"] = import_authority(request)
        result: Result | None = context.get("result")
        if result is None:
            return response
        form = context["form"]
        skip = bool(form.cleaned_data.get("skip_bad_rows"))
        counts = result_counts(result)
        # Skipping is offered only for lines that are wrong; an unexpected error stops it all.
        if skip and counts.bad and not result.has_errors() and result.valid_rows():
            context["confirm_form"] = self.create_confirm_form(request, import_form=form)
        elif context.get("confirm_form") is None:
            self._forget_upload(form)
        context["counts"] = counts
        context["skip_bad_rows"] = skip
        import_log_record(
            user=signed_in_user(request),
            model=self.model,
            authority=context["authority"],
            file_name=form.cleaned_data["import_file"].name,
            counts=counts,
            dry_run=True,
            written=False,
        )
        self._log_preview_read(request, result)
        return response

    def _forget_upload(self, form: Any) -> None:
        """A file that cannot be confirmed holds case data for nothing: delete it now."""
        name = getattr(form.cleaned_data["import_file"], "tmp_storage_name", None)
        if name:
            self.get_tmp_storage_class()(name=name, **self.get_tmp_storage_class_kwargs()).remove()

    def _log_preview_read(self, request: HttpRequest, result: Result) -> None:
        """The preview shows existing case records beside the file's: a read, logged."""
        action = getattr(self, "read_log_action", None)
        if action is None:
            return
        shown = [
            row.object_id
            for row in result.rows
            if row.import_type in (RowResult.IMPORT_TYPE_UPDATE, RowResult.IMPORT_TYPE_SKIP)
            and row.object_id is not None
        ]
        if not shown:
            return
        from children.services import access_log_record

        access_log_record(
            user=signed_in_user(request),
            action=f"admin import preview {action}"[:50],
            children=self.model.objects.filter(pk__in=shown),
        )

    # The import -----------------------------------------------------------------------------

    def process_dataset(self, dataset: Any, form: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # The form rides on the request to process_result and add_success_message, which
        # import-export calls without it; HttpRequest declares no such field.
        request._import_form = form  # type: ignore[attr-defined]
        return super().process_dataset(dataset, form, request, **kwargs)

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        form = request._import_form  # type: ignore[attr-defined]  # see process_dataset
        skip = bool(form.cleaned_data.get("skip_bad_rows"))
        written = import_written(result, skip_bad_rows=skip)
        counts = result_counts(result)
        authority = import_authority(request)
        import_log_record(
            user=signed_in_user(request),
            model=self.model,
            # Never None here: has_import_permission admitted the request only with one.
            authority=authority,  # type: ignore[arg-type]
            file_name=form.cleaned_data["original_file_name"],
            counts=counts,
            dry_run=False,
            written=written,
        )
        if not written:
            # The file or the records changed since the preview: nothing was written.
            messages.error(
                request,
                f"Nothing was imported: {counts.bad} lines now have errors. "
                "Upload the file again to see them.",
            )
            return HttpResponseRedirect(
                reverse("admin:{}_{}_import".format(*self.get_model_info()))
            )
        return super().process_result(result, request)

    def add_success_message(self, result: Result, request: HttpRequest) -> None:
        form = request._import_form  # type: ignore[attr-defined]  # see process_dataset
        messages.success(
            request,
            f"Imported {form.cleaned_data['original_file_name']}: {result_counts(result)}"
            + (" (left out)." if result_counts(result).bad else "."),
        )
