"""Single sign-on through the council's provider: who is let in, as which staff record.

Every test signs in through the real test provider (tests/sso/conftest.py) with the
Django test client; nothing of mozilla-django-oidc is mocked.
"""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY, get_user_model
from django.urls import reverse

from staff.models import IdentityProvider
from tests.sso.fixtures import PEOPLE
from tests.staff.factories import PASSWORD

pytestmark = pytest.mark.django_db

NO_ACCESS = "Your council has not given you access"


def signed_in_user_id(client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


def test_a_first_sign_in_links_the_staff_record_with_the_same_email(
    client, identity_provider, staff_for, sign_in_with_provider, oidc_provider
):
    pat = staff_for("pat")

    response = sign_in_with_provider(client, identity_provider, "pat")

    assert response.status_code == 302
    assert response["Location"] == reverse("escalations:todo")
    assert signed_in_user_id(client) == pat.user.pk
    pat.refresh_from_db()
    assert pat.sso_provider == identity_provider
    assert pat.sso_subject == oidc_provider.people["pat"]["sub"]


def test_once_linked_the_subject_matches_even_when_the_email_no_longer_does(
    client, identity_provider, staff_for, sign_in_with_provider, oidc_provider
):
    pat = staff_for("pat")
    pat.sso_provider = identity_provider
    pat.sso_subject = oidc_provider.people["pat"]["sub"]
    pat.save()
    pat.user.email = "pat.renamed@rutland.example"
    pat.user.save()

    sign_in_with_provider(client, identity_provider, "pat")

    assert signed_in_user_id(client) == pat.user.pk


def test_an_email_match_does_not_take_over_a_record_linked_to_someone_else(
    client, identity_provider, staff_for, sign_in_with_provider
):
    pat = staff_for("pat")
    pat.sso_provider = identity_provider
    pat.sso_subject = "someone-else-at-the-provider"
    pat.save()

    response = sign_in_with_provider(client, identity_provider, "pat")

    assert response.status_code == 403
    assert NO_ACCESS in response.content.decode()
    assert signed_in_user_id(client) is None


def test_the_oid_claim_is_the_subject_when_the_provider_is_set_to_it(
    client, identity_provider, staff_for, sign_in_with_provider, oidc_provider
):
    identity_provider.subject_claim = IdentityProvider.SubjectClaim.OID
    identity_provider.save()
    pat = staff_for("pat")

    sign_in_with_provider(client, identity_provider, "pat")

    pat.refresh_from_db()
    assert pat.sso_subject == oidc_provider.people["pat"]["oid"]


def test_a_person_without_a_staff_record_gets_the_plain_page_and_a_log_line_without_their_email(
    client, identity_provider, sign_in_with_provider, oidc_provider, caplog
):
    with caplog.at_level(logging.WARNING, logger="staff.sso"):
        response = sign_in_with_provider(client, identity_provider, "lee")

    assert response.status_code == 403
    assert NO_ACCESS in response.content.decode()
    assert signed_in_user_id(client) is None
    refusals = [r.getMessage() for r in caplog.records if r.name == "staff.sso"]
    assert len(refusals) == 1
    assert oidc_provider.people["lee"]["sub"] in refusals[0]
    assert PEOPLE["lee"][0] not in refusals[0]
    assert "lee" not in refusals[0].replace(oidc_provider.people["lee"]["sub"], "")


def test_the_provider_never_creates_users_or_staff_records(
    client, identity_provider, sign_in_with_provider
):
    users_before = get_user_model().objects.count()

    sign_in_with_provider(client, identity_provider, "lee")

    assert get_user_model().objects.count() == users_before


def test_staff_of_another_authority_with_the_same_email_is_not_matched(
    client, identity_provider, staff_of, sign_in_with_provider
):
    staff_of("gloucestershire", "social-worker", user__email=PEOPLE["pat"][0])

    response = sign_in_with_provider(client, identity_provider, "pat")

    assert response.status_code == 403
    assert signed_in_user_id(client) is None


def test_an_email_outside_the_providers_domains_is_not_linked(
    client, identity_provider, staff_for, sign_in_with_provider
):
    identity_provider.email_domains = "rutland.gov.uk"
    identity_provider.save()
    staff_for("pat")

    response = sign_in_with_provider(client, identity_provider, "pat")

    assert response.status_code == 403
    assert signed_in_user_id(client) is None


def test_an_inactive_staff_record_cannot_sign_in(
    client, identity_provider, staff_for, sign_in_with_provider
):
    staff_for("pat", is_active=False)

    response = sign_in_with_provider(client, identity_provider, "pat")

    assert response.status_code == 403
    assert NO_ACCESS in response.content.decode()
    assert signed_in_user_id(client) is None


def test_a_disabled_account_cannot_sign_in_even_when_already_linked(
    client, identity_provider, staff_for, sign_in_with_provider, oidc_provider
):
    pat = staff_for("pat", user__is_active=False)
    pat.sso_provider = identity_provider
    pat.sso_subject = oidc_provider.people["pat"]["sub"]
    pat.save()

    response = sign_in_with_provider(client, identity_provider, "pat")

    assert response.status_code == 403
    assert signed_in_user_id(client) is None


def test_a_platform_superuser_cannot_sign_in_through_a_provider(
    client, identity_provider, staff_for, sign_in_with_provider
):
    staff_for("pat", user__is_superuser=True, user__is_staff=True)

    response = sign_in_with_provider(client, identity_provider, "pat")

    assert response.status_code == 403
    assert signed_in_user_id(client) is None


# The second factor ---------------------------------------------------------------------


def test_a_token_saying_mfa_was_done_skips_the_apps_own_code(
    client, settings, identity_provider, staff_for, sign_in_with_provider
):
    settings.REQUIRE_SECOND_FACTOR = True
    staff_for("pat")  # the provider says pat did MFA (amr: pwd, mfa)
    sign_in_with_provider(client, identity_provider, "pat")

    response = client.get(reverse("escalations:mine"))

    assert response.status_code == 200


def test_a_token_without_mfa_still_asks_for_the_apps_own_code(
    client, settings, identity_provider, staff_for, sign_in_with_provider
):
    settings.REQUIRE_SECOND_FACTOR = True
    kim = staff_for("kim")  # amr: pwd only
    sign_in_with_provider(client, identity_provider, "kim")

    response = client.get(reverse("escalations:mine"))

    assert signed_in_user_id(client) == kim.user.pk
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("second_factor"))


