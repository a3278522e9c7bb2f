"""Fixtures of the fault suite: the processes (stack.py), raising alerts through the
services with each raise timed, and the outcome of a fault — checked, and written to
var/fault-results.json (`python scripts/fault_results.py` prints it as a table).

Needs PostgreSQL (each test module is marked postgres_only) and `redis-server` on PATH:
without it the suite is skipped, or fails when REQUIRE_INTEGRATION=1.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from escalations import services
from notifications.models import EmailStatus, Notification
from notifications.services import message_id
from tests.faults.stack import Stack, StackFailure, wait_until
from tests.fixtures import first_category

RESULTS = Path(settings.BASE_DIR) / "var" / "fault-results.json"
# Delivered within this of the fault ending; a raise during the fault takes less than
# RAISE_SECONDS.
RECOVERY_SECONDS = 60
RAISE_SECONDS = 1.0


@pytest.fixture(autouse=True)
def redis_server_on_path() -> None:
    if shutil.which("redis-server") is None:
        reason = "redis-server is not on PATH (the fault suite starts Redis servers of its own)"
        if os.environ.get("REQUIRE_INTEGRATION") == "1":
            pytest.fail(f"{reason}, and REQUIRE_INTEGRATION=1")
        pytest.skip(reason)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(tmp_path)
    try:
        yield stack
    finally:
        stack.close()


@dataclass
class Raised:
    ids: list[int]
    slowest_seconds: float

    def __add__(self, other: Raised) -> Raised:
        return Raised(self.ids + other.ids, max(self.slowest_seconds, other.slowest_seconds))


@pytest.fixture
def raise_alerts(ladders, staff_of, child_of) -> Callable[..., Raised]:
    """raise_alerts(n) raises n concerns (a Gloucestershire chair to social workers), as
    the raise page does, timing each call; the outbox rows they wrote."""
    chair = staff_of("gloucestershire", "cp-chair")
    responders = [staff_of("gloucestershire", "social-worker") for _ in range(4)]
    child = child_of("gloucestershire")

    def make(count: int, *, now: datetime | None = None) -> Raised:
        ids: list[int] = []
        slowest = 0.0
        for number in range(count):
            started = time.monotonic()
            escalation = services.escalation_raise(
                actor=chair,
                policy=ladders["gloucestershire"],
                categories=first_category(ladders["gloucestershire"]),
                children=[child],
                summary="Core group meetings not held.",
                responder=responders[number % len(responders)],
                now=now or timezone.now(),
            )
            slowest = max(slowest, time.monotonic() - started)
            ids.extend(
                Notification.objects.filter(escalation=escalation).values_list("pk", flat=True)
            )
        return Raised(ids, slowest)

    return make


@dataclass
class Outcome:
    fault: str
    events: int
    delivered: int
    duplicates: int
    lost: int
    seconds_after_recovery: float
    # To the last row marked sent: later than its e-mail where a crash fell between send
    # and mark (the repeat waits for the dead sender's claim to expire).
    seconds_to_mark_sent: float
    slowest_raise_seconds: float
    # Messages whose Message-ID is none of the rows' (a repeat that changed its identity).
    strangers: int = 0


def outcome(
    *,
    fault: str,
    raised: Raised,
    during: Raised,
    received: list[dict],
    recovered_at: float,
    delivered_at: float | None = None,
) -> Outcome:
    """What the sink received for the rows `raised` (`during` the fault among them).
    The seconds are from `recovered_at` to `delivered_at`, by default the sink's time of
    the last row's first copy, and to the last row's `sent_at` (for a simulated clock:
    timestamps on that clock)."""
    wanted = {message_id(pk): pk for pk in raised.ids}
    copies = Counter(m["message_id"] for m in received if m["message_id"] in wanted)
    first_copy: dict[str, float] = {}
    for message in received:
        key = message["message_id"]
        if key in wanted:
            first_copy[key] = min(first_copy.get(key, message["at"]), message["at"])
    sent = dict(
        Notification.objects.filter(pk__in=raised.ids, email_status=EmailStatus.SENT).values_list(
            "pk", "sent_at"
        )
    )
    last_sent = max((at.timestamp() for at in sent.values()), default=recovered_at)
    lost = sum(1 for key, pk in wanted.items() if key not in copies or pk not in sent)
    last = delivered_at or max(first_copy.values(), default=recovered_at)
    return Outcome(
        fault=fault,
        events=len(raised.ids),
        delivered=sum(copies.values()),
        duplicates=sum(copies.values()) - len(copies),
        lost=lost,
        seconds_after_recovery=round(max(0.0, last - recovered_at), 1),
        seconds_to_mark_sent=round(max(0.0, last_sent - recovered_at), 1),
        slowest_raise_seconds=round(during.slowest_seconds, 3),
        strangers=sum(1 for m in received if m["message_id"] not in wanted),
    )


def all_sent(ids: list[int]) -> bool:
    return Notification.objects.filter(pk__in=ids, email_status=EmailStatus.SENT).count() == len(
        ids
    )


def wait_for_delivery(stack: Stack, raised: Raised, *, seconds: float = 90) -> None:
    """Every row sent and on the sink's record (bounded), then a moment for any late copy."""
    wanted = {message_id(pk) for pk in raised.ids}

    def done() -> bool:
        received = {m["message_id"] for m in stack.received()}
        return wanted <= received and all_sent(raised.ids)

    try:
        wait_until(done, seconds=seconds, what="delivery of every alert", logs=stack.log_tail)
    except StackFailure as failure:
        pending = Notification.objects.filter(pk__in=raised.ids).exclude(
            email_status=EmailStatus.SENT
        )
        states = list(pending.values_list("pk", "email_status", "attempts", "last_error"))
        pytest.fail(f"{failure}\nnot sent: {states}")
    time.sleep(1)


@pytest.fixture
def fault_results() -> Callable[[str, Outcome], None]:
    """record(key, outcome): merged into var/fault-results.json, one entry per fault."""

    def record(key: str, result: Outcome) -> None:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        try:
            results = json.loads(RESULTS.read_text())
        except (OSError, ValueError):
            results = {}
        results[key] = asdict(result)
        draft = RESULTS.with_suffix(".draft")
        draft.write_text(json.dumps(dict(sorted(results.items())), indent=2) + "\n")
        draft.replace(RESULTS)

    return record


def assert_every_alert_once(result: Outcome, *, crashes: int = 0) -> None:
    """Every row sent, none lost; a second copy only where a crash could have fallen
    between send and mark (at most one per crash), and then with the same Message-ID;
    delivered within a minute of recovery; every raise during the fault quick."""
    assert result.lost == 0, result
    assert result.strangers == 0, result
    assert result.duplicates <= crashes, result
    assert result.seconds_after_recovery <= RECOVERY_SECONDS, result
    assert result.seconds_to_mark_sent <= RECOVERY_SECONDS, result
    assert result.slowest_raise_seconds < RAISE_SECONDS, result
