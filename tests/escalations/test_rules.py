"""The ladder's rules (escalations/rules.py) are the ones the services enforce, the forms
offer and the escalation page draws its buttons from: each is checked against the others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalations import rules, services
from escalations.forms import EscalateForm, RaiseForm
from escalations.models import Escalation, State, Step
from policies.deadlines import stage_deadline
from policies.ladder_files import LADDER_DIR, load_ladders, read_ladders
from policies.models import BypassRule, Policy, Role, Stage
from staff.models import StaffMember
from tests.children.factories import ChildFactory, ConferenceFactory
from tests.fixtures import first_category
from tests.staff.factories import StaffMemberFactory

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 2, 10, tzinfo=LONDON)
STATEMENT = {"issue": "Drift.", "actions": "Asked twice.", "wanted": "A plan."}
CHAIR_RAISED = ["cwm-taf", "gloucestershire", "mosaic-authority", "rutland", "stoke-on-trent"]


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def _accepted(call: Callable[[], object]) -> bool:
    """Whether the service does it (undone afterwards), or refuses."""
    try:
        with transaction.atomic():
            call()
            transaction.set_rollback(True)
    except services.ActionRefused:
        return False
    return True


# --- the raise form offers what the service accepts, and nothing else --------------------


@pytest.mark.parametrize("bypass", list(BypassRule))
@pytest.mark.parametrize("slug", CHAIR_RAISED)
def test_the_raise_form_offers_exactly_the_stages_the_raise_accepts(
    ladders, staff_of, child_of, slug, bypass
):
    policy = ladders[slug]
    policy.bypass_rule = bypass  # every rule, whatever the shipped ladder says
    policy.save()
    authority = policy.authority.slug
    chair = staff_of(authority, "cp-chair")
    child = child_of(authority)
    form = RaiseForm(staff=chair, policy=policy, child=child)
    offered = set(form.fields["stage"].queryset)

    accepted = set()
    for stage in policy.stages.select_related("role"):
        responder = staff_of(authority, stage.role.slug)
        if _accepted(
            lambda stage=stage, responder=responder: services.escalation_raise_recipients(
                actor=chair,
                policy=policy,
                categories=first_category(policy),
                children=[child],
                summary="Core groups have lapsed.",
                stage=stage,
                responder=responder,
                reason="Drift across every stage.",
                statement=STATEMENT,
                now=MONDAY,
            )
        ):
            accepted.add(stage)
    assert offered == accepted


def test_under_a_no_skipping_policy_the_raise_form_offers_no_direct_entry_stage(
    ladders, staff_of, child_of
):
    policy = ladders["rutland"]  # Stages 3 and 4 are marked for direct entry
    policy.bypass_rule = BypassRule.NONE
    policy.save()
    form = RaiseForm(
        staff=staff_of("rutland", "cp-chair"), policy=policy, child=child_of("rutland")
    )
    assert [s.order for s in form.fields["stage"].queryset] == [0]


# --- a chair is never offered a QA manager's stage --------------------------------------


@pytest.fixture
def at_rutland_stage_4(ladders, staff_of, child_of):
    """A Rutland escalation raised straight at Stage 4 (direct entry); Stage 5 next is
    raised by a QA manager."""
    policy = ladders["rutland"]
    chair = staff_of("rutland", "cp-chair")
    escalation = services.escalation_raise(
        actor=chair,
        policy=policy,
        categories=first_category(policy),
        children=[child_of("rutland")],
        summary="The plan has drifted for months.",
        stage=policy.stages.get(order=4),
        responder=staff_of("rutland", "director-for-people"),
        statement=STATEMENT,
        now=MONDAY,
    )
    return chair, staff_of("rutland", "qa-manager"), escalation


def test_only_the_qa_manager_sees_the_escalate_button_where_only_a_qa_manager_may_go_on(
    at_rutland_stage_4,
):
    chair, qa, escalation = at_rutland_stage_4
    detail = reverse("escalations:detail", args=[escalation.pk])
    escalate = reverse("escalations:escalate", args=[escalation.pk]).encode()
    for_chair = signed_in(chair).get(detail).content
    assert escalate not in for_chair
    assert b">Resolve<" in for_chair
    assert escalate in signed_in(qa).get(detail).content
    form = EscalateForm(staff=qa, escalation=escalation)
    assert [s.order for s in form.fields["stage"].queryset] == [5]


def test_the_escalate_form_offers_a_chair_no_qa_stage_and_says_why(at_rutland_stage_4):
    chair, _qa, escalation = at_rutland_stage_4
    form = EscalateForm(staff=chair, escalation=escalation)
    assert list(form.fields["stage"].queryset) == []
    stage_5 = Stage.objects.get(policy=escalation.policy, order=5)
    assert form.refusal == rules.Refusal(f"{stage_5.name} is raised by a QA manager.", "stage")


# --- the buttons are what the services accept ---------------------------------------------


def _attempt(action: rules.Action, actor, escalation: Escalation, responder) -> Callable:
    # With nothing open, the last step: what the responder's page would post to.
    step = escalation.open_step() or escalation.steps.last()
    calls = {
        rules.Action.ESCALATE: lambda: services.escalation_escalate(
            actor=actor, escalation=escalation, responder=responder, statement=STATEMENT, now=MONDAY
        ),
        rules.Action.RESOLVE: lambda: services.escalation_resolve(
            actor=actor, escalation=escalation, outcome="Agreed.", now=MONDAY
        ),
        rules.Action.FINAL_DECISION: lambda: services.escalation_record_final_decision(
            actor=actor, escalation=escalation, decision="Decided.", now=MONDAY
        ),
        rules.Action.WITHDRAW: lambda: services.escalation_withdraw(
            actor=actor, escalation=escalation, reason="No longer needed.", now=MONDAY
        ),
        rules.Action.RESPOND: lambda: services.step_respond(
            actor=actor,
            step=step,
            response="Answered.",
            meeting_date=MONDAY.date() if step.mode == "meeting" else None,
            now=MONDAY,
        ),
    }
    return calls[action]


@pytest.mark.parametrize("who", ["chair", "qa", "responder", "other_chair"])
@pytest.mark.parametrize("where", ["rutland_stage_4", "gloucestershire_final", "withdrawn"])
def test_allowed_actions_are_exactly_what_the_services_accept(
    ladders, staff_of, child_of, who, where
):
    slug, order = {
        "rutland_stage_4": ("rutland", 4),
        "gloucestershire_final": ("gloucestershire", 6),
        "withdrawn": ("rutland", 0),
    }[where]
    policy = ladders[slug]
    stage = policy.stages.get(order=order)
    people = {
        "chair": staff_of(slug, "cp-chair"),
        "qa": staff_of(slug, "qa-manager"),
        "responder": staff_of(slug, stage.role.slug),
        "other_chair": staff_of(slug, "cp-chair"),
    }
    escalation = services.escalation_raise(
        actor=people["chair"],
        policy=policy,
        categories=first_category(policy),
        children=[child_of(slug)],
        summary="The plan has drifted.",
        stage=stage,
        responder=people["responder"],
        reason="Serious drift.",
        statement=STATEMENT,
        now=MONDAY,
    )
    if where == "withdrawn":
        services.escalation_withdraw(
            actor=people["chair"], escalation=escalation, reason="Sorted.", now=MONDAY
        )
    escalation = Escalation.objects.get(pk=escalation.pk)
    following = rules.next_stage(escalation)
    next_responder = staff_of(slug, following.role.slug) if following else people["responder"]
    actor = people[who]

    allowed = rules.allowed_actions(actor, escalation)

    accepted = {
        action
        for action in rules.Action
        if _accepted(_attempt(action, actor, escalation, next_responder))
    }
    assert allowed == accepted


# --- property: for every shipped ladder, the forms offer exactly what the services accept ---


@pytest.fixture
def every_ladder(ladders) -> dict[str, Policy]:
    """The shipped ladders and the shipped examples (policies/ladders/examples/)."""
    examples = sorted((LADDER_DIR / "examples").glob("*.yaml"))
    if examples:
        load_ladders(read_ladders(examples))
    return {p.slug: p for p in Policy.objects.select_related("authority")}


def _holder(policy: Policy, role: Role) -> StaffMember:
    return StaffMemberFactory(authority=policy.authority, role=role)


def _actors(policy: Policy, stages: list[Stage]) -> list[Role]:
    """Every role that could matter: the policy's raisers, every stage's raiser roles and
    addressee, and the QA manager."""
    roles = {r.pk: r for r in policy.raisers.all()}
    for stage in stages:
        roles |= {r.pk: r for r in [stage.role, *stage.raiser_roles.all()]}
    qa = Role.objects.get_or_create(
        slug="qa-manager", defaults={"name": "QA Manager", "is_quality_assurance": True}
    )[0]
    roles[qa.pk] = qa
    return sorted(roles.values(), key=lambda r: r.slug)


def _position(policy: Policy, stage: Stage, raiser: StaffMember, answered: bool) -> Escalation:
    """An escalation standing at `stage` with its step open (answered or not)."""
    escalation = Escalation.objects.create(
        authority=policy.authority,
        policy=policy,
        raised_by=raiser,
        summary="Drawn by hypothesis.",
        state=rules.opening_state(stage)
        if not answered or stage.is_informal
        else State.RESPONSE_RECEIVED,
        raised_at=MONDAY,
        formal_started_at=None if stage.is_informal else MONDAY,
        current_stage=stage,
    )
    escalation.children.add(ChildFactory(authority=policy.authority))
    Step.objects.create(
        escalation=escalation,
        authority=escalation.authority,
        sequence=1,
        stage=stage,
        responder=_holder(policy, stage.role),
        raised_by=raiser,
        raised_at=MONDAY,
        stage_name=stage.name,
        stage_order=stage.order,
        mode=stage.mode,
        response_days=stage.response_days,
        day_type=stage.day_type,
        is_final=stage.final,
        received_on=MONDAY.date(),
        due_on=stage_deadline(stage=stage, authority=policy.authority, received_at=MONDAY)[1],
        responded_at=MONDAY if answered else None,
    )
    return escalation


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_for_every_ladder_the_forms_offer_exactly_the_stages_the_services_accept(
    every_ladder, data
):
    slug = data.draw(st.sampled_from(sorted(every_ladder)), label="ladder")
    with transaction.atomic():
        policy = Policy.objects.select_related("authority").get(slug=slug)
        policy.bypass_rule = data.draw(st.sampled_from(list(BypassRule)), label="bypass")
        policy.save()
        stages = list(policy.stages.select_related("role").prefetch_related("raiser_roles"))
        # Now and then a stage is optional, to vary what counts as skipping.
        optional = data.draw(st.sets(st.sampled_from([s.order for s in stages])), label="optional")
        for stage in stages:
            if stage.order in optional:
                stage.optional = True
                stage.save()
        raiser_role = data.draw(st.sampled_from(list(policy.raisers.all())), label="raiser")
        raiser = _holder(policy, raiser_role)
        where = data.draw(st.sampled_from([None, *stages]), label="current stage")

        if where is None:
            # At the raise: only someone who may raise under the policy sees the form.
            actor = raiser
            child = ChildFactory(authority=policy.authority, social_worker=actor)
            conference = ConferenceFactory(child=child, date=MONDAY.date())
            about = _holder(policy, Role.objects.get(slug="cp-chair"))
            form = RaiseForm(staff=actor, policy=policy, child=child)
            offered = set(form.fields["stage"].queryset)

            def attempt(stage: Stage) -> Callable[[], object]:
                return lambda: services.escalation_raise(
                    actor=actor,
                    policy=policy,
                    categories=first_category(policy),
                    children=[child],
                    summary="Core groups have lapsed.",
                    stage=stage,
                    responder=_holder(policy, stage.role),
                    reason="Drift across every stage.",
                    statement=STATEMENT,
                    about_staff=about if policy.kind == "about_chair" else None,
                    conference=conference,
                    now=MONDAY,
                )

        else:
            answered = data.draw(st.booleans(), label="answered")
            escalation = _position(policy, where, raiser, answered)
            role = data.draw(st.sampled_from(_actors(policy, stages)), label="actor's role")
            actor = raiser if role == raiser_role and data.draw(st.booleans()) else None
            actor = actor or _holder(policy, role)
            form = EscalateForm(staff=actor, escalation=escalation)
            offered = set(form.fields["stage"].queryset)

            def attempt(stage: Stage) -> Callable[[], object]:
                return lambda: services.escalation_escalate(
                    actor=actor,
                    escalation=escalation,
                    stage=stage,
                    responder=_holder(policy, stage.role),
                    reason="Drift across every stage.",
                    statement=STATEMENT,
                    now=MONDAY,
                )

        accepted = {stage for stage in stages if _accepted(attempt(stage))}
        assert offered == accepted
        transaction.set_rollback(True)
