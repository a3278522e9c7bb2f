"""Delivery when things fail: the broker is down, the mail server refuses or hangs,
retries run for a day.

Everything happens on Monday 2 November 2026 (no bank holiday near). The e-mail is the
"step raised" notice to the social worker of a Gloucestershire informal stage (due
Wed 4 Nov, so no sweep here makes a reminder).
"""

from __future__ import annotations

import logging
import smtplib
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
from django.db import OperationalError

from config.celery import app as celery_app
from escalations import services
from escalations.models import Escalation, Step
from escalations.sweep import process_due
from notifications.models import EmailStatus, Kind, Notification
from notifications.relay import relay_once
from notifications.services import RETRY_WINDOW, SEND_LEASE, deliver
from tests.fixtures import first_category

NOW = datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/London"))
CLOSED_PORT = "redis://127.0.0.1:1/0"
SUMMARY = "Core group meetings have not been held for ten weeks."


def relay(now: datetime):
    with time_machine.travel(now, tick=False):
        return relay_once(now=now)


def minutes(n: float) -> datetime:
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
                categories=first_category(ladders["gloucestershire"]),
                children=[child],
                summary=SUMMARY,
                responder=social_worker,
                now=NOW,
            )

    return make


@pytest.fixture
def notification(raise_concern) -> Notification:
    """The pending "step raised" row, not yet relayed."""
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


class HangingBackend(BaseEmailBackend):
    """A mail server that accepts the connection and never answers (here: 5 s, then an
    error), counting every attempt."""

    calls = 0

    def send_messages(self, email_messages):
        HangingBackend.calls += 1
        time.sleep(5)
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def mail_server_hung(settings) -> type[HangingBackend]:
    settings.EMAIL_BACKEND = f"{__name__}.HangingBackend"
    HangingBackend.calls = 0
    return HangingBackend


@pytest.fixture
def publishes(monkeypatch) -> list:
    """Every message handed to Celery (recorded, never sent)."""
    from notifications.tasks import send_notification

    published: list = []
    monkeypatch.setattr(
        send_notification, "apply_async", lambda *a, **kw: published.append((a, kw))
    )
    return published


