"""What partner-agency contacts are told without a council account (issue 11, items 1 and
5): the sweep's reminders and overdue alerts, "Send a reminder now" on a stage addressed
to several people, extensions and changes of addressee, and the closing notice. Each test
reads the e-mail sent, never a code in it but the code's own.

Gloucestershire Stage 1 (Team Manager, 4 working days), opened to partner agencies and
raised Mon 2 Nov 2026: due Fri 6 Nov (Tue 3, Wed 4, Thu 5, Fri 6); reminded on Thu 5 Nov,
the last working day before it; overdue from Mon 9 Nov. The formal cap: Mon 2 Nov + 20
working days = Mon 30 Nov, passed on Tue 1 Dec. No bank holiday in November.

    November 2026
    Mo Tu We Th Fr Sa Su
                       1
     2  3  4  5  6  7  8
     9 10 11 12 13 14 15
    16 17 18 19 20 21 22
    23 24 25 26 27 28 29
    30
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
import time_machine
from django.core import mail

from escalations import services
from escalations.models import Addressee, Escalation, PartnerCode, Step
from escalations.sweep import process_due
from notifications.models import Kind, Notification
from notifications.relay import relay_once
from policies.models import Role, Stage
from staff.models import Partner
from tests.fixtures import MONDAY, World, at, first_category

pytestmark = pytest.mark.usefixtures("no_broker")

PARTNER_LINK = re.compile(r"https?://\S+/escalations/partner/[\w-]+/")
STAFF_LINK = "/escalations/link/"


@pytest.fixture
def world(world_of) -> World:
    w = world_of("gloucestershire")
    stage = stage_one(w)
    stage.partner_responders = True
    stage.save()
    return w


def stage_one(world: World) -> Stage:
    return world.policy.stages.get(order=1)


def make_partner(world: World, name: str, email: str, **kwargs) -> Partner:
    return Partner.objects.create(
        authority=world.policy.authority,
        name=name,
        job_title=kwargs.pop("job_title", "Detective Inspector"),
        organisation=kwargs.pop("organisation", "Gloucestershire Constabulary"),
        email=email,
        **kwargs,
    )


@pytest.fixture
def police(world) -> Partner:
    return make_partner(world, "Pat Police", "pat.police@police.example")


@pytest.fixture
def health(world) -> Partner:
    return make_partner(
        world, "Hana Health", "hana.health@nhs.example", organisation="NHS Gloucestershire"
    )


def raise_to(world: World, partner: Partner) -> Escalation:
    """Stage 1 addressed to one partner alone."""
    return services.escalation_raise(
        actor=world.chair,
        policy=world.policy,
        categories=first_category(world.policy),
        children=[world.child],
        summary="Police checks were not shared with the conference.",
        stage=stage_one(world),
        partner=partner,
        reason="The police hold the information.",
        now=MONDAY,
    )


def raise_several(world: World, *partners: Partner) -> Escalation:
    """Stage 1 addressed to the child's team manager and social worker and the partners,
    everyone to reply."""
    stage = stage_one(world)
    stage.addresses_several = True
    stage.save()
    stage.also_roles.set(Role.objects.filter(slug="social-worker"))
    return services.escalation_raise(
        actor=world.chair,
        policy=world.policy,
        categories=first_category(world.policy),
        children=[world.child],
        summary="Agencies did not attend the core group.",
        stage=stage,
        responder=world.north.manager,
        addressees=[world.north.manager, world.north.worker, *partners],
        reason="Every agency must answer.",
        now=MONDAY,
    )


def the_step(escalation: Escalation) -> Step:
    return Step.objects.get(escalation=escalation, closed_at__isnull=True)


def sweep(now: datetime) -> None:
    with time_machine.travel(now, tick=False):
        process_due(now)


def sent(now: datetime) -> None:
    """Relay at `now`: what the outbox holds goes out (into mail.outbox)."""
    with time_machine.travel(now, tick=False):
        relay_once(now=now)


def mail_after(now: datetime, action) -> list:
    """The e-mails `action` caused: those before it sent and cleared first."""
    sent(now)
    mail.outbox.clear()
    action()
    sent(now)
    return list(mail.outbox)


def to(messages: list, address: str) -> list:
    return [m for m in messages if m.to == [address]]


def kinds_to(partner: Partner, step: Step | None = None) -> list[str]:
    rows = Notification.objects.filter(partner=partner)
    if step is not None:
        rows = rows.filter(step=step)
    return sorted(rows.values_list("kind", flat=True))


# --- the sweep: a step addressed to a partner alone ---------------------------------------


def test_the_sweep_reminds_a_partner_the_working_day_before_with_their_link(world, police):
    raise_to(world, police)

    [message] = to(mail_after(at(2026, 11, 5, 9), lambda: sweep(at(2026, 11, 5, 9))), police.email)

    assert message.subject.endswith("A response is due soon")
    assert "Please reply by Friday 6 November 2026" in message.body
    assert PARTNER_LINK.search(message.body)
    assert STAFF_LINK not in message.body


def test_a_partners_reminder_carries_no_code(world, police):
    raise_to(world, police)

    [message] = to(mail_after(at(2026, 11, 5, 9), lambda: sweep(at(2026, 11, 5, 9))), police.email)

    # Six digits standing alone (the case reference's digits follow "ESC-").
    assert not re.search(r"(?<![-\d])\d{6}(?!\d)", message.body)
    assert not PartnerCode.objects.exists()


def test_the_overdue_alert_goes_to_the_partner_and_the_chair(world, police):
    step = the_step(raise_to(world, police))

    messages = mail_after(at(2026, 11, 9, 9), lambda: sweep(at(2026, 11, 9, 9)))

    [to_partner] = to(messages, police.email)
    assert to_partner.subject.endswith("A response is overdue")
    assert PARTNER_LINK.search(to_partner.body)
    assert len(to(messages, world.chair.user.email)) == 1
    assert kinds_to(police, step) == [Kind.OVERDUE, Kind.STEP_RAISED]


def test_a_second_sweep_the_same_day_sends_the_partner_nothing_more(world, police):
    raise_to(world, police)
    sweep(at(2026, 11, 9, 9))

    again = mail_after(at(2026, 11, 9, 15), lambda: sweep(at(2026, 11, 9, 15)))

    assert to(again, police.email) == []


def test_the_partners_overdue_alert_repeats_as_the_policy_says(world, police):
    # Gloucestershire repeats every 5 working days: 1 late on Mon 9 Nov, 6 late on Mon 16.
    step = the_step(raise_to(world, police))

    for day in (9, 10, 11, 12, 13, 16):
        sweep(at(2026, 11, day, 9))

    rows = Notification.objects.filter(step=step, partner=police, kind=Kind.OVERDUE)
    assert sorted(rows.values_list("occurrence", flat=True)) == [0, 1]


def test_an_inactive_partner_is_not_alerted(world, police):
    step = the_step(raise_to(world, police))
    police.is_active = False
    police.save()

    sweep(at(2026, 11, 9, 9))

    assert kinds_to(police, step) == [Kind.STEP_RAISED]


def test_the_formal_cap_alert_reaches_the_partner_too(world, police):
    step = the_step(raise_to(world, police))

    sweep(at(2026, 12, 1, 9))

    assert Kind.CAP_BREACHED in kinds_to(police, step)


# --- the sweep: partners among several people addressed -------------------------------------


def test_partners_among_several_are_reminded_each_on_their_own_clock(world, police, health):
    step = the_step(raise_several(world, police, health))
    Addressee.objects.filter(step=step, partner=health).update(due_on=date(2026, 11, 13))

    messages = mail_after(at(2026, 11, 5, 9), lambda: sweep(at(2026, 11, 5, 9)))

    [reminder] = to(messages, police.email)
    assert PARTNER_LINK.search(reminder.body)
    assert to(messages, health.email) == []  # hers is due Fri 13 Nov


def test_a_partner_who_has_replied_is_not_alerted(world, police, health):
    step = the_step(raise_several(world, police, health))
    services.step_respond(actor=police, step=step, response="Checks shared.", now=at(2026, 11, 3))

    sweep(at(2026, 11, 9, 9))

    assert kinds_to(police, step) == [Kind.STEP_RAISED]
    assert kinds_to(health, step) == [Kind.OVERDUE, Kind.STEP_RAISED]


def test_each_partners_e_mail_gives_their_own_deadline(world, police):
    step = the_step(raise_several(world, police))
    Addressee.objects.filter(step=step, partner=police).update(due_on=date(2026, 11, 10))

    [message] = to(mail_after(at(2026, 11, 9, 9), lambda: sweep(at(2026, 11, 9, 9))), police.email)

    assert message.subject.endswith("A response is due soon")
    assert "Please reply by Tuesday 10 November 2026" in message.body


# --- "Send a reminder now" on a stage addressed to several people ------------------------------


# Wed 4 Nov, 10:00: when the chair presses "Send a reminder now" unless a test says.
WEDNESDAY = at(2026, 11, 4)


def chase(world: World, escalation: Escalation, now: datetime = WEDNESDAY) -> None:
    services.step_chase(actor=world.chair, escalation=escalation, now=now)


def test_a_reminder_now_goes_to_everyone_still_to_reply(world, police, health):
    escalation = raise_several(world, police, health)
    services.step_respond(
        actor=world.north.worker,
        step=the_step(escalation),
        response="Visits booked.",
        now=at(2026, 11, 3),
    )

    chase(world, escalation)

    chased = Notification.objects.filter(kind=Kind.CHASE)
    assert {(n.recipient, n.partner) for n in chased} == {
        (world.north.manager, None),
        (None, police),
        (None, health),
    }


def test_each_person_reminded_is_sent_their_own_link(world, police):
    escalation = raise_several(world, police)

    messages = mail_after(at(2026, 11, 4), lambda: chase(world, escalation))

    assert {m.to[0] for m in messages} == {
        world.north.manager.user.email,
        world.north.worker.user.email,
        police.email,
    }
    [to_police] = to(messages, police.email)
    assert PARTNER_LINK.search(to_police.body)
    # Not only the first person asked: the social worker's e-mail opens her response form.
    [to_worker] = to(messages, world.north.worker.user.email)
    assert STAFF_LINK in to_worker.body


def test_each_person_reminded_has_the_reminder_recorded_on_their_row(world, police):
    escalation = raise_several(world, police)

    chase(world, escalation)

    assert set(Addressee.objects.values_list("chased_at", flat=True)) == {at(2026, 11, 4)}


def test_a_reminder_the_next_working_day_is_a_new_e_mail_to_each(world, police):
    escalation = raise_several(world, police)
    chase(world, escalation)

    chase(world, escalation, now=at(2026, 11, 5))

    rows = Notification.objects.filter(kind=Kind.CHASE, partner=police)
    assert sorted(rows.values_list("occurrence", flat=True)) == [0, 1]


def test_an_inactive_partner_among_several_is_left_out_of_the_reminder(world, police):
    escalation = raise_several(world, police)
    police.is_active = False
    police.save()

    chase(world, escalation)

    assert not Notification.objects.filter(kind=Kind.CHASE, partner=police).exists()
    assert Notification.objects.filter(kind=Kind.CHASE).count() == 2


# --- extensions and changes of addressee ----------------------------------------------------


def test_an_extension_tells_the_partner_the_new_date_with_their_link(world, police):
    escalation = raise_to(world, police)

    def extend() -> None:
        services.step_extend(
            actor=world.chair,
            escalation=escalation,
            new_due_on=date(2026, 11, 13),
            reason="The detective inspector is in court this week.",
            now=at(2026, 11, 4),
        )

    [message] = to(mail_after(at(2026, 11, 4), extend), police.email)

    assert "The deadline has been extended to Fri 13 Nov 2026" in message.subject
    assert "Please reply by Friday 13 November 2026" in message.body
    assert PARTNER_LINK.search(message.body)
    assert "in court" not in message.body


def test_a_partner_whose_part_goes_to_someone_else_is_told_without_a_link(world, police):
    escalation = raise_several(world, police)
    part = Addressee.objects.get(step__escalation=escalation, partner=police)

    def readdress() -> None:
        services.step_readdress(
            actor=world.chair,
            escalation=escalation,
            responder=world.south.worker,
            replacing=part,
            reason="The police asked the social worker to answer for them.",
            now=at(2026, 11, 4),
        )

    [message] = to(mail_after(at(2026, 11, 4), readdress), police.email)

    assert (
        "This step is now addressed to Wren WorkerS, instead of Pat Police "
        "(Gloucestershire Constabulary)" in message.subject
    )
    assert not PARTNER_LINK.search(message.body)
    assert "no longer opens it" in message.body


# --- the closing notice --------------------------------------------------------------------


def test_the_closing_notice_reaches_the_partner_who_took_part(world, police):
    escalation = raise_to(world, police)

    def resolve() -> None:
        services.escalation_resolve(
            actor=world.chair,
            escalation=escalation,
            outcome="The police shared the checks.",
            now=at(2026, 11, 4),
        )

    [message] = to(mail_after(at(2026, 11, 4), resolve), police.email)

    assert message.subject.endswith("An escalation you took part in has ended")
    assert "The escalation has ended" in message.body
    assert "shared the checks" not in message.body


def test_the_closing_notice_carries_no_link(world, police):
    escalation = raise_to(world, police)

    def withdraw() -> None:
        services.escalation_withdraw(
            actor=world.chair, escalation=escalation, reason="Raised in error.", now=at(2026, 11, 4)
        )

    [message] = to(mail_after(at(2026, 11, 4), withdraw), police.email)

    assert not PARTNER_LINK.search(message.body)
    assert "/escalations/" not in message.body + str(message.alternatives)


def test_partners_asked_at_an_earlier_stage_hear_how_it_ended(world, police, health):
    escalation = raise_several(world, police, health)
    services.escalation_escalate(
        actor=world.chair,
        escalation=escalation,
        stage=world.policy.stages.get(order=2),
        responder=world.north.manager,
        now=at(2026, 11, 9),
    )

    services.escalation_resolve(
        actor=world.chair, escalation=escalation, outcome="Agreed.", now=at(2026, 11, 10)
    )

    closed = Notification.objects.filter(kind=Kind.ESCALATION_CLOSED, partner__isnull=False)
    assert {n.partner for n in closed} == {police, health}
