"""A TOTP second factor before any case data, when the setting requires it (production)."""

import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.staff.factories import PASSWORD


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
    assert response.redirect_chain[-1][0] == reverse("escalations:mine")
