"""The child's file shows its escalations a page at a time (records.selectors
CHILD_FILE_PAGE_SIZE), the open ones first, each with its whole record."""

from datetime import timedelta

import pytest
from django.urls import reverse

from escalations import services
from records.selectors import CHILD_FILE_PAGE_SIZE
from tests.fixtures import at

SLUG = "gloucestershire"


@pytest.fixture
def child(child_of):
    return child_of(SLUG, reference="GL-PAGED-1")


@pytest.fixture
def chair(staff_of):
    return staff_of(SLUG, "cp-chair")


@pytest.fixture
def viewer(client, staff_of):
    qa = staff_of(SLUG, "qa-manager")
    client.force_login(qa.user)
    return client


@pytest.fixture
def history(raise_concern, child, chair, time_machine):
    """The oldest escalation still open; the rest, each newer, resolved: one more than a
    page and a half."""
    time_machine.move_to(at(2026, 11, 20, 12), tick=False)
    made = []
    for i in range(CHILD_FILE_PAGE_SIZE + 3):
        when = at(2026, 11, 2, 9) + timedelta(hours=i)
        escalation = raise_concern(
            SLUG, actor=chair, children=[child], summary=f"Concern number {i}.", now=when
        )
        if i:
            services.escalation_resolve(
                actor=chair, escalation=escalation, outcome="Sorted.", now=when
            )
        made.append(escalation)
    return made


def _page(viewer, child, page: str | None = None) -> str:
    url = reverse("children:file", args=[child.pk])
    response = viewer.get(url, {"page": page} if page is not None else {})
    assert response.status_code == 200
    return response.content.decode()


def _shown(page: str, made) -> list[str]:
    return [e.reference for e in made if f">{e.reference}</a>" in page]


def test_the_first_page_shows_a_page_of_escalations_and_links_to_the_next(viewer, child, history):
    page = _page(viewer, child)

    assert len(_shown(page, history)) == CHILD_FILE_PAGE_SIZE
    assert f"Escalations 1 to {CHILD_FILE_PAGE_SIZE} of {len(history)}" in page
    assert 'href="?page=2" rel="next"' in page


def test_every_escalation_is_on_one_page_or_the_other(viewer, child, history):
    first, second = _page(viewer, child), _page(viewer, child, "2")

    assert sorted(_shown(first, history) + _shown(second, history)) == sorted(
        e.reference for e in history
    )
    assert not set(_shown(first, history)) & set(_shown(second, history))


def test_an_old_open_escalation_heads_the_file_before_newer_closed_ones(viewer, child, history):
    page = _page(viewer, child)
    oldest_open, newest_closed = history[0], history[-1]

    assert page.index(f">{oldest_open.reference}</a>") < page.index(
        f">{newest_closed.reference}</a>"
    )


def test_the_newest_closed_escalations_come_before_the_older(viewer, child, history):
    page = _page(viewer, child)

    assert page.index(f">{history[-1].reference}</a>") < page.index(f">{history[-2].reference}</a>")


@pytest.mark.parametrize("bad", ["x", "0", "-1", "999", "", "2.5"])
def test_a_page_that_is_not_there_shows_a_page_of_the_file_not_an_error(
    viewer, child, history, bad
):
    page = _page(viewer, child, bad)

    assert len(_shown(page, history)) in (CHILD_FILE_PAGE_SIZE, len(history) - CHILD_FILE_PAGE_SIZE)


def test_a_file_of_one_page_has_no_pagination(viewer, child, raise_concern, chair):
    raise_concern(SLUG, actor=chair, children=[child])

    page = _page(viewer, child)

    assert "govuk-pagination" not in page
    assert "Escalations 1 to" not in page
