// Loaded as a module from our own origin (no inline script, so a strict CSP holds).
import { initAll } from "../govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
