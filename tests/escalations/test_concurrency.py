"""Two people acting on one escalation at the same moment (PostgreSQL only)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from escalations import services
from escalations.models import State, Step
from tests.concurrency import race
from tests.markers import postgres_only

NOW = datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/London"))

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rutland_escalation(ladders, staff_of, child_of):
    policy = ladders["rutland"]
    chair = staff_of("rutland", "cp-chair")
    escalation = services.escalation_raise(
        actor=chair,
        policy=policy,
        children=[child_of("rutland")],
        summary="Core groups not held.",
        responder=staff_of("rutland", "service-manager"),
        now=NOW,
    )
    return escalation, chair


def test_two_chairs_escalating_at_once_create_exactly_one_step(rutland_escalation, staff_of):
    escalation, chair = rutland_escalation
    qa = staff_of("rutland", "qa-manager")
    team_manager = staff_of("rutland", "team-manager")
    seen_step = escalation.steps.get()

    results = race(
        lambda: services.escalation_escalate(
            actor=chair, escalation=escalation, responder=team_manager, from_step=seen_step, now=NOW
        ),
        lambda: services.escalation_escalate(
            actor=qa, escalation=escalation, responder=team_manager, from_step=seen_step, now=NOW
        ),
    )

    wins = [r for r in results if isinstance(r, Step)]
    refusals = [r for r in results if isinstance(r, services.ActionRefused)]
    assert len(wins) == 1, results
    assert len(refusals) == 1, results
    assert "moved on" in refusals[0].message
    assert Step.objects.filter(escalation=escalation).count() == 2
    assert Step.objects.filter(escalation=escalation, closed_at__isnull=True).count() == 1
    escalation.refresh_from_db()
    assert escalation.state == State.AWAITING_RESPONSE
    assert escalation.current_stage.order == 1


def test_two_responses_at_once_keep_one_and_refuse_the_other(rutland_escalation, staff_of):
    escalation, _chair = rutland_escalation
    step = escalation.steps.get()
    responder = step.responder

    results = race(
        lambda: services.step_respond(actor=responder, step=step, response="First answer", now=NOW),
        lambda: services.step_respond(
            actor=responder, step=step, response="Second answer", now=NOW
        ),
    )

    wins = [r for r in results if isinstance(r, Step)]
    refusals = [r for r in results if isinstance(r, services.ActionRefused)]
    assert len(wins) == 1 and len(refusals) == 1, results
    assert "already been recorded" in refusals[0].message
    step.refresh_from_db()
    assert step.response == wins[0].response
    escalation.refresh_from_db()
    assert escalation.state == State.RESPONSE_RECEIVED


def test_resolve_racing_an_escalation_leaves_one_consistent_outcome(rutland_escalation, staff_of):
    escalation, chair = rutland_escalation
    seen_step = escalation.steps.get()

    results = race(
        lambda: services.escalation_resolve(
            actor=chair,
            escalation=escalation,
            outcome="Resolved by phone.",
            from_step=seen_step,
            now=NOW,
        ),
        lambda: services.escalation_escalate(
            actor=chair,
            escalation=escalation,
            responder=staff_of("rutland", "team-manager"),
            from_step=seen_step,
            now=NOW,
        ),
    )

    refusals = [r for r in results if isinstance(r, services.ActionRefused)]
    assert len(refusals) == 1, results
    escalation.refresh_from_db()
    open_steps = Step.objects.filter(escalation=escalation, closed_at__isnull=True).count()
    if escalation.state == State.RESOLVED:
        assert open_steps == 0
        assert Step.objects.filter(escalation=escalation).count() == 1
    else:
        assert escalation.state == State.AWAITING_RESPONSE
        assert open_steps == 1
