"""The outbox relay: the one path by which a notification row reaches a sender.

A web request only writes rows (services.create_notifications). The relay takes the rows
that are due — pending, `next_attempt_at` passed, no live claim — in batches, claims each
for RELAY_LEASE and commits, and then:

* with a broker (settings.REDIS_URL): publishes `send_notification(id, claim=token)` for
  each; if publishing fails the claims are released, so the next pass (seconds later)
  tries again — nothing waits for a beat tick;
* on the embedded default: calls `services.deliver()` itself.

`relay_once(now=...)` is one pass; `run_relay()` is the loop (`manage.py run_relay`, and
`manage.py run_scheduler --loop` on the embedded default). The loop is woken by
PostgreSQL's NOTIFY on commit of new rows and otherwise polls every POLL_SECONDS.

While the mail server cannot be reached, failed rows back off up to an hour apart; so
that its return is noticed within a minute, each pass may first *probe*: make the oldest
such row due, at most once a minute (`_probe`). When it goes, `deliver()` makes the rest
due at once, and the same pass sends them.

Claims are conditional UPDATEs whose row counts are checked, with
`select_for_update(skip_locked=True)` on top where the database has row locks: two relays
never hand over the same row, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import logging
import select
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from notifications.models import EmailStatus, Notification
from notifications.services import (
    OUTBOX_CHANNEL,
    could_not_reach_mail_server,
    deliver,
    describe_failure,
    retry_delay,
)

logger = logging.getLogger(__name__)

# Long enough to publish a batch (or, embedded, to send part of one); short enough that
# rows a relay claimed and then lost (it crashed, the broker dropped them) go again
# within a minute.
RELAY_LEASE = timedelta(seconds=45)
# Stop sending an embedded batch this long before its claims run out, so no row is sent
# under a claim that has already expired.
LEASE_MARGIN = timedelta(seconds=10)
POLL_SECONDS = 2.0
# A returning mail server is noticed within this (plus a poll), whatever the back-off has
# grown to, at the cost of one e-mail tried per interval for as long as it stays away.
PROBE_INTERVAL = timedelta(minutes=1)
BATCH_SIZE = 100
MAX_BATCHES = 10


@dataclass
class RelayReport:
    claimed: int = 0
    published: int = 0
    sent: int = 0
    not_sent: int = 0  # a send failed (retried later), or another sender had the row
    released: int = 0  # claims given back (publish failed, or time ran out)
    probed: int = 0  # rows made due early to see whether the mail server is back
    more_due: bool = False  # stopped with rows possibly still due: go again at once

    def lines(self) -> list[str]:
        parts = []
        if self.probed:
            parts.append("1 waiting e-mail tried early to see whether the mail server is back")
        if self.published:
            parts.append(f"{self.published} handed to the workers")
        if self.sent:
            parts.append(f"{self.sent} e-mail(s) sent")
        if self.not_sent:
            parts.append(f"{self.not_sent} not sent (will be retried)")
        if self.released:
            parts.append(f"{self.released} released for the next pass")
        return [f"relay: {', '.join(parts)}"] if parts else []


class Publisher(Protocol):
    """Hands rows to the workers. `connect()` opens one connection for a batch and yields
    `publish(notification_id, claim)`; either may raise when the broker is unavailable."""

    def connect(self) -> AbstractContextManager[Callable[[int, str], None]]: ...


class CeleryPublisher:
    """The broker: `send_notification` messages through Celery, one try, no retries."""

    @contextmanager
    def connect(self) -> Iterator[Callable[[int, str], None]]:
        from notifications.tasks import send_notification

        with send_notification.app.producer_or_acquire() as producer:
            # One try at connecting: left to itself kombu retries the connection for
            # seconds; the relay's next pass is the retry.
            producer.connection.ensure_connection(max_retries=0)

            def publish(notification_id: int, claim: str) -> None:
                send_notification.apply_async(
                    args=(notification_id,),
                    kwargs={"claim": claim},
                    retry=False,
                    producer=producer,
                    # Once the claim has lapsed the relay hands the row over again:
                    # a message still queued by then is a duplicate, so let it expire.
                    expires=RELAY_LEASE.total_seconds(),
                )

            yield publish


def _due(now: datetime) -> Q:
    return Q(email_status=EmailStatus.PENDING, next_attempt_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )


def _claim(*, now: datetime, limit: int) -> tuple[str, list[int]]:
    """Claim up to `limit` due rows and commit: (the batch's claim token, their ids)."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        candidates = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(_due(now))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not candidates:
            return token, []
        # The condition again: SQLite ignores select_for_update, and only the rows this
        # UPDATE changed are ours (another relay may have claimed the rest meanwhile).
        Notification.objects.filter(_due(now), pk__in=candidates).update(
            claimed_until=now + RELAY_LEASE, claim_token=token
        )
        ids = list(
            Notification.objects.filter(pk__in=candidates, claim_token=token)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)
        )
    return token, ids


