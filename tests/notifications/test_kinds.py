"""Kinds of their own for what issue 11 added: `step_amended` (an extension or a change of
addressee) and the issue-by clock's `issue_due_soon` and `issue_overdue`; what their
e-mails and the in-app list say, and their outbox keys.

Gloucestershire, Stage 2 given an issue-by clock of 2 working days: Stage 1 (4 working
days) raised Mon 2 Nov 2026 is due Fri 6 Nov; answered Wed 4 Nov, Stage 2 is to be issued
by Fri 6 Nov (Thu 5, Fri 6): the chair is reminded on Thu 5 Nov and alerted from Mon 9 Nov.

    November 2026
    Mo Tu We Th Fr Sa Su
     2  3  4  5  6  7  8
     9 10 11 12 13 14 15
    16 17 18 19 20 21 22
"""

from __future__ import annotations

import html
from datetime import date, datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from escalations import services
from escalations.models import Escalation, Step, StepAmendment
from escalations.sweep import process_due
from notifications.models import Kind, Notification
from notifications.relay import relay_once
from tests.fixtures import MONDAY, World, at, first_category

STAGE_2 = "Stage 2: Resolution Meeting with Team Manager & Social Worker"


@pytest.fixture
def world(world_of) -> World:
    w = world_of("gloucestershire")
    w.policy.stages.filter(order=2).update(issue_within_days=2)
    return w


@pytest.fixture
def case(world) -> Escalation:
    return services.escalation_raise(
        actor=world.chair,
        policy=world.policy,
        categories=first_category(world.policy),
        children=[world.child],
        summary="Core group meetings not held.",
        stage=world.policy.stages.get(order=1),
        responder=world.north.manager,
        now=MONDAY,
    )


def the_step(escalation: Escalation) -> Step:
    return Step.objects.get(escalation=escalation, closed_at__isnull=True)


def answered(world: World, case: Escalation) -> Step:
    return services.step_respond(
        actor=world.north.manager, step=the_step(case), response="Done.", now=at(2026, 11, 4)
    )


def sweep(now: datetime) -> None:
    with time_machine.travel(now, tick=False):
        process_due(now)


def mail_of(now: datetime, action) -> list:
    """The e-mails `action` caused (earlier ones sent and cleared first)."""
    with time_machine.travel(now, tick=False):
        relay_once(now=now)
        mail.outbox.clear()
        action()
        relay_once(now=now)
    return list(mail.outbox)


def extend(world: World, case: Escalation, new_due_on: date, now: datetime) -> StepAmendment:
    return services.step_extend(
        actor=world.chair,
        escalation=case,
        new_due_on=new_due_on,
        reason="The team manager is gathering the visit records.",
        now=now,
    )


def listed(person) -> str:
    client = Client()
    client.force_login(person.user)
    return html.unescape(client.get(reverse("notifications:list")).content.decode())


# --- the issue-by clock --------------------------------------------------------------------


def test_the_chairs_issue_by_reminder_names_the_stage_and_the_date(world, case):
    answered(world, case)

    [message] = mail_of(at(2026, 11, 5, 9), lambda: sweep(at(2026, 11, 5, 9)))

    assert message.to == [world.chair.user.email]
    assert f"Issue {STAGE_2} by Fri 6 Nov 2026" in message.subject


def test_the_chairs_issue_by_alert_says_it_is_overdue(world, case):
    answered(world, case)

    [message] = mail_of(at(2026, 11, 9, 9), lambda: sweep(at(2026, 11, 9, 9)))

    assert message.to == [world.chair.user.email]
    assert f"Overdue: {STAGE_2} was to be issued by Fri 6 Nov 2026" in message.subject


def test_the_issue_by_alerts_are_kinds_of_their_own(world, case):
    step = answered(world, case)

    sweep(at(2026, 11, 5, 9))
    sweep(at(2026, 11, 9, 9))

    kinds = Notification.objects.filter(step=step).exclude(kind=Kind.STEP_RAISED)
    assert sorted(kinds.values_list("kind", "occurrence")) == [
        (Kind.ISSUE_DUE_SOON, 0),
        (Kind.ISSUE_OVERDUE, 0),
        (Kind.RESPONSE_RECEIVED, 0),
    ]


def test_a_second_sweep_the_same_day_adds_no_issue_by_alert(world, case):
    step = answered(world, case)
    sweep(at(2026, 11, 9, 9))

    sweep(at(2026, 11, 9, 16))

    assert Notification.objects.filter(step=step, kind=Kind.ISSUE_OVERDUE).count() == 1


def test_the_in_app_list_says_by_when_the_next_stage_is_to_be_issued(world, case):
    answered(world, case)
    sweep(at(2026, 11, 5, 9))
    sweep(at(2026, 11, 9, 9))

    page = listed(world.chair)

    assert "Issue the next stage by Fri 6 Nov 2026" in page
    assert "The next stage was to be issued by Fri 6 Nov 2026" in page


# --- step_amended --------------------------------------------------------------------------


def test_an_extension_is_a_step_amended_row_pointing_at_it(world, case):
    amendment = extend(world, case, date(2026, 11, 13), at(2026, 11, 4))

    rows = Notification.objects.filter(kind=Kind.STEP_AMENDED)
    assert [(n.recipient, n.amendment, n.occurrence) for n in rows] == [
        (world.north.manager, amendment, 0)
    ]


def test_each_amendment_of_a_step_is_told_again(world, case):
    extend(world, case, date(2026, 11, 13), at(2026, 11, 4))
    extend(world, case, date(2026, 11, 20), at(2026, 11, 5))

    rows = Notification.objects.filter(kind=Kind.STEP_AMENDED, recipient=world.north.manager)
    assert sorted(rows.values_list("occurrence", flat=True)) == [0, 1]


def test_the_extension_e_mail_says_the_new_date_and_where_the_reason_is(world, case):
    messages = mail_of(
        at(2026, 11, 4), lambda: extend(world, case, date(2026, 11, 13), at(2026, 11, 4))
    )

    [message] = messages
    assert "The deadline has been extended to Fri 13 Nov 2026" in message.subject
    assert "The reason is recorded on the escalation page." in message.body
    assert "visit records" not in message.body + str(message.alternatives)


def test_the_in_app_list_shows_the_extension_with_its_reason(world, case):
    extend(world, case, date(2026, 11, 13), at(2026, 11, 4))

    page = listed(world.north.manager)

    assert "Deadline extended to Fri 13 Nov 2026" in page
    assert "Reason: The team manager is gathering the visit records." in page


def test_the_in_app_list_shows_a_change_of_addressee_by_name(world, case):
    services.step_readdress(
        actor=world.chair,
        escalation=case,
        responder=world.south.manager,
        reason="Tess TeamN is on leave.",
        now=at(2026, 11, 4),
    )

    page = listed(world.north.manager)

    assert "Now addressed to Tess TeamS, instead of Tess TeamN" in page


def test_the_new_addressee_is_sent_their_link_to_answer(world, case):
    def readdress() -> None:
        services.step_readdress(
            actor=world.chair,
            escalation=case,
            responder=world.south.manager,
            reason="Tess TeamN is on leave.",
            now=at(2026, 11, 4),
        )

    messages = mail_of(at(2026, 11, 4), readdress)

    [to_new] = [m for m in messages if m.to == [world.south.manager.user.email]]
    [to_old] = [m for m in messages if m.to == [world.north.manager.user.email]]
    assert "/escalations/link/" in to_new.body
    assert "/escalations/link/" not in to_old.body
