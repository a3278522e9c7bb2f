"""Who is told: copies, responses and closing notices go to the people on this case only.

Every scenario has more than one holder of each role, so a copy sent to a whole role
shows up as an uninvolved person told.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from escalations import services
from escalations.recipients import step_recipients
from notifications.models import Kind, Notification

NOW = datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/London"))
STATEMENT = {"issue": "No visits.", "actions": "Asked twice.", "wanted": "Weekly visits."}


@pytest.fixture
def rutland(ladders, staff_of, child_of):
    """Two teams' lines under one head of service, two chairs, two QA managers."""
    from tests.staff.factories import TeamFactory

    authority = ladders["rutland"].authority
    north, south = TeamFactory(authority=authority), TeamFactory(authority=authority)
    director = staff_of("rutland", "director-for-people")
    head = staff_of("rutland", "head-of-service", line_manager=director)
    service = staff_of("rutland", "service-manager", line_manager=head)
    manager = staff_of("rutland", "team-manager", line_manager=service, team=north)
    worker = staff_of("rutland", "social-worker", line_manager=manager, team=north)
    other_service = staff_of("rutland", "service-manager", line_manager=head)
    other_manager = staff_of("rutland", "team-manager", line_manager=other_service, team=south)
    other_worker = staff_of("rutland", "social-worker", line_manager=other_manager, team=south)
    people = {
        "director": director,
        "head": head,
        "service": service,
        "manager": manager,
        "worker": worker,
        "other_service": other_service,
        "other_manager": other_manager,
        "other_worker": other_worker,
        "chair": staff_of("rutland", "cp-chair"),
        "other_chair": staff_of("rutland", "cp-chair"),
        "qa": staff_of("rutland", "qa-manager", team=north),
        "other_qa": staff_of("rutland", "qa-manager", team=south),
        "lscb": staff_of("rutland", "lscb-independent-chair"),
        "child": child_of("rutland", social_worker=worker, team=north),
        "policy": ladders["rutland"],
    }
    return people


def told(*, kind=None) -> set:
    rows = Notification.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    return {n.recipient for n in rows.select_related("recipient")}


def raise_at(r, order: int, responder, **kwargs):
    return services.escalation_raise(
        actor=r["chair"],
        policy=r["policy"],
        children=[r["child"]],
        summary="Visits not done.",
        stage=r["policy"].stages.get(order=order),
        responder=responder,
        now=NOW,
        **kwargs,
    )


def test_stage_4_copies_the_childs_worker_and_line_and_the_childs_qa_manager(rutland):
    raise_at(rutland, 4, rutland["director"], statement=STATEMENT)

    # "All key personnel ... (worker, team manager, service manager and Head of Service)"
    assert told(kind=Kind.STEP_COPIED) == {
        rutland["worker"],
        rutland["manager"],
        rutland["service"],
        rutland["head"],
        rutland["qa"],
    }


def test_nobody_outside_the_case_is_told_of_a_stage_4_alert(rutland):
    raise_at(rutland, 4, rutland["director"], statement=STATEMENT)

    uninvolved = {"other_service", "other_manager", "other_worker", "other_chair", "other_qa"}
    assert not told() & {rutland[name] for name in uninvolved}


def test_stage_5_copies_the_director_and_the_chair_but_not_another_chair(rutland):
    escalation = raise_at(rutland, 4, rutland["director"], statement=STATEMENT)
    Notification.objects.all().delete()

    services.escalation_escalate(
        actor=rutland["qa"],
        escalation=escalation,
        stage=rutland["policy"].stages.get(order=5),
        responder=rutland["lscb"],
        now=NOW,
    )

    assert told(kind=Kind.STEP_RAISED) == {rutland["lscb"]}
    assert told(kind=Kind.STEP_COPIED) == {rutland["director"], rutland["chair"]}
    assert rutland["other_chair"] not in told()


def test_a_response_at_stage_4_goes_to_the_chair_and_the_qa_manager_for_the_case(rutland):
    escalation = raise_at(rutland, 4, rutland["director"], statement=STATEMENT)
    step = escalation.steps.get()

    services.step_respond(
        actor=rutland["director"],
        step=step,
        response="Meeting held.",
        meeting_date=NOW.date(),
        now=NOW,
    )

    # "submit a response to the QA Manager"
    assert told(kind=Kind.RESPONSE_RECEIVED) == {rutland["chair"], rutland["qa"]}


def test_a_response_at_the_threshold_discussion_goes_to_the_chair_alone(rutland):
    step = raise_at(rutland, 0, rutland["service"]).steps.get()

    services.step_respond(actor=rutland["service"], step=step, response="Agreed.", now=NOW)

    assert told(kind=Kind.RESPONSE_RECEIVED) == {rutland["chair"]}


