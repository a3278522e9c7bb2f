"""The health endpoint's checks, as django-health-check plugin classes.

Each check's name (its repr) and message appear on the public /health/ endpoint, so they
say what is wrong in counts and times only: never a child, a person or a case, and never
a host name or password from a URL. `detail` holds the same in words for the status page.
"""

from __future__ import annotations

import dataclasses

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from redis.asyncio import Redis as RedisClient

from notifications.selectors import STUCK_AFTER
from operations import selectors
from operations.selectors import minutes_in_words


@dataclasses.dataclass
class DatabaseCheck(Database):
    title = "Database"
    detail: str = dataclasses.field(default="", init=False, repr=False)

    def __repr__(self) -> str:
        return "Database"

    def run(self) -> None:
        try:
            super().run()
        except ServiceUnavailable as exc:
            # The driver's message names the database host; the endpoint is public.
            raise ServiceUnavailable("Not answering.") from exc
        self.detail = "Answering."


@dataclasses.dataclass
class BrokerCheck(Redis):
    title = "Redis (the Celery broker)"
    detail: str = dataclasses.field(default="", init=False, repr=False)

    def __repr__(self) -> str:
        # Not the library's host/port: the endpoint is public.
        return "Redis"

    async def run(self) -> None:
        await super().run()
        self.detail = "Answering."


def _broker() -> RedisClient:
    return RedisClient.from_url(
        settings.REDIS_URL, socket_timeout=3, socket_connect_timeout=3, retry_on_timeout=False
    )


@dataclasses.dataclass
class OutboxCheck(HealthCheck):
    """Unhealthy when an e-mail is stuck: pending well past its time (the relay or the
    workers are down, or cannot reach the database or the broker)."""

    title = "E-mail outbox"
    detail: str = dataclasses.field(default="", init=False, repr=False)

    def __repr__(self) -> str:
        return "Outbox"

    async def run(self) -> None:
        state = await sync_to_async(selectors.outbox_state)(now=timezone.now())
        age = state.oldest_pending_age
        waited = minutes_in_words(age) if age is not None else ""
        if state.pending:
            words = f"{state.pending} e-mail(s) waiting to be sent; the oldest for {waited}."
        else:
            words = "No e-mail waiting to be sent."
        if state.failed:
            words += f" {state.failed} failed after a day of retries (see the admin)."
        self.detail = words
        if state.unhealthy:
            raise ServiceUnavailable(
                f"{state.stuck} e-mail(s) stuck more than {minutes_in_words(STUCK_AFTER)} "
                f"past their time; {state.pending} pending, the oldest for {waited}."
            )


@dataclasses.dataclass
class SweepCheck(HealthCheck):
    """Unhealthy when no deadline sweep has finished within SWEEP_ALERT_MINUTES: reminders
    and overdue alerts have stopped (beat, a worker or run_scheduler is down)."""

    title = "Deadline sweep"
    detail: str = dataclasses.field(default="", init=False, repr=False)

    def __repr__(self) -> str:
        return "Deadline sweep"

    async def run(self) -> None:
        state = await sync_to_async(selectors.sweep_state)(now=timezone.now())
        age = state.age
        if state.last_finished_at is None or age is None:
            self.detail = "No sweep has finished yet."
        else:
            at = timezone.localtime(state.last_finished_at)
            self.detail = (
                f"Last finished at {at:%H:%M} on {at:%-d %B %Y}, {minutes_in_words(age)} ago."
            )
        if state.late:
            limit = minutes_in_words(selectors.sweep_alert_after())
            raise ServiceUnavailable(f"No sweep has finished in the last {limit}.")


def liveness_checks() -> list[HealthCheck]:
    """For the load balancer and the web container: this node serves and reaches its
    database. A late sweep or a stuck outbox is a page for a person (/health/), not a
    reason to take every web node out of service."""
    return [DatabaseCheck()]


def health_checks() -> list[HealthCheck]:
    """The checks, in the order shown: Redis only where there is one (REDIS_URL)."""
    checks: list[HealthCheck] = [DatabaseCheck()]
    if settings.REDIS_URL:
        checks.append(BrokerCheck(client_factory=_broker))
    checks += [OutboxCheck(), SweepCheck()]
    return checks
