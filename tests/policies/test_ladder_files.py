"""The shipped ladder files (policies/ladders/*.yaml) against the source policy text.

Expected values are copied by hand from the seed policies in shared/seeds/ (quoted beside
each constant), never computed from the YAML, so a wrong edit to a ladder file fails here.
Plain pytest: no Django settings or database needed.
"""

from __future__ import annotations

import datetime
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

LADDER_DIR = Path(__file__).resolve().parents[2] / "policies" / "ladders"

SLUGS = [
    "mosaic-authority",
    "cwm-taf",
    "stoke-on-trent",
    "stoke-on-trent-about-crm",
    "rutland",
    "gloucestershire",
    "gloucestershire-about-chair",
]

# --- the format (docs/ladder-format.md) -------------------------------------------------

TOP_LEVEL_KEYS = {
    "slug",
    "name",
    "kind",
    "authority",
    "source",
    "effective_from",
    "chair_title",
    "raisers",
    "raise_window_working_days",
    "roles",
    "informal",
    "formal_cap_working_days",
    "bypass",
    "immediate_safety",
    "categories",
    "stages",
}
# Product settings with defaults (docs/ladder-format.md): a file may leave them out.
OPTIONAL_TOP_LEVEL_KEYS = {
    "overdue_repeat_working_days",
    "auto_escalate_when_overdue",
    "calendar_day_off",
}
AUTHORITY_KEYS = {"slug", "name", "nation"}
INFORMAL_KEYS = {
    "name",
    "role",
    "also_roles",
    "response_days",
    "day_type",
    "mode",
    "partner_responders",
    "guidance",
}
OPTIONAL_INFORMAL_KEYS = {
    "chair_sets_timescale",
    "chair_may_vary_timescale",
    "issue_within_days",
    "addresses_several",
    "completion",
}
BYPASS_KEYS = {"allowed", "reason_required"}
IMMEDIATE_SAFETY_KEYS = {"role", "route"}
OPTIONAL_IMMEDIATE_SAFETY_KEYS = {"response_days"}
CATEGORY_KEYS = {"name", "good_practice", "items"}
STAGE_KEYS = {
    "name",
    "role",
    "also_roles",
    "response_days",
    "day_type",
    "chair_sets_timescale",
    "mode",
    "statement_required",
    "raised_by",
    "copy",
    "partner_responders",
    "direct_entry",
    "final",
    "referral",
    "guidance",
}
OPTIONAL_STAGE_KEYS = {
    "response_to_qa_managers",
    "chair_may_vary_timescale",
    "issue_within_days",
    "raiser_roles",
    "addresses_several",
    "completion",
    "optional",
    "condition",
    "statement_wanted_label",
}
COPY_KEYS = {
    "social_workers",
    "case_line",
    "case_line_up_to",
    "raiser_line",
    "raiser",
    "earlier_recipients",
    "qa_managers",
    "posts",
}
STAGE_FLAGS = [
    "chair_sets_timescale",
    "partner_responders",
    "direct_entry",
    "final",
    "referral",
]

KINDS = {"chair_raised", "about_chair"}
NATIONS = {"ENG", "WLS", "SCT", "NIR"}
DAY_TYPES = {"working", "calendar"}
MODES = {"written_response", "meeting", "written_statement", "discussion", "handover"}
RAISED_BY = {"raiser", "qa_manager"}
BYPASS_ALLOWED = {"none", "direct_entry_only", "any"}
SLUG_RE = re.compile(r"^[a-z0-9-]+$")


@cache
def load(slug: str) -> dict:
    return yaml.safe_load((LADDER_DIR / f"{slug}.yaml").read_text(encoding="utf-8"))


def stages(slug: str) -> list[dict]:
    return load(slug)["stages"]


def column(slug: str, key: str) -> list:
    return [stage[key] for stage in stages(slug)]


