"""Delivery when things fail: the broker is down, the mail server refuses, retries run out.

Everything happens on Monday 2 November 2026 (no bank holiday near). The e-mail is the
"step raised" notice to the social worker of a Gloucestershire informal stage (due
Wed 4 Nov, so no sweep here makes a reminder).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command

from config.celery import app as celery_app
from escalations import services
from escalations.models import Escalation, Step
from notifications.models import EmailStatus, Kind, Notification
from notifications.services import MAX_ATTEMPTS, deliver
from notifications.sweep import process_due

NOW = datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/London"))
CLOSED_PORT = "redis://127.0.0.1:1/0"
SUMMARY = "Core group meetings have not been held for ten weeks."


def sweep(now: datetime) -> None:
    with time_machine.travel(now, tick=False):
        process_due(now)


def minutes(n: int) -> datetime:
    return NOW + timedelta(minutes=n)


@pytest.fixture
def raise_concern(ladders, staff_of, child_of):
    """raise_concern() -> the escalation raised by a chair at NOW (one e-mail: step raised)."""
    chair = staff_of("gloucestershire", "cp-chair")
    social_worker = staff_of("gloucestershire", "social-worker")
    child = child_of("gloucestershire", first_name="Amy", last_name="Zed")

    def make() -> Escalation:
        with time_machine.travel(NOW, tick=False):
            return services.escalation_raise(
                actor=chair,
                policy=ladders["gloucestershire"],
                children=[child],
                summary=SUMMARY,
                responder=social_worker,
                now=NOW,
            )

    return make


@pytest.fixture
def notification(raise_concern) -> Notification:
    """The pending "step raised" row, never handed over (on_commit does not run here)."""
    raise_concern()
    return Notification.objects.get()


# --- the broker is down ----------------------------------------------------------------------


def _drop_connection_pools() -> None:
    """Make the app take its pools afresh for the broker URL now set. (Not closed: kombu
    keeps them in a registry shared by URL, and a closed one would be handed out again.)"""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down(settings) -> Iterator[None]:
    """REDIS_URL and the Celery app both at a port where nothing listens, with short
    connection timeouts; the app's settings and pools are put back afterwards."""
    keys = ("broker_url", "broker_connection_timeout", "broker_transport_options")
    saved = {key: celery_app.conf[key] for key in keys}
    settings.REDIS_URL = CLOSED_PORT
    celery_app.conf.broker_url = CLOSED_PORT
    celery_app.conf.broker_connection_timeout = 1
    celery_app.conf.broker_transport_options = {"socket_timeout": 1, "socket_connect_timeout": 1}
    _drop_connection_pools()
    try:
        yield
    finally:
        celery_app.conf.update(saved)
        _drop_connection_pools()


