"""The child list (/children/): who finds which child, and searches that are odd.

The list is the children of the authority for chairs and QA, and of the person's own
line for everyone else (children.selectors.visible_children).
"""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from tests.fixtures import World

HUGE = "9" * 30


@pytest.fixture
def rutland(world_of) -> World:
    """Poppy Example, allocated to the north team's social worker (tests/fixtures.py)."""
    return world_of("rutland")


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def page(response) -> str:
    return html.unescape(response.content.decode())


def test_the_child_search_finds_by_name_and_reference_and_never_another_authoritys(
    rutland, child_of
):
    child_of("rutland", first_name="Aurora", last_name="Bramley", reference="RUT-777")
    child_of("gloucestershire", first_name="Aurora", last_name="Outsider", reference="GLO-777")
    client = signed_in(rutland.chair)
    url = reverse("children:list")

    everyone = page(client.get(url))
    assert "Poppy Example" in everyone
    assert "Aurora Bramley" in everyone
    assert "Outsider" not in everyone

    by_name = page(client.get(url, {"q": "aurora"}))
    assert "Aurora Bramley" in by_name
    assert "Poppy Example" not in by_name
    assert "Outsider" not in by_name

    by_reference = page(client.get(url, {"q": "777"}))
    assert "RUT-777" in by_reference
    assert "GLO-777" not in by_reference

    nothing = page(client.get(url, {"q": "Outsider"}))
    assert "No children found" in nothing
    assert "GLO-777" not in nothing


def test_a_social_worker_lists_only_their_own_line_s_children(rutland, child_of):
    other = child_of("rutland", first_name="Unrelated", last_name="Case")
    text = page(signed_in(rutland.north.worker).get(reverse("children:list")))
    assert "Poppy Example" in text
    assert "Unrelated Case" not in text
    assert other.reference not in text


@pytest.mark.parametrize(
    "params",
    [{"q": "a\x00b"}, {"q": "%"}, {"q": "_"}, {"q": "x" * 5000}, {"page": "abc"}, {"page": HUGE}],
    ids=["nul", "percent", "underscore", "long", "page-not-a-number", "huge-page"],
)
def test_odd_searches_are_a_200_never_a_500(rutland, params):
    response = signed_in(rutland.chair).get(reverse("children:list"), params)
    assert response.status_code == 200


def test_a_search_for_a_percent_sign_is_literal(rutland):
    text = page(signed_in(rutland.chair).get(reverse("children:list"), {"q": "%"}))
    assert "No children found" in text
