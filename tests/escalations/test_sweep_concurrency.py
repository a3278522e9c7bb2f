"""Four deadline sweeps at once over ten thousand due steps (PostgreSQL only)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count
from simple_history.utils import bulk_create_with_history

from escalations import services
from escalations.models import Escalation, Step
from escalations.sweep import SweepReport, process_due
from notifications.models import Kind, Notification
from tests.concurrency import race
from tests.fixtures import first_category
from tests.markers import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]

DUE_STEPS = 10_000
RESPONDERS = 10


def _copies(escalation: Escalation, responders: list, n: int) -> list[int]:
    """`n` more escalations like `escalation` (its open step, children and categories),
    written in bulk with their history rows; the ids of their steps."""
    step = escalation.steps.get()
    children = list(escalation.children.values_list("pk", flat=True))
    categories = list(escalation.categories.values_list("pk", flat=True))
    copies = []
    for _ in range(n):
        copy = Escalation.objects.get(pk=escalation.pk)
        copy.pk = copy.id = None
        copy.request_token = None
        copies.append(copy)
    copies = bulk_create_with_history(copies, Escalation, batch_size=2000)
    steps = []
    for i, copy in enumerate(copies):
        twin = Step.objects.get(pk=step.pk) if i == 0 else steps[0]
        clone = Step(**{f.attname: getattr(twin, f.attname) for f in Step._meta.concrete_fields})
        clone.pk = clone.id = None
        clone.escalation_id = copy.pk
        clone.responder_id = responders[i % len(responders)].pk
        steps.append(clone)
    steps = bulk_create_with_history(steps, Step, batch_size=2000)
    Escalation.children.through.objects.bulk_create(
        [
            Escalation.children.through(escalation_id=c.pk, child_id=child)
            for c in copies
            for child in children
        ],
        batch_size=5000,
    )
    Escalation.categories.through.objects.bulk_create(
        [
            Escalation.categories.through(escalation_id=c.pk, concerncategory_id=category)
            for c in copies
            for category in categories
        ],
        batch_size=5000,
    )
    return [s.pk for s in steps]


def test_four_sweeps_at_once_over_ten_thousand_due_steps_create_each_alert_exactly_once(
    ladders, staff_of, child_of
):
    # Gloucestershire Stage 1 (4 working days) raised Mon 21 Dec 2026: overdue on Wed 30
    # Dec, to the chair and the responder (one of ten team managers).
    policy = ladders["gloucestershire"]
    chair = staff_of("gloucestershire", "cp-chair")
    responders = [staff_of("gloucestershire", "team-manager") for _ in range(RESPONDERS)]
    first = services.escalation_raise(
        actor=chair,
        policy=policy,
        categories=first_category(policy),
        children=[child_of("gloucestershire")],
        summary="Core group meetings not held.",
        stage=policy.stages.get(order=1),
        responder=responders[0],
        now=datetime(2026, 12, 21, 10, tzinfo=ZoneInfo("Europe/London")),
    )
    steps = {first.steps.get().pk, *_copies(first, responders[1:] + responders[:1], DUE_STEPS - 1)}
    assert len(steps) == DUE_STEPS
    sweep_at = datetime(2026, 12, 30, 10, tzinfo=ZoneInfo("Europe/London"))

    results = race(*[lambda: process_due(sweep_at)] * 4, timeout=120)

    assert all(isinstance(r, SweepReport) for r in results), results
    overdue = Notification.objects.filter(kind=Kind.OVERDUE)
    # Each step's alert once to its responder and once to the chair, nothing else new.
    assert overdue.count() == 2 * DUE_STEPS
    assert sum(sum(r.created.values()) for r in results) == 2 * DUE_STEPS
    assert sum(r.created[Kind.OVERDUE] for r in results) == 2 * DUE_STEPS
    assert set(overdue.values_list("step_id", flat=True)) == steps
    assert overdue.filter(recipient=chair).count() == DUE_STEPS
    assert not (
        overdue.values("step", "recipient", "occurrence").annotate(n=Count("pk")).filter(n__gt=1)
    )
