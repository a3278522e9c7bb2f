#!/usr/bin/env python3
"""Health checks for docker-compose, run as `scripts/entrypoint.sh health web|beat`.

Exits 0 when healthy, 1 with a one-line reason otherwise. Standard library only and no
Django start-up, so a check costs milliseconds every few seconds.

web   GET HEALTH_PATH (/health/live/: this node and its database; the full /health/ —
      Redis, the outbox, the last sweep — is for monitoring, so a late beat never takes
      the web container out of service) on
      this container's gunicorn (WEB_BIND), as the proxy would send it: the site's own
      host name (the first of DJANGO_ALLOWED_HOSTS, or Django answers 400) and
      X-Forwarded-Proto: https. 200 only.
beat  beat's schedule file was written in the last BEAT_HEALTH_MAX_AGE_SECONDS (600):
      beat rewrites it every few minutes while its loop runs, so a hung beat goes stale.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import time
from pathlib import Path

HEALTH_PATH = os.environ.get("HEALTH_PATH", "/health/live/")


def site_host() -> str:
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")]
    for host in hosts:
        if host and host != "*":
            # ".example.org" allows the domain and its subdomains; the domain itself will do.
            return host.lstrip(".")
    return "localhost"


def check_web() -> str | None:
    port = int(os.environ.get("WEB_BIND", "0.0.0.0:8000").rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "GET", HEALTH_PATH, headers={"Host": site_host(), "X-Forwarded-Proto": "https"}
        )
        status = connection.getresponse().status
    except OSError as exc:
        return f"web: no answer on port {port}: {exc}"
    finally:
        connection.close()
    return None if status == 200 else f"web: {HEALTH_PATH} answered {status}"


def check_beat(schedule: Path) -> str | None:
    max_age = int(os.environ.get("BEAT_HEALTH_MAX_AGE_SECONDS", "600"))
    # The dbm module Python picks decides the suffix: the file itself, .db, or .dat/.dir.
    files = list(schedule.parent.glob(schedule.name + "*"))
    if not files:
        return f"beat: no schedule file at {schedule}"
    age = time.time() - max(f.stat().st_mtime for f in files)
    return None if age <= max_age else f"beat: schedule not written for {age:.0f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("process", choices=["web", "beat"])
    parser.add_argument("--schedule", type=Path, help="beat's schedule file (beat only)")
    args = parser.parse_args()
    if args.process == "beat" and args.schedule is None:
        parser.error("beat needs --schedule")
    problem = check_web() if args.process == "web" else check_beat(args.schedule)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
