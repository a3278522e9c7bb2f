"""The real thing: Redis, a Celery worker, Celery beat and the outbox relay, started here
as processes.

Needs PostgreSQL (the worker reads and writes the test database while the test waits) and
a Redis server: REDIS_URL, default redis://127.0.0.1:6379/0. Without Redis the test is
skipped, or fails when REQUIRE_INTEGRATION=1. The worker and beat use their own queue
(tests/notifications/celery_settings.py) and a beat interval of a few seconds; the
e-mails go to files in a temporary directory.
"""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from escalations import services
from notifications.models import EmailStatus, Kind, Notification
from notifications.relay import relay_once
from tests.fixtures import first_category
from tests.markers import postgres_only

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
SWEEP_INTERVAL_SECONDS = 5
WAIT_SECONDS = 60
SEPARATOR = "\n" + "-" * 79 + "\n"

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis is not reachable at {REDIS_URL} ({type(exc).__name__})"
        if os.environ.get("REQUIRE_INTEGRATION") == "1":
            pytest.fail(f"{reason}, and REQUIRE_INTEGRATION=1")
        pytest.skip(reason)
    return client


def delete_queue(client: redis.Redis, queue: str) -> None:
    """The queue's list (and its priority lists and bindings): every key naming it."""
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)


def database_url_for_workers() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    return f"postgres://{credentials}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def emails_in(folder: Path) -> list[email.message.Message]:
    """Every message the file backend wrote (one file per connection, messages separated)."""
    messages = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_text().split(SEPARATOR):
            if chunk.strip():
                messages.append(email.message_from_string(chunk))
    return messages


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str, logs: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    worker_log = (logs / "worker.log").read_text()[-3000:]
    beat_log = (logs / "beat.log").read_text()[-1500:]
    pytest.fail(f"No {what} within {seconds} s.\n--- worker\n{worker_log}\n--- beat\n{beat_log}")


def finished_sweeps(worker_log: Path) -> int:
    return len(re.findall(r"escalations\.tasks\.sweep\[[^\]]+\] succeeded", worker_log.read_text()))


def worker_idle(worker_log: Path, client: redis.Redis, queue: str) -> bool:
    """Nothing waiting in the queue and every task the worker took has finished."""
    text = worker_log.read_text()
    received = len(re.findall(r"Task \S+\[[^\]]+\] received", text))
    finished = len(re.findall(r"Task \S+\[[^\]]+\] (?:succeeded|raised|retry)", text))
    return client.llen(queue) == 0 and received == finished


def test_beat_and_a_worker_email_each_overdue_alert_once(ladders, staff_of, child_of, tmp_path):
    client = redis_or_skip()
    queue = f"test-notifications-{uuid.uuid4().hex[:12]}"
    delete_queue(client, queue)

    # A Gloucestershire Stage 1 step (4 working days) raised a fortnight ago: overdue today,
    # inside the 20 working-day cap. Its "step raised" e-mail is relayed here, in-process.
    policy = ladders["gloucestershire"]
    chair = staff_of("gloucestershire", "cp-chair")
    responder = staff_of("gloucestershire", "team-manager")
    escalation = services.escalation_raise(
        actor=chair,
        policy=policy,
        categories=first_category(policy),
        children=[child_of("gloucestershire")],
        summary="Core group meetings not held.",
        stage=policy.stages.get(order=1),
        responder=responder,
        now=timezone.now() - timedelta(days=14),
    )
    step = escalation.steps.get()
    assert step.due_on < timezone.localdate() < escalation.formal_cap_due_on
    assert relay_once(now=timezone.now()).sent == 1
    assert Notification.objects.get().email_status == EmailStatus.SENT

    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.notifications.celery_settings",
        "PYTHONPATH": str(settings.BASE_DIR),
        "DATABASE_URL": database_url_for_workers(),
        "REDIS_URL": REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "ESCALATION_VAR_DIR": str(tmp_path / "var"),
        "TEST_CELERY_QUEUE": queue,
        "TEST_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL_SECONDS),
    }
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    commands = {
        "worker": [
            *celery,
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        "beat": [
            *celery,
            "beat",
            "--schedule",
            str(tmp_path / "beat-schedule"),
            "--loglevel=INFO",
        ],
        # Beat's sweep writes the overdue rows; the relay hands them to the worker.
        "relay": [sys.executable, "manage.py", "run_relay"],
    }
    worker_log = tmp_path / "worker.log"
    processes: list[subprocess.Popen] = []
    started = time.monotonic()
    try:
        for name, command in commands.items():
            with open(tmp_path / f"{name}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(  # noqa: S603 (our own fixed command line)
                        command,
                        cwd=settings.BASE_DIR,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )

        def to_both() -> bool:
            return len(emails_in(mail_dir)) >= 2

        wait_for(to_both, seconds=WAIT_SECONDS, what="overdue e-mails", logs=tmp_path)
        sweeps = finished_sweeps(worker_log)
        wait_for(
            lambda: finished_sweeps(worker_log) > sweeps,
            seconds=SWEEP_INTERVAL_SECONDS * 3,
            what="second sweep",
            logs=tmp_path,
        )
        wait_for(
            lambda: worker_idle(worker_log, client, queue),
            seconds=10,
            what="idle worker",
            logs=tmp_path,
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        delete_queue(client, queue)
    print(f"worker and beat: {time.monotonic() - started:.1f} s")

    messages = emails_in(mail_dir)
    assert Counter(m["To"] for m in messages) == {
        chair.user.email: 1,
        responder.user.email: 1,
    }
    assert all(m["Subject"] == f"[{escalation.reference}] A response is overdue" for m in messages)
    overdue = Notification.objects.filter(kind=Kind.OVERDUE)
    assert sorted(overdue.values_list("recipient_id", "email_status", "attempts")) == sorted(
        [(chair.pk, EmailStatus.SENT, 1), (responder.pk, EmailStatus.SENT, 1)]
    )
