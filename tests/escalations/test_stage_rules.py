"""Who may raise each stage (Stage.raiser_roles), optional and conditional stages, the
Rutland threshold discussion and the immediate-safety route's deadline (issue 11 items 3
and 4): the rules (escalations/rules.py), the services that enforce them and the forms
and buttons that offer them."""

from __future__ import annotations

import html
from datetime import date

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from escalations import rules, selectors, services
from escalations.forms import EscalateForm, RaiseForm
from escalations.models import Escalation, Step
from escalations.services import ActionRefused
from escalations.sweep import process_due
from notifications.models import Kind, Notification
from policies.models import BypassRule, Role, Stage
from tests.confirm import post_and_confirm
from tests.fixtures import MONDAY, at, first_category

STATEMENT = {"issue": "Drift.", "actions": "Asked twice.", "wanted": "A plan."}
RUTLAND = "rutland"
CWM_TAF = "cwm-taf"


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def page(response) -> str:
    return html.unescape(response.content.decode())


def stage_of(slug: str, order: int) -> Stage:
    return Stage.objects.select_related("role").get(policy__slug=slug, order=order)


def reload(escalation: Escalation) -> Escalation:
    return Escalation.objects.get(pk=escalation.pk)


# --- who raises each stage: Stage.raiser_roles -----------------------------------------------


@pytest.fixture
def head_of_qa_stage(ladders, staff_of, child_of):
    """Rutland raised straight at Stage 4 by its chair, with Stage 5 re-encoded as the
    Alerts Protocol's "the Head of QA escalates": raised by the Head of QA only. The QA
    Service Manager is a QA manager (who could raise Stage 5 under `raised_by`)."""
    head_of_qa_role = Role.objects.create(slug="head-of-qa", name="Head of QA")
    qa_service_role = Role.objects.create(
        slug="qa-service-manager", name="QA Service Manager", is_quality_assurance=True
    )
    stage_5 = stage_of(RUTLAND, 5)
    stage_5.raiser_roles.set([head_of_qa_role])
    chair = staff_of(RUTLAND, "cp-chair")
    escalation = services.escalation_raise(
        actor=chair,
        policy=ladders[RUTLAND],
        categories=first_category(ladders[RUTLAND]),
        children=[child_of(RUTLAND)],
        summary="The plan has drifted for months.",
        stage=stage_of(RUTLAND, 4),
        responder=staff_of(RUTLAND, "director-for-people"),
        reason="Serious and urgent.",
        statement=STATEMENT,
        now=MONDAY,
    )
    return {
        "escalation": escalation,
        "stage_5": stage_5,
        "chair": chair,
        "head_of_qa": staff_of(RUTLAND, head_of_qa_role),
        "qa_service_manager": staff_of(RUTLAND, qa_service_role),
        "lscb": staff_of(RUTLAND, "lscb-independent-chair"),
    }


def escalate_to_stage_5(case, actor) -> Step:
    return services.escalation_escalate(
        actor=actor,
        escalation=case["escalation"],
        stage=case["stage_5"],
        responder=case["lscb"],
        now=at(2026, 11, 9),
    )


def test_a_qa_service_manager_cannot_raise_a_stage_raised_by_the_head_of_qa(head_of_qa_stage):
    with pytest.raises(ActionRefused) as refused:
        escalate_to_stage_5(head_of_qa_stage, head_of_qa_stage["qa_service_manager"])

    assert refused.value.message == (
        "Stage 5: Independent Chair of the LSCB is raised by the Head of QA."
    )
    assert reload(head_of_qa_stage["escalation"]).current_stage.order == 4


def test_the_chair_who_raised_the_escalation_cannot_raise_the_head_of_qas_stage(
    head_of_qa_stage,
):
    with pytest.raises(ActionRefused) as refused:
        escalate_to_stage_5(head_of_qa_stage, head_of_qa_stage["chair"])

    assert refused.value.message.endswith("is raised by the Head of QA.")


