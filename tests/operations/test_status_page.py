"""The administrators' status page: the health checks in words (admin/status/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from operations.services import sweep_run_record
from tests.staff.factories import UserFactory

pytestmark = pytest.mark.django_db


def page(user) -> object:
    client = Client()
    client.force_login(user)
    return client.get("/admin/status/")


def test_an_administrator_sees_each_part_in_words():
    sweep_run_record(
        finished_at=timezone.now() - timedelta(minutes=4),
        notifications_created=2,
        auto_escalated=0,
    )

    response = page(UserFactory(is_staff=True))
    text = response.content.decode()

    assert response.status_code == 200
    assert "Everything is working." in text
    assert "Database" in text and "Answering." in text
    assert "No e-mail waiting to be sent." in text
    assert "4 minutes ago." in text


def test_an_administrator_is_told_in_words_when_the_sweep_has_stopped():
    sweep_run_record(
        finished_at=timezone.now() - timedelta(hours=3),
        notifications_created=0,
        auto_escalated=0,
    )

    text = page(UserFactory(is_staff=True)).content.decode()

    assert "Something needs attention." in text
    assert "No sweep has finished in the last 15 minutes." in text
    assert "3 hours ago." in text


def test_someone_who_is_not_an_administrator_is_sent_to_the_admin_sign_in():
    response = page(UserFactory(is_staff=False))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
