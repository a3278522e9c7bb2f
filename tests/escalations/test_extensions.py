"""Extensions and changes of addressee on an open step (issue 11 item 6): actions for the
one who drives the escalation, each with a reason, recorded as a StepAmendment and in the
step's history, told through the outbox, shown on the escalation page; the sweep's
alerts follow an extended deadline."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from escalations import partner_access, services
from escalations.models import (
    Addressee,
    AmendmentKind,
    PartnerAccess,
    PartnerSession,
    Step,
    StepAmendment,
)
from escalations.sweep import process_due
from notifications.models import Kind, Notification
from notifications.relay import relay_once
from policies.models import Role
from staff.models import Partner
from tests.fixtures import World, at, date_fields, first_category


@pytest.fixture
def world(world_of) -> World:
    return world_of("rutland")


@pytest.fixture
def at_stage_1(world, raise_concern):
    """Rutland's Stage 1 raised Mon 2 Nov 2026, 5 working days: due Mon 9 Nov, asked of
    Tess TeamN."""
    escalation = raise_concern(
        "rutland",
        actor=world.chair,
        responder=world.north.service,
        children=[world.child],
        now=at(2026, 10, 26),
    )
    services.escalation_escalate(
        actor=world.chair, escalation=escalation, responder=world.north.manager, now=at(2026, 11, 2)
    )
    escalation.refresh_from_db()
    return escalation


def client_of(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


# Thu 5 Nov 2026, 10:00: when the amendments below are made unless a test says otherwise.
THURSDAY = at(2026, 11, 5)


def extend(escalation, actor, new_due_on=date(2026, 11, 16), now=THURSDAY, **kwargs):
    return services.step_extend(
        actor=actor,
        escalation=escalation,
        new_due_on=new_due_on,
        reason=kwargs.pop("reason", "The team manager is gathering the visit records."),
        now=now,
        **kwargs,
    )


def rows(kind: str, made_at=None) -> list[tuple[str, int]]:
    """(recipient's surname, occurrence) of the outbox rows of `kind` (made at `made_at`)."""
    found = Notification.objects.filter(kind=kind)
    if made_at is not None:
        found = found.filter(created_at=made_at)
    return sorted(found.values_list("recipient__user__last_name", "occurrence"))


# --- extension ---------------------------------------------------------------------------


def test_an_extension_moves_the_step_deadline_and_is_recorded_with_its_reason(world, at_stage_1):
    amendment = extend(at_stage_1, world.chair)
    step = at_stage_1.open_step()
    assert step.due_on == date(2026, 11, 16)
    assert (amendment.kind, amendment.old_due_on, amendment.new_due_on) == (
        AmendmentKind.EXTENSION,
        date(2026, 11, 9),
        date(2026, 11, 16),
    )
    assert (amendment.reason, amendment.made_by, amendment.made_at) == (
        "The team manager is gathering the visit records.",
        world.chair,
        at(2026, 11, 5),
    )


def test_an_extension_is_in_the_step_history(world, at_stage_1):
    extend(at_stage_1, world.chair)
    latest = at_stage_1.open_step().history.first()
    assert (latest.history_type, latest.due_on) == ("~", date(2026, 11, 16))


def test_an_extension_needs_a_reason(world, at_stage_1):
    with pytest.raises(services.ActionRefused) as refused:
        extend(at_stage_1, world.chair, reason="  ")
    assert refused.value.field == "reason"
    assert not StepAmendment.objects.exists()


def test_an_extension_must_be_after_the_current_deadline(world, at_stage_1):
    with pytest.raises(services.ActionRefused) as refused:
        extend(at_stage_1, world.chair, new_due_on=date(2026, 11, 9))
    assert refused.value.message == "Choose a date after the current deadline, Mon 9 Nov 2026."
    assert refused.value.field == "new_due_on"


def test_an_extension_must_end_on_a_working_day(world, at_stage_1):
    with pytest.raises(services.ActionRefused) as refused:
        extend(at_stage_1, world.chair, new_due_on=date(2026, 11, 14))
    assert refused.value.message == "Sat 14 Nov 2026 is not a working day: choose a working day."


def test_an_extension_cannot_go_beyond_the_formal_cap(world_of, raise_concern):
    # Gloucestershire: the formal process within 20 working days. Stage 1 raised Mon 2 Nov
    # 2026: the cap is Mon 30 Nov (3-6 Nov 4, 9-13 9, 16-20 14, 23-27 19, 30 Nov 20).
    glos = world_of("gloucestershire")
    escalation = raise_concern(
        "gloucestershire",
        stage_order=1,
        actor=glos.chair,
        responder=glos.north.manager,
        children=[glos.child],
        reason="Urgent: straight to the team manager.",
    )
    with pytest.raises(services.ActionRefused) as refused:
        extend(escalation, glos.chair, new_due_on=date(2026, 12, 1))
    assert refused.value.message == (
        "The policy's time limit for the whole formal process is Mon 30 Nov 2026: "
        "an extension cannot go beyond it."
    )


def test_only_the_driver_may_extend(world, at_stage_1):
    with pytest.raises(services.ActionRefused) as refused:
        extend(at_stage_1, world.north.manager)
    assert refused.value.message == (
        "Only the person who raised this escalation (or a QA manager) can extend the deadline."
    )


def test_a_qa_manager_may_extend_standing_in_for_the_chair(world, at_stage_1):
    extend(at_stage_1, world.qa)
    assert at_stage_1.open_step().due_on == date(2026, 11, 16)


def test_an_answered_step_cannot_be_extended(world, at_stage_1):
    services.step_respond(
        actor=world.north.manager,
        step=at_stage_1.open_step(),
        response="Done.",
        now=at(2026, 11, 4),
    )
    with pytest.raises(services.ActionRefused) as refused:
        extend(at_stage_1, world.chair)
    assert refused.value.message == (
        "Nobody is waiting to respond to this escalation, so you cannot extend the deadline now."
    )


def test_a_stage_with_no_timescale_has_nothing_to_extend(world, at_stage_1):
    step = at_stage_1.open_step()
    step.due_on = None
    step.save()
    with pytest.raises(services.ActionRefused) as refused:
        extend(at_stage_1, world.chair)
    assert refused.value.message == (
        "This stage has no deadline of its own, so there is nothing to extend."
    )


def test_an_extension_tells_the_addressee_and_the_chair_but_not_whoever_made_it(world, at_stage_1):
    extend(at_stage_1, world.qa)
    assert rows(Kind.STEP_AMENDED, THURSDAY) == [("Chair", 0), ("TeamN", 0)]


def test_the_chair_extending_is_not_told_of_their_own_extension(world, at_stage_1):
    extend(at_stage_1, world.chair)
    assert rows(Kind.STEP_AMENDED, THURSDAY) == [("TeamN", 0)]


def test_the_extension_e_mail_gives_the_new_date_and_not_the_reason(world, at_stage_1, no_broker):
    relay_once(now=at(2026, 11, 2, 11))  # the e-mails of the raise, out of the way
    extend(at_stage_1, world.chair)
    mail.outbox.clear()
    relay_once(now=at(2026, 11, 5))
    [message] = mail.outbox
    assert message.to == [world.north.manager.user.email]
    assert "The deadline has been extended to Mon 16 Nov 2026" in message.subject
    assert "/escalations/link/" in message.body
    assert "visit records" not in message.body


# --- the sweep follows the new date --------------------------------------------------------


def test_after_an_extension_the_old_deadline_raises_no_overdue_alert(world, at_stage_1):
    extend(at_stage_1, world.chair)
    process_due(at(2026, 11, 10, 9))  # Tue: past the old deadline, before the new
    assert rows(Kind.OVERDUE) == []


def test_after_an_extension_the_reminder_comes_again_before_the_new_date(world, at_stage_1):
    process_due(at(2026, 11, 6, 9))  # Fri: the last working day before Mon 9 Nov
    extend(at_stage_1, world.chair, now=at(2026, 11, 6, 12))
    process_due(at(2026, 11, 13, 9))  # Fri: the last working day before Mon 16 Nov
    assert [o for _name, o in rows(Kind.REMINDER)] == [0, 1000]


def test_a_step_extended_once_overdue_is_alerted_again_when_the_new_date_passes(world, at_stage_1):
    process_due(at(2026, 11, 10, 9))  # one working day overdue: the first alert
    extend(at_stage_1, world.chair, now=at(2026, 11, 10, 12))
    process_due(at(2026, 11, 17, 9))  # Tue: one working day past Mon 16 Nov
    assert rows(Kind.OVERDUE) == [("Chair", 0), ("Chair", 1000), ("TeamN", 0), ("TeamN", 1000)]


# --- change of addressee -------------------------------------------------------------------


@pytest.fixture
def cover(world, staff_of):
    """Another team manager, to stand in for Tess TeamN while she is on leave."""
    return staff_of(
        "rutland",
        "team-manager",
        user__first_name="Cory",
        user__last_name="Cover",
        team=world.south.team,
        line_manager=world.south.service,
    )


def readdress(escalation, actor, responder, now=THURSDAY, **kwargs):
    return services.step_readdress(
        actor=actor,
        escalation=escalation,
        responder=responder,
        reason=kwargs.pop("reason", "Tess TeamN is on leave until 30 November."),
        now=now,
        **kwargs,
    )


def test_a_step_goes_to_someone_else_with_the_reason_recorded(world, at_stage_1, cover):
    amendment = readdress(at_stage_1, world.chair, cover)
    step = at_stage_1.open_step()
    assert step.responder == cover
    assert (amendment.kind, amendment.old_addressee, amendment.new_addressee) == (
        AmendmentKind.READDRESSED,
        "Tess TeamN",
        "Cory Cover",
    )
    assert amendment.reason == "Tess TeamN is on leave until 30 November."


def test_a_change_of_addressee_keeps_the_deadline(world, at_stage_1, cover):
    amendment = readdress(at_stage_1, world.chair, cover)
    assert at_stage_1.open_step().due_on == date(2026, 11, 9)
    assert (amendment.old_due_on, amendment.new_due_on) == (date(2026, 11, 9), date(2026, 11, 9))


def test_a_change_of_addressee_is_in_the_step_history(world, at_stage_1, cover):
    readdress(at_stage_1, world.chair, cover)
    history = at_stage_1.open_step().history.all()
    assert [h.responder_id for h in history[:2]] == [cover.pk, world.north.manager.pk]


def test_the_new_addressee_must_hold_a_role_the_stage_is_addressed_to(world, at_stage_1):
    with pytest.raises(services.ActionRefused) as refused:
        readdress(at_stage_1, world.chair, world.north.worker)
    assert refused.value.message == (
        "Stage 1: Team Manager is addressed to a Team Manager; Wren WorkerN is a Social Worker."
    )
    assert at_stage_1.open_step().responder == world.north.manager


def test_a_step_cannot_be_addressed_to_whoever_is_already_asked(world, at_stage_1):
    with pytest.raises(services.ActionRefused) as refused:
        readdress(at_stage_1, world.chair, world.north.manager)
    assert refused.value.message == "Tess TeamN is already addressed at this stage."


def test_a_change_of_addressee_needs_a_reason(world, at_stage_1, cover):
    with pytest.raises(services.ActionRefused) as refused:
        readdress(at_stage_1, world.chair, cover, reason="")
    assert refused.value.field == "reason"


def test_only_the_driver_may_change_who_responds(world, at_stage_1, cover):
    with pytest.raises(services.ActionRefused) as refused:
        readdress(at_stage_1, world.other_chair, cover)
    assert "Only the person who raised this escalation" in refused.value.message


def test_the_new_addressee_is_sent_the_step_and_the_old_one_and_the_chair_are_told(
    world, at_stage_1, cover
):
    readdress(at_stage_1, world.qa, cover)
    assert rows(Kind.STEP_AMENDED, THURSDAY) == [("Chair", 0), ("Cover", 0), ("TeamN", 0)]


def test_the_new_addressee_may_respond_and_the_old_one_may_not(world, at_stage_1, cover):
    readdress(at_stage_1, world.chair, cover)
    step = Step.objects.get(pk=at_stage_1.open_step().pk)
    with pytest.raises(services.ActionRefused):
        services.step_respond(
            actor=world.north.manager, step=step, response="Back early.", now=at(2026, 11, 6)
        )
    services.step_respond(actor=cover, step=step, response="Visits booked.", now=at(2026, 11, 6))
    step.refresh_from_db()
    assert step.responded_by == cover


def test_the_e_mails_say_whom_the_step_now_waits_on(world, at_stage_1, cover, no_broker):
    relay_once(now=at(2026, 11, 2, 11))  # the e-mails of the raise, out of the way
    readdress(at_stage_1, world.qa, cover)
    mail.outbox.clear()
    relay_once(now=at(2026, 11, 5))
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert "This step is now addressed to you, instead of Tess TeamN" in subjects[cover.user.email]
    elsewhere = "This step is now addressed to Cory Cover, instead of Tess TeamN"
    assert elsewhere in subjects[world.north.manager.user.email]
    assert elsewhere in subjects[world.chair.user.email]


# --- the escalation page ------------------------------------------------------------------


def test_the_page_offers_the_driver_both_actions(world, at_stage_1):
    page = text(client_of(world.chair).get(reverse("escalations:detail", args=[at_stage_1.pk])))
    assert "Extend the deadline" in page and "Change who responds" in page


def test_the_page_offers_the_responder_neither(world, at_stage_1):
    page = text(
        client_of(world.north.manager).get(reverse("escalations:detail", args=[at_stage_1.pk]))
    )
    assert "Extend the deadline" not in page and "Change who responds" not in page


def test_the_step_history_on_the_page_shows_each_amendment_with_its_reason(
    world, at_stage_1, cover
):
    extend(at_stage_1, world.chair)
    readdress(at_stage_1, world.chair, cover, now=at(2026, 11, 6, 11))
    page = text(client_of(world.chair).get(reverse("escalations:detail", args=[at_stage_1.pk])))
    assert (
        "From 9 Nov 2026 to 16 Nov 2026, by Chris Chair on 5 Nov 2026, 10:00<br>"
        "Reason: The team manager is gathering the visit records." in page
    )
    assert (
        "From Tess TeamN to Cory Cover, by Chris Chair on 6 Nov 2026, 11:00<br>"
        "Reason: Tess TeamN is on leave until 30 November." in page
    )


def test_the_child_s_file_shows_the_amendment_on_its_step_only(world, at_stage_1):
    extend(at_stage_1, world.chair)

    page = text(client_of(world.chair).get(reverse("children:file", args=[world.child.pk])))

    amended = "From 9 Nov 2026 to 16 Nov 2026, by Chris Chair on 5 Nov 2026, 10:00"
    assert page.count(amended) == 1
    # In Stage 1's step, not the informal step before it.
    first, stage_1 = at_stage_1.steps.order_by("sequence")
    assert page.index(f'id="step-{first.pk}"') < page.index(f'id="step-{stage_1.pk}"')
    assert page.index(f'id="step-{stage_1.pk}"') < page.index(amended)


def test_the_stage_deadline_on_the_page_says_it_was_extended_and_from_when(world, at_stage_1):
    extend(at_stage_1, world.chair)
    page = text(client_of(world.chair).get(reverse("escalations:detail", args=[at_stage_1.pk])))
    assert "16 Nov 2026 (extended from 9 Nov 2026)" in page


def test_the_extend_form_extends_and_returns_to_the_escalation(world, at_stage_1):
    client = client_of(world.chair)
    url = reverse("escalations:extend", args=[at_stage_1.pk])
    with time_machine.travel(at(2026, 11, 5), tick=False):
        client.force_login(world.chair.user)  # signed in then, not days before
        assert "Now due Mon 9 Nov 2026" in text(client.get(url))
        response = client.post(
            url,
            {
                "from_step": at_stage_1.open_step().pk,
                **date_fields("new_due_on", date(2026, 11, 16)),
                "reason": "Records are being gathered.",
            },
        )
    assert response.status_code == 302
    assert at_stage_1.open_step().due_on == date(2026, 11, 16)


def test_the_extend_form_says_why_a_date_is_refused(world, at_stage_1):
    client = client_of(world.chair)
    with time_machine.travel(at(2026, 11, 5), tick=False):
        client.force_login(world.chair.user)  # signed in then, not days before
        response = client.post(
            reverse("escalations:extend", args=[at_stage_1.pk]),
            {
                "from_step": at_stage_1.open_step().pk,
                **date_fields("new_due_on", date(2026, 11, 14)),
                "reason": "Records are being gathered.",
            },
        )
    assert response.status_code == 200
    assert "Sat 14 Nov 2026 is not a working day: choose a working day." in text(response)


def test_the_readdress_form_offers_only_holders_of_the_stage_role(world, at_stage_1, cover):
    page = text(client_of(world.chair).get(reverse("escalations:readdress", args=[at_stage_1.pk])))
    assert "Cory Cover — Team Manager" in page
    assert "Wren WorkerN" not in page
    assert "Tess TeamN — Team Manager" not in page


def test_the_readdress_form_sends_the_step_to_someone_else(world, at_stage_1, cover):
    client = client_of(world.chair)
    with time_machine.travel(at(2026, 11, 5), tick=False):
        client.force_login(world.chair.user)  # signed in then, not days before
        response = client.post(
            reverse("escalations:readdress", args=[at_stage_1.pk]),
            {
                "from_step": at_stage_1.open_step().pk,
                "responder": cover.pk,
                "reason": "On leave.",
            },
        )
    assert response.status_code == 302
    assert at_stage_1.open_step().responder == cover


def test_the_extend_page_shows_why_not_instead_of_a_form(world, at_stage_1):
    services.step_respond(
        actor=world.north.manager,
        step=at_stage_1.open_step(),
        response="Done.",
        now=at(2026, 11, 4),
    )
    page = text(client_of(world.chair).get(reverse("escalations:extend", args=[at_stage_1.pk])))
    assert "Nobody is waiting to respond to this escalation" in page
    assert "New deadline" not in page


# --- a stage addressed to several people ---------------------------------------------------


@pytest.fixture
def several(world_of):
    """Gloucestershire Stage 1 addressed to the Team Manager, the Social Worker and the
    Service Manager of the child's line, raised Mon 2 Nov 2026: each due Fri 6 Nov."""
    glos = world_of("gloucestershire")
    stage = glos.policy.stages.get(order=1)
    stage.addresses_several = True
    stage.save()
    stage.also_roles.set(Role.objects.filter(slug__in=["social-worker", "service-manager"]))
    chosen = [glos.north.manager, glos.north.worker, glos.north.service]
    escalation = services.escalation_raise(
        actor=glos.chair,
        policy=glos.policy,
        categories=first_category(glos.policy),
        children=[glos.child],
        summary="Core group meetings not held.",
        stage=stage,
        responder=chosen[0],
        addressees=chosen,
        reason="Straight to the formal stage.",
        now=at(2026, 11, 2),
    )
    return glos, escalation


def addressee_of(escalation, person) -> Addressee:
    return Addressee.objects.get(step__escalation=escalation, staff=person)


def test_one_persons_part_of_a_stage_goes_to_someone_else(several):
    glos, escalation = several
    part = addressee_of(escalation, glos.north.worker)
    readdress(escalation, glos.chair, glos.south.worker, replacing=part)
    part.refresh_from_db()
    assert part.staff == glos.south.worker
    assert escalation.open_step().responder == glos.north.manager
    assert rows(Kind.STEP_AMENDED, THURSDAY) == [("WorkerN", 0), ("WorkerS", 0)]


def test_the_first_persons_part_moves_the_step_addressee_too(several):
    glos, escalation = several
    part = addressee_of(escalation, glos.north.manager)
    readdress(escalation, glos.chair, glos.south.manager, replacing=part)
    assert escalation.open_step().responder == glos.south.manager


def test_on_a_stage_addressed_to_several_whose_part_must_be_said(several):
    glos, escalation = several
    with pytest.raises(services.ActionRefused) as refused:
        readdress(escalation, glos.chair, glos.south.worker)
    assert refused.value.message == "Choose whose part of this stage is to go to someone else."


def test_a_part_already_answered_cannot_be_passed_on(several):
    glos, escalation = several
    services.step_respond(
        actor=glos.north.worker,
        step=escalation.open_step(),
        response="Visits booked.",
        now=at(2026, 11, 3),
    )
    part = addressee_of(escalation, glos.north.worker)
    with pytest.raises(services.ActionRefused) as refused:
        readdress(escalation, glos.chair, glos.south.worker, replacing=part)
    assert refused.value.message == (
        "Wren WorkerN has already replied, so their part cannot be passed on."
    )


def test_someone_already_addressed_at_the_stage_cannot_take_another_part(several):
    glos, escalation = several
    part = addressee_of(escalation, glos.north.worker)
    with pytest.raises(services.ActionRefused) as refused:
        readdress(escalation, glos.chair, glos.north.service, replacing=part)
    assert refused.value.message == "Sam ServiceN is already addressed at this stage."


def test_an_extension_moves_the_deadline_of_those_still_to_reply(several):
    glos, escalation = several
    services.step_respond(
        actor=glos.north.worker,
        step=escalation.open_step(),
        response="Visits booked.",
        now=at(2026, 11, 3),
    )
    extend(escalation, glos.chair, new_due_on=date(2026, 11, 13))
    due = dict(
        Addressee.objects.filter(step__escalation=escalation).values_list(
            "staff__user__last_name", "due_on"
        )
    )
    assert due == {
        "TeamN": date(2026, 11, 13),
        "WorkerN": date(2026, 11, 6),
        "ServiceN": date(2026, 11, 13),
    }


# --- a change of addressee to or from a partner agency -------------------------------------


@pytest.fixture
def pat(world, ladders):
    """Rutland's Stage 1 opened to partner agencies, and a police contact in its directory."""
    world.policy.stages.filter(order=1).update(partner_responders=True)
    return Partner.objects.create(
        authority=world.policy.authority,
        name="Pat Police",
        job_title="Detective Inspector",
        organisation="Leicestershire Police",
        email="pat.police@police.example",
    )


def to_partner(escalation, actor, partner, now=THURSDAY, **kwargs):
    return services.step_readdress(
        actor=actor,
        escalation=escalation,
        partner=partner,
        reason=kwargs.pop("reason", "The police hold the information asked for."),
        now=now,
        **kwargs,
    )


def partner_link(partner) -> str:
    """The token of the partner link in the latest e-mail to `partner`."""
    relay_once(now=at(2026, 11, 30))
    [*_, message] = [m for m in mail.outbox if m.to == [partner.email]]
    found = re.search(r"/escalations/partner/([\w-]+)/", message.body)
    assert found, message.body
    return found.group(1)


def test_a_step_open_to_partners_may_go_to_a_partner_from_the_directory(world, at_stage_1, pat):
    amendment = to_partner(at_stage_1, world.chair, pat)
    step = at_stage_1.open_step()
    assert (step.responder, step.partner) == (None, pat)
    assert (amendment.old_addressee, amendment.new_addressee) == (
        "Tess TeamN",
        "Pat Police (Leicestershire Police)",
    )


def test_a_step_not_open_to_partners_cannot_go_to_a_partner(world, at_stage_1, pat):
    world.policy.stages.filter(order=1).update(partner_responders=False)
    with pytest.raises(services.ActionRefused) as refused:
        to_partner(at_stage_1, world.chair, pat)
    assert refused.value.message == (
        "Stage 1: Team Manager is answered within the council: choose a member of staff, not "
        "a partner-agency contact."
    )
    assert at_stage_1.open_step().responder == world.north.manager


def test_a_partner_of_another_authority_is_refused(world, at_stage_1, pat, ladders):
    elsewhere = Partner.objects.create(
        authority=ladders["gloucestershire"].authority,
        name="Gil Glos",
        job_title="Inspector",
        organisation="Gloucestershire Constabulary",
        email="gil@glos-police.example",
    )
    with pytest.raises(services.ActionRefused) as refused:
        to_partner(at_stage_1, world.chair, elsewhere)
    assert refused.value.message == "Choose a contact from this authority's partner directory."


def test_a_step_cannot_go_to_a_member_of_staff_and_a_partner_at_once(world, at_stage_1, pat, cover):
    with pytest.raises(services.ActionRefused) as refused:
        to_partner(at_stage_1, world.chair, pat, responder=cover)
    assert refused.value.message == (
        "Choose a member of staff or a partner-agency contact to respond, not both."
    )


def test_a_step_cannot_go_to_the_partner_already_asked(world, at_stage_1, pat):
    to_partner(at_stage_1, world.chair, pat)
    with pytest.raises(services.ActionRefused) as refused:
        to_partner(at_stage_1, world.chair, pat, now=at(2026, 11, 6))
    assert refused.value.message == "Pat Police is already addressed at this stage."


def test_the_partner_is_told_in_the_outbox_and_the_old_addressee_and_chair_too(
    world, at_stage_1, pat
):
    to_partner(at_stage_1, world.qa, pat)
    told = Notification.objects.filter(created_at=THURSDAY)
    assert list(told.filter(partner__isnull=False).values_list("partner", flat=True)) == [pat.pk]
    staff = told.filter(recipient__isnull=False)
    assert sorted(staff.values_list("recipient__user__last_name", flat=True)) == ["Chair", "TeamN"]


def test_the_partner_is_e_mailed_a_link_that_opens_their_step(world, at_stage_1, pat, no_broker):
    to_partner(at_stage_1, world.chair, pat)
    access = partner_access.access_for_token(partner_link(pat))
    assert access is not None
    assert (access.step, access.partner) == (at_stage_1.open_step(), pat)
    assert partner_access.access_refusal(access) is None


def test_a_partner_step_may_go_back_to_staff_and_the_partners_link_closes(
    world, at_stage_1, pat, cover
):
    to_partner(at_stage_1, world.chair, pat)
    access = PartnerAccess.objects.get(partner=pat)
    amendment = readdress(at_stage_1, world.chair, cover, now=at(2026, 11, 6))
    step = at_stage_1.open_step()
    assert (step.responder, step.partner) == (cover, None)
    assert amendment.old_addressee == "Pat Police (Leicestershire Police)"
    assert partner_access.access_refusal(access) == partner_access.CLOSED


def test_a_partner_passed_over_and_asked_again_gets_a_fresh_link(
    world, at_stage_1, pat, cover, no_broker
):
    to_partner(at_stage_1, world.chair, pat)
    first = partner_link(pat)
    readdress(at_stage_1, world.chair, cover, now=at(2026, 11, 6))
    to_partner(at_stage_1, world.chair, pat, now=at(2026, 11, 9))
    second = partner_link(pat)
    assert first != second
    assert partner_access.access_for_token(first) is None
    assert partner_access.access_refusal(partner_access.access_for_token(second)) is None


def test_the_old_links_sessions_end_when_a_partner_is_asked_again(world, at_stage_1, pat, cover):
    to_partner(at_stage_1, world.chair, pat)
    access = PartnerAccess.objects.get(partner=pat)
    session = PartnerSession.objects.create(
        access=access, token_hash="x" * 64, created_at=THURSDAY, expires_at=at(2026, 11, 30)
    )
    readdress(at_stage_1, world.chair, cover, now=at(2026, 11, 6))
    to_partner(at_stage_1, world.chair, pat, now=at(2026, 11, 9))
    session.refresh_from_db()
    assert session.ended_at == at(2026, 11, 9)


def test_the_partner_may_reply_through_the_service(world, at_stage_1, pat):
    to_partner(at_stage_1, world.chair, pat)
    step = Step.objects.get(pk=at_stage_1.open_step().pk)
    services.step_respond(actor=pat, step=step, response="Visit records sent.", now=at(2026, 11, 6))
    step.refresh_from_db()
    assert step.responded_at == at(2026, 11, 6)


def test_one_staff_part_of_a_stage_goes_to_a_partner(several):
    glos, escalation = several
    glos.policy.stages.filter(order=1).update(partner_responders=True)
    pat = Partner.objects.create(
        authority=glos.policy.authority,
        name="Pat Police",
        job_title="Detective Inspector",
        organisation="Gloucestershire Constabulary",
        email="pat.police@police.example",
    )
    part = addressee_of(escalation, glos.north.worker)
    to_partner(escalation, glos.chair, pat, replacing=part)
    part.refresh_from_db()
    assert (part.staff, part.partner) == (None, pat)
    access = PartnerAccess.objects.get(partner=pat)
    assert (access.addressee, partner_access.access_refusal(access)) == (part, None)
    assert escalation.open_step().responder == glos.north.manager


def test_the_readdress_form_offers_partner_contacts_on_a_stage_open_to_them(world, at_stage_1, pat):
    page = text(client_of(world.chair).get(reverse("escalations:readdress", args=[at_stage_1.pk])))
    assert "Pat Police — Detective Inspector, Leicestershire Police" in page


def test_the_readdress_form_offers_no_partners_on_a_stage_closed_to_them(world, at_stage_1, pat):
    world.policy.stages.filter(order=1).update(partner_responders=False)
    page = text(client_of(world.chair).get(reverse("escalations:readdress", args=[at_stage_1.pk])))
    assert "Pat Police" not in page


def test_the_readdress_form_sends_the_step_to_a_partner(world, at_stage_1, pat):
    client = client_of(world.chair)
    with time_machine.travel(at(2026, 11, 5), tick=False):
        client.force_login(world.chair.user)  # signed in then, not days before
        response = client.post(
            reverse("escalations:readdress", args=[at_stage_1.pk]),
            {"from_step": at_stage_1.open_step().pk, "partner": pat.pk, "reason": "Police."},
        )
    assert response.status_code == 302
    assert at_stage_1.open_step().partner == pat


def test_the_readdress_form_asks_for_someone_when_nobody_is_chosen(world, at_stage_1, pat):
    client = client_of(world.chair)
    with time_machine.travel(at(2026, 11, 5), tick=False):
        client.force_login(world.chair.user)  # signed in then, not days before
        response = client.post(
            reverse("escalations:readdress", args=[at_stage_1.pk]),
            {"from_step": at_stage_1.open_step().pk, "reason": "On leave."},
        )
    assert response.status_code == 200
    assert "Choose who should respond instead." in text(response)