def test_the_head_of_qa_raises_their_stage_on_an_escalation_someone_else_raised(
    head_of_qa_stage,
):
    step = escalate_to_stage_5(head_of_qa_stage, head_of_qa_stage["head_of_qa"])

    assert (step.stage, step.raised_by) == (
        head_of_qa_stage["stage_5"],
        head_of_qa_stage["head_of_qa"],
    )
    assert reload(head_of_qa_stage["escalation"]).raised_by == head_of_qa_stage["chair"]


def test_holding_a_raiser_role_allows_that_move_and_nothing_else(head_of_qa_stage):
    actions = rules.allowed_actions(head_of_qa_stage["head_of_qa"], head_of_qa_stage["escalation"])

    assert actions == {rules.Action.ESCALATE}


def test_the_escalate_form_offers_the_head_of_qa_their_stage(head_of_qa_stage):
    form = EscalateForm(
        staff=head_of_qa_stage["head_of_qa"], escalation=head_of_qa_stage["escalation"]
    )

    assert list(form.fields["stage"].queryset) == [head_of_qa_stage["stage_5"]]


def test_the_escalate_form_tells_the_qa_service_manager_who_raises_the_next_stage(
    head_of_qa_stage,
):
    form = EscalateForm(
        staff=head_of_qa_stage["qa_service_manager"], escalation=head_of_qa_stage["escalation"]
    )

    assert list(form.fields["stage"].queryset) == []
    assert form.refusal == rules.Refusal(
        "Stage 5: Independent Chair of the LSCB is raised by the Head of QA.", "stage"
    )


def test_the_escalation_page_shows_the_escalate_button_to_the_head_of_qa_only(head_of_qa_stage):
    escalation = head_of_qa_stage["escalation"]
    detail = reverse("escalations:detail", args=[escalation.pk])
    escalate = reverse("escalations:escalate", args=[escalation.pk])

    shown = {
        who: escalate in page(signed_in(head_of_qa_stage[who]).get(detail))
        for who in ("head_of_qa", "qa_service_manager", "chair")
    }

    assert shown == {"head_of_qa": True, "qa_service_manager": False, "chair": False}


def test_the_head_of_qa_escalates_through_the_page(head_of_qa_stage):
    escalation = head_of_qa_stage["escalation"]
    client = signed_in(head_of_qa_stage["head_of_qa"])
    url = reverse("escalations:escalate", args=[escalation.pk])
    assert client.get(url).status_code == 200

    response = post_and_confirm(
        client,
        url,
        {
            "stage": head_of_qa_stage["stage_5"].pk,
            "responder": head_of_qa_stage["lscb"].pk,
            "from_step": escalation.open_step().pk,
        },
    )

    assert response.status_code == 302
    assert reload(escalation).current_stage == head_of_qa_stage["stage_5"]


def test_a_chair_role_among_the_raiser_roles_means_the_escalations_own_chair(
    ladders, staff_of, raise_concern
):
    stage_1 = stage_of(RUTLAND, 1)
    stage_1.raiser_roles.set([Role.objects.get(slug="cp-chair")])
    chair = staff_of(RUTLAND, "cp-chair")
    escalation = raise_concern(RUTLAND, actor=chair)

    refusal = rules.stage_refusal(escalation, stage_1, staff_of(RUTLAND, "cp-chair"))

    assert refusal == rules.Refusal(rules.NOT_THE_RAISER)
    assert rules.stage_refusal(escalation, stage_1, chair) is None


def test_a_first_stage_with_raiser_roles_is_not_offered_to_a_chair_without_one(
    ladders, staff_of, child_of
):
    policy = ladders[RUTLAND]
    stage_of(RUTLAND, 0).raiser_roles.set([Role.objects.create(slug="head-of-qa", name="HoQA")])
    form = RaiseForm(staff=staff_of(RUTLAND, "cp-chair"), policy=policy, child=child_of(RUTLAND))

    # Only the direct-entry stages remain, which the chair may still start at.
    assert [s.order for s in form.fields["stage"].queryset] == [3, 4]


# --- optional and conditional stages ------------------------------------------------------


