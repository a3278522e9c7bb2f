"""Faults injected into the real thing: a Redis server, a Celery worker and the outbox relay
(each a process of this suite's own), a PostgreSQL database, and an SMTP sink that records
every message it accepts (smtp_sink.py).

Each test raises a known number of alerts through the services (one outbox row each),
some of them during the fault, and checks what people would receive: every row sent, none
lost, a second copy only where a crash could fall between sending and marking — and then
with the same Message-ID — everything delivered within a minute of the fault ending, and
every raise during the fault back in under a second. Its figures go to
var/fault-results.json (`python scripts/fault_results.py` prints the table).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notifications.models import Notification
from notifications.relay import POLL_SECONDS, relay_once
from tests.faults.conftest import (
    Raised,
    all_sent,
    assert_every_alert_once,
    outcome,
    wait_for_delivery,
)
from tests.faults.stack import Stack, wait_until

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the fault suite needs PostgreSQL: its worker and relay processes share the "
        "test database with the test, and it cuts their connections",
    ),
    pytest.mark.django_db(transaction=True),
]

OUTAGE_SECONDS = 5


def start(stack: Stack, *, delay: float = 0.0, **worker_env: str) -> None:
    """Redis, the sink (waiting `delay` before accepting each message, so a batch takes
    long enough to be interrupted), a worker and the relay."""
    stack.start_redis()
    stack.start_sink(mode="accept", delay=delay)
    stack.start_relay()
    stack.start_worker(**worker_env)
    stack.wait_listening("relay")


def mid_batch(stack: Stack, raised: Raised, *, at_least: int = 3) -> None:
    """Until some of the batch has gone and the rest has not."""
    wait_until(
        lambda: len(stack.received()) >= at_least,
        seconds=30,
        what=f"{at_least} e-mails",
        logs=stack.log_tail,
    )
    assert len(stack.received()) < len(raised.ids), "the batch finished before the fault"


def test_redis_stopped_then_started_again(stack, raise_alerts, fault_results):
    start(stack)
    stack.stop_redis()
    during = raise_alerts(20)
    time.sleep(OUTAGE_SECONDS)  # the relay tries, fails and releases its claims meanwhile
    stack.start_redis()
    recovered = time.time()

    wait_for_delivery(stack, during)

    result = outcome(
        fault="Redis stopped, then started again",
        raised=during,
        during=during,
        received=stack.received(),
        recovered_at=recovered,
    )
    fault_results("a_redis_stopped", result)
    assert_every_alert_once(result)


def test_redis_hung_then_continued(stack, raise_alerts, fault_results):
    start(stack, delay=0.1)
    before = raise_alerts(10)
    stack.hang_redis()
    during = raise_alerts(10)
    time.sleep(OUTAGE_SECONDS)
    stack.continue_redis()
    recovered = time.time()

    wait_for_delivery(stack, before + during)

    result = outcome(
        fault="Redis hung (SIGSTOP), then continued",
        raised=before + during,
        during=during,
        received=stack.received(),
        recovered_at=recovered,
    )
    fault_results("b_redis_hung", result)
    assert_every_alert_once(result)


def test_redis_restarted_empty_with_messages_in_flight(stack, raise_alerts, fault_results):
    start(stack, delay=0.15)
    before = raise_alerts(20)
    mid_batch(stack, before)
    stack.stop_redis()  # no persistence: the queued messages are gone
    during = raise_alerts(5)
    stack.start_redis()
    recovered = time.time()

    wait_for_delivery(stack, before + during)

    result = outcome(
        fault="Redis restarted empty (messages in flight lost)",
        raised=before + during,
        during=during,
        received=stack.received(),
        recovered_at=recovered,
    )
    fault_results("c_redis_restarted_empty", result)
    assert_every_alert_once(result)


def test_worker_killed_mid_batch_then_restarted(stack, raise_alerts, fault_results):
    start(stack, delay=0.3)
    before = raise_alerts(20)
    mid_batch(stack, before)
    stack.kill_worker()  # kill -9, in the middle of a send
    during = raise_alerts(5)
    stack.start_worker()
    recovered = time.time()

    wait_for_delivery(stack, before + during)

    result = outcome(
        fault="Worker killed (kill -9) mid-batch, then restarted",
        raised=before + during,
        during=during,
        received=stack.received(),
        recovered_at=recovered,
    )
    fault_results("d_worker_killed", result)
    assert_every_alert_once(result, crashes=1)


def test_smtp_refusing_for_ten_minutes_of_simulated_time(
    stack, raise_alerts, fault_results, settings
):
    """The embedded path in this process, its clock simulated: the relay passes every
    POLL_SECONDS of simulated time, against the sink refusing (421) for ten minutes."""
    stack.start_sink(mode="refuse", code=421)
    settings.REDIS_URL = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", stack.sink_port
    settings.EMAIL_TIMEOUT = 5
    start_at = timezone.now()
    back = start_at + timedelta(minutes=10)
    step = timedelta(seconds=POLL_SECONDS)

    during = raise_alerts(10, now=start_at)
    now = start_at
    while now < back:
        if now == start_at + timedelta(minutes=5):
            during += raise_alerts(10, now=now)
        relay_once(now=now)
        now += step
    stack.sink_behaves(mode="accept")
    while now < back + timedelta(minutes=2) and not all_sent(during.ids):
        relay_once(now=now)
        now += step

    # The sink's clock is real; the rows' is the simulated one.
    last_sent = max(
        Notification.objects.filter(pk__in=during.ids).values_list("sent_at", flat=True),
        default=None,
    )
    result = outcome(
        fault="SMTP refusing (421) for 10 minutes of simulated time, then accepting",
        raised=during,
        during=during,
        received=stack.received(),
        recovered_at=back.timestamp(),
        delivered_at=last_sent.timestamp() if last_sent else None,
    )
    fault_results("e_smtp_refusing", result)
    assert_every_alert_once(result)


def test_database_connections_cut_under_the_worker_mid_batch(stack, raise_alerts, fault_results):
    # The worker keeps its connection between tasks (as with DATABASE_CONN_MAX_AGE in
    # production), so every cut lands on a connection in use or about to be.
    start(stack, delay=0.3, DATABASE_CONN_MAX_AGE="60")
    before = raise_alerts(20)
    mid_batch(stack, before)
    during = Raised([], 0.0)
    cuts = 0
    for _ in range(3):
        cuts += stack.cut_database_connections("worker")
        during += raise_alerts(2)
        time.sleep(1)
    recovered = time.time()
    assert cuts >= 1, "no connection of the worker's was cut"

    wait_for_delivery(stack, before + during)

    result = outcome(
        fault="Database connections cut under the worker (pg_terminate_backend) mid-batch",
        raised=before + during,
        during=during,
        received=stack.received(),
        recovered_at=recovered,
    )
    fault_results("f_database_cut", result)
    assert_every_alert_once(result, crashes=cuts)


def test_two_schedulers_and_two_relays_at_once(stack, raise_alerts, fault_results):
    """Two relays handing rows to the worker and two embedded schedulers sending them
    themselves (as if on two machines), all on the same outbox."""
    stack.start_redis()
    stack.start_sink(mode="accept", delay=0.05)
    for name in ("relay-1", "relay-2"):
        stack.start_relay(name)
    for name in ("scheduler-1", "scheduler-2"):
        stack.start_scheduler(name)
    stack.start_worker()
    stack.wait_listening("relay-1", "relay-2", "scheduler-1", "scheduler-2")

    during = raise_alerts(30)
    raised_by = time.time()

    wait_for_delivery(stack, during)

    result = outcome(
        fault="Two schedulers and two relays at once",
        raised=during,
        during=during,
        received=stack.received(),
        recovered_at=raised_by,
    )
    fault_results("g_two_schedulers_and_relays", result)
    assert_every_alert_once(result)
