"""QA reporting: the dashboard, the tracker with its CSV export, the quarterly report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from children.services import access_log_record
from escalations.models import Escalation
from reports import figures, reporting
from reports.rules import may_view_reports
from reports.selectors import options_html, tracker_options, tracker_row_html, tracker_rows
from staff.decorators import StaffRequest, staff_required
from staff.models import StaffMember

SORTS = {
    "raised": "raised_at",
    "-raised": "-raised_at",
    "reference": "pk",
    "-reference": "-pk",
    "status": "state",
    "-status": "-state",
}


def _refuse(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/not_allowed.html", status=403)


def _dashboard_context(request: HttpRequest, staff: StaffMember, kind: str) -> dict[str, Any]:
    now = timezone.now()
    today = timezone.localdate(now)
    period, errors = reporting.parse_period(request.GET, today)
    quarters = reporting.previous_quarters(reporting.financial_quarter(today), 8)
    # The date range's GOV.UK date inputs, as typed or as the link's ISO dates.
    range_boxes = {key: reporting.date_boxes_shown(request.GET, key) for key in ("from", "to")}
    ranged = any(v for boxes in range_boxes.values() for v in boxes.values())
    return {
        "staff": staff,
        "period": period,
        # Counted once and stored until the data changes (reports/figures.py).
        "figures": figures.period_section(
            kind=kind, authority=staff.authority, period=period, today=today, now=now
        ),
        "errors": errors,
        "quarters": [(reporting.quarter_key(q), q.label) for q in reversed(quarters)],
        "selected_quarter": reporting.quarter_key(period)
        if "quarter" in request.GET or not ranged
        else "",
        "from": request.GET.get("from", ""),
        "to": request.GET.get("to", ""),
        "range_boxes": range_boxes,
        "ranged": ranged,
    }


@staff_required
def dashboard(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    if not may_view_reports(staff):
        return _refuse(request)
    context = _dashboard_context(request, staff, figures.BODY)
    return render(request, "reports/dashboard.html", context)


@staff_required
def quarterly_report(request: StaffRequest) -> HttpResponse:
    """The printable report for the board / QASG / Performance and QA meeting."""
    staff = request.staff
    if not may_view_reports(staff):
        return _refuse(request)
    context = _dashboard_context(request, staff, figures.REPORT)
    context["printed_at"] = timezone.localtime()
    access_log_record(user=request.user, action="quarterly report")
    return render(request, "reports/quarterly.html", context)


def _tracker_sorted(
    staff: StaffMember, request: HttpRequest, today: date
) -> tuple[QuerySet[Escalation], dict[str, str]]:
    """The tracker's filters and sort: the page and its CSV list the same rows in order."""
    qs, used = reporting.filter_escalations(staff.authority, request.GET, today)
    sort = request.GET.get("sort", "-raised")
    return qs.order_by(SORTS.get(sort, "-raised_at"), "-pk"), used


@staff_required
def tracker(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    if not may_view_reports(staff):
        return _refuse(request)
    today = timezone.localdate()
    qs, used = _tracker_sorted(staff, request, today)
    # Counted and sliced as it stands: the rows' columns join other tables (the count
    # would join them too), so the page's slice reads them (tracker_rows).
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    assert isinstance(page.object_list, QuerySet)  # the slice of qs
    authority = staff.authority
    filter_options, names = tracker_options(authority, used)
    rows, children = tracker_rows(
        page.object_list,
        today,
        authority.nation,
        authority.closure_dates(),
        names,
    )
    access_log_record(user=request.user, action="tracker", children=children)
    return render(
        request,
        "reports/tracker.html",
        {
            "drilldown": _drilldown_labels(used),
            "errors": reporting.filter_messages(request.GET),
            "staff": staff,
            "page": page,
            "rows": [tracker_row_html(row) for row in rows],
            "used": used,
            "date_boxes": {
                key: reporting.date_boxes_shown(request.GET, key) for key in ("from", "to")
            },
            "query": reporting.query_string(**used),
            "sort": request.GET.get("sort", "-raised"),
            **{key: options_html(listed) for key, listed in filter_options.items()},
        },
    )


# Filters that come from the dashboard's links rather than the tracker's own form.
DRILLDOWN = {
    "level": "Level",
    "theme": "Theme",
    "highest": "Highest stage reached",
    "timescale": "Against its timescale",
    "step_stage": "Stage of the step",
    "step_from": "Step raised from",
    "step_to": "Step raised to",
    "open": "Open now",
    "resolved": "Resolved or decided",
    "closed_from": "Closed from",
    "closed_to": "Closed to",
}


def _drilldown_labels(used: dict[str, str]) -> list[tuple[str, str, str]]:
    """(key, value, label) for each drill-down filter in use, kept as hidden fields."""
    return [
        (key, used[key], f"{label}: {used[key]}") for key, label in DRILLDOWN.items() if key in used
    ]


# Excel runs cells that start with one of these (= + - @, a tab or CR) as formulas.
_FORMULA_STARTS = frozenset("=+-@\t\r")
# Lines sent to the browser at a time: each piece of a streamed response costs a little,
# and this many lines (a few hundred kB) is still a small part of a chunk of rows.
CSV_LINES_PER_WRITE = 500


def _safe_cell(value: object) -> str:
    """Excel runs cells that start with = + - @ (or a tab/CR) as formulas: neutralise them."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in _FORMULA_STARTS else text


@staff_required
def tracker_csv(request: StaffRequest) -> HttpResponse | StreamingHttpResponse:
    staff = request.staff
    if not may_view_reports(staff):
        return _refuse(request)
    today = timezone.localdate()
    qs, _used = _tracker_sorted(staff, request, today)
    # Logged before the first byte goes: a download cut short has still shown the rows.
    access_log_record(user=request.user, action=f"export csv ({qs.count()} escalations)")

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        buffer.write("\ufeff")  # so Excel reads UTF-8
        writer = csv.writer(buffer)
        writer.writerow(reporting.CSV_HEADER)
        for n, row in enumerate(reporting.tracker_export_rows(qs, today), start=1):
            # Every cell is text already (tracker_export_rows): _safe_cell's test, inline.
            writer.writerow(["'" + v if v[:1] in _FORMULA_STARTS else v for v in row])
            if n % CSV_LINES_PER_WRITE == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="escalations-{staff.authority.slug}-{today.isoformat()}.csv"'
    )
    return response
