"""Requests per second through gunicorn, for choosing its worker count and class.

    DATABASE_URL=postgres://… .venv/bin/python scripts/throughput.py [--workers 2 5] \
        [--worker-class sync gthread] [--clients 8] [--seconds 15]

Starts gunicorn (config.wsgi, DEBUG off, persistent database connections as in
production) once per worker setting, signs in as a QA manager and a chair of the busiest
authority, and has --clients threads fetch the pages below in turn over keep-alive
connections for --seconds. Prints one Markdown row per setting: requests per second and
the median and 95th-percentile latency. Nothing is written but sessions and access-log
rows; run it on a load-test database (README: Performance), never on live data.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _sessions() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Session cookies of a QA manager and a chair, and the (who, path) pages to fetch."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from escalations.models import OPEN_STATES, Escalation
    from policies.models import LocalAuthority
    from staff.models import StaffMember

    authority = LocalAuthority.objects.annotate(n=Count("escalations")).order_by("-n").first()
    if authority is None:
        sys.exit("No authority: load the ladders and generate_load_data first.")
    staff = StaffMember.objects.filter(authority=authority, is_active=True)
    qa = staff.filter(role__is_quality_assurance=True).first()
    chairs = staff.filter(role__is_chair=True).annotate(n=Count("escalations_raised"))
    chair = chairs.order_by("-n").first()
    if qa is None or chair is None:
        sys.exit(f"{authority.name} needs an active QA manager and a chair.")
    escalation = Escalation.objects.filter(raised_by=chair, state__in=OPEN_STATES).first()
    cookies = {}
    for who, person in (("qa", qa), ("chair", chair)):
        client = Client()
        client.force_login(person.user)
        cookies[who] = client.cookies["sessionid"].value
    pages = [
        ("chair", reverse("notifications:list")),
        ("chair", reverse("escalations:todo")),
        ("qa", reverse("reports:dashboard")),
        ("qa", reverse("reports:tracker")),
    ]
    if escalation is not None:
        pages.append(("chair", reverse("escalations:detail", args=[escalation.pk])))
    return cookies, pages


def _client(
    port: int,
    cookies: dict[str, str],
    pages: list[tuple[str, str]],
    until: float,
    times: list[float],
    errors: list[str],
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    i = 0
    while time.monotonic() < until:
        who, path = pages[i % len(pages)]
        i += 1
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers={"Cookie": f"sessionid={cookies[who]}"})
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(str(exc))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        if response.status != 200:
            errors.append(f"{path}: {response.status}")
        times.append(time.perf_counter() - started)
    conn.close()


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if process.poll() is not None:
            sys.exit("gunicorn stopped before serving.")
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("HEAD", "/")
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not start within 20 seconds.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 5])
    parser.add_argument("--worker-class", nargs="+", default=["sync"])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL load-test database.")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "600")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    cookies, pages = _sessions()
    print(f"{os.cpu_count()} cores; pages in turn: {', '.join(p for _, p in pages)}")
    print(f"{args.clients} clients for {args.seconds:.0f} s per setting.")
    print("")
    print("| workers | class | requests/s | p50 ms | p95 ms | errors |")
    print("|--:|---|--:|--:|--:|--:|")
    for worker_class in args.worker_class:
        for workers in args.workers:
            command = [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "config.wsgi:application",
                "--bind", f"127.0.0.1:{args.port}",
                "--workers", str(workers),
                "--worker-class", worker_class,
                "--threads", "4" if worker_class == "gthread" else "1",
                "--log-level", "warning",
            ]  # fmt: skip
            process = subprocess.Popen(command, cwd=ROOT)  # noqa: S603 - our own arguments
            try:
                _wait_for(args.port, process)
                times: list[float] = []
                errors: list[str] = []
                # Warm every worker's connection and templates first.
                _client(args.port, cookies, pages, time.monotonic() + 2, [], [])
                until = time.monotonic() + args.seconds
                threads = [
                    threading.Thread(
                        target=_client, args=(args.port, cookies, pages, until, times, errors)
                    )
                    for _ in range(args.clients)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                p95 = statistics.quantiles(times, n=20)[18] if len(times) > 1 else 0
                print(
                    f"| {workers} | {worker_class} | {len(times) / args.seconds:.1f} | "
                    f"{statistics.median(times) * 1000:.0f} | {p95 * 1000:.0f} | {len(errors)} |",
                    flush=True,
                )
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