@pytest.fixture
def cwm_taf_at_the_cp_coordinator(ladders, staff_of, child_of):
    chair = staff_of(CWM_TAF, "cp-chair")
    escalation = services.escalation_raise(
        actor=chair,
        policy=ladders[CWM_TAF],
        categories=first_category(ladders[CWM_TAF]),
        children=[child_of(CWM_TAF)],
        summary="The core group has not met.",
        stage=stage_of(CWM_TAF, 1),
        responder=staff_of(CWM_TAF, "cp-coordinator"),
        immediate_safety=True,
        now=MONDAY,
    )
    return chair, escalation


def test_cwm_taf_lead_safeguarding_manager_is_a_conditional_rung(ladders):
    lsm = stage_of(CWM_TAF, 2)

    assert lsm.may_pass_over
    assert "absent" in lsm.condition


def test_cwm_taf_goes_from_the_cp_coordinator_to_qasg_passing_over_the_lead_safeguarding_manager(
    cwm_taf_at_the_cp_coordinator, staff_of
):
    chair, escalation = cwm_taf_at_the_cp_coordinator

    step = services.escalation_escalate(
        actor=chair,
        escalation=escalation,
        stage=stage_of(CWM_TAF, 3),
        responder=staff_of(CWM_TAF, "qasg-chair"),
        statement=STATEMENT,
        now=at(2026, 11, 9),
    )

    assert step.stage_order == 3
    assert step.skipped_stage_names == "Lead Safeguarding Manager (conditional: did not apply)"


def test_the_escalate_form_offers_qasg_and_shows_the_condition_beside_the_conditional_stage(
    cwm_taf_at_the_cp_coordinator,
):
    chair, escalation = cwm_taf_at_the_cp_coordinator

    form = EscalateForm(staff=chair, escalation=escalation)

    labels = dict(form.fields["stage"].choices)
    offered = {stage.order for stage in form.fields["stage"].queryset}
    assert offered == {2, 3}
    lsm_label = next(str(v) for k, v in labels.items() if str(k) == str(stage_of(CWM_TAF, 2).pk))
    assert lsm_label.startswith("Lead Safeguarding Manager (no timescale set by the policy) — ")
    assert "— only where the CP Coordinator/Safeguarding Manager is absent" in lsm_label


def test_the_escalate_page_shows_the_condition_to_the_chair(cwm_taf_at_the_cp_coordinator):
    chair, escalation = cwm_taf_at_the_cp_coordinator

    text = page(signed_in(chair).get(reverse("escalations:escalate", args=[escalation.pk])))

    assert "only where the CP Coordinator/Safeguarding Manager is absent" in text


@pytest.fixture
def rutland_with_optional_stage_1(ladders):
    """Rutland under a no-skipping rule, its Stage 1 optional."""
    policy = ladders[RUTLAND]
    policy.bypass_rule = BypassRule.NONE
    policy.bypass_reason_required = True
    policy.save()
    stage_1 = stage_of(RUTLAND, 1)
    stage_1.optional = True
    stage_1.save()
    return policy


def test_an_optional_stage_is_passed_over_without_a_reason_whatever_the_bypass_rule(
    rutland_with_optional_stage_1, raise_concern, staff_of
):
    escalation = raise_concern(RUTLAND)  # the threshold discussion

    step = services.escalation_escalate(
        actor=escalation.raised_by,
        escalation=escalation,
        stage=stage_of(RUTLAND, 2),
        responder=staff_of(RUTLAND, "service-manager"),
        reason="",
        now=at(2026, 11, 3),
    )

    assert (step.stage_order, step.skipped_stage_names, step.skip_reason) == (
        2,
        "Stage 1: Team Manager (optional)",
        "",
    )


def test_passing_over_an_optional_stage_with_a_compulsory_one_still_meets_the_bypass_rule(
    rutland_with_optional_stage_1, raise_concern
):
    escalation = raise_concern(RUTLAND)  # the threshold discussion

    refusal = rules.stage_refusal(escalation, stage_of(RUTLAND, 3), escalation.raised_by)

    assert refusal == rules.Refusal(
        "This policy does not allow going straight to Stage 3: Head of Service "
        "(it would skip Stage 2: Service Manager).",
        "stage",
    )


