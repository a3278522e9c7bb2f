"""The QA dashboard's figures, by aggregate queries (the count of queries never grows
with the number of escalations), and the filters the tracker and drill-downs share.

Quarters are financial-year quarters (April–March); dates are Europe/London.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone

from children.models import Child
from config.forms import GovukDateField
from escalations.models import (
    OPEN_STATES,
    Addressee,
    Escalation,
    Nature,
    State,
    Step,
    effective_due,
    escalation_reference,
    overdue_q,
)
from policies.models import ConcernCategory, LocalAuthority, Stage
from policies.working_days import working_days_between
from staff.models import StaffMember, Team

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations
    from typing_extensions import ReadOnly

LONDON = ZoneInfo("Europe/London")
# Quarters, ranges and filters are read only within these years: beyond them the
# calendar arithmetic (eight quarters back, the day after the end) runs off the calendar.
FIRST_YEAR, LAST_YEAR = 2000, 2100


# --- periods ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    label: str

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=LONDON)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=LONDON)


def financial_quarter(day: date) -> Period:
    """The April–March quarter containing `day`, labelled like "2026-27 Q3"."""
    fy = day.year if day.month >= 4 else day.year - 1
    q = (day.month - 4) % 12 // 3 + 1
    start_month = 4 + (q - 1) * 3
    start = date(fy + (start_month > 12), (start_month - 1) % 12 + 1, 1)
    last_month = date(start.year, start.month + 2, 1)
    end = (last_month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Period(start, end, f"{fy}-{str(fy + 1)[2:]} Q{q}")


def previous_quarters(period: Period, count: int) -> list[Period]:
    """`count` quarters ending with `period`, oldest first."""
    quarters = [period]
    while len(quarters) < count:
        quarters.insert(0, financial_quarter(quarters[0].start - timedelta(days=1)))
    return quarters


DATE_BOXES = ("day", "month", "year")


class DateBoxes(NamedTuple):
    """A date filter as sent: ISO text, the GOV.UK message where the boxes cannot be read,
    and whether the three boxes were used at all."""

    iso: str
    error: str
    boxed: bool


def date_boxes(params: Any, key: str, what: str = "Date") -> DateBoxes:
    """A date filter from a GOV.UK date input's three boxes (`from_day`, `from_month`,
    `from_year`), with the pattern's own messages ("The start date must include a month");
    where no box was sent, the ISO value of `key` itself, as the reports' own links and
    the CSV carry it."""
    parts = [str(params.get(f"{key}_{part}", "")).strip() for part in DATE_BOXES]
    if not any(parts):
        return DateBoxes(str(params.get(key, "")).strip(), "", False)
    try:
        day = GovukDateField(what=what, required=False).clean(parts)
    except ValidationError as exc:
        return DateBoxes("", exc.messages[0], True)
    return DateBoxes(day.isoformat() if day else "", "", True)


def date_boxes_shown(params: Any, key: str) -> dict[str, str]:
    """What a filter's three boxes show: as typed, or the date the ISO value names."""
    typed = {part: str(params.get(f"{key}_{part}", "")).strip() for part in DATE_BOXES}
    if any(typed.values()):
        return typed
    day = _date(str(params.get(key, "")).strip())
    if day is None:
        return dict.fromkeys(DATE_BOXES, "")
    return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}


def parse_period(params: Any, today: date) -> tuple[Period, list[str]]:
    """From ?quarter=2026-27-Q3, or a range: the date inputs' boxes (from_day, from_month,
    from_year, to_…) or ?from=&to= (ISO dates, the reports' links); errors in plain words."""
    errors: list[str] = []
    start_boxes = date_boxes(params, "from", "The start date")
    end_boxes = date_boxes(params, "to", "The end date")
    raw_from, raw_to = start_boxes.iso, end_boxes.iso
    if start_boxes.boxed or end_boxes.boxed:
        # The pattern's messages for the boxes, before the range's own checks below.
        errors += [b.error for b in (start_boxes, end_boxes) if b.error]
        if not errors and not raw_from:
            errors.append("Enter the start date")
        if not errors and not raw_to:
            errors.append("Enter the end date")
        if errors:
            raw_from = raw_to = ""
    if raw_from or raw_to:
        try:
            start = date.fromisoformat(raw_from)
            end = date.fromisoformat(raw_to)
        except ValueError:
            errors.append("Enter both dates of the range as real dates, for example 2026-04-01.")
        else:
            if not all(FIRST_YEAR <= d.year <= LAST_YEAR for d in (start, end)):
                errors.append(f"Enter dates between the years {FIRST_YEAR} and {LAST_YEAR}.")
            elif end < start:
                errors.append("The end of the date range must be on or after its start.")
            elif (end - start).days > 3660:
                errors.append("Choose a date range of ten years or less.")
            else:
                return Period(start, end, f"{start:%-d %b %Y} to {end:%-d %b %Y}"), errors
    quarter = params.get("quarter", "").strip()
    if quarter:
        try:
            fy, q = quarter.split("-Q")
            year = int(fy.split("-")[0])
            number = int(q)
            if not 1 <= number <= 4 or not FIRST_YEAR <= year <= LAST_YEAR:
                raise ValueError
            first = date(year + (number == 4), (4 + (number - 1) * 3 - 1) % 12 + 1, 1)
            return financial_quarter(first), errors
        except ValueError:
            errors.append("That quarter is not recognised; showing the current quarter.")
    return financial_quarter(today), errors


def quarter_key(period: Period) -> str:
    fy = period.start.year if period.start.month >= 4 else period.start.year - 1
    return f"{fy}-{str(fy + 1)[2:]}-Q{period.label[-1]}"


# --- filters (shared by the tracker, drill-downs and CSV) -----------------------------


# Every filter the tracker and its CSV apply, each combining with every other (the tests
# pair them all). step_stage, step_from and step_to are not filters of their own: they
# only say which steps `timescale` judges.
FILTER_KEYS = (
    "from",
    "to",
    "status",
    "stage",
    "category",
    "theme",
    "team",
    "chair",
    "overdue",
    "open",
    "level",
    "highest",
    "timescale",
    "closed_from",
    "closed_to",
    "resolved",
    "nature",
)


