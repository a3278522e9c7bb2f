"""{% labelled_field bound_field "header-help-id" %}: a field in a Django admin table row
(tabular inlines), named for its column.

Django's tabular inline puts the label in the column header only, so screen readers find
inputs and selects with no name (axe `label`, `select-name`), and points
aria-describedby at a help-text id that only the stacked layout renders. Here each
field is named by its column's label, and described by the column's help text
(templates/admin/edit_inline/tabular.html renders it with that id).
"""

from typing import Any

from django import template
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def labelled_field(bound_field: Any, help_id: str = "") -> SafeString:
    attrs: dict[str, str] = {"aria-label": str(bound_field.label)}
    described_by = [help_id] if help_id and bound_field.help_text else []
    if bound_field.errors:
        described_by.append(f"{bound_field.auto_id}_error")
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return bound_field.as_widget(attrs=attrs)
