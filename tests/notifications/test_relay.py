"""The outbox relay (notifications/relay.py) and deliver()'s claim: each row handed over
once, each e-mail sent once, and a repeat forced by a crash recognisable by its
Message-ID.

A Gloucestershire chair raises an informal step on Mon 2 Nov 2026 at 10:00 for a social
worker: one "step raised" row per raise.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import OperationalError

from escalations import services
from notifications import services as notification_services
from notifications.models import EmailStatus, Notification
from notifications.relay import (
    PROBE_INTERVAL,
    RELAY_LEASE,
    RelayReport,
    outbox_wakeups,
    relay_once,
    run_relay,
)
from notifications.services import SEND_LEASE, deliver
from tests.concurrency import race
from tests.fixtures import first_category
from tests.markers import postgres_only

NOW = datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/London"))


def seconds(n: float) -> datetime:
    return NOW + timedelta(seconds=n)


def relay(now: datetime, **kwargs) -> RelayReport:
    with time_machine.travel(now, tick=False):
        return relay_once(now=now, **kwargs)


@pytest.fixture
def raise_concern(ladders, staff_of, child_of) -> Callable[[], Notification]:
    chair = staff_of("gloucestershire", "cp-chair")
    social_worker = staff_of("gloucestershire", "social-worker")
    child = child_of("gloucestershire")

    def make() -> Notification:
        escalation = services.escalation_raise(
            actor=chair,
            policy=ladders["gloucestershire"],
            categories=first_category(ladders["gloucestershire"]),
            children=[child],
            summary="Core group meetings not held.",
            responder=social_worker,
            now=NOW,
        )
        return Notification.objects.get(escalation=escalation)

    return make


@pytest.fixture
def notification(raise_concern) -> Notification:
    return raise_concern()


class FakePublisher:
    """A broker that records what it is given, and can fail at the `fail_at`-th message."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.messages: list[tuple[int, str]] = []
        self.fail_at = fail_at

    @contextmanager
    def connect(self) -> Iterator[Callable[[int, str], None]]:
        def publish(notification_id: int, claim: str) -> None:
            if self.fail_at is not None and len(self.messages) + 1 >= self.fail_at:
                raise ConnectionRefusedError(111, "Connection refused")
            self.messages.append((notification_id, claim))

        yield publish


# --- handing over to the workers -------------------------------------------------------------


def test_the_relay_publishes_due_rows_with_their_claim_and_sends_nothing(raise_concern):
    rows = [raise_concern(), raise_concern()]
    publisher = FakePublisher()

    report = relay(seconds(1), publisher=publisher)

    assert (report.claimed, report.published) == (2, 2)
    assert [pk for pk, _claim in publisher.messages] == [n.pk for n in rows]
    for row in rows:
        row.refresh_from_db()
        assert row.claimed_until == seconds(1) + RELAY_LEASE
        assert (row.pk, row.claim_token) in publisher.messages
    assert mail.outbox == []


def test_with_a_broker_url_the_relay_publishes_through_celery(notification, settings, monkeypatch):
    from notifications.tasks import send_notification

    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    published = []

    @contextmanager
    def producer() -> Iterator[object]:
        class Connection:
            def ensure_connection(self, **_: object) -> None:
                pass

        yield type("Producer", (), {"connection": Connection()})()

    monkeypatch.setattr(send_notification.app, "producer_or_acquire", producer)
    monkeypatch.setattr(send_notification, "apply_async", lambda **kw: published.append(kw))

    relay(seconds(1))

    notification.refresh_from_db()
    [message] = published
    assert (message["args"], message["kwargs"]) == (
        (notification.pk,),
        {"claim": notification.claim_token},
    )
    assert message["expires"] == RELAY_LEASE.total_seconds()
    assert mail.outbox == []


def test_a_row_handed_over_is_not_handed_over_again_while_its_claim_lasts(notification):
    publisher = FakePublisher()
    relay(seconds(1), publisher=publisher)

    assert relay(seconds(1) + RELAY_LEASE - timedelta(seconds=1), publisher=publisher).claimed == 0
    # The worker never took it (the message was lost): handed over again.
    assert relay(seconds(1) + RELAY_LEASE, publisher=publisher).published == 1
    assert len(publisher.messages) == 2


