"""A QA manager's To do lists the longest overdue across the authority, not all of them
(hundreds at a large authority), and links to the tracker's overdue list for the rest;
a chair's To do asks the same queries however many rows it has."""

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations import selectors
from tests.fixtures import LONDON, at

SLUG = "gloucestershire"
# Wednesday 25 November 2026: Stage 1 (4 working days) raised on 2 November is overdue.
TODAY = datetime(2026, 11, 25, 12, tzinfo=LONDON)
REFERENCE = re.compile(r">(ESC-\d{6})</a>")


@pytest.fixture
def chair(staff_of):
    return staff_of(SLUG, "cp-chair")


@pytest.fixture
def overdue(raise_concern, chair):
    """Make `n` escalations the chair raised at Stage 1, overdue on TODAY."""

    def make(n: int) -> list:
        return [
            raise_concern(
                SLUG, stage_order=1, actor=chair, now=at(2026, 11, 2, 9) + timedelta(minutes=i)
            )
            for i in range(n)
        ]

    return make


def _todo(client, time_machine, viewer) -> str:
    time_machine.move_to(TODAY, tick=False)
    client.force_login(viewer.user)
    response = client.get(reverse("escalations:todo"))
    assert response.status_code == 200
    return response.content.decode()


def _section(page: str) -> str:
    return page.split("Overdue across the authority", 1)[1].split("Everything else", 1)[0]


def test_qa_sees_the_longest_overdue_and_a_link_to_the_rest(
    client, time_machine, staff_of, overdue
):
    made = overdue(selectors.TODO_AUTHORITY_OVERDUE + 2)
    section = _section(_todo(client, time_machine, staff_of(SLUG, "qa-manager")))
    listed = REFERENCE.findall(section)
    assert len(listed) == selectors.TODO_AUTHORITY_OVERDUE
    # The same deadline for all: the first raised first.
    assert listed == [e.reference for e in made[: selectors.TODO_AUTHORITY_OVERDUE]]
    assert f"of {len(made)}" in section
    assert f'href="{reverse("reports:tracker")}?overdue=1"' in section


def test_qa_sees_every_overdue_case_when_there_are_few(client, time_machine, staff_of, overdue):
    made = overdue(3)
    section = _section(_todo(client, time_machine, staff_of(SLUG, "qa-manager")))
    assert REFERENCE.findall(section) == [e.reference for e in made]
    assert "see them all in the tracker" not in section


def test_a_chairs_to_do_asks_the_same_queries_however_many_rows(
    client, time_machine, chair, overdue
):
    def count() -> int:
        _todo(client, time_machine, chair)  # the session's first writes
        with CaptureQueriesContext(connection) as queries:
            _todo(client, time_machine, chair)
        return len(queries)

    overdue(1)
    few = count()
    overdue(6)
    assert count() == few
    assert len(REFERENCE.findall(_todo(client, time_machine, chair))) >= 7


def test_a_chairs_overdue_section_lists_the_most_pressing_and_links_to_the_rest(
    client, time_machine, chair, overdue
):
    made = overdue(selectors.TODO_SECTION_ROWS + 2)
    page = _todo(client, time_machine, chair)
    section = page.split("Overdue: chase or escalate", 1)[1].split("</table>", 1)[0]
    # The same deadline for all: the first raised first.
    assert REFERENCE.findall(section) == [e.reference for e in made[: selectors.TODO_SECTION_ROWS]]
    after = page.split("Overdue: chase or escalate", 1)[1]
    assert f"The {selectors.TODO_SECTION_ROWS} most pressing of {len(made)}" in after
    assert f'href="{reverse("escalations:mine")}">see them all in My escalations' in after


def test_a_chair_with_more_own_steps_than_are_read_whole_sees_the_same_page(
    client, time_machine, chair, overdue, monkeypatch
):
    """Past TODO_READ_WHOLE a chair's own steps are ranked by a few columns first and
    only the rows shown read whole: the page is the same as when all are read whole."""
    overdue(selectors.TODO_SECTION_ROWS + 3)
    pages = []
    for limit in (10**6, 2):
        monkeypatch.setattr(selectors, "TODO_READ_WHOLE", limit)
        pages.append(
            re.sub(
                r'name="csrfmiddlewaretoken" value="[^"]+"', "", _todo(client, time_machine, chair)
            )
        )

    assert pages[0] == pages[1]
    assert f"The {selectors.TODO_SECTION_ROWS} most pressing of" in pages[1]


def test_ranked_first_a_chairs_to_do_asks_the_same_queries_however_many_rows(
    client, time_machine, chair, overdue, monkeypatch
):
    monkeypatch.setattr(selectors, "TODO_READ_WHOLE", 2)

    def count() -> int:
        _todo(client, time_machine, chair)  # the session's first writes
        with CaptureQueriesContext(connection) as queries:
            _todo(client, time_machine, chair)
        return len(queries)

    overdue(3)
    few = count()
    overdue(selectors.TODO_SECTION_ROWS)
    assert count() == few
