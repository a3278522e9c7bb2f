"""Signing in as councils expect: lock-out after repeated failures, idle sessions end."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.staff.factories import PASSWORD, UserFactory


@pytest.fixture
def user(db):
    return UserFactory()


def sign_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_an_account_is_locked_after_repeated_wrong_passwords(client, user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, user.username, "wrong-password").status_code == 200

    locked = sign_in(client, user.username, "wrong-password")

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # Even the right password is refused while the lock lasts.
    assert sign_in(client, user.username, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_successful_sign_in_clears_earlier_failures(client, user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, user.username, "wrong-password")
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, user.username, "wrong-password")
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_sessions_end_after_thirty_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    # Restarted at most once a minute by config.sessions (tests/config/test_sessions.py).
    assert "config.sessions.IdleSessionMiddleware" in settings.MIDDLEWARE


# --- per (username, address), plus a much higher limit per address --------------------------

STRANGER = "203.0.113.9"
OFFICE = "198.51.100.7"


def sign_in_from(client, address: str, username: str, password: str, **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def test_wrong_passwords_from_elsewhere_do_not_lock_the_superuser_out(client, db):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    for _ in range(settings.AXES_FAILURE_LIMIT + 3):
        sign_in_from(client, STRANGER, superuser.username, "wrong-password")
    assert sign_in_from(client, STRANGER, superuser.username, PASSWORD).status_code == 429

    response = sign_in_from(Client(), OFFICE, superuser.username, PASSWORD)

    assert response.status_code == 302


def test_an_address_guessing_at_many_accounts_is_throttled(client, db, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3 * (settings.AXES_FAILURE_LIMIT - 1)
    for _ in range(3):
        victim = UserFactory()
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in_from(client, STRANGER, victim.username, "guess")
    another = UserFactory()

    throttled = sign_in_from(client, STRANGER, another.username, PASSWORD)

    assert throttled.status_code == 429
    assert "Too many failed sign-ins" in throttled.content.decode()
    assert sign_in_from(Client(), OFFICE, another.username, PASSWORD).status_code == 302


def test_a_right_password_does_not_reset_the_addresss_count_for_other_accounts(
    client, db, settings
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 2 * (settings.AXES_FAILURE_LIMIT - 1) + 1
    own = UserFactory()
    for _ in range(2):
        victim = UserFactory()
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in_from(client, STRANGER, victim.username, "guess")
        assert sign_in_from(Client(), STRANGER, own.username, PASSWORD).status_code == 302
    sign_in_from(client, STRANGER, UserFactory().username, "guess")

    assert sign_in_from(client, STRANGER, UserFactory().username, PASSWORD).status_code == 429


def test_a_shared_office_address_has_a_much_higher_limit_than_one_account():
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT >= 10 * settings.AXES_FAILURE_LIMIT


def test_behind_our_proxy_the_address_is_the_one_the_proxy_saw(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        # What the client itself put in the header is not believed.
        sign_in_from(
            client, proxy, user.username, "wrong", HTTP_X_FORWARDED_FOR=f"{OFFICE}, {STRANGER}"
        )

    here = sign_in_from(Client(), proxy, user.username, PASSWORD, HTTP_X_FORWARDED_FOR=OFFICE)
    there = sign_in_from(Client(), proxy, user.username, PASSWORD, HTTP_X_FORWARDED_FOR=STRANGER)

    assert here.status_code == 302
    assert there.status_code == 429
