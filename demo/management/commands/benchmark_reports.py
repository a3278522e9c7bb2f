"""Time the QA reports and the deadline sweep on whatever data is in the database.

Measures: the dashboard computation (reporting.dashboard) for the current quarter and
for the last twelve months, the dashboard, tracker and CSV pages through the test
client (signed in as the authority's QA manager), and the sweep (process_due, which
sends nothing). Everything runs inside one transaction that is rolled back, so the
benchmark leaves no trace: no notifications, access-log rows or sessions. Each sweep
repeat is rolled back to a savepoint, so every repeat is a first run; "sweep, re-run"
times a second run straight after one (nothing new to create: the steady state).

Timings only, no assertions: compare runs on the same machine.
"""

from __future__ import annotations

import csv
import gc
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import CharField, Count, Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat, TruncDate
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from escalations.models import OPEN_STATES, Escalation, Step, effective_due
from escalations.sweep import process_due
from policies.models import LocalAuthority
from reports import reporting
from staff.models import StaffMember


class _Rollback(Exception):
    """Raised to roll a block back on purpose."""


class Command(BaseCommand):
    help = "Time the dashboard, tracker, CSV export and deadline sweep on the current data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--authority",
            default=None,
            help="Authority slug (default: the one with the most escalations).",
        )
        parser.add_argument("--repeat", type=int, default=3, help="Runs of each measurement.")

    def handle(self, *args: Any, **options: Any) -> None:
        repeat = options["repeat"]
        self.verbosity = options["verbosity"]
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        authority = self._authority(options["authority"])
        qa = (
            StaffMember.objects.filter(
                authority=authority, role__is_quality_assurance=True, is_active=True
            )
            .select_related("user")
            .order_by("pk")
            .first()
        )
        if qa is None:
            raise CommandError(f"{authority.name} has no active QA manager to sign in as.")
        self.repeat = repeat
        self.rows: list[tuple[str, str, int, float, float]] = []
        hosts = list(settings.ALLOWED_HOSTS)
        if "testserver" not in hosts and "*" not in hosts:
            hosts.append("testserver")

        self.stdout.write(
            f"Benchmark: {authority.name} ({authority.slug}), signed in as "
            f"{qa.user.username}; {repeat} run(s) each; database "
            f"{connection.vendor} {connection.settings_dict.get('NAME')}"
        )
        try:
            with transaction.atomic(), override_settings(ALLOWED_HOSTS=hosts):
                self._measure(authority, qa)
                raise _Rollback
        except _Rollback:
            pass
        self._table()

    def _authority(self, slug: str | None) -> LocalAuthority:
        if slug:
            authority = LocalAuthority.objects.filter(slug=slug).first()
            if authority is None:
                raise CommandError(f"No authority with the slug {slug!r}.")
            return authority
        busiest = (
            LocalAuthority.objects.annotate(n=Count("escalations")).order_by("-n", "name").first()
        )
        if busiest is None:
            raise CommandError("No authorities yet: run load_policies (and generate_load_data).")
        return busiest

    # --- measuring ------------------------------------------------------------------

    def _time(self, what: str, rows: str, run: Callable[[], Any]) -> Any:
        """Run `repeat` times; the queries of the last run are counted (and kept)."""
        times, result, count = [], None, [0]

        def counting(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            count[0] += 1
            return execute(sql, params, many, context)

        for _ in range(self.repeat):
            count[0] = 0
            # CaptureQueriesContext keeps the SQL (the last 9,000 statements); the wrapper
            # counts every one, so a count past Django's log limit is still exact.
            with (
                warnings.catch_warnings(),
                CaptureQueriesContext(connection) as captured,
                connection.execute_wrapper(counting),
            ):
                warnings.filterwarnings("ignore", "Limit for query logging exceeded")
                started = time.perf_counter()
                result = run()
                times.append(time.perf_counter() - started)
        self.rows.append((what, rows, count[0], min(times), statistics.median(times)))
        self.stdout.write(f"  {what}: {statistics.median(times):.3f} s, {count[0]:,} queries")
        if self.verbosity >= 2:
            slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
            for query in slowest:
                self.stdout.write(f"      {query['time']} s  {query['sql'][:160]}")
        return result

    def _measure(self, authority: LocalAuthority, qa: StaffMember) -> None:
        today = timezone.localdate()
        now = timezone.now()
        base = reverse("reports:tracker")
        own = Escalation.objects.filter(authority=authority)
        quarter = reporting.financial_quarter(today)
        year = reporting.Period(
            today - timedelta(days=364), today, f"{today - timedelta(days=364)} to {today}"
        )

        for label, period in (("current quarter", quarter), ("last 12 months, custom", year)):
            raised = own.filter(raised_at__gte=period.start_at, raised_at__lt=period.end_at).count()
            steps = Step.objects.filter(
                escalation__authority=authority,
                raised_at__gte=period.start_at,
                raised_at__lt=period.end_at,
            ).count()
            self._time(
                f"dashboard(), {label}",
                f"{raised:,} esc, {steps:,} steps",
                partial(reporting.dashboard, authority, period, today, base),
            )

        client = Client()
        client.force_login(qa.user)
        total = own.count()

        def get(url: str) -> Any:
            response = client.get(url, secure=True)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}.")
            # Read in full, as a browser would: a streamed download only runs as it is read.
            if response.streaming:
                return b"".join(response.streaming_content)  # type: ignore[attr-defined]  # the test client's response type omits it
            body = response.content
            return body

        self._time(
            "dashboard page /reports/", "current quarter", lambda: get(reverse("reports:dashboard"))
        )
        self._time(
            "dashboard page, 12-month range",
            "custom range",
            lambda: get(f"{reverse('reports:dashboard')}?from={year.start}&to={year.end}"),
        )
        self._time(
            "tracker page /reports/tracker/", f"{total:,} esc, page of 50", lambda: get(base)
        )
        self._time(
            "tracker, overdue filter",
            "?overdue=1",
            lambda: get(f"{base}?overdue=1"),
        )
        body = self._time(
            "CSV export /reports/tracker.csv",
            "",
            lambda: get(reverse("reports:tracker_csv")),
        )
        lines = body.decode("utf-8-sig").count("\n") - 1
        what, _, queries, best, median = self.rows[-1]
        self.rows[-1] = (what, f"{lines:,} esc", queries, best, median)
        self._csv_against_floor(own, today, median, lines)

        due = Step.objects.open().filter(escalation__state__in=OPEN_STATES).count()
        reports = []

        def sweep_first() -> None:
            try:
                with transaction.atomic():
                    reports.append(process_due(now))
                    raise _Rollback
            except _Rollback:
                pass

        self._time("sweep process_due(), first run", f"{due:,} open steps (all LAs)", sweep_first)
        created = sum(reports[-1].created.values()) if reports else 0
        process_due(now)  # the state a re-run meets (rolled back at the end)
        self._time(
            "sweep process_due(), re-run",
            f"{due:,} open steps (all LAs)",
            lambda: process_due(now),
        )
        self.notes = [
            *self.csv_notes,
            f"sweep first run: {created:,} notification(s) would be created "
            f"({', '.join(f'{k} {n:,}' for k, n in sorted(reports[-1].created.items())) or 'none'}); "
            "all rolled back.",
        ]

    def _csv_against_floor(
        self, own: QuerySet[Escalation], today: date, csv_median: float, lines: int
    ) -> None:
        """The CSV page against `COPY (the same columns) TO STDOUT`, and the export's peak
        Python memory at a tenth of the rows and at all of them (flat if it streams)."""
        self.csv_notes = []
        if connection.vendor == "postgresql":
            self._time("COPY floor (same columns)", f"{lines:,} esc", partial(_copy, own))
            floor = self.rows[-1][4]  # the median, as for the CSV
            self.csv_notes.append(
                f"CSV / COPY floor: {csv_median / max(floor, 1e-9):.1f}x "
                f"({csv_median:.3f} s against {floor:.3f} s for {lines:,} rows)"
            )
        else:
            self.csv_notes.append("CSV / COPY floor: needs PostgreSQL (COPY ... TO STDOUT).")
        self.csv_notes.append(export_peaks(own, today))

    # --- the table ----------------------------------------------------------------------

    def _table(self) -> None:
        headers = ("what", "rows involved", "queries", "best s", "median s")
        body = [
            (what, rows, f"{queries:,}", f"{best:.3f}", f"{median:.3f}")
            for what, rows, queries, best, median in self.rows
        ]
        widths = [max(len(r[i]) for r in [headers, *body]) for i in range(len(headers))]
        self.stdout.write("")
        self.stdout.write(
            "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
        )
        self.stdout.write(
            "|"
            + "|".join(
                ("-" * (w + 1) + ":") if i >= 2 else ("-" * (w + 2)) for i, w in enumerate(widths)
            )
            + "|"
        )
        for row in body:
            cells = [
                c.rjust(w) if i >= 2 else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            self.stdout.write("| " + " | ".join(cells) + " |")
        for note in getattr(self, "notes", []):
            self.stdout.write(f"\n{note}")
        self.stdout.write("Nothing was saved: the benchmark ran in a transaction rolled back.")


def _copy(escalations: QuerySet[Escalation]) -> float:
    """`COPY (the export's columns, all 22, computed in SQL) TO STDOUT` read to the end;
    seconds taken, on the same connection settings as the export (JIT off: settings.py)."""
    # Here, not at the top: the command runs on SQLite too, where this is never called.
    from django.contrib.postgres.aggregates import StringAgg

    today = timezone.localdate()
    open_step = Step.objects.open().filter(escalation=OuterRef("pk")).order_by()
    steps = Step.objects.filter(escalation=OuterRef("pk"))
    links = Escalation.children.through.objects.filter(escalation_id=OuterRef("pk"))
    themes = Escalation.categories.through.objects.filter(escalation_id=OuterRef("pk"))

    def joined(through: QuerySet[Any], text: Any, sep: str, **kw: Any) -> Subquery:
        return Subquery(
            through.order_by()
            .values("escalation_id")
            .annotate(t=StringAgg(text, sep, **kw))
            .values("t")[:1]
        )

    def counted(column: str, value: str) -> Subquery:
        return Subquery(
            reporting.classified_steps(today)
            .filter(escalation=OuterRef("pk"), **{column: value})
            .order_by()
            .values("escalation")
            .annotate(n=Count("pk"))
            .values("n")
        )

    columns = escalations.annotate(
        raised_on=TruncDate("raised_at"),
        responder=Subquery(
            open_step.annotate(
                name=Concat("responder__user__first_name", Value(" "), "responder__user__last_name")
            ).values("name")[:1]
        ),
        due=Subquery(open_step.annotate(due=effective_due()).values("due")[:1]),
        overdue=Exists(steps.overdue(today)),
        chair=Concat("raised_by__user__first_name", Value(" "), "raised_by__user__last_name"),
        references=joined(links, "child__reference", " "),
        teams=joined(links, "child__team__name", "; ", distinct=True),
        closed_on=TruncDate("closed_at"),
        issue_by=Subquery(open_step.awaiting_chair().values("next_issue_due_on")[:1]),
        issue_overdue=Exists(steps.issue_overdue(today)),
        issued_on_time=counted("issue_outcome", "issued_on_time"),
        issued_late=counted("issue_outcome", "issued_late"),
        replied_on_time=counted("outcome", "met"),
        replied_late=counted("outcome", "missed"),
        themes=joined(
            themes,
            Concat("concerncategory__parent__name", Value(": "), "concerncategory__name"),
            "; ",
        ),
        stage_dates=joined(
            steps,
            Concat(
                Cast("stage_order", CharField()),
                Value(": "),
                Cast(TruncDate("raised_at"), CharField()),
            ),
            "; ",
        ),
    ).values_list(
        "pk",
        "raised_on",
        "state",
        "formal_started_at",
        "current_stage__name",
        "responder",
        "due",
        "overdue",
        "chair",
        "references",
        "teams",
        "closed_on",
        "issue_by",
        "issue_overdue",
        "issued_on_time",
        "issued_late",
        "replied_on_time",
        "replied_late",
        "themes",
        "outcome",
        "outcome_for_child",
        "stage_dates",
    )
    sql, params = columns.order_by("-raised_at", "-pk").query.sql_with_params()
    started = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy,
    ):
        for _block in copy:
            pass
    return time.perf_counter() - started


