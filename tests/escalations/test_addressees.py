"""A stage addressed to several people at once (Stage.addresses_several): one Addressee row
each, their own reply and clock; the stage's completion rule (all / any / the chair decides)
says when the stage is answered. Shown as one stage with each person's state.

Gloucestershire Stage 1 (Team Manager, 4 working days) is made to address the Team
Manager, the Social Worker and the Service Manager, as the "Alerts Protocol" addresses the
social worker, the assistant team manager and the team manager.

    November 2026
    Mo Tu We Th Fr Sa Su
                       1
     2  3  4  5  6  7  8
     9 10 11 12 13 14 15
    16 17 18 19 20 21 22

Raised Mon 2 Nov: due Mon 2 Nov + 4 working days = Fri 6 Nov; the formal cap (20 working
days) Mon 30 Nov. No bank holiday in November.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from escalations import rules, selectors
from escalations.models import Addressee, Escalation, State, Step
from escalations.services import (
    ActionRefused,
    escalation_raise,
    escalation_raise_recipients,
    escalation_resolve,
    step_respond,
)
from escalations.sweep import process_due
from notifications.models import Kind, Notification
from policies.models import Completion, Role, Stage
from tests.fixtures import MONDAY, World, at, first_category

pytestmark = pytest.mark.usefixtures("no_broker")


@pytest.fixture
def world(world_of) -> World:
    w = world_of("gloucestershire")
    stage = w.policy.stages.get(order=1)
    stage.addresses_several = True
    stage.completion = Completion.ALL
    stage.save()
    stage.also_roles.set(Role.objects.filter(slug__in=["social-worker", "service-manager"]))
    return w


def stage_one(world: World) -> Stage:
    return world.policy.stages.get(order=1)


def people(world: World) -> list:
    """The Team Manager, the Social Worker and the Service Manager of the child's line."""
    return [world.north.manager, world.north.worker, world.north.service]


def raise_several(world: World, *, completion: str = Completion.ALL, **kwargs) -> Escalation:
    stage = stage_one(world)
    stage.completion = completion
    stage.save()
    chosen = kwargs.pop("addressees", people(world))
    return escalation_raise(
        actor=world.chair,
        policy=world.policy,
        categories=first_category(world.policy),
        children=[world.child],
        summary="Core group meetings not held.",
        stage=stage,
        responder=chosen[0],
        addressees=chosen,
        now=kwargs.pop("now", MONDAY),
        **kwargs,
    )


def the_step(escalation: Escalation) -> Step:
    return Step.objects.get(escalation=escalation, closed_at__isnull=True)


def reply(step: Step, person, when: datetime, text: str = "Visits booked.", **kwargs) -> Step:
    return step_respond(actor=person, step=step, response=text, now=when, **kwargs)


# --- raising ---------------------------------------------------------------------------


def test_each_person_addressed_gets_a_row_on_the_steps_own_deadline(world):
    step = the_step(raise_several(world))

    rows = list(step.addressees.order_by("pk"))

    assert [a.staff for a in rows] == people(world)
    assert {a.due_on for a in rows} == {date(2026, 11, 6)}
    assert step.due_on == date(2026, 11, 6)


def test_the_first_person_addressed_is_the_steps_responder_and_the_rule_is_kept(world):
    step = the_step(raise_several(world, completion=Completion.ANY))

    assert step.responder == world.north.manager
    assert step.completion == Completion.ANY


def test_a_stage_addressed_to_one_person_keeps_no_rows_and_no_completion(world, ladders):
    stage = stage_one(world)
    stage.addresses_several = False
    stage.save()

    escalation = escalation_raise(
        actor=world.chair,
        policy=world.policy,
        categories=first_category(world.policy),
        children=[world.child],
        summary="Core group meetings not held.",
        stage=stage,
        responder=world.north.manager,
        now=MONDAY,
    )

    step = the_step(escalation)
    assert (step.completion, step.addressees.count()) == ("", 0)


def test_a_stage_addressed_to_one_person_refuses_several(world):
    stage = stage_one(world)
    stage.addresses_several = False
    stage.save()

    with pytest.raises(ActionRefused, match="addressed to one person"):
        raise_several(world)