def _probe(now: datetime) -> int | None:
    """Make the oldest row that could not reach the mail server due now, if it was last
    tried at least PROBE_INTERVAL ago and no such row is due within PROBE_INTERVAL anyway
    (that attempt will do). The row's id, or None.

    When it was last tried follows from the row itself: a failed send set
    `next_attempt_at` to that moment plus `retry_delay(attempts)`. So the schedule lives in
    the database, and two relays probe no more often than one.
    """
    waiting = Notification.objects.filter(could_not_reach_mail_server())
    if waiting.filter(next_attempt_at__lte=now + PROBE_INTERVAL).exists():
        return None
    oldest = waiting.order_by("created_at", "pk").values("pk", "next_attempt_at", "attempts")[:1]
    if not oldest:
        return None
    row = oldest[0]
    if now - (row["next_attempt_at"] - retry_delay(row["attempts"])) < PROBE_INTERVAL:
        return None
    # Conditional, so of two relays deciding at once only one probes.
    probed = waiting.filter(pk=row["pk"], next_attempt_at=row["next_attempt_at"]).update(
        next_attempt_at=now
    )
    return row["pk"] if probed else None


def _release(ids: Sequence[int], token: str) -> int:
    """Give claims back (only those still held under `token`), due again at once."""
    if not ids:
        return 0
    return Notification.objects.filter(pk__in=ids, claim_token=token).update(
        claimed_until=None, claim_token=""
    )


def _publish(ids: list[int], token: str, publisher: Publisher, report: RelayReport) -> bool:
    published = 0
    try:
        with publisher.connect() as publish:
            for pk in ids:
                publish(pk, token)
                published += 1
    except Exception as exc:
        report.published += published
        report.released += _release(ids[published:], token)
        logger.warning(
            "Broker unavailable (%s); %d notification(s) released for the next pass",
            describe_failure(exc),
            len(ids) - published,
        )
        return False
    report.published += published
    return True


def _send(ids: list[int], token: str, now: datetime, deadline: float, report: RelayReport) -> bool:
    for position, pk in enumerate(ids):
        if time.monotonic() >= deadline:
            # The claims are about to lapse: the rest go on the next pass, under new ones.
            report.released += _release(ids[position:], token)
            return False
        try:
            if deliver(notification_id=pk, now=now, claim=token):
                report.sent += 1
            else:
                report.not_sent += 1
        except Exception as exc:
            # Recorded on the row by deliver (unless the database itself failed).
            report.not_sent += 1
            logger.warning("Notification %s not sent (%s)", pk, describe_failure(exc))
    return True


