"""Two people acting on one escalation at the same moment (PostgreSQL only)."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from escalations import services
from escalations.models import Escalation, State, Step, Verdict
from escalations.sweep import SweepReport, process_due
from notifications.models import Kind, Notification
from tests.concurrency import held_open, race, start, wait_for_lock_waiters
from tests.fixtures import first_category
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
        categories=first_category(policy),
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


# --- without the page's hidden step: the lock alone keeps actions apart -----------------


@pytest.fixture
def glos_at_stage(ladders, staff_of, child_of):
    """glos_at_stage(3) -> a Gloucestershire escalation raised straight to that stage (the
    policy lets the chair bypass any stage)."""

    def make(order: int) -> Escalation:
        policy = ladders["gloucestershire"]
        stage = policy.stages.select_related("role").get(order=order)
        return services.escalation_raise(
            actor=staff_of("gloucestershire", "cp-chair"),
            policy=policy,
            categories=first_category(policy),
            children=[child_of("gloucestershire")],
            summary="Strategy discussion not held.",
            stage=stage,
            responder=staff_of("gloucestershire", stage.role.slug),
            now=NOW,
        )

    return make


def escalating_to(escalation: Escalation, order: int, responder) -> object:
    """The escalate a person sends without the page's hidden step (an old page, a script,
    a form resubmitted from another tab)."""
    stage = escalation.policy.stages.get(order=order)
    return lambda: services.escalation_escalate(
        actor=escalation.raised_by, escalation=escalation, stage=stage, responder=responder, now=NOW
    )


def test_twenty_escalates_to_the_next_stage_without_the_pages_step_create_one_step(
    glos_at_stage, staff_of
):
    escalation = glos_at_stage(3)
    director = staff_of("gloucestershire", "assistant-director")

    results = race(*[escalating_to(escalation, 4, director) for _ in range(20)])

    wins = [r for r in results if isinstance(r, Step)]
    refusals = [r for r in results if isinstance(r, services.ActionRefused)]
    assert (len(wins), len(refusals)) == (1, 19), results
    steps = list(Step.objects.filter(escalation=escalation).order_by("sequence"))
    assert [(s.stage_order, s.verdict, s.closed_at is None) for s in steps] == [
        (3, Verdict.NO_RESPONSE, False),
        (4, "", True),
    ]
    # The Assistant Director is told once, about the one step.
    assert set(Notification.objects.filter(recipient=director).values_list("step", flat=True)) == {
        wins[0].pk
    }


def test_an_escalate_that_waited_for_the_lock_sees_the_stage_the_other_one_reached(
    glos_at_stage, staff_of
):
    escalation = glos_at_stage(3)
    director = staff_of("gloucestershire", "assistant-director")

    with held_open(escalating_to(escalation, 4, director)) as first:
        second = start(escalating_to(escalation, 4, director))
        wait_for_lock_waiters(1)

    assert isinstance(first[0], Step), first
    refused = second()
    assert isinstance(refused, services.ActionRefused), refused
    assert refused.message == "Choose a later stage than the current one."
    assert Step.objects.filter(escalation=escalation, stage_order=4).count() == 1


def test_a_final_decision_that_waited_for_the_lock_sees_the_final_stage_just_reached(
    glos_at_stage, staff_of
):
    escalation = glos_at_stage(5)
    chief_executive = staff_of("gloucestershire", "chief-executive")

    with held_open(escalating_to(escalation, 6, chief_executive)) as first:
        deciding = start(
            lambda: services.escalation_record_final_decision(
                actor=escalation.raised_by, escalation=escalation, decision="Decided.", now=NOW
            )
        )
        wait_for_lock_waiters(1)

    assert isinstance(first[0], Step), first
    decided = deciding()
    assert isinstance(decided, Escalation), decided
    escalation.refresh_from_db()
    assert escalation.state == State.FINAL_DECISION
    assert Step.objects.get(escalation=escalation, stage_order=6).verdict == Verdict.FINAL_DECISION


# --- one form, sent twice at once: one escalation ---------------------------------------


@pytest.fixture
def raising(ladders, staff_of, child_of):
    """raising(token) -> the raise a Rutland chair's form would send with that token."""
    policy = ladders["rutland"]
    chair = staff_of("rutland", "cp-chair")
    child = child_of("rutland")
    manager = staff_of("rutland", "service-manager")

    def make(token: uuid.UUID) -> object:
        return lambda: services.escalation_raise(
            actor=chair,
            policy=policy,
            categories=first_category(policy),
            children=[child],
            summary="Core groups not held.",
            responder=manager,
            request_token=token,
            now=NOW,
        )

    return make


def test_the_same_raise_form_sent_twice_at_once_raises_one_escalation(raising):
    results = race(*[raising(token := uuid.uuid4()), raising(token)])

    [escalation] = Escalation.objects.all()
    assert Step.objects.filter(escalation=escalation).count() == 1
    repeats = [r for r in results if isinstance(r, services.AlreadyRaised)]
    assert len(repeats) == 1, results
    assert repeats[0].escalation == escalation


def test_a_second_send_blocked_by_the_first_uncommitted_raise_is_told_it_was_raised(raising):
    token = uuid.uuid4()

    with held_open(raising(token)) as first:
        # The first raise has not committed, so the second cannot see it: only the unique
        # token stops it, once the first commits.
        second = start(raising(token))
        wait_for_lock_waiters(1)

    assert isinstance(first[0], Escalation), first
    repeat = second()
    assert isinstance(repeat, services.AlreadyRaised), repeat
    assert repeat.escalation == first[0]
    assert Escalation.objects.count() == 1


# --- four sweeps at once over many due steps -------------------------------------------


def test_four_sweeps_at_once_over_hundreds_of_due_steps_create_each_alert_exactly_once(
    ladders, staff_of, child_of
):
    # Gloucestershire Stage 1 (4 working days) raised Mon 21 Dec 2026: overdue on Wed 30
    # Dec, to the chair and the responder (a different team manager for each step).
    policy = ladders["gloucestershire"]
    chair = staff_of("gloucestershire", "cp-chair")
    stage = policy.stages.get(order=1)
    raised_at = datetime(2026, 12, 21, 10, tzinfo=ZoneInfo("Europe/London"))
    steps = [
        services.escalation_raise(
            actor=chair,
            policy=policy,
            categories=first_category(policy),
            children=[child_of("gloucestershire")],
            summary="Core group meetings not held.",
            stage=stage,
            responder=staff_of("gloucestershire", "team-manager"),
            now=raised_at,
        )
        .steps.get()
        .pk
        for _ in range(300)
    ]
    sweep_at = datetime(2026, 12, 30, 10, tzinfo=ZoneInfo("Europe/London"))

    results = race(*[lambda: process_due(sweep_at)] * 4)

    assert all(isinstance(r, SweepReport) for r in results), results
    assert sum(r.created[Kind.OVERDUE] for r in results) == 600
    overdue = Notification.objects.filter(kind=Kind.OVERDUE)
    assert overdue.count() == 600
    assert set(overdue.values_list("step_id", flat=True)) == set(steps)
    # Each step's alert once to its responder and once to the chair.
    assert overdue.filter(recipient=chair).count() == 300
    assert overdue.exclude(recipient=chair).values("recipient").distinct().count() == 300