def test_each_person_addressed_must_hold_a_role_the_stage_names(world):
    with pytest.raises(ActionRefused, match="Hana HeadN is a Head of Service"):
        raise_several(world, addressees=[world.north.manager, world.north.head])


def test_the_chair_cannot_address_the_stage_to_themselves(world, staff_of):
    with pytest.raises(ActionRefused, match="yourself"):
        raise_several(world, addressees=[world.north.manager, world.chair])


def test_everyone_addressed_is_sent_the_step_and_none_of_them_is_also_copied(world):
    step = the_step(raise_several(world))

    raised = {n.recipient for n in Notification.objects.filter(step=step, kind=Kind.STEP_RAISED)}
    copied = {n.recipient for n in Notification.objects.filter(step=step, kind=Kind.STEP_COPIED)}

    assert raised == set(people(world))
    assert not copied & set(people(world))


def test_the_preview_names_everyone_addressed_before_anything_is_sent(world):
    stage = stage_one(world)

    preview = escalation_raise_recipients(
        actor=world.chair,
        policy=world.policy,
        categories=first_category(world.policy),
        children=[world.child],
        summary="Core group meetings not held.",
        stage=stage,
        responder=world.north.manager,
        addressees=people(world),
        now=MONDAY,
    )

    assert [preview.addressee, *preview.also_addressed] == people(world)
    assert not {c.person for c in preview.copies} & set(people(world))


def test_by_default_the_stage_goes_to_the_holder_of_each_role_in_the_childs_line(world):
    found = rules.default_addressees(stage_one(world), [world.child])

    assert found[0] == world.north.manager
    assert set(found) == set(people(world))


# --- replying --------------------------------------------------------------------------


def test_when_everyone_must_reply_one_reply_leaves_the_stage_awaiting_the_others(world):
    escalation = raise_several(world)
    step = the_step(escalation)

    reply(step, world.north.worker, at(2026, 11, 3))

    step.refresh_from_db()
    assert step.responded_at is None
    assert Escalation.objects.get(pk=escalation.pk).state == State.AWAITING_RESPONSE
    assert step.addressees.get(staff=world.north.worker).response == "Visits booked."


def test_when_everyone_must_reply_the_last_reply_answers_the_stage(world):
    escalation = raise_several(world)
    step = the_step(escalation)

    for n, person in enumerate(people(world)):
        reply(step, person, at(2026, 11, 3 + n))

    step.refresh_from_db()
    assert step.responded_at == at(2026, 11, 5)
    assert step.responded_by == world.north.service
    assert Escalation.objects.get(pk=escalation.pk).state == State.RESPONSE_RECEIVED


def test_when_any_reply_will_do_the_first_answers_the_stage(world):
    escalation = raise_several(world, completion=Completion.ANY)
    step = the_step(escalation)

    reply(step, world.north.worker, at(2026, 11, 3))

    step.refresh_from_db()
    assert step.responded_at == at(2026, 11, 3)
    assert Escalation.objects.get(pk=escalation.pk).state == State.RESPONSE_RECEIVED


def test_when_any_reply_will_do_the_others_are_told_theirs_is_no_longer_needed(world):
    step = the_step(raise_several(world, completion=Completion.ANY))
    reply(step, world.north.worker, at(2026, 11, 3))

    with pytest.raises(ActionRefused, match="one reply was enough"):
        reply(step, world.north.manager, at(2026, 11, 4))


def test_when_the_chair_decides_the_first_reply_puts_the_stage_before_the_chair(world):
    escalation = raise_several(world, completion=Completion.CHAIR)
    step = the_step(escalation)

    reply(step, world.north.worker, at(2026, 11, 3))

    step.refresh_from_db()
    assert step.is_awaiting_chair
    assert rules.Action.ESCALATE in rules.allowed_actions(world.chair, step.escalation)
    assert Escalation.objects.get(pk=escalation.pk).state == State.RESPONSE_RECEIVED


def test_when_the_chair_decides_the_others_may_still_reply_until_the_chair_does(world):
    step = the_step(raise_several(world, completion=Completion.CHAIR))
    reply(step, world.north.worker, at(2026, 11, 3))

    reply(step, world.north.manager, at(2026, 11, 4), text="Core group set for Friday.")

    step.refresh_from_db()
    assert step.responded_at == at(2026, 11, 3)
    assert step.addressees.get(staff=world.north.manager).response == "Core group set for Friday."


