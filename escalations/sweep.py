"""The deadline sweep: one idempotent `process_due(now)`, the escalation rules that time
passing sets off (reminders, overdue alerts, the formal cap, a policy's automatic
escalation).

Celery beat (escalations.tasks.sweep), `manage.py run_sweep`, `manage.py run_scheduler`
and the tests all call it. It only creates outbox rows (each unique, so a re-run or a concurrent run adds
nothing) and never escalates by itself unless a policy says so. It sends nothing: the
outbox relay (notifications/relay.py) is the one path to e-mail.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import reduce
from operator import or_

from django.db.models import (
    Case,
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
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
    effective_due,
    issue_due_soon_q,
    issue_overdue_q,
    overdue_q,
    past_due_q,
)
from notifications.models import Kind
from notifications.services import Alert, create_notifications_in_bulk
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

    A query per clock finds the candidates (the steps due soon or past due, the people
    addressed on stages addressed to several who are due soon or past due, the answered
    steps whose next stage's issue-by date is near or past, the escalations past their
    cap) and one insert per kind of pass writes whatever is not already in the outbox; however many steps are open, a sweep asks the same number of questions.
    Only a policy's automatic escalation works step by step, as a service call each.
    """
    report = SweepReport()
    today = timezone.localdate(now)
    # Alerts go out on the authority's working days; the next one catches up.
    working = _working_today(today)
    if working:
        alerts, auto_escalate = _step_alerts(today, working)
        alerts += _addressee_alerts(today, working)
        alerts += _issue_alerts(today, working)
        report.created.update(create_notifications_in_bulk(alerts=alerts, now=now))
        for step in _steps_to_escalate(auto_escalate):
            if _auto_escalate(step, now):
                report.auto_escalated += 1
        # After the automatic escalations, so a cap alert names the step now open.
        report.created.update(
            create_notifications_in_bulk(alerts=_cap_alerts(today, working), now=now)
        )

    # Read by the health endpoint: reaching here is the sweep's proof of life.
    sweep_run_record(
        finished_at=timezone.now(),
        notifications_created=sum(report.created.values()),
        auto_escalated=report.auto_escalated,
    )
    return report


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
# numbers within the outbox's small integer).
ALERTS_PER_EXTENSION = 1000


def alert_occurrence(occurrence: int, extensions: int) -> int:
    """The outbox occurrence of a step's alert, after `extensions` extensions of its deadline."""
    return extensions * ALERTS_PER_EXTENSION + min(occurrence, ALERTS_PER_EXTENSION - 1)


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