def _midnight(day: date) -> datetime:
    """The start of a London day, as an aware moment."""
    return datetime.combine(day, time.min, tzinfo=LONDON)


def highest_order() -> Subquery:
    return Subquery(
        Step.objects.filter(escalation=OuterRef("pk"))
        .order_by("-stage_order")
        .values("stage_order")[:1],
        output_field=IntegerField(),
    )


def _int(value: str) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    # An id the database can hold (64-bit); a longer number would fail in the query.
    return number if -(2**63) <= number < 2**63 else None


def _date(value: str) -> date | None:
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def filter_messages(params: Any) -> list[str]:
    """What the tracker says of a filter it could not read and so ignored, in plain words
    (filter_escalations ignores the same values)."""
    messages = []
    nature = str(params.get("nature", "")).strip()
    if nature and nature not in Nature.values:
        messages.append(
            "That kind of record is not recognised; showing concerns and good practice."
        )
    return messages


def filter_escalations(
    authority: LocalAuthority, params: Any, today: date
) -> tuple[QuerySet[Escalation], dict[str, str]]:
    """Apply the tracker's filters; return the queryset and the filters in use."""
    qs = Escalation.objects.filter(authority=authority)
    used: dict[str, str] = {}
    nature = str(params.get("nature", "")).strip()
    if nature in Nature.values:
        qs = qs.filter(nature=nature)
        used["nature"] = nature
    start, end = _date(date_boxes(params, "from").iso), _date(date_boxes(params, "to").iso)
    if start:
        qs = qs.filter(raised_at__gte=_midnight(start))
        used["from"] = start.isoformat()
    if end:
        qs = qs.filter(raised_at__lt=_midnight(end + timedelta(days=1)))
        used["to"] = end.isoformat()
    closed_from, closed_to = (
        _date(params.get("closed_from", "")),
        _date(params.get("closed_to", "")),
    )
    if closed_from:
        qs = qs.filter(closed_at__gte=_midnight(closed_from))
        used["closed_from"] = closed_from.isoformat()
    if closed_to:
        qs = qs.filter(closed_at__lt=_midnight(closed_to + timedelta(days=1)))
        used["closed_to"] = closed_to.isoformat()
    status = params.get("status", "")
    if status in State.values:
        qs = qs.filter(state=status)
        used["status"] = status
    if params.get("resolved") == "1":
        qs = qs.filter(state__in=(State.RESOLVED, State.FINAL_DECISION))
        used["resolved"] = "1"
    if params.get("open") == "1":
        qs = qs.filter(state__in=OPEN_STATES)
        used["open"] = "1"
    if params.get("overdue") == "1":
        qs = qs.filter(
            state__in=OPEN_STATES,
            pk__in=Step.objects.overdue(today).values("escalation_id"),
        )
        used["overdue"] = "1"
    level = params.get("level", "")
    if level == "formal":
        qs = qs.filter(formal_started_at__isnull=False)
        used["level"] = level
    elif level == "informal":
        qs = qs.filter(formal_started_at__isnull=True)
        used["level"] = level
    for key, lookup, model in (
        ("stage", "current_stage_id", Stage),
        ("chair", "raised_by_id", StaffMember),
    ):
        pk = _int(params.get(key, ""))
        if pk is not None and model.objects.filter(pk=pk).exists():
            qs = qs.filter(**{lookup: pk})
            used[key] = str(pk)
    category = _int(params.get("category", ""))
    if category is not None:
        qs = qs.filter(
            pk__in=Escalation.categories.through.objects.filter(concerncategory_id=category).values(
                "escalation_id"
            )
        )
        used["category"] = str(category)
    theme = _int(params.get("theme", ""))
    if theme is not None:
        qs = qs.filter(
            pk__in=Escalation.categories.through.objects.filter(
                Q(concerncategory_id=theme) | Q(concerncategory__parent_id=theme)
            ).values("escalation_id")
        )
        used["theme"] = str(theme)
    team = params.get("team", "")
    if team == "none":
        qs = qs.filter(
            pk__in=Escalation.children.through.objects.filter(child__team__isnull=True).values(
                "escalation_id"
            )
        )
        used["team"] = team
    elif _int(team) is not None:
        qs = qs.filter(
            pk__in=Escalation.children.through.objects.filter(child__team_id=int(team)).values(
                "escalation_id"
            )
        )
        used["team"] = team
    highest = params.get("highest", "")
    if ":" in highest:
        policy_id, order = (_int(x) for x in highest.split(":", 1))
        if policy_id is not None and order is not None:
            qs = qs.annotate(highest=highest_order()).filter(policy_id=policy_id, highest=order)
            used["highest"] = highest
    timescale = params.get("timescale", "")
    if timescale in OUTCOMES or timescale in ISSUE_OUTCOMES:
        # step_stage, step_from and step_to say which steps are judged (the dashboard's
        # table counts the steps raised in its period, whenever their escalation was
        # raised): they qualify this filter, while from/to stay the escalation's own dates.
        # The reply clock's outcomes and the issue-by clock's share the one filter.
        column = "outcome" if timescale in OUTCOMES else "issue_outcome"
        steps = classified_steps(today).filter(**{column: timescale})
        if ":" in params.get("step_stage", ""):
            policy_id, order = (_int(x) for x in params["step_stage"].split(":", 1))
            if policy_id is not None and order is not None:
                steps = steps.filter(escalation__policy_id=policy_id, stage_order=order)
            else:  # not a stage: no step is of it
                steps = steps.none()
            used["step_stage"] = params["step_stage"]
        step_from, step_to = _date(params.get("step_from", "")), _date(params.get("step_to", ""))
        if step_from:
            steps = steps.filter(raised_at__gte=_midnight(step_from))
            used["step_from"] = step_from.isoformat()
        if step_to:
            steps = steps.filter(raised_at__lt=_midnight(step_to + timedelta(days=1)))
            used["step_to"] = step_to.isoformat()
        qs = qs.filter(pk__in=steps.values("escalation_id"))
        used["timescale"] = timescale
    return qs, used


# Every step has exactly one of these outcomes, so a stage's columns add up to the steps
# raised at it.
OUTCOMES = ("met", "missed", "pending", "none", "closed")
# Against the issue-by clock (Stage.issue_within_days): was the step issued by its date? A
# step with no issue-by clock has neither ('').
ISSUE_OUTCOMES = ("issued_on_time", "issued_late")


