// Django admin: names and roles its own scripts leave out (the rest is in templates/admin/).
"use strict";

// The filter box of a many-to-many selector is labelled by an icon span with aria-label,
// which a plain span may not carry: as an image it may, and it names the box.
function iconsAsImages(root) {
  for (const icon of root.querySelectorAll("span.help-tooltip[aria-label]")) {
    icon.setAttribute("role", "img");
  }
}

// Autocomplete (select2) boxes: the combobox takes the name of the field's own label.
function nameComboboxes(root) {
  for (const select of root.querySelectorAll("select.admin-autocomplete")) {
    const label = select.id && document.querySelector(`label[for="${CSS.escape(select.id)}"]`);
    const combobox = select.parentElement.querySelector(
      `.select2-selection[role="combobox"]`,
    );
    if (!label || !combobox) continue;
    label.id = label.id || `${select.id}-label`;
    combobox.setAttribute("aria-labelledby", label.id);
    // Its read-only text box shows the choice, and is empty (so nameless) without one.
    const shown = combobox.querySelector('[role="textbox"]');
    if (shown) shown.setAttribute("aria-labelledby", label.id);
  }
}

function fix() {
  iconsAsImages(document);
  nameComboboxes(document);
}

// After Django's own scripts, which build these widgets when the page has loaded.
window.addEventListener("load", () => window.setTimeout(fix, 0));
document.addEventListener("formset:added", () => window.setTimeout(fix, 0));
