"""Two clocks per stage: the issue-by clock (Stage.issue_within_days) for whoever raises the
stage, and the respond-within clock for whoever answers it.

Gloucestershire, with an issue-by clock added to its stages as the multi-agency procedure
has them ("the chair sends the form within 3 WD … Stage 2 the form within 2 WD"): Stage 1
within 3 working days of the conference, Stage 2 within 2 working days of Stage 1's reply.

    November 2026            December 2026            January 2027
    Mo Tu We Th Fr Sa Su     Mo Tu We Th Fr Sa Su     Mo Tu We Th Fr Sa Su
                       1         1  2  3  4  5  6                  1  2  3
     2  3  4  5  6  7  8      7  8  9 10 11 12 13      4  5  6  7  8  9 10
     9 10 11 12 13 14 15     14 15 16 17 18 19 20
    16 17 18 19 20 21 22     21 22 23 24 25 26 27
    23 24 25 26 27 28 29     28 29 30 31
    30

Bank holidays: Fri 25 Dec, Mon 28 Dec (Boxing Day, moved), Fri 1 Jan.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from escalations import selectors
from escalations.forms import RaiseForm
from escalations.models import Escalation, Step
from escalations.services import (
    ActionRefused,
    escalation_escalate,
    escalation_raise,
    escalation_record_discussion,
    step_respond,
)
from escalations.sweep import process_due
from notifications.models import Kind, Notification
from tests.children.factories import ConferenceFactory
from tests.fixtures import MONDAY, World, at, first_category

pytestmark = pytest.mark.usefixtures("no_broker")

STAGE_2 = "Stage 2: Resolution Meeting with Team Manager & Social Worker"


@pytest.fixture
def world(world_of) -> World:
    w = world_of("gloucestershire")
    w.policy.stages.filter(order=1).update(issue_within_days=3)
    w.policy.stages.filter(order=2).update(issue_within_days=2)
    return w


def raise_stage_one(world: World, now: datetime = MONDAY, **kwargs) -> Escalation:
    """Stage 1 raised at `now` about a conference that day (its issue-by clock needs one)."""
    if "conference" not in kwargs:
        kwargs["conference"] = ConferenceFactory(child=world.child, date=timezone.localdate(now))
    return escalation_raise(
        actor=world.chair,
        policy=world.policy,
        categories=first_category(world.policy),
        children=[world.child],
        summary="Core group meetings not held.",
        stage=world.policy.stages.get(order=1),
        responder=world.north.manager,
        now=now,
        **kwargs,
    )


def open_step(escalation: Escalation) -> Step:
    return Step.objects.get(escalation=escalation, closed_at__isnull=True)


def answered_on(world: World, when: datetime) -> Step:
    """Stage 1 raised Mon 2 Nov, answered at `when`."""
    step = open_step(raise_stage_one(world))
    return step_respond(actor=world.north.manager, step=step, response="Done.", now=when)


def escalate_to_stage_two(world: World, escalation: Escalation, when: datetime) -> Step:
    return escalation_escalate(
        actor=world.chair,
        escalation=escalation,
        stage=world.policy.stages.get(order=2),
        responder=world.north.manager,
        now=when,
    )


def sweep(now: datetime) -> None:
    with time_machine.travel(now, tick=False):
        process_due(now)


def chair_alerts(world: World, kind: str, step: Step) -> list[int]:
    rows = Notification.objects.filter(step=step, kind=kind, recipient=world.chair)
    return sorted(rows.values_list("occurrence", flat=True))


# --- when each clock starts --------------------------------------------------------------


def test_the_first_stage_is_to_be_issued_within_its_days_of_the_conference(world):
    # Conference Mon 2 Nov + 3 working days = Thu 5 Nov.
    conference = ConferenceFactory(child=world.child, date=date(2026, 11, 2))

    step = open_step(raise_stage_one(world, now=at(2026, 11, 4), conference=conference))

    assert step.issue_due_on == date(2026, 11, 5)
    assert step.was_issued_late is False


def test_a_first_stage_issued_after_its_issue_by_date_was_issued_late(world):
    conference = ConferenceFactory(child=world.child, date=date(2026, 11, 2))

    step = open_step(raise_stage_one(world, now=at(2026, 11, 6), conference=conference))

    assert step.issue_due_on == date(2026, 11, 5)
    assert step.was_issued_late is True


def test_a_first_stage_with_an_issue_by_clock_needs_the_conference_it_runs_from(world):
    # Without it the clock would start the day the concern is raised: never late.
    with pytest.raises(ActionRefused, match="within 3 working days of the conference"):
        raise_stage_one(world, conference=None)

    assert not Escalation.objects.exists()


def test_a_stage_without_an_issue_by_clock_has_no_issue_by_date(world):
    world.policy.stages.filter(order=1).update(issue_within_days=None)

    step = open_step(raise_stage_one(world))

    assert (step.issue_due_on, step.was_issued_late) == (None, None)


def test_an_answer_starts_the_next_stages_issue_by_clock(world):
    # Answered Wed 4 Nov + 2 working days = Fri 6 Nov.
    step = answered_on(world, at(2026, 11, 4))

    assert step.next_issue_due_on == date(2026, 11, 6)


def test_the_issue_by_clock_passes_over_the_christmas_bank_holidays(world):
    # Answered Thu 24 Dec + 2 working days (Tue 29, Wed 30: Fri 25 and Mon 28 are bank
    # holidays) = Wed 30 Dec.
    escalation = raise_stage_one(world, now=at(2026, 12, 21))
    step = step_respond(
        actor=world.north.manager,
        step=open_step(escalation),
        response="Done.",
        now=at(2026, 12, 24),
    )

    assert step.next_issue_due_on == date(2026, 12, 30)


def test_no_issue_by_clock_runs_when_the_next_stage_has_none(world):
    world.policy.stages.filter(order=2).update(issue_within_days=None)

    step = answered_on(world, at(2026, 11, 4))

    assert step.next_issue_due_on is None


def test_the_next_stage_issued_by_its_date_was_on_time(world):
    step = answered_on(world, at(2026, 11, 4))

    second = escalate_to_stage_two(world, step.escalation, at(2026, 11, 6))

    assert (second.issue_due_on, second.was_issued_late) == (date(2026, 11, 6), False)


def test_the_next_stage_issued_after_its_date_was_late(world):
    step = answered_on(world, at(2026, 11, 4))

    second = escalate_to_stage_two(world, step.escalation, at(2026, 11, 9))

    assert (second.issue_due_on, second.was_issued_late) == (date(2026, 11, 6), True)


def test_with_no_reply_the_next_stage_counts_from_the_last_ones_deadline(world):
    # Stage 1 due Fri 6 Nov, never answered: Stage 2 by Fri 6 Nov + 2 working days = Tue 10.
    escalation = raise_stage_one(world)

    second = escalate_to_stage_two(world, escalation, at(2026, 11, 11))

    assert (second.issue_due_on, second.was_issued_late) == (date(2026, 11, 10), True)


def test_an_informal_discussion_recorded_unsettled_starts_stage_ones_issue_by_clock(world):
    # Stage 1 within 3 working days of the discussion's record: Tue 3 Nov + 3 = Fri 6 Nov.
    escalation = escalation_raise(
        actor=world.chair,
        policy=world.policy,
        categories=first_category(world.policy),
        children=[world.child],
        summary="Core group meetings not held.",
        responder=world.north.worker,
        now=MONDAY,
    )

    escalation_record_discussion(
        actor=world.chair,
        escalation=escalation,
        agreed="Spoke to the social worker: no change.",
        resolved=False,
        now=at(2026, 11, 3),
    )

    assert open_step(escalation).next_issue_due_on == date(2026, 11, 6)


# --- the sweep ---------------------------------------------------------------------------


def test_the_chair_is_reminded_on_the_last_working_day_before_the_issue_by_date(world):
    step = answered_on(world, at(2026, 11, 4))  # issue Stage 2 by Fri 6 Nov

    sweep(at(2026, 11, 4, 16))
    sweep(at(2026, 11, 5, 9))

    assert chair_alerts(world, Kind.ISSUE_DUE_SOON, step) == [0]
    first = Notification.objects.get(step=step, kind=Kind.ISSUE_DUE_SOON, recipient=world.chair)
    assert first.created_at == at(2026, 11, 5, 9)


def test_the_chair_is_alerted_the_day_after_the_issue_by_date_and_not_before(world):
    step = answered_on(world, at(2026, 11, 4))

    sweep(at(2026, 11, 6, 17))
    assert chair_alerts(world, Kind.ISSUE_OVERDUE, step) == []

    sweep(at(2026, 11, 9, 9))
    assert chair_alerts(world, Kind.ISSUE_OVERDUE, step) == [0]


def test_the_issue_by_alert_repeats_every_five_working_days(world):
    # Overdue from Mon 9 Nov (1 working day late); again on Mon 16 Nov (6 working days
    # late: the policy repeats every 5), not on Fri 13 Nov (5 late).
    step = answered_on(world, at(2026, 11, 4))

    for day in (9, 10, 11, 12, 13):
        sweep(at(2026, 11, day, 9))
    assert chair_alerts(world, Kind.ISSUE_OVERDUE, step) == [0]

    sweep(at(2026, 11, 16, 9))
    assert chair_alerts(world, Kind.ISSUE_OVERDUE, step) == [0, 1]


def test_the_issue_by_alert_is_not_the_responders(world):
    step = answered_on(world, at(2026, 11, 4))

    sweep(at(2026, 11, 9, 9))

    assert not Notification.objects.filter(step=step, recipient=world.north.manager).exclude(
        kind=Kind.STEP_RAISED
    )


def test_a_reply_overdue_alert_before_the_answer_does_not_stand_in_for_the_issue_alert(world):
    # Stage 1 due Fri 6 Nov: overdue alert Mon 9 Nov; answered Mon 9 Nov; issue Stage 2 by
    # Wed 11 Nov; the issue-by alert still comes on Thu 12 Nov.
    escalation = raise_stage_one(world)
    sweep(at(2026, 11, 9, 9))
    step = step_respond(
        actor=world.north.manager,
        step=open_step(escalation),
        response="Sorry for the delay.",
        now=at(2026, 11, 9, 12),
    )

    sweep(at(2026, 11, 12, 9))

    assert chair_alerts(world, Kind.OVERDUE, step) == [0]
    assert chair_alerts(world, Kind.ISSUE_OVERDUE, step) == [0]


def test_once_the_next_stage_is_issued_the_issue_by_clock_stops(world):
    step = answered_on(world, at(2026, 11, 4))
    escalate_to_stage_two(world, step.escalation, at(2026, 11, 6))

    sweep(at(2026, 11, 9, 9))

    assert chair_alerts(world, Kind.ISSUE_OVERDUE, step) == []


# --- shown with which clock bites --------------------------------------------------------


def test_the_page_says_by_when_the_next_stage_must_be_issued(world, client):
    step = answered_on(world, at(2026, 11, 4))
    client.force_login(world.chair.user)

    with time_machine.travel(at(2026, 11, 5), tick=False):
        page = client.get(reverse("escalations:detail", args=[step.escalation_id]))

    html = page.content.decode()
    assert f"Issue {STAGE_2} by Fri 6 Nov 2026" in html.replace("&amp;", "&")
    assert "1 working day left" in html


def test_the_case_sentence_names_the_issue_by_date_once_it_has_passed(world):
    step = answered_on(world, at(2026, 11, 4))

    sentence = selectors.case_sentence(step.escalation, date(2026, 11, 10))

    assert f"{STAGE_2} should have been issued by Fri 6 Nov — 2 working days overdue" in sentence


def test_the_chairs_to_do_says_which_clock_bites(world):
    step = answered_on(world, at(2026, 11, 4))

    sections = selectors.todo_sections(world.chair, date(2026, 11, 4))

    row = next(r for s in sections if s.key == "decide" for r in s.rows)
    assert row.step == step
    assert row.when == (
        f"Tess TeamN responded on Wed 4 Nov. Issue {STAGE_2} by Fri 6 Nov — 2 working days left"
    )
    assert not row.overdue


def test_the_chairs_to_do_marks_an_issue_by_date_passed_as_overdue(world):
    answered_on(world, at(2026, 11, 4))

    sections = selectors.todo_sections(world.chair, date(2026, 11, 9))

    row = next(r for s in sections if s.key == "decide" for r in s.rows)
    assert row.overdue


def test_the_responders_to_do_shows_the_reply_clock(world):
    step = open_step(raise_stage_one(world))

    sections = selectors.todo_sections(world.north.manager, date(2026, 11, 3))

    row = next(r for s in sections if s.key == "respond" for r in s.rows)
    assert row.step == step
    assert row.when == "by Fri 6 Nov — 3 working days left"


# --- a stage with no timescale, left unanswered ------------------------------------------


def test_after_a_stage_with_no_reply_and_no_deadline_the_next_counts_from_its_issue(
    ladders, raise_concern, staff_of
):
    # Cwm Taf: the discussion with the CP Coordinator (Stage 1) has no timescale. Left
    # unanswered it ends only when the chair moves on, so the Lead Safeguarding Manager's
    # stage (given an issue-by clock of 2 working days here) counts from the day it is
    # issued, Wed 11 Nov: by Fri 13 Nov, issued on time.
    policy = ladders["cwm-taf"]
    policy.stages.filter(order=2).update(issue_within_days=2)
    escalation = raise_concern("cwm-taf")  # the informal discussion, Mon 2 Nov
    escalation_escalate(
        actor=escalation.raised_by,
        escalation=escalation,
        stage=policy.stages.get(order=1),
        responder=staff_of("cwm-taf", "cp-coordinator"),
        now=at(2026, 11, 3),
    )
    assert (open_step(escalation).due_on, open_step(escalation).responded_at) == (None, None)

    second = escalation_escalate(
        actor=escalation.raised_by,
        escalation=escalation,
        stage=policy.stages.get(order=2),
        responder=staff_of("cwm-taf", "lead-safeguarding-manager"),
        reason="The CP Coordinator disagrees.",
        now=at(2026, 11, 11),
    )

    assert (second.issue_due_on, second.was_issued_late) == (date(2026, 11, 13), False)


def test_the_raise_form_says_by_when_the_first_stage_is_to_be_issued(world):
    # Conference Mon 2 Nov + 3 working days = Thu 5 Nov.
    ConferenceFactory(child=world.child, date=date(2026, 11, 2))
    form = RaiseForm(staff=world.chair, policy=world.policy, child=world.child)

    field = form.fields["conference"]
    labels = [label for _value, label in field.choices if _value]

    # Gloucestershire may also start at the informal stage, which has no clock: optional.
    assert not field.required
    assert field.help_text.startswith("If you start there, Stage 1")
    assert field.help_text.endswith("is to be issued within 3 working days of the conference.")
    assert labels == [
        "Initial child protection conference on Mon 2 Nov 2026: issue by Thu 5 Nov 2026"
    ]