class StepOutcome(TypedDict):
    """What classified_steps annotates each step with (read-only: django-stubs reads the
    truncated dates as never null)."""

    effective: ReadOnly[date | None]
    responded_on: ReadOnly[date | None]
    closed_on: ReadOnly[date | None]
    raised_on: ReadOnly[date]
    outcome: ReadOnly[str]
    issue_outcome: ReadOnly[str]


def classified_steps(today: date) -> QuerySet[WithAnnotations[Step, StepOutcome]]:
    """Each step's outcome against its timescale: one of OUTCOMES.

    'none' only where neither clock (the stage's deadline, the formal cap) runs. A step
    that closed before its deadline with no response (resolved, withdrawn or escalated
    early) had nothing to judge: 'closed' ("closed without a response"), neither met nor
    missed.

    And each step's `issue_outcome` against its issue-by clock (Step.issue_due_on): one of
    ISSUE_OUTCOMES, or '' where no issue-by clock ran on it.
    """
    return Step.objects.annotate(
        effective=effective_due(),
        responded_on=TruncDate("responded_at", tzinfo=LONDON),
        closed_on=TruncDate("closed_at", tzinfo=LONDON),
        raised_on=TruncDate("raised_at", tzinfo=LONDON),
    ).annotate(
        issue_outcome=Case(
            When(issue_due_on__isnull=True, then=Value("")),
            When(raised_on__lte=F("issue_due_on"), then=Value("issued_on_time")),
            default=Value("issued_late"),
            output_field=CharField(),
        ),
        outcome=Case(
            When(effective__isnull=True, then=Value("none")),
            When(responded_on__isnull=False, responded_on__lte=F("effective"), then=Value("met")),
            When(responded_on__isnull=False, then=Value("missed")),
            When(closed_on__isnull=False, closed_on__lte=F("effective"), then=Value("closed")),
            When(closed_on__isnull=False, then=Value("missed")),
            When(overdue_q(today), then=Value("missed")),
            default=Value("pending"),
            output_field=CharField(),
        ),
    )


