"""Earlier versions in admin are for reading: they cannot skip the model's checks."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django_otp.conf import settings as otp_settings

from policies.models import Stage
from tests.admin.forms import form_data


def test_history_reverts_are_switched_off():
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True


def test_posting_an_earlier_version_of_a_stage_of_a_policy_in_use_changes_nothing(
    superuser_client, authorities
):
    own, _ = authorities
    stage = own["policies.Stage"]
    assert stage.policy.is_in_use()
    before = (stage.order, stage.response_days)
    page = reverse(
        "admin:policies_stage_simple_history",
        args=[stage.pk, stage.history.latest("history_date").history_id],
    )
    data = form_data(superuser_client.get(page))
    data.update(order="9", response_days="365")

    response = superuser_client.post(page, data, follow=True)

    stage = Stage.objects.get(pk=stage.pk)
    assert (stage.order, stage.response_days) == before
    assert "Earlier versions are read-only" in response.content.decode()


def test_an_earlier_version_of_another_authoritys_record_does_not_open(admin_client_, authorities):
    _, other = authorities
    child = other["children.Child"]
    page = reverse(
        "admin:children_child_simple_history",
        args=[child.pk, child.history.latest("history_date").history_id],
    )

    assert admin_client_.get(page).status_code == 404


def test_an_authority_administrator_never_sees_an_authenticator_key(admin_client_, authorities):
    own, _ = authorities
    device = own["otp_totp.TOTPDevice"]

    response = admin_client_.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))

    assert response.status_code == 200
    assert device.key not in response.content.decode()
    config = reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": device.pk})
    assert admin_client_.get(config).status_code == 403


def test_admin_hides_authenticator_keys_when_the_setting_asks(superuser_client, authorities):
    assert otp_settings.OTP_ADMIN_HIDE_SENSITIVE_DATA
    own, _ = authorities
    device = own["otp_totp.TOTPDevice"]

    response = superuser_client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))

    assert device.key not in response.content.decode()