def test_when_the_chair_has_decided_the_others_can_no_longer_reply(world):
    escalation = raise_several(world, completion=Completion.CHAIR)
    step = the_step(escalation)
    reply(step, world.north.worker, at(2026, 11, 3))
    escalation_resolve(
        actor=world.chair, escalation=escalation, outcome="Settled.", now=at(2026, 11, 4)
    )

    with pytest.raises(ActionRefused, match="closed"):
        reply(step, world.north.manager, at(2026, 11, 5))


def test_someone_not_addressed_may_not_reply(world):
    step = the_step(raise_several(world))

    with pytest.raises(ActionRefused, match="addressed to someone else"):
        reply(step, world.south.manager, at(2026, 11, 3))


def test_each_person_replies_once(world):
    step = the_step(raise_several(world))
    reply(step, world.north.worker, at(2026, 11, 3))

    with pytest.raises(ActionRefused, match="already replied"):
        reply(step, world.north.worker, at(2026, 11, 4))


def test_a_file_sent_with_a_reply_belongs_to_that_persons_reply(world):
    step = the_step(raise_several(world))
    upload = SimpleUploadedFile("plan.txt", b"The visit plan.\n", content_type="text/plain")

    reply(step, world.north.worker, at(2026, 11, 3), attachments=[upload])

    attachment = step.attachments.get()
    assert attachment.addressee == step.addressees.get(staff=world.north.worker)
    assert attachment.uploaded_by == world.north.worker


def test_the_chair_hears_of_each_reply(world):
    step = the_step(raise_several(world))

    reply(step, world.north.worker, at(2026, 11, 3))
    reply(step, world.north.manager, at(2026, 11, 4))

    told = Notification.objects.filter(
        step=step, kind=Kind.RESPONSE_RECEIVED, recipient=world.chair
    )
    assert told.count() == 2


# --- the sweep: each person's own clock ----------------------------------------------------


def sweep(now: datetime) -> None:
    with time_machine.travel(now, tick=False):
        process_due(now)


def told(kind: str, step: Step) -> set:
    return {n.recipient for n in Notification.objects.filter(step=step, kind=kind)}


def test_the_reminder_goes_to_those_yet_to_reply_and_not_to_those_who_have(world):
    step = the_step(raise_several(world))
    reply(step, world.north.worker, at(2026, 11, 3))

    # Due Fri 6 Nov: due soon on Thu 5 Nov, the last working day before it.
    sweep(at(2026, 11, 5, 9))

    assert told(Kind.REMINDER, step) == {world.north.manager, world.north.service}


def test_the_overdue_alert_goes_to_those_yet_to_reply_and_the_chair(world):
    step = the_step(raise_several(world))
    reply(step, world.north.manager, at(2026, 11, 3))

    # Due Fri 6 Nov: overdue on Mon 9 Nov.
    sweep(at(2026, 11, 9, 9))

    assert told(Kind.OVERDUE, step) == {world.chair, world.north.worker, world.north.service}


def test_a_persons_own_later_date_keeps_their_alerts_back(world):
    step = the_step(raise_several(world))
    Addressee.objects.filter(step=step, staff=world.north.service).update(due_on=date(2026, 11, 13))

    sweep(at(2026, 11, 9, 9))

    assert world.north.service not in told(Kind.OVERDUE, step)
    assert world.north.worker in told(Kind.OVERDUE, step)


def test_once_any_reply_answers_the_stage_nobody_else_is_reminded(world):
    step = the_step(raise_several(world, completion=Completion.ANY))
    reply(step, world.north.worker, at(2026, 11, 3))

    sweep(at(2026, 11, 5, 9))
    sweep(at(2026, 11, 9, 9))

    assert told(Kind.REMINDER, step) == set()
    assert told(Kind.OVERDUE, step) == set()


def test_while_the_chair_decides_those_yet_to_reply_are_still_reminded(world):
    step = the_step(raise_several(world, completion=Completion.CHAIR))
    reply(step, world.north.worker, at(2026, 11, 3))

    sweep(at(2026, 11, 5, 9))

    assert told(Kind.REMINDER, step) == {world.north.manager, world.north.service}