def test_a_publish_failure_releases_the_claims_not_published(raise_concern):
    first, second = raise_concern(), raise_concern()

    report = relay(seconds(1), publisher=FakePublisher(fail_at=2))

    assert (report.claimed, report.published, report.released) == (2, 1, 1)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.claimed_until is not None
    assert (second.claimed_until, second.claim_token) == (None, "")
    # The next pass, seconds later, hands over only the one that was released.
    retry = FakePublisher()
    relay(seconds(3), publisher=retry)
    assert [pk for pk, _ in retry.messages] == [second.pk]


def test_the_worker_sends_a_row_the_relay_handed_over(notification):
    from notifications.tasks import send_notification

    publisher = FakePublisher()
    relay(seconds(1), publisher=publisher)
    [(pk, claim)] = publisher.messages

    with time_machine.travel(seconds(2), tick=False):
        assert send_notification.run(pk, claim=claim) is True
        # The same message again (redelivered after a worker restart): nothing more.
        assert send_notification.run(pk, claim=claim) is False

    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (EmailStatus.SENT, 1)


def test_a_sender_without_the_claim_leaves_a_row_the_relay_handed_to_another(notification):
    publisher = FakePublisher()
    relay(seconds(1), publisher=publisher)

    assert deliver(notification_id=notification.pk, now=seconds(2)) is False
    assert deliver(notification_id=notification.pk, now=seconds(2), claim="forged") is False
    assert mail.outbox == []


# --- sending in-process (the embedded default) -----------------------------------------------


def test_on_the_embedded_default_the_relay_sends_due_rows(raise_concern):
    rows = [raise_concern(), raise_concern()]

    report = relay(seconds(1))

    assert (report.claimed, report.sent) == (2, 2)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.recipient.user.email for r in rows)
    assert set(Notification.objects.values_list("email_status", "sent_at")) == {
        (EmailStatus.SENT, seconds(1))
    }
    assert relay(seconds(2)).claimed == 0


@pytest.mark.django_db(transaction=True)
def test_the_relay_loop_sends_and_stops_when_asked(notification):
    reports: list[RelayReport] = []

    # The real clock: on PostgreSQL the loop waits on LISTEN with a timeout, which a
    # travelled clock never lets expire. The row (raised on 2 Nov) is due already.
    run_relay(should_stop=lambda: bool(reports), poll_seconds=0.01, on_report=reports.append)

    assert [r.sent for r in reports] == [1]
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.SENT


def test_run_relay_once_prints_what_it_did(notification):
    out = StringIO()
    with time_machine.travel(seconds(1), tick=False):
        call_command("run_relay", "--once", stdout=out)

    assert out.getvalue().splitlines() == ["relay: 1 e-mail(s) sent"]


class SecondRelayDuringSend(BaseEmailBackend):
    """While the first relay is sending, a second relay (and a stray worker) run a pass:
    what they do is recorded, and the e-mails counted."""

    sent: list = []
    meanwhile: list = []

    def send_messages(self, email_messages):
        if not SecondRelayDuringSend.meanwhile:
            now = seconds(2)
            SecondRelayDuringSend.meanwhile.append(relay_once(now=now))
            pk = Notification.objects.order_by("pk").first().pk
            SecondRelayDuringSend.meanwhile.append(deliver(notification_id=pk, now=now))
        SecondRelayDuringSend.sent.extend(email_messages)
        return len(email_messages)


