"""Helpers every test app shares (registered by tests/conftest.py): the `at()` clock
helper, the `raise_concern` fixture and the `World` of an authority's people.

Test modules import from here, never from one another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from children.models import Child
from escalations.models import Escalation
from escalations.services import escalation_raise
from policies.models import ConcernCategory, Policy, Stage
from staff.models import StaffMember, Team
from tests.staff.factories import TeamFactory

LONDON = ZoneInfo("Europe/London")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """An aware moment, London time: at(2026, 11, 2) is 10:00 on Monday 2 November 2026."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def date_fields(name: str, day: date) -> dict[str, str]:
    """A GOV.UK date input's three boxes as the browser posts them (config.forms.GovukDateInput):
    date_fields("new_due_on", date(2026, 11, 16)) -> new_due_on_day=16, _month=11, _year=2026."""
    return {
        f"{name}_day": str(day.day),
        f"{name}_month": str(day.month),
        f"{name}_year": str(day.year),
    }


# Monday 2 November 2026: no bank holiday anywhere in the UK until 25 December.
MONDAY = at(2026, 11, 2)


def first_category(policy: Policy) -> list[ConcernCategory]:
    """The policy's first kind of concern, as a list to pass as `categories` (a policy that
    lists kinds of concern refuses a raise without one); [] where it lists none."""
    return list(
        policy.categories.filter(parent__isnull=False).order_by("parent__order", "order")[:1]
    )


def category_ticked(slug: str) -> list[int]:
    """The raise form's categories ticked as a chair would: the first kind of concern of the
    policy with that slug (none where it lists none)."""
    return [c.pk for c in first_category(Policy.objects.get(slug=slug))]


@pytest.fixture
def raise_concern(ladders, staff_of, child_of) -> Callable[..., Escalation]:
    """raise_concern("rutland", stage_order=3, now=...) -> an Escalation, via the service.

    The chair, the responder (with the target stage's role) and a child are made for the
    policy's authority unless given; `now` is MONDAY unless given.
    """

    def make(
        slug: str,
        *,
        stage_order: int | None = None,
        actor: StaffMember | None = None,
        responder: StaffMember | None = None,
        children: list[Child] | None = None,
        summary: str = "Statutory visits to the child are not happening.",
        now: datetime = MONDAY,
        **kwargs,
    ) -> Escalation:
        policy = ladders[slug]
        authority = policy.authority.slug
        stage = (
            Stage.objects.select_related("role").get(policy=policy, order=stage_order)
            if stage_order is not None
            else None
        )
        target = stage or policy.informal_stage or policy.stages.first()
        # A policy that lists kinds of concern needs one at the raise: its first, unless given.
        kwargs.setdefault("categories", first_category(policy))
        return escalation_raise(
            actor=actor or staff_of(authority, "cp-chair"),
            policy=policy,
            children=children if children is not None else [child_of(authority)],
            summary=summary,
            responder=responder or staff_of(authority, target.role.slug),
            stage=stage,
            now=now,
            **kwargs,
        )

    return make


@dataclass(frozen=True)
class Line:
    """One team and its line, from the head of service down to the social worker."""

    team: Team
    head: StaffMember
    service: StaffMember
    manager: StaffMember
    worker: StaffMember


@dataclass(frozen=True)
class World:
    """An authority's people, more than one in each role so that "everyone with the role"
    shows up as someone uninvolved told: two teams, each with its own line up to the one
    director; two chairs; a QA manager in each team; the LSCB's independent chair; and a
    child of the north team, allocated to its social worker."""

    policy: Policy
    director: StaffMember
    north: Line
    south: Line
    chair: StaffMember
    other_chair: StaffMember
    qa: StaffMember
    other_qa: StaffMember
    lscb: StaffMember
    child: Child


@pytest.fixture
def world_of(ladders, staff_of, child_of) -> Callable[[str], World]:
    """world_of("rutland") -> a World of that authority (its ladder's role slugs), every
    person with a name of their own ("Wren WorkerN" is the north team's social worker)."""

    def make(slug: str) -> World:
        policy = ladders[slug]
        authority = policy.authority

        def person(role: str, first: str, last: str, **kwargs) -> StaffMember:
            return staff_of(
                authority.slug, role, user__first_name=first, user__last_name=last, **kwargs
            )

        director = person("director-for-people", "Dana", "Director")
        lines = {}
        for side, initial in (("north", "N"), ("south", "S")):
            team = TeamFactory(authority=authority, name=f"Safeguarding Team {side.title()}")
            head = person("head-of-service", "Hana", f"Head{initial}", line_manager=director)
            service = person("service-manager", "Sam", f"Service{initial}", line_manager=head)
            manager = person(
                "team-manager", "Tess", f"Team{initial}", team=team, line_manager=service
            )
            worker = person(
                "social-worker", "Wren", f"Worker{initial}", team=team, line_manager=manager
            )
            lines[side] = Line(
                team=team, head=head, service=service, manager=manager, worker=worker
            )
        north, south = lines["north"], lines["south"]
        return World(
            policy=policy,
            director=director,
            north=north,
            south=south,
            chair=person("cp-chair", "Chris", "Chair"),
            other_chair=person("cp-chair", "Carla", "Otherchair"),
            qa=person("qa-manager", "Quinn", "Assurance", team=north.team),
            other_qa=person("qa-manager", "Quentin", "Otherqa", team=south.team),
            lscb=person("lscb-independent-chair", "Lee", "Board"),
            child=child_of(
                authority.slug,
                first_name="Poppy",
                last_name="Example",
                reference="RUT-0042",
                team=north.team,
                social_worker=north.worker,
            ),
        )

    return make
