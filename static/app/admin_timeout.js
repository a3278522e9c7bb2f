// Django admin's entry for the time-out warning and the kept form (templates/admin/base_site.html).
// The app's own pages use init.js, which also starts GOV.UK Frontend: not wanted in admin.
// A module from our own origin, so the strict content security policy holds.
import { restoreKeptForm } from "./kept_form.js";
import { initTimeoutWarning } from "./timeout.js";

restoreKeptForm(document);
initTimeoutWarning(document);
