// Loaded as a module from our own origin (no inline script, so a strict CSP holds).
import { initAll } from "../govuk/govuk-frontend.min.js";
import { restoreKeptForm } from "./kept_form.js";
import { initPrefill, initReveals } from "./reveal.js";
import { initTimeoutWarning } from "./timeout.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
// Before GOV.UK Frontend starts, so radios that reveal more fields reveal them.
restoreKeptForm(document);
initAll();
initReveals(document);
initPrefill(document);
initTimeoutWarning(document);
