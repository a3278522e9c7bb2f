"""The chair varies a stage's timescale, with a reason, where the policy allows it
(Stage.chair_may_vary_timescale: Stoke-on-Trent "flexibility within the timeframe at each
stage … as agreed by the CRM"; Gloucestershire "set reasonable timescale … normally 2
working days"); a stage whose timescale the chair sets for each case keeps working."""

from __future__ import annotations

import html
from datetime import date

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from escalations import services
from escalations.models import Step
from policies.models import Stage
from tests.fixtures import World, at

REASON = "The team manager must first see the new assessment, due next week."


@pytest.fixture
def world(world_of) -> World:
    return world_of("rutland")


@pytest.fixture
def stage_1(world) -> Stage:
    """Rutland's Stage 1 (5 working days), as a policy that lets the chair vary it."""
    stage = Stage.objects.get(policy=world.policy, order=1)
    stage.chair_may_vary_timescale = True
    stage.save()
    return stage


@pytest.fixture
def informal(world, raise_concern):
    """Rutland's threshold discussion, raised Mon 26 Oct 2026."""
    return raise_concern(
        "rutland",
        actor=world.chair,
        responder=world.north.service,
        children=[world.child],
        now=at(2026, 10, 26),
    )


def escalate(world, escalation, **kwargs) -> Step:
    """To Stage 1 on Mon 2 Nov 2026 (its own 5 working days: due Mon 9 Nov)."""
    return services.escalation_escalate(
        actor=world.chair,
        escalation=escalation,
        responder=world.north.manager,
        now=at(2026, 11, 2),
        **kwargs,
    )


def client_of(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_varied_timescale_sets_the_deadline_and_records_the_reason(world, stage_1, informal):
    step = escalate(world, informal, response_days=10, timescale_reason=REASON)
    # Mon 2 Nov + 10 working days: 3, 4, 5, 6, 9, 10, 11, 12, 13, 16 -> Mon 16 Nov.
    assert (step.response_days, step.due_on) == (10, date(2026, 11, 16))
    assert step.timescale_reason == REASON


def test_a_variation_on_a_stage_that_does_not_allow_it_is_refused(world, informal):
    with pytest.raises(services.ActionRefused) as refused:
        escalate(world, informal, response_days=10, timescale_reason=REASON)
    assert refused.value.message == "The policy sets the timescale for Stage 1: Team Manager."
    assert refused.value.field == "response_days"


def test_a_variation_without_a_reason_is_refused(world, stage_1, informal):
    with pytest.raises(services.ActionRefused) as refused:
        escalate(world, informal, response_days=10, timescale_reason="  ")
    assert refused.value.message == (
        "Say why you are varying the timescale for Stage 1: Team Manager "
        "(the policy's is 5 working days)."
    )
    assert refused.value.field == "timescale_reason"


def test_a_reason_without_a_timescale_is_refused(world, stage_1, informal):
    with pytest.raises(services.ActionRefused) as refused:
        escalate(world, informal, timescale_reason=REASON)
    assert refused.value.field == "response_days"


def test_the_policys_own_timescale_is_no_variation(world, stage_1, informal):
    step = escalate(world, informal, response_days=5)
    assert (step.due_on, step.timescale_reason) == (date(2026, 11, 9), "")


def test_without_a_variation_the_policys_timescale_applies(world, stage_1, informal):
    step = escalate(world, informal)
    assert (step.response_days, step.due_on, step.timescale_reason) == (5, date(2026, 11, 9), "")


def test_a_timescale_the_chair_sets_for_each_case_needs_no_reason(world, informal):
    stage = Stage.objects.get(policy=world.policy, order=1)
    stage.chair_sets_timescale, stage.response_days = True, None
    stage.save()
    step = escalate(world, informal, response_days=3)
    # Mon 2 Nov + 3 working days -> Thu 5 Nov.
    assert step.due_on == date(2026, 11, 5)


def test_a_variation_can_be_made_at_the_raise(world, stage_1, raise_concern):
    # Rutland lets the chair go straight to Stage 3 (direct entry); Stage 3 varied here.
    stage_3 = Stage.objects.get(policy=world.policy, order=3)
    stage_3.chair_may_vary_timescale = True
    stage_3.save()
    escalation = raise_concern(
        "rutland",
        stage_order=3,
        actor=world.chair,
        responder=world.north.head,
        children=[world.child],
        reason="Urgent: the plan has drifted for months.",
        response_days=2,
        timescale_reason="The child is at risk this week.",
    )
    step = escalation.steps.get()
    # Mon 2 Nov + 2 working days -> Wed 4 Nov.
    assert (step.due_on, step.timescale_reason) == (
        date(2026, 11, 4),
        "The child is at risk this week.",
    )


def test_the_step_shows_the_varied_timescale_and_why(world, stage_1, informal):
    escalate(world, informal, response_days=10, timescale_reason=REASON)
    page = text(client_of(world.chair).get(reverse("escalations:detail", args=[informal.pk])))
    assert f"Timescale varied by the chair to 10 working days: {REASON}" in page


def test_the_escalate_form_shows_the_policys_timescale_beside_the_variation(
    world, stage_1, informal
):
    page = text(client_of(world.chair).get(reverse("escalations:escalate", args=[informal.pk])))
    assert "A different timescale, in days (optional)" in page
    assert (
        "Leave blank to keep the policy's timescale (Stage 1: Team Manager: 5 working days)."
        in page
    )
    assert "Why you are varying the timescale" in page


def test_the_escalate_form_offers_no_variation_where_the_policy_allows_none(world, informal):
    page = text(client_of(world.chair).get(reverse("escalations:escalate", args=[informal.pk])))
    assert "Why you are varying the timescale" not in page


def test_the_escalate_form_varies_the_timescale(world, stage_1, informal):
    client = client_of(world.chair)
    url = reverse("escalations:escalate", args=[informal.pk])
    answers = {
        "from_step": informal.open_step().pk,
        "stage": stage_1.pk,
        "responder": world.north.manager.pk,
        "response_days": "10",
        "timescale_reason": REASON,
    }
    with time_machine.travel(at(2026, 11, 2), tick=False):
        client.force_login(world.chair.user)  # signed in then, not days before
        preview = text(client.post(url, answers))
        signature = preview.split('name="recipients_seen" value="')[1].split('"')[0]
        response = client.post(url, answers | {"recipients_seen": signature})
    assert response.status_code == 302
    step = informal.steps.get(sequence=2)
    assert (step.due_on, step.timescale_reason) == (date(2026, 11, 16), REASON)


def test_the_escalate_form_says_a_reason_is_needed(world, stage_1, informal):
    client = client_of(world.chair)
    with time_machine.travel(at(2026, 11, 2), tick=False):
        client.force_login(world.chair.user)  # signed in then, not days before
        response = client.post(
            reverse("escalations:escalate", args=[informal.pk]),
            {
                "from_step": informal.open_step().pk,
                "stage": stage_1.pk,
                "responder": world.north.manager.pk,
                "response_days": "10",
            },
        )
    assert response.status_code == 200
    assert "Say why you are varying the timescale for Stage 1: Team Manager" in text(response)