def test_the_form_says_optional_stages_may_be_passed_over(
    rutland_with_optional_stage_1, staff_of, child_of
):
    form = RaiseForm(
        staff=staff_of(RUTLAND, "cp-chair"),
        policy=rutland_with_optional_stage_1,
        child=child_of(RUTLAND),
    )

    assert "may be passed over without a reason" in form.fields["stage"].help_text


# --- Rutland: the threshold discussion with the Service Manager / Head of Service -----------


def test_rutland_threshold_discussion_may_be_held_with_the_head_of_service(raise_concern, staff_of):
    head_of_service = staff_of(RUTLAND, "head-of-service")

    escalation = raise_concern(RUTLAND, responder=head_of_service)

    step = escalation.steps.get()
    assert (step.stage_order, step.responder) == (0, head_of_service)


# --- the immediate-safety route: "immediately", with a deadline ------------------------------


def test_the_immediate_safety_step_is_due_the_same_working_day(raise_concern, staff_of):
    escalation = raise_concern(
        CWM_TAF, immediate_safety=True, responder=staff_of(CWM_TAF, "cp-coordinator")
    )

    step = escalation.steps.get()
    assert (step.response_days, step.received_on, step.due_on) == (0, MONDAY.date(), MONDAY.date())


def test_an_immediate_safety_concern_raised_on_a_saturday_is_due_on_monday(raise_concern, staff_of):
    saturday = at(2026, 11, 7, 15)

    escalation = raise_concern(
        CWM_TAF,
        immediate_safety=True,
        responder=staff_of(CWM_TAF, "cp-coordinator"),
        now=saturday,
    )

    assert escalation.steps.get().due_on == date(2026, 11, 9)


def test_the_immediate_safety_route_may_go_to_the_lead_safeguarding_manager(
    raise_concern, staff_of
):
    lsm = staff_of(CWM_TAF, "lead-safeguarding-manager")

    escalation = raise_concern(CWM_TAF, immediate_safety=True, responder=lsm)

    step = escalation.steps.get()
    assert (step.stage_order, step.responder, step.due_on) == (1, lsm, MONDAY.date())


def test_the_sweep_alerts_on_an_unanswered_immediate_safety_step_the_next_working_day(
    raise_concern, staff_of
):
    coordinator = staff_of(CWM_TAF, "cp-coordinator")
    escalation = raise_concern(CWM_TAF, immediate_safety=True, responder=coordinator)
    tuesday = at(2026, 11, 3, 8)

    with time_machine.travel(tuesday, tick=False):
        process_due(tuesday)

    told = set(
        Notification.objects.filter(kind=Kind.OVERDUE).values_list("recipient_id", flat=True)
    )
    assert told == {escalation.raised_by_id, coordinator.pk}


def test_without_an_immediate_safety_timescale_the_route_keeps_the_stages_own(
    ladders, raise_concern, staff_of
):
    policy = ladders[CWM_TAF]
    policy.immediate_safety_response_days = None
    policy.save()

    escalation = raise_concern(
        CWM_TAF, immediate_safety=True, responder=staff_of(CWM_TAF, "cp-coordinator")
    )

    assert escalation.steps.get().due_on is None  # the stage sets no timescale


def test_the_same_stage_raised_without_the_route_keeps_the_stages_own_timescale(
    ladders, raise_concern, staff_of
):
    escalation = raise_concern(CWM_TAF, responder=staff_of(CWM_TAF, "social-worker"))
    chair = escalation.raised_by
    services.escalation_record_discussion(
        actor=chair, escalation=escalation, agreed="Not settled.", resolved=False, now=MONDAY
    )

    step = services.escalation_escalate(
        actor=chair,
        escalation=escalation,
        stage=stage_of(CWM_TAF, 1),
        responder=staff_of(CWM_TAF, "cp-coordinator"),
        now=MONDAY,
    )

    assert step.due_on is None