def test_two_relays_never_send_a_row_twice(raise_concern, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SecondRelayDuringSend"
    SecondRelayDuringSend.sent, SecondRelayDuringSend.meanwhile = [], []
    rows = [raise_concern(), raise_concern(), raise_concern()]

    first = relay(seconds(1))

    [second, stray_worker] = SecondRelayDuringSend.meanwhile
    assert second.claimed == 0 and second.sent == 0  # every row was the first relay's
    assert stray_worker is False
    assert first.sent == 3
    assert len(SecondRelayDuringSend.sent) == len(rows) == 3
    assert {m.to[0] for m in SecondRelayDuringSend.sent} == {r.recipient.user.email for r in rows}


# --- once, and the same message when the world forces a second --------------------------------


def test_an_email_carries_the_notifications_own_message_id(notification, settings):
    settings.DEFAULT_FROM_EMAIL = "Escalations <escalations@council.example>"

    deliver(notification_id=notification.pk, now=seconds(1))

    [message] = mail.outbox
    assert message.message()["Message-ID"] == f"<notification-{notification.pk}@council.example>"


@pytest.fixture
def mark_crashes_once(monkeypatch) -> list[int]:
    """The sender dies (here: the database goes) after sending, before marking it sent."""
    real = notification_services._mark_sent
    crashes: list[int] = []

    def mark(**kwargs: object) -> None:
        if not crashes:
            crashes.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        real(**kwargs)

    monkeypatch.setattr(notification_services, "_mark_sent", mark)
    return crashes


def test_after_a_crash_between_send_and_mark_the_row_goes_again_once_its_claim_expires(
    notification, mark_crashes_once
):
    with pytest.raises(OperationalError):
        deliver_as_a_worker(seconds(1))

    assert relay(seconds(1) + SEND_LEASE - timedelta(seconds=1)).sent == 0
    assert relay(seconds(1) + SEND_LEASE).sent == 1
    assert relay(seconds(1) + 2 * SEND_LEASE).claimed == 0

    assert len(mail.outbox) == 2
    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (EmailStatus.SENT, 2)


def deliver_as_a_worker(now: datetime) -> None:
    """deliver() as the worker runs it, so the crash propagates as it would."""
    with time_machine.travel(now, tick=False):
        deliver(notification_id=Notification.objects.get().pk, now=now)


def test_the_repeat_after_a_crash_has_the_same_message_id(notification, mark_crashes_once):
    with pytest.raises(OperationalError):
        deliver_as_a_worker(seconds(1))
    relay(seconds(1) + SEND_LEASE)

    first, second = (m.message()["Message-ID"] for m in mail.outbox)
    assert first == second == f"<notification-{notification.pk}@localhost>"


class DisconnectingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_a_failed_send_gives_up_its_claim_so_only_the_back_off_delays_it(notification, settings):
    settings.EMAIL_BACKEND = f"{__name__}.DisconnectingBackend"

    report = relay(seconds(1))

    assert (report.sent, report.not_sent) == (0, 1)
    notification.refresh_from_db()
    assert (notification.claimed_until, notification.next_attempt_at) == (None, seconds(16))
    assert notification.last_error == "mail server: SMTPServerDisconnected on attempt 1"


# --- a long mail-server outage: the probe ------------------------------------------------------


class MailServer(BaseEmailBackend):
    """A mail server that refuses the addresses in `refused` and, when `down`, cannot be
    reached for the rest (a smart host that still answers, in front of one that does
    not), recording every address it was asked to send to."""

    down = False
    refused: set[str] = set()
    tried: list[str] = []

    def send_messages(self, email_messages):
        for message in email_messages:
            [address] = message.to
            MailServer.tried.append(address)
            if address in MailServer.refused:
                raise smtplib.SMTPRecipientsRefused({address: (550, b"mailbox unavailable")})
            if MailServer.down:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return len(email_messages)


@pytest.fixture
def mail_server(settings) -> type[MailServer]:
    settings.EMAIL_BACKEND = f"{__name__}.MailServer"
    MailServer.down, MailServer.refused, MailServer.tried = False, set(), []
    return MailServer


@pytest.fixture
def raise_for(ladders, staff_of, child_of) -> Callable[[], Notification]:
    """raise_for() -> the "step raised" row of a raise at NOW for a new social worker."""
    chair = staff_of("gloucestershire", "cp-chair")
    child = child_of("gloucestershire")

    def make() -> Notification:
        escalation = services.escalation_raise(
            actor=chair,
            policy=ladders["gloucestershire"],
            categories=first_category(ladders["gloucestershire"]),
            children=[child],
            summary="Core group meetings not held.",
            responder=staff_of("gloucestershire", "social-worker"),
            now=NOW,
        )
        return Notification.objects.get(escalation=escalation)

    return make


def address(row: Notification) -> str:
    return row.recipient.user.email


def fail_until_an_hour_apart() -> datetime:
    """Relay at each retry while every send fails, until the next retry is an hour away:
    the time of the last attempt."""
    now = NOW
    for _ in range(20):
        relay(now)
        due = min(
            Notification.objects.filter(email_status=EmailStatus.PENDING).values_list(
                "next_attempt_at", flat=True
            )
        )
        if due - now >= timedelta(hours=1):
            return now
        now = due
    raise AssertionError("the back-off never reached an hour")


def relay_every_two_seconds(start: datetime, end: datetime) -> None:
    now = start
    while now <= end:
        relay(now)
        now += timedelta(seconds=2)


def test_while_the_mail_server_stays_away_the_relay_tries_the_oldest_row_once_a_minute(
    mail_server, raise_for
):
    oldest, newer = raise_for(), raise_for()
    mail_server.down = True
    last = fail_until_an_hour_apart()
    mail_server.tried = []

    relay_every_two_seconds(last + timedelta(seconds=2), last + timedelta(minutes=10))

    # Ten tries in ten minutes (not one every pass), all of them the oldest row; the other
    # keeps its hour-long back-off.
    assert mail_server.tried == [address(oldest)] * 10
    newer.refresh_from_db()
    assert newer.next_attempt_at == last + timedelta(hours=1)


def test_the_first_probe_comes_a_minute_after_the_last_try(mail_server, raise_for):
    oldest = raise_for()
    mail_server.down = True
    last = fail_until_an_hour_apart()
    mail_server.tried = []

    relay_every_two_seconds(
        last + timedelta(seconds=2), last + PROBE_INTERVAL - timedelta(seconds=2)
    )
    assert mail_server.tried == []
    report = relay(last + PROBE_INTERVAL)

    assert (report.probed, mail_server.tried) == (1, [address(oldest)])


def test_every_row_that_could_not_reach_the_server_goes_within_a_minute_of_its_return(
    mail_server, raise_for
):
    rows = [raise_for(), raise_for(), raise_for()]
    mail_server.down = True
    last = fail_until_an_hour_apart()
    relay_every_two_seconds(last + timedelta(seconds=2), last + timedelta(minutes=5))
    back = last + timedelta(minutes=5, seconds=1)  # just after a probe failed
    mail_server.down = False

    relay_every_two_seconds(back + timedelta(seconds=1), back + PROBE_INTERVAL)

    sent_at = {
        row.pk: row.sent_at for row in Notification.objects.filter(pk__in=[r.pk for r in rows])
    }
    assert all(at is not None and at - back <= PROBE_INTERVAL for at in sent_at.values()), sent_at
    # The probe and the rest in the same pass.
    assert len(set(sent_at.values())) == 1


def test_a_row_refused_for_its_address_is_never_the_probe(mail_server, raise_for):
    refused, unreachable = raise_for(), raise_for()  # the refused row is the older
    mail_server.refused = {address(refused)}
    mail_server.down = True
    last = fail_until_an_hour_apart()
    mail_server.tried = []

    relay(last + PROBE_INTERVAL)

    assert mail_server.tried == [address(unreachable)]


def test_two_relays_at_once_probe_no_more_often_than_one(mail_server, raise_for):
    raise_for()
    mail_server.down = True
    last = fail_until_an_hour_apart()
    mail_server.tried = []

    first, second = relay(last + PROBE_INTERVAL), relay(last + PROBE_INTERVAL)

    assert (first.probed, second.probed) == (1, 0)
    assert len(mail_server.tried) == 1


# --- PostgreSQL: real concurrency and the wake-up on commit ----------------------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_two_relays_at_once_send_each_row_once(raise_concern):
    rows = [raise_concern() for _ in range(12)]

    with time_machine.travel(seconds(1), tick=False):
        results = race(
            lambda: relay_once(now=seconds(1), batch_size=5),
            lambda: relay_once(now=seconds(1), batch_size=5),
        )

    assert all(isinstance(r, RelayReport) for r in results), results
    assert sum(r.sent for r in results) == len(rows)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.recipient.user.email for r in rows)
    assert set(Notification.objects.values_list("email_status", flat=True)) == {EmailStatus.SENT}


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_commit_wakes_the_waiting_relay(raise_concern):
    with outbox_wakeups() as wait:
        wait(0.01)  # listening from here on
        raise_concern()  # commits, and with it the NOTIFY
        started = time.monotonic()
        wait(10)
        woken_after = time.monotonic() - started

    assert woken_after < 2, f"woken after {woken_after:.1f} s: the poll, not the NOTIFY"