def test_a_chair_can_raise_an_escalation_while_the_broker_is_down(
    broker_down, raise_concern, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as handed_over:
        escalation = raise_concern()

    assert handed_over == []  # nothing is handed over from the request: the relay does it
    assert Escalation.objects.filter(pk=escalation.pk).exists()
    assert Step.objects.filter(escalation=escalation).count() == 1
    notification = Notification.objects.get()
    assert (notification.kind, notification.email_status, notification.attempts) == (
        Kind.STEP_RAISED,
        EmailStatus.PENDING,
        0,
    )
    assert notification.next_attempt_at == notification.created_at == NOW
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

    assert elapsed < 1.0, f"the raise took {elapsed:.1f} s"


def test_raising_sends_and_publishes_nothing_with_the_broker_down_and_the_mail_server_hung(
    broker_down, mail_server_hung, publishes, raise_concern, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        raise_concern()

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        raise_concern()
    elapsed = time.monotonic() - started

    assert elapsed < 1.0, f"the raise took {elapsed:.1f} s"
    assert mail_server_hung.calls == 0
    assert publishes == []
    assert set(Notification.objects.values_list("email_status", "attempts")) == {
        (EmailStatus.PENDING, 0)
    }


def test_raising_on_the_embedded_default_sends_nothing_in_the_request(
    mail_server_hung, raise_concern, django_capture_on_commit_callbacks
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        raise_concern()

    assert time.monotonic() - started < 1.0
    assert mail_server_hung.calls == 0


def test_while_the_broker_is_down_the_relay_releases_its_claim(broker_down, notification):
    report = relay(minutes(0.1))

    assert (report.claimed, report.published, report.released) == (1, 0, 1)
    notification.refresh_from_db()
    assert (notification.email_status, notification.claimed_until, notification.attempts) == (
        EmailStatus.PENDING,
        None,
        0,
    )


def test_when_the_broker_returns_the_relay_sends_the_waiting_email_once(
    broker_down, raise_concern, settings
):
    escalation = raise_concern()
    relay(minutes(0.1))  # the broker is down: released
    settings.REDIS_URL = ""  # the broker returns (here: delivery in-process)

    relay(minutes(0.2))
    relay(minutes(5))

    responder = escalation.steps.get().responder
    assert [m.to for m in mail.outbox] == [[responder.user.email]]
    notification = Notification.objects.get()
    assert (notification.email_status, notification.attempts, notification.sent_at) == (
        EmailStatus.SENT,
        1,
        minutes(0.2),
    )


def test_the_sweep_sends_nothing_itself(notification):
    with time_machine.travel(minutes(10), tick=False):
        process_due(minutes(10))

    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (EmailStatus.PENDING, 0)
    assert mail.outbox == []


def test_the_relay_leaves_a_row_that_is_not_due_yet(notification):
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=minutes(1))

    assert relay(minutes(0.5)).claimed == 0
    assert mail.outbox == []
    assert relay(minutes(1)).sent == 1


# --- the mail server fails -------------------------------------------------------------------


class RefusedByMailServer(smtplib.SMTPResponseException):
    """A refusal whose text quotes the address, as real ones do."""

    def __init__(self) -> None:
        super().__init__(550, b"5.1.1 <amy.zed@example.invalid>: mailbox unavailable")


class FlakyBackend(BaseEmailBackend):
    """Refuses the first `failures` sends (the error quotes an address), then sends."""

    failures = 2
    calls = 0
    sent: list = []
    error: type[Exception] | Exception = RefusedByMailServer

    def send_messages(self, email_messages):
        FlakyBackend.calls += 1
        if FlakyBackend.calls <= FlakyBackend.failures:
            error = FlakyBackend.error
            raise error() if isinstance(error, type) else error
        FlakyBackend.sent.extend(email_messages)
        return len(email_messages)


@pytest.fixture
def flaky_backend(settings) -> type[FlakyBackend]:
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures, FlakyBackend.calls, FlakyBackend.sent = 2, 0, []
    FlakyBackend.error = RefusedByMailServer
    return FlakyBackend


@pytest.fixture
def failing_backend(flaky_backend) -> type[FlakyBackend]:
    flaky_backend.failures = 100_000
    return flaky_backend


def fail_for_a_day(notification: Notification) -> datetime:
    """Relay at every retry until the row is failed; the time it became failed."""
    now = notification.next_attempt_at
    for _ in range(100):
        relay(now)
        notification.refresh_from_db()
        if notification.email_status == EmailStatus.FAILED:
            return now
        now = notification.next_attempt_at
    raise AssertionError("still pending after 100 attempts")


def test_a_failed_send_raises_and_counts_the_attempt(flaky_backend, notification):
    with pytest.raises(RefusedByMailServer):
        deliver(notification_id=notification.pk, now=NOW)

    notification.refresh_from_db()
    assert (notification.attempts, notification.email_status) == (1, EmailStatus.PENDING)


def test_a_failed_send_is_tried_again_fifteen_seconds_later(flaky_backend, notification):
    with pytest.raises(RefusedByMailServer):
        deliver(notification_id=notification.pk, now=NOW)

    notification.refresh_from_db()
    assert notification.next_attempt_at == NOW + timedelta(seconds=15)
    assert (notification.claimed_until, notification.claim_token) == (None, "")


def test_a_failed_send_records_the_kind_and_type_of_error_but_no_address(
    flaky_backend, notification
):
    for _ in range(2):
        with pytest.raises(RefusedByMailServer):
            deliver(notification_id=notification.pk, now=NOW)

    notification.refresh_from_db()
    assert notification.last_error == "mail server: RefusedByMailServer on attempt 2"
    assert notification.email_status == EmailStatus.PENDING


def test_a_database_error_is_not_recorded_as_a_mail_server_error(flaky_backend, notification):
    flaky_backend.error = OperationalError('could not translate host name "db.example.invalid"')

    with pytest.raises(OperationalError):
        deliver(notification_id=notification.pk, now=NOW)

    notification.refresh_from_db()
    assert notification.last_error == "database: OperationalError on attempt 1"


def test_an_unexpected_error_is_named_as_such(flaky_backend, notification):
    flaky_backend.error = ValueError("amy.zed@example.invalid is not a valid header")

    with pytest.raises(ValueError):
        deliver(notification_id=notification.pk, now=NOW)

    notification.refresh_from_db()
    assert notification.last_error == "unexpected: ValueError on attempt 1"


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


def test_retries_back_off_from_fifteen_seconds_to_an_hour(failing_backend, notification):
    delays = []
    now = NOW
    for _ in range(12):
        relay(now)
        notification.refresh_from_db()
        delays.append((notification.next_attempt_at - now).total_seconds())
        now = notification.next_attempt_at

    assert delays == [15, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600]


def test_a_row_is_retried_for_a_day_before_it_is_failed(failing_backend, notification):
    failed_at = fail_for_a_day(notification)

    notification.refresh_from_db()
    assert RETRY_WINDOW <= failed_at - NOW < RETRY_WINDOW + timedelta(hours=1)
    assert notification.email_status == EmailStatus.FAILED
    assert failing_backend.calls == notification.attempts > 24
    assert notification.last_error == (
        f"mail server: RefusedByMailServer on attempt {notification.attempts}"
    )


def test_a_row_is_still_pending_after_twenty_three_hours_of_refusals(failing_backend, notification):
    now = NOW
    while now < NOW + timedelta(hours=23):
        relay(now)
        notification.refresh_from_db()
        now = notification.next_attempt_at

    assert notification.email_status == EmailStatus.PENDING


def test_a_failed_row_is_not_tried_again(failing_backend, notification):
    failed_at = fail_for_a_day(notification)
    calls = failing_backend.calls

    assert deliver(notification_id=notification.pk, now=failed_at) is False
    relay(failed_at + timedelta(hours=2))

    assert failing_backend.calls == calls


def test_the_relay_retries_a_refused_email_until_it_goes(flaky_backend, notification):
    relay(minutes(0.1))
    relay(minutes(0.1) + timedelta(seconds=15))
    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (EmailStatus.PENDING, 2)

    relay(minutes(0.1) + timedelta(seconds=44))  # not yet: 30 s after the second attempt
    assert flaky_backend.calls == 2
    relay(minutes(0.1) + timedelta(seconds=45))
    relay(minutes(5))

    assert len(flaky_backend.sent) == 1
    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (EmailStatus.SENT, 3)


def test_a_refused_email_puts_no_address_in_the_log(flaky_backend, notification, caplog):
    with caplog.at_level(logging.DEBUG):
        relay(minutes(0.1))

    assert "RefusedByMailServer" in caplog.text, "the failure should be logged"
    assert "example.invalid" not in caplog.text
    assert "mailbox unavailable" not in caplog.text


def test_the_celery_task_logs_the_kind_of_error_only_and_leaves_the_retry_to_the_outbox(
    flaky_backend, notification, caplog
):
    from notifications.tasks import send_notification

    with time_machine.travel(NOW, tick=False), caplog.at_level(logging.DEBUG):
        assert send_notification.run(notification.pk) is False

    assert "mail server: RefusedByMailServer" in caplog.text
    assert "example.invalid" not in caplog.text
    notification.refresh_from_db()
    assert (notification.email_status, notification.next_attempt_at) == (
        EmailStatus.PENDING,
        NOW + timedelta(seconds=15),
    )


# --- the operator's list ---------------------------------------------------------------------


def list_notifications(*args: str, now: datetime = NOW) -> str:
    out = StringIO()
    with time_machine.travel(now, tick=False):
        call_command("list_notifications", *args, stdout=out)
    return out.getvalue()


def test_list_notifications_lists_a_failed_row_without_personal_data(failing_backend, notification):
    failed_at = fail_for_a_day(notification)
    notification.refresh_from_db()

    output = list_notifications("--status", "failed", now=failed_at)

    [row, total] = output.splitlines()
    assert row.startswith(f"#{notification.pk} failed")
    assert notification.escalation.reference in row
    assert f"attempts {notification.attempts}" in row
    assert "mail server: RefusedByMailServer" in row
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
    output = list_notifications("--status", "pending", now=minutes(1))

    [row, total] = output.splitlines()
    assert row.startswith(f"#{notification.pk} pending  step_raised")
    assert "STUCK" not in row
    assert total == "1 notification(s) pending."


def test_list_notifications_leaves_out_rows_that_were_sent(notification):
    deliver(notification_id=notification.pk, now=NOW)

    assert list_notifications().splitlines() == ["0 notification(s) pending or failed."]


def test_list_notifications_shows_a_row_waiting_past_its_time_as_stuck(notification):
    output = list_notifications(now=minutes(6))

    [row, total, stuck] = output.splitlines()
    assert row.startswith(f"#{notification.pk} pending")
    assert row.endswith("STUCK: due since 2026-11-02 10:00")
    assert total == "1 notification(s) pending or failed."
    assert stuck.startswith("1 of them stuck: is the relay running")


def test_list_notifications_shows_a_row_whose_senders_claim_ran_out_as_stuck(
    notification, monkeypatch
):
    from notifications import services as notification_services

    def crash(**_: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(notification_services, "_mark_sent", crash)
    with pytest.raises(OperationalError):
        deliver(notification_id=notification.pk, now=minutes(0))
    # Not due again until the claim ends (SEND_LEASE), stuck 5 minutes after that.
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=minutes(30))
    claim_ends = minutes(0) + SEND_LEASE

    assert "STUCK" not in list_notifications(
        "--status", "stuck", now=claim_ends + timedelta(minutes=4)
    )
    output = list_notifications("--status", "stuck", now=claim_ends + timedelta(minutes=6))

    assert output.splitlines()[0].startswith(f"#{notification.pk} pending")
    assert "1 notification(s) stuck." in output


def test_once_the_mail_server_is_back_rows_that_could_not_reach_it_go_at_once(
    flaky_backend, raise_concern
):
    flaky_backend.failures, flaky_backend.error = 4, smtplib.SMTPServerDisconnected
    first = raise_concern()
    waiting = Notification.objects.get(escalation=first)
    now = NOW
    for _ in range(4):  # the mail server is down: 15 s, 30 s, 1 min, then 2 min to wait
        relay(now)
        waiting.refresh_from_db()
        now = waiting.next_attempt_at
    back = now - timedelta(seconds=100)  # the server is back, the row still backing off
    second = raise_concern()  # a new alert, sent at once
    Notification.objects.filter(escalation=second).update(next_attempt_at=back)

    relay(back)
    relay(back + timedelta(seconds=2))

    waiting.refresh_from_db()
    assert (waiting.email_status, waiting.sent_at) == (
        EmailStatus.SENT,
        back + timedelta(seconds=2),
    )
    assert len(flaky_backend.sent) == 2


def test_a_refused_address_keeps_its_back_off_when_other_mail_goes(flaky_backend, raise_concern):
    flaky_backend.failures = 1  # RefusedByMailServer: this address, not the server
    refused = Notification.objects.get(escalation=raise_concern())
    relay(NOW)
    other = raise_concern()
    Notification.objects.filter(escalation=other).update(next_attempt_at=NOW)

    relay(NOW + timedelta(seconds=1))

    refused.refresh_from_db()
    assert (refused.email_status, refused.next_attempt_at) == (
        EmailStatus.PENDING,
        NOW + timedelta(seconds=15),
    )
