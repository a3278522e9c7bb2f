"""Idle sessions end, but a form sent after the end is kept for its author (config/timeout.py),
and "Stay signed in" restarts the idle limit (config/views.py)."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from config.timeout import USER_COOKIE, warning_lead_seconds
from tests.staff.factories import PASSWORD

KEPT = re.compile(r'<script id="app-kept-form" type="application/json">(.*?)</script>', re.S)
TYPED = {
    "summary": "Core group meetings have not happened for eight weeks.",
    "desired_outcome": "A core group meeting within five working days.",
    "categories": ["1", "2"],
}


@pytest.fixture
def chair(staff_of):
    return staff_of("rutland", "cp-chair")


@pytest.fixture
def raise_url(child_of) -> str:
    return reverse("escalations:raise", args=[child_of("rutland").pk])


def _signed_in_then_idle(client, staff, url: str) -> None:
    """Signed in, the form page opened, then the session ended on the server."""
    client.force_login(staff.user)
    assert client.get(url).status_code == 200
    Session.objects.all().delete()


def _sign_in(client, staff, next_url: str):
    return client.post(
        reverse("login"),
        {"username": staff.user.username, "password": PASSWORD, "next": next_url},
        follow=True,
    )


def _kept(response) -> dict | None:
    match = KEPT.search(response.content.decode())
    return json.loads(match.group(1)) if match else None


def test_a_form_sent_after_the_session_ended_comes_back_filled_in_after_signing_in(
    client, chair, raise_url
):
    _signed_in_then_idle(client, chair, raise_url)

    sent = client.post(raise_url, TYPED)
    assert sent.status_code == 302
    assert sent["Location"].startswith(reverse("login"))

    page = _sign_in(client, chair, raise_url)
    assert page.redirect_chain[-1][0] == raise_url
    assert _kept(page) == {
        "summary": [TYPED["summary"]],
        "desired_outcome": [TYPED["desired_outcome"]],
        "categories": ["1", "2"],
    }
    assert "What you had typed has been filled in again" in page.content.decode()


def test_a_kept_form_is_shown_once(client, chair, raise_url):
    _signed_in_then_idle(client, chair, raise_url)
    client.post(raise_url, TYPED)
    _sign_in(client, chair, raise_url)

    again = client.get(raise_url)

    assert _kept(again) is None


def test_a_kept_form_leaves_out_the_old_token_and_the_files(client, chair, raise_url):
    _signed_in_then_idle(client, chair, raise_url)
    client.post(
        raise_url,
        {
            **TYPED,
            "csrfmiddlewaretoken": "old-token",
            "recipients_seen": "signature",
            "attachments": SimpleUploadedFile("plan.pdf", b"%PDF-1.4", "application/pdf"),
        },
    )

    page = _sign_in(client, chair, raise_url)

    kept = _kept(page)
    assert set(kept) == {"summary", "desired_outcome", "categories"}
    assert "Files you had attached were not kept: attach them again." in page.content.decode()


def test_a_kept_form_is_never_shown_to_someone_else_signing_in_in_that_browser(
    client, chair, staff_of, raise_url
):
    _signed_in_then_idle(client, chair, raise_url)
    client.post(raise_url, TYPED)
    other_chair = staff_of("rutland", "cp-chair")

    page = _sign_in(client, other_chair, raise_url)

    assert _kept(page) is None
    assert TYPED["summary"] not in page.content.decode()
    # Dropped, not merely hidden: the author signing in later finds nothing either.
    assert "kept_form" not in client.session


def test_nothing_is_kept_from_a_browser_nobody_signed_in_on(client, chair, raise_url):
    client.cookies[USER_COOKIE] = str(chair.user.pk)  # not signed by the server

    client.post(raise_url, TYPED)

    page = _sign_in(client, chair, raise_url)
    assert _kept(page) is None


def test_signing_out_forgets_who_was_signed_in(client, chair, raise_url):
    client.force_login(chair.user)
    client.get(raise_url)
    assert client.cookies[USER_COOKIE].value

    response = client.post(reverse("logout"))

    assert response.cookies[USER_COOKIE].value == ""
    assert response.cookies[USER_COOKIE]["max-age"] == 0


def test_stay_signed_in_restarts_the_idle_limit(client, chair, settings):
    client.force_login(chair.user)
    # Five seconds from the end of the idle limit.
    Session.objects.update(expire_date=timezone.now() + timedelta(seconds=5))

    response = client.post(reverse("session_extend"))

    assert response.status_code == 200
    assert response.json()["signed_in"] is True
    left = Session.objects.get().expire_date - timezone.now()
    assert left > timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_stay_signed_in_does_not_revive_an_ended_session(client):
    response = client.post(reverse("session_extend"))

    assert response.status_code == 401
    assert response.json() == {"signed_in": False}


def test_stay_signed_in_takes_only_a_post(client, chair):
    client.force_login(chair.user)

    assert client.get(reverse("session_extend")).status_code == 405


def test_the_warning_comes_two_minutes_before_the_idle_limit_or_half_way_through_a_short_one():
    assert warning_lead_seconds(30 * 60) == 120
    assert warning_lead_seconds(60) == 30


def test_signed_in_pages_carry_the_warning_with_the_idle_limit(client, chair, settings):
    settings.SESSION_COOKIE_AGE = 600
    client.force_login(chair.user)

    page = client.get(reverse("escalations:mine")).content.decode()

    assert 'data-idle-seconds="600"' in page
    assert 'data-warning-seconds="120"' in page
    assert "Stay signed in" in page


def test_the_sign_in_page_has_no_warning(client, db):
    assert "Stay signed in" not in client.get(reverse("login")).content.decode()