def test_a_provider_trusted_to_enforce_mfa_skips_the_code_without_amr(
    client, settings, identity_provider, staff_for, sign_in_with_provider
):
    settings.REQUIRE_SECOND_FACTOR = True
    identity_provider.second_factor = IdentityProvider.SecondFactor.PROVIDER
    identity_provider.save()
    staff_for("kim")
    sign_in_with_provider(client, identity_provider, "kim")

    response = client.get(reverse("escalations:mine"))

    assert response.status_code == 200


def test_a_provider_set_to_always_ask_asks_for_the_code_even_after_mfa(
    client, settings, identity_provider, staff_for, sign_in_with_provider
):
    settings.REQUIRE_SECOND_FACTOR = True
    identity_provider.second_factor = IdentityProvider.SecondFactor.APP
    identity_provider.save()
    staff_for("pat")
    sign_in_with_provider(client, identity_provider, "pat")

    response = client.get(reverse("escalations:mine"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("second_factor"))


def test_a_later_password_sign_in_in_the_same_session_does_not_inherit_the_providers_mfa(
    client, settings, identity_provider, staff_for, sign_in_with_provider
):
    settings.REQUIRE_SECOND_FACTOR = True
    pat = staff_for("pat")
    sign_in_with_provider(client, identity_provider, "pat")

    client.post(reverse("login"), {"username": pat.user.username, "password": PASSWORD})
    response = client.get(reverse("escalations:mine"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("second_factor"))


# Local passwords -------------------------------------------------------------------------


def test_a_password_is_refused_where_the_authority_switched_passwords_off(
    client, identity_provider, staff_for
):
    identity_provider.local_passwords_allowed = False
    identity_provider.save()
    pat = staff_for("pat")

    response = client.post(reverse("login"), {"username": pat.user.username, "password": PASSWORD})

    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    assert "Sign in with Rutland test council" in response.content.decode()
    assert "not a password here" in response.content.decode()


def test_the_admin_sign_in_also_refuses_a_password_switched_off(
    client, identity_provider, staff_for
):
    identity_provider.local_passwords_allowed = False
    identity_provider.save()
    pat = staff_for("pat", user__is_staff=True)

    client.post(reverse("admin:login"), {"username": pat.user.username, "password": PASSWORD})

    assert signed_in_user_id(client) is None


def test_a_wrong_password_is_not_told_that_passwords_are_switched_off(
    client, identity_provider, staff_for
):
    identity_provider.local_passwords_allowed = False
    identity_provider.save()
    pat = staff_for("pat")

    response = client.post(reverse("login"), {"username": pat.user.username, "password": "no"})

    assert "Enter a correct username and password" in response.content.decode()
    assert "not a password here" not in response.content.decode()


def test_a_platform_superuser_keeps_their_password_where_passwords_are_off(
    client, identity_provider, staff_for
):
    identity_provider.local_passwords_allowed = False
    identity_provider.save()
    boss = staff_for("pat", user__is_superuser=True, user__is_staff=True)

    client.post(reverse("login"), {"username": boss.user.username, "password": PASSWORD})

    assert signed_in_user_id(client) == boss.user.pk


def test_staff_of_an_authority_that_switched_passwords_off_can_use_the_provider(
    client, identity_provider, staff_for, sign_in_with_provider
):
    identity_provider.local_passwords_allowed = False
    identity_provider.save()
    pat = staff_for("pat")

    sign_in_with_provider(client, identity_provider, "pat")

    assert signed_in_user_id(client) == pat.user.pk


def test_the_sign_in_page_offers_the_councils_button(client, identity_provider):
    response = client.get(reverse("login") + "?next=/escalations/")

    page = response.content.decode()
    assert "Sign in with Rutland test council" in page
    assert f"{reverse('sso_start', args=[identity_provider.pk])}?next=/escalations/" in page


# django-axes ---------------------------------------------------------------------------


def test_a_refused_provider_sign_in_does_not_count_as_a_failed_password(
    client, identity_provider, sign_in_with_provider
):
    sign_in_with_provider(client, identity_provider, "lee")

    assert not AccessAttempt.objects.exists()


def test_an_address_locked_out_for_passwords_can_still_sign_in_with_the_provider(
    client, settings, identity_provider, staff_for, sign_in_with_provider
):
    AccessAttempt.objects.create(
        username="someone", ip_address="127.0.0.1", failures_since_start=10_000
    )
    pat = staff_for("pat")

    sign_in_with_provider(client, identity_provider, "pat")

    assert signed_in_user_id(client) == pat.user.pk


# When the provider cannot be used --------------------------------------------------------


def test_an_unreachable_provider_gives_a_plain_page_not_an_error(client, identity_provider):
    identity_provider.discovery_url = "http://127.0.0.1:9/openid"
    identity_provider.save()

    response = client.get(reverse("sso_start", args=[identity_provider.pk]))

    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()


def test_a_provider_whose_secret_is_not_set_gives_a_plain_page_not_an_error(
    client, identity_provider, staff_for, sign_in_with_provider, monkeypatch
):
    staff_for("pat")
    monkeypatch.delenv(identity_provider.client_secret_env)

    response = sign_in_with_provider(client, identity_provider, "pat")

    assert response.status_code == 503
    assert signed_in_user_id(client) is None
