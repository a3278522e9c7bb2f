"""Django admin too: the time-out warning, and a change form saved after the session ended
is kept for its author and shown again filled in after signing in to admin (config/timeout.py,
templates/admin/base_site.html)."""

import json
import re

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from policies.models import LocalAuthority
from staff.services import authority_admin_grant
from tests.staff.factories import PASSWORD

KEPT = re.compile(r'<script id="app-kept-form" type="application/json">(.*?)</script>', re.S)
NOTICE = "What you had typed has been filled in again"


@pytest.fixture
def administrator(staff_of) -> User:
    """Rutland's administrator in Django admin."""
    user = staff_of("rutland", "service-manager").user
    authority_admin_grant(user=user)
    return user


@pytest.fixture
def rutland(ladders) -> LocalAuthority:
    return ladders["rutland"].authority


@pytest.fixture
def change_url(rutland) -> str:
    return reverse("admin:policies_localauthority_change", args=[rutland.pk])


def _typed(rutland) -> dict[str, str]:
    """The authority's change form with a closure day typed into its inline."""
    return {
        "closure_days-TOTAL_FORMS": "1",
        "closure_days-INITIAL_FORMS": "0",
        "closure_days-MIN_NUM_FORMS": "0",
        "closure_days-MAX_NUM_FORMS": "1000",
        "closure_days-0-authority": str(rutland.pk),
        "closure_days-0-date": "2026-12-29",
        "closure_days-0-description": "Offices shut between Christmas and New Year",
        "_continue": "Save and continue editing",
    }


def _signed_in_then_idle(client, user: User, url: str) -> None:
    """Signed in, the change form opened, then the session ended on the server."""
    client.force_login(user)
    assert client.get(url).status_code == 200
    Session.objects.all().delete()


def _sign_in_to_admin(client, user: User, next_url: str):
    return client.post(
        reverse("admin:login"),
        {"username": user.username, "password": PASSWORD, "next": next_url},
        follow=True,
    )


def _kept(response) -> dict | None:
    match = KEPT.search(response.content.decode())
    return json.loads(match.group(1)) if match else None


def test_an_admin_change_form_saved_after_the_session_ended_is_sent_to_the_admin_sign_in(
    client, administrator, change_url
):
    _signed_in_then_idle(client, administrator, change_url)

    sent = client.post(change_url, {})

    assert sent.status_code == 302
    assert sent["Location"].startswith(reverse("admin:login"))


def test_an_admin_change_form_with_its_inline_comes_back_filled_in_after_signing_in(
    client, administrator, rutland, change_url
):
    _signed_in_then_idle(client, administrator, change_url)
    client.post(change_url, _typed(rutland))

    page = _sign_in_to_admin(client, administrator, change_url)

    assert page.redirect_chain[-1][0] == change_url
    kept = _kept(page)
    assert kept["closure_days-0-date"] == ["2026-12-29"]
    assert kept["closure_days-0-description"] == ["Offices shut between Christmas and New Year"]
    assert NOTICE in page.content.decode()
    # Kept, not saved: nothing reached the database while signed out.
    assert not rutland.closure_days.exists()


def test_an_admin_form_kept_leaves_out_the_old_token_and_says_files_were_not_kept(
    client, administrator, rutland, change_url
):
    _signed_in_then_idle(client, administrator, change_url)
    client.post(
        change_url,
        {
            **_typed(rutland),
            "csrfmiddlewaretoken": "old-token",
            "upload": SimpleUploadedFile("days.csv", b"date\n2026-12-29\n", "text/csv"),
        },
    )

    page = _sign_in_to_admin(client, administrator, change_url)

    assert "csrfmiddlewaretoken" not in _kept(page)
    assert "Files you had attached were not kept: attach them again." in page.content.decode()


def test_an_admin_form_kept_is_never_shown_to_another_administrator(
    client, administrator, staff_of, rutland, change_url
):
    _signed_in_then_idle(client, administrator, change_url)
    client.post(change_url, _typed(rutland))
    other = staff_of("rutland", "service-manager").user
    authority_admin_grant(user=other)

    page = _sign_in_to_admin(client, other, change_url)

    assert _kept(page) is None
    assert "Offices shut between Christmas" not in page.content.decode()
    assert "kept_form" not in client.session


def test_admin_pages_carry_the_warning_with_its_own_script_and_no_inline_one(
    client, administrator, change_url, settings
):
    settings.SESSION_COOKIE_AGE = 600
    client.force_login(administrator)

    page = client.get(change_url).content.decode()

    assert 'data-idle-seconds="600"' in page
    assert 'data-warning-seconds="120"' in page
    assert "Stay signed in" in page
    assert 'type="module" src="/static/app/admin_timeout.js"' in page
    # Every script is a file of our own origin (the strict content security policy).
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", page)


def test_the_admin_sign_in_page_has_no_warning(client, db):
    assert "Stay signed in" not in client.get(reverse("admin:login")).content.decode()