def _step_alerts(today: date, working: dict[int, _Calendar]) -> tuple[list[Alert], list[int]]:
    """Reminders, informal disputes and overdue alerts, classified in SQL by the
    StepQuerySet's own conditions; and the overdue steps whose policy escalates them."""
    due_soon = reduce(
        or_,
        (
            Q(escalation__authority_id=pk)
            & due_soon_q(today, nation=calendar.nation, closures=calendar.closures)
            for pk, calendar in working.items()
        ),
    )
    # Checked in this order, as one step gets at most one of them: an informal concern
    # past its time is a dispute for the chair, answered or not, never an overdue.
    alert = Case(
        When(due_soon, then=Value(Kind.REMINDER)),
        When(Q(stage_order=0) & past_due_q(today), then=Value(Kind.INFORMAL_DISPUTE)),
        When(overdue_q(today), then=Value(Kind.OVERDUE)),
        default=Value(""),
        output_field=CharField(),
    )
    rows = (
        Step.objects.filter(
            # A stage with no timescale (e.g. Stoke Stage 1) gets no reminder or overdue
            # alert; only the formal cap runs on it (see _cap_alerts).
            due_on__isnull=False,
            escalation__state__in=OPEN_STATES,
            escalation__authority_id__in=list(working),
        )
        .annotate(alert=alert, effective=effective_due(), extensions=_extensions())
        .exclude(alert="")
        .values_list(
            "pk",
            "escalation_id",
            "escalation__authority_id",
            "escalation__raised_by_id",
            "responder_id",
            "partner_id",
            "alert",
            "effective",
            "escalation__policy__overdue_repeat_working_days",
            "escalation__policy__auto_escalate_when_overdue",
            "extensions",
            "completion",
        )
    )
    alerts: list[Alert] = []
    auto_escalate: list[int] = []
    for row in rows:
        step, escalation, authority, chair, responder, partner = row[:6]
        kind, due, repeat, auto, extended = row[6:11]
        # A stage addressed to several people: each of them has their own clock
        # (_addressee_alerts); the chair's alerts stay the stage's.
        several = bool(row[11])
        # The addressee: council staff, or a partner-agency contact (whose e-mail carries
        # their own link: notifications.services).
        addressee = Alert(kind, escalation, step, responder, partner_id=partner)
        if kind == Kind.REMINDER and several:
            continue
        if kind == Kind.REMINDER:
            # No working day left to answer in: remind the responder.
            alerts.append(addressee._replace(occurrence=alert_occurrence(0, extended)))
        elif kind == Kind.INFORMAL_DISPUTE:
            # "unresolved ... within 5 working days, this is a dispute": prompt the chair.
            alerts.append(Alert(kind, escalation, step, chair, alert_occurrence(0, extended)))
        else:
            calendar = working[authority]
            late = working_days_between(
                due, today, nation=calendar.nation, closures=calendar.closures
            )
            occurrence = alert_occurrence((max(late, 1) - 1) // repeat if repeat else 0, extended)
            alerts.append(Alert(kind, escalation, step, chair, occurrence))
            if not several:
                alerts.append(addressee._replace(occurrence=occurrence))
            if auto:
                auto_escalate.append(step)
    return alerts, auto_escalate


def _addressee_alerts(today: date, working: dict[int, _Calendar]) -> list[Alert]:
    """On stages addressed to several people, each person's own reminder and overdue
    alerts, to those the stage still waits on (never to someone who has replied), staff
    and partner-agency contacts alike, by the AddresseeQuerySet's own conditions. Overdue
    repeats as the respond clock's does."""
    due_soon = reduce(
        or_,
        (
            Q(step__escalation__authority_id=pk)
            & addressee_due_soon_q(today, nation=calendar.nation, closures=calendar.closures)
            for pk, calendar in working.items()
        ),
    )
    alert = Case(
        When(due_soon, then=Value(Kind.REMINDER)),
        # An informal discussion past its time is the chair's dispute, not an overdue.
        When(step__stage_order=0, then=Value("")),
        When(addressee_overdue_q(today), then=Value(Kind.OVERDUE)),
        default=Value(""),
        output_field=CharField(),
    )
    rows = (
        Addressee.objects.filter(
            due_on__isnull=False,
            step__escalation__state__in=OPEN_STATES,
            step__escalation__authority_id__in=list(working),
        )
        .annotate(
            alert=alert, effective=addressee_effective_due(), extensions=_extensions("step_id")
        )
        .exclude(alert="")
        .values_list(
            "step_id",
            "step__escalation_id",
            "step__escalation__authority_id",
            "staff_id",
            "partner_id",
            "alert",
            "effective",
            "step__escalation__policy__overdue_repeat_working_days",
            "extensions",
        )
    )
    alerts: list[Alert] = []
    for step, escalation, authority, person, partner, kind, due, repeat, extended in rows:
        occurrence = 0
        if kind == Kind.OVERDUE:
            calendar = working[authority]
            late = working_days_between(
                due, today, nation=calendar.nation, closures=calendar.closures
            )
            occurrence = (max(late, 1) - 1) // repeat if repeat else 0
        alerts.append(
            Alert(
                kind,
                escalation,
                step,
                person,
                alert_occurrence(occurrence, extended),
                partner_id=partner,
            )
        )
    return alerts


def _issue_alerts(today: date, working: dict[int, _Calendar]) -> list[Alert]:
    """The issue-by clock: while an answered step awaits the chair and the next stage has
    an issue-by date (Step.next_issue_due_on), the chair is reminded when it is due soon
    (`issue_due_soon`) and alerted once it has passed (`issue_overdue`), then again every
    overdue_repeat_working_days, by the StepQuerySet's own issue_due_soon and
    issue_overdue. Kinds of their own, so the step's reply alerts (from before it was
    answered) never stand in for them in the outbox's unique key; an answered step is not
    extended, so their occurrences count from 0."""
    due_soon = reduce(
        or_,
        (
            Q(escalation__authority_id=pk)
            & issue_due_soon_q(today, nation=calendar.nation, closures=calendar.closures)
            for pk, calendar in working.items()
        ),
    )
    alert = Case(
        When(due_soon, then=Value(Kind.ISSUE_DUE_SOON)),
        When(issue_overdue_q(today), then=Value(Kind.ISSUE_OVERDUE)),
        default=Value(""),
        output_field=CharField(),
    )
    rows = (
        Step.objects.filter(
            next_issue_due_on__isnull=False,
            escalation__state__in=OPEN_STATES,
            escalation__authority_id__in=list(working),
        )
        .annotate(alert=alert)
        .exclude(alert="")
        .values_list(
            "pk",
            "escalation_id",
            "escalation__authority_id",
            "escalation__raised_by_id",
            "alert",
            "next_issue_due_on",
            "escalation__policy__overdue_repeat_working_days",
        )
    )
    alerts: list[Alert] = []
    for step, escalation, authority, chair, kind, due, repeat in rows:
        occurrence = 0
        if kind == Kind.ISSUE_OVERDUE:
            assert due is not None  # the query keeps only steps with a next_issue_due_on
            calendar = working[authority]
            late = working_days_between(
                due, today, nation=calendar.nation, closures=calendar.closures
            )
            occurrence = (max(late, 1) - 1) // repeat if repeat else 0
        alerts.append(Alert(kind, escalation, step, chair, alert_occurrence(occurrence, 0)))
    return alerts


def _cap_alerts(today: date, working: dict[int, _Calendar]) -> list[Alert]:
    """Once per escalation past its formal cap: to the chair and the open step's addressee
    (on a stage addressed to several people, those of them it still waits on), staff or
    partner-agency contact."""
    rows = list(
        Step.objects.open()
        .filter(
            escalation__state__in=OPEN_STATES,
            escalation__formal_cap_due_on__lt=today,
            escalation__authority_id__in=list(working),
        )
        .exclude(escalation__notifications__kind=Kind.CAP_BREACHED)
        .values_list(
            "pk",
            "escalation_id",
            "escalation__raised_by_id",
            "responder_id",
            "partner_id",
            "completion",
        )
    )
    # (staff, partner) of each person asked: exactly one of the two is set.
    awaited: dict[int, list[tuple[int | None, int | None]]] = {}
    several = [row[0] for row in rows if row[-1]]
    if several:
        for step, staff, partner in (
            Addressee.objects.awaited()
            .filter(step_id__in=several)
            .values_list("step_id", "staff_id", "partner_id")
        ):
            awaited.setdefault(step, []).append((staff, partner))
    alerts: list[Alert] = []
    for step, escalation, chair, responder, partner, completion in rows:
        alerts.append(Alert(Kind.CAP_BREACHED, escalation, step, chair))
        asked = awaited.get(step, []) if completion else [(responder, partner)]
        alerts += [
            Alert(Kind.CAP_BREACHED, escalation, step, staff, partner_id=other)
            for staff, other in asked
            if staff is not None or other is not None
        ]
    return alerts


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