def roles_used(policy: dict) -> set[str]:
    used = set(policy["raisers"])
    if policy["informal"] is not None:
        used.add(policy["informal"]["role"])
        used.update(policy["informal"]["also_roles"])
    if policy["immediate_safety"] is not None:
        used.add(policy["immediate_safety"]["role"])
    for stage in policy["stages"]:
        used.add(stage["role"])
        used.update(stage["also_roles"])
        used.update(stage.get("raiser_roles", []))
        copy = stage["copy"]
        for key in ("case_line", "raiser_line", "posts"):
            used.update(copy.get(key, []))
        if copy.get("case_line_up_to"):
            used.add(copy["case_line_up_to"])
        # These relationships find the people who hold these roles on the case.
        if copy.get("social_workers"):
            used.add("social-worker")
        if copy.get("qa_managers"):
            used.add("qa-manager")
    return used


def categories(slug: str) -> list[tuple[str, int]]:
    return [(group["name"], len(group["items"])) for group in load(slug)["categories"]]


all_slugs = pytest.mark.parametrize("slug", SLUGS)


# --- every file: shape and vocabulary ---------------------------------------------------


def test_ladder_folder_holds_exactly_the_shipped_procedures():
    assert sorted(p.stem for p in LADDER_DIR.glob("*.yaml")) == sorted(SLUGS)


@all_slugs
def test_file_slug_matches_file_name(slug):
    assert load(slug)["slug"] == slug


@all_slugs
def test_top_level_has_exactly_the_format_keys(slug):
    assert TOP_LEVEL_KEYS <= set(load(slug)) <= TOP_LEVEL_KEYS | OPTIONAL_TOP_LEVEL_KEYS


@all_slugs
def test_authority_has_exactly_the_format_keys(slug):
    assert set(load(slug)["authority"]) == AUTHORITY_KEYS


@all_slugs
def test_bypass_has_exactly_the_format_keys(slug):
    assert set(load(slug)["bypass"]) == BYPASS_KEYS


@all_slugs
def test_informal_stage_is_null_or_has_exactly_the_format_keys(slug):
    informal = load(slug)["informal"]
    assert informal is None or (
        INFORMAL_KEYS <= set(informal) <= INFORMAL_KEYS | OPTIONAL_INFORMAL_KEYS
    )


@all_slugs
def test_immediate_safety_is_null_or_has_exactly_the_format_keys(slug):
    route = load(slug)["immediate_safety"]
    assert route is None or (
        IMMEDIATE_SAFETY_KEYS
        <= set(route)
        <= IMMEDIATE_SAFETY_KEYS | OPTIONAL_IMMEDIATE_SAFETY_KEYS
    )


@all_slugs
def test_every_stage_has_exactly_the_format_keys(slug):
    for stage in stages(slug):
        assert STAGE_KEYS <= set(stage) <= STAGE_KEYS | OPTIONAL_STAGE_KEYS, stage["name"]
        assert set(stage["copy"]) <= COPY_KEYS, stage["name"]


@all_slugs
def test_every_category_group_has_exactly_the_format_keys(slug):
    for group in load(slug)["categories"]:
        assert set(group) == CATEGORY_KEYS, group["name"]


@all_slugs
def test_category_items_are_non_empty_strings(slug):
    for group in load(slug)["categories"]:
        assert group["items"], group["name"]
        assert all(isinstance(item, str) and item.strip() for item in group["items"])


@all_slugs
def test_enum_values_are_known(slug):
    policy = load(slug)
    assert policy["kind"] in KINDS
    assert policy["authority"]["nation"] in NATIONS
    assert policy["bypass"]["allowed"] in BYPASS_ALLOWED
    entries = list(policy["stages"])
    if policy["informal"] is not None:
        entries.append(policy["informal"])
    for entry in entries:
        assert entry["day_type"] in DAY_TYPES, entry["name"]
        assert entry["mode"] in MODES, entry["name"]
    for stage in policy["stages"]:
        assert stage["raised_by"] in RAISED_BY, stage["name"]


@all_slugs
def test_flags_are_booleans(slug):
    policy = load(slug)
    assert isinstance(policy["bypass"]["reason_required"], bool)
    for group in policy["categories"]:
        assert isinstance(group["good_practice"], bool)
    if policy["informal"] is not None:
        assert isinstance(policy["informal"]["partner_responders"], bool)
    for stage in policy["stages"]:
        for flag in STAGE_FLAGS:
            assert isinstance(stage[flag], bool), (stage["name"], flag)


