"""Browser tests: the system Chromium driven by Playwright against pytest-django's live server.

No browser is ever downloaded. Without /usr/bin/chromium (or Playwright) the tests are
skipped, unless REQUIRE_BROWSER_TESTS=1 (CI), when they fail instead.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connections
from django.utils import timezone

from notifications.relay import relay_once
from staff.models import StaffMember
from tests import playwright_loop
from tests.staff.factories import PASSWORD

# Playwright's sync API runs an event loop in this thread; Django's async-safety check
# would otherwise refuse the ORM calls the tests make between browser steps.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_JS = Path(__file__).parent / "axe" / "axe.min.js"
# An ignored folder, so a test run leaves the working tree as it was; `python3 dev.py
# screenshots` points this at docs/screenshots/ to refresh the README's pictures.
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR") or Path(django_settings.BASE_DIR) / "var" / "screenshots"
)
TIMEOUT_MS = 10_000

# The rules of WCAG 2.0, 2.1 and 2.2 at levels A and AA (axe's tags), for axe_violations().
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Runs axe on the whole page (every rule, or those of the tags given); returns only what
# the assertion message needs.
AXE_RUN = """async (tags) => {
  const options = {resultTypes: ["violations"]};
  if (tags) {
    options.runOnly = {type: "tag", values: tags};
    // WCAG 2.2's target size (2.5.8, AA) is off in axe by default.
    if (tags.includes("wcag22aa")) options.rules = {"target-size": {enabled: true}};
  }
  const results = await axe.run(document, options);
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.length,
    target: v.nodes.length ? v.nodes[0].target.join(" ") : "",
    html: v.nodes.length ? v.nodes[0].html.slice(0, 160) : "",
  }));
}"""


def axe_violations(page: Any, tags: list[str] | None = None) -> list[dict]:
    """axe-core's violations on the page (all its rules, or only those of `tags`).

    axe is injected as an inline script, which the site's content security policy refuses:
    the page must belong to a context made with new_context(bypass_csp=True)."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(AXE_RUN, tags)


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
        pytest.fail(f"REQUIRE_BROWSER_TESTS=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
    except Exception as exc:
        playwright.stop()
        _unavailable(f"{CHROMIUM} could not be launched: {exc}")
    yield chromium
    # At the session's end, after a test without the browser may have set the mark aside.
    with playwright_loop.put_back_for_now():
        connections.close_all()  # the browser tests' own (tests/playwright_loop.py)
        chromium.close()
        playwright.stop()


@pytest.fixture
def site(live_server, settings) -> str:
    """The live server's address. E-mails are sent in-process by the relay (no Celery) and
    link to it."""
    settings.REDIS_URL = ""
    settings.SITE_BASE_URL = live_server.url
    return live_server.url


@pytest.fixture
def new_context(browser) -> Iterator[Callable[[], Any]]:
    """new_context() -> a fresh browser context (own cookies: one person each).

    JavaScript errors, content security policy violations and failed static files on any
    of its pages fail the test. new_context(bypass_csp=True) is only for injecting axe.
    """
    contexts: list[Any] = []
    problems: list[str] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            locale="en-GB",
            timezone_id="Europe/London",
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)

        def watch(page: Any) -> None:
            page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
            page.on(
                "console",
                lambda msg: (
                    problems.append(f"{page.url}: {msg.text}")
                    if msg.type == "error" and "Content Security Policy" in msg.text
                    else None
                ),
            )
            page.on(
                "response",
                lambda r: (
                    problems.append(f"{r.status} for {r.url}")
                    if "/static/" in r.url and r.status >= 400
                    else None
                ),
            )

        context.on("page", watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def sign_in(site) -> Callable[..., Any]:
    """sign_in(context_or_page, staff) -> the page, signed in through the real login form.

    Given a page already showing the login form (a link that needed signing in), it fills
    that form, so the `next` address is followed.
    """

    def do(target: Any, staff: StaffMember) -> Any:
        page = target if hasattr(target, "goto") else target.new_page()
        if "/accounts/login/" not in page.url:
            page.goto(f"{site}/accounts/login/")
        page.fill("#id_username", staff.user.username)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_load_state()
        assert "/accounts/login/" not in page.url, f"sign-in failed for {staff.user.username}"
        return page

    return do


@pytest.fixture
def check_accessibility() -> Callable[[Any, str], list[dict]]:
    """check_accessibility(page, name): axe-core on the page; no serious or critical issue.

    axe is injected as an inline script, which the site's content security policy refuses:
    the page must belong to a context made with new_context(bypass_csp=True).
    Returns every violation (moderate and minor ones included) for the caller to report.
    """

    def check(page: Any, name: str) -> list[dict]:
        violations = axe_violations(page)
        blocking = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not blocking, f"axe on {name} ({page.url}):\n" + "\n".join(
            f"  {v['id']} [{v['impact']}] x{v['nodes']}: {v['target']} — {v['help']}"
            for v in blocking
        )
        if violations:
            print(f"axe on {name}: " + json.dumps(violations, indent=1))
        return violations

    return check


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """screenshot(page, name) -> <SCREENSHOTS>/<name>.png, the full page (var/screenshots/
    unless `dev.py screenshots` asked for docs/screenshots/)."""

    def shoot(page: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return shoot


STEP_LINK = re.compile(r"https?://\S+/escalations/link/[^/\s]+/")


@pytest.fixture
def step_link_for() -> Callable[[StaffMember], str]:
    """step_link_for(staff) -> the link in the latest 'step raised' e-mail sent to them."""

    def find(staff: StaffMember) -> str:
        # What the scheduler's relay would have sent by now (within 2 seconds of commit).
        relay_once(now=timezone.now())
        sent = [
            m
            for m in mail.outbox
            if m.to == [staff.user.email] and "A step was raised for you to answer" in m.subject
        ]
        assert sent, f"no step_raised e-mail to {staff.user.email} in {len(mail.outbox)} sent"
        match = STEP_LINK.search(sent[-1].body)
        assert match, f"no step link in:\n{sent[-1].body}"
        return match.group(0)

    return find
