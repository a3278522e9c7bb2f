"""The pages of the site, for the accessibility runs: every named route, how each is
reached (the admin's from its own registry), which routes a browser cannot open and why,
and the two checks every page gets (axe at WCAG 2.2 AA, reflow at 320 px).

Used by test_accessibility_every_page.py and test_accessibility_admin.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.test import RequestFactory
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from tests.browser.conftest import WCAG_22_AA, axe_violations
from tests.staff.factories import PASSWORD

# Routes a browser cannot open as a page, with the reason: the run fails on any named
# route that is neither visited nor listed here, so a new route must be placed.
SKIPPED: dict[str, str] = {
    "logout": "POST only: the Sign out button (it lands on the sign-in page, checked)",
    "session_extend": "POST only, JSON: the time-out warning's Stay signed in",
    "sso_start": "a redirect to the authority's identity provider, off the site",
    "escalations:chase": "POST only: the Send a reminder button (it lands on a checked page)",
    "escalations:attachment": "a file download",
    "escalations:partner_sign_out": "POST only: the partner's Sign out (its page is checked)",
    "reports:tracker_csv": "a CSV download",
    "records:subject_access_download": "a ZIP download",
    "health": "JSON for monitoring",
    "health_live": "JSON for the load balancer",
    "admin:logout": "POST only: the admin's Log out",
    "admin:jsi18n": "JavaScript (the admin's translations)",
    "admin:autocomplete": "JSON for the admin's autocomplete widgets",
    "admin:view_on_site": "a redirect to the record's page on the site",
    "notifications:open": "POST only: marks the notification read and goes to its page",
    "admin:staff_staffmember_process_import": "POST only: confirms an import",
    "admin:children_child_process_import": "POST only: confirms an import",
    "admin:otp_totp_totpdevice_qrcode": "an SVG image (the QR code)",
}

# The admin's own pages for each registered model: reached through admin_pages() (a
# version's page from django-simple-history where the model keeps its history).
ADMIN_MODEL_PAGES = ("changelist", "add", "change", "history", "delete", "simple_history")


def named_routes() -> dict[str, str]:
    """{"escalations:detail": "escalations/<int:pk>/", ...}: every named URL pattern."""
    found: dict[str, str] = {}

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}{pattern.namespace}:"
                walk(pattern, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                found.setdefault(namespace + pattern.name, prefix + str(pattern.pattern))

    walk(get_resolver(), "", "")
    return found


def admin_model_route_names() -> set[str]:
    """The list, add, change, history, delete (and version) routes of every registered
    model, as far as it has them."""
    return set(named_routes()) & {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"
        for model in admin.site._registry
        for page in ADMIN_MODEL_PAGES
    }


def route_of(path: str) -> str:
    """The route name a path resolves to ("" for an unnamed one)."""
    try:
        match = resolve(path.split("?")[0])
    except Resolver404:
        return ""
    return match.view_name if match.url_name else ""


def admin_pages(
    user: Any, records: dict[str, Any], *, delete: bool = False, versions: bool = False
) -> Iterator[tuple[str, str]]:
    """(name, path) of every admin page this user may open, from admin.site._registry:
    the index, the status page, and for each model its list, add form, and a record's
    change form and history (with delete=True its delete confirmation, with versions=True
    the page of its latest version where the model keeps a history)."""
    request = RequestFactory().get("/admin/")
    request.user = user
    routes = named_routes()
    yield "admin index", reverse("admin:index")
    yield "system status", reverse("operations_status")
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if not model_admin.has_view_permission(request):
            continue
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        yield f"{opts.label} list", reverse(f"{prefix}_changelist")
        if model_admin.has_add_permission(request):
            yield f"{opts.label} add form", reverse(f"{prefix}_add")
        record = records.get(opts.label)
        assert record is not None, f"tests/admin has no {opts.label} record: add one"
        if not model_admin.has_view_permission(request, record):
            continue
        yield f"{opts.label} change form", reverse(f"{prefix}_change", args=[record.pk])
        yield f"{opts.label} history", reverse(f"{prefix}_history", args=[record.pk])
        if versions and f"{prefix}_simple_history" in routes:
            version = record.history.latest().history_id
            yield (
                f"{opts.label} version",
                reverse(f"{prefix}_simple_history", args=[record.pk, version]),
            )
        if delete and model_admin.has_delete_permission(request, record):
            yield f"{opts.label} delete", reverse(f"{prefix}_delete", args=[record.pk])


def sign_in_to_admin(page: Any, site: str, user: Any) -> None:
    page.goto(f"{site}{reverse('admin:login')}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site}{reverse('admin:index')}")


# --- the checks ----------------------------------------------------------------------------

DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 900}

# Reflow (WCAG 1.4.10): at 320 px the document must not scroll sideways; a table in its
# own scroll region may. Where it does, name where the overflow starts: elements that
# pass the right edge while their parent does not, outside any scroll container.
REFLOW = """() => {
  const width = window.innerWidth;
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth <= width) return null;
  const scrolls = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (/(auto|scroll|hidden)/.test(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.classList.length ? "." + [...el.classList].slice(0, 2).join(".") : "");
  const starts = [];
  for (const el of document.body.querySelectorAll("*")) {
    const right = el.getBoundingClientRect().right;
    const parent = el.parentElement.getBoundingClientRect().right;
    if (right > width + 1 && parent <= width + 1 && !scrolls(el)) {
      starts.push(`${name(el)} (to ${Math.round(right)} px)`);
    }
    if (starts.length === 4) break;
  }
  return {scrollWidth, width, starts};
}"""

# The form a page asks the person to fill in: the first POST form in <main> with a field
# to fill (not a button-only form such as Send a reminder). It is marked for error_submit.
FIND_FORM = """() => {
  const fillable = f => [...f.elements].filter(e =>
    !["hidden", "submit", "button", "reset"].includes(e.type)
    && !["BUTTON", "FIELDSET", "OUTPUT", "OBJECT"].includes(e.tagName));
  const form = [...document.querySelectorAll("main form")].find(f =>
    (f.getAttribute("method") || "").toLowerCase() === "post" && fillable(f).length
    && !f.closest("dialog"));
  if (!form) return false;
  form.setAttribute("data-a11y-run", "");
  return true;
}"""

# Empties every field of the marked form and posts it as is (no browser validation), so
# the server answers with its own error messages.
EMPTY_AND_POST = """() => {
  const form = document.querySelector("form[data-a11y-run]");
  for (const e of form.elements) {
    if (["hidden", "submit", "button", "reset", "file"].includes(e.type)) continue;
    if (e.type === "checkbox" || e.type === "radio") e.checked = false;
    else if (e.tagName === "SELECT") e.selectedIndex = e.multiple ? -1 : 0;
    else if ("value" in e && e.tagName !== "BUTTON") e.value = "";
  }
  HTMLFormElement.prototype.submit.call(form);
}"""

ERRORS_SHOWN = ".govuk-error-summary, .errornote, .errorlist"


@dataclass
class Run:
    """The checks over many pages: problems are collected, not raised, so one run lists
    every failing page."""

    site: str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    visited_routes: set[str] = field(default_factory=set)
    # Error and refusal pages look alike whoever meets them: each is checked once.
    seen_refusals: set[tuple[int, str]] = field(default_factory=set)
    # Seconds spent opening pages, in axe and in the reflow check: the run's budget.
    seconds: Counter[str] = field(default_factory=Counter)

    def check(self, page: Any, name: str) -> None:
        """axe (WCAG 2.2 A and AA rules: no serious or critical issue) and reflow at 320 px."""
        self.checked.append(name)
        started = time.monotonic()
        blocking = [
            v for v in axe_violations(page, WCAG_22_AA) if v["impact"] in ("serious", "critical")
        ]
        self.seconds["axe"] += time.monotonic() - started
        self.problems += [
            f"axe on {name} ({page.url}): {v['id']} [{v['impact']}] x{v['nodes']}: "
            f"{v['target']} — {v['help']}"
            for v in blocking
        ]
        started = time.monotonic()
        page.set_viewport_size(NARROW)
        overflow = page.evaluate(REFLOW)
        page.set_viewport_size(DESKTOP)
        self.seconds["reflow"] += time.monotonic() - started
        if overflow:
            self.problems.append(
                f"reflow on {name} ({page.url}): the page is {overflow['scrollWidth']} px wide "
                f"at {overflow['width']} px; it starts at {', '.join(overflow['starts'])}"
            )

    def visit(self, page: Any, name: str, path: str, *, errors: bool = True) -> bool:
        """Open the page and check it; then, where it has a form, post that form empty and
        check the page with its errors. Returns whether the page opened (status 200).

        A refusal or error page (403, 404, 410 …) is checked once per status and heading."""
        self.visited_routes.add(route_of(path))
        started = time.monotonic()
        response = page.goto(f"{self.site}{path}")
        self.seconds["open"] += time.monotonic() - started
        status = response.status if response else 0
        if status >= 500:
            self.problems.append(f"{name} ({path}) answered {status}")
            return False
        if status != 200:
            heading = page.locator("h1").first.inner_text() if page.locator("h1").count() else ""
            if (status, heading) not in self.seen_refusals:
                self.seen_refusals.add((status, heading))
                self.check(page, f"{name}: the {status} page “{heading}”")
            return False
        self.check(page, name)
        if errors:
            self.post_empty(page, name)
        return True

    def post_empty(self, page: Any, name: str) -> None:
        """Post the page's form empty and check the page that shows its errors."""
        if not page.evaluate(FIND_FORM):
            return
        started = time.monotonic()
        with page.expect_navigation() as navigation:
            page.evaluate(EMPTY_AND_POST)
        self.seconds["post"] += time.monotonic() - started
        response = navigation.value
        if response is not None and response.status >= 500:
            self.problems.append(f"{name} posted empty answered {response.status}")
        elif page.locator(ERRORS_SHOWN).count():
            self.check(page, f"{name}, with errors")
        else:
            # Not an accessibility failure, but a form that takes nothing is worth a look.
            self.checked.append(f"{name}: posted empty, no errors shown ({page.url})")

    def summary(self) -> str:
        spent = ", ".join(f"{k} {v:.0f} s" for k, v in self.seconds.most_common())
        return f"{len(self.checked)} page states checked ({spent})"