@all_slugs
def test_day_counts_are_null_or_positive_integers(slug):
    policy = load(slug)
    counts = [policy["raise_window_working_days"], policy["formal_cap_working_days"]]
    counts += [stage["response_days"] for stage in policy["stages"]]
    if policy["informal"] is not None:
        counts.append(policy["informal"]["response_days"])
    for count in counts:
        assert count is None or (type(count) is int and count > 0)


@all_slugs
def test_effective_from_is_null_or_a_date(slug):
    value = load(slug)["effective_from"]
    assert value is None or type(value) is datetime.date


@all_slugs
def test_slugs_are_lowercase_letters_digits_and_hyphens(slug):
    policy = load(slug)
    assert SLUG_RE.match(policy["slug"])
    assert SLUG_RE.match(policy["authority"]["slug"])
    for role in policy["roles"]:
        assert SLUG_RE.match(role), role


@all_slugs
def test_every_role_slug_used_is_declared_in_roles(slug):
    policy = load(slug)
    assert roles_used(policy) <= set(policy["roles"])


@all_slugs
def test_roles_declares_no_unused_slug(slug):
    policy = load(slug)
    assert set(policy["roles"]) <= roles_used(policy)


@all_slugs
def test_every_stage_and_informal_stage_has_guidance(slug):
    policy = load(slug)
    entries = list(policy["stages"])
    if policy["informal"] is not None:
        entries.append(policy["informal"])
    for entry in entries:
        assert isinstance(entry["guidance"], str) and entry["guidance"].strip(), entry["name"]


@all_slugs
def test_stage_names_are_unique_within_a_ladder(slug):
    names = column(slug, "name")
    assert len(names) == len(set(names))


@all_slugs
def test_copies_never_name_the_stage_responder_as_a_post(slug):
    for stage in stages(slug):
        assert stage["role"] not in stage["copy"].get("posts", []), stage["name"]


@all_slugs
def test_copies_name_relationships_never_whole_roles(slug):
    # Need to know: a copy goes to the people on this case, so no stage copies a role
    # that many people hold (a social worker, a team manager, a chair) as a post.
    many_held = {"social-worker", "team-manager", "cp-chair", "service-manager", "qa-manager"}
    for stage in stages(slug):
        assert not many_held & set(stage["copy"].get("posts", [])), stage["name"]


@all_slugs
def test_at_most_one_final_stage_and_it_is_the_last(slug):
    finals = [i for i, final in enumerate(column(slug, "final")) if final]
    assert finals in ([], [len(stages(slug)) - 1])


@all_slugs
def test_direct_entry_is_used_only_when_bypass_allows_it(slug):
    if load(slug)["bypass"]["allowed"] == "none":
        assert not any(column(slug, "direct_entry"))


def test_each_role_slug_has_one_display_name_across_files():
    names: dict[str, set[str]] = {}
    for slug in SLUGS:
        for role, display in load(slug)["roles"].items():
            names.setdefault(role, set()).add(display)
    assert {role: shown for role, shown in names.items() if len(shown) > 1} == {}


def test_each_authority_slug_has_one_name_and_nation_across_files():
    seen: dict[str, set[tuple[str, str]]] = {}
    for slug in SLUGS:
        authority = load(slug)["authority"]
        seen.setdefault(authority["slug"], set()).add((authority["name"], authority["nation"]))
    assert {a: v for a, v in seen.items() if len(v) > 1} == {}


@pytest.mark.parametrize(
    ("slug", "seed_file"),
    [
        ("mosaic-authority", "000_ac901a2f3f66d0ff.txt"),
        ("cwm-taf", "001_e4570633d3245504.txt"),
        ("stoke-on-trent", "002_5499c6082ca01d2a.txt"),
        ("stoke-on-trent-about-crm", "002_5499c6082ca01d2a.txt"),
        ("rutland", "003_f1e9d83e60320f9f.txt"),
        ("gloucestershire", "004_94bca7177ee43b1f.txt"),
        ("gloucestershire-about-chair", "004_94bca7177ee43b1f.txt"),
    ],
)
def test_source_names_the_seed_file(slug, seed_file):
    assert load(slug)["source"].startswith(seed_file)


