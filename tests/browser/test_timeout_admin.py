"""Django admin in Chromium: the time-out warning, and a change form that outlives its session.

The idle limit is cut to 12 seconds, so the warning (half way through a limit that short:
config/timeout.py) comes after 6.
"""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from policies.models import ClosureDay
from staff.services import authority_admin_grant
from tests.staff.factories import PASSWORD

IDLE_SECONDS = 12
DATE = "2026-12-29"
DESCRIPTION = "Offices shut between Christmas and New Year"


@pytest.fixture
def short_idle_limit(settings) -> int:
    settings.SESSION_COOKIE_AGE = IDLE_SECONDS
    return IDLE_SECONDS


@pytest.fixture
def administrator(staff_of):
    user = staff_of("rutland", "service-manager").user
    authority_admin_grant(user=user)
    return user


def _sign_in_to_admin(page, site: str, user, *, on_login_page: bool = False) -> None:
    if not on_login_page:
        page.goto(f"{site}{reverse('admin:login')}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert reverse("admin:login") not in page.url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_warns_before_the_idle_limit_and_stay_signed_in_extends(
    site, ladders, administrator, new_context, short_idle_limit, check_accessibility
):
    page = new_context(bypass_csp=True).new_page()
    _sign_in_to_admin(page, site, administrator)
    opened = time.monotonic()

    warning = page.get_by_role("dialog", name="You’re about to be signed out")
    warning.wait_for(state="visible", timeout=IDLE_SECONDS * 1000)
    assert time.monotonic() - opened < IDLE_SECONDS
    assert page.evaluate("() => document.activeElement.textContent") == "Stay signed in"
    check_accessibility(page, "admin time-out warning")
    page.get_by_role("button", name="Stay signed in").click()
    warning.wait_for(state="hidden")

    time.sleep(max(0, IDLE_SECONDS + 2 - (time.monotonic() - opened)))
    page.reload()
    assert page.url == f"{site}{reverse('admin:index')}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_admin_change_form_saved_after_the_session_ended_comes_back_filled_in(
    site, ladders, administrator, new_context, short_idle_limit
):
    authority = ladders["rutland"].authority
    change_url = reverse("admin:policies_localauthority_change", args=[authority.pk])
    page = new_context().new_page()
    _sign_in_to_admin(page, site, administrator)
    page.goto(f"{site}{change_url}")
    page.fill('[name="closure_days-0-date"]', DATE)
    page.fill('[name="closure_days-0-description"]', DESCRIPTION)

    # Away from the desk: the warning comes and goes unanswered, the session ends.
    ended = page.get_by_role("dialog", name="You have been signed out")
    ended.wait_for(state="visible", timeout=(IDLE_SECONDS + 5) * 1000)
    page.get_by_role("button", name="Continue", exact=True).click()
    ended.wait_for(state="hidden")
    page.get_by_role("button", name="Save and continue editing").click()
    assert reverse("admin:login") in page.url

    _sign_in_to_admin(page, site, administrator, on_login_page=True)
    assert page.url == f"{site}{change_url}"
    assert "What you had typed has been filled in again" in page.locator("#kept-form").inner_text()
    assert page.input_value('[name="closure_days-0-date"]') == DATE
    assert page.input_value('[name="closure_days-0-description"]') == DESCRIPTION
    assert not ClosureDay.objects.filter(authority=authority).exists()

    page.get_by_role("button", name="Save and continue editing").click()
    page.wait_for_load_state()
    assert ClosureDay.objects.get(authority=authority).description == DESCRIPTION
