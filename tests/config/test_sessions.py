"""The idle limit restarts at most once a minute, not with a write on every request
(config/sessions.py)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse

START = datetime(2026, 11, 16, 10, tzinfo=ZoneInfo("Europe/London"))
PAGE = "/notifications/"


@pytest.fixture
def signed_in(client, staff_of, time_machine):
    time_machine.move_to(START, tick=False)
    client.force_login(staff_of("rutland", "cp-chair").user)
    assert client.get(PAGE).status_code == 200
    return client


def expires() -> datetime:
    return Session.objects.get().expire_date


def test_a_request_within_a_minute_of_the_last_restart_writes_nothing(signed_in, time_machine):
    before = expires()
    time_machine.move_to(START + timedelta(seconds=45), tick=False)

    assert signed_in.get(PAGE).status_code == 200

    assert expires() == before


def test_a_request_a_minute_after_the_last_restart_restarts_the_idle_limit(signed_in, time_machine):
    later = START + timedelta(seconds=settings.SESSION_REFRESH_SECONDS)
    time_machine.move_to(later, tick=False)

    assert signed_in.get(PAGE).status_code == 200

    assert expires() == later + timedelta(seconds=settings.SESSION_COOKIE_AGE)


def test_requests_every_half_minute_keep_a_session_going_past_the_idle_limit(
    signed_in, time_machine
):
    moment = START
    while moment < START + timedelta(seconds=settings.SESSION_COOKIE_AGE * 2):
        moment += timedelta(seconds=30)
        time_machine.move_to(moment, tick=False)
        assert signed_in.get(PAGE).status_code == 200


def test_a_session_idle_for_the_limit_has_ended(signed_in, time_machine):
    time_machine.move_to(START + timedelta(seconds=settings.SESSION_COOKIE_AGE + 1), tick=False)

    response = signed_in.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