def _answer_stage_4(case) -> None:
    step = case["escalation"].open_step()
    services.step_respond(
        actor=step.responder,
        step=step,
        response="The meeting agreed a plan.",
        meeting_date=date(2026, 11, 3),
        now=at(2026, 11, 4),
    )


def test_the_head_of_qa_finds_their_stage_to_raise_on_their_to_do_list(head_of_qa_stage):
    _answer_stage_4(head_of_qa_stage)

    sections = selectors.todo_sections(head_of_qa_stage["head_of_qa"], date(2026, 11, 5))

    [raise_section] = [s for s in sections if s.key == "raise"]
    [row] = raise_section.rows
    assert row.escalation == head_of_qa_stage["escalation"]
    assert [a.label for a in row.actions] == ["Raise Stage 5: Independent Chair of the LSCB"]


def test_a_qa_manager_without_the_raiser_role_is_not_asked_to_raise_it(head_of_qa_stage):
    _answer_stage_4(head_of_qa_stage)

    sections = selectors.todo_sections(head_of_qa_stage["qa_service_manager"], date(2026, 11, 5))

    assert "raise" not in [s.key for s in sections]


def test_the_raise_form_offers_the_immediate_safety_routes_people(ladders, staff_of, child_of):
    coordinator = staff_of(CWM_TAF, "cp-coordinator")
    lsm = staff_of(CWM_TAF, "lead-safeguarding-manager")

    form = RaiseForm(
        staff=staff_of(CWM_TAF, "cp-chair"), policy=ladders[CWM_TAF], child=child_of(CWM_TAF)
    )

    assert {coordinator, lsm} <= set(form.fields["responder"].queryset)


def test_the_qasg_statement_must_set_out_the_identified_risks(
    cwm_taf_at_the_cp_coordinator, staff_of
):
    # Cwm Taf: "outlining the issue, any attempts to resolve, and the identified risks".
    chair, escalation = cwm_taf_at_the_cp_coordinator

    with pytest.raises(ActionRefused, match="must say the identified risks to the child/ren"):
        services.escalation_escalate(
            actor=chair,
            escalation=escalation,
            stage=stage_of(CWM_TAF, 3),
            responder=staff_of(CWM_TAF, "qasg-chair"),
            statement={**STATEMENT, "wanted": " "},
            now=at(2026, 11, 9),
        )


def test_the_qasg_statement_asks_for_and_records_the_identified_risks(
    cwm_taf_at_the_cp_coordinator, staff_of
):
    chair, escalation = cwm_taf_at_the_cp_coordinator
    form = EscalateForm(staff=chair, escalation=escalation)

    step = services.escalation_escalate(
        actor=chair,
        escalation=escalation,
        stage=stage_of(CWM_TAF, 3),
        responder=staff_of(CWM_TAF, "qasg-chair"),
        statement={**STATEMENT, "wanted": "No plan for the baby's safety at home."},
        now=at(2026, 11, 9),
    )

    assert form.fields["statement_wanted"].label == (
        "Written statement: the identified risks to the child/ren"
    )
    text = page(signed_in(chair).get(reverse("escalations:detail", args=[escalation.pk])))
    assert (
        "The identified risks to the child/ren: No plan for the baby's safety at home."
        in " ".join(text.replace("<strong>", "").replace("</strong>", "").split())
    )
    assert step.statement_wanted_label == "The identified risks to the child/ren"


def test_the_raise_form_asks_why_stages_are_skipped_only_where_it_can_skip(
    ladders, staff_of, child_of
):
    rutland = RaiseForm(
        staff=staff_of(RUTLAND, "cp-chair"), policy=ladders[RUTLAND], child=child_of(RUTLAND)
    )
    policy = ladders[RUTLAND]
    policy.bypass_rule = BypassRule.NONE
    policy.save()
    no_skipping = RaiseForm(
        staff=staff_of(RUTLAND, "cp-chair"), policy=policy, child=child_of(RUTLAND)
    )

    # Rutland lets the chair go straight to Stage 3 or 4; under "no skipping" it cannot.
    assert "reason" in rutland.fields
    assert "reason" not in no_skipping.fields
