"""For the next conference (children:conference): each escalation raised since the
child's previous conference with the conference it arose from, its current stage, its
latest response (who, when, the opening words) and its outcome — in a fixed number of
queries however many escalations there are."""

from __future__ import annotations

import html
from datetime import date, datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from children.models import Conference
from escalations import services
from escalations.models import Escalation
from tests.children.factories import ConferenceFactory
from tests.fixtures import World, at

VIEWED = at(2026, 11, 2, 12)  # Monday 2 November 2026, noon


@pytest.fixture
def world(world_of) -> World:
    return world_of("rutland")


@pytest.fixture
def conference(world) -> Conference:
    return ConferenceFactory(child=world.child, kind="rcpc", date=date(2026, 10, 23))


def raise_from(world: World, conference: Conference, raise_concern, now: datetime) -> Escalation:
    """Rutland's threshold discussion with Sam ServiceN, arising from `conference`."""
    return raise_concern(
        "rutland",
        actor=world.chair,
        responder=world.north.service,
        children=[world.child],
        conference=conference,
        now=now,
    )


def respond(escalation: Escalation, response: str, now: datetime) -> None:
    step = escalation.steps.get(closed_at__isnull=True)
    services.step_respond(actor=step.responder, step=step, response=response, now=now)


def conference_page(world: World) -> str:
    client = Client()
    client.force_login(world.chair.user)
    with time_machine.travel(VIEWED, tick=False):
        response = client.get(reverse("children:conference", args=[world.child.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_conference_page_names_the_conference_each_escalation_arose_from(
    world, conference, raise_concern
):
    raise_from(world, conference, raise_concern, at(2026, 10, 26))

    page = conference_page(world)

    assert "Conference it arose from" in page
    assert "Review child protection conference, 23 Oct 2026" in page


def test_an_escalation_awaiting_a_response_shows_its_stage_whom_it_waits_for_and_no_outcome(
    world, conference, raise_concern
):
    raise_from(world, conference, raise_concern, at(2026, 10, 26))

    page = conference_page(world)

    assert "Current stage" in page
    assert "Threshold discussion with the Service Manager / Head of Service" in page
    assert "Waiting for Sam ServiceN to respond" in page
    assert "None yet: still open" in page


def test_the_latest_response_says_who_gave_it_when_and_its_opening_words(
    world, conference, raise_concern
):
    escalation = raise_from(world, conference, raise_concern, at(2026, 10, 26))
    opening = "Core group meetings are booked for every fortnight from 4 November."
    respond(escalation, opening + " " + "More detail follows. " * 40, at(2026, 10, 28, 14, 5))

    page = conference_page(world)

    assert "Sam ServiceN, 28 Oct 2026, 14:05" in page
    assert opening in page
    assert "More detail follows. " * 20 not in page  # an excerpt, not the whole reply
    assert "Answered: waiting for Chris Chair to decide" in page


def test_the_latest_response_is_the_most_recent_stages(world, conference, raise_concern):
    escalation = raise_from(world, conference, raise_concern, at(2026, 10, 26))
    respond(escalation, "Threshold not met in my view.", at(2026, 10, 27))
    services.escalation_escalate(
        actor=world.chair,
        escalation=Escalation.objects.get(pk=escalation.pk),
        responder=world.north.manager,
        now=at(2026, 10, 28),
    )
    respond(escalation, "Visits restarted on Thursday.", at(2026, 10, 30, 9, 30))

    page = conference_page(world)

    assert "Stage 1: Team Manager" in page
    assert "Tess TeamN, 30 Oct 2026, 09:30" in page
    assert "Visits restarted on Thursday." in page
    assert "Threshold not met in my view." not in page


def test_a_resolved_escalation_shows_its_outcome_and_what_changed_for_the_child(
    world, conference, raise_concern
):
    escalation = raise_from(world, conference, raise_concern, at(2026, 10, 26))
    respond(escalation, "Visits are booked.", at(2026, 10, 27))
    services.escalation_resolve(
        actor=world.chair,
        escalation=Escalation.objects.get(pk=escalation.pk),
        outcome="Agreed at the threshold discussion.",
        outcome_for_child="Poppy is seen every ten days.",
        now=at(2026, 10, 29),
    )

    page = conference_page(world)

    assert "Last stage" in page
    assert "Agreed at the threshold discussion." in page
    assert "Poppy is seen every ten days." in page


def test_the_conference_page_reads_in_the_same_number_of_queries_for_one_or_ten(
    world, conference, raise_concern
):
    def queries_with(count: int) -> int:
        for n in range(count - Escalation.objects.count()):
            escalation = raise_from(world, conference, raise_concern, at(2026, 10, 26, 9 + n % 8))
            respond(escalation, f"Reply {n}.", at(2026, 10, 27))
        with CaptureQueriesContext(connection) as queries:
            page = conference_page(world)
        assert page.count("Conference it arose from") == count
        return len(queries)

    one = queries_with(1)
    ten = queries_with(10)

    assert ten == one
