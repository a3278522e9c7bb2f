"""Signing in as councils expect: lock-out after repeated failures, idle sessions end."""

import pytest
from django.conf import settings
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
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
