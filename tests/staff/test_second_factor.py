"""A TOTP second factor before any case data, when the setting requires it (production)."""

import time
from base64 import b32decode
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.staff.factories import PASSWORD, UserFactory


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


@pytest.fixture
def required(settings):
    settings.REQUIRE_SECOND_FACTOR = True


@pytest.fixture
def chair(ladders, staff_of):
    return staff_of("rutland", "cp-chair")


def sign_in(client, staff):
    response = client.post(
        reverse("login"), {"username": staff.user.username, "password": PASSWORD}, follow=True
    )
    assert response.status_code == 200
    return response


def test_a_password_alone_reaches_no_case_data(client, required, chair):
    response = sign_in(client, chair)

    assert response.redirect_chain[-1][0].startswith("/accounts/second-factor/setup/")
    for url in ("/escalations/", "/children/", "/reports/", "/admin/"):
        assert client.get(url)["Location"].startswith("/accounts/second-factor/?next=")


def test_setting_up_the_app_with_a_right_code_lets_the_user_in(client, required, chair):
    page = sign_in(client, chair)
    assert "Set up your authenticator app" in page.content.decode()
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=chair.user, confirmed=False)

    response = client.post(
        "/accounts/second-factor/setup/", {"code": current_code(device), "next": "/children/"}
    )

    assert response["Location"] == "/children/"
    assert client.get("/children/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_a_wrong_code_is_refused_beside_the_field(client, required, chair):
    sign_in(client, chair)

    response = client.post("/accounts/second-factor/setup/", {"code": "000000"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "That code is not right" in page
    assert client.get("/children/").status_code == 302


def test_a_code_that_is_not_six_digits_gets_a_plain_message(client, required, chair):
    sign_in(client, chair)
    response = client.post("/accounts/second-factor/setup/", {"code": "12ab"})
    assert "Enter the code as 6 digits" in response.content.decode()


def test_with_an_app_set_up_each_sign_in_asks_for_a_code(client, required, chair):
    device = TOTPDevice.objects.create(user=chair.user, name="app", confirmed=True)

    response = sign_in(client, chair)
    assert response.redirect_chain[-1][0].startswith("/accounts/second-factor/?next=")
    assert "Enter the code from your authenticator app" in response.content.decode()

    verified = client.post("/accounts/second-factor/", {"code": current_code(device)})
    assert verified["Location"] == "/"
    assert client.get("/escalations/").status_code == 200


def test_a_set_up_app_cannot_be_replaced_by_someone_with_only_the_password(client, required, chair):
    TOTPDevice.objects.create(user=chair.user, name="app", confirmed=True)
    sign_in(client, chair)

    response = client.get("/accounts/second-factor/setup/")

    assert response["Location"].startswith("/accounts/second-factor/")
    assert TOTPDevice.objects.filter(user=chair.user).count() == 1


def test_the_next_address_cannot_leave_the_site(client, required, chair):
    device = TOTPDevice.objects.create(user=chair.user, name="app", confirmed=True)
    sign_in(client, chair)

    response = client.post(
        "/accounts/second-factor/",
        {"code": current_code(device), "next": "https://evil.example/steal"},
    )

    assert response["Location"] == "/"


def test_without_the_setting_a_password_is_enough(client, chair):
    response = sign_in(client, chair)
    assert response.redirect_chain[-1][0] == reverse("escalations:todo")


# --- a set-up key belongs to one session and expires ---------------------------------------


def key_shown(response) -> bytes:
    """The key the set-up page writes out for typing by hand: what anyone looking at it has."""
    text = response.content.decode()
    start = text.index('<code class="app-key">') + len('<code class="app-key">')
    written = text[start : text.index("</code>", start)].replace(" ", "")
    return b32decode(written + "=" * (-len(written) % 8))


def code_for(key: bytes) -> str:
    totp = TOTP(key)
    totp.time = time.time()
    return f"{totp.token():06d}"


def signed_in_without_following(user) -> Client:
    other = Client()
    response = other.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return other


def test_a_key_seen_with_the_password_alone_stops_working_once_the_user_sets_up(
    client, required, chair
):
    attacker = Client()
    attackers_key = key_shown(sign_in(attacker, chair))

    users_page = sign_in(client, chair)
    users_key = key_shown(users_page)
    assert users_key != attackers_key
    confirmed = client.post("/accounts/second-factor/setup/", {"code": code_for(users_key)})
    assert confirmed.status_code == 302

    # A minute on, so the code is not refused merely as one already used.
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        response = attacker.post("/accounts/second-factor/", {"code": code_for(attackers_key)})

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert attacker.get("/children/")["Location"].startswith("/accounts/second-factor/")
    assert TOTPDevice.objects.get(user=chair.user).bin_key == users_key


def test_a_key_is_confirmed_only_in_the_session_that_was_shown_it(client, required, chair):
    key = key_shown(sign_in(client, chair))
    elsewhere = signed_in_without_following(chair.user)

    response = elsewhere.post("/accounts/second-factor/setup/", {"code": code_for(key)})

    assert response.status_code == 200
    assert "That key has expired or was replaced" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=chair.user, confirmed=True).exists()
    assert elsewhere.get("/children/").status_code == 302


def test_opening_set_up_in_a_second_session_stops_the_first_sessions_key(client, required, chair):
    first_key = key_shown(sign_in(client, chair))
    second_key = key_shown(sign_in(Client(), chair))

    response = client.post("/accounts/second-factor/setup/", {"code": code_for(first_key)})

    assert response.status_code == 200
    text = response.content.decode()
    assert "That key has expired or was replaced" in text
    # The page offers a fresh key, neither the stopped one nor the other session's.
    assert key_shown(response) not in (first_key, second_key)
    assert not TOTPDevice.objects.filter(user=chair.user, confirmed=True).exists()
    assert client.get("/children/").status_code == 302


def test_a_set_up_key_expires_after_ten_minutes(client, required, chair):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        key = key_shown(sign_in(client, chair))
    with time_machine.travel(start + timedelta(minutes=10, seconds=1), tick=False):
        response = client.post("/accounts/second-factor/setup/", {"code": code_for(key)})
        assert client.get("/children/").status_code == 302

    assert response.status_code == 200
    assert "That key has expired or was replaced" in response.content.decode()
    assert key_shown(response) != key
    assert not TOTPDevice.objects.filter(user=chair.user, confirmed=True).exists()


def verified_superuser(required) -> Client:
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    admin = signed_in_without_following(admin_user)
    assert admin.post("/accounts/second-factor/", {"code": current_code(device)}).status_code == 302
    return admin


def test_after_an_administrator_resets_the_app_the_new_key_cannot_be_captured(
    client, required, chair
):
    old = TOTPDevice.objects.create(user=chair.user, name="app", confirmed=True)
    admin = verified_superuser(required)
    reset = admin.post(f"/admin/otp_totp/totpdevice/{old.pk}/delete/", {"post": "yes"})
    assert reset.status_code == 302
    assert not TOTPDevice.objects.filter(user=chair.user).exists()

    attacker = Client()
    attackers_key = key_shown(sign_in(attacker, chair))
    users_key = key_shown(sign_in(client, chair))
    assert users_key != attackers_key
    confirmed = client.post("/accounts/second-factor/setup/", {"code": code_for(users_key)})
    assert confirmed["Location"] == "/"

    # A minute on, so the code is not refused merely as one already used.
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        response = attacker.post("/accounts/second-factor/", {"code": code_for(attackers_key)})

    assert "That code is not right" in response.content.decode()
    assert attacker.get("/children/").status_code == 302


def test_admin_does_not_show_anyones_authenticator_key(required, chair):
    device = TOTPDevice.objects.create(user=chair.user, name="app", confirmed=True)
    admin = verified_superuser(required)

    page = admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")

    assert page.status_code == 200
    assert device.key not in page.content.decode()
    assert admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403
    assert admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
