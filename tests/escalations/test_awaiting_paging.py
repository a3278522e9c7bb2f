"""Awaiting my response is paged (a head of service at a large authority is asked hundreds
of times at once): fifty rows a page, the soonest deadline first, so the overdue first."""

import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from escalations import selectors
from tests.fixtures import LONDON, at

# Wednesday 25 November 2026, noon: Gloucestershire's Stage 1 (4 working days) raised on
# 2 November is overdue; raised that morning it is not.
TODAY = datetime(2026, 11, 25, 12, tzinfo=LONDON)
THAT_MORNING = at(2026, 11, 25, 9)
REFERENCE = re.compile(r">(ESC-\d{6})</a>")


@pytest.fixture
def manager(staff_of):
    return staff_of("gloucestershire", "team-manager")


def _asked(raise_concern, manager, n: int, start: datetime) -> list:
    return [
        raise_concern(
            "gloucestershire", stage_order=1, responder=manager, now=start + timedelta(minutes=i)
        )
        for i in range(n)
    ]


def _page(client, time_machine, manager, query: str = "") -> str:
    time_machine.move_to(TODAY, tick=False)
    client.force_login(manager.user)
    response = client.get(reverse("escalations:awaiting") + query)
    assert response.status_code == 200
    return response.content.decode()


def test_many_steps_awaiting_are_shown_fifty_at_a_time_overdue_first(
    client, time_machine, raise_concern, manager
):
    recent = _asked(raise_concern, manager, selectors.AWAITING_PAGE_SIZE, THAT_MORNING)
    overdue = _asked(raise_concern, manager, 2, at(2026, 11, 2, 9))
    first = _page(client, time_machine, manager)
    second = _page(client, time_machine, manager, "?page=2")
    on_first, on_second = REFERENCE.findall(first), REFERENCE.findall(second)
    assert len(on_first) == selectors.AWAITING_PAGE_SIZE
    assert on_first[:2] == [e.reference for e in overdue]
    assert len(on_second) == 2
    assert set(on_first) | set(on_second) == {e.reference for e in recent + overdue}
    assert f"Showing 1 to 50 of {len(recent) + len(overdue)}" in first
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_a_page_past_the_end_or_not_a_number_shows_a_page_and_no_error(
    client, time_machine, raise_concern, manager
):
    made = _asked(raise_concern, manager, 2, THAT_MORNING)
    for query in ("?page=99", "?page=abc", "?page=-1"):
        on_page = REFERENCE.findall(_page(client, time_machine, manager, query))
        assert sorted(on_page) == sorted(e.reference for e in made)
