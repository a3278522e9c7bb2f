"""The case in one sentence (selectors.case_sentence): who must do what by when, or what
the chair must decide; on the escalation page and in every e-mail."""

from __future__ import annotations

import html

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from escalations import selectors, services
from notifications.relay import relay_once
from tests.fixtures import World, at

# Rutland's Stage 1 gives 5 working days: raised Mon 2 Nov 2026, due Mon 9 Nov.
RAISED = at(2026, 11, 2)


@pytest.fixture
def world(world_of) -> World:
    return world_of("rutland")


@pytest.fixture
def at_stage_1(world, raise_concern):
    escalation = raise_concern(
        "rutland",
        actor=world.chair,
        responder=world.north.service,
        children=[world.child],
        now=at(2026, 10, 26),
    )
    services.escalation_escalate(
        actor=world.chair, escalation=escalation, responder=world.north.manager, now=RAISED
    )
    return escalation


def sentence(escalation, day) -> str:
    escalation.refresh_from_db()
    return selectors.case_sentence(escalation, day.date())


def test_a_step_in_time_says_who_must_respond_by_when_and_the_days_left(at_stage_1):
    assert sentence(at_stage_1, at(2026, 11, 4)) == (
        "Waiting for Tess TeamN, Team Manager, to respond by Mon 9 Nov — 3 working days left."
    )


def test_an_overdue_step_is_phrased_as_overdue_in_working_days(at_stage_1):
    assert sentence(at_stage_1, at(2026, 11, 12)) == (
        "Waiting for Tess TeamN, Team Manager, to respond — 3 working days overdue (due Mon 9 Nov)."
    )


def test_an_answered_step_says_what_the_chair_must_decide_from_the_rules(world, at_stage_1):
    services.step_respond(
        actor=world.north.manager,
        step=at_stage_1.open_step(),
        response="Visits booked.",
        now=at(2026, 11, 5),
    )
    assert sentence(at_stage_1, at(2026, 11, 12)) == (
        "Tess TeamN responded on Thu 5 Nov: waiting for Chris Chair to decide whether to "
        "resolve it or escalate it to Stage 2: Service Manager."
    )


def test_a_closed_escalation_says_how_and_when_it_ended(world, at_stage_1):
    services.escalation_withdraw(
        actor=world.chair, escalation=at_stage_1, reason="Done.", now=at(2026, 11, 6)
    )
    assert sentence(at_stage_1, at(2026, 11, 12)) == "Withdrawn on Fri 6 Nov 2026."


def test_the_escalation_page_opens_with_the_sentence(world, at_stage_1):
    client = Client()
    client.force_login(world.chair.user)
    with time_machine.travel(at(2026, 11, 12), tick=False):
        response = client.get(reverse("escalations:detail", args=[at_stage_1.pk]))
    text = html.unescape(response.content.decode())
    assert "3 working days overdue (due Mon 9 Nov)" in text
    assert text.index("3 working days overdue") < text.index("Print the record")


def test_the_overdue_e_mail_carries_the_sentence_and_no_childs_name(world, at_stage_1, no_broker):
    from escalations.sweep import process_due

    mail.outbox.clear()
    process_due(at(2026, 11, 12, 9))
    relay_once(now=at(2026, 11, 12, 9))
    overdue = [m for m in mail.outbox if "overdue" in m.subject]
    assert overdue
    body = overdue[0].body
    assert "3 working days overdue (due Mon 9 Nov)" in body
    assert "is due by" not in body
    assert "Poppy" not in body and "Example" not in body
