"""The time-out warning and the form that outlives its session, in Chromium.

The idle limit is cut to 12 seconds, so the warning (half way through a limit that
short: config/timeout.py) comes after 6.
"""

from __future__ import annotations

import re
import time

import pytest

from escalations.models import Escalation

IDLE_SECONDS = 12
SUMMARY = "Core group meetings have not happened for eight weeks."
OUTCOME = "A core group meeting within five working days."
CATEGORY = "Core Group Meetings not having taken place"


@pytest.fixture
def short_idle_limit(settings) -> int:
    settings.SESSION_COOKIE_AGE = IDLE_SECONDS
    return IDLE_SECONDS


def _dialog(page, name: str):
    return page.get_by_role("dialog", name=name)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_warning_appears_before_the_idle_limit_and_stay_signed_in_extends(
    site, ladders, staff_of, child_of, new_context, sign_in, short_idle_limit, check_accessibility
):
    chair = staff_of("rutland", "cp-chair")
    child = child_of("rutland")
    page = sign_in(new_context(bypass_csp=True), chair)
    page.goto(f"{site}/escalations/raise/{child.pk}/")
    opened = time.monotonic()

    warning = _dialog(page, "You’re about to be signed out")
    warning.wait_for(state="visible", timeout=IDLE_SECONDS * 1000)
    assert time.monotonic() - opened < IDLE_SECONDS
    # Focus moves into the dialog, on its first button.
    assert page.evaluate("() => document.activeElement.textContent") == "Stay signed in"
    check_accessibility(page, "time-out warning")
    page.get_by_role("button", name="Stay signed in").click()
    warning.wait_for(state="hidden")

    # Past the limit the page was opened with: still signed in.
    time.sleep(max(0, IDLE_SECONDS + 2 - (time.monotonic() - opened)))
    page.reload()
    assert page.url == f"{site}/escalations/raise/{child.pk}/"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_raise_form_sent_after_the_session_ended_comes_back_filled_in(
    site, ladders, staff_of, child_of, new_context, sign_in, short_idle_limit
):
    chair = staff_of("rutland", "cp-chair")
    manager = staff_of("rutland", "service-manager")
    child = child_of("rutland")
    page = sign_in(new_context(), chair)
    page.goto(f"{site}/escalations/raise/{child.pk}/")
    page.get_by_label(CATEGORY, exact=False).check()
    page.fill("#id_summary", SUMMARY)
    page.fill("#id_desired_outcome", OUTCOME)
    page.select_option("#id_responder", value=str(manager.pk))

    # Away from the desk: the warning comes and goes unanswered, the session ends.
    ended = _dialog(page, "You have been signed out")
    ended.wait_for(state="visible", timeout=(IDLE_SECONDS + 5) * 1000)
    page.get_by_role("button", name="Continue").click()
    ended.wait_for(state="hidden")
    page.get_by_role("button", name="Raise escalation").click()
    page.wait_for_url(re.compile("/accounts/login/"))

    sign_in(page, chair)
    assert page.url == f"{site}/escalations/raise/{child.pk}/"
    banner = page.locator("#kept-form").inner_text()
    assert "What you had typed has been filled in again" in banner
    assert page.input_value("#id_summary") == SUMMARY
    assert page.input_value("#id_desired_outcome") == OUTCOME
    assert page.get_by_label(CATEGORY, exact=False).is_checked()
    assert page.input_value("#id_responder") == str(manager.pk)
    assert not Escalation.objects.exists()

    # Two presses, as always: who will be told, then raised, with the text kept.
    page.get_by_role("button", name="Raise escalation").click()
    assert "Check who will be told" in page.locator("#recipients").inner_text()
    page.get_by_role("button", name="Raise escalation").click()
    page.wait_for_url(f"{site}/escalations/*/")
    escalation = Escalation.objects.get()
    assert escalation.summary == SUMMARY
    assert escalation.desired_outcome == OUTCOME
