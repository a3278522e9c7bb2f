// A form sent after the session had ended is kept on the server (config/timeout.py) and
// comes back here, after signing in, as JSON beside the page: fill the form in again.
// Hidden fields are left as the new page made them (its token, its checks).

export function restoreKeptForm(root) {
  const source = root.getElementById("app-kept-form");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  // The form that was sent: the one posting back to this page.
  const form = [...root.querySelectorAll("main form[method='post']")].find(
    (f) => new URL(f.action, window.location.href).pathname === window.location.pathname,
  );
  if (!form) return;
  for (const [name, values] of Object.entries(data)) {
    for (const field of form.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
      const type = (field.type || "").toLowerCase();
      if (type === "hidden" || type === "file" || type === "submit" || type === "button") {
        continue;
      }
      if (type === "checkbox" || type === "radio") {
        field.checked = values.includes(field.value);
      } else if (field.tagName === "SELECT") {
        for (const option of field.options) option.selected = values.includes(option.value);
      } else {
        field.value = values[0] ?? "";
      }
    }
  }
}
