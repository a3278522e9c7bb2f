"""What the report tests share: the Gloucestershire quarter they read, built through the
services (`build_quarter`, documented there), and the helpers that read the pages."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from escalations.models import Escalation, Nature, Step
from escalations.services import (
    escalation_escalate,
    escalation_raise,
    escalation_record_final_decision,
    escalation_resolve,
    escalation_withdraw,
    step_respond,
)
from policies.models import ConcernCategory, Stage
from reports import reporting
from staff.models import Team
from tests.fixtures import LONDON, at, first_category

UTC = ZoneInfo("UTC")

GLOUCESTERSHIRE = "gloucestershire"
RUTLAND = "rutland"
STOKE = "stoke-on-trent"
MOSAIC = "mosaic-authority"

TRACKER = "/reports/tracker/"
TODAY = date(2026, 11, 16)  # Monday 16 November 2026, in 2026-27 Q3
Q3 = reporting.Period(date(2026, 10, 1), date(2026, 12, 31), "2026-27 Q3")


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=LONDON)


REFERENCE = re.compile(r">(ESC-\d{6})<")


def listed(response) -> list[str]:
    """The escalation references a tracker page lists, in order."""
    assert response.status_code == 200, response.status_code
    return REFERENCE.findall(response.content.decode())


def refs(*escalations: Escalation) -> set[str]:
    return {e.reference for e in escalations}


# --- building escalations through the services -----------------------------------------


class Scenario:
    """Makes people, children and escalations through the services, always with `now=`."""

    def __init__(self, ladders, staff_of, child_of) -> None:
        self.ladders = ladders
        self.staff_of = staff_of
        self.child_of = child_of

    def authority_of(self, slug: str):
        return self.ladders[slug].authority

    def chair(self, slug: str, first: str = "Sam", last: str = "Chair"):
        return self.staff_of(
            self.authority_of(slug).slug,
            "cp-chair",
            user__first_name=first,
            user__last_name=last,
        )

    def team(self, slug: str, name: str) -> Team:
        return Team.objects.create(authority=self.authority_of(slug), name=name)

    def child(self, slug: str, reference: str | None = None, team: Team | None = None, **kwargs):
        kwargs["team"] = team
        if reference is not None:
            kwargs["reference"] = reference
        return self.child_of(self.authority_of(slug).slug, **kwargs)

    def category(self, slug: str, starts_with: str) -> ConcernCategory:
        return ConcernCategory.objects.get(
            policy=self.ladders[slug], parent__isnull=False, name__startswith=starts_with
        )

    def stage(self, slug: str, order: int) -> Stage:
        return Stage.objects.select_related("role").get(policy=self.ladders[slug], order=order)

    def raise_(
        self,
        slug: str,
        now: datetime,
        *,
        chair=None,
        children=None,
        stage: int | None = None,
        categories=(),
        nature: str = Nature.CONCERN,
        responder=None,
    ) -> Escalation:
        policy = self.ladders[slug]
        target = (
            self.stage(slug, stage)
            if stage is not None
            else (policy.informal_stage or policy.stages.first())
        )
        escalation = escalation_raise(
            actor=chair or self.chair(slug),
            policy=policy,
            children=children or [self.child(slug)],
            summary="Core group meetings are not being held.",
            responder=responder or self.staff_of(policy.authority.slug, target.role.slug),
            stage=self.stage(slug, stage) if stage is not None else None,
            categories=list(categories) or first_category(policy),
            nature=nature,
            reason="Urgent: the plan has drifted." if stage else "",
            statement={"issue": "x", "actions": "y", "wanted": "z"},
            now=now,
        )
        if not categories:
            # Raised before categories were required (a raise now needs one where the
            # policy lists them): the reports still count such escalations in no theme.
            escalation.categories.clear()
        return escalation

    def open_step(self, escalation: Escalation) -> Step:
        return Step.objects.get(escalation=escalation, closed_at__isnull=True)

    def respond(self, escalation: Escalation, now: datetime) -> Step:
        step = self.open_step(escalation)
        return step_respond(
            actor=step.responder,
            step=step,
            response="Visits are now booked.",
            meeting_date=now.astimezone(LONDON).date() if step.mode == "meeting" else None,
            now=now,
        )

    def escalate(self, escalation: Escalation, now: datetime, stage: int | None = None) -> Step:
        escalation = Escalation.objects.select_related("policy", "current_stage").get(
            pk=escalation.pk
        )
        if stage is None:
            target = escalation.policy.stages.filter(
                order__gt=escalation.current_stage.order
            ).first()
        else:
            target = self.stage(escalation.policy.slug, stage)
        return escalation_escalate(
            actor=escalation.raised_by,
            escalation=escalation,
            responder=self.staff_of(escalation.authority.slug, target.role.slug),
            stage=target,
            reason="Skipping a stage.",
            statement={"issue": "x", "actions": "y", "wanted": "z"},
            now=now,
        )

    def resolve(self, escalation: Escalation, now: datetime) -> Escalation:
        return escalation_resolve(
            actor=escalation.raised_by,
            escalation=escalation,
            outcome="Visits restarted.",
            now=now,
        )

    def final(self, escalation: Escalation, now: datetime) -> Escalation:
        return escalation_record_final_decision(
            actor=escalation.raised_by, escalation=escalation, decision="Plan stands.", now=now
        )

    def withdraw(self, escalation: Escalation, now: datetime) -> Escalation:
        return escalation_withdraw(
            actor=escalation.raised_by, escalation=escalation, reason="Raised in error.", now=now
        )


@pytest.fixture
def world(ladders, staff_of, child_of) -> Scenario:
    return Scenario(ladders, staff_of, child_of)


def build_quarter(world: Scenario) -> dict:
    """Gloucestershire's 2026-27 Q3 (1 Oct – 31 Dec 2026), seen on Monday 16 Nov 2026.

    Gloucestershire (England): informal stage 2 working days, every formal stage 4, and
    the whole formal process within 20 working days of its start (the earlier wins).

    E0  raised Wed 30 Sep (Q2) by Ann, North1, informal; resolved Fri 2 Oct.
    E1  raised Mon 5 Oct by Ann, North1, informal (due Wed 7 Oct); two General Issues
        items; answered Wed 7 Oct 16:00 (the deadline day: met); resolved Thu 8 Oct.
    E2  raised Mon 12 Oct by Ann, South1, informal (due Wed 14 Oct); "No allocated social
        worker"; answered Thu 15 Oct (missed); Stage 1 on Fri 16 Oct (due Thu 22 Oct; cap
        Fri 13 Nov); answered Thu 22 Oct 23:30 BST = 22:30 UTC (met); resolved Fri 23 Oct.
    E3  raised Mon 19 Oct by Ben, NoTeam1, straight to Stage 1 (due Fri 23 Oct; cap Mon
        16 Nov); General Issues "Lack of preparation" and "Drift/delay"; no answer, so Stage 2
        on Mon 26 Oct (due Fri 30 Oct); answered Mon 2 Nov (missed); Stage 3 on Tue 3 Nov
        (due Mon 9 Nov): still unanswered on Mon 16 Nov (missed, overdue).
    E4  raised Mon 9 Nov by Ben, South2, informal (due Wed 11 Nov): unanswered (overdue).
    E5  raised Thu 12 Nov by Ann, North2, straight to Stage 1 (due Wed 18 Nov): pending.
    E6  raised Fri 13 Nov by Ann, North1, good practice, informal (due Tue 17 Nov);
        resolved the same afternoon with no response asked for.
    E7  raised Mon 2 Nov by Ben, North2, informal (due Wed 4 Nov); withdrawn Tue 3 Nov.
    E9  raised Mon 2 Jun 2025 (2025-26 Q1) by Ann at Stage 1; resolved Tue 3 Jun 2025.
    E10 raised Mon 4 Nov 2024 (2024-25 Q3: before the eight quarters); resolved that day.
    X1  Rutland (another authority), raised Mon 5 Oct, open: never in these figures.
    """
    g = GLOUCESTERSHIRE
    ann = world.chair(g, "Ann", "Archer")
    ben = world.chair(g, "Ben", "Baker")
    north, south = world.team(g, "North Team"), world.team(g, "South Team")
    north1 = world.child(g, "GL-N1", north)
    north2 = world.child(g, "GL-N2", north)
    south1 = world.child(g, "GL-S1", south)
    south2 = world.child(g, "GL-S2", south)
    no_team = world.child(g, "GL-X1")
    lack = world.category(g, "Lack of preparation")
    decisions = world.category(g, "Conference decisions not acted on")
    unallocated = world.category(g, "No allocated social worker")
    drift = world.category(g, "Drift/delay")
    good = world.category(g, "Area of good practice")

    e0 = world.raise_(g, at(2026, 9, 30), chair=ann, children=[north1])
    world.resolve(e0, at(2026, 10, 2))

    e1 = world.raise_(
        g, at(2026, 10, 5), chair=ann, children=[north1], categories=[lack, decisions]
    )
    world.respond(e1, at(2026, 10, 7, 16))
    world.resolve(e1, at(2026, 10, 8))

    e2 = world.raise_(g, at(2026, 10, 12), chair=ann, children=[south1], categories=[unallocated])
    world.respond(e2, at(2026, 10, 15))
    world.escalate(e2, at(2026, 10, 16))
    world.respond(e2, at(2026, 10, 22, 23, 30))
    world.resolve(e2, at(2026, 10, 23))

    e3 = world.raise_(
        g, at(2026, 10, 19), chair=ben, children=[no_team], stage=1, categories=[lack, drift]
    )
    world.escalate(e3, at(2026, 10, 26))
    world.respond(e3, at(2026, 11, 2))
    world.escalate(e3, at(2026, 11, 3))

    e4 = world.raise_(g, at(2026, 11, 9), chair=ben, children=[south2])
    e5 = world.raise_(g, at(2026, 11, 12), chair=ann, children=[north2], stage=1)

    e6 = world.raise_(
        g,
        at(2026, 11, 13),
        chair=ann,
        children=[north1],
        categories=[good],
        nature=Nature.GOOD_PRACTICE,
    )
    world.resolve(e6, at(2026, 11, 13, 15))

    e7 = world.raise_(g, at(2026, 11, 2), chair=ben, children=[north2])
    world.withdraw(e7, at(2026, 11, 3))

    e9 = world.raise_(g, at(2025, 6, 2), chair=ann, children=[north1], stage=1)
    world.resolve(e9, at(2025, 6, 3))
    e10 = world.raise_(g, at(2024, 11, 4), chair=ann, children=[north1])
    world.resolve(e10, at(2024, 11, 4, 15))

    x1 = world.raise_(RUTLAND, at(2026, 10, 5), children=[world.child(RUTLAND, "RUT-LEAK-1")])
    return {
        "authority": world.authority_of(g),
        "policy": world.ladders[g],
        **{f"e{i}": e for i, e in enumerate([e0, e1, e2, e3, e4, e5, e6, e7])},
        "e9": e9,
        "e10": e10,
        "x1": x1,
        "ann": ann,
        "ben": ben,
        "north": north,
        "south": south,
        "lack": lack,
        "decisions": decisions,
        "unallocated": unallocated,
        "drift": drift,
        "good": good,
    }


@pytest.fixture
def quarter(world) -> dict:
    return build_quarter(world)


def qa_of(world: Scenario, slug: str):
    return world.staff_of(world.authority_of(slug).slug, "qa-manager")


def get_as(client, time_machine, user, url: str, today: date = TODAY):
    """GET `url` as `user` at noon London time on `today` (signed in at that moment)."""
    time_machine.move_to(noon(today), tick=False)
    client.force_login(user)
    return client.get(url)
