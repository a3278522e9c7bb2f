"""/health/ for monitoring and /health/live/ for the load balancer (operations/checks.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from escalations import services
from escalations.sweep import process_due
from notifications.models import EmailStatus, Notification
from operations.models import SweepRun
from operations.services import sweep_run_record
from tests.fixtures import first_category
from tests.staff.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET_FIRST, SECRET_LAST = "Marigold", "Featherstonehaugh"
SECRET_SUMMARY = "Visits at Wren Cottage stopped in May."


def swept(minutes_ago: float) -> None:
    sweep_run_record(
        finished_at=timezone.now() - timedelta(minutes=minutes_ago),
        notifications_created=0,
        auto_escalated=0,
    )


def health(client: Client | None = None, **extra):
    return (client or Client()).get("/health/", {"format": "json"}, **extra)


def test_healthy_when_the_database_answers_and_a_sweep_finished_recently():
    swept(minutes_ago=3)

    response = health()

    assert response.status_code == 200
    assert response.json() == {"Database": "OK", "Outbox": "OK", "Deadline sweep": "OK"}


def test_unhealthy_when_no_sweep_finished_in_15_minutes():
    swept(minutes_ago=16)

    response = health()

    assert response.status_code == 500
    assert response.json()["Deadline sweep"] == (
        "Unavailable: No sweep has finished in the last 15 minutes."
    )


def test_unhealthy_before_any_sweep_has_run():
    assert health().status_code == 500


def test_the_sweep_itself_records_that_it_finished(ladders):
    assert health().status_code == 500

    process_due(timezone.now())

    assert SweepRun.objects.count() == 1
    assert health().status_code == 200


def test_the_sweep_interval_is_a_setting(settings):
    settings.SWEEP_ALERT_MINUTES = 5
    swept(minutes_ago=6)
    assert health().status_code == 500


@pytest.fixture
def pending_email(ladders, staff_of, child_of) -> Notification:
    """An escalation whose step-raised e-mail is still in the outbox, naming a child."""
    child = child_of("rutland", first_name=SECRET_FIRST, last_name=SECRET_LAST)
    services.escalation_raise(
        actor=staff_of("rutland", "cp-chair"),
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=[child],
        summary=SECRET_SUMMARY,
        responder=staff_of("rutland", "service-manager"),
    )
    return Notification.objects.filter(email_status=EmailStatus.PENDING).first()


def make_stuck(notification: Notification, minutes: int) -> None:
    past = timezone.now() - timedelta(minutes=minutes)
    notification.created_at = notification.next_attempt_at = past
    notification.save()


def test_a_pending_email_inside_its_schedule_is_healthy(pending_email):
    swept(minutes_ago=1)
    assert health().status_code == 200


def test_unhealthy_when_an_email_is_stuck_in_the_outbox(pending_email):
    swept(minutes_ago=1)
    make_stuck(pending_email, minutes=40)

    response = health()

    assert response.status_code == 500
    assert response.json()["Outbox"].startswith("Unavailable: 1 e-mail(s) stuck")
    assert "the oldest for 40 minutes" in response.json()["Outbox"]


@pytest.mark.parametrize("fmt", ["json", "text", ""])
def test_reveals_no_personal_data_even_when_unhealthy(pending_email, fmt):
    make_stuck(pending_email, minutes=40)

    response = Client().get("/health/", {"format": fmt} if fmt else {})
    text = response.content.decode()

    assert response.status_code == 500
    for secret in (SECRET_FIRST, SECRET_LAST, SECRET_SUMMARY, pending_email.escalation.reference):
        assert secret not in text
    recipient = pending_email.recipient.user
    for secret in (recipient.last_name, recipient.email, recipient.username):
        assert secret not in text


def test_open_to_a_signed_in_user_who_has_not_passed_the_second_factor(settings):
    settings.REQUIRE_SECOND_FACTOR = True
    swept(minutes_ago=1)
    client = Client()
    client.force_login(UserFactory())

    assert client.get("/escalations/").status_code == 302  # the control: other pages redirect
    assert health(client).status_code == 200


def test_the_html_page_fetches_nothing_from_elsewhere_and_keeps_the_csp():
    swept(minutes_ago=1)

    response = Client().get("/health/")

    assert response.status_code == 200
    assert "<script" not in response.content.decode()
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert (
        response["Cache-Control"].startswith("no-store") or "no-cache" in response["Cache-Control"]
    )


def test_redis_is_checked_when_redis_url_is_set(settings):
    # Nothing listens on port 1: the broker is down.
    settings.REDIS_URL = "redis://:hunter2@127.0.0.1:1/0"
    swept(minutes_ago=1)

    response = health()

    assert response.status_code == 500
    assert response.json()["Redis"].startswith("Unavailable: Unable to connect to Redis")
    assert "127.0.0.1" not in response.content.decode()
    assert "hunter2" not in response.content.decode()


def test_redis_is_not_checked_without_redis_url():
    swept(minutes_ago=1)
    assert "Redis" not in health().json()


def test_the_load_balancers_check_stays_healthy_when_only_the_sweep_is_late():
    # A stopped beat is a page for a person (/health/), not a reason to take every web
    # node out of service.
    swept(minutes_ago=60)

    assert health().status_code != 200
    assert Client().get("/health/live/", {"format": "json"}).status_code == 200