def test_a_policy_role_nobody_holds_still_raises_and_is_recorded_on_the_step(rutland):
    rutland["head"].is_active = False
    rutland["head"].save()

    step = raise_at(rutland, 4, rutland["director"], statement=STATEMENT).steps.get()

    assert "Head of Service in the children's management line: nobody holds it" in (
        step.copies_unfilled
    )
    assert rutland["head"] not in told()
    assert rutland["manager"] in told(kind=Kind.STEP_COPIED)


@pytest.mark.parametrize("ending", ["resolve", "withdraw"])
def test_everyone_who_took_part_hears_the_end_and_nobody_else(rutland, ending):
    escalation = raise_at(rutland, 4, rutland["director"], statement=STATEMENT)
    services.escalation_escalate(
        actor=rutland["qa"],
        escalation=escalation,
        stage=rutland["policy"].stages.get(order=5),
        responder=rutland["lscb"],
        now=NOW,
    )
    if ending == "resolve":
        services.escalation_resolve(
            actor=rutland["chair"], escalation=escalation, outcome="Visits weekly.", now=NOW
        )
    else:
        services.escalation_withdraw(
            actor=rutland["chair"], escalation=escalation, reason="Child moved.", now=NOW
        )

    assert told(kind=Kind.ESCALATION_CLOSED) == {
        rutland["director"],  # addressed at Stage 4, copied at Stage 5
        rutland["lscb"],
        rutland["worker"],
        rutland["manager"],
        rutland["service"],
        rutland["head"],
        rutland["qa"],  # copied at Stage 4 and raised Stage 5
    }


def test_a_final_decision_is_told_to_everyone_who_took_part(ladders, staff_of, child_of):
    policy = ladders["gloucestershire"]
    chief = staff_of("gloucestershire", "chief-executive")
    chair = staff_of("gloucestershire", "cp-chair")
    escalation = services.escalation_raise(
        actor=chair,
        policy=policy,
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
    sibling = child_of("rutland", social_worker=rutland["other_worker"])
    stage = rutland["policy"].stages.get(order=4)

    recipients = step_recipients(
        stage=stage,
        authority=rutland["policy"].authority,
        children=[rutland["child"], sibling],
        raiser=rutland["chair"],
        actor=rutland["chair"],
        responder=rutland["director"],
    )

    people = {c.person for c in recipients.copies}
    assert {rutland["worker"], rutland["other_worker"]} <= people
    assert {rutland["manager"], rutland["other_manager"]} <= people
    assert {rutland["service"], rutland["other_service"]} <= people


def test_a_child_with_no_social_worker_copies_their_teams_manager(rutland, child_of):
    unallocated = child_of("rutland", social_worker=None, team=rutland["manager"].team)
    stage = rutland["policy"].stages.get(order=4)

    recipients = step_recipients(
        stage=stage,
        authority=rutland["policy"].authority,
        children=[unallocated],
        raiser=rutland["chair"],
        actor=rutland["chair"],
        responder=rutland["director"],
    )

    people = {c.person for c in recipients.copies}
    assert {rutland["manager"], rutland["service"], rutland["head"]} <= people
    assert rutland["other_manager"] not in people
    assert "the allocated social worker: no social worker is allocated" in recipients.unfilled


def test_the_line_up_to_a_role_copies_every_manager_to_it_and_no_further(rutland):
    stage = rutland["policy"].stages.get(order=1)
    stage.copy_case_line_up_to = rutland["service"].role

    recipients = step_recipients(
        stage=stage,
        authority=rutland["policy"].authority,
        children=[rutland["child"]],
        raiser=rutland["chair"],
        actor=rutland["chair"],
        responder=rutland["head"],
    )

    assert {c.person for c in recipients.copies} == {rutland["manager"], rutland["service"]}


def test_earlier_recipients_include_those_copied_not_only_those_addressed(rutland):
    escalation = raise_at(rutland, 4, rutland["director"], statement=STATEMENT)
    stage_5 = rutland["policy"].stages.get(order=5)
    stage_5.copy_earlier_recipients = True
    stage_5.save()

    services.escalation_escalate(
        actor=rutland["qa"], escalation=escalation, stage=stage_5, responder=rutland["lscb"], now=NOW
    )

    step = escalation.steps.get(sequence=2)
    copied = {n.recipient for n in step.notifications.filter(kind=Kind.STEP_COPIED)}
    assert {rutland["worker"], rutland["manager"], rutland["director"]} <= copied
    assert rutland["other_worker"] not in copied


def test_the_signature_changes_when_the_people_told_change(rutland, child_of):
    stage = rutland["policy"].stages.get(order=4)
    common = {
        "stage": stage,
        "authority": rutland["policy"].authority,
        "raiser": rutland["chair"],
        "actor": rutland["chair"],
        "responder": rutland["director"],
    }
    alone = step_recipients(children=[rutland["child"]], **common)
    again = step_recipients(children=[rutland["child"]], **common)
    sibling = child_of("rutland", social_worker=rutland["other_worker"])
    with_sibling = step_recipients(children=[rutland["child"], sibling], **common)

    assert alone.signature == again.signature
    assert alone.signature != with_sibling.signature
