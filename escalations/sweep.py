"""The deadline sweep: one idempotent `process_due(now)`, the escalation rules that time
passing sets off (reminders, overdue alerts, the formal cap, a policy's automatic
escalation).

Celery beat (escalations.tasks.sweep), `manage.py run_sweep`, `manage.py run_scheduler`
and the tests all call it. It only creates outbox rows (each unique, so a re-run or a concurrent run adds
nothing) and never escalates by itself unless a policy says so. It sends nothing: the
outbox relay (notifications/relay.py) is the one path to e-mail.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, lru_cache, reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from escalations import rules, services
from escalations.models import (
    OPEN_STATES,
    Addressee,
    AmendmentKind,
    Step,
    StepAmendment,
    addressee_due_soon_q,
    addressee_effective_due,
    addressee_overdue_q,
    due_soon_q,
    due_soon_until,
    effective_due,
    issue_due_soon_q,
    issue_overdue_q,
    overdue_q,
    past_due_q,
)
from notifications.models import Kind
from notifications.services import AlertQuery, create_notifications_in_bulk
from operations.services import sweep_run_record
from policies.models import ClosureDay, LocalAuthority
from policies.working_days import is_working_day, working_days_between


@dataclass
class SweepReport:
    created: Counter[str] = field(default_factory=Counter)
    auto_escalated: int = 0

    def lines(self) -> list[str]:
        out = [
            f"{kind}: {n} notification(s) created" for kind, n in sorted(self.created.items()) if n
        ] or ["no notifications due"]
        if self.auto_escalated:
            out.append(f"auto-escalated: {self.auto_escalated}")
        return out


@dataclass(frozen=True)
class _Calendar:
    nation: str
    closures: frozenset[date]


def process_due(now: datetime) -> SweepReport:
    """Every alert due at `now`, found and written with a fixed number of statements.

    The database does the work: one statement finds how late each overdue clock is (the
    distinct authorities and due dates, counted in working days here, a lookup each); one
    `INSERT … SELECT` writes the reminders, overdue alerts, informal disputes, the
    addressees' own alerts, the issue-by alerts and the cap alerts that are not already
    in the outbox, classified by the StepQuerySet's and AddresseeQuerySet's own
    conditions (when a policy escalates a step by itself, the cap alerts wait for it in a
    statement of their own). A re-run reads and writes nothing new; however many steps are open, a
    sweep asks the same number of questions. Only a policy's automatic escalation works
    step by step, as a service call each.
    """
    report = SweepReport()
    today = timezone.localdate(now)
    # Alerts go out on the authority's working days; the next one catches up.
    working = _working_today(today)
    if working:
        statements = _statements(today, tuple(sorted(working.items())), connection.vendor)
        late, auto_escalate = _overdue_clocks(today, working, statements.clocks)
        if auto_escalate:
            report.created.update(
                create_notifications_in_bulk(alerts=statements.alerts.given(late), now=now)
            )
            for step in _steps_to_escalate(auto_escalate):
                if _auto_escalate(step, now):
                    report.auto_escalated += 1
            # After the automatic escalations, so a cap alert names the step now open.
            report.created.update(
                create_notifications_in_bulk(alerts=statements.cap.given({}), now=now)
            )
        else:
            # Nothing moves between the two: one statement writes them all.
            report.created.update(
                create_notifications_in_bulk(alerts=statements.all.given(late), now=now)
            )

    # Read by the health endpoint: reaching here is the sweep's proof of life.
    sweep_run_record(
        finished_at=timezone.now(),
        notifications_created=sum(report.created.values()),
        auto_escalated=report.auto_escalated,
    )
    return report


@dataclass(frozen=True)
class _AlertTemplate:
    """An AlertQuery but for the working days late (_alert_query)."""

    sql: str
    head: tuple[Any, ...]
    tail: tuple[Any, ...]

    def given(self, late: dict[tuple[int, date], int]) -> AlertQuery:
        rows = [{"authority": a, "day": d.isoformat(), "late": n} for (a, d), n in late.items()]
        return AlertQuery(self.sql, [*self.head, json.dumps(rows), *self.tail])


class _Statements:
    """The sweep's SQL, which depends only on the day and the authorities' calendars (and
    the database's dialect): each statement compiled by the ORM on first use, once a day
    per process (_statements), as building it costs about as much as running it."""

    def __init__(self, today: date, working: dict[int, _Calendar]) -> None:
        self.today, self.working = today, working

    @cached_property
    def clocks(self) -> tuple[str, tuple[Any, ...]]:
        sql, params = _clock_query(self.today, self.working).query.sql_with_params()
        return sql, tuple(params)

    @cached_property
    def _alerts(self) -> list[QuerySet[Any]]:
        return [
            _step_alerts(self.today, self.working),
            _addressee_alerts(self.today, self.working),
            _issue_alerts(self.today, self.working),
        ]

    @cached_property
    def alerts(self) -> _AlertTemplate:
        return _alert_query(self._alerts)

    @cached_property
    def cap(self) -> _AlertTemplate:
        return _alert_query(_cap_alerts(self.today, self.working))

    @cached_property
    def all(self) -> _AlertTemplate:
        return _alert_query([*self._alerts, *_cap_alerts(self.today, self.working)])


@lru_cache(maxsize=8)
def _statements(
    today: date, calendars: tuple[tuple[int, _Calendar], ...], vendor: str
) -> _Statements:
    """The sweep's statements for `today` in these calendars, on this `vendor`'s database;
    every later sweep that day reuses them."""
    return _Statements(today, dict(calendars))


def _working_today(today: date) -> dict[int, _Calendar]:
    """The authorities for which `today` is a working day, with their calendars."""
    closures: dict[int, set[date]] = {}
    for authority_id, day in ClosureDay.objects.values_list("authority_id", "date"):
        closures.setdefault(authority_id, set()).add(day)
    calendars = {
        pk: _Calendar(nation, frozenset(closures.get(pk, ())))
        for pk, nation in LocalAuthority.objects.values_list("pk", "nation")
    }
    return {
        pk: calendar
        for pk, calendar in calendars.items()
        if is_working_day(today, nation=calendar.nation, closures=calendar.closures)
    }


# An extension starts a step's alerts again, to the new date: the alerts after the Nth
# extension take occurrence numbers from their own block, so the outbox's "sent once" key
# lets the new date's reminder and overdue alerts through (rules.MAX_EXTENSIONS keeps the
# numbers within the outbox's small integer). An alert's occurrence is
# extensions * ALERTS_PER_EXTENSION + min(repeat number, ALERTS_PER_EXTENSION - 1),
# worked out in SQL (_alert_query).
ALERTS_PER_EXTENSION = 1000


def _extensions(step: str = "pk") -> Coalesce:
    """SQL: how many times the step's deadline has been extended (`step`: the outer
    query's reference to the step)."""
    counted = (
        StepAmendment.objects.filter(step=OuterRef(step), kind=AmendmentKind.EXTENSION)
        .order_by()
        .values("step")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# What each candidate query yields, in this order: the alert due ("" for none), the
# escalation and step, the addressee (staff, or partner) and the chair, whether the stage
# is addressed to several people (each then has their own clock: _addressee_alerts), the
# step's extensions, and for a clock that repeats (the overdue kinds, _REPEATING) its
# authority, due date and the policy's repeat (NULL or 0: occurrence 0, as for every
# other kind). Each row goes to its addressee, its chair or both, by kind (_TO_ADDRESSEE,
# _TO_CHAIR).
_CANDIDATE = ("a_kind", "a_escalation", "a_step", "a_recipient", "a_partner", "a_chair",
              "a_several", "a_extensions", "a_authority", "a_due", "a_repeat")  # fmt: skip
_REPEATING = (Kind.OVERDUE, Kind.ISSUE_OVERDUE)
# The addressee is reminded when no working day is left to answer in, and alerted with
# the chair when overdue; "unresolved ... within 5 working days, this is a dispute": the
# chair is prompted; the issue-by clock is the chair's; the cap is told to both.
_TO_ADDRESSEE = (Kind.REMINDER, Kind.OVERDUE, Kind.CAP_BREACHED)
_TO_CHAIR = (
    Kind.INFORMAL_DISPUTE,
    Kind.OVERDUE,
    Kind.ISSUE_DUE_SOON,
    Kind.ISSUE_OVERDUE,
    Kind.CAP_BREACHED,
)


def _candidates(queryset: QuerySet[Any], **columns: Any) -> QuerySet[Any]:
    """`queryset` as rows of _CANDIDATE (unset columns NULL), unordered."""
    # Typed, so a union whose parts all leave a column unset still compares it with SQL.
    nulls: dict[str, Any] = {name: Cast(Value(None), BigIntegerField()) for name in _CANDIDATE}
    nulls["a_due"] = Cast(Value(None), DateField())
    nulls["a_several"] = Value(False, output_field=BooleanField())
    nulls["a_extensions"] = Value(0, output_field=IntegerField())
    return queryset.annotate(**{**nulls, **columns}).order_by().values_list(*_CANDIDATE)


def _json_table(alias: str, columns: dict[str, str]) -> str:
    """FROM-clause SQL for a JSON array of objects (one parameter) with these columns
    (name: PostgreSQL type)."""
    if connection.vendor == "postgresql":
        typed = ", ".join(f"{name} {kind}" for name, kind in columns.items())
        return f"jsonb_to_recordset(%s::jsonb) AS {alias}({typed})"
    picked = ", ".join(f"json_extract(value, '$.{name}') AS {name}" for name in columns)
    return f"(SELECT {picked} FROM json_each(%s)) AS {alias}"  # noqa: S608


def _alert_query(parts: list[QuerySet[Any]]) -> _AlertTemplate:
    """One SELECT of Alert rows from the candidate queries: each row to its addressee
    and to its chair as its kind says, the occurrence worked out (as ALERTS_PER_EXTENSION's
    comment says) from the working days late (_AlertTemplate.given)."""
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    sql, params = union.query.sql_with_params()
    greatest, least = ("GREATEST", "LEAST") if connection.vendor == "postgresql" else ("MAX", "MIN")
    late_table = _json_table("m", {"authority": "bigint", "day": "date", "late": "integer"})

    def among(kinds: tuple[str, ...]) -> str:
        return f"c.a_kind IN ({', '.join(['%s'] * len(kinds))})"

    # (max(late, 1) - 1) // repeat if repeat else 0, capped within the extension's block.
    occurrence = (
        f"c.a_extensions * {ALERTS_PER_EXTENSION} + CASE WHEN {among(_REPEATING)} "
        f"AND c.a_repeat > 0 THEN {least}(({greatest}(COALESCE(m.late, 1), 1) - 1) "
        f"/ c.a_repeat, {ALERTS_PER_EXTENSION - 1}) ELSE 0 END"
    )
    return _AlertTemplate(
        "SELECT c.a_kind AS kind, c.a_escalation AS escalation_id, c.a_step AS step_id, "  # noqa: S608
        "CASE WHEN w.chair = 1 THEN c.a_chair ELSE c.a_recipient END AS recipient_id, "
        f"{occurrence} AS occurrence, "
        "CASE WHEN w.chair = 1 THEN NULL ELSE c.a_partner END AS partner_id "
        f"FROM ({sql}) AS c CROSS JOIN (SELECT 0 AS chair UNION ALL SELECT 1) AS w "
        f"LEFT JOIN {late_table} ON m.authority = c.a_authority AND m.day = c.a_due "
        f"WHERE CASE WHEN w.chair = 1 THEN {among(_TO_CHAIR)} "
        f"ELSE {among(_TO_ADDRESSEE)} AND NOT c.a_several END",
        (*_REPEATING, *params),
        (*_TO_CHAIR, *_TO_ADDRESSEE),
    )


def _overdue_steps(today: date, working: dict[int, _Calendar]) -> QuerySet[Step]:
    return Step.objects.open().filter(
        overdue_q(today),
        due_on__isnull=False,
        escalation__state__in=OPEN_STATES,
        escalation__authority_id__in=list(working),
    )


def _overdue_clocks(
    today: date, working: dict[int, _Calendar], clocks: tuple[str, tuple[Any, ...]]
) -> tuple[dict[tuple[int, date], int], list[int]]:
    """Working days late, by (authority, due date), for every overdue clock the sweep may
    alert on: one query (_clock_query) for the distinct pairs, then a lookup in the
    authority's calendar each. And the steps to escalate automatically."""
    late: dict[tuple[int, date], int] = {}
    auto_escalate: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(*clocks)
        rows = cursor.fetchall()
    for authority, due, auto in rows:
        if auto is not None:
            auto_escalate.append(auto)
        # SQLite returns the date as written.
        day = due if isinstance(due, date) else date.fromisoformat(due)
        if (authority, day) not in late:
            calendar = working[authority]
            late[authority, day] = working_days_between(
                day, today, nation=calendar.nation, closures=calendar.closures
            )
    return late, auto_escalate


def _clock_query(today: date, working: dict[int, _Calendar]) -> QuerySet[Any]:
    """The distinct (authority, due date) of every overdue clock the sweep may alert on (a
    step's, an addressee's, an issue-by date); and, with their own rows, the steps with an
    overdue alert (past an informal stage's time is a dispute instead: _step_clock) whose
    policy escalates them by itself, however often alerted."""
    no_step = Cast(Value(None), BigIntegerField())
    steps = _overdue_steps(today, working).annotate(
        l_authority=F("escalation__authority_id"),
        l_due=effective_due(),
        l_auto=Case(
            When(
                ~Q(stage_order=0) & Q(escalation__policy__auto_escalate_when_overdue=True),
                then=F("pk"),
            ),
            default=no_step,
        ),
    )
    addressees = Addressee.objects.filter(
        addressee_overdue_q(today),
        due_on__isnull=False,
        step__escalation__state__in=OPEN_STATES,
        step__escalation__authority_id__in=list(working),
    ).annotate(
        l_authority=F("step__escalation__authority_id"),
        l_due=addressee_effective_due(),
        l_auto=no_step,
    )
    issues = (
        Step.objects.filter(issue_overdue_q(today))
        .filter(escalation__state__in=OPEN_STATES, escalation__authority_id__in=list(working))
        .annotate(
            l_authority=F("escalation__authority_id"), l_due=F("next_issue_due_on"), l_auto=no_step
        )
    )
    pairs = [
        qs.order_by().values_list("l_authority", "l_due", "l_auto")
        for qs in (steps, addressees, issues)
    ]
    return pairs[0].union(*pairs[1:])


def _due_soon(
    today: date,
    working: dict[int, _Calendar],
    authority: str,
    condition: Callable[..., Q],
) -> Q:
    """A model's due-soon condition (`due_soon_q` and its kin) in each authority's calendar
    (`authority`: the path to the authority's id); the authorities whose "due soon" ends
    on the same day (models.due_soon_until, all that the calendar changes in it) share one
    branch, so the SQL grows with calendars, not authorities."""
    groups: dict[date, tuple[_Calendar, list[int]]] = {}
    for pk, calendar in working.items():
        until = due_soon_until(today, nation=calendar.nation, closures=calendar.closures)
        groups.setdefault(until, (calendar, []))[1].append(pk)
    return reduce(
        or_,
        (
            Q(**{f"{authority}__in": pks})
            & condition(today, nation=calendar.nation, closures=calendar.closures)
            for calendar, pks in groups.values()
        ),
    )


def _step_clock(today: date, working: dict[int, _Calendar]) -> QuerySet[Step]:
    """Open steps with a reply clock, each with the alert it is due (`alert`), by the
    StepQuerySet's own conditions."""
    due_soon = _due_soon(today, working, "escalation__authority_id", due_soon_q)
    # Checked in this order, as one step gets at most one of them: an informal concern
    # past its time is a dispute for the chair, answered or not, never an overdue.
    alert = Case(
        When(due_soon, then=Value(Kind.REMINDER)),
        When(Q(stage_order=0) & past_due_q(today), then=Value(Kind.INFORMAL_DISPUTE)),
        When(overdue_q(today), then=Value(Kind.OVERDUE)),
        default=Value(""),
        output_field=CharField(),
    )
    return (
        Step.objects.open()
        .filter(
            # A stage with no timescale (e.g. Stoke Stage 1) gets no reminder or overdue
            # alert; only the formal cap runs on it (see _cap_alerts).
            due_on__isnull=False,
            escalation__state__in=OPEN_STATES,
            escalation__authority_id__in=list(working),
        )
        .annotate(alert=alert)
    )


def _step_alerts(today: date, working: dict[int, _Calendar]) -> QuerySet[Any]:
    """Reminders, informal disputes and overdue alerts: to the step's addressee (council
    staff, or a partner-agency contact, whose e-mail carries their own link) and the
    chair, as _TO_ADDRESSEE and _TO_CHAIR say. On a stage addressed to several people
    each of them has their own clock (_addressee_alerts); the chair's alerts stay the
    stage's."""
    return _candidates(
        _step_clock(today, working),
        a_kind=F("alert"),
        a_escalation=F("escalation_id"),
        a_step=F("pk"),
        a_recipient=F("responder_id"),
        a_partner=F("partner_id"),
        a_chair=F("escalation__raised_by_id"),
        a_several=ExpressionWrapper(~Q(completion=""), output_field=BooleanField()),
        a_extensions=_extensions(),
        a_authority=F("escalation__authority_id"),
        a_due=effective_due(),
        a_repeat=F("escalation__policy__overdue_repeat_working_days"),
    )


def _addressee_alerts(today: date, working: dict[int, _Calendar]) -> QuerySet[Any]:
    """On stages addressed to several people, each person's own reminder and overdue
    alerts, to those the stage still waits on (never to someone who has replied), staff
    and partner-agency contacts alike, by the AddresseeQuerySet's own conditions. Overdue
    repeats as the respond clock's does."""
    due_soon = _due_soon(today, working, "step__escalation__authority_id", addressee_due_soon_q)
    alert = Case(
        When(due_soon, then=Value(Kind.REMINDER)),
        # An informal discussion past its time is the chair's dispute, not an overdue.
        When(step__stage_order=0, then=Value("")),
        When(addressee_overdue_q(today), then=Value(Kind.OVERDUE)),
        default=Value(""),
        output_field=CharField(),
    )
    addressees = Addressee.objects.filter(
        due_on__isnull=False,
        step__closed_at__isnull=True,
        step__escalation__state__in=OPEN_STATES,
        step__escalation__authority_id__in=list(working),
    ).annotate(alert=alert)
    return _candidates(
        addressees,
        a_kind=F("alert"),
        a_escalation=F("step__escalation_id"),
        a_step=F("step_id"),
        a_recipient=F("staff_id"),
        a_partner=F("partner_id"),
        a_extensions=_extensions("step_id"),
        a_authority=F("step__escalation__authority_id"),
        a_due=addressee_effective_due(),
        a_repeat=F("step__escalation__policy__overdue_repeat_working_days"),
    )


def _issue_alerts(today: date, working: dict[int, _Calendar]) -> QuerySet[Any]:
    """The issue-by clock: while an answered step awaits the chair and the next stage has
    an issue-by date (Step.next_issue_due_on), the chair is reminded when it is due soon
    (`issue_due_soon`) and alerted once it has passed (`issue_overdue`), then again every
    overdue_repeat_working_days, by the StepQuerySet's own issue_due_soon and
    issue_overdue. Kinds of their own, so the step's reply alerts (from before it was
    answered) never stand in for them in the outbox's unique key; an answered step is not
    extended, so their occurrences count from 0."""
    due_soon = _due_soon(today, working, "escalation__authority_id", issue_due_soon_q)
    alert = Case(
        When(due_soon, then=Value(Kind.ISSUE_DUE_SOON)),
        When(issue_overdue_q(today), then=Value(Kind.ISSUE_OVERDUE)),
        default=Value(""),
        output_field=CharField(),
    )
    steps = (
        Step.objects.open()
        .filter(
            next_issue_due_on__isnull=False,
            escalation__state__in=OPEN_STATES,
            escalation__authority_id__in=list(working),
        )
        .annotate(alert=alert)
    )
    return _candidates(
        steps,
        a_kind=F("alert"),
        a_escalation=F("escalation_id"),
        a_step=F("pk"),
        a_chair=F("escalation__raised_by_id"),
        a_authority=F("escalation__authority_id"),
        a_due=F("next_issue_due_on"),
        a_repeat=F("escalation__policy__overdue_repeat_working_days"),
    )


def _cap_alerts(today: date, working: dict[int, _Calendar]) -> list[QuerySet[Any]]:
    """Once per escalation past its formal cap: to the chair and the open step's addressee
    (on a stage addressed to several people, those of them it still waits on), staff or
    partner-agency contact."""
    capped = (
        Step.objects.open()
        .filter(
            escalation__state__in=OPEN_STATES,
            escalation__formal_cap_due_on__lt=today,
            escalation__authority_id__in=list(working),
        )
        .exclude(escalation__notifications__kind=Kind.CAP_BREACHED)
    )
    cap = {"a_kind": Value(Kind.CAP_BREACHED, output_field=CharField())}
    return [
        _candidates(
            capped,
            **cap,
            a_escalation=F("escalation_id"),
            a_step=F("pk"),
            a_recipient=F("responder_id"),
            a_partner=F("partner_id"),
            a_chair=F("escalation__raised_by_id"),
            a_several=ExpressionWrapper(~Q(completion=""), output_field=BooleanField()),
        ),
        _candidates(
            Addressee.objects.awaited().filter(
                step_id__in=capped.exclude(completion="").values("pk")
            ),
            **cap,
            a_escalation=F("step__escalation_id"),
            a_step=F("step_id"),
            a_recipient=F("staff_id"),
            a_partner=F("partner_id"),
        ),
    ]


def _steps_to_escalate(step_ids: list[int]) -> list[Step]:
    if not step_ids:
        return []
    return list(
        Step.objects.filter(pk__in=step_ids)
        .select_related("escalation__policy", "escalation__raised_by", "escalation__authority")
        .order_by("pk")
    )


def _auto_escalate(step: Step, now: datetime) -> bool:
    """Only where a policy asks for it: the next stage, to the child's line, else nothing."""
    escalation = step.escalation
    next_stage = rules.next_stage(escalation)
    if next_stage is None:
        return False
    if rules.stage_refusal(escalation, next_stage, escalation.raised_by) is not None:
        # Not a stage the chair may move it to (a QA manager's, or past a final stage).
        return False
    responder = rules.default_responder(next_stage, list(escalation.children.all()))
    if responder is None:
        return False
    try:
        services.escalation_escalate(
            actor=escalation.raised_by,
            escalation=escalation,
            stage=next_stage,
            responder=responder,
            reason="Escalated automatically: no response by the deadline.",
            from_step=step,
            now=now,
        )
    except services.ActionRefused:
        return False
    return True