# The memory proof's sizes: flat means the same peak at ten times the rows.
PEAK_ROWS = (24_000, 240_000)


def _peak_sample(own: QuerySet[Escalation]) -> tuple[QuerySet[Escalation], int, int, str]:
    """The rows the memory proof exports, newest first, and the two sizes it compares:
    24,000 and 240,000 rows when the data has that many (the authority's own, else the
    whole database's escalations), else the largest there is and a tenth of it; and
    whose rows they are."""
    small, large = PEAK_ROWS
    mine, whose = own.count(), "the authority's"
    if mine < large and Escalation.objects.count() >= large:
        own, mine, whose = Escalation.objects.all(), large, "the whole database's"
    if mine < large:
        small, large = max(mine // 10, 1), max(mine, 1)
    return own.order_by("-raised_at", "-pk"), small, large, whose


# Each size's peak is the median of this many exports, the sizes taken in turn: one
# export's peak moves by a tenth with when the collector happens to run.
PEAK_RUNS = 3


def export_peaks(own: QuerySet[Escalation], today: date) -> str:
    """The CSV export's peak Python memory at the two sizes of _peak_sample, in words."""
    ordered, small, large, whose = _peak_sample(own)
    runs: dict[int, list[int]] = {small: [], large: []}
    for _ in range(PEAK_RUNS):
        for n in (small, large):
            runs[n].append(_export_peak(ordered[:n], today))
    peaks = {n: statistics.median(found) for n, found in runs.items()}
    return (
        f"CSV peak Python memory ({whose} escalations, newest first): "
        f"{peaks[small] / 2**20:.1f} MiB at {small:,} rows, "
        f"{peaks[large] / 2**20:.1f} MiB at {large:,} rows: "
        f"ratio {peaks[large] / max(peaks[small], 1):.2f} (1.00 is flat; within 1.20 passes)."
    )


def _export_peak(escalations: QuerySet[Escalation], today: date) -> int:
    """Peak Python allocations (tracemalloc) while the CSV of these rows is written out."""

    class Discard:
        def write(self, line: str) -> None:
            pass

    writer = csv.writer(Discard())
    # What earlier work left for the collector is not the export's.
    gc.collect()
    tracemalloc.start()
    try:
        for row in reporting.tracker_export_rows(escalations, today):
            writer.writerow(row)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
