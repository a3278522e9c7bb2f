"""QA reporting: the dashboard, the tracker with its CSV export, the quarterly report."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from children.services import access_log_record
from escalations import selectors
from escalations.models import Escalation, Nature, State, Step
from policies.models import ConcernCategory, Stage
from reports import reporting
from reports.rules import may_view_reports
from staff.decorators import StaffRequest, staff_required
from staff.models import StaffMember, Team

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


def _dashboard_context(request: HttpRequest, staff: StaffMember) -> dict[str, Any]:
    today = timezone.localdate()
    period, errors = reporting.parse_period(request.GET, today)
    base = reverse("reports:tracker")
    data = reporting.dashboard(staff.authority, period, today, base)
    quarters = reporting.previous_quarters(reporting.financial_quarter(today), 8)
    # The date range's GOV.UK date inputs, as typed or as the link's ISO dates.
    range_boxes = {key: reporting.date_boxes_shown(request.GET, key) for key in ("from", "to")}
    ranged = any(v for boxes in range_boxes.values() for v in boxes.values())
    return {
        "staff": staff,
        "d": data,
        "errors": errors,
        "quarters": [(reporting.quarter_key(q), q.label) for q in reversed(quarters)],
        "selected_quarter": reporting.quarter_key(period)
        if "quarter" in request.GET or not ranged
        else "",
        "trend_chart": reporting.trend_chart(data.trend),
        "board": reporting.board_questions(staff.authority, period, base),
        "from": request.GET.get("from", ""),
        "to": request.GET.get("to", ""),
        "range_boxes": range_boxes,
        "ranged": ranged,
        "today": today,
    }


@staff_required
def dashboard(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    if not may_view_reports(staff):
        return _refuse(request)
    return render(request, "reports/dashboard.html", _dashboard_context(request, staff))


@staff_required
def quarterly_report(request: StaffRequest) -> HttpResponse:
    """The printable report for the board / QASG / Performance and QA meeting."""
    staff = request.staff
    if not may_view_reports(staff):
        return _refuse(request)
    context = _dashboard_context(request, staff)
    today = context["today"]
    # A summary of the open cases, not a list of them all (a thousand rows at a large
    # authority): counts by stage linking to the tracker, and the longest open.
    open_rows = selectors.escalation_rows(
        staff, reporting.longest_open(staff.authority), today, sort=False
    )
    context |= {
        "open_stages": reporting.open_by_stage(staff.authority, today, reverse("reports:tracker")),
        "open_rows": open_rows,
        "longest_open": reporting.LONGEST_OPEN,
        "printed_at": timezone.localtime(),
    }
    access_log_record(user=request.user, action="quarterly report")
    return render(request, "reports/quarterly.html", context)


def _tracker_sorted(
    staff: StaffMember, request: HttpRequest, today: date
) -> tuple[QuerySet[Escalation], dict[str, str]]:
    """The tracker's filters and sort: the page and its CSV list the same rows in order."""
    qs, used = reporting.filter_escalations(staff.authority, request.GET, today)
    sort = request.GET.get("sort", "-raised")
    return qs.order_by(SORTS.get(sort, "-raised_at"), "-pk"), used


def _tracker_queryset(
    staff: StaffMember, request: HttpRequest
) -> tuple[QuerySet[Escalation], dict[str, str]]:
    qs, used = _tracker_sorted(staff, request, timezone.localdate())
    # Only the open step is wanted: the escalation's open_step() reads it from here.
    open_steps = Step.objects.open().select_related("responder__user")
    qs = qs.select_related("current_stage", "raised_by__user", "policy").prefetch_related(
        "children__team", Prefetch("steps", queryset=open_steps)
    )
    return qs, used


@staff_required
def tracker(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    if not may_view_reports(staff):
        return _refuse(request)
    qs, used = _tracker_queryset(staff, request)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    authority = staff.authority
    closures = authority.closure_dates()
    rows = []
    for escalation in page.object_list:
        step = escalation.open_step()
        clock = selectors.Clock.of(step, today, authority.nation, closures) if step else None
        rows.append(selectors.EscalationRow(escalation=escalation, step=step, clock=clock))
    access_log_record(
        user=request.user,
        action="tracker",
        children=[c for e in page.object_list for c in e.children.all()],
    )
    return render(
        request,
        "reports/tracker.html",
        {
            "drilldown": _drilldown_labels(used),
            "errors": reporting.filter_messages(request.GET),
            "staff": staff,
            "page": page,
            "rows": rows,
            "used": used,
            "date_boxes": {
                key: reporting.date_boxes_shown(request.GET, key) for key in ("from", "to")
            },
            "query": reporting.query_string(**used),
            "sort": request.GET.get("sort", "-raised"),
            "statuses": State.choices,
            "natures": Nature.choices,
            "stages": Stage.objects.filter(policy__authority=authority).select_related("policy"),
            "categories": ConcernCategory.objects.filter(
                policy__authority=authority, parent__isnull=False
            ).select_related("parent"),
            "teams": Team.objects.filter(authority=authority),
            "chairs": StaffMember.objects.filter(
                authority=authority, role__is_chair=True
            ).select_related("user"),
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


def _safe_cell(value: object) -> str:
    """Excel runs cells that start with = + - @ (or a tab/CR) as formulas: neutralise them."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    """csv.writer's file: hands each written line straight back instead of keeping it."""

    def write(self, line: str) -> str:
        return line


@staff_required
def tracker_csv(request: StaffRequest) -> HttpResponse | StreamingHttpResponse:
    staff = request.staff
    if not may_view_reports(staff):
        return _refuse(request)
    today = timezone.localdate()
    qs, _used = _tracker_sorted(staff, request, today)
    # Logged before the first byte goes: a download cut short has still shown the rows.
    access_log_record(user=request.user, action=f"export csv ({qs.count()} escalations)")
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # so Excel reads UTF-8
        yield writer.writerow(reporting.CSV_HEADER)
        for row in reporting.tracker_export_rows(qs, today):
            yield writer.writerow([_safe_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="escalations-{staff.authority.slug}-{today.isoformat()}.csv"'
    )
    return response
