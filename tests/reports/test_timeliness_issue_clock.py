"""The timeliness figures count both clocks: each stage issued on time or late (against its
issue-by date, Stage.issue_within_days) beside each reply on time or late; the tracker's
drill-downs and its CSV carry both.

Gloucestershire with issue-by clocks: Stage 1 within 3 working days of the conference,
Stage 2 within 2 working days of Stage 1's reply. November 2026 has no bank holiday.

    November 2026
    Mo Tu We Th Fr Sa Su
     2  3  4  5  6  7  8
     9 10 11 12 13 14 15
    16 17 18 19 20 21 22

On time: conference Mon 2 Nov, Stage 1 raised Wed 4 Nov (by Thu 5), answered Wed 4 Nov,
Stage 2 issued Fri 6 Nov (by Fri 6).
Late: conference Mon 2 Nov, Stage 1 raised Mon 9 Nov (by Thu 5), answered Tue 10 Nov,
Stage 2 issued Fri 13 Nov (by Thu 12).
Waiting: conference Mon 2 Nov, Stage 1 raised Tue 3 Nov, answered Wed 11 Nov: Stage 2 to be
issued by Fri 13 Nov, still not issued on Mon 16 Nov.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse

from escalations.models import Escalation, Step
from escalations.services import escalation_escalate, escalation_raise, step_respond
from reports import reporting
from tests.children.factories import ConferenceFactory
from tests.fixtures import World, at, first_category

TODAY = date(2026, 11, 16)
STAGE_1 = "Stage 1: Team Manager (Dispute Resolution Form)"
STAGE_2 = "Stage 2: Resolution Meeting with Team Manager & Social Worker"


@pytest.fixture
def world(world_of) -> World:
    w = world_of("gloucestershire")
    w.policy.stages.filter(order=1).update(issue_within_days=3)
    w.policy.stages.filter(order=2).update(issue_within_days=2)
    return w


def case(
    world: World,
    child_of,
    *,
    raised: datetime,
    answered: datetime,
    second: datetime | None,
) -> Escalation:
    child = child_of("gloucestershire", team=world.north.team, social_worker=world.north.worker)
    escalation = escalation_raise(
        actor=world.chair,
        policy=world.policy,
        categories=first_category(world.policy),
        children=[child],
        summary="Core group meetings not held.",
        stage=world.policy.stages.get(order=1),
        responder=world.north.manager,
        conference=ConferenceFactory(child=child, date=date(2026, 11, 2)),
        now=raised,
    )
    step = Step.objects.get(escalation=escalation)
    step_respond(actor=world.north.manager, step=step, response="Done.", now=answered)
    if second is not None:
        escalation_escalate(
            actor=world.chair,
            escalation=escalation,
            stage=world.policy.stages.get(order=2),
            responder=world.north.manager,
            now=second,
        )
    return escalation


@pytest.fixture
def cases(world, child_of) -> dict[str, Escalation]:
    return {
        "on_time": case(
            world, child_of, raised=at(2026, 11, 4), answered=at(2026, 11, 4, 15),
            second=at(2026, 11, 6),
        ),
        "late": case(
            world, child_of, raised=at(2026, 11, 9), answered=at(2026, 11, 10),
            second=at(2026, 11, 13),
        ),
        "waiting": case(
            world, child_of, raised=at(2026, 11, 3), answered=at(2026, 11, 11), second=None
        ),
    }  # fmt: skip


def dashboard(world: World) -> reporting.Dashboard:
    period = reporting.financial_quarter(TODAY)
    return reporting.dashboard(world.policy.authority, period, TODAY, reverse("reports:tracker"))


def by_stage(d: reporting.Dashboard) -> dict[str, dict]:
    return {row["stage"]: row for row in d.timescales}


def test_each_stage_counts_the_steps_issued_on_time_and_late(world, cases):
    rows = by_stage(dashboard(world))

    assert (rows[STAGE_1]["issued_on_time"], rows[STAGE_1]["issued_late"]) == (2, 1)
    assert (rows[STAGE_2]["issued_on_time"], rows[STAGE_2]["issued_late"]) == (1, 1)
    assert rows[STAGE_2]["percent_issued_on_time"] == 50


def test_the_reply_figures_are_counted_beside_them(world, cases):
    # Stage 1 is due 4 working days from raising: "waiting" was raised Tue 3 Nov, due Mon
    # 9 Nov and answered Wed 11 Nov, late; the other two replies came within it.
    rows = by_stage(dashboard(world))

    assert (rows[STAGE_1]["met"], rows[STAGE_1]["missed"]) == (2, 1)


def test_the_stages_waiting_past_their_issue_by_date_are_counted_now(world, cases):
    assert dashboard(world).issue_overdue_now == 1


def test_the_issued_late_figure_links_to_exactly_those_escalations(world, cases, client):
    link = by_stage(dashboard(world))[STAGE_1]["links"]["issued_late"]
    client.force_login(world.qa.user)

    with time_machine.travel(at(2026, 11, 16), tick=False):
        page = client.get(link).content.decode()

    assert cases["late"].reference in page
    assert cases["on_time"].reference not in page
    assert cases["waiting"].reference not in page


def csv_by_reference(client, world) -> dict[str, dict[str, str]]:
    client.force_login(world.qa.user)
    with time_machine.travel(at(2026, 11, 16), tick=False):
        response = client.get(reverse("reports:tracker_csv"))
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    return {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}


def test_the_csv_counts_each_escalations_steps_issued_and_answered_on_time_and_late(
    world, cases, client
):
    rows = csv_by_reference(client, world)

    on_time, late = rows[cases["on_time"].reference], rows[cases["late"].reference]
    assert (on_time["Steps issued on time"], on_time["Steps issued late"]) == ("2", "0")
    assert (late["Steps issued on time"], late["Steps issued late"]) == ("0", "2")
    assert (late["Replies on time"], late["Replies late"]) == ("1", "0")


def test_the_csv_says_by_when_the_next_stage_must_be_issued_and_that_it_is_overdue(
    world, cases, client
):
    rows = csv_by_reference(client, world)

    waiting = rows[cases["waiting"].reference]
    assert (waiting["Issue next stage by"], waiting["Issue overdue"]) == ("2026-11-13", "Yes")
    on_time = rows[cases["on_time"].reference]
    assert (on_time["Issue next stage by"], on_time["Issue overdue"]) == ("", "No")
