"""The escalation services (escalations/services.py) on the shipped ladders.

Every test acts through the public services only and passes `now=` explicitly, so each
due date can be checked by hand. The calendar used throughout (England and Wales have no
bank holiday between 2 November and 24 December 2026):

    November 2026            December 2026
    Mo Tu We Th Fr Sa Su     Mo Tu We Th Fr Sa Su
                       1         1  2  3  4  5  6
     2  3  4  5  6  7  8      7  8  9 10 11 12 13
     9 10 11 12 13 14 15
    16 17 18 19 20 21 22
    23 24 25 26 27 28 29
    30

The day a step is received does not count: Monday + 4 working days is Friday.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest

from escalations.models import Escalation, State, Step, Verdict
from escalations.services import (
    ActionRefused,
    AlreadyRaised,
    escalation_escalate,
    escalation_record_final_decision,
    escalation_resolve,
    escalation_withdraw,
    step_respond,
)
from policies.models import Stage
from tests.fixtures import MONDAY, at

GLOUCESTERSHIRE = "gloucestershire"
RUTLAND = "rutland"
MOSAIC = "mosaic-authority"
STOKE = "stoke-on-trent"
STOKE_ABOUT_CRM = "stoke-on-trent-about-crm"
CWM_TAF = "cwm-taf"

STATEMENT = {
    "issue": "Core group meetings have not been held for ten weeks.",
    "actions": "Raised with the Team Manager, Service Manager and Head of Service.",
    "wanted": "A core group meeting within five working days.",
}


# --- helpers ---------------------------------------------------------------------------


def stage_of(policy, order: int) -> Stage:
    return Stage.objects.select_related("role").get(policy=policy, order=order)


def reload(escalation: Escalation) -> Escalation:
    """A fresh copy from the database (the services work on their own locked copy)."""
    return Escalation.objects.select_related("current_stage").get(pk=escalation.pk)


def steps_of(escalation: Escalation) -> list[Step]:
    return list(Step.objects.filter(escalation=escalation).order_by("sequence"))


def open_step(escalation: Escalation) -> Step:
    return Step.objects.get(escalation=escalation, closed_at__isnull=True)


@pytest.fixture
def escalate_to(staff_of):
    """escalate_to(escalation, 2, now=...) -> the new Step, moved by whoever raised it."""

    def make(
        escalation: Escalation,
        stage_order: int | None = None,
        *,
        now: datetime,
        actor=None,
        responder=None,
        **kwargs,
    ) -> Step:
        escalation = reload(escalation)
        if stage_order is None:
            stage = None
            role = (
                escalation.policy.stages.filter(order__gt=escalation.current_stage.order)
                .first()
                .role
            )
        else:
            stage = stage_of(escalation.policy, stage_order)
            role = stage.role
        return escalation_escalate(
            actor=actor or escalation.raised_by,
            escalation=escalation,
            responder=responder or staff_of(escalation.authority.slug, role.slug),
            stage=stage,
            now=now,
            **kwargs,
        )

    return make


def respond(escalation: Escalation, *, now: datetime, **kwargs) -> Step:
    step = open_step(escalation)
    return step_respond(
        actor=step.responder, step=step, response="We have booked the visits.", now=now, **kwargs
    )


# --- raising ----------------------------------------------------------------------------


def test_chair_raises_informal_escalation_with_informal_step_due_in_two_working_days(
    raise_concern,
):
    escalation = raise_concern(GLOUCESTERSHIRE)

    escalation = reload(escalation)
    assert escalation.state == State.INFORMAL
    assert escalation.current_stage.order == 0
    assert escalation.formal_started_at is None
    assert escalation.formal_cap_due_on is None
    [step] = steps_of(escalation)
    assert (step.sequence, step.stage_order, step.stage_name) == (
        1,
        0,
        "Informal dispute resolution",
    )
    assert step.is_open
    assert step.received_on == date(2026, 11, 2)
    # Mon 2 Nov + 2 working days (Tue 3, Wed 4) = Wed 4 Nov.
    assert step.due_on == date(2026, 11, 4)
    assert step.cap_due_on is None
    assert step.skipped_stage_names == ""


def test_chair_raises_informal_escalation_with_informal_step_due_in_five_working_days(
    raise_concern,
):
    escalation = raise_concern(MOSAIC)

    [step] = steps_of(escalation)
    assert reload(escalation).state == State.INFORMAL
    assert (step.stage_order, step.response_days, step.day_type) == (0, 5, "working")
    # Mon 2 Nov + 5 working days (Tue 3 … Mon 9) = Mon 9 Nov.
    assert step.due_on == date(2026, 11, 9)


def test_each_step_carries_its_escalations_authority(raise_concern, escalate_to):
    escalation = raise_concern(GLOUCESTERSHIRE)
    respond(escalation, now=at(2026, 11, 3, 10))
    escalate_to(escalation, now=at(2026, 11, 3, 11))

    steps = steps_of(reload(escalation))
    assert len(steps) == 2
    assert {step.authority_id for step in steps} == {escalation.authority_id}


def test_escalation_raised_on_a_saturday_is_deemed_received_on_monday(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE, now=at(2026, 11, 7))  # Saturday 7 Nov

    [step] = steps_of(escalation)
    assert step.received_on == date(2026, 11, 9)
    # Deemed received Mon 9 Nov; + 2 working days (Tue 10, Wed 11) = Wed 11 Nov.
    assert step.due_on == date(2026, 11, 11)


def test_informal_stage_without_a_timescale_has_no_due_date(raise_concern):
    escalation = raise_concern(RUTLAND)

    [step] = steps_of(escalation)
    assert step.due_on is None
    assert step.effective_due_on is None
    assert step.binding_clock == ""


def test_chair_raises_straight_to_a_later_gloucestershire_stage_without_a_reason(
    raise_concern,
):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=3)

    escalation = reload(escalation)
    assert escalation.state == State.AWAITING_RESPONSE
    assert escalation.current_stage.name == "Stage 3: Head of Service"
    [step] = steps_of(escalation)
    assert step.skipped_stage_names == (
        "Informal dispute resolution, Stage 1: Team Manager (Dispute Resolution Form), "
        "Stage 2: Resolution Meeting with Team Manager & Social Worker"
    )
    assert step.skip_reason == ""
    # Mon 2 Nov + 4 working days = Fri 6 Nov.
    assert step.due_on == date(2026, 11, 6)


def test_first_formal_step_starts_the_twenty_working_day_cap(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=1)

    escalation = reload(escalation)
    assert escalation.formal_started_at == MONDAY
    # Mon 2 Nov + 20 working days = four whole weeks = Mon 30 Nov.
    assert escalation.formal_cap_due_on == date(2026, 11, 30)
    [step] = steps_of(escalation)
    assert step.cap_due_on == date(2026, 11, 30)
    # Mon 2 Nov + 4 working days = Fri 6 Nov: the stage's own deadline bites first.
    assert step.due_on == date(2026, 11, 6)
    assert step.effective_due_on == date(2026, 11, 6)
    assert step.binding_clock == "stage"


def test_chair_raises_straight_to_rutland_stage_3_by_direct_entry(raise_concern):
    escalation = raise_concern(RUTLAND, stage_order=3)

    escalation = reload(escalation)
    assert escalation.state == State.AWAITING_RESPONSE
    assert escalation.current_stage.name == "Stage 3: Head of Service"
    [step] = steps_of(escalation)
    assert step.skipped_stage_names == (
        "Threshold discussion with the Service Manager / Head of Service, "
        "Stage 1: Team Manager, Stage 2: Service Manager"
    )
    # Mon 2 Nov + 5 working days = Mon 9 Nov; Rutland has no formal cap.
    assert (step.due_on, step.cap_due_on) == (date(2026, 11, 9), None)
    assert escalation.formal_cap_due_on is None


def test_chair_may_not_raise_straight_to_rutland_stage_2(raise_concern):
    with pytest.raises(ActionRefused) as refused:
        raise_concern(RUTLAND, stage_order=2)

    assert refused.value.field == "stage"
    assert refused.value.message == (
        "This policy does not allow going straight to Stage 2: Service Manager (it would skip "
        "Threshold discussion with the Service Manager / Head of Service, Stage 1: Team Manager)."
    )
    assert Escalation.objects.count() == 0
    assert Step.objects.count() == 0


def test_rutland_stage_4_is_due_in_ten_calendar_days_with_the_written_statement(
    raise_concern,
):
    escalation = raise_concern(RUTLAND, stage_order=4, statement=STATEMENT)

    [step] = steps_of(escalation)
    assert (step.response_days, step.day_type, step.mode) == (10, "calendar", "meeting")
    # Mon 2 Nov + 10 calendar days = Thu 12 Nov.
    assert step.due_on == date(2026, 11, 12)
    assert (step.statement_issue, step.statement_actions, step.statement_wanted) == (
        STATEMENT["issue"],
        STATEMENT["actions"],
        STATEMENT["wanted"],
    )


def test_calendar_day_deadline_may_fall_on_a_weekend(raise_concern):
    escalation = raise_concern(RUTLAND, stage_order=4, statement=STATEMENT, now=at(2026, 11, 4))

    [step] = steps_of(escalation)
    # Wed 4 Nov + 10 calendar days = Sat 14 Nov: not moved to a working day.
    assert step.due_on == date(2026, 11, 14)


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ("issue", "statement_issue"),
        ("actions", "statement_actions"),
        ("wanted", "statement_wanted"),
    ],
)
def test_rutland_stage_4_refuses_a_statement_missing_a_part(raise_concern, missing, field):
    statement = {**STATEMENT, missing: "   "}

    with pytest.raises(ActionRefused) as refused:
        raise_concern(RUTLAND, stage_order=4, statement=statement)

    assert refused.value.field == field
    assert refused.value.message.startswith("The written statement must say ")
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_rutland_stage_4_refuses_no_statement_at_all(raise_concern):
    with pytest.raises(ActionRefused) as refused:
        raise_concern(RUTLAND, stage_order=4)

    assert refused.value.field == "statement_issue"
    assert refused.value.message == "The written statement must say the issue."
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_chair_raises_straight_to_mosaic_stage_1_with_a_reason(raise_concern):
    escalation = raise_concern(MOSAIC, stage_order=1, reason="  The child was hurt again.  ")

    escalation = reload(escalation)
    assert escalation.state == State.AWAITING_RESPONSE
    assert escalation.current_stage.name == "Stage 1: Team Manager"
    [step] = steps_of(escalation)
    assert step.skipped_stage_names == "Informal resolution with the Line Manager"
    assert step.skip_reason == "The child was hurt again."
    # Mon 2 Nov + 5 working days = Mon 9 Nov; Mosaic has no formal cap.
    assert (step.due_on, step.cap_due_on) == (date(2026, 11, 9), None)


def test_mosaic_refuses_skipping_the_informal_stage_without_a_reason(raise_concern):
    with pytest.raises(ActionRefused) as refused:
        raise_concern(MOSAIC, stage_order=1, reason="  ")

    assert refused.value.field == "reason"
    assert refused.value.message == "The policy asks you to record why stages are being skipped."
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_stoke_refuses_raising_straight_to_stage_2_without_a_reason(raise_concern):
    with pytest.raises(ActionRefused) as refused:
        raise_concern(STOKE, stage_order=2)

    assert refused.value.field == "reason"
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


# --- who may raise, about whom, to whom ------------------------------------------------------


def test_chair_of_another_authority_cannot_raise_under_this_policy(raise_concern, staff_of):
    with pytest.raises(ActionRefused) as refused:
        raise_concern(RUTLAND, actor=staff_of(GLOUCESTERSHIRE, "cp-chair"))

    assert refused.value.message == (
        "You can only raise escalations under your own authority's policy."
    )
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_social_worker_cannot_raise_under_a_chair_policy(raise_concern, staff_of):
    social_worker = staff_of(STOKE, "social-worker")

    with pytest.raises(ActionRefused) as refused:
        raise_concern(STOKE, actor=social_worker)

    assert refused.value.message == (
        f"Under this policy a {social_worker.role.name} cannot raise a concern."
    )
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_raising_refuses_a_child_of_another_authority(raise_concern, child_of):
    with pytest.raises(ActionRefused) as refused:
        raise_concern(RUTLAND, children=[child_of(GLOUCESTERSHIRE)])

    assert refused.value.field == "children"
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_raising_refuses_a_responder_of_another_authority(raise_concern, staff_of):
    with pytest.raises(ActionRefused) as refused:
        raise_concern(RUTLAND, responder=staff_of(GLOUCESTERSHIRE, "service-manager"))

    assert refused.value.field == "responder"
    assert refused.value.message == "Choose a responder from this authority's staff."
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_raising_refuses_a_responder_with_the_wrong_role(raise_concern, staff_of):
    team_manager = staff_of(RUTLAND, "team-manager")

    with pytest.raises(ActionRefused) as refused:
        raise_concern(RUTLAND, responder=team_manager)

    assert refused.value.field == "responder"
    assert refused.value.message == (
        "Threshold discussion with the Service Manager / Head of Service is addressed to a "
        f"Service Manager or Head of Service; {team_manager.display_name} is a Team Manager."
    )
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_multi_agency_informal_stage_accepts_the_attendees_manager(raise_concern, staff_of):
    # Cwm Taf: "the conference attendee or their manager from the agency concerned". In the
    # council that is the social worker or their team manager (other agencies answer as
    # partners, without a council account).
    team_manager = staff_of(CWM_TAF, "team-manager")

    escalation = raise_concern(CWM_TAF, responder=team_manager)

    [step] = steps_of(escalation)
    assert step.responder == team_manager
    # Mon 2 Nov + 14 calendar days ("within 2 weeks") = Mon 16 Nov.
    assert step.due_on == date(2026, 11, 16)


def test_multi_agency_informal_stage_refuses_a_council_role_that_does_not_attend(
    raise_concern, staff_of
):
    # Partner responders no longer switch the role check off: a council Director is not
    # "the conference attendee or their manager".
    director = staff_of(CWM_TAF, "director-childrens-services")

    with pytest.raises(ActionRefused) as refused:
        raise_concern(CWM_TAF, responder=director)

    assert refused.value.field == "responder"
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_raising_refuses_an_empty_summary(raise_concern):
    with pytest.raises(ActionRefused) as refused:
        raise_concern(GLOUCESTERSHIRE, summary="  \n ")

    assert refused.value.field == "summary"
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_social_worker_raises_a_concern_about_a_chair_under_the_reverse_procedure(
    raise_concern, staff_of, child_of
):
    social_worker = staff_of(STOKE, "social-worker")
    chair = staff_of(STOKE, "cp-chair")

    escalation = raise_concern(
        STOKE_ABOUT_CRM,
        actor=social_worker,
        about_staff=chair,
        responder=chair,
        children=[child_of(STOKE, social_worker=social_worker)],
    )

    escalation = reload(escalation)
    assert escalation.state == State.INFORMAL
    assert (escalation.raised_by, escalation.about_staff) == (social_worker, chair)
    [step] = steps_of(escalation)
    assert step.stage_name == "Resolve directly with the Conference and Review Manager"
    assert step.responder == chair
    assert step.due_on is None  # §9 sets no timescale


def test_reverse_procedure_refuses_a_concern_that_names_no_chair(raise_concern, staff_of, child_of):
    social_worker = staff_of(STOKE, "social-worker")
    with pytest.raises(ActionRefused) as refused:
        raise_concern(
            STOKE_ABOUT_CRM,
            actor=social_worker,
            children=[child_of(STOKE, social_worker=social_worker)],
        )

    assert refused.value.field == "about_staff"
    assert refused.value.message == "Choose the conference chair the concern is about."
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_chair_policy_refuses_naming_a_member_of_staff(raise_concern, staff_of):
    with pytest.raises(ActionRefused) as refused:
        raise_concern(STOKE, about_staff=staff_of(STOKE, "social-worker"))

    assert refused.value.field == "about_staff"
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


# --- immediate safety ------------------------------------------------------------------------


def test_cwm_taf_immediate_safety_goes_straight_to_the_cp_coordinator(
    raise_concern, ladders, staff_of
):
    coordinator = staff_of(CWM_TAF, "cp-coordinator")

    escalation = raise_concern(CWM_TAF, immediate_safety=True, responder=coordinator)

    escalation = reload(escalation)
    assert ladders[CWM_TAF].immediate_safety_role.slug == "cp-coordinator"
    assert escalation.immediate_safety is True
    assert escalation.state == State.AWAITING_RESPONSE
    assert escalation.current_stage.name == (
        "Discussion with Child Protection Coordinator/Safeguarding Manager"
    )
    assert escalation.formal_started_at == MONDAY
    [step] = steps_of(escalation)
    assert step.responder == coordinator
    assert step.skipped_stage_names == "Informal discussion"
    assert step.skip_reason == "Concern about the immediate safety of a child."
    # The stage itself sets no timescale, but the route does: "immediately", the same
    # working day (Policy.immediate_safety_response_days = 0).
    assert (step.response_days, step.due_on) == (0, MONDAY.date())


def test_cwm_taf_refuses_going_straight_to_the_cp_coordinator_without_immediate_safety(
    raise_concern,
):
    with pytest.raises(ActionRefused) as refused:
        raise_concern(CWM_TAF, stage_order=1)

    assert refused.value.field == "stage"
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_immediate_safety_does_not_lift_the_bypass_rule_where_the_policy_has_no_such_route(
    raise_concern,
):
    # Rutland has no immediate-safety route and lets only stages 3 and 4 be entered early.
    with pytest.raises(ActionRefused) as refused:
        raise_concern(RUTLAND, stage_order=2, immediate_safety=True)

    assert refused.value.field == "stage"
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


def test_immediate_safety_does_not_lift_the_bypass_rule_for_a_stage_off_the_route(
    raise_concern,
):
    # Cwm Taf's route is to the CP Coordinator; the QASG stage may not be entered early.
    with pytest.raises(ActionRefused) as refused:
        raise_concern(CWM_TAF, stage_order=3, immediate_safety=True, statement=STATEMENT)

    assert refused.value.field == "stage"
    assert (Escalation.objects.count(), Step.objects.count()) == (0, 0)


# --- responding ------------------------------------------------------------------------------


def test_responder_responds_and_the_escalation_has_a_response(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE)
    step = open_step(escalation)

    step = step_respond(
        actor=step.responder,
        step=step,
        response="  Visits booked for Thursday.  ",
        now=at(2026, 11, 3),
    )

    assert reload(escalation).state == State.RESPONSE_RECEIVED
    step = Step.objects.get(pk=step.pk)
    assert step.response == "Visits booked for Thursday."
    assert step.responded_at == at(2026, 11, 3)
    assert step.responded_by == step.responder
    assert step.is_open  # the chair has not yet said whether it is satisfactory
    assert step.verdict == ""


def test_responder_cannot_respond_twice(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE)
    step = respond(escalation, now=at(2026, 11, 3))

    with pytest.raises(ActionRefused) as refused:
        step_respond(
            actor=step.responder, step=step, response="Second thoughts.", now=at(2026, 11, 4)
        )

    assert refused.value.message == "A response to this step has already been recorded."
    step = Step.objects.get(pk=step.pk)
    assert (step.response, step.responded_at) == ("We have booked the visits.", at(2026, 11, 3))
    assert reload(escalation).state == State.RESPONSE_RECEIVED


def test_only_the_responder_may_respond(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE)
    step = open_step(escalation)

    with pytest.raises(ActionRefused) as refused:
        step_respond(actor=escalation.raised_by, step=step, response="Done.", now=at(2026, 11, 3))

    assert refused.value.message == "This step is addressed to someone else."
    step = Step.objects.get(pk=step.pk)
    assert (step.response, step.responded_at) == ("", None)
    assert reload(escalation).state == State.INFORMAL


def test_responding_refuses_an_empty_response(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE)
    step = open_step(escalation)

    with pytest.raises(ActionRefused) as refused:
        step_respond(actor=step.responder, step=step, response="   ", now=at(2026, 11, 3))

    assert refused.value.field == "response"
    assert Step.objects.get(pk=step.pk).responded_at is None
    assert reload(escalation).state == State.INFORMAL


def test_meeting_stage_response_needs_the_meeting_date(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=2)
    step = open_step(escalation)

    with pytest.raises(ActionRefused) as refused:
        step_respond(actor=step.responder, step=step, response="We met.", now=at(2026, 11, 4))

    assert refused.value.field == "meeting_date"
    assert Step.objects.get(pk=step.pk).responded_at is None
    assert reload(escalation).state == State.AWAITING_RESPONSE


# --- escalating ------------------------------------------------------------------------------


def test_escalating_after_a_response_closes_the_step_as_unsatisfactory_and_starts_the_cap(
    raise_concern, escalate_to
):
    escalation = raise_concern(GLOUCESTERSHIRE)
    respond(escalation, now=at(2026, 11, 3))

    new_step = escalate_to(escalation, now=at(2026, 11, 4))

    escalation = reload(escalation)
    assert escalation.state == State.AWAITING_RESPONSE
    assert escalation.current_stage.order == 1
    informal, stage_1 = steps_of(escalation)
    assert (informal.verdict, informal.verdict_at, informal.closed_at) == (
        Verdict.UNSATISFACTORY,
        at(2026, 11, 4),
        at(2026, 11, 4),
    )
    assert stage_1 == new_step
    assert (stage_1.sequence, stage_1.stage_order, stage_1.raised_at) == (2, 1, at(2026, 11, 4))
    assert stage_1.is_open
    # Wed 4 Nov + 4 working days (Thu 5, Fri 6, Mon 9, Tue 10) = Tue 10 Nov.
    assert stage_1.due_on == date(2026, 11, 10)
    # The formal process starts on Wed 4 Nov: + 20 working days = Wed 2 Dec.
    assert escalation.formal_started_at == at(2026, 11, 4)
    assert escalation.formal_cap_due_on == date(2026, 12, 2)
    assert stage_1.cap_due_on == date(2026, 12, 2)


def test_escalating_without_a_response_closes_the_step_as_no_response(raise_concern, escalate_to):
    escalation = raise_concern(GLOUCESTERSHIRE)

    escalate_to(escalation, now=at(2026, 11, 5))

    informal, _ = steps_of(escalation)
    assert (informal.verdict, informal.closed_at) == (Verdict.NO_RESPONSE, at(2026, 11, 5))


def test_later_formal_steps_keep_the_cap_set_when_the_formal_process_started(
    raise_concern, escalate_to
):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=1)

    stage_2 = escalate_to(escalation, now=at(2026, 11, 9))

    escalation = reload(escalation)
    assert escalation.formal_started_at == MONDAY
    # Started Mon 2 Nov: cap Mon 30 Nov (not Mon 7 Dec, 20 working days from Mon 9 Nov).
    assert escalation.formal_cap_due_on == date(2026, 11, 30)
    assert stage_2.cap_due_on == date(2026, 11, 30)
    # Mon 9 Nov + 4 working days = Fri 13 Nov.
    assert stage_2.due_on == date(2026, 11, 13)


def test_stage_deadline_after_the_cap_is_bound_by_the_cap(raise_concern, escalate_to):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=1)  # cap Mon 30 Nov

    stage_2 = escalate_to(escalation, now=at(2026, 11, 25))

    # Wed 25 Nov + 4 working days (Thu 26, Fri 27, Mon 30, Tue 1 Dec) = Tue 1 Dec.
    assert stage_2.due_on == date(2026, 12, 1)
    assert stage_2.cap_due_on == date(2026, 11, 30)
    assert stage_2.effective_due_on == date(2026, 11, 30)
    assert stage_2.binding_clock == "cap"


def test_stoke_stage_1_has_no_timescale_so_the_cap_is_its_deadline(raise_concern, escalate_to):
    escalation = raise_concern(STOKE)  # informal, Mon 2 Nov

    stage_1 = escalate_to(escalation, now=at(2026, 11, 10))

    assert stage_1.stage_name == "Stage 1: Service Manager"
    assert stage_1.due_on is None
    # The formal process starts Tue 10 Nov: + 20 working days = Tue 8 Dec.
    assert stage_1.cap_due_on == date(2026, 12, 8)
    assert stage_1.effective_due_on == date(2026, 12, 8)
    assert stage_1.binding_clock == "cap"


def test_chair_skips_to_a_later_stage_recording_the_reason(raise_concern, escalate_to):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=1)

    stage_4 = escalate_to(escalation, 4, now=at(2026, 11, 3), reason="  The child was injured.  ")

    assert reload(escalation).current_stage.name == "Stage 4: Assistant Director"
    assert stage_4.skipped_stage_names == (
        "Stage 2: Resolution Meeting with Team Manager & Social Worker, Stage 3: Head of Service"
    )
    assert stage_4.skip_reason == "The child was injured."
    # Tue 3 Nov + 4 working days = Mon 9 Nov.
    assert stage_4.due_on == date(2026, 11, 9)


def test_moving_to_the_next_stage_records_no_skip(raise_concern, escalate_to):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=1)

    stage_2 = escalate_to(escalation, 2, now=at(2026, 11, 3), reason="Not needed.")

    assert (stage_2.skipped_stage_names, stage_2.skip_reason) == ("", "")


def test_stoke_refuses_skipping_a_stage_without_a_reason(raise_concern, escalate_to):
    escalation = raise_concern(STOKE)

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, 2, now=at(2026, 11, 3))

    assert refused.value.field == "reason"
    assert refused.value.message == "The policy asks you to record why stages are being skipped."
    assert len(steps_of(escalation)) == 1
    assert open_step(escalation).verdict == ""
    assert reload(escalation).current_stage.order == 0


def test_rutland_refuses_escalating_from_informal_straight_to_stage_2(raise_concern, escalate_to):
    escalation = raise_concern(RUTLAND)

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, 2, now=at(2026, 11, 3), reason="Urgent.")

    assert refused.value.field == "stage"
    assert len(steps_of(escalation)) == 1
    assert reload(escalation).state == State.INFORMAL


def test_escalating_refuses_a_responder_with_the_wrong_role_and_leaves_the_step_open(
    raise_concern, escalate_to, staff_of
):
    escalation = raise_concern(GLOUCESTERSHIRE)

    with pytest.raises(ActionRefused) as refused:
        escalate_to(
            escalation, 1, now=at(2026, 11, 5), responder=staff_of(GLOUCESTERSHIRE, "social-worker")
        )

    assert refused.value.field == "responder"
    [informal] = steps_of(escalation)
    assert (informal.closed_at, informal.verdict) == (None, "")
    escalation = reload(escalation)
    assert (escalation.state, escalation.current_stage.order) == (State.INFORMAL, 0)
    assert escalation.formal_started_at is None


def test_escalating_refuses_a_responder_of_another_authority(raise_concern, escalate_to, staff_of):
    escalation = raise_concern(GLOUCESTERSHIRE)

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, 1, now=at(2026, 11, 5), responder=staff_of(RUTLAND, "team-manager"))

    assert refused.value.field == "responder"
    assert len(steps_of(escalation)) == 1
    assert open_step(escalation).verdict == ""


def test_escalating_refuses_going_back_to_an_earlier_stage(raise_concern, escalate_to):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=3)

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, 2, now=at(2026, 11, 3))

    assert refused.value.field == "stage"
    assert refused.value.message == "Choose a later stage than the current one."
    assert len(steps_of(escalation)) == 1
    assert reload(escalation).current_stage.order == 3


def test_escalating_refuses_staying_at_the_same_stage(raise_concern, escalate_to):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=3)

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, 3, now=at(2026, 11, 3))

    assert refused.value.message == "Choose a later stage than the current one."
    assert len(steps_of(escalation)) == 1


def test_escalating_refuses_going_back_to_the_informal_stage(raise_concern, escalate_to):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=1)

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, 0, now=at(2026, 11, 3))

    assert refused.value.message == "An escalation cannot go back to the informal stage."
    assert len(steps_of(escalation)) == 1


def test_escalating_past_the_last_stage_is_refused(raise_concern):
    escalation = raise_concern(STOKE, stage_order=4, reason="Serious and urgent.")

    with pytest.raises(ActionRefused) as refused:
        escalation_escalate(
            actor=escalation.raised_by,
            escalation=escalation,
            responder=open_step(escalation).responder,
            now=at(2026, 11, 3),
        )

    assert refused.value.message == "This is the last stage of the policy: there is no next stage."
    assert len(steps_of(escalation)) == 1
    assert open_step(escalation).verdict == ""


def test_only_the_raiser_or_a_qa_manager_may_escalate(raise_concern, escalate_to, staff_of):
    escalation = raise_concern(GLOUCESTERSHIRE)

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, 1, now=at(2026, 11, 5), actor=staff_of(GLOUCESTERSHIRE, "cp-chair"))

    assert refused.value.message == (
        "Only the person who raised this escalation can move it to that stage."
    )
    assert len(steps_of(escalation)) == 1


def test_qa_manager_of_the_authority_may_escalate_for_the_chair(
    raise_concern, escalate_to, staff_of
):
    escalation = raise_concern(GLOUCESTERSHIRE)
    qa_manager = staff_of(GLOUCESTERSHIRE, "qa-manager")

    stage_1 = escalate_to(escalation, 1, now=at(2026, 11, 5), actor=qa_manager)

    assert stage_1.raised_by == qa_manager
    assert reload(escalation).current_stage.order == 1


def test_chair_cannot_escalate_into_rutland_stage_5(raise_concern, escalate_to):
    escalation = raise_concern(RUTLAND, stage_order=4, statement=STATEMENT)

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, now=at(2026, 11, 13))

    assert refused.value.field == "stage"
    assert (
        refused.value.message == "Stage 5: Independent Chair of the LSCB is raised by a QA manager."
    )
    assert len(steps_of(escalation)) == 1
    assert reload(escalation).current_stage.order == 4


def test_qa_manager_escalates_into_rutland_stage_5(raise_concern, escalate_to, staff_of):
    escalation = raise_concern(RUTLAND, stage_order=4, statement=STATEMENT)
    respond(escalation, now=at(2026, 11, 12), meeting_date=date(2026, 11, 11))
    qa_manager = staff_of(RUTLAND, "qa-manager")

    stage_5 = escalate_to(escalation, now=at(2026, 11, 13), actor=qa_manager)

    escalation = reload(escalation)
    assert escalation.current_stage.name == "Stage 5: Independent Chair of the LSCB"
    assert stage_5.raised_by == qa_manager
    # Fri 13 Nov + 10 working days (Mon 16 … Fri 27) = Fri 27 Nov.
    assert stage_5.due_on == date(2026, 11, 27)
    stage_4, _ = steps_of(escalation)
    assert stage_4.verdict == Verdict.UNSATISFACTORY


def test_qa_manager_of_another_authority_cannot_escalate_into_rutland_stage_5(
    raise_concern, escalate_to, staff_of
):
    escalation = raise_concern(RUTLAND, stage_order=4, statement=STATEMENT)

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, now=at(2026, 11, 13), actor=staff_of(GLOUCESTERSHIRE, "qa-manager"))

    assert refused.value.field == "stage"
    assert (
        refused.value.message == "Stage 5: Independent Chair of the LSCB is raised by a QA manager."
    )
    assert len(steps_of(escalation)) == 1
    assert reload(escalation).current_stage.order == 4


def test_escalating_into_rutland_stage_4_needs_the_written_statement(raise_concern, escalate_to):
    escalation = raise_concern(RUTLAND, stage_order=3)

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, now=at(2026, 11, 9), statement={**STATEMENT, "wanted": ""})

    assert refused.value.field == "statement_wanted"
    assert len(steps_of(escalation)) == 1
    assert open_step(escalation).verdict == ""


def test_resolved_escalation_cannot_be_escalated(raise_concern, escalate_to):
    escalation = raise_concern(GLOUCESTERSHIRE)
    escalation_resolve(
        actor=escalation.raised_by, escalation=escalation, outcome="Sorted.", now=at(2026, 11, 3)
    )

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, 1, now=at(2026, 11, 4))

    assert refused.value.message == "This escalation is resolved: it can no longer change."
    assert len(steps_of(escalation)) == 1
    assert reload(escalation).state == State.RESOLVED


def test_withdrawn_escalation_cannot_be_escalated(raise_concern, escalate_to):
    escalation = raise_concern(GLOUCESTERSHIRE)
    escalation_withdraw(
        actor=escalation.raised_by,
        escalation=escalation,
        reason="Raised in error.",
        now=at(2026, 11, 3),
    )

    with pytest.raises(ActionRefused) as refused:
        escalate_to(escalation, 1, now=at(2026, 11, 4))

    assert refused.value.message == "This escalation is withdrawn: it can no longer change."
    assert len(steps_of(escalation)) == 1
    assert reload(escalation).state == State.WITHDRAWN


# --- resolving, final decisions, withdrawing -------------------------------------------------


def test_chair_resolves_the_escalation_and_the_open_step_is_satisfactory(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE)
    respond(escalation, now=at(2026, 11, 3))

    escalation_resolve(
        actor=escalation.raised_by,
        escalation=escalation,
        outcome="  The visits are back on track.  ",
        outcome_for_child="Seen weekly.",
        now=at(2026, 11, 4),
    )

    escalation = reload(escalation)
    assert escalation.state == State.RESOLVED
    assert escalation.outcome == "The visits are back on track."
    assert escalation.outcome_for_child == "Seen weekly."
    assert escalation.closed_at == at(2026, 11, 4)
    [step] = steps_of(escalation)
    assert (step.verdict, step.verdict_at, step.closed_at) == (
        Verdict.SATISFACTORY,
        at(2026, 11, 4),
        at(2026, 11, 4),
    )


def test_resolving_refuses_an_empty_outcome(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE)

    with pytest.raises(ActionRefused) as refused:
        escalation_resolve(actor=escalation.raised_by, escalation=escalation, outcome=" ")

    assert refused.value.field == "outcome"
    assert reload(escalation).state == State.INFORMAL
    assert open_step(escalation).verdict == ""


def test_only_the_raiser_or_a_qa_manager_may_resolve(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE)
    responder = open_step(escalation).responder

    with pytest.raises(ActionRefused) as refused:
        escalation_resolve(
            actor=responder, escalation=escalation, outcome="Fine.", now=at(2026, 11, 3)
        )

    assert refused.value.message == (
        "Only the person who raised this escalation (or a QA manager) can do that."
    )
    assert reload(escalation).state == State.INFORMAL
    assert open_step(escalation).verdict == ""


def test_resolved_escalation_cannot_be_resolved_again(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE)
    escalation_resolve(
        actor=escalation.raised_by, escalation=escalation, outcome="Sorted.", now=at(2026, 11, 3)
    )

    with pytest.raises(ActionRefused):
        escalation_resolve(
            actor=escalation.raised_by, escalation=escalation, outcome="Again.", now=at(2026, 11, 4)
        )

    escalation = reload(escalation)
    assert (escalation.outcome, escalation.closed_at) == ("Sorted.", at(2026, 11, 3))


def test_chair_records_the_chief_executives_final_decision_in_gloucestershire(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=6)
    respond(escalation, now=at(2026, 11, 5))

    escalation_record_final_decision(
        actor=escalation.raised_by,
        escalation=escalation,
        decision="  A new social worker is allocated today.  ",
        now=at(2026, 11, 6),
    )

    escalation = reload(escalation)
    assert escalation.current_stage.name == "Stage 6: Chief Executive"
    assert escalation.state == State.FINAL_DECISION
    assert escalation.outcome == "A new social worker is allocated today."
    assert escalation.closed_at == at(2026, 11, 6)
    [step] = steps_of(escalation)
    assert step.is_final
    assert (step.verdict, step.closed_at) == (Verdict.FINAL_DECISION, at(2026, 11, 6))


def test_final_decision_without_a_response_closes_the_step_with_the_decision(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=6)

    escalation_record_final_decision(
        actor=escalation.raised_by, escalation=escalation, decision="Decided.", now=at(2026, 11, 9)
    )

    assert reload(escalation).state == State.FINAL_DECISION
    [step] = steps_of(escalation)
    assert (step.verdict, step.closed_at) == (Verdict.FINAL_DECISION, at(2026, 11, 9))


def test_chair_climbs_the_mosaic_ladder_to_the_divisional_directors_final_decision(
    raise_concern, escalate_to
):
    escalation = raise_concern(MOSAIC, stage_order=1, reason="Urgent.")
    escalate_to(escalation, now=at(2026, 11, 9))
    escalate_to(escalation, now=at(2026, 11, 16))
    stage_4 = escalate_to(escalation, now=at(2026, 11, 23), statement=STATEMENT)
    # Mon 23 Nov + 8 working days (Tue 24 … Thu 3 Dec) = Thu 3 Dec.
    assert stage_4.due_on == date(2026, 12, 3)
    respond(escalation, now=at(2026, 12, 1))

    escalation_record_final_decision(
        actor=escalation.raised_by,
        escalation=escalation,
        decision="The plan stands.",
        now=at(2026, 12, 2),
    )

    escalation = reload(escalation)
    assert escalation.state == State.FINAL_DECISION
    assert escalation.current_stage.name == "Stage 4: Divisional Director of Children's Social Care"
    assert [s.stage_order for s in steps_of(escalation)] == [1, 2, 3, 4]
    assert [s.verdict for s in steps_of(escalation)] == [
        Verdict.NO_RESPONSE,
        Verdict.NO_RESPONSE,
        Verdict.NO_RESPONSE,
        Verdict.FINAL_DECISION,
    ]


def test_final_decision_is_refused_at_a_stage_that_is_not_final(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=5)
    respond(escalation, now=at(2026, 11, 4))

    with pytest.raises(ActionRefused) as refused:
        escalation_record_final_decision(
            actor=escalation.raised_by,
            escalation=escalation,
            decision="Decided.",
            now=at(2026, 11, 5),
        )

    assert refused.value.message == (
        "Only a stage whose decision is final can close with a final decision."
    )
    escalation = reload(escalation)
    assert (escalation.state, escalation.outcome, escalation.closed_at) == (
        State.RESPONSE_RECEIVED,
        "",
        None,
    )
    assert open_step(escalation).verdict == ""


def test_final_decision_refuses_an_empty_decision(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=6)

    with pytest.raises(ActionRefused) as refused:
        escalation_record_final_decision(
            actor=escalation.raised_by, escalation=escalation, decision="", now=at(2026, 11, 5)
        )

    assert refused.value.field == "decision"
    assert reload(escalation).state == State.AWAITING_RESPONSE


def test_chair_withdraws_the_escalation_with_a_reason(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=1)

    escalation_withdraw(
        actor=escalation.raised_by,
        escalation=escalation,
        reason="  The family has moved out of the area.  ",
        now=at(2026, 11, 3),
    )

    escalation = reload(escalation)
    assert escalation.state == State.WITHDRAWN
    assert escalation.outcome == "The family has moved out of the area."
    assert escalation.closed_at == at(2026, 11, 3)
    [step] = steps_of(escalation)
    assert (step.verdict, step.closed_at) == (Verdict.WITHDRAWN, at(2026, 11, 3))


def test_withdrawing_refuses_an_empty_reason(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE)

    with pytest.raises(ActionRefused) as refused:
        escalation_withdraw(actor=escalation.raised_by, escalation=escalation, reason=" ")

    assert refused.value.field == "reason"
    assert reload(escalation).state == State.INFORMAL


def test_resolved_escalation_cannot_be_withdrawn(raise_concern):
    escalation = raise_concern(GLOUCESTERSHIRE)
    escalation_resolve(
        actor=escalation.raised_by, escalation=escalation, outcome="Sorted.", now=at(2026, 11, 3)
    )

    with pytest.raises(ActionRefused) as refused:
        escalation_withdraw(
            actor=escalation.raised_by, escalation=escalation, reason="Oops.", now=at(2026, 11, 4)
        )

    assert refused.value.message == "This escalation is resolved: it can no longer change."
    escalation = reload(escalation)
    assert (escalation.state, escalation.outcome) == (State.RESOLVED, "Sorted.")
    # Resolved with no response on the step: the step is not judged "satisfactory".
    assert steps_of(escalation)[0].verdict == Verdict.RESOLVED_BEFORE_RESPONSE


# --- snapshots and history -------------------------------------------------------------------


def test_changing_a_stage_timescale_does_not_move_an_existing_step(raise_concern, ladders):
    before = raise_concern(GLOUCESTERSHIRE, stage_order=1)
    stage = stage_of(ladders[GLOUCESTERSHIRE], 1)
    stage.response_days = 20
    stage.save()

    [step] = steps_of(before)
    assert step.response_days == 4
    # Still Mon 2 Nov + 4 working days = Fri 6 Nov.
    assert step.due_on == date(2026, 11, 6)


def test_step_raised_after_a_stage_timescale_change_uses_the_new_timescale(raise_concern, ladders):
    raise_concern(GLOUCESTERSHIRE, stage_order=1)
    stage = stage_of(ladders[GLOUCESTERSHIRE], 1)
    stage.response_days = 20
    stage.save()

    after = raise_concern(GLOUCESTERSHIRE, stage_order=1)

    [step] = steps_of(after)
    assert step.response_days == 20
    # Mon 2 Nov + 20 working days = Mon 30 Nov.
    assert step.due_on == date(2026, 11, 30)


def test_every_change_to_an_escalation_is_recorded_in_its_history(raise_concern, escalate_to):
    escalation = raise_concern(GLOUCESTERSHIRE)
    counts = [escalation.history.count()]
    respond(escalation, now=at(2026, 11, 3))
    counts.append(escalation.history.count())
    escalate_to(escalation, now=at(2026, 11, 4))
    counts.append(escalation.history.count())
    escalation_resolve(
        actor=escalation.raised_by, escalation=escalation, outcome="Sorted.", now=at(2026, 11, 5)
    )
    counts.append(escalation.history.count())

    assert counts[0] >= 1
    assert counts == sorted(set(counts)), counts  # strictly increasing
    latest = escalation.history.first()
    assert (latest.state, latest.outcome) == (State.RESOLVED, "Sorted.")
    assert [h.state for h in escalation.history.order_by("history_date", "history_id")][-4:] == [
        State.INFORMAL,
        State.RESPONSE_RECEIVED,
        State.AWAITING_RESPONSE,
        State.RESOLVED,
    ]


def test_stoke_informal_stage_may_go_to_the_team_manager_instead_of_the_social_worker(
    raise_concern, staff_of
):
    team_manager = staff_of(STOKE, "team-manager")
    escalation = raise_concern(STOKE, responder=team_manager)
    assert open_step(escalation).responder == team_manager


def test_stoke_informal_stage_refuses_a_service_manager_and_names_both_roles(
    raise_concern, staff_of
):
    with pytest.raises(ActionRefused) as exc:
        raise_concern(STOKE, responder=staff_of(STOKE, "service-manager"))
    assert "Social Worker or Team Manager" in exc.value.message
    assert exc.value.field == "responder"


def test_a_responder_too_late_is_told_the_step_has_closed(raise_concern, escalate_to):
    escalation = raise_concern(RUTLAND)
    informal = open_step(escalation)
    escalate_to(escalation, now=at(2026, 11, 9))

    with pytest.raises(ActionRefused, match="step has closed"):
        step_respond(
            actor=informal.responder, step=informal, response="Late.", now=at(2026, 11, 10)
        )


# --- the raise form's one-time token ---------------------------------------------------------


def test_a_second_raise_with_the_same_form_token_raises_nothing_and_names_the_first(
    raise_concern, staff_of, child_of
):
    token = uuid.uuid4()
    chair = staff_of(RUTLAND, "cp-chair")
    child = child_of(RUTLAND)
    first = raise_concern(RUTLAND, actor=chair, children=[child], request_token=token)

    with pytest.raises(AlreadyRaised) as repeat:
        raise_concern(RUTLAND, actor=chair, children=[child], request_token=token)

    assert repeat.value.escalation == first
    assert repeat.value.message == (
        f"{first.reference} was already raised from this form, so it was not raised again."
    )
    assert (Escalation.objects.count(), Step.objects.count()) == (1, 1)


def test_raises_from_two_different_forms_are_two_escalations(raise_concern, staff_of):
    chair = staff_of(RUTLAND, "cp-chair")

    raise_concern(RUTLAND, actor=chair, request_token=uuid.uuid4())
    raise_concern(RUTLAND, actor=chair, request_token=uuid.uuid4())

    assert Escalation.objects.filter(raised_by=chair).count() == 2


def test_someone_elses_form_token_is_refused_without_naming_what_it_raised(raise_concern, staff_of):
    token = uuid.uuid4()
    first = raise_concern(RUTLAND, request_token=token)

    with pytest.raises(ActionRefused) as refused:
        raise_concern(RUTLAND, actor=staff_of(RUTLAND, "cp-chair"), request_token=token)

    assert not isinstance(refused.value, AlreadyRaised)
    assert first.reference not in refused.value.message
    assert Escalation.objects.count() == 1
