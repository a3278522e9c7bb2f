"""GOV.UK Design System markup for every Django form in the product."""

from datetime import date
from typing import Any

from django import forms
from django.forms.renderers import TemplatesSetting

_WIDGET_CLASSES = {
    forms.Textarea: "govuk-textarea",
    forms.Select: "govuk-select",
    forms.ClearableFileInput: "govuk-file-upload",
    forms.FileInput: "govuk-file-upload",
    forms.CheckboxInput: "govuk-checkboxes__input",
    forms.RadioSelect: "",
    forms.CheckboxSelectMultiple: "",
    forms.widgets.Input: "govuk-input",
}


class GovukRenderer(TemplatesSetting):
    form_template_name = "forms/govuk_form.html"
    field_template_name = "forms/govuk_field.html"


class GovukForm(forms.Form):
    """Adds the GOV.UK classes to widgets; the templates add labels, hints and errors."""

    def get_context(self) -> dict[str, Any]:
        # At render time, so fields that subclasses add after __init__ are styled too.
        for field in self.fields.values():
            widget = field.widget
            css = next((c for w, c in _WIDGET_CLASSES.items() if isinstance(widget, w)), "")
            if css:
                classes = set(widget.attrs.get("class", "").split())
                widget.attrs["class"] = " ".join(sorted(classes | {css}))
        return super().get_context()

    def error_list(self) -> list[tuple[str, str]]:
        """(anchor, message) pairs for the error summary, in field order."""
        items = [("", str(e)) for e in self.non_field_errors()]
        for name in self.fields:
            for error in self.errors.get(name, []):
                items.append((f"#{self[name].id_for_label or self[name].auto_id}", str(error)))
        return items


# --- the GOV.UK date input: day, month and year, each a box of its own ------------------

DATE_PARTS = ("day", "month", "year")


class GovukDateInput(forms.MultiWidget):
    """Three numeric boxes (https://design-system.service.gov.uk/components/date-input/)
    instead of the browser's own picker, which shows mm/dd/yyyy in some browsers. The day
    box takes the field's own id, so a label's or the error summary's link reaches it."""

    template_name = "forms/date_input.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widths = {"day": 2, "month": 2, "year": 4}
        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            part: forms.TextInput(
                attrs={
                    "class": f"govuk-input govuk-date-input__input govuk-input--width-{widths[part]}",
                    "inputmode": "numeric",
                }
            )
            for part in DATE_PARTS
        }
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        base = context["widget"]["attrs"].get("id", "")
        invalid = context["widget"]["attrs"].get("aria-invalid")
        for part, sub in zip(DATE_PARTS, context["widget"]["subwidgets"], strict=True):
            sub["label"] = part.capitalize()
            sub_attrs = sub["attrs"]
            if base:
                sub_attrs["id"] = base if part == "day" else f"{base}_{part}"
            # aria-describedby belongs to the fieldset round the three boxes.
            sub_attrs.pop("aria-describedby", None)
            if invalid:
                sub_attrs["class"] = f"{sub_attrs['class']} govuk-input--error"
        return context

    def id_for_label(self, id_: str) -> str:
        return id_


class GovukDateField(forms.Field):
    """A date from the three boxes, with the GOV.UK pattern's error messages: "<What> must
    include a month", "<What> must be a real date", "Year must include 4 numbers"."""

    widget = GovukDateInput

    def __init__(self, *, what: str = "Date", **kwargs: Any) -> None:
        self.what = what
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> date | None:
        if isinstance(value, date):
            return value
        parts = [str(v or "").strip() for v in (value or ["", "", ""])]
        if not any(parts):
            return None  # "required" is then the field's own message
        missing = [part for part, v in zip(DATE_PARTS, parts, strict=True) if not v]
        if missing:
            raise forms.ValidationError(
                f"{self.what} must include a {' and a '.join(missing)}", code="incomplete"
            )
        day, month, year = parts
        if not all(v.isdigit() for v in parts):
            raise forms.ValidationError(f"{self.what} must be a real date", code="invalid")
        if len(year) != 4:
            raise forms.ValidationError("Year must include 4 numbers", code="invalid_year")
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            raise forms.ValidationError(
                f"{self.what} must be a real date", code="invalid"
            ) from None
