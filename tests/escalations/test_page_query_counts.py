"""The to-do list, Awaiting my response and the escalation page ask the same number of
queries however many rows they show or how many escalations the viewer may see."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.fixtures import LONDON, at

SLUG = "gloucestershire"
# Wednesday 25 November 2026: Stage 1 (4 working days) raised on 2 November is overdue.
TODAY = datetime(2026, 11, 25, 12, tzinfo=LONDON)


@pytest.fixture
def overdue(raise_concern, staff_of):
    """overdue(n) -> n escalations at Stage 1, raised by the chair on 2 November."""
    chair = staff_of(SLUG, "cp-chair")

    def make(n: int) -> list:
        return [
            raise_concern(
                SLUG, stage_order=1, actor=chair, now=at(2026, 11, 2, 9) + timedelta(minutes=i)
            )
            for i in range(n)
        ]

    return make


@pytest.fixture
def queries_for(client, time_machine):
    """queries_for(viewer, url) -> how many queries the page asks (after the session's
    first writes)."""

    def count(viewer, url: str) -> int:
        time_machine.move_to(TODAY, tick=False)
        client.force_login(viewer.user)
        assert client.get(url).status_code == 200  # the session's first writes
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    return count


def test_a_qa_managers_to_do_asks_the_same_queries_at_1_and_30_overdue_steps(
    overdue, queries_for, staff_of
):
    qa = staff_of(SLUG, "qa-manager")
    overdue(1)
    few = queries_for(qa, reverse("escalations:todo"))
    overdue(29)
    assert queries_for(qa, reverse("escalations:todo")) == few


def test_awaiting_my_response_asks_the_same_queries_however_many_steps_await(overdue, queries_for):
    first = overdue(1)[0]
    responder = first.open_step().responder
    few = queries_for(responder, reverse("escalations:awaiting"))
    overdue(6)
    assert queries_for(responder, reverse("escalations:awaiting")) == few


def test_the_escalation_page_asks_the_same_queries_however_many_escalations_one_may_see(
    overdue, queries_for
):
    first = overdue(1)[0]
    chair = first.raised_by
    url = reverse("escalations:detail", args=[first.pk])
    few = queries_for(chair, url)
    overdue(6)
    assert queries_for(chair, url) == few
