"""Who is told: copies, responses and closing notices go to the people on this case only.

Every scenario has more than one holder of each role, so a copy sent to a whole role
shows up as an uninvolved person told.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from escalations import services
from notifications.models import Kind, Notification
from notifications.recipients import step_recipients
from tests.fixtures import World, first_category

NOW = datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/London"))
STATEMENT = {"issue": "No visits.", "actions": "Asked twice.", "wanted": "Weekly visits."}


@pytest.fixture
def rutland(world_of) -> World:
    return world_of("rutland")


def told(*, kind=None) -> set:
    rows = Notification.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    return {n.recipient for n in rows.select_related("recipient")}


def raise_at(r, order: int, responder, **kwargs):
    return services.escalation_raise(
        actor=r.chair,
        policy=r.policy,
        categories=first_category(r.policy),
        children=[r.child],
        summary="Visits not done.",
        stage=r.policy.stages.get(order=order),
        responder=responder,
        now=NOW,
        **kwargs,
    )


def test_stage_4_copies_the_childs_worker_and_line_and_the_childs_qa_manager(rutland):
    raise_at(rutland, 4, rutland.director, statement=STATEMENT)

    # "All key personnel ... (worker, team manager, service manager and Head of Service)"
    assert told(kind=Kind.STEP_COPIED) == {
        rutland.north.worker,
        rutland.north.manager,
        rutland.north.service,
        rutland.north.head,
        rutland.qa,
    }


def test_nobody_outside_the_case_is_told_of_a_stage_4_alert(rutland):
    raise_at(rutland, 4, rutland.director, statement=STATEMENT)

    south = rutland.south
    uninvolved = {south.head, south.service, south.manager, south.worker}
    assert not told() & (uninvolved | {rutland.other_chair, rutland.other_qa})


def test_stage_5_copies_the_director_and_the_chair_but_not_another_chair(rutland):
    escalation = raise_at(rutland, 4, rutland.director, statement=STATEMENT)
    Notification.objects.all().delete()

    services.escalation_escalate(
        actor=rutland.qa,
        escalation=escalation,
        stage=rutland.policy.stages.get(order=5),
        responder=rutland.lscb,
        now=NOW,
    )

    assert told(kind=Kind.STEP_RAISED) == {rutland.lscb}
    assert told(kind=Kind.STEP_COPIED) == {rutland.director, rutland.chair}
    assert rutland.other_chair not in told()


def test_a_response_at_stage_4_goes_to_the_chair_and_the_qa_manager_for_the_case(rutland):
    escalation = raise_at(rutland, 4, rutland.director, statement=STATEMENT)
    step = escalation.steps.get()

    services.step_respond(
        actor=rutland.director,
        step=step,
        response="Meeting held.",
        meeting_date=NOW.date(),
        now=NOW,
    )

    # "submit a response to the QA Manager"
    assert told(kind=Kind.RESPONSE_RECEIVED) == {rutland.chair, rutland.qa}


def test_a_response_at_the_threshold_discussion_goes_to_the_chair_alone(rutland):
    step = raise_at(rutland, 0, rutland.north.service).steps.get()

    services.step_respond(actor=rutland.north.service, step=step, response="Agreed.", now=NOW)

    assert told(kind=Kind.RESPONSE_RECEIVED) == {rutland.chair}


def test_a_policy_role_nobody_holds_still_raises_and_is_recorded_on_the_step(rutland):
    rutland.north.head.is_active = False
    rutland.north.head.save()

    step = raise_at(rutland, 4, rutland.director, statement=STATEMENT).steps.get()

    assert "Head of Service in the children's management line: nobody holds it" in (
        step.copies_unfilled
    )
    assert rutland.north.head not in told()
    assert rutland.north.manager in told(kind=Kind.STEP_COPIED)


@pytest.mark.parametrize("ending", ["resolve", "withdraw"])
def test_everyone_who_took_part_hears_the_end_and_nobody_else(rutland, ending):
    escalation = raise_at(rutland, 4, rutland.director, statement=STATEMENT)
    services.escalation_escalate(
        actor=rutland.qa,
        escalation=escalation,
        stage=rutland.policy.stages.get(order=5),
        responder=rutland.lscb,
        now=NOW,
    )
    if ending == "resolve":
        services.escalation_resolve(
            actor=rutland.chair, escalation=escalation, outcome="Visits weekly.", now=NOW
        )
    else:
        services.escalation_withdraw(
            actor=rutland.chair, escalation=escalation, reason="Child moved.", now=NOW
        )

    assert told(kind=Kind.ESCALATION_CLOSED) == {
        rutland.director,  # addressed at Stage 4, copied at Stage 5
        rutland.lscb,
        rutland.north.worker,
        rutland.north.manager,
        rutland.north.service,
        rutland.north.head,
        rutland.qa,  # copied at Stage 4 and raised Stage 5
    }


def test_a_final_decision_is_told_to_everyone_who_took_part(ladders, staff_of, child_of):
    policy = ladders["gloucestershire"]
    chief = staff_of("gloucestershire", "chief-executive")
    chair = staff_of("gloucestershire", "cp-chair")
    escalation = services.escalation_raise(
        actor=chair,
        policy=policy,
        categories=first_category(policy),
        children=[child_of("gloucestershire")],
        summary="Drift.",
        stage=policy.stages.get(order=6),
        reason="Serious.",
        responder=chief,
        now=NOW,
    )

    services.escalation_record_final_decision(
        actor=chair, escalation=escalation, decision="Allocate today.", now=NOW
    )

    assert told(kind=Kind.ESCALATION_CLOSED) == {chief}


def test_siblings_with_different_social_workers_copy_both_lines(rutland, child_of):
    sibling = child_of("rutland", social_worker=rutland.south.worker)
    stage = rutland.policy.stages.get(order=4)

    recipients = step_recipients(
        stage=stage,
        authority=rutland.policy.authority,
        children=[rutland.child, sibling],
        raiser=rutland.chair,
        actor=rutland.chair,
        responder=rutland.director,
    )

    people = {c.person for c in recipients.copies}
    assert {rutland.north.worker, rutland.south.worker} <= people
    assert {rutland.north.manager, rutland.south.manager} <= people
    assert {rutland.north.service, rutland.south.service} <= people


def test_a_child_with_no_social_worker_copies_their_teams_manager(rutland, child_of):
    unallocated = child_of("rutland", social_worker=None, team=rutland.north.manager.team)
    stage = rutland.policy.stages.get(order=4)

    recipients = step_recipients(
        stage=stage,
        authority=rutland.policy.authority,
        children=[unallocated],
        raiser=rutland.chair,
        actor=rutland.chair,
        responder=rutland.director,
    )

    people = {c.person for c in recipients.copies}
    assert {rutland.north.manager, rutland.north.service, rutland.north.head} <= people
    assert rutland.south.manager not in people
    assert "the allocated social worker: no social worker is allocated" in recipients.unfilled


def test_the_line_up_to_a_role_copies_every_manager_to_it_and_no_further(rutland):
    stage = rutland.policy.stages.get(order=1)
    stage.copy_case_line_up_to = rutland.north.service.role

    recipients = step_recipients(
        stage=stage,
        authority=rutland.policy.authority,
        children=[rutland.child],
        raiser=rutland.chair,
        actor=rutland.chair,
        responder=rutland.north.head,
    )

    assert {c.person for c in recipients.copies} == {rutland.north.manager, rutland.north.service}


def test_earlier_recipients_include_those_copied_not_only_those_addressed(rutland):
    escalation = raise_at(rutland, 4, rutland.director, statement=STATEMENT)
    stage_5 = rutland.policy.stages.get(order=5)
    stage_5.copy_earlier_recipients = True
    stage_5.save()

    services.escalation_escalate(
        actor=rutland.qa,
        escalation=escalation,
        stage=stage_5,
        responder=rutland.lscb,
        now=NOW,
    )

    step = escalation.steps.get(sequence=2)
    copied = {n.recipient for n in step.notifications.filter(kind=Kind.STEP_COPIED)}
    assert {rutland.north.worker, rutland.north.manager, rutland.director} <= copied
    assert rutland.south.worker not in copied


def test_the_signature_changes_when_the_people_told_change(rutland, child_of):
    stage = rutland.policy.stages.get(order=4)
    common = {
        "stage": stage,
        "authority": rutland.policy.authority,
        "raiser": rutland.chair,
        "actor": rutland.chair,
        "responder": rutland.director,
    }
    alone = step_recipients(children=[rutland.child], **common)
    again = step_recipients(children=[rutland.child], **common)
    sibling = child_of("rutland", social_worker=rutland.south.worker)
    with_sibling = step_recipients(children=[rutland.child, sibling], **common)

    assert alone.signature == again.signature
    assert alone.signature != with_sibling.signature