def query_string(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


# --- the tracker's CSV ------------------------------------------------------------------

CSV_HEADER = (
    "Reference", "Raised", "Status", "Level", "Current stage", "Responder", "Due",
    "Overdue", "Chair", "Children (case references)", "Teams", "Closed",
    "Issue next stage by", "Issue overdue", "Steps issued on time", "Steps issued late",
    "Replies on time", "Replies late",
    "Categories", "Outcome", "Outcome for the child", "Stage dates",
)  # fmt: skip
# Rows read from one server-side cursor a chunk at a time, each chunk's children and
# people in one query apiece: memory stays flat however many rows there are.
CSV_CHUNK = 1000


def tracker_export_rows(escalations: QuerySet[Escalation], today: date) -> Iterator[list[str]]:
    """The tracker's CSV, row by row, from plain values: no model instance per row.

    Read in one transaction, so the server-side cursor streams (outside one, Django
    declares it WITH HOLD and PostgreSQL runs the whole query before the first row).
    """
    with transaction.atomic():
        yield from _export_rows(escalations, today)


def _export_rows(escalations: QuerySet[Escalation], today: date) -> Iterator[list[str]]:
    """tracker_export_rows' rows, as plain tuples: one query for the escalations (the open
    step's columns beside each, dates already as text), then per chunk one query apiece
    for the children, the categories, the steps (dates and outcomes) and the people.

    The open step's due date and "overdue" come from the StepQuerySet's own definitions
    (effective_due, overdue), as the tracker's Clock reads them off the Step predicates.
    """
    # At most one open step per escalation (a unique index): no ordering needed.
    open_step = Step.objects.open().filter(escalation=OuterRef("pk")).order_by()
    rows = (
        escalations.annotate(
            raised_on=_day_text("raised_at"),
            closed_on=_day_text("closed_at"),
            formal=ExpressionWrapper(Q(formal_started_at__isnull=False), BooleanField()),
            # Whom the open step is addressed to: a member of staff, or a partner-agency
            # contact (named with their organisation); on a stage addressed to several
            # people, each of them (read per chunk, below).
            open_step_id=Subquery(open_step.values("pk")[:1]),
            several=Subquery(open_step.values("completion")[:1]),
            responder_id=Subquery(open_step.values("responder_id")[:1]),
            partner_name=Subquery(open_step.values("partner__name")[:1]),
            partner_organisation=Subquery(open_step.values("partner__organisation")[:1]),
            due=Subquery(open_step.annotate(due=effective_due()).values("due")[:1]),
            overdue=Exists(Step.objects.filter(escalation=OuterRef("pk")).overdue(today)),
            # The issue-by clock: while the open step awaits the chair, by when the next
            # stage must be issued, and whether that date has passed.
            issue_by=Subquery(open_step.awaiting_chair().values("next_issue_due_on")[:1]),
            issue_overdue=Exists(
                Step.objects.filter(escalation=OuterRef("pk")).issue_overdue(today)
            ),
        )
        .values_list(
            "pk",
            "raised_on",
            "state",
            "formal",
            "current_stage__name",
            "open_step_id",
            "several",
            "responder_id",
            "partner_name",
            "partner_organisation",
            "due",
            "overdue",
            "raised_by_id",
            "closed_on",
            "issue_by",
            "issue_overdue",
            "outcome",
            "outcome_for_child",
        )
        .iterator(chunk_size=CSV_CHUNK)
    )
    states = dict(State.choices)
    no_children: tuple[list[str], set[str]] = ([], set())
    no_counts = ("0", "0", "0", "0")
    while chunk := list(islice(rows, CSV_CHUNK)):
        ids = [row[0] for row in chunk]
        children = _children_of(ids)
        categories = _categories_of(ids)
        stage_dates, counts = _steps_of(ids, today)
        addressees = _addressees_of([row[5] for row in chunk if row[6]])
        wanted = {row[12] for row in chunk} | {row[7] for row in chunk}
        wanted |= {a.staff_id for people in addressees.values() for a in people}
        # Per chunk, not kept across them: the export holds one chunk's worth of anything.
        names = _display_names(wanted - {None})
        for (
            pk,
            raised_on,
            state,
            formal,
            stage,
            open_step_id,
            _several,
            responder_id,
            partner_name,
            partner_organisation,
            due,
            overdue,
            raised_by_id,
            closed_on,
            issue_by,
            issue_overdue,
            outcome,
            outcome_for_child,
        ) in chunk:
            references, teams = children.get(pk, no_children)
            people = addressees.get(open_step_id)
            yield [
                escalation_reference(pk),
                raised_on,
                states[state],
                "Formal" if formal else "Informal",
                stage or "",
                _addressed_to(people, names)
                if people
                else _person(responder_id, partner_name, partner_organisation, names),
                due.isoformat() if due else "",
                "Yes" if overdue else "No",
                names[raised_by_id],
                " ".join(references),
                "; ".join(sorted(teams)),
                closed_on or "",
                issue_by.isoformat() if issue_by else "",
                "Yes" if issue_overdue else "No",
                *counts.get(pk, no_counts),
                "; ".join(categories.get(pk, ())),
                outcome,
                outcome_for_child,
                "; ".join(stage_dates.get(pk, ())),
            ]
        # Let this chunk's rows and lookups go before the next chunk is read, or both
        # chunks' worth are held at each boundary (the peak was twice a chunk's).
        del chunk, children, categories, stage_dates, counts, addressees, names


def _day_text(column: str) -> Cast:
    """A date-time column as its day in the current time zone, as text ("2026-10-12"), so
    no date-time is built in Python for a row (the same day timezone.localtime gives)."""
    return Cast(TruncDate(column), CharField())


def _among(ids: list[int]) -> list[int] | RawSQL:
    """What `<column>__in` takes for one chunk's ids: on PostgreSQL one array parameter,
    as 2,000 placeholders take longer to build and parse than the query takes to run."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return ids


class _AddresseeRow(NamedTuple):
    staff_id: int | None
    partner_name: str | None
    partner_organisation: str | None
    responded_at: datetime | None


def _addressees_of(step_ids: list[int]) -> dict[int, list[_AddresseeRow]]:
    """Everyone each of these steps (stages addressed to several people) is addressed to,
    in the order asked (the first is the step's own addressee), for one chunk of rows in
    one query."""
    if not step_ids:
        return {}
    found: dict[int, list[_AddresseeRow]] = {}
    rows = (
        Addressee.objects.filter(step_id__in=_among(step_ids))
        .order_by("step_id", "pk")
        .values_list(
            "step_id", "staff_id", "partner__name", "partner__organisation", "responded_at"
        )
    )
    for step_id, staff_id, partner, organisation, responded_at in rows:
        found.setdefault(step_id, []).append(
            _AddresseeRow(staff_id, partner, organisation, responded_at)
        )
    return found


def _person(
    staff_id: int | None, partner: str | None, organisation: str | None, names: dict[int, str]
) -> str:
    """A member of staff by their display name; a partner-agency contact with their
    organisation, as the escalation page names them (Step.addressee_name)."""
    if staff_id is not None:
        return names[staff_id]
    return f"{partner} ({organisation})" if partner else ""


def _addressed_to(addressees: list[_AddresseeRow], names: dict[int, str]) -> str:
    """The CSV's "Responder" on a stage addressed to several people: every one of them,
    with the day each replied ("Tess Team (replied 2026-11-04); Pat Police (Avon Police)").
    On any other stage it is the open step's own addressee (_person)."""
    return "; ".join(
        _person(a.staff_id, a.partner_name, a.partner_organisation, names)
        + (
            f" (replied {timezone.localtime(a.responded_at):%Y-%m-%d})"
            if a.responded_at is not None
            else ""
        )
        for a in addressees
    )


def _categories_of(escalation_ids: list[int]) -> dict[int, list[str]]:
    """Each escalation's categories as "theme: item" (a top-level category alone), for one
    chunk of rows in one query."""
    links = (
        Escalation.categories.through.objects.filter(escalation_id__in=_among(escalation_ids))
        .order_by()
        .values_list("escalation_id", "concerncategory__parent__name", "concerncategory__name")
    )
    found: dict[int, list[str]] = {}
    for escalation_id, theme, item in links:
        found.setdefault(escalation_id, []).append(f"{theme}: {item}" if theme else item)
    # Sorted as text, so a top-level category sorts the same on every database.
    return {pk: sorted(names) for pk, names in found.items()}


def _steps_of(
    escalation_ids: list[int], today: date
) -> tuple[dict[int, list[str]], dict[int, tuple[str, str, str, str]]]:
    """For one chunk of rows in one query, from each escalation's steps: the day each of
    its stages was raised, in order ("Informal: 2026-10-12", "Stage 1: 2026-10-16"), and
    how many of them were issued on time, issued late, answered on time and answered late
    (classified_steps), as text."""
    steps = (
        classified_steps(today)
        .filter(escalation_id__in=_among(escalation_ids))
        .order_by("escalation_id", "sequence")
        .annotate(raised_day=_day_text("raised_at"))
        .values_list("escalation_id", "stage_order", "raised_day", "issue_outcome", "outcome")
    )
    dates: dict[int, list[str]] = {}
    tallies: dict[int, list[int]] = {}
    # Where each outcome is tallied: issued on time, issued late, answered on time, late.
    place = {"issued_on_time": 0, "issued_late": 1, "met": 2, "missed": 3}
    for escalation_id, order, raised_day, issue_outcome, outcome in steps:
        stage = f"Stage {order}" if order else "Informal"
        dates.setdefault(escalation_id, []).append(f"{stage}: {raised_day}")
        tally = tallies.setdefault(escalation_id, [0, 0, 0, 0])
        if issue_outcome in place:
            tally[place[issue_outcome]] += 1
        if outcome in place:
            tally[place[outcome]] += 1
    counts = {pk: (str(a), str(b), str(c), str(d)) for pk, (a, b, c, d) in tallies.items()}
    return dates, counts


def _children_of(escalation_ids: list[int]) -> dict[int, tuple[list[str], set[str]]]:
    """Each escalation's children's case references (in the children's own order) and
    teams, for one chunk of rows in one query."""
    links = (
        Escalation.children.through.objects.filter(escalation_id__in=_among(escalation_ids))
        .order_by("escalation_id", *(f"child__{f}" for f in Child._meta.ordering or ()), "child_id")
        .values_list("escalation_id", "child__reference", "child__team__name")
    )
    found: dict[int, tuple[list[str], set[str]]] = {}
    for escalation_id, reference, team in links:
        references, teams = found.setdefault(escalation_id, ([], set()))
        references.append(reference)
        if team:
            teams.add(team)
    return found


def _display_names(staff_ids: set[int]) -> dict[int, str]:
    """StaffMember.display_name for these people: once per person, not once per row."""
    if not staff_ids:
        return {}
    people = StaffMember.objects.filter(pk__in=staff_ids).select_related("user")
    return {person.pk: person.display_name for person in people}


# --- the dashboard --------------------------------------------------------------------


ROW_HEIGHT = 32


@dataclass
class Bar:
    label: str
    value: int
    url: str
    width: float = 0.0  # percent of the longest bar
    y: int = 0


@dataclass
class Chart:
    """Geometry for a server-rendered SVG bar chart (no JavaScript, no CDN)."""

    bars: list[Bar]
    height: int


def with_widths(bars: list[Bar]) -> Chart:
    top = max((b.value for b in bars), default=0) or 1
    for i, b in enumerate(bars):
        b.width = round(100 * b.value / top, 1)
        b.y = i * ROW_HEIGHT
    return Chart(bars, max(len(bars), 1) * ROW_HEIGHT)


@dataclass
class Dashboard:
    """The period's figures. Concerns only: good-practice records are counted on their own
    (`good_practice`), and every concern figure's link carries nature=concern, so that the
    tracker lists the same rows."""

    period: Period
    raised_informal: int = 0
    raised_formal: int = 0
    good_practice: int = 0
    highest: Chart | None = None
    themes: list[dict[str, Any]] = field(default_factory=list)
    timescales: list[dict[str, Any]] = field(default_factory=list)
    resolution_days: dict[str, Any] = field(default_factory=dict)
    open_now: int = 0
    overdue_now: int = 0
    # Answered, and the next stage's issue-by date passed without it being issued.
    issue_overdue_now: int = 0
    by_team: Chart | None = None
    by_chair: Chart | None = None
    trend: list[dict[str, Any]] = field(default_factory=list)
    # The tracker's lists of the raised, good-practice, open and overdue figures.
    links: dict[str, str] = field(default_factory=dict)

    @property
    def raised_total(self) -> int:
        return self.raised_informal + self.raised_formal


def dashboard(authority: LocalAuthority, period: Period, today: date, base_url: str) -> Dashboard:
    d = Dashboard(period=period)
    raised = Escalation.objects.filter(
        authority=authority, raised_at__gte=period.start_at, raised_at__lt=period.end_at
    )
    # Every figure below but `good_practice` counts concerns only.
    concern = Q(nature=Nature.CONCERN)
    in_period = raised.filter(concern)
    span = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    concerns_only = {"nature": Nature.CONCERN.value}

    def link(**params: Any) -> str:
        return f"{base_url}?{query_string(**(span | concerns_only | params))}"

    counts = raised.aggregate(
        informal=Count("pk", filter=concern & Q(formal_started_at__isnull=True)),
        formal=Count("pk", filter=concern & Q(formal_started_at__isnull=False)),
        good=Count("pk", filter=Q(nature=Nature.GOOD_PRACTICE)),
    )
    d.links = {
        "informal": link(level="informal"),
        "formal": link(level="formal"),
        "all": link(),
        "good_practice": link(nature=Nature.GOOD_PRACTICE.value),
        "open": f"{base_url}?{query_string(open=1, **concerns_only)}",
        "overdue": f"{base_url}?{query_string(overdue=1, **concerns_only)}",
    }
    d.raised_informal, d.raised_formal, d.good_practice = (
        counts["informal"],
        counts["formal"],
        counts["good"],
    )

    stage_names = {
        (s.policy_id, s.order): s.name
        for s in Stage.objects.filter(policy__authority=authority).only(
            "policy_id", "order", "name"
        )
    }
    highest = (
        in_period.annotate(highest=highest_order())
        .values("policy_id", "highest")
        .annotate(n=Count("pk"))
        .order_by("policy_id", "highest")
    )
    d.highest = with_widths(
        [
            Bar(
                stage_names.get((row["policy_id"], row["highest"]), "No step"),
                row["n"],
                link(highest=f"{row['policy_id']}:{row['highest']}"),
            )
            for row in highest
        ]
    )

    through = Escalation.categories.through.objects.filter(escalation__in=in_period)
    item_rows = list(
        through.values("concerncategory_id", "concerncategory__name", "concerncategory__parent_id")
        .annotate(n=Count("escalation_id", distinct=True))
        .order_by("-n")
    )
    theme_rows = {
        row["theme"]: row["n"]
        for row in through.annotate(
            theme=Coalesce("concerncategory__parent_id", "concerncategory_id")
        )
        .values("theme")
        .annotate(n=Count("escalation_id", distinct=True))
    }
    theme_names = dict(ConcernCategory.objects.filter(pk__in=theme_rows).values_list("pk", "name"))
    d.themes = [
        {
            "bar": Bar(theme_names[pk], n, link(theme=pk)),
            "items": with_widths(
                [
                    Bar(r["concerncategory__name"], r["n"], link(category=r["concerncategory_id"]))
                    for r in item_rows
                    if r["concerncategory__parent_id"] == pk
                ]
            ),
        }
        for pk, n in sorted(theme_rows.items(), key=lambda kv: -kv[1])
    ]

    steps = (
        classified_steps(today)
        .filter(
            escalation__authority=authority,
            escalation__nature=Nature.CONCERN,
            raised_at__gte=period.start_at,
            raised_at__lt=period.end_at,
        )
        .values("escalation__policy_id", "stage_order", "outcome", "issue_outcome")
        .annotate(n=Count("pk"))
    )
    table: dict[tuple[int, int], dict[str, Any]] = {}
    for row in steps:
        key = (row["escalation__policy_id"], row["stage_order"])
        entry = table.setdefault(
            key,
            {
                "stage": stage_names.get(key, f"Stage {key[1]}"),
                **dict.fromkeys(OUTCOMES, 0),
                **dict.fromkeys(ISSUE_OUTCOMES, 0),
                "raised": 0,
                "links": {},
            },
        )
        entry[row["outcome"]] += row["n"]
        if row["issue_outcome"]:
            entry[row["issue_outcome"]] += row["n"]
        entry["raised"] += row["n"]
    for key, entry in sorted(table.items()):
        for outcome in (*OUTCOMES, *ISSUE_OUTCOMES):
            # The steps raised in the period, not the escalations: an escalation raised
            # the quarter before may have a step raised in this one.
            entry["links"][outcome] = f"{base_url}?" + query_string(
                timescale=outcome,
                step_stage=f"{key[0]}:{key[1]}",
                step_from=period.start.isoformat(),
                step_to=period.end.isoformat(),
                **concerns_only,
            )
        judged = entry["met"] + entry["missed"]
        entry["percent_met"] = round(100 * entry["met"] / judged) if judged else None
        issued = entry["issued_on_time"] + entry["issued_late"]
        entry["percent_issued_on_time"] = (
            round(100 * entry["issued_on_time"] / issued) if issued else None
        )
        d.timescales.append(entry)

    closures = authority.closure_dates()
    resolved = Escalation.objects.filter(
        concern,
        authority=authority,
        state__in=(State.RESOLVED, State.FINAL_DECISION),
        closed_at__gte=period.start_at,
        closed_at__lt=period.end_at,
    ).values_list("raised_at", "closed_at")
    days = sorted(
        working_days_between(
            raised.astimezone(LONDON).date(),
            closed.astimezone(LONDON).date(),
            nation=authority.nation,
            closures=closures,
        )
        for raised, closed in resolved
    )
    if days:
        lower_quartile, upper_quartile = quartiles(days)
        d.resolution_days = {
            "count": len(days),
            "median": statistics.median(days),
            "lower_quartile": lower_quartile,
            "upper_quartile": upper_quartile,
            "min": days[0],
            "max": days[-1],
            "url": f"{base_url}?"
            + query_string(
                closed_from=period.start.isoformat(),
                closed_to=period.end.isoformat(),
                resolved=1,
                **concerns_only,
            ),
        }

    open_qs = Escalation.objects.filter(concern, authority=authority, state__in=OPEN_STATES)
    now_counts = open_qs.aggregate(
        open=Count("pk"),
        overdue=Count(
            "pk",
            filter=Q(Exists(Step.objects.overdue(today).filter(escalation=OuterRef("pk")))),
        ),
        issue_overdue=Count(
            "pk",
            filter=Q(Exists(Step.objects.issue_overdue(today).filter(escalation=OuterRef("pk")))),
        ),
    )
    d.open_now, d.overdue_now = now_counts["open"], now_counts["overdue"]
    d.issue_overdue_now = now_counts["issue_overdue"]

    team_rows = (
        Escalation.children.through.objects.filter(escalation__in=in_period)
        .values("child__team_id")
        .annotate(n=Count("escalation_id", distinct=True))
        .order_by("-n")
    )
    team_names = dict(Team.objects.filter(authority=authority).values_list("pk", "name"))
    d.by_team = with_widths(
        [
            Bar(
                team_names.get(r["child__team_id"], "No team"),
                r["n"],
                link(team=r["child__team_id"] or "none"),
            )
            for r in team_rows
        ]
    )
    chair_rows = (
        in_period.values(
            "raised_by_id", "raised_by__user__first_name", "raised_by__user__last_name"
        )
        .annotate(n=Count("pk"))
        .order_by("-n", "raised_by__user__last_name", "raised_by__user__first_name", "raised_by_id")
    )
    d.by_chair = with_widths(
        [
            Bar(
                f"{r['raised_by__user__first_name']} {r['raised_by__user__last_name']}".strip(),
                r["n"],
                link(chair=r["raised_by_id"]),
            )
            for r in chair_rows
        ]
    )

    quarters = previous_quarters(financial_quarter(period.end), 8)
    whens = [
        When(raised_at__gte=q.start_at, raised_at__lt=q.end_at, then=Value(i))
        for i, q in enumerate(quarters)
    ]
    trend_rows = (
        Escalation.objects.filter(
            concern,
            authority=authority,
            raised_at__gte=quarters[0].start_at,
            raised_at__lt=quarters[-1].end_at,
        )
        .annotate(q=Case(*whens, output_field=IntegerField()))
        .values("q")
        .annotate(
            informal=Count("pk", filter=Q(formal_started_at__isnull=True)),
            formal=Count("pk", filter=Q(formal_started_at__isnull=False)),
        )
    )
    by_q = {r["q"]: r for r in trend_rows}
    d.trend = [
        {
            "label": q.label,
            "informal": by_q.get(i, {}).get("informal", 0),
            "formal": by_q.get(i, {}).get("formal", 0),
            "url": f"{base_url}?"
            + query_string(
                **{"from": q.start.isoformat(), "to": q.end.isoformat()}, **concerns_only
            ),
        }
        for i, q in enumerate(quarters)
    ]
    return d


# The quarterly report lists this many of the open cases, the longest open first; the
# tracker lists them all. (Listing every open case made a report of a thousand rows.)
LONGEST_OPEN = 20


@dataclass
class OpenStage:
    """The open escalations now at one stage, by where they stand, each count a link to
    the tracker's list of them."""

    stage: str
    informal: int = 0
    awaiting_response: int = 0
    overdue: int = 0
    response_received: int = 0
    links: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.informal + self.awaiting_response + self.response_received


def open_by_stage(authority: LocalAuthority, today: date, base_url: str) -> list[OpenStage]:
    """The authority's open concerns (good-practice records are counted on their own)
    counted by the stage they are at and their state, with those overdue: one query
    whatever their number, in ladder order."""
    overdue = Exists(Step.objects.overdue(today).filter(escalation=OuterRef("pk")))
    counts = list(
        Escalation.objects.filter(authority=authority, nature=Nature.CONCERN, state__in=OPEN_STATES)
        .values("current_stage_id", "current_stage__name", "policy__name", "current_stage__order")
        .annotate(
            informal=Count("pk", filter=Q(state=State.INFORMAL)),
            awaiting=Count("pk", filter=Q(state=State.AWAITING_RESPONSE)),
            received=Count("pk", filter=Q(state=State.RESPONSE_RECEIVED)),
            overdue=Count("pk", filter=Q(overdue)),
        )
        .order_by("policy__name", "current_stage__order")
    )
    several = len({r["policy__name"] for r in counts}) > 1
    rows = []
    for r in counts:
        name = r["current_stage__name"] or "No stage"
        stage = r["current_stage_id"]
        row = OpenStage(
            stage=f"{r['policy__name']}: {name}" if several else name,
            informal=r["informal"],
            awaiting_response=r["awaiting"],
            overdue=r["overdue"],
            response_received=r["received"],
        )
        on_stage: dict[str, Any] = {"nature": Nature.CONCERN.value}
        if stage is not None:
            on_stage["stage"] = stage
        row.links = {
            "total": f"{base_url}?{query_string(open=1, **on_stage)}",
            "overdue": f"{base_url}?{query_string(overdue=1, **on_stage)}",
            **{
                key: f"{base_url}?{query_string(status=state, **on_stage)}"
                for key, state in (
                    ("informal", State.INFORMAL),
                    ("awaiting_response", State.AWAITING_RESPONSE),
                    ("response_received", State.RESPONSE_RECEIVED),
                )
            },
        }
        rows.append(row)
    return rows


def longest_open(authority: LocalAuthority) -> QuerySet[Escalation]:
    """The quarterly report's short list: the LONGEST_OPEN open concerns raised longest
    ago, with their children and open step (case references only are shown)."""
    return (
        Escalation.objects.filter(authority=authority, state__in=OPEN_STATES, nature=Nature.CONCERN)
        .select_related("current_stage")
        .prefetch_related(
            "children",
            Prefetch("steps", queryset=Step.objects.open().order_by().select_related("partner")),
        )
        .order_by("raised_at", "pk")[:LONGEST_OPEN]
    )


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The lower and upper quartiles of one or more values.

    By the inclusive method (Excel's QUARTILE.INC, numpy's default): the quartile at
    position (n − 1) × ¼ or × ¾ of the sorted values, interpolated between its
    neighbours, so it always lies within the range. statistics.quantiles' default
    (exclusive) method extrapolates beyond the data for small samples: 0 and 3 gave
    "−0.75 to 3.75" beside "Range 0 to 3".
    """
    if not values:
        raise ValueError("The quartiles of no values are undefined.")
    if len(values) == 1:
        # statistics.quantiles refuses a single value; it is its own every quartile.
        return values[0], values[0]
    lower, _median, upper = statistics.quantiles(values, n=4, method="inclusive")
    return lower, upper


def trend_chart(trend: list[dict[str, Any]], width: int = 640, height: int = 200) -> dict[str, Any]:
    """Geometry for the server-rendered SVG trend line (no JavaScript, no CDN)."""
    totals = [t["informal"] + t["formal"] for t in trend]
    top = max([*totals, 1])
    step = width / max(len(trend) - 1, 1)
    points = [
        (round(i * step, 1), round(height - (height - 20) * total / top, 1))
        for i, total in enumerate(totals)
    ]
    return {
        "width": width,
        "height": height,
        "points": " ".join(f"{x},{y}" for x, y in points),
        "dots": [
            {"x": x, "y": y, "label": t["label"], "total": total}
            for (x, y), t, total in zip(points, trend, totals, strict=True)
        ],
    }


# --- the board's questions (DESIGN §7: how long, what changed for the child) -----------

# The ways an escalation closes, in the order the report lists them.
CLOSINGS = (State.RESOLVED, State.FINAL_DECISION, State.WITHDRAWN)


@dataclass
class OutcomeRow:
    """Closed escalations of one kind (a closing, a theme or a stage), by how they closed,
    and how many have "what changed for the child" recorded."""

    label: str
    resolved: int = 0
    final_decision: int = 0
    withdrawn: int = 0
    recorded: int = 0

    @property
    def total(self) -> int:
        return self.resolved + self.final_decision + self.withdrawn

    @property
    def not_recorded(self) -> int:
        return self.total - self.recorded

    def add(self, state: str, n: int, recorded: int) -> None:
        setattr(self, str(state), getattr(self, str(state)) + n)
        self.recorded += recorded


@dataclass
class ReEscalation:
    """A child with an escalation raised within twelve months of an earlier one."""

    child_id: int
    reference: str
    url: str
    # The escalations' references, oldest first: the earlier one(s) and those of the period.
    escalations: list[str] = field(default_factory=list)


@dataclass
class ThemeResolution:
    label: str
    count: int
    median: float


@dataclass
class BoardQuestions:
    """What boards ask beyond how many: how escalations closed and what changed for the
    child, the same child escalated again within the year, and how long each theme takes
    to resolve. Concerns only: good-practice records are counted on their own."""

    closings: list[OutcomeRow] = field(default_factory=list)
    by_theme: list[OutcomeRow] = field(default_factory=list)
    by_stage: list[OutcomeRow] = field(default_factory=list)
    closed_url: str = ""
    # The RE_ESCALATED_SHOWN children escalated most often, of re_escalated_total.
    re_escalated: list[ReEscalation] = field(default_factory=list)
    re_escalated_total: int = 0
    resolution_by_theme: list[ThemeResolution] = field(default_factory=list)
    good_practice_raised: int = 0
    good_practice_closed: int = 0

    @property
    def closed_total(self) -> int:
        return sum(row.total for row in self.closings)

    @property
    def recorded_total(self) -> int:
        return sum(row.recorded for row in self.closings)


NO_THEME = "No category recorded"
# A large authority has hundreds of children escalated again within a year: the report
# names those escalated most often and counts the rest.
RE_ESCALATED_SHOWN = 25


def _themed(through: QuerySet[Any]) -> QuerySet[Any]:
    """Category links annotated with their theme: the parent, or a top-level category."""
    return through.annotate(theme=Coalesce("concerncategory__parent_id", "concerncategory_id"))


def _one_year_before(day: date) -> date:
    """The same date a year earlier (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def board_questions(authority: LocalAuthority, period: Period, base_url: str) -> BoardQuestions:
    """The board's questions for `period`, in a fixed number of queries.

    Closed escalations are those closed in the period (resolved, final decision or
    withdrawn), counted by closing, by theme (an escalation once in each of its themes)
    and by the stage they were at when they closed. Re-escalations: children with a
    concern raised in the period within twelve months after an earlier concern of theirs.
    Time to resolution: working days from raising to closing, of those resolved or decided
    in the period, by theme (the dashboard's overall figure counts the same way).
    """
    b = BoardQuestions()
    concerns = Escalation.objects.filter(authority=authority, nature=Nature.CONCERN)
    closed = concerns.filter(
        state__in=CLOSINGS, closed_at__gte=period.start_at, closed_at__lt=period.end_at
    )
    b.closed_url = f"{base_url}?" + query_string(
        closed_from=period.start.isoformat(),
        closed_to=period.end.isoformat(),
        nature=Nature.CONCERN,
    )
    recorded = ~Q(outcome_for_child="")

    by_state = {
        row["state"]: row
        for row in closed.values("state").annotate(
            n=Count("pk"), recorded=Count("pk", filter=recorded)
        )
    }
    for state in CLOSINGS:
        row = OutcomeRow(State(state).label)
        found = by_state.get(state)
        if found:
            row.add(state, found["n"], found["recorded"])
        b.closings.append(row)

    links = _themed(Escalation.categories.through.objects.filter(escalation__in=closed))
    theme_rows = list(
        links.values("theme", "escalation__state").annotate(
            n=Count("escalation_id", distinct=True),
            recorded=Count(
                "escalation_id", distinct=True, filter=~Q(escalation__outcome_for_child="")
            ),
        )
    )
    unthemed = list(
        closed.filter(categories__isnull=True)
        .values("state")
        .annotate(n=Count("pk"), recorded=Count("pk", filter=recorded))
    )

    resolved_links = list(
        _themed(
            Escalation.categories.through.objects.filter(
                escalation__in=closed.filter(state__in=(State.RESOLVED, State.FINAL_DECISION))
            )
        )
        .values_list("theme", "escalation_id", "escalation__raised_at", "escalation__closed_at")
        .distinct()
    )
    # Every theme of the authority's policies, not only those found: one query whether or
    # not any closed escalation has a category (an empty `pk__in` would ask none).
    names = dict(
        ConcernCategory.objects.filter(
            policy__authority=authority, parent__isnull=True
        ).values_list("pk", "name")
    )

    themes: dict[int | None, OutcomeRow] = {}
    for row in theme_rows:
        entry = themes.setdefault(row["theme"], OutcomeRow(names.get(row["theme"], "")))
        entry.add(row["escalation__state"], row["n"], row["recorded"])
    for row in unthemed:
        themes.setdefault(None, OutcomeRow(NO_THEME)).add(row["state"], row["n"], row["recorded"])
    b.by_theme = sorted(themes.values(), key=lambda r: (r.label == NO_THEME, -r.total, r.label))

    stages: dict[tuple[str, int], OutcomeRow] = {}
    stage_rows = list(
        closed.values("policy__name", "current_stage__order", "current_stage__name", "state")
        .annotate(n=Count("pk"), recorded=Count("pk", filter=recorded))
        .order_by("policy__name", "current_stage__order")
    )
    several = len({row["policy__name"] for row in stage_rows}) > 1
    for row in stage_rows:
        name = row["current_stage__name"] or "No stage"
        label = f"{row['policy__name']}: {name}" if several else name
        key = (row["policy__name"], row["current_stage__order"] or 0)
        stages.setdefault(key, OutcomeRow(label)).add(row["state"], row["n"], row["recorded"])
    b.by_stage = [stages[key] for key in sorted(stages)]

    closures = authority.closure_dates()
    days_by_theme: dict[int, list[int]] = {}
    for theme, _pk, raised, closed_at in resolved_links:
        days_by_theme.setdefault(theme, []).append(
            working_days_between(
                raised.astimezone(LONDON).date(),
                closed_at.astimezone(LONDON).date(),
                nation=authority.nation,
                closures=closures,
            )
        )
    b.resolution_by_theme = sorted(
        (
            ThemeResolution(names.get(theme, ""), len(days), statistics.median(days))
            for theme, days in days_by_theme.items()
        ),
        key=lambda r: (-r.count, r.label),
    )

    again = _re_escalations(concerns, period)
    b.re_escalated_total = len(again)
    b.re_escalated = sorted(again, key=lambda r: (-len(r.escalations), r.reference))[
        :RE_ESCALATED_SHOWN
    ]

    good = Escalation.objects.filter(authority=authority, nature=Nature.GOOD_PRACTICE)
    counts = good.aggregate(
        raised=Count("pk", filter=Q(raised_at__gte=period.start_at, raised_at__lt=period.end_at)),
        closed=Count("pk", filter=Q(closed_at__gte=period.start_at, closed_at__lt=period.end_at)),
    )
    b.good_practice_raised, b.good_practice_closed = counts["raised"], counts["closed"]
    return b


def _re_escalations(concerns: QuerySet[Escalation], period: Period) -> list[ReEscalation]:
    """Children with a concern raised in the period within twelve months after an earlier
    concern of theirs (withdrawn ones too: it was still raised), read in one query."""
    year_before = _midnight(_one_year_before(period.start))
    rows = (
        Escalation.children.through.objects.filter(
            escalation__in=concerns.filter(raised_at__gte=year_before, raised_at__lt=period.end_at)
        )
        .order_by("child_id", "escalation__raised_at", "escalation_id")
        .values_list("child_id", "child__reference", "escalation_id", "escalation__raised_at")
    )
    by_child: dict[int, list[tuple[str, int, date]]] = {}
    for child_id, reference, escalation_id, raised_at in rows:
        by_child.setdefault(child_id, []).append(
            (reference, escalation_id, raised_at.astimezone(LONDON).date())
        )
    found = []
    for child_id, raised in by_child.items():
        involved: list[int] = []
        for i, (_ref, escalation_id, day) in enumerate(raised):
            if not period.start <= day <= period.end:
                continue
            earlier = [pk for _r, pk, d in raised[:i] if d >= _one_year_before(day)]
            if earlier:
                involved += [pk for pk in earlier if pk not in involved]
                involved.append(escalation_id)
        if involved:
            found.append(
                ReEscalation(
                    child_id=child_id,
                    reference=raised[0][0],
                    url=reverse("children:file", args=[child_id]),
                    escalations=[escalation_reference(pk) for pk in involved],
                )
            )
    return sorted(found, key=lambda r: r.reference)
