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

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from escalations import rules, services
from escalations.models import AWAITING_RESPONSE, OPEN_STATES, Escalation, Step
from notifications.models import Kind, Notification
from notifications.services import create_notifications
from operations.services import sweep_run_record
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


def process_due(now: datetime) -> SweepReport:
    report = SweepReport()
    today = timezone.localdate(now)
    closures_by_authority: dict[int, frozenset[date]] = {}
    # What already exists, read once: a re-run then writes (and asks) nothing. The unique
    # constraint still settles a race with a concurrent sweep.
    existing = set(
        Notification.objects.filter(
            step__in=Step.objects.open(), escalation__state__in=OPEN_STATES
        ).values_list("step_id", "kind", "recipient_id", "occurrence")
    )

    # Steps awaiting a response; and informal steps awaiting the chair too, since an
    # informal concern the chair has not resolved in time is a dispute whatever was said.
    steps = (
        Step.objects.open()
        .filter(AWAITING_RESPONSE | Q(stage_order=0), escalation__state__in=OPEN_STATES)
        .select_related(
            "escalation__authority", "escalation__policy", "escalation__raised_by", "responder"
        )
        .order_by("pk")
    )
    for step in steps.iterator(chunk_size=500):
        escalation = step.escalation
        authority = escalation.authority
        closures = closures_by_authority.get(authority.pk)
        if closures is None:
            closures = closures_by_authority[authority.pk] = authority.closure_dates()
        if not is_working_day(today, nation=authority.nation, closures=closures):
            # Alerts go out on the authority's working days; the next one catches up.
            continue
        if step.due_on is None:
            # The stage has no timescale (e.g. Stoke Stage 1): no reminder or overdue
            # alert. Only the formal cap runs on it, and the cap alert below covers that.
            continue
        chair, responder = escalation.raised_by, step.responder
        if step.is_due_soon(today, nation=authority.nation, closures=closures):
            # No working day left to answer in: remind the responder.
            _count(report, existing, Kind.REMINDER, step, [responder], now)
            continue
        if not step.is_past_due(today):
            continue
        if step.is_informal:
            # "unresolved ... within 5 working days, this is a dispute": prompt the chair,
            # answered or not (an answered one is awaiting the chair's decision).
            _count(report, existing, Kind.INFORMAL_DISPUTE, step, [chair], now)
            continue
        due = step.effective_due_on
        if due is None or not step.is_overdue(today):
            continue
        late = working_days_between(due, today, nation=authority.nation, closures=closures)
        repeat = escalation.policy.overdue_repeat_working_days
        occurrence = (max(late, 1) - 1) // repeat if repeat else 0
        _count(report, existing, Kind.OVERDUE, step, [chair, responder], now, occurrence=occurrence)
        if escalation.policy.auto_escalate_when_overdue and _auto_escalate(step, now):
            report.auto_escalated += 1

    capped = (
        Escalation.objects.filter(state__in=OPEN_STATES, formal_cap_due_on__lt=today)
        .exclude(notifications__kind=Kind.CAP_BREACHED)
        .select_related("raised_by")
        .prefetch_related(
            Prefetch("steps", queryset=Step.objects.open().select_related("responder"))
        )
    )
    for escalation in capped.select_related("authority").iterator(chunk_size=500):
        authority = escalation.authority
        closures = closures_by_authority.get(authority.pk) or authority.closure_dates()
        if not is_working_day(today, nation=authority.nation, closures=closures):
            continue
        step = escalation.open_step()
        if step is not None:
            _count(
                report,
                existing,
                Kind.CAP_BREACHED,
                step,
                [escalation.raised_by, step.responder],
                now,
            )

    # Read by the health endpoint: reaching here is the sweep's proof of life.
    sweep_run_record(
        finished_at=timezone.now(),
        notifications_created=sum(report.created.values()),
        auto_escalated=report.auto_escalated,
    )
    return report


def _count(
    report: SweepReport,
    existing: set[tuple[int, str, int, int]],
    kind: str,
    step: Step,
    recipients: list,
    now: datetime,
    occurrence: int = 0,
) -> None:
    recipients = [r for r in recipients if (step.pk, kind, r.pk, occurrence) not in existing]
    if not recipients:
        return
    with transaction.atomic():
        created = create_notifications(
            kind=kind, step=step, recipients=recipients, now=now, occurrence=occurrence
        )
    existing.update((step.pk, kind, n.recipient_id, occurrence) for n in created)
    report.created[kind] += len(created)


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