# --- 000 Mosaic authority ---------------------------------------------------------------

MOSAIC = "mosaic-authority"


def test_mosaic_authority_is_an_unnamed_english_council():
    assert load(MOSAIC)["authority"] == {
        "slug": "mosaic-authority",
        "name": "Mosaic authority (English council, not named in the policy)",
        "nation": "ENG",
    }


def test_mosaic_informal_is_the_line_manager_within_5_working_days():
    # "resolve the issue directly with the Line Manager" ... "within 5 working days" (§3.1-3.2)
    informal = load(MOSAIC)["informal"]
    assert (informal["role"], informal["response_days"], informal["day_type"]) == (
        "line-manager",
        5,
        "working",
    )


def test_mosaic_ladder_is_tm_sm_sqa_divisional_director():
    # §4.2-4.5 and the Escalation Flow Chart
    assert column(MOSAIC, "role") == [
        "team-manager",
        "service-manager",
        "service-manager-sqa",
        "divisional-director",
    ]


def test_mosaic_stage_names():
    assert column(MOSAIC, "name") == [
        "Stage 1: Team Manager",
        "Stage 2: Service Manager",
        "Stage 3: Service Manager S+QA (jointly with the Stage 2 Service Manager)",
        "Stage 4: Divisional Director of Children's Social Care",
    ]


def test_mosaic_response_days_follow_the_flow_chart():
    # flow chart: "5 days", "5 days", "5 days", "8 days"; §4.6 "8 working days"
    assert column(MOSAIC, "response_days") == [5, 5, 5, 8]
    assert column(MOSAIC, "day_type") == ["working"] * 4


def test_mosaic_modes():
    # Mosaic proforma; proforma; "the two Service Managers will reach a resolution";
    # "drawing up a written statement of the issue"
    assert column(MOSAIC, "mode") == [
        "written_response",
        "written_response",
        "discussion",
        "written_statement",
    ]


def test_mosaic_only_the_informal_stage_may_be_bypassed():
    # "may require a formal resolution (bypassing an informal resolution)" (§3.3)
    assert load(MOSAIC)["bypass"] == {"allowed": "direct_entry_only", "reason_required": True}
    assert column(MOSAIC, "direct_entry") == [True, False, False, False]


def test_mosaic_divisional_director_decision_is_final():
    # "The Decision of the Divisional Director is final" (§4.7)
    assert column(MOSAIC, "final") == [False, False, False, True]


def test_mosaic_stage_3_copies_the_stage_2_service_manager():
    assert stages(MOSAIC)[2]["copy"] == {"case_line": ["service-manager"]}


def test_mosaic_stage_4_statement_goes_to_social_workers_managers_and_service_manager():
    # "A copy of the statement should also be sent to the appropriate Social Workers,
    # Managers and Service Manager." (§4.5)
    assert stages(MOSAIC)[3]["copy"] == {
        "social_workers": True,
        "case_line": ["team-manager", "service-manager"],
    }


def test_mosaic_has_no_formal_cap_and_no_immediate_safety_route():
    policy = load(MOSAIC)
    assert (policy["formal_cap_working_days"], policy["immediate_safety"]) == (None, None)


def test_mosaic_categories_are_the_four_lettered_groups():
    # §2.1 a) Engagement (3) b) Timeliness (4) c) Practice Issues (2) d) Other (3)
    assert categories(MOSAIC) == [
        ("Engagement", 3),
        ("Timeliness", 4),
        ("Practice Issues", 2),
        ("Other", 3),
    ]


def test_mosaic_other_category_lists_the_chairs_examples():
    other = load(MOSAIC)["categories"][3]
    assert other["items"] == [
        "Chronology not being completed",
        "ICPC booked out of timescales",
        "S47 not completed",
    ]


# --- 001 Cwm Taf ------------------------------------------------------------------------

