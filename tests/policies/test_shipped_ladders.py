"""The shipped ladders re-encoded with the settings issue 11 added, clause by clause.

Each expected value is copied by hand from the source policy in shared/seeds/ (quoted
beside it), never computed from the YAML. The first half reads the files (no database);
the second checks the same settings arrive in the database through load_policies, which
the test database ran (tests/conftest.py).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest
import yaml

from policies.models import Completion, Policy, Stage
from tests.fixtures import MONDAY

LADDER_DIR = Path(__file__).resolve().parents[2] / "policies" / "ladders"

CWM_TAF = "cwm-taf"
RUTLAND = "rutland"
STOKE = "stoke-on-trent"
GLOUCESTERSHIRE = "gloucestershire"
GLOUCESTERSHIRE_ABOUT_CHAIR = "gloucestershire-about-chair"
SLUGS = sorted(p.stem for p in LADDER_DIR.glob("*.yaml"))

# The stage settings issue 11 added, with the value a stage has when its policy is silent.
NEW_STAGE_DEFAULTS = {
    "chair_may_vary_timescale": False,
    "issue_within_days": None,
    "addresses_several": False,
    "completion": "all",
    "raiser_roles": [],
    "optional": False,
    "condition": "",
}

# Every stage that uses one of those settings, and the value: the policy text asks for
# exactly these (the tests below quote it); everything else keeps the default.
EXPECTED_NEW_SETTINGS = {
    # "Conference Chair discussion with CP Coordinator" -> "Pass to QASG": the Lead
    # Safeguarding Manager comes in only "in their absence" or when they "do not reach
    # agreement".
    (CWM_TAF, "Lead Safeguarding Manager", "condition"),
    # "there is some flexibility within the timeframe at each stage of the escalation
    # process, as agreed by the CRM"
    (
        STOKE,
        "Informal resolution with the Social Worker / Team Manager",
        "chair_may_vary_timescale",
    ),
    (STOKE, "Stage 1: Service Manager", "chair_may_vary_timescale"),
    (STOKE, "Stage 2: Strategic Manager", "chair_may_vary_timescale"),
    (STOKE, "Stage 3: Assistant Director", "chair_may_vary_timescale"),
    (STOKE, "Stage 4: Director of Children's Services", "chair_may_vary_timescale"),
    # "Set reasonable timescale for completion of work-- normally 2 working days"
    (GLOUCESTERSHIRE, "Informal dispute resolution", "chair_may_vary_timescale"),
}


@cache
def load(slug: str) -> dict:
    return yaml.safe_load((LADDER_DIR / f"{slug}.yaml").read_text(encoding="utf-8"))


def all_stages(slug: str) -> list[dict]:
    ladder = load(slug)
    return ([ladder["informal"]] if ladder["informal"] else []) + ladder["stages"]


def named(slug: str, name: str) -> dict:
    [stage] = [s for s in all_stages(slug) if s["name"] == name]
    return stage


def flat(text: str) -> str:
    return " ".join(text.split())


# --- the files ----------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_only_the_clauses_that_ask_for_them_use_the_new_stage_settings(slug):
    used = {
        (slug, stage["name"], key)
        for stage in all_stages(slug)
        for key, default in NEW_STAGE_DEFAULTS.items()
        if stage.get(key, default) != default
    }
    assert used == {entry for entry in EXPECTED_NEW_SETTINGS if entry[0] == slug}


def test_cwm_taf_lead_safeguarding_manager_is_a_conditional_rung():
    # §2 "or in their absence if the matter is urgent the Lead Safeguarding Manager"; §4 "If
    # the Child Protection Coordinator/Safeguarding Manager and the Conference Chair do not
    # reach agreement, discussion will take place with the Lead Safeguarding Manager"
    condition = flat(named(CWM_TAF, "Lead Safeguarding Manager")["condition"])
    assert "absent and the matter is urgent" in condition
    assert "do not agree whether to report the concern to QASG" in condition


def test_cwm_taf_informal_discussion_is_with_the_attendee_or_their_manager_in_any_agency():
    # "Informal discussion between the conference chair and the conference attendee or their
    # manager from the agency concerned": the council's attendee is the social worker, their
    # manager the team manager; other agencies answer as partners.
    informal = load(CWM_TAF)["informal"]
    assert (informal["role"], informal["also_roles"], informal["partner_responders"]) == (
        "social-worker",
        ["team-manager"],
        True,
    )


def test_cwm_taf_names_no_catch_all_role_for_every_agency():
    assert "conference-attendee" not in load(CWM_TAF)["roles"]


def test_cwm_taf_immediate_safety_is_answered_the_same_working_day():
    # "this must be escalated as a priority and without delay"; "... immediately"
    assert load(CWM_TAF)["immediate_safety"]["response_days"] == 0


def test_cwm_taf_immediate_safety_stage_may_go_to_the_lsm_or_the_team_and_service_managers():
    # "refer this to the Child Protection Coordinator/Safeguarding Manager and/or the Lead
    # Safeguarding Manager immediately. In the absence of either of these ... reported to
    # the Team Manager and Service Manager"
    ladder = load(CWM_TAF)
    [safety_stage] = [s for s in ladder["stages"] if s["role"] == "cp-coordinator"][:1]
    assert ladder["immediate_safety"]["role"] == "cp-coordinator"
    assert safety_stage["also_roles"] == [
        "lead-safeguarding-manager",
        "team-manager",
        "service-manager",
    ]


def test_cwm_taf_qasg_statement_asks_for_the_identified_risks():
    # "The concern will be reported to the Chair of QASG via email, outlining the issue, any
    # attempts to resolve, and the identified risks to the child/ren."
    stage = named(CWM_TAF, "Report to QASG via Chair of QASG")
    assert stage["statement_required"] is True
    assert stage["statement_wanted_label"] == "The identified risks to the child/ren"


def test_rutland_threshold_discussion_is_with_the_service_manager_or_head_of_service():
    # "they should in the first instance discuss the concerns with the Service Manager. If
    # the Service manager does not agree ... discuss the concerns with the Head of Service."
    informal = load(RUTLAND)["informal"]
    assert (informal["role"], informal["also_roles"]) == ("service-manager", ["head-of-service"])


def test_rutland_lscb_chair_and_cafcass_may_be_partners_outside_the_council():
    # "Stage 5: Independent Chair of the LSCB"; "Stage 6: CAFCASS"
    assert [s["partner_responders"] for s in load(RUTLAND)["stages"]] == [
        False,
        False,
        False,
        False,
        True,
        True,
    ]


def test_gloucestershire_reverse_procedure_keeps_its_raise_window():
    # "contact the Child Protection Service Manager within 5 working days of the Conference"
    assert load(GLOUCESTERSHIRE_ABOUT_CHAIR)["raise_window_working_days"] == 5


@pytest.mark.parametrize("slug", SLUGS)
def test_no_shipped_policy_moves_calendar_deadlines_off_non_working_days(slug):
    # None of the five policies says what happens when "2 weeks" or "10 days" ends on a
    # weekend: the default keeps the date and the page says it is not a working day.
    assert load(slug).get("calendar_day_off", "keep") == "keep"


# --- loaded into the database ---------------------------------------------------------------


def stage_named(ladders: dict[str, Policy], slug: str, name: str) -> Stage:
    return Stage.objects.get(policy=ladders[slug], name=name)


def test_loaded_cwm_taf_lead_safeguarding_manager_may_be_passed_over(ladders):
    stage = stage_named(ladders, CWM_TAF, "Lead Safeguarding Manager")
    assert (stage.may_pass_over, stage.optional) == (True, False)


def test_loaded_cwm_taf_immediate_safety_route_answers_the_same_working_day(ladders):
    policy = ladders[CWM_TAF]
    assert (policy.immediate_safety_role.slug, policy.immediate_safety_response_days) == (
        "cp-coordinator",
        0,
    )


def test_loaded_cwm_taf_safety_stage_accepts_the_lsm_team_and_service_managers(ladders):
    stage = Stage.objects.get(policy=ladders[CWM_TAF], order=1)
    assert sorted(r.slug for r in stage.also_roles.all()) == [
        "lead-safeguarding-manager",
        "service-manager",
        "team-manager",
    ]


def test_loaded_rutland_threshold_discussion_accepts_the_head_of_service(ladders):
    informal = ladders[RUTLAND].informal_stage
    assert [r.slug for r in informal.also_roles.all()] == ["head-of-service"]


def test_loaded_stoke_lets_the_chair_vary_every_stage(ladders):
    assert [s.chair_may_vary_timescale for s in ladders[STOKE].stages.all()] == [True] * 5


def test_loaded_gloucestershire_lets_the_chair_vary_only_the_informal_timescale(ladders):
    assert [s.chair_may_vary_timescale for s in ladders[GLOUCESTERSHIRE].stages.all()] == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]


def test_loaded_shipped_stages_are_each_addressed_to_one_person(ladders):
    # No shipped policy addresses one stage to several people at once.
    stages = Stage.objects.filter(policy__in=ladders.values())
    assert list(stages.filter(addresses_several=True)) == []
    assert set(stages.values_list("completion", flat=True)) == {Completion.ALL}


# --- through the services ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["team-manager", "service-manager"])
def test_cwm_taf_immediate_safety_may_go_to_the_team_or_service_manager_the_same_day(
    raise_concern, staff_of, role
):
    # "In the absence of either of these any concerns that a child is not safe from harm
    # must immediately be reported to the Team Manager and Service Manager"
    manager = staff_of(CWM_TAF, role)

    escalation = raise_concern(CWM_TAF, immediate_safety=True, responder=manager, now=MONDAY)

    step = escalation.steps.get()
    # Raised Mon 2 Nov 2026 (a working day), due "immediately": the same day.
    assert (step.stage_order, step.responder, step.due_on) == (1, manager, date(2026, 11, 2))
