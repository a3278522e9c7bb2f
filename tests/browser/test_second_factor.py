"""A chair sets up the authenticator app at first sign-in, in the browser."""

from __future__ import annotations

import base64
import time

import pytest
from django_otp.oath import TOTP

from tests.staff.factories import PASSWORD


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_chair_sets_up_the_second_factor_and_reaches_their_escalations(
    site, settings, ladders, staff_of, new_context, check_accessibility, screenshot
):
    settings.REQUIRE_SECOND_FACTOR = True
    chair = staff_of("rutland", "cp-chair")
    page = new_context(bypass_csp=True).new_page()

    page.goto(f"{site}/escalations/")
    page.fill("#id_username", chair.user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert "Set up your authenticator app" in page.locator("h1").inner_text()
    check_accessibility(page, "second factor set-up")
    screenshot(page, "second_factor_setup")

    # What a person types into their app by hand: the key shown under the QR code.
    key = page.locator(".app-key").inner_text().replace(" ", "")
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    totp = TOTP(secret)
    totp.time = time.time()
    page.fill("#id_code", f"{totp.token():06d}")
    page.get_by_role("button", name="Confirm").click()

    assert page.url == f"{site}/escalations/"
    assert "My escalations" in page.locator("h1").inner_text()