CWM_TAF = "cwm-taf"


def test_cwm_taf_is_welsh():
    # "All Wales Child Protection Procedures 2008"
    assert load(CWM_TAF)["authority"]["nation"] == "WLS"


def test_cwm_taf_is_dated_january_2014():
    # "Date: January 2014"
    assert load(CWM_TAF)["effective_from"] == datetime.date(2014, 1, 1)


def test_cwm_taf_informal_response_within_2_weeks_from_any_agency():
    # "responding to issues or problems raised within 2 weeks"; "the conference attendee or
    # their manager from the agency concerned": in the council the social worker or their
    # team manager, in other agencies a partner from the directory.
    informal = load(CWM_TAF)["informal"]
    assert (
        informal["role"],
        informal["also_roles"],
        informal["response_days"],
        informal["day_type"],
        informal["mode"],
        informal["partner_responders"],
    ) == ("social-worker", ["team-manager"], 14, "calendar", "discussion", True)


def test_cwm_taf_ladder_order():
    # §2 CP Coordinator, §3 Lead Safeguarding Manager, §4 QASG, §5 Feedback
    assert column(CWM_TAF, "role") == [
        "cp-coordinator",
        "lead-safeguarding-manager",
        "qasg-chair",
        "cp-coordinator",
    ]


def test_cwm_taf_stage_names():
    assert column(CWM_TAF, "name") == [
        "Discussion with Child Protection Coordinator/Safeguarding Manager",
        "Lead Safeguarding Manager",
        "Report to QASG via Chair of QASG",
        "Feedback for Conference Chair",
    ]


def test_cwm_taf_formal_stages_set_no_timescale():
    assert column(CWM_TAF, "response_days") == [None, None, None, None]


def test_cwm_taf_modes():
    # "recorded in the Supervision Record"; (no form named); "reported to the Chair of
    # QASG via email, outlining the issue"; "discussed in supervision"
    assert column(CWM_TAF, "mode") == [
        "discussion",
        "discussion",
        "written_statement",
        "discussion",
    ]


def test_cwm_taf_urgent_matters_may_go_straight_to_the_lead_safeguarding_manager():
    # "or in their absence if the matter is urgent the Lead Safeguarding Manager" (§2)
    assert load(CWM_TAF)["bypass"]["allowed"] == "direct_entry_only"
    assert column(CWM_TAF, "direct_entry") == [False, True, False, False]


def test_cwm_taf_immediate_safety_goes_to_the_cp_coordinator():
    route = load(CWM_TAF)["immediate_safety"]
    assert route["role"] == "cp-coordinator"
    assert "Lead Safeguarding Manager" in route["route"]
    assert "Team Manager and Service Manager" in route["route"]


def test_cwm_taf_lead_safeguarding_manager_may_set_aside_the_decision():
    guidance = stages(CWM_TAF)[1]["guidance"]
    assert "set aside the conference decision" in " ".join(guidance.split())


def test_cwm_taf_qasg_guidance_lists_its_options():
    guidance = " ".join(stages(CWM_TAF)[2]["guidance"].split())
    for option in (
        "Request individual agency reports",
        "Request multi agency audit",
        "recommendations can be made to agencies",
    ):
        assert option in guidance


def test_cwm_taf_guidance_lists_the_resolution_form_fields():
    guidance = " ".join(load(CWM_TAF)["informal"]["guidance"].split())
    for field in (
        "Name",
        "DOB",
        "Address",
        "Social Worker",
        "Legal Status",
        "Date of completion",
        "Actions taken by the Conference Chair",
        "Response to Issues Raised by whom and when",
        "Outcome of Issues Raised",
        "Conference Chair satisfied with outcome",
    ):
        assert field in guidance


def test_cwm_taf_categories_are_the_two_example_lists():
    assert categories(CWM_TAF) == [
        ("Informal discussion examples", 5),
        ("Discussion with CP Coordinator examples", 5),
    ]


# --- 002 Stoke-on-Trent -----------------------------------------------------------------

STOKE = "stoke-on-trent"