def test_a_chair_can_raise_an_escalation_while_the_broker_is_down(
    broker_down, raise_concern, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as handed_over:
        escalation = raise_concern()

    assert len(handed_over) == 1  # the hand-over to the broker was tried, after commit
    assert Escalation.objects.filter(pk=escalation.pk).exists()
    assert Step.objects.filter(escalation=escalation).count() == 1
    notification = Notification.objects.get()
    assert (notification.kind, notification.email_status, notification.attempts) == (
        Kind.STEP_RAISED,
        EmailStatus.PENDING,
        0,
    )
    assert mail.outbox == []


def test_raising_an_escalation_does_not_wait_for_a_broker_that_is_down(
    broker_down, raise_concern, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        raise_concern()  # the first pays for imports and setting up the Celery app

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        raise_concern()
    elapsed = time.monotonic() - started

    # A refused connection is immediate: anything longer is the request waiting on
    # connection retries to a broker that is not there.
    assert elapsed < 1.0, f"the raise took {elapsed:.1f} s"


def test_when_the_broker_returns_the_sweep_sends_the_waiting_email_once(
    broker_down, raise_concern, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        escalation = raise_concern()
    settings.REDIS_URL = ""  # the broker returns (here: delivery in-process)

    sweep(minutes(3))
    sweep(minutes(6))

    responder = escalation.steps.get().responder
    assert [m.to for m in mail.outbox] == [[responder.user.email]]
    notification = Notification.objects.get()
    assert (notification.email_status, notification.attempts, notification.sent_at) == (
        EmailStatus.SENT,
        1,
        minutes(3),
    )


def test_the_sweep_leaves_a_fresh_row_to_its_own_hand_over_for_two_minutes(notification):
    sweep(minutes(1))

    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (EmailStatus.PENDING, 0)
    assert mail.outbox == []


# --- the mail server fails -------------------------------------------------------------------


class RefusedByMailServer(Exception):
    pass


class FlakyBackend(BaseEmailBackend):
    """Refuses the first `failures` sends (the error quotes an address), then sends."""

    failures = 2
    calls = 0
    sent: list = []

    def send_messages(self, email_messages):
        FlakyBackend.calls += 1
        if FlakyBackend.calls <= FlakyBackend.failures:
            raise RefusedByMailServer("550 5.1.1 <amy.zed@example.invalid>: mailbox unavailable")
        FlakyBackend.sent.extend(email_messages)
        return len(email_messages)


@pytest.fixture
def flaky_backend(settings) -> type[FlakyBackend]:
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures, FlakyBackend.calls, FlakyBackend.sent = 2, 0, []
    return FlakyBackend


@pytest.fixture
def failing_backend(flaky_backend) -> type[FlakyBackend]:
    flaky_backend.failures = 1000
    return flaky_backend


def test_a_failed_send_raises_and_counts_the_attempt(flaky_backend, notification):
    with pytest.raises(RefusedByMailServer):
        deliver(notification_id=notification.pk, now=NOW)

    notification.refresh_from_db()
    assert (notification.attempts, notification.email_status) == (1, EmailStatus.PENDING)


def test_a_failed_send_records_only_the_type_of_error(flaky_backend, notification):
    for _ in range(2):
        with pytest.raises(RefusedByMailServer):
            deliver(notification_id=notification.pk, now=NOW)

    notification.refresh_from_db()
    assert notification.last_error == "RefusedByMailServer on attempt 2"
    assert notification.email_status == EmailStatus.PENDING


def test_the_third_attempt_sends_exactly_one_email(flaky_backend, notification):
    for _ in range(2):
        with pytest.raises(RefusedByMailServer):
            deliver(notification_id=notification.pk, now=NOW)

    assert deliver(notification_id=notification.pk, now=minutes(5)) is True
    assert deliver(notification_id=notification.pk, now=minutes(6)) is False

    assert [m.to for m in flaky_backend.sent] == [[notification.recipient.user.email]]
    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts, notification.sent_at) == (
        EmailStatus.SENT,
        3,
        minutes(5),
    )


def test_after_max_attempts_failures_the_row_is_marked_failed(failing_backend, notification):
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(RefusedByMailServer):
            deliver(notification_id=notification.pk, now=NOW)

    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (
        EmailStatus.FAILED,
        MAX_ATTEMPTS,
    )


def test_a_failed_row_is_not_tried_again(failing_backend, notification):
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(RefusedByMailServer):
            deliver(notification_id=notification.pk, now=NOW)

    assert deliver(notification_id=notification.pk, now=NOW) is False
    sweep(minutes(10))

    assert failing_backend.calls == MAX_ATTEMPTS


def test_the_sweep_retries_a_refused_email_until_it_goes(flaky_backend, notification):
    sweep(minutes(3))
    sweep(minutes(6))
    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (EmailStatus.PENDING, 2)

    sweep(minutes(9))
    sweep(minutes(12))

    assert len(flaky_backend.sent) == 1
    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (EmailStatus.SENT, 3)


def test_the_sweep_gives_up_after_max_attempts(failing_backend, notification):
    for n in range(MAX_ATTEMPTS + 2):
        sweep(minutes(3 * (n + 1)))

    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (
        EmailStatus.FAILED,
        MAX_ATTEMPTS,
    )
    assert failing_backend.calls == MAX_ATTEMPTS


def test_a_refused_email_puts_no_address_in_the_log(flaky_backend, notification, caplog):
    with caplog.at_level(logging.DEBUG):
        sweep(minutes(3))

    assert caplog.records, "the failure should be logged"
    assert "example.invalid" not in caplog.text
    assert "mailbox unavailable" not in caplog.text


# --- the operator's list ---------------------------------------------------------------------


def list_notifications(*args: str) -> str:
    out = StringIO()
    call_command("list_notifications", *args, stdout=out)
    return out.getvalue()


def test_list_notifications_lists_a_failed_row_without_personal_data(failing_backend, notification):
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(RefusedByMailServer):
            deliver(notification_id=notification.pk, now=NOW)

    output = list_notifications("--status", "failed")

    [row, total] = output.splitlines()
    assert row.startswith(f"#{notification.pk} failed")
    assert notification.escalation.reference in row
    assert f"attempts {MAX_ATTEMPTS}" in row
    assert "RefusedByMailServer" in row
    assert total == "1 notification(s) failed."
    recipient = notification.recipient.user
    for personal in (
        "Amy",
        "Zed",
        "AZ",
        recipient.first_name,
        recipient.last_name,
        recipient.username,
        notification.escalation.raised_by.user.last_name,
        "@",
        "example.invalid",
        SUMMARY[:20],
    ):
        assert personal not in output


def test_list_notifications_lists_pending_rows(notification):
    output = list_notifications("--status", "pending")

    [row, total] = output.splitlines()
    assert row.startswith(f"#{notification.pk} pending  step_raised")
    assert total == "1 notification(s) pending."


def test_list_notifications_leaves_out_rows_that_were_sent(notification):
    deliver(notification_id=notification.pk, now=NOW)

    assert list_notifications().splitlines() == ["0 notification(s) pending or failed."]


def test_the_celery_task_retries_with_the_error_type_only(flaky_backend, notification):
    from notifications.tasks import DeliveryFailed, send_notification

    with pytest.raises(DeliveryFailed) as failed:
        send_notification.run(notification.pk)

    # What Celery would log on retry: no address from the mail server's message.
    assert str(failed.value) == "RefusedByMailServer"
    assert failed.value.__cause__ is None