def relay_once(
    *,
    now: datetime,
    publisher: Publisher | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
) -> RelayReport:
    """One pass: claim what is due at `now`, then publish it or (embedded) send it.

    `publisher` defaults to Celery when settings.REDIS_URL is set; without a broker and
    without a publisher the relay sends in-process. Database errors propagate (the loop
    logs them and tries again); broker and mail errors do not.
    """
    if publisher is None and settings.REDIS_URL:
        publisher = CeleryPublisher()
    report = RelayReport()
    deadline = time.monotonic() + (RELAY_LEASE - LEASE_MARGIN).total_seconds()
    probe = _probe(now)
    report.probed = int(probe is not None)
    for _ in range(max_batches):
        token, ids = _claim(now=now, limit=batch_size)
        report.claimed += len(ids)
        if not ids:
            report.more_due = False
            break
        if publisher is not None:
            finished = _publish(ids, token, publisher, report)
            # After a publish failure wait for the poll: the broker is not coming back
            # within microseconds.
            report.more_due = finished and len(ids) == batch_size
        else:
            sent_before = report.sent
            finished = _send(ids, token, now, deadline, report)
            # The probe went: the server is back, and deliver() has made every row that
            # could not reach it due now. Send them in this pass, not the next.
            recovered = probe in ids and report.sent > sent_before
            if recovered:
                probe = None
            # Out of time: what was released is due now, under a fresh pass's claims.
            report.more_due = not finished or len(ids) == batch_size or recovered
        if not finished or (len(ids) < batch_size and not report.more_due):
            break
    return report


@contextmanager
def outbox_wakeups() -> Iterator[Callable[[float], None]]:
    """`wait(seconds)`: sleep until woken by NOTIFY on the outbox, or `seconds` pass.

    On PostgreSQL a connection of its own LISTENs (psycopg 3); if it breaks (the
    database restarted) the wait is a plain sleep until it can be opened again. On other
    databases it is always a plain sleep: the poll.
    """
    listener = None

    def open_listener() -> object | None:
        if connection.vendor != "postgresql":
            return None
        import psycopg

        try:
            conn = psycopg.connect(**connection.get_connection_params(), autocommit=True)
            conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
        except Exception as exc:
            logger.warning("Cannot listen for new notifications (%s)", describe_failure(exc))
            return None
        return conn

    def wait(seconds: float) -> None:
        nonlocal listener
        if listener is None:
            listener = open_listener()
        if listener is None:
            time.sleep(seconds)
            return
        try:
            # Our own bounded wait on the socket, then drain what arrived: the loop must
            # come round after `seconds` whatever the driver's own timeout does.
            readable, _, _ = select.select([listener.fileno()], [], [], seconds)  # type: ignore[attr-defined]
            if readable:
                for _ in listener.notifies(timeout=0):  # type: ignore[attr-defined]
                    pass
        except Exception as exc:
            logger.warning("Lost the outbox listener (%s)", describe_failure(exc))
            with suppress(Exception):  # already broken: closing is a courtesy
                listener.close()  # type: ignore[attr-defined]
            listener = None
            time.sleep(seconds)

    try:
        yield wait
    finally:
        if listener is not None:
            listener.close()  # type: ignore[attr-defined]


def run_relay(
    *,
    should_stop: Callable[[], bool],
    poll_seconds: float = POLL_SECONDS,
    on_report: Callable[[RelayReport], None] | None = None,
    publisher: Publisher | None = None,
) -> None:
    """The relay loop, until `should_stop()` is true (checked after every pass and wait).

    Each pass uses the clock (`timezone.now()`); a failed pass (say the database is down)
    is logged by type and tried again after `poll_seconds`. A pass that stopped with rows
    still due goes round again at once.
    """
    with outbox_wakeups() as wait:
        while not should_stop():
            close_old_connections()
            try:
                report = relay_once(now=timezone.now(), publisher=publisher)
            except Exception as exc:
                logger.warning("Relay pass failed (%s); trying again", describe_failure(exc))
                report = None
            if report is not None and on_report is not None:
                on_report(report)
            if should_stop():
                return
            if report is None or not report.more_due:
                wait(poll_seconds)