def test_stoke_was_devised_in_october_2021():
    # "This protocol was devised in October 2021"
    assert load(STOKE)["effective_from"] == datetime.date(2021, 10, 1)


def test_stoke_informal_is_social_worker_team_manager_5_working_days():
    # Table 1: "Informal  Social Worker/Team Manager  5"
    informal = load(STOKE)["informal"]
    assert (informal["role"], informal["response_days"], informal["day_type"]) == (
        "social-worker",
        5,
        "working",
    )


def test_stoke_ladder_follows_table_1():
    assert column(STOKE, "role") == [
        "service-manager",
        "strategic-manager",
        "assistant-director",
        "director-childrens-services",
    ]


def test_stoke_stage_names():
    assert column(STOKE, "name") == [
        "Stage 1: Service Manager",
        "Stage 2: Strategic Manager",
        "Stage 3: Assistant Director",
        "Stage 4: Director of Children's Services",
    ]


def test_stoke_stage_1_has_no_timescale_because_the_table_cell_is_empty():
    assert stages(STOKE)[0]["response_days"] is None


def test_stoke_stages_2_to_4_respond_within_5_working_days():
    assert column(STOKE, "response_days")[1:] == [5, 5, 5]
    assert column(STOKE, "day_type") == ["working"] * 4


def test_stoke_formal_process_is_capped_at_20_working_days():
    # "the formal process from start to finish should be completed within 20 working days"
    assert load(STOKE)["formal_cap_working_days"] == 20


def test_stoke_crm_may_go_to_any_level_and_must_give_reasons():
    # "discretion to proceed directly to the level they consider most appropriate";
    # "will outline the reasons for this within the escalation"
    assert load(STOKE)["bypass"] == {"allowed": "any", "reason_required": True}


def test_stoke_no_stage_is_called_final():
    assert column(STOKE, "final") == [False] * 4


def test_stoke_categories_are_sections_2_1_and_2_2():
    assert categories(STOKE) == [
        ("Concerns that may be dealt with at an informal level", 6),
        ("Concerns that might need formal escalation", 14),
    ]


# --- 002 §9 Stoke-on-Trent, concerns about a CRM ----------------------------------------

STOKE_CRM = "stoke-on-trent-about-crm"


def test_stoke_about_crm_is_the_reverse_procedure_raised_by_social_work_staff():
    policy = load(STOKE_CRM)
    assert (policy["kind"], policy["raisers"]) == (
        "about_chair",
        ["social-worker", "team-manager"],
    )


def test_stoke_about_crm_starts_directly_with_the_crm_without_a_timescale():
    # "contacting the CRM and attempting to resolve the problem directly with them"
    informal = load(STOKE_CRM)["informal"]
    assert (informal["role"], informal["response_days"]) == ("cp-chair", None)


def test_stoke_about_crm_escalates_to_the_crms_service_manager_without_a_timescale():
    # "This can be escalated to their Service Manager if not resolved."
    assert column(STOKE_CRM, "role") == ["cp-service-manager"]
    assert column(STOKE_CRM, "response_days") == [None]


def test_stoke_about_crm_shares_the_stoke_authority():
    assert load(STOKE_CRM)["authority"] == load(STOKE)["authority"]


# --- 003 Rutland ------------------------------------------------------------------------

RUTLAND = "rutland"


def test_rutland_informal_is_a_threshold_discussion_with_the_service_manager():
    # "they should in the first instance discuss the concerns with the Service Manager"
    informal = load(RUTLAND)["informal"]
    assert (informal["role"], informal["response_days"], informal["mode"]) == (
        "service-manager",
        None,
        "discussion",
    )


def test_rutland_ladder_has_six_rungs_in_table_order():
    assert column(RUTLAND, "role") == [
        "team-manager",
        "service-manager",
        "head-of-service",
        "director-for-people",
        "lscb-independent-chair",
        "cafcass",
    ]


def test_rutland_stage_names():
    assert column(RUTLAND, "name") == [
        "Stage 1: Team Manager",
        "Stage 2: Service Manager",
        "Stage 3: Head of Service",
        "Stage 4: Director for People",
        "Stage 5: Independent Chair of the LSCB",
        "Stage 6: CAFCASS",
    ]


