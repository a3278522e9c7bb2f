"""What every import shares: one authority, matching by source ID, errors in plain words.

A council's exports are messy in known ways: headers written as "Source ID", numbers that
a spreadsheet turned into 1234.0, dates as 31/01/2026 or as spreadsheet dates, blanks as
None. The widgets here read those; anything they cannot read is a row error that names
the column and says what is wrong, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from import_export import resources, widgets
from import_export.results import Result, RowResult

from policies.models import LocalAuthority

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y")
LIST_SEPARATOR = ";"

# The model a resource imports (Child, StaffMember): each has `authority` and `source_id`.
ModelT = TypeVar("ModelT", bound=models.Model)


def text_of(value: Any) -> str:
    """A cell as text: blanks are "", and 1234.0 (a spreadsheet's number) is "1234"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def date_of(value: Any) -> date | None:
    """A cell as a date, or None when blank; ValueError in plain words otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = text_of(value)
    if not text:
        return None
    for format_ in DATE_FORMATS:
        try:
            return datetime.strptime(text, format_).date()
        except ValueError:
            continue
    raise ValueError(f"“{text}” is not a date. Write dates like 31/01/2026.")


def list_of(value: Any) -> list[str]:
    """A cell holding several values, e.g. "05/01/2026; 02/04/2026"."""
    return [part.strip() for part in text_of(value).split(LIST_SEPARATOR) if part.strip()]


def column_of(header: Any) -> str:
    """ "Source ID" and "source-id" are the column source_id."""
    return "_".join(text_of(header).lower().replace("-", " ").split())


class Text(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return text_of(value)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return text_of(value)


class Date(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> date | None:
        return date_of(value)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.strftime("%d/%m/%Y") if isinstance(value, date) else ""


class Lookup(widgets.Widget):
    """A record of the importing authority named in a cell (a team by name, a person by ID).

    `find` names the resource's method that turns the cell's text into the record, or
    raises ValueError saying why it cannot; `shown` is what the preview shows for it.
    """

    def __init__(self, find: str, shown: Callable[[Any], str] = str) -> None:
        super().__init__()
        self.find = find
        self.shown = shown
        self.resource: AuthorityResource | None = None

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        return getattr(self.resource, self.find)(text_of(value))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else self.shown(value)


@dataclass(frozen=True)
class ImportCounts:
    new: int
    updated: int
    unchanged: int
    bad: int

    def __str__(self) -> str:
        rows = "row" if self.bad == 1 else "rows"
        return (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.bad} {rows} with errors"
        )


def result_counts(result: Result) -> ImportCounts:
    totals = result.totals
    return ImportCounts(
        new=totals[RowResult.IMPORT_TYPE_NEW],
        updated=totals[RowResult.IMPORT_TYPE_UPDATE],
        unchanged=totals[RowResult.IMPORT_TYPE_SKIP],
        bad=totals[RowResult.IMPORT_TYPE_INVALID]
        + totals[RowResult.IMPORT_TYPE_ERROR]
        + len(result.base_errors),
    )


def import_written(result: Result, *, skip_bad_rows: bool) -> bool:
    """Whether an import (not a dry run) kept its writes: the one home of that rule.

    Any bad row undoes the whole import unless the bad rows were to be skipped; an
    unexpected error undoes it always.
    """
    if result.has_errors():
        return False
    return skip_bad_rows or not result.has_validation_errors()


def line_of(row_number: int) -> int:
    """The line a spreadsheet shows for a data row: the headers are line 1."""
    return row_number + 1


def result_error_lines(result: Result) -> list[str]:
    """Every error of an import, one line each, naming the file's line and column."""
    lines = [str(error.error) for error in result.base_errors]
    for invalid in result.invalid_rows:
        for column, messages in invalid.error_dict.items():
            where = "" if column == NON_FIELD_ERRORS else f"{column}: "
            lines.extend(f"Line {line_of(invalid.number)}: {where}{m}" for m in messages)
    for error_row in result.error_rows:
        lines.extend(
            f"Line {line_of(error_row.number)}: could not be saved ({error.error})"
            for error in error_row.errors
        )
    return lines


class _Diff(resources.Diff):
    """The preview's before and after, columns beyond the model's own included."""

    def __init__(self, resource: Any, instance: Any, new: bool) -> None:
        super().__init__(resource, instance, new)
        self.left = resource.preview_values(instance)

    def compare_with(self, resource: Any, instance: Any) -> None:
        self.right = resource.preview_values(instance)


class AuthorityResource(resources.ModelResource, Generic[ModelT]):
    """Imports into one authority, matching rows to records by the source system's ID.

    Every lookup (team, role, person) is within `authority`, so a row naming another
    authority's team or worker is an error like any unknown name.
    """

    required_columns: tuple[str, ...] = ("source_id",)
    # Model fields full_clean leaves alone: set by the resource itself (the authority, a new
    # user), or records its lookups have just read from this authority. Leaving out the
    # authority leaves out the unique checks that name it: the resource checks those
    # itself (source IDs by matching, references by looking), and in plain words.
    unchecked_fields: frozenset[str] = frozenset({"authority"})

    class Meta:
        import_id_fields = ("source_id",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, *, authority: LocalAuthority, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.authority = authority
        for field in self.fields.values():
            if isinstance(field.widget, Lookup):
                field.widget.resource = self
        self.first_row_of: dict[str, int] = {}
        # Source IDs already recorded, so a new line costs no query to find it is new.
        self.known_source_ids: set[str] = set()
        self.any_unlinked = True

    def get_diff_class(self) -> type[resources.Diff]:
        return _Diff

    # Which records ------------------------------------------------------------------------

    def get_queryset(self) -> models.QuerySet[ModelT]:
        return self._meta.model.objects.filter(authority=self.authority)

    def init_instance(self, row: Any = None) -> ModelT:
        return self._meta.model(authority=self.authority)

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> ModelT | None:
        source_id = text_of(row.get("source_id"))
        if not source_id:
            return None
        if source_id in self.known_source_ids:
            found = self.get_queryset().filter(source_id=source_id).first()
            if found is not None:
                return found
        return self.unlinked_match(row) if self.any_unlinked else None

    def unlinked_match(self, row: dict[str, Any]) -> ModelT | None:
        """A record entered by hand (no source ID yet) that this row is, if any."""
        return None

    # The file -------------------------------------------------------------------------------

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        dataset.headers = [column_of(header) for header in dataset.headers]
        missing = [c for c in self.required_columns if c not in dataset.headers]
        if missing:
            # Without the columns every line would fail alike: say it once, for the file.
            del dataset[:]
            raise ValueError(
                "The file has no column "
                + ", ".join(f"“{c}”" for c in missing)
                + ". Its first line must name the columns: "
                + ", ".join(self.column_names())
                + "."
            )
        self.first_row_of = {}
        recorded = list(self.get_queryset().values_list("source_id", flat=True))
        self.known_source_ids = {value for value in recorded if value is not None}
        self.any_unlinked = None in recorded
        for number, value in enumerate(dataset["source_id"], 1):
            self.first_row_of.setdefault(text_of(value), number)

    def column_names(self) -> list[str]:
        return [field.column_name for field in self.get_import_fields()]

    # One row ---------------------------------------------------------------------------------

    def import_instance(self, instance: ModelT, row: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        for field in self.get_import_fields():
            if not field.attribute or field.column_name not in row:
                continue
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValueError as error:
                errors[field.column_name] = [str(error)]
        source_id = text_of(row.get("source_id"))
        if not source_id:
            errors["source_id"] = ["Every row needs the source system's ID."]
        else:
            first = self.first_row_of.get(source_id)
            if first is not None and first != kwargs.get("row_number"):
                errors["source_id"] = [
                    f"Source ID “{source_id}” is also on line {line_of(first)}: "
                    "give each record one line."
                ]
        for column, message in self.import_extras(instance, row).items():
            errors.setdefault(column, []).append(message)
        if errors:
            raise ValidationError(errors)

    def import_extras(self, instance: ModelT, row: dict[str, Any]) -> dict[str, str]:
        """Columns beyond the model's own fields: read them, return errors by column."""
        return {}

    def after_save_instance(self, instance: ModelT, row: Any, **kwargs: Any) -> None:
        # Every imported model has `source_id`; the bound (any model) cannot say so.
        source_id: str | None = instance.source_id  # type: ignore[attr-defined]
        if source_id:
            self.known_source_ids.add(source_id)

    def preview_values(self, instance: ModelT) -> list[Any]:
        """One side of the preview's before and after, extra columns included."""
        return [self.export_field(f, instance) for f in self.get_import_fields()]

    def validate_instance(
        self,
        instance: ModelT,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        errors = dict(import_validation_errors or {})
        column_of_attribute = {
            field.attribute: field.column_name
            for field in self.get_import_fields()
            if field.attribute
        }
        attribute_of_column = {column: attr for attr, column in column_of_attribute.items()}
        exclude = {attribute_of_column.get(column, column) for column in errors}
        try:
            instance.full_clean(
                exclude=exclude | self.unchecked_fields, validate_unique=validate_unique
            )
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(column_of_attribute.get(name, name), []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def skip_row(
        self,
        instance: ModelT,
        original: ModelT,
        row: dict[str, Any],
        import_validation_errors: dict[str, Any] | None = None,
    ) -> bool:
        # The extra columns change other records (plans, a user): unchanged means all of it.
        return not getattr(instance, "_import_changes", False) and super().skip_row(
            instance, original, row, import_validation_errors
        )
