"""`manage.py benchmark`: issue 13's table for the current code, on whatever data is loaded.

Every page of the table (My escalations, the quarterly report, the QA dashboard, a
child's file, the tracker, Awaiting my response, an escalation's page, Notifications and
To do) is requested through django.test.Client, so through the whole middleware stack,
signed in as the person the page is for, interleaved request by request with a bare
DB-backed view: 50 rows from `values_list` in a plain template. The bare view lives here,
in a URLconf the benchmark alone uses (this module: the product's URLs plus the bare
view), never in the product's URLs. A page's ratio is its median over the bare view's
median measured in the same rounds, so a busy machine slows both alike.

Also: the query count of one request of each page, its peak Python allocations
(tracemalloc), the CSV export against `COPY (the same columns) TO STDOUT`, and the
deadline sweep (first run and re-run) against one indexed query that finds the steps it
acts on. Everything runs in one transaction that is rolled back: no notifications,
access-log rows or sessions are left behind.

Timings only, no assertions: read the ratios, not the milliseconds, on a shared machine.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.test import Client
from django.test.utils import override_settings
from django.urls import include, path, reverse
from django.utils import timezone

from children.models import Child
from demo.management.commands.benchmark_reports import _copy, export_peaks
from escalations.models import OPEN_STATES, Escalation, Step, effective_due
from escalations.selectors import awaiting_reply_from
from escalations.sweep import process_due
from policies.models import LocalAuthority
from reports import figures
from reports.reporting import financial_quarter
from staff.models import StaffMember

BARE_PATH = "benchmark-bare-view/"
BARE_TEMPLATE = engines["django"].from_string(
    "<!doctype html><html lang='en'><head><title>Bare</title></head><body><table>"
    "{% for pk, summary, state, raised_at in rows %}<tr><td>{{ pk }}</td><td>{{ summary }}"
    "</td><td>{{ state }}</td><td>{{ raised_at }}</td></tr>{% endfor %}</table></body></html>"
)


def bare_view(request: HttpRequest) -> HttpResponse:
    """The floor a page is measured against: one indexed query of 50 rows, a plain
    template, behind the same middleware (session, authentication, staff record)."""
    rows = Escalation.objects.order_by("-pk").values_list("pk", "summary", "state", "raised_at")
    return HttpResponse(BARE_TEMPLATE.render({"rows": list(rows[:50])}))


# The benchmark's URLconf (ROOT_URLCONF is pointed at this module while it runs): the
# product's URLs, and the bare view beside them.
urlpatterns = [
    path(BARE_PATH, bare_view, name="benchmark_bare"),
    path("", include("config.urls")),
]


class _Rollback(Exception):
    """Raised to roll a block back on purpose."""


@dataclass
class Page:
    name: str
    who: str
    url: str
    client: Client
    page_times: list[float] = field(default_factory=list)
    bare_times: list[float] = field(default_factory=list)
    queries: int = 0
    size: int = 0
    peak: int = 0
    seq_scans: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.page_times) / max(statistics.median(self.bare_times), 1e-9)


def _p95(times: list[float]) -> float:
    if len(times) < 2:
        return times[0]
    return statistics.quantiles(times, n=20, method="inclusive")[18]


class _Counter:
    """Counts every statement (Django's own query log stops at 9,000), keeping the
    SELECTs when asked (for EXPLAIN)."""

    def __init__(self, keep: bool = False) -> None:
        self.n = 0
        self.keep = keep
        self.selects: list[tuple[str, Any]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.n += 1
        if self.keep and not many and sql.lstrip().upper().startswith("SELECT"):
            self.selects.append((sql, params))
        return execute(sql, params, many, context)


# A sequential scan of a table this big in a page's path is a missing index.
SEQ_SCAN_ROWS = 10_000


def _seq_scans(selects: list[tuple[str, Any]]) -> set[str]:
    """The tables of over SEQ_SCAN_ROWS rows that PostgreSQL's plans for these statements
    read sequentially."""
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") == "Seq Scan":
            table = node.get("Relation Name", "")
            if _rows_of(table) > SEQ_SCAN_ROWS:
                found.add(table)
        for child in node.get("Plans", []):
            walk(child)

    with connection.cursor() as cursor:
        for sql, params in selects:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            walk(plan[0]["Plan"])
    return found


def _rows_of(table: str, _cache: dict[str, float] = {}) -> float:  # noqa: B006 - a cache
    if table not in _cache:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            row = cursor.fetchone()
        _cache[table] = row[0] if row else 0
    return _cache[table]


class Command(BaseCommand):
    help = (
        "Time every page of issue 13's table against a bare view, interleaved; the CSV "
        "export and the sweep against their SQL floors. Prints a Markdown table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--requests", type=int, default=30, help="Timed requests per page (default 30)."
        )
        parser.add_argument(
            "--warmup", type=int, default=3, help="Untimed requests per page first (default 3)."
        )
        parser.add_argument(
            "--repeat", type=int, default=3, help="Runs of the CSV export and the sweep."
        )
        parser.add_argument(
            "--authority", default=None, help="Authority slug (default: the busiest)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.requests, self.warmup = options["requests"], options["warmup"]
        self.repeat = options["repeat"]
        if self.requests < 1 or self.warmup < 0 or self.repeat < 1:
            raise CommandError("--requests and --repeat must be at least 1, --warmup 0 or more.")
        authority = self._authority(options["authority"])
        hosts = list(settings.ALLOWED_HOSTS)
        if "testserver" not in hosts and "*" not in hosts:
            hosts.append("testserver")
        self.load_before = os.getloadavg()
        started = time.perf_counter()
        # Each request's log line (and django-axes' sign-in lines) would bury the table.
        logging.disable(logging.INFO)
        try:
            with (
                transaction.atomic(),
                override_settings(ALLOWED_HOSTS=hosts, ROOT_URLCONF=__name__),
                warnings.catch_warnings(),
            ):
                warnings.filterwarnings("ignore", "Limit for query logging exceeded")
                self._header(authority)
                pages = self._pages(authority)
                for page in pages:
                    self._measure_page(page)
                extra = self._floors(authority)
                self._recount(authority)
                raise _Rollback
        except _Rollback:
            pass
        finally:
            logging.disable(logging.NOTSET)
        self._report(pages, extra, time.perf_counter() - started)

    # --- who and what ----------------------------------------------------------------

    def _authority(self, slug: str | None) -> LocalAuthority:
        if slug:
            found = LocalAuthority.objects.filter(slug=slug).first()
            if found is None:
                raise CommandError(f"No authority with the slug {slug!r}.")
            return found
        busiest = (
            LocalAuthority.objects.annotate(n=Count("escalations")).order_by("-n", "name").first()
        )
        if busiest is None or not busiest.n:
            raise CommandError("No escalations yet: run load_policies and generate_load_data.")
        return busiest

    def _header(self, authority: LocalAuthority) -> None:
        version = ""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                version = " " + cursor.fetchone()[0]
        own = Escalation.objects.filter(authority=authority).count()
        self.lines = [
            f"Machine: {os.cpu_count()} cores, load average {self._load(self.load_before)} "
            f"at the start; {connection.vendor}{version}, Python {platform.python_version()}, "
            f"Django {django.get_version()}.",
            f"Data: {Escalation.objects.count():,} escalations, {Step.objects.count():,} steps "
            f"in all; {authority.name} {own:,} escalations.",
            f"{self.requests} timed requests per page after {self.warmup} untimed, each "
            "interleaved with the bare view (50 rows from values_list, plain template).",
        ]
        for line in self.lines:
            self.stdout.write(line)

    @staticmethod
    def _load(load: tuple[float, float, float]) -> str:
        return " / ".join(f"{x:.2f}" for x in load)

    def _client(self, staff: StaffMember) -> Client:
        client = Client()
        client.force_login(staff.user)
        return client

    def _pages(self, authority: LocalAuthority) -> list[Page]:
        staff = StaffMember.objects.filter(authority=authority, is_active=True).select_related(
            "user", "role"
        )
        qa = staff.filter(role__is_quality_assurance=True).order_by("pk").first()
        chair = (
            staff.filter(role__is_chair=True)
            .annotate(n=Count("escalations_raised"))
            .order_by("-n", "pk")
            .first()
        )
        if qa is None or chair is None:
            raise CommandError(f"{authority.name} needs an active QA manager and a chair.")
        open_steps = Step.objects.filter(
            escalation__authority=authority, escalation__state__in=OPEN_STATES
        )
        responder_pk = (
            open_steps.awaiting_response()
            .exclude(responder=None)
            .values("responder")
            .annotate(n=Count("pk"))
            .order_by("-n", "responder")
            .values_list("responder", flat=True)
            .first()
        )
        responder = (staff.filter(pk=responder_pk).first() if responder_pk else None) or chair
        child = (
            Child.objects.filter(authority=authority)
            .annotate(n=Count("escalations"))
            .order_by("-n", "pk")
            .first()
        )
        escalation = (
            Escalation.objects.filter(authority=authority, state__in=OPEN_STATES)
            .annotate(n=Count("steps"))
            .order_by("-n", "pk")
            .first()
        ) or Escalation.objects.filter(authority=authority).order_by("pk").first()
        assert escalation is not None  # the authority has escalations (_authority)
        viewer = escalation.raised_by
        clients: dict[int, Client] = {}

        def page(name: str, who: StaffMember, url: str, about: str = "") -> Page:
            if who.pk not in clients:
                clients[who.pk] = self._client(who)
            label = f"{who.role.name}{f', {about}' if about else ''}"
            return Page(name, label, url, clients[who.pk])

        mine = Escalation.objects.filter(raised_by=chair).count()
        awaiting = awaiting_reply_from(responder).count()
        kids = child.escalations.count() if child else 0
        pages = [
            page("My escalations", chair, reverse("escalations:mine"), f"raised {mine:,}"),
            page("Quarterly report", qa, reverse("reports:quarterly")),
            page("QA dashboard", qa, reverse("reports:dashboard")),
            page("Tracker", qa, reverse("reports:tracker")),
            page(
                "Awaiting my response",
                responder,
                reverse("escalations:awaiting"),
                f"{awaiting:,} awaited",
            ),
            page(
                "Escalation page",
                viewer,
                reverse("escalations:detail", args=[escalation.pk]),
                f"{escalation.steps.count()} steps",
            ),
            page("Notifications", chair, reverse("notifications:list")),
            page("To do", chair, reverse("escalations:todo")),
            page("To do", qa, reverse("escalations:todo")),
        ]
        if child is not None:
            pages.insert(
                3,
                page(
                    "Child's file",
                    qa,
                    reverse("children:file", args=[child.pk]),
                    f"{kids} escalations",
                ),
            )
        return pages

    # --- measuring ---------------------------------------------------------------------

    @staticmethod
    def _get(client: Client, url: str) -> bytes:
        response = client.get(url, secure=True)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}.")
        if response.streaming:  # read in full, as a browser would
            return b"".join(response.streaming_content)  # type: ignore[attr-defined]  # test client
        return response.content

    def _timed(self, client: Client, url: str) -> float:
        started = time.perf_counter()
        self._get(client, url)
        return time.perf_counter() - started

    def _measure_page(self, page: Page) -> None:
        bare = reverse("benchmark_bare")
        for _ in range(self.warmup):
            self._get(page.client, bare)
            self._get(page.client, page.url)
        for i in range(self.requests):
            # Alternate which goes first, so neither always follows the other.
            if i % 2:
                page.page_times.append(self._timed(page.client, page.url))
                page.bare_times.append(self._timed(page.client, bare))
            else:
                page.bare_times.append(self._timed(page.client, bare))
                page.page_times.append(self._timed(page.client, page.url))
        counter = _Counter(keep=connection.vendor == "postgresql")
        with connection.execute_wrapper(counter):
            page.size = len(self._get(page.client, page.url))
        page.queries = counter.n
        if counter.keep:
            page.seq_scans = sorted(_seq_scans(counter.selects))
        tracemalloc.start()
        try:
            self._get(page.client, page.url)
            page.peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        self.stdout.write(
            f"  {page.name} ({page.who}): p50 {statistics.median(page.page_times) * 1000:.1f} ms, "
            f"{page.ratio:.1f}x the bare view, {page.queries} queries"
        )
        self.stdout.flush()

    def _runs(self, run: Callable[[], Any], floor: Callable[[], Any]) -> tuple[float, float, int]:
        """Median seconds of `run` and of `floor`, alternated; `run`'s query count."""
        run_times: list[float] = []
        floor_times: list[float] = []
        counter = _Counter()
        for i in range(self.repeat):
            pair = [(run, run_times), (floor, floor_times)]
            for fn, times in pair if i % 2 == 0 else reversed(pair):
                counter.n = 0
                with connection.execute_wrapper(counter):
                    started = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - started)
                if fn is run:
                    queries = counter.n
        return statistics.median(run_times), statistics.median(floor_times), queries

    def _floors(self, authority: LocalAuthority) -> list[tuple[str, str, int, float, float]]:
        """(what, floor, queries, median s, floor median s) for the CSV export and the sweep."""
        out: list[tuple[str, str, int, float, float]] = []
        qa = StaffMember.objects.filter(
            authority=authority, role__is_quality_assurance=True, is_active=True
        ).first()
        assert qa is not None  # _pages refused an authority without one
        client = self._client(qa)
        csv_url = reverse("reports:tracker_csv")
        own = Escalation.objects.filter(authority=authority)
        rows = own.count()
        today = timezone.localdate()
        self.notes: list[str] = []
        if connection.vendor == "postgresql":
            csv_s, copy_s, queries = self._runs(
                lambda: self._get(client, csv_url), lambda: _copy(own)
            )
            out.append(
                (
                    f"CSV export, {rows:,} rows",
                    "COPY (same columns) TO STDOUT",
                    queries,
                    csv_s,
                    copy_s,
                )
            )
        else:
            self.notes.append("CSV against COPY: needs PostgreSQL.")
        self.notes.append(export_peaks(own, today))

        now = timezone.now()
        due = _due_steps(today)
        open_steps = Step.objects.open().filter(escalation__state__in=OPEN_STATES).count()

        def first_run() -> None:
            try:
                with transaction.atomic():
                    self.created = process_due(now).created
                    raise _Rollback
            except _Rollback:
                pass

        sweep_s, floor_s, queries = self._runs(first_run, lambda: list(due.all()))
        made = sum(self.created.values())
        out.append(
            (
                f"Sweep, first run ({open_steps:,} open steps, {made:,} alerts)",
                "the due steps, one query",
                queries,
                sweep_s,
                floor_s,
            )
        )
        process_due(now)  # what a re-run meets (rolled back with the rest)
        again_s, floor_s, queries = self._runs(lambda: process_due(now), lambda: list(due.all()))
        out.append(
            ("Sweep, re-run (nothing new)", "the due steps, one query", queries, again_s, floor_s)
        )
        return out

    def _recount(self, authority: LocalAuthority) -> None:
        """What the first visit after a change costs: the dashboard's and the quarterly
        report's figures counted afresh (the pages above read them stored)."""
        today = timezone.localdate()
        period = financial_quarter(today)
        for kind, name in ((figures.BODY, "dashboard"), (figures.REPORT, "quarterly report")):
            times = []
            for _ in range(self.repeat):
                started = time.perf_counter()
                figures.count_section(kind=kind, authority=authority, period=period, today=today)
                times.append(time.perf_counter() - started)
            self.notes.append(
                f"The {name}'s figures counted afresh (the first visit after a change, "
                f"unless the refresh got there first): {statistics.median(times):.2f} s."
            )

    # --- the report ----------------------------------------------------------------------

    def _report(
        self, pages: list[Page], extra: list[tuple[str, str, int, float, float]], took: float
    ) -> None:
        w = self.stdout.write
        w("")
        w(
            "| page | signed in as | queries | HTML KB | p50 ms | p95 ms | bare p50 ms | p50 / bare | peak MiB |"
        )
        w("|---|---|--:|--:|--:|--:|--:|--:|--:|")
        for p in pages:
            w(
                f"| {p.name} | {p.who} | {p.queries} | {p.size / 1024:,.0f} | "
                f"{statistics.median(p.page_times) * 1000:.1f} | {_p95(p.page_times) * 1000:.1f} | "
                f"{statistics.median(p.bare_times) * 1000:.1f} | **{p.ratio:.1f}×** | "
                f"{p.peak / 2**20:.1f} |"
            )
        w("")
        scans = [f"{p.name} ({p.who}): {', '.join(p.seq_scans)}" for p in pages if p.seq_scans]
        if connection.vendor != "postgresql":
            w("Sequential scans: EXPLAIN needs PostgreSQL.")
        elif scans:
            w(f"Sequential scans of tables over {SEQ_SCAN_ROWS:,} rows: " + "; ".join(scans) + ".")
        else:
            w(
                f"EXPLAIN of every page's statements: no sequential scan of a table over "
                f"{SEQ_SCAN_ROWS:,} rows."
            )
        w("")
        w("| what | floor | queries | median s | floor s | ratio |")
        w("|---|---|--:|--:|--:|--:|")
        for what, floor, queries, median, floor_s in extra:
            w(
                f"| {what} | {floor} | {queries:,} | {median:.3f} | {floor_s:.3f} | "
                f"**{median / max(floor_s, 1e-9):.1f}×** |"
            )
        w("")
        for note in self.notes:
            w(note)
        # ru_maxrss is in KiB on Linux, bytes on macOS.
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rss_mib = rss / 2**20 if sys.platform == "darwin" else rss / 1024
        w(f"Process peak memory (max RSS): {rss_mib:,.0f} MiB.")
        w(
            f"Load average at the end: {self._load(os.getloadavg())}; "
            f"took {took:.0f} s. Nothing was saved: one transaction, rolled back."
        )


def _due_steps(today: date) -> Any:
    """The floor for the sweep: one query for the open steps whose reply or issue-by date
    has come, with what an alert needs to name."""
    return (
        Step.objects.filter(escalation__state__in=OPEN_STATES, closed_at__isnull=True)
        .annotate(due=effective_due())
        .filter(Q(due__lte=today) | Q(next_issue_due_on__lte=today))
        .values_list("pk", "escalation_id", "responder_id", "due", "next_issue_due_on")
    )
