"""GOV.UK Design System markup for every Django form in the product."""

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


class DateInput(forms.DateInput):
    input_type = "date"
