"""The child's file asks a fixed number of queries however many escalations (and steps)
the child has: their records are loaded together, not one escalation page each."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations import services
from tests.fixtures import at

SLUG = "gloucestershire"


@pytest.fixture
def child(child_of):
    return child_of(SLUG, reference="GL-FILE-1")


@pytest.fixture
def chair(staff_of):
    return staff_of(SLUG, "cp-chair")


@pytest.fixture
def escalations_of(raise_concern, staff_of, child, chair):
    """Raise `n` escalations about the child, each answered and escalated once (two steps,
    a response, a verdict)."""

    def make(n: int) -> list:
        made = []
        for i in range(n):
            when = at(2026, 11, 2, 9) + timedelta(minutes=i)
            escalation = raise_concern(SLUG, stage_order=1, actor=chair, children=[child], now=when)
            step = escalation.steps.get()
            services.step_respond(
                actor=step.responder, step=step, response="Booked.", now=when + timedelta(hours=1)
            )
            services.escalation_escalate(
                actor=chair,
                escalation=escalation,
                responder=staff_of(SLUG, "team-manager"),
                now=when + timedelta(hours=2),
            )
            made.append(escalation)
        return made

    return make


def _queries(client, time_machine, viewer, child) -> tuple[int, str]:
    time_machine.move_to(at(2026, 11, 4, 12), tick=False)
    client.force_login(viewer.user)
    url = reverse("children:file", args=[child.pk])
    client.get(url)  # the session's first writes
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize("role", ["qa-manager", "cp-chair"])
def test_the_childs_file_asks_the_same_queries_for_one_escalation_or_five(
    client, time_machine, staff_of, child, chair, escalations_of, role
):
    viewer = chair if role == "cp-chair" else staff_of(SLUG, role)
    escalations_of(1)
    one, _ = _queries(client, time_machine, viewer, child)
    made = escalations_of(4)
    five, page = _queries(client, time_machine, viewer, child)
    assert five == one
    for escalation in made:
        assert escalation.reference in page


def test_the_childs_file_still_shows_each_step_with_its_response_and_verdict(
    client, time_machine, staff_of, child, escalations_of
):
    [escalation] = escalations_of(1)
    _, page = _queries(client, time_machine, staff_of(SLUG, "qa-manager"), child)
    record = page.split(escalation.reference, 1)[1]
    assert "Booked." in record
    assert "Not satisfactory" in record
    assert "2. " in record  # the second step, open
