"""Stored figures: the dashboard's and the quarterly report's sections, counted once and
served until the data they were counted from changes.

Counting a quarter at a large authority takes two dozen aggregate queries over tens of
thousands of rows (a second or more); reading the stored section is one query. A stored
section is used only while three things still hold:

- its day (`as_of`): "open now" and "overdue" figures change with the date;
- the data's fingerprint: the newest history row of every history-tracked model (every
  write to an escalation, step, child, staff record, policy or calendar adds one, deletes
  included), read in one statement of index-only lookups;
- the code's fingerprint: the reporting code and templates that produced it, so a new
  release never serves a section rendered by the old one.

Otherwise it is recounted on the spot and stored again, so a page never shows figures
older than the data. The periodic refresh (`figures_refresh`: Celery beat, `manage.py
figures --refresh`) recounts the current and previous quarters of every authority after
a change, so a QA manager's next visit usually finds them ready. `manage.py figures
--check` recounts every stored section and compares it with what is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from simple_history.models import HistoricalChanges

from escalations import selectors
from escalations.models import Escalation
from policies.models import LocalAuthority
from reports import reporting
from reports.models import StoredFigures
from reports.reporting import Period


def _history_tables() -> list[tuple[str, str]]:
    """(table, primary key column) of every history-tracked model's history."""
    return sorted(
        (model._meta.db_table, str(model._meta.pk.column))
        for model in apps.get_models()
        if issubclass(model, HistoricalChanges)
    )


def data_fingerprint() -> str:
    """The newest history row of every history table, in one statement."""
    qn = connection.ops.quote_name
    # Only table and column names from the models are formatted in.
    parts = [
        f"(SELECT MAX({qn(pk)}) FROM {qn(table)})"  # noqa: S608
        for table, pk in _history_tables()
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}")
        row = cursor.fetchone()
    return ",".join("" if value is None else str(value) for value in row)


@cache
def code_fingerprint() -> str:
    """A digest of the code and templates that count and render the figures: read once
    per process, as a process runs one release."""
    base = Path(settings.BASE_DIR)
    files = [
        base / "reports" / "reporting.py",
        base / "reports" / "figures.py",
        *sorted((base / "templates" / "reports").glob("*.html")),
        # The open cases' clocks (Clock.html).
        base / "escalations" / "selectors.py",
    ]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint() -> str:
    return hashlib.sha256(f"{code_fingerprint()}|{data_fingerprint()}".encode()).hexdigest()


# The kinds of section: the dashboard's figures of a period, and the quarterly report's
# (the same figures with the open cases now).
BODY, REPORT = "body", "report"


def section_key(kind: str, period: Period) -> str:
    """The key of a period's section (its label is in the captions)."""
    return f"{kind}:{period.start.isoformat()}:{period.end.isoformat()}:{period.label}"


def period_of(key: str) -> tuple[str, Period] | None:
    """The kind and period a section's key names; None for a key of no known kind."""
    kind, start, end, label = [*key.split(":", 3), "", "", ""][:4]
    if kind not in (BODY, REPORT):
        return None
    return kind, Period(date.fromisoformat(start), date.fromisoformat(end), label)


def stored_section(
    *,
    authority: LocalAuthority,
    key: str,
    today: date,
    now: datetime,
    render: Callable[[], str],
    current: str | None = None,
) -> str:
    """The section `key` for `authority` as of `today`: the stored one while it still
    matches the data, else `render()`, stored for the next reader. `current`: the
    fingerprint when the caller has already read it."""
    current = current or fingerprint()
    found = (
        StoredFigures.objects.filter(authority=authority, key=key, as_of=today, fingerprint=current)
        .values_list("html", flat=True)
        .first()
    )
    if found is not None:
        return found
    html = render()
    _store(authority=authority, key=key, today=today, now=now, current=current, html=html)
    return html


def _store(
    *, authority: LocalAuthority, key: str, today: date, now: datetime, current: str, html: str
) -> None:
    values = {"as_of": today, "fingerprint": current, "html": html, "computed_at": now}
    try:
        # Two readers counting at once: the second's write replaces the first's (the same
        # figures); the unique key keeps one row.
        with transaction.atomic():
            StoredFigures.objects.update_or_create(authority=authority, key=key, defaults=values)
    except IntegrityError:
        StoredFigures.objects.filter(authority=authority, key=key).update(**values)


def period_section(
    *, kind: str, authority: LocalAuthority, period: Period, today: date, now: datetime
) -> SafeString:
    """The figures of `period` (`kind`: BODY for the dashboard, REPORT for the quarterly
    report), stored until the data changes."""
    html = stored_section(
        authority=authority,
        key=section_key(kind, period),
        today=today,
        now=now,
        render=lambda: count_section(kind=kind, authority=authority, period=period, today=today),
    )
    return mark_safe(html)


def count_section(*, kind: str, authority: LocalAuthority, period: Period, today: date) -> str:
    """The section counted afresh from the data (what is stored, and the recount that
    `manage.py figures --check` compares it with)."""
    base = reverse("reports:tracker")
    data = reporting.dashboard(authority, period, today, base)
    context: dict[str, Any] = {
        "d": data,
        "trend_chart": reporting.trend_chart(data.trend),
        "board": reporting.board_questions(authority, period, base),
    }
    if kind == BODY:
        return render_to_string("reports/_dashboard_body.html", context)
    # A summary of the open cases, not a list of them all (a thousand rows at a large
    # authority): counts by stage linking to the tracker, and the longest open.
    context |= {
        "open_stages": reporting.open_by_stage(authority, today, base),
        "open_rows": selectors.escalation_rows_of(
            authority, reporting.longest_open(authority), today, sort=False
        ),
        "longest_open": reporting.LONGEST_OPEN,
    }
    return render_to_string("reports/_quarterly_figures.html", context)


def standing_periods(today: date) -> list[Period]:
    """The periods most asked for, which the refresh keeps counted: the current quarter
    (the dashboard's default) and the one before (the board's report)."""
    current = reporting.financial_quarter(today)
    return reporting.previous_quarters(current, 2)


def figures_refresh(*, now: datetime) -> int:
    """Recount the standing periods of every authority with escalations whose stored
    figures no longer match the data; how many sections were recounted. Idempotent: a
    second run with nothing changed recounts nothing."""
    today = timezone.localdate(now)
    current = fingerprint()
    recounted = 0
    authorities = LocalAuthority.objects.filter(
        pk__in=Escalation.objects.values("authority_id")
    ).order_by("pk")
    for authority in authorities:
        for period in standing_periods(today):
            key = section_key(BODY, period)
            fresh = StoredFigures.objects.filter(
                authority=authority, key=key, as_of=today, fingerprint=current
            ).exists()
            if fresh:
                continue
            html = count_section(kind=BODY, authority=authority, period=period, today=today)
            _store(authority=authority, key=key, today=today, now=now, current=current, html=html)
            recounted += 1
    return recounted


def figures_check(*, now: datetime) -> list[str]:
    """Every stored section still current, recounted and compared with what is stored:
    the keys (with their authority) whose stored figures differ from a recount."""
    today = timezone.localdate(now)
    current = fingerprint()
    differ = []
    stored = StoredFigures.objects.filter(as_of=today, fingerprint=current).select_related(
        "authority"
    )
    for row in stored.order_by("authority_id", "key"):
        named = period_of(row.key)
        if named is None:
            continue
        kind, period = named
        recount = count_section(kind=kind, authority=row.authority, period=period, today=today)
        if recount != row.html:
            differ.append(f"{row.authority.slug} {row.key}")
    return differ
