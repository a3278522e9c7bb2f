"""The conference an escalation arose from is shown on its page and its printed record."""

from __future__ import annotations

import html
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from escalations.models import Escalation
from tests.children.factories import ConferenceFactory
from tests.fixtures import World, at


@pytest.fixture
def world(world_of) -> World:
    return world_of("rutland")


def raised(world: World, raise_concern, **kwargs) -> Escalation:
    return raise_concern(
        "rutland",
        actor=world.chair,
        responder=world.north.service,
        children=[world.child],
        now=at(2026, 11, 2),
        **kwargs,
    )


def page(world: World, name: str, escalation: Escalation) -> str:
    client = Client()
    client.force_login(world.chair.user)
    response = client.get(reverse(name, args=[escalation.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("name", ["escalations:detail", "escalations:record"])
def test_the_escalation_names_the_conference_it_arose_from(world, raise_concern, name):
    conference = ConferenceFactory(child=world.child, kind="icpc", date=date(2026, 10, 28))
    escalation = raised(world, raise_concern, conference=conference)

    text = page(world, name, escalation)

    assert "Conference it arose from" in text
    assert "Initial child protection conference, 28 Oct 2026" in text


@pytest.mark.parametrize("name", ["escalations:detail", "escalations:record"])
def test_an_escalation_raised_from_no_conference_has_no_conference_row(world, raise_concern, name):
    escalation = raised(world, raise_concern)

    assert "Conference it arose from" not in page(world, name, escalation)