def test_rutland_response_days():
    # "5 working days" x3; "10 days to hold and meeting"; "within 10 working days"; none
    assert column(RUTLAND, "response_days") == [5, 5, 5, 10, 10, None]


def test_rutland_stage_4_counts_calendar_days():
    # "The Director for People has 10 days" (no "working")
    assert column(RUTLAND, "day_type") == [
        "working",
        "working",
        "working",
        "calendar",
        "working",
        "working",
    ]


def test_rutland_modes():
    assert column(RUTLAND, "mode") == [
        "written_response",
        "written_response",
        "written_response",
        "meeting",
        "meeting",
        "handover",
    ]


def test_rutland_qa_manager_raises_stages_5_and_6():
    # "the QA manager can move to stage 5"; "the QA Manager has the option to hand this
    # over to CAFCASS"
    assert column(RUTLAND, "raised_by") == [
        "raiser",
        "raiser",
        "raiser",
        "raiser",
        "qa_manager",
        "qa_manager",
    ]


def test_rutland_serious_cases_may_enter_at_stage_3_or_4():
    # "discretion to proceed directly to stage 3 and 4 in more serious or urgent cases"
    assert load(RUTLAND)["bypass"]["allowed"] == "direct_entry_only"
    assert column(RUTLAND, "direct_entry") == [False, False, True, True, False, False]


def test_rutland_stage_4_invites_the_key_personnel():
    # "(worker, team manager, service manager and Head of Service)"; response "to the QA
    # Manager"
    assert stages(RUTLAND)[3]["copy"] == {
        "social_workers": True,
        "case_line": ["team-manager", "service-manager", "head-of-service"],
        "qa_managers": True,
    }
    assert stages(RUTLAND)[3]["response_to_qa_managers"] is True


def test_rutland_stage_5_copies_the_director_and_the_chair_who_raised_it():
    # "a meeting with the Independent Chair of the LSCB, Director for People, QA Manager
    # and, if relevant, the IRO"
    assert stages(RUTLAND)[4]["copy"] == {"posts": ["director-for-people"], "raiser": True}


def test_rutland_lscb_chair_and_cafcass_are_outside_the_council():
    assert column(RUTLAND, "partner_responders") == [False] * 4 + [True, True]


def test_rutland_cafcass_follows_stage_5_rather_than_being_available_at_any_point():
    # "the QA Manager has the option to hand this over to CAFCASS, following the dispute
    # resolution process"
    assert column(RUTLAND, "referral") == [False] * 6


def test_rutland_has_no_formal_cap():
    assert load(RUTLAND)["formal_cap_working_days"] is None


def test_rutland_categories_are_the_five_examples():
    assert categories(RUTLAND) == [
        ("Examples of concerns that may initiate the escalation process", 5),
    ]


# --- 004 Gloucestershire ----------------------------------------------------------------

GLOS = "gloucestershire"


def test_gloucestershire_informal_is_the_social_worker_within_2_working_days():
    # "has two working days to respond to the alert"
    informal = load(GLOS)["informal"]
    assert (informal["role"], informal["response_days"], informal["day_type"]) == (
        "social-worker",
        2,
        "working",
    )


def test_gloucestershire_ladder_follows_the_flow_chart():
    assert column(GLOS, "role") == [
        "team-manager",
        "team-manager",
        "head-of-service",
        "assistant-director",
        "director-childrens-services",
        "chief-executive",
    ]


def test_gloucestershire_stage_names():
    assert column(GLOS, "name") == [
        "Stage 1: Team Manager (Dispute Resolution Form)",
        "Stage 2: Resolution Meeting with Team Manager & Social Worker",
        "Stage 3: Head of Service",
        "Stage 4: Assistant Director",
        "Stage 5: Director of Children's Services",
        "Stage 6: Chief Executive",
    ]


def test_gloucestershire_every_stage_responds_within_4_working_days():
    assert column(GLOS, "response_days") == [4] * 6
    assert column(GLOS, "day_type") == ["working"] * 6


