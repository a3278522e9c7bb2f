"""The two example ladders of issue 11 (policies/ladders/examples/), walked stage by stage.

Each example is loaded into the test database (the shipped ladders are there already;
"Example Borough" is not), its people are made, and an escalation is raised and driven
through the services to its last stage over Christmas 2026, checking every deadline
against dates worked out by hand below, never by the product's own arithmetic.

The calendar (England; bank holidays from the `holidays` package, checked by the first
test: Christmas Day Fri 25 Dec 2026, Boxing Day Sat 26 Dec 2026 with its substitute day
Mon 28 Dec 2026, New Year's Day Fri 1 Jan 2027; Example Borough has no closure days):

    December 2026              January 2027
    Mo Tu We Th Fr Sa Su       Mo Tu We Th Fr Sa Su
        1  2  3  4  5  6                    1* 2  3
     7  8  9 10 11 12 13        4  5  6  7  8  9 10
    14 15 16 17 18 19 20       11 12 13 14 15 16 17
    21 22 23 24 25*26*27       18 19 20 21 22 23 24
    28*29 30 31                25 26 27 28 29 30 31

    * bank holiday. Working days between Christmas and mid-January: Tue 29, Wed 30,
      Thu 31 Dec; Mon 4, Tue 5, Wed 6, Thu 7, Fri 8, Mon 11 ... Jan.

Counting (docs/architecture.md §7): the day received does not count; the deadline is the
Nth working day after it. Every moment below is 10:00 London time.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import holidays
import pytest
import yaml
from django.core.management import call_command

from children.models import Child
from escalations.models import Addressee, Escalation, State, Step
from escalations.services import (
    ActionRefused,
    escalation_escalate,
    escalation_raise,
    step_respond,
)
from notifications.models import Kind, Notification
from policies.ladder_files import (
    LADDER_DIR,
    check_ladder,
    export_policy,
    load_ladders,
    read_ladder,
    read_ladders,
)
from policies.models import LocalAuthority, Policy, Stage
from staff.models import Partner, StaffMember
from tests.children.factories import ChildFactory, ConferenceFactory
from tests.fixtures import at, first_category
from tests.staff.factories import StaffMemberFactory, TeamFactory

EXAMPLES_DIR = LADDER_DIR / "examples"
ALERTS = "example-borough-alerts"
PRACTICE = "example-borough-practice-resolution"


def example_files() -> list[Path]:
    return sorted(EXAMPLES_DIR.glob("*.yaml"))


def load_example(slug: str) -> Policy:
    """One example ladder, loaded beside the shipped ones (rolled back after the test).
    Each walk loads only its own; test_both_example_procedures_can_be_raised_when_loaded_
    together loads both."""
    load_ladders(copy.deepcopy(read_ladders([EXAMPLES_DIR / f"{slug}.yaml"])))
    return Policy.objects.get(slug=slug)


def person(authority: LocalAuthority, role: str, name: str, **kwargs) -> StaffMember:
    first, last = name.split()
    return StaffMemberFactory(
        authority=authority, role=role, user__first_name=first, user__last_name=last, **kwargs
    )


def stage(policy: Policy, order: int) -> Stage:
    return Stage.objects.get(policy=policy, order=order)


def reload(escalation: Escalation) -> Escalation:
    return Escalation.objects.get(pk=escalation.pk)


def copied_on(step: Step) -> set[StaffMember]:
    return {
        n.recipient
        for n in Notification.objects.filter(step=step, kind=Kind.STEP_COPIED).select_related(
            "recipient"
        )
    }


def due_dates(step: Step) -> dict[str, date | None]:
    return {a.name: a.due_on for a in Addressee.objects.filter(step=step)}


# --- the calendar the hand-worked dates rely on ------------------------------------------------


def test_the_bank_holidays_over_christmas_2026_are_the_ones_the_dates_were_worked_with():
    found = holidays.country_holidays("GB", subdiv="ENG", years=[2026, 2027])
    window = {d for d in found if date(2026, 12, 1) <= d <= date(2027, 1, 31)}
    assert window == {date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28), date(2027, 1, 1)}


# --- loading ----------------------------------------------------------------------------------


def test_example_ladders_are_not_loaded_by_default(ladders):
    assert not LocalAuthority.objects.filter(slug="example-borough").exists()
    assert EXAMPLES_DIR not in {p.parent for p in LADDER_DIR.glob("*.yaml")}


def test_example_ladders_name_their_roles_as_the_shipped_ladders_do():
    # read_ladders refuses one role slug with two display names across the files it reads;
    # loading an example must never rename a shipped role.
    read_ladders([*LADDER_DIR.glob("*.yaml"), *example_files()])


@pytest.mark.django_db
def test_load_policies_loads_the_examples_folder_when_asked(capsys):
    call_command("load_policies", str(EXAMPLES_DIR))

    assert sorted(
        Policy.objects.filter(authority__slug="example-borough").values_list("slug", flat=True)
    ) == [
        ALERTS,
        PRACTICE,
    ]


def test_both_example_procedures_can_be_raised_when_loaded_together(ladders):
    # Two procedures of one authority are not two versions of one procedure: each must
    # stay raisable beside the other.
    alerts = Alerts(load_example(ALERTS))
    practice = Practice(load_example(PRACTICE))

    alerts.raise_stage_1()
    practice.raise_stage_1()

    assert Escalation.objects.filter(authority__slug="example-borough").count() == 2


@pytest.mark.parametrize("slug", [ALERTS, PRACTICE])
def test_an_exported_example_ladder_matches_its_file(ladders, slug):
    expected = read_ladder(EXAMPLES_DIR / f"{slug}.yaml")
    policy = load_example(slug)

    exported = check_ladder(yaml.safe_load(export_policy(policy)), "export")

    # The export lists only the roles the policy uses, and role lists in the database's order.
    expected["roles"] = {k: v for k, v in expected["roles"].items() if k in exported["roles"]}
    for stage_ in [*expected["stages"], *exported["stages"]]:
        for key in ("also_roles", "raiser_roles"):
            stage_[key] = sorted(stage_[key])
    assert exported == expected


# --- (a) the Alerts Protocol ------------------------------------------------------------------


class Alerts:
    """Example Borough's people for the Alerts Protocol: one team's line from the social
    worker to the Strategic Director, the chair, and the two QA managers."""

    def __init__(self, policy: Policy) -> None:
        authority = policy.authority
        team = TeamFactory(authority=authority, name="Children in Need Team East")
        self.policy = policy
        self.director = person(authority, "strategic-director", "Sian Strategic")
        self.executive = person(
            authority,
            "executive-head-childrens-services",
            "Evan Executive",
            line_manager=self.director,
        )
        self.head = person(authority, "head-of-service", "Hana Head", line_manager=self.executive)
        self.manager = person(
            authority, "team-manager", "Tess Team", team=team, line_manager=self.head
        )
        self.assistant = person(
            authority,
            "assistant-team-manager",
            "Ash Assistant",
            team=team,
            line_manager=self.manager,
        )
        self.worker = person(
            authority, "social-worker", "Wren Worker", team=team, line_manager=self.assistant
        )
        self.chair = person(authority, "cp-chair", "Chris Chair")
        self.qa_service_manager = person(authority, "qa-service-manager", "Quinn Service")
        self.head_of_qa = person(authority, "head-of-qa", "Harper Quality")
        self.child: Child = ChildFactory(
            authority=authority, team=team, social_worker=self.worker, first_name="Poppy"
        )

    def raise_stage_1(self) -> Escalation:
        # Mon 21 Dec 2026.
        return escalation_raise(
            actor=self.chair,
            policy=self.policy,
            categories=first_category(self.policy),
            children=[self.child],
            summary="Core group meetings have not been held since the conference.",
            responder=self.worker,
            addressees=[self.worker, self.assistant, self.manager],
            now=at(2026, 12, 21),
        )

    def all_reply_to_stage_1(self, escalation: Escalation) -> Step:
        step = escalation.open_step()
        for who, moment in (
            (self.worker, at(2026, 12, 22)),
            (self.assistant, at(2026, 12, 23)),
            (self.manager, at(2026, 12, 29)),
        ):
            step_respond(actor=who, step=step, response="Core group booked.", now=moment)
        return step

    def escalate_to_stage_2(self, escalation: Escalation) -> Step:
        # Wed 30 Dec 2026, by the QA Service Manager.
        return escalation_escalate(
            actor=self.qa_service_manager,
            escalation=escalation,
            stage=stage(self.policy, 2),
            responder=self.head,
            now=at(2026, 12, 30),
        )

    def escalate_to_stage_3(self, escalation: Escalation) -> Step:
        step_respond(
            actor=self.head, step=escalation.open_step(), response="Noted.", now=at(2027, 1, 5)
        )
        # Wed 6 Jan 2027, by the Head of QA.
        return escalation_escalate(
            actor=self.head_of_qa,
            escalation=escalation,
            stage=stage(self.policy, 3),
            responder=self.executive,
            now=at(2027, 1, 6),
        )

    def escalate_to_stage_4(self, escalation: Escalation) -> Step:
        step_respond(
            actor=self.executive,
            step=escalation.open_step(),
            response="Reviewed.",
            now=at(2027, 1, 11),
        )
        # Tue 12 Jan 2027, by the Head of QA.
        return escalation_escalate(
            actor=self.head_of_qa,
            escalation=escalation,
            stage=stage(self.policy, 4),
            responder=self.director,
            now=at(2027, 1, 12),
        )


@pytest.fixture
def alerts(ladders) -> Alerts:
    return Alerts(load_example(ALERTS))


def test_alerts_stage_1_gives_each_of_the_three_their_own_deadline_over_christmas(alerts):
    # Received Mon 21 Dec (not counted): 1 Tue 22, 2 Wed 23, 3 Thu 24, (Fri 25, Sat 26,
    # Sun 27, Mon 28 are not working days), 4 Tue 29, 5 Wed 30 Dec 2026.
    escalation = alerts.raise_stage_1()

    step = escalation.open_step()
    assert step.due_on == date(2026, 12, 30)
    assert due_dates(step) == {
        "Wren Worker": date(2026, 12, 30),
        "Ash Assistant": date(2026, 12, 30),
        "Tess Team": date(2026, 12, 30),
    }
    assert step.issue_due_on is None  # the protocol sets no issue-by clock


def test_alerts_stage_1_is_answered_only_when_all_three_have_replied(alerts):
    escalation = alerts.raise_stage_1()
    step = escalation.open_step()
    step_respond(actor=alerts.worker, step=step, response="Booked.", now=at(2026, 12, 22))
    step_respond(actor=alerts.assistant, step=step, response="Agreed.", now=at(2026, 12, 23))

    assert Step.objects.get(pk=step.pk).responded_at is None
    assert reload(escalation).state == State.AWAITING_RESPONSE

    step_respond(actor=alerts.manager, step=step, response="Agreed.", now=at(2026, 12, 29))

    assert Step.objects.get(pk=step.pk).responded_at == at(2026, 12, 29)
    assert reload(escalation).state == State.RESPONSE_RECEIVED


def test_alerts_stage_2_is_due_five_working_days_later_over_new_year(alerts):
    escalation = alerts.raise_stage_1()
    alerts.all_reply_to_stage_1(escalation)

    step = alerts.escalate_to_stage_2(escalation)

    # Received Wed 30 Dec (not counted): 1 Thu 31 Dec, (Fri 1 Jan, Sat 2, Sun 3 are not
    # working days), 2 Mon 4, 3 Tue 5, 4 Wed 6, 5 Thu 7 Jan 2027.
    assert (step.stage_order, step.responder, step.raised_by) == (
        2,
        alerts.head,
        alerts.qa_service_manager,
    )
    assert step.due_on == date(2027, 1, 7)


def test_alerts_stage_2_copies_everyone_addressed_at_stage_1_and_the_chair(alerts):
    # "each stage copies everyone told before": all three Stage 1 addressees, not only the
    # first, and the chair who raised the escalation.
    escalation = alerts.raise_stage_1()
    alerts.all_reply_to_stage_1(escalation)

    step = alerts.escalate_to_stage_2(escalation)

    assert copied_on(step) == {alerts.chair, alerts.worker, alerts.assistant, alerts.manager}


def test_alerts_stage_2_may_not_be_raised_by_the_chair(alerts):
    # "Stage 2 the QA Service Manager escalates"
    escalation = alerts.raise_stage_1()
    alerts.all_reply_to_stage_1(escalation)

    with pytest.raises(ActionRefused) as refused:
        escalation_escalate(
            actor=alerts.chair,
            escalation=escalation,
            stage=stage(alerts.policy, 2),
            responder=alerts.head,
            now=at(2026, 12, 30),
        )

    assert refused.value.field == "stage"
    assert reload(escalation).steps.count() == 1


def test_alerts_stage_3_may_not_be_raised_by_the_qa_service_manager(alerts):
    # "Stage 3 the Head of QA escalates"
    escalation = alerts.raise_stage_1()
    alerts.all_reply_to_stage_1(escalation)
    alerts.escalate_to_stage_2(escalation)
    step_respond(
        actor=alerts.head, step=escalation.open_step(), response="Noted.", now=at(2027, 1, 5)
    )

    with pytest.raises(ActionRefused) as refused:
        escalation_escalate(
            actor=alerts.qa_service_manager,
            escalation=escalation,
            stage=stage(alerts.policy, 3),
            responder=alerts.executive,
            now=at(2027, 1, 6),
        )

    assert refused.value.field == "stage"
    assert reload(escalation).steps.count() == 2


def test_alerts_stage_3_is_due_five_working_days_after_the_head_of_qa_raises_it(alerts):
    escalation = alerts.raise_stage_1()
    alerts.all_reply_to_stage_1(escalation)
    alerts.escalate_to_stage_2(escalation)

    step = alerts.escalate_to_stage_3(escalation)

    # Received Wed 6 Jan 2027 (not counted): 1 Thu 7, 2 Fri 8, 3 Mon 11, 4 Tue 12, 5 Wed 13.
    assert (step.stage_order, step.responder, step.raised_by) == (
        3,
        alerts.executive,
        alerts.head_of_qa,
    )
    assert step.due_on == date(2027, 1, 13)


def test_alerts_stage_3_copies_everyone_told_at_stages_1_and_2(alerts):
    escalation = alerts.raise_stage_1()
    alerts.all_reply_to_stage_1(escalation)
    alerts.escalate_to_stage_2(escalation)

    step = alerts.escalate_to_stage_3(escalation)

    assert copied_on(step) == {
        alerts.chair,
        alerts.worker,
        alerts.assistant,
        alerts.manager,
        alerts.qa_service_manager,
        alerts.head,
    }


def test_alerts_stage_4_report_to_the_strategic_director_has_no_deadline(alerts):
    escalation = alerts.raise_stage_1()
    alerts.all_reply_to_stage_1(escalation)
    alerts.escalate_to_stage_2(escalation)
    alerts.escalate_to_stage_3(escalation)

    step = alerts.escalate_to_stage_4(escalation)

    # "the Head of QA reports to the Strategic Director, no timescale"
    assert (step.stage_order, step.responder, step.raised_by) == (
        4,
        alerts.director,
        alerts.head_of_qa,
    )
    assert (step.due_on, step.issue_due_on) == (None, None)


def test_alerts_stage_4_copies_everyone_told_at_stages_1_to_3(alerts):
    escalation = alerts.raise_stage_1()
    alerts.all_reply_to_stage_1(escalation)
    alerts.escalate_to_stage_2(escalation)
    alerts.escalate_to_stage_3(escalation)

    step = alerts.escalate_to_stage_4(escalation)

    assert copied_on(step) == {
        alerts.chair,
        alerts.worker,
        alerts.assistant,
        alerts.manager,
        alerts.qa_service_manager,
        alerts.head,
        alerts.executive,
    }


# --- (b) the multi-agency practice-resolution procedure --------------------------------------


class Practice:
    """Example Borough's people for the practice-resolution procedure: the practitioner's
    line manager and their manager, the council's Director of Children's Services, the
    chair, and the police and health Directors in the partner directory."""

    def __init__(self, policy: Policy) -> None:
        authority = policy.authority
        team = TeamFactory(authority=authority, name="Children in Need Team West")
        self.policy = policy
        self.director = person(authority, "director-childrens-services", "Dee Director")
        self.service_manager = person(
            authority, "service-manager", "Sam Service", line_manager=self.director
        )
        self.line_manager = person(
            authority, "line-manager", "Lin Line", team=team, line_manager=self.service_manager
        )
        self.worker = person(
            authority, "social-worker", "Wyn Worker", team=team, line_manager=self.line_manager
        )
        self.chair = person(authority, "cp-chair", "Cleo Chair")
        self.police = Partner.objects.create(
            authority=authority,
            name="Pat Police",
            job_title="Director of Public Protection",
            organisation="Example Borough Police",
            email="pat.police@example.invalid",
        )
        self.health = Partner.objects.create(
            authority=authority,
            name="Hal Health",
            job_title="Director of Nursing",
            organisation="Example Borough Integrated Care Board",
            email="hal.health@example.invalid",
        )
        self.child: Child = ChildFactory(authority=authority, team=team, social_worker=self.worker)
        # The conference the concern arose from: Tue 22 Dec 2026.
        self.conference = ConferenceFactory(child=self.child, date=date(2026, 12, 22))

    def raise_stage_1(self) -> Escalation:
        # Thu 24 Dec 2026, within the 3 working days from the conference.
        return escalation_raise(
            actor=self.chair,
            policy=self.policy,
            categories=first_category(self.policy),
            children=[self.child],
            summary="The plan's health actions have not been started.",
            responder=self.line_manager,
            conference=self.conference,
            now=at(2026, 12, 24),
        )

    def line_manager_replies(self, escalation: Escalation) -> Step:
        # Wed 30 Dec 2026.
        return step_respond(
            actor=self.line_manager,
            step=escalation.open_step(),
            response="Not agreed: the health visitor is allocated.",
            now=at(2026, 12, 30),
        )

    def escalate_to_stage_2(self, escalation: Escalation) -> Step:
        # Mon 4 Jan 2027: the last day of its issue-by clock.
        return escalation_escalate(
            actor=self.chair,
            escalation=escalation,
            stage=stage(self.policy, 2),
            responder=self.service_manager,
            now=at(2027, 1, 4),
        )

    def escalate_to_stage_3(self, escalation: Escalation) -> Step:
        step_respond(
            actor=self.service_manager,
            step=escalation.open_step(),
            response="Not resolved.",
            now=at(2027, 1, 14),
        )
        # Fri 15 Jan 2027: the Directors of the police, health and children's services.
        return escalation_escalate(
            actor=self.chair,
            escalation=escalation,
            stage=stage(self.policy, 3),
            responder=self.director,
            addressees=[self.director],
            partners=[self.police, self.health],
            now=at(2027, 1, 15),
        )


@pytest.fixture
def practice(ladders) -> Practice:
    return Practice(load_example(PRACTICE))


def test_practice_stage_1_must_be_issued_within_3_working_days_of_the_conference(practice):
    escalation = practice.raise_stage_1()

    # Conference Tue 22 Dec (not counted): 1 Wed 23, 2 Thu 24, (Fri 25 to Mon 28 are not
    # working days), 3 Tue 29 Dec 2026.
    assert escalation.open_step().issue_due_on == date(2026, 12, 29)


def test_practice_stage_1_line_manager_replies_within_10_working_days_over_the_holidays(practice):
    escalation = practice.raise_stage_1()

    # Received Thu 24 Dec (not counted): 1 Tue 29, 2 Wed 30, 3 Thu 31, 4 Mon 4 Jan,
    # 5 Tue 5, 6 Wed 6, 7 Thu 7, 8 Fri 8, 9 Mon 11, 10 Tue 12 Jan 2027.
    step = escalation.open_step()
    assert (step.responder, step.due_on) == (practice.line_manager, date(2027, 1, 12))


def test_practice_stage_1_may_go_to_a_line_manager_at_a_partner_agency(practice):
    # Multi-agency: the practitioner may work for the police; their line manager answers
    # from the partner directory, on the same clocks as a council line manager.
    sergeant = Partner.objects.create(
        authority=practice.policy.authority,
        name="Sid Sergeant",
        job_title="Sergeant, Public Protection Unit",
        organisation="Example Borough Police",
        email="sid.sergeant@example.invalid",
    )

    escalation = escalation_raise(
        actor=practice.chair,
        policy=practice.policy,
        categories=first_category(practice.policy),
        children=[practice.child],
        summary="The strategy discussion was not held.",
        partner=sergeant,
        conference=practice.conference,
        now=at(2026, 12, 24),
    )

    # As for the council's line manager: issue by Tue 29 Dec 2026, reply by Tue 12 Jan 2027.
    step = escalation.open_step()
    assert (step.partner, step.responder, step.issue_due_on, step.due_on) == (
        sergeant,
        None,
        date(2026, 12, 29),
        date(2027, 1, 12),
    )


def test_practice_stage_2_must_be_issued_within_2_working_days_of_the_stage_1_reply(practice):
    escalation = practice.raise_stage_1()

    step = practice.line_manager_replies(escalation)

    # Replied Wed 30 Dec (not counted): 1 Thu 31 Dec, (Fri 1 Jan, Sat 2, Sun 3 are not
    # working days), 2 Mon 4 Jan 2027: the chair's clock while the reply awaits them.
    assert Step.objects.get(pk=step.pk).next_issue_due_on == date(2027, 1, 4)


def test_practice_stage_2_carries_its_issue_by_date_and_a_10_working_day_reply(practice):
    escalation = practice.raise_stage_1()
    practice.line_manager_replies(escalation)

    step = practice.escalate_to_stage_2(escalation)

    # Issue by Mon 4 Jan 2027 (above), issued that day. Reply: received Mon 4 Jan (not
    # counted): 1 Tue 5, 2 Wed 6, 3 Thu 7, 4 Fri 8, 5 Mon 11, 6 Tue 12, 7 Wed 13, 8 Thu 14,
    # 9 Fri 15, 10 Mon 18 Jan 2027.
    assert (step.responder, step.issue_due_on, step.due_on) == (
        practice.service_manager,
        date(2027, 1, 4),
        date(2027, 1, 18),
    )


def test_practice_stage_3_addresses_the_director_of_each_organisation(practice):
    escalation = practice.raise_stage_1()
    practice.line_manager_replies(escalation)
    practice.escalate_to_stage_2(escalation)

    step = practice.escalate_to_stage_3(escalation)

    # "the Directors of each organisation involved (police, health, children's services),
    # each replying"; the description sets them no timescale and Stage 3 no issue-by clock.
    assert due_dates(step) == {
        "Dee Director": None,
        "Pat Police (Example Borough Police)": None,
        "Hal Health (Example Borough Integrated Care Board)": None,
    }
    assert (step.due_on, step.issue_due_on) == (None, None)


def test_practice_stage_3_is_answered_when_every_director_has_replied(practice):
    escalation = practice.raise_stage_1()
    practice.line_manager_replies(escalation)
    practice.escalate_to_stage_2(escalation)
    step = practice.escalate_to_stage_3(escalation)

    for who, moment in (
        (practice.police, at(2027, 1, 18)),
        (practice.director, at(2027, 1, 19)),
    ):
        step_respond(actor=who, step=step, response="Our agency's view.", now=moment)
    assert reload(escalation).state == State.AWAITING_RESPONSE

    step_respond(actor=practice.health, step=step, response="Agreed.", now=at(2027, 1, 20))

    assert reload(escalation).state == State.RESPONSE_RECEIVED
    assert Step.objects.get(pk=step.pk).responded_at == at(2027, 1, 20)