def test_a_second_sweep_the_same_day_adds_nothing(world):
    step = the_step(raise_several(world))
    sweep(at(2026, 11, 9, 9))
    before = Notification.objects.filter(step=step).count()

    sweep(at(2026, 11, 9, 15))

    assert Notification.objects.filter(step=step).count() == before


# --- the predicates: SQL and Python agree ---------------------------------------------------


@pytest.mark.parametrize("today", [date(2026, 11, d) for d in range(2, 16)])
def test_each_addressee_queryset_finds_exactly_the_rows_its_predicate_names(world, today):
    step = the_step(raise_several(world, completion=Completion.CHAIR))
    reply(step, world.north.worker, at(2026, 11, 3))
    Addressee.objects.filter(step=step, staff=world.north.service).update(due_on=date(2026, 11, 11))
    rows = Addressee.objects.filter(step=step)
    loaded = list(rows.select_related("step"))
    cal = {"nation": "ENG", "closures": frozenset()}

    assert set(rows.awaited()) == {a for a in loaded if a.is_awaited}
    assert set(rows.overdue(today)) == {a for a in loaded if a.is_overdue(today)}
    assert set(rows.due_soon(today, **cal)) == {a for a in loaded if a.is_due_soon(today, **cal)}


# --- the escalation page -----------------------------------------------------------------


def test_the_page_shows_the_stage_once_with_each_persons_state(world, client):
    escalation = raise_several(world)
    step = the_step(escalation)
    reply(step, world.north.worker, at(2026, 11, 3), text="Visits booked for Thursday.")
    client.force_login(world.chair.user)

    with time_machine.travel(at(2026, 11, 9), tick=False):
        page = client.get(reverse("escalations:detail", args=[escalation.pk]))

    html = page.content.decode()
    assert html.count(f'id="step-{step.pk}"') == 1
    assert "Wren WorkerN" in html and "replied on 3 Nov 2026" in html
    assert "Visits booked for Thursday." in html
    assert "Tess TeamN" in html and "Sam ServiceN" in html
    assert "Overdue" in html


def test_each_persons_clock_is_on_the_page_rows(world):
    escalation = raise_several(world)
    step = the_step(escalation)
    reply(step, world.north.worker, at(2026, 11, 3))

    context = selectors.escalation_context(world.chair, escalation, date(2026, 11, 9))

    row = next(r for r in context["step_rows"] if r.step.pk == step.pk)
    states = {a.addressee.staff: (a.answered, a.overdue) for a in row.addressees}
    assert states == {
        world.north.manager: (False, True),
        world.north.worker: (True, False),
        world.north.service: (False, True),
    }


def test_a_second_person_addressed_can_open_the_response_page_and_reply(world, client):
    escalation = raise_several(world)
    step = the_step(escalation)
    client.force_login(world.north.worker.user)

    with time_machine.travel(at(2026, 11, 3), tick=False):
        page = client.get(reverse("escalations:respond", args=[step.pk]))
        sent = client.post(
            reverse("escalations:respond", args=[step.pk]), {"response": "Visits booked."}
        )

    assert page.status_code == 200
    assert sent.status_code == 302
    assert step.addressees.get(staff=world.north.worker).response == "Visits booked."


def test_the_people_addressed_see_the_step_on_their_to_do_list(world):
    step = the_step(raise_several(world))

    for person in people(world):
        sections = selectors.todo_sections(person, date(2026, 11, 3))
        rows = [r for s in sections if s.key == "respond" for r in s.rows]
        assert [r.step for r in rows] == [step], person


def test_who_has_replied_no_longer_sees_it_to_answer(world):
    step = the_step(raise_several(world))
    reply(step, world.north.worker, at(2026, 11, 3))

    sections = selectors.todo_sections(world.north.worker, date(2026, 11, 3))

    assert not [r for s in sections if s.key == "respond" for r in s.rows]


def test_each_person_addressed_opening_their_notification_goes_to_their_response_form(
    world, client
):
    escalation = raise_several(world)
    step = the_step(escalation)
    second = people(world)[1]
    notification = Notification.objects.get(step=step, recipient=second)
    client.force_login(second.user)

    response = client.post(reverse("notifications:open", args=[notification.pk]))

    assert response.url == reverse("escalations:respond", args=[step.pk])