def test_gloucestershire_stage_2_is_a_resolution_meeting():
    assert column(GLOS, "mode") == [
        "written_response",
        "meeting",
        "written_response",
        "written_response",
        "written_response",
        "written_response",
    ]


def test_gloucestershire_formal_process_is_capped_at_20_working_days():
    # "The total number of working days ... is 20 working days."
    assert load(GLOS)["formal_cap_working_days"] == 20


def test_gloucestershire_chair_may_bypass_any_stage():
    # "may bypass any stage and progress the dispute to the level s/he considers most
    # appropriate"
    assert load(GLOS)["bypass"]["allowed"] == "any"
    assert column(GLOS, "direct_entry") == [True] * 6


def test_gloucestershire_chief_executive_determines_the_dispute():
    # "Chief Executive Officer to determine resolution of the dispute."
    assert column(GLOS, "final") == [False] * 5 + [True]


def test_gloucestershire_cc_lists_follow_the_flow_chart():
    conference_tm = {"raiser_line": ["cp-conference-team-manager"]}
    assert column(GLOS, "copy") == [
        {},
        {"social_workers": True},
        {"social_workers": True, "case_line": ["team-manager"], **conference_tm},
        {"case_line": ["team-manager", "head-of-service"], **conference_tm},
        {"case_line": ["team-manager", "head-of-service", "assistant-director"], **conference_tm},
        {
            "posts": ["director-childrens-services"],
            "case_line": ["team-manager", "head-of-service", "assistant-director"],
            **conference_tm,
        },
    ]


def test_gloucestershire_categories_are_the_examples_plus_good_practice():
    assert categories(GLOS) == [
        ("General Issues", 7),
        ("Failure to meet statutory requirements", 6),
        ("Failure to manage the child protection plan", 3),
        (
            "Serious safeguarding issues emerging for which there has not been an "
            "appropriate response",
            2,
        ),
        ("Good practice", 1),
    ]


def test_gloucestershire_only_the_good_practice_group_records_good_practice():
    flags = [group["good_practice"] for group in load(GLOS)["categories"]]
    assert flags == [False, False, False, False, True]


# --- 004 Gloucestershire, concerns about a chair ----------------------------------------

GLOS_CHAIR = "gloucestershire-about-chair"


def test_gloucestershire_about_chair_is_raised_by_social_worker_or_team_manager():
    policy = load(GLOS_CHAIR)
    assert (policy["kind"], policy["raisers"]) == (
        "about_chair",
        ["social-worker", "team-manager"],
    )


def test_gloucestershire_about_chair_must_be_raised_within_5_working_days():
    # "within 5 working days of the Conference"
    assert load(GLOS_CHAIR)["raise_window_working_days"] == 5


def test_gloucestershire_about_chair_goes_to_cp_service_manager_then_head_of_service():
    # "contact the Child Protection Service Manager"; "liaise with their relevant Head of
    # Service"
    assert column(GLOS_CHAIR, "role") == ["cp-service-manager", "head-of-service"]
    assert column(GLOS_CHAIR, "response_days") == [None, None]


def test_gloucestershire_about_chair_shares_the_gloucestershire_authority():
    assert load(GLOS_CHAIR)["authority"] == load(GLOS)["authority"]


def test_stoke_and_gloucestershire_informal_stages_go_to_social_worker_or_team_manager():
    # Stoke Table 1: "Informal  Social Worker/Team Manager  5"; Gloucestershire: "the Social
    # Worker / Team Manager has two working days to respond to the alert".
    for slug in ("stoke-on-trent", "gloucestershire"):
        informal = load(slug)["informal"]
        assert (informal["role"], informal["also_roles"]) == ("social-worker", ["team-manager"])


def test_rutland_stage_4_asks_the_chair_for_a_written_statement_at_a_meeting():
    # "The Independent Chair will not attend the meeting, but is required to provide a
    # written statement of the alert (using Appendix 5)".
    stage = load("rutland")["stages"][3]
    assert (stage["mode"], stage["statement_required"]) == ("meeting", True)
