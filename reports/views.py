"""QA reporting: the dashboard, the tracker with its CSV export, the quarterly report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, NamedTuple

from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator

from children.services import access_log_record
from escalations import selectors
from escalations.models import Escalation, Nature, State, Step
from policies.models import ConcernCategory, LocalAuthority, Stage
from reports import figures, reporting
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


def _tracker_queryset(
    staff: StaffMember, request: HttpRequest
) -> tuple[QuerySet[Escalation], dict[str, str]]:
    qs, used = _tracker_sorted(staff, request, timezone.localdate())
    # Only what the page shows: the open step (the escalation's open_step() reads it from
    # here) for its clocks, the children's references, the stage's and the chair's names.
    open_steps = Step.objects.open().order_by()
    qs = (
        qs.select_related("current_stage", "raised_by__user")
        .only(*_TRACKER_COLUMNS)
        .prefetch_related("children", Prefetch("steps", queryset=open_steps))
    )
    return qs, used


# The escalation's columns the tracker's rows read (_tracker_row), and no others.
_TRACKER_COLUMNS = (
    "raised_at",
    "state",
    "current_stage__name",
    "raised_by__user__first_name",
    "raised_by__user__last_name",
    "raised_by__user__username",
)


class _TrackerRow(NamedTuple):
    """One line of the tracker, its cells worked out once here rather than looked up
    field by field in the template (fifty rows of them)."""

    url: str
    reference: str
    raised: str
    children: str
    status: str
    stage: str
    chair: str
    clock: selectors.Clock | None


def _tracker_row(
    escalation: Escalation, today: date, nation: str, closures: frozenset[date]
) -> _TrackerRow:
    step = escalation.open_step()
    return _TrackerRow(
        url=reverse("escalations:detail", args=[escalation.pk]),
        reference=escalation.reference,
        raised=date_format(timezone.localtime(escalation.raised_at), "j M Y"),
        children=", ".join(c.reference for c in escalation.children.all()),
        status=escalation.get_state_display(),
        stage=(escalation.current_stage.name if escalation.current_stage else "") or "—",
        chair=escalation.raised_by.display_name,
        clock=selectors.Clock.of(step, today, nation, closures) if step else None,
    )


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
    rows = [_tracker_row(e, today, authority.nation, closures) for e in page.object_list]
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
            **_filter_options(authority, used),
        },
    )


def _options(choices: Iterable[tuple[object, str]], chosen: str | None) -> list[_Option]:
    return [_Option(str(value), label, str(value) == chosen) for value, label in choices]


class _Option(NamedTuple):
    """One <option> of a filter's <select>: its value, its text, and whether it is the
    one in use (worked out here: a template's comparison per option is slow)."""

    value: str
    label: str
    selected: bool


def _filter_options(authority: LocalAuthority, used: dict[str, str]) -> dict[str, list[_Option]]:
    """The tracker form's choices, each filter's in use marked."""
    stages = Stage.objects.filter(policy__authority=authority)
    categories = ConcernCategory.objects.filter(policy__authority=authority, parent__isnull=False)
    chairs = StaffMember.objects.filter(authority=authority, role__is_chair=True)
    return {
        "statuses": _options(State.choices, used.get("status")),
        "natures": _options(Nature.choices, used.get("nature")),
        "stages": _options(((s.pk, s.name) for s in stages), used.get("stage")),
        "categories": _options(
            ((c.pk, Truncator(c.name).chars(70)) for c in categories), used.get("category")
        ),
        "teams": _options(
            ((t.pk, t.name) for t in Team.objects.filter(authority=authority)), used.get("team")
        ),
        "chairs": _options(
            ((c.pk, c.display_name) for c in chairs.select_related("user")), used.get("chair")
        ),
    }


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
