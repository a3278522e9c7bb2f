"""Chase and record: a reminder sent now (an outbox row, recorded on the step, once a
working day), the chair's record of the informal discussion, and whose verdict it was."""

from __future__ import annotations

import html

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from escalations import services
from escalations.models import State, Verdict
from notifications.models import Kind, Notification
from notifications.relay import relay_once
from tests.fixtures import World, at


@pytest.fixture
def world(world_of) -> World:
    return world_of("rutland")


@pytest.fixture
def at_stage_1(world, raise_concern):
    """Rutland's Stage 1 from Mon 2 Nov 2026, due Mon 9 Nov, asked of Tess TeamN."""
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


# --- chasing ---------------------------------------------------------------------------


def test_a_reminder_is_an_outbox_row_to_the_responder_recorded_on_the_step(world, at_stage_1):
    step = services.step_chase(actor=world.chair, escalation=at_stage_1, now=at(2026, 11, 12, 9))
    chase = Notification.objects.get(kind=Kind.CHASE)
    assert (chase.step, chase.recipient) == (step, world.north.manager)
    step.refresh_from_db()
    assert step.chased_at == at(2026, 11, 12, 9)


def test_the_reminder_e_mail_says_how_overdue_it_is_and_links_to_the_step(
    world, at_stage_1, no_broker
):
    services.step_chase(actor=world.chair, escalation=at_stage_1, now=at(2026, 11, 12, 9))
    mail.outbox.clear()
    relay_once(now=at(2026, 11, 12, 9))
    [message] = [m for m in mail.outbox if "A reminder from the chair" in m.subject]
    assert message.to == [world.north.manager.user.email]
    assert "3 working days overdue (due Mon 9 Nov)" in message.body
    assert "/escalations/link/" in message.body


def test_a_second_reminder_the_same_working_day_is_refused_in_plain_words(world, at_stage_1):
    services.step_chase(actor=world.chair, escalation=at_stage_1, now=at(2026, 11, 12, 9))
    with pytest.raises(services.ActionRefused) as refused:
        services.step_chase(actor=world.chair, escalation=at_stage_1, now=at(2026, 11, 12, 16))
    assert refused.value.message == (
        "Tess TeamN was already reminded on Thu 12 Nov at 09:00. One reminder a working day "
        "is enough: you can send another from Fri 13 Nov."
    )
    assert Notification.objects.filter(kind=Kind.CHASE).count() == 1


def test_a_reminder_on_a_weekend_counts_for_the_monday(world, at_stage_1):
    services.step_chase(actor=world.chair, escalation=at_stage_1, now=at(2026, 11, 14))  # Sat
    with pytest.raises(services.ActionRefused):
        services.step_chase(actor=world.chair, escalation=at_stage_1, now=at(2026, 11, 16))


def test_the_next_working_day_another_reminder_goes(world, at_stage_1):
    services.step_chase(actor=world.chair, escalation=at_stage_1, now=at(2026, 11, 12))
    services.step_chase(actor=world.chair, escalation=at_stage_1, now=at(2026, 11, 13))
    assert list(
        Notification.objects.filter(kind=Kind.CHASE).values_list("occurrence", flat=True)
    ) == [1, 0]


def test_only_the_driver_may_chase(world, at_stage_1):
    with pytest.raises(services.ActionRefused) as refused:
        services.step_chase(actor=world.other_chair, escalation=at_stage_1, now=at(2026, 11, 12))
    assert "Only the person who raised this escalation" in refused.value.message


def test_an_answered_step_has_nobody_to_remind(world, at_stage_1):
    services.step_respond(
        actor=world.north.manager,
        step=at_stage_1.open_step(),
        response="Done.",
        now=at(2026, 11, 5),
    )
    with pytest.raises(services.ActionRefused) as refused:
        services.step_chase(actor=world.chair, escalation=at_stage_1, now=at(2026, 11, 12))
    assert refused.value.message == "Nobody is waiting to respond, so there is no one to remind."


def test_the_chase_button_on_the_to_do_list_sends_and_returns_to_the_list(world, at_stage_1):
    client = client_of(world.chair)
    with time_machine.travel(at(2026, 11, 12), tick=False):
        response = client.post(
            reverse("escalations:chase", args=[at_stage_1.pk]), {"back": "todo"}, follow=True
        )
    assert response.redirect_chain[-1][0] == reverse("escalations:todo")
    assert "Reminder sent to Tess TeamN." in text(response)
    assert Notification.objects.filter(kind=Kind.CHASE).count() == 1


def test_a_refused_chase_from_the_page_says_why(world, at_stage_1):
    client = client_of(world.chair)
    url = reverse("escalations:chase", args=[at_stage_1.pk])
    with time_machine.travel(at(2026, 11, 12), tick=False):
        client.post(url)
        response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("escalations:detail", args=[at_stage_1.pk])
    assert "One reminder a working day is enough" in text(response)


def test_the_step_shows_when_it_was_last_chased(world, at_stage_1):
    services.step_chase(actor=world.chair, escalation=at_stage_1, now=at(2026, 11, 12, 9))
    page = text(client_of(world.chair).get(reverse("escalations:detail", args=[at_stage_1.pk])))
    assert "Last reminder" in page and "12 Nov 2026, 09:00" in page


# --- the informal discussion -------------------------------------------------------------


@pytest.fixture
def informal(world, raise_concern):
    return raise_concern(
        "rutland", actor=world.chair, responder=world.north.service, children=[world.child]
    )


def test_recording_a_discussion_that_settled_it_resolves_with_what_was_agreed(world, informal):
    services.escalation_record_discussion(
        actor=world.chair, escalation=informal, agreed="Visits weekly from now.", resolved=True
    )
    informal.refresh_from_db()
    step = informal.steps.get()
    assert informal.state == State.RESOLVED
    assert informal.outcome == "Visits weekly from now."
    assert (step.response, step.verdict) == ("Visits weekly from now.", Verdict.SATISFACTORY)


def test_going_formal_after_the_discussion_records_it_as_not_satisfactory(
    world, informal, staff_of
):
    services.escalation_record_discussion(
        actor=world.chair, escalation=informal, agreed="No agreement on visits.", resolved=False
    )
    informal.refresh_from_db()
    assert informal.state == State.RESPONSE_RECEIVED
    services.escalation_escalate(
        actor=world.chair, escalation=informal, responder=world.north.manager
    )
    assert informal.steps.get(sequence=1).verdict == Verdict.UNSATISFACTORY


def test_a_discussion_needs_what_was_agreed(world, informal):
    with pytest.raises(services.ActionRefused) as refused:
        services.escalation_record_discussion(
            actor=world.chair, escalation=informal, agreed=" ", resolved=True
        )
    assert refused.value.field == "agreed"


def test_only_an_informal_discussion_can_be_recorded(world, at_stage_1):
    with pytest.raises(services.ActionRefused) as refused:
        services.escalation_record_discussion(
            actor=world.chair, escalation=at_stage_1, agreed="Agreed.", resolved=True
        )
    assert "Only an informal discussion" in refused.value.message


def test_the_discussion_form_going_formal_leads_to_the_escalate_page(world, informal):
    client = client_of(world.chair)
    url = reverse("escalations:discussion", args=[informal.pk])
    assert "What was agreed" in text(client.get(url))
    response = client.post(
        url,
        {"agreed": "No agreement.", "then": "formal", "from_step": informal.open_step().pk},
    )
    assert response["Location"] == reverse("escalations:escalate", args=[informal.pk])


def test_the_discussion_form_without_a_choice_says_what_is_missing(world, informal):
    client = client_of(world.chair)
    response = client.post(
        reverse("escalations:discussion", args=[informal.pk]), {"agreed": "Something."}
    )
    assert "Say whether the discussion settled the concern." in text(response)


# --- whose verdict -----------------------------------------------------------------------


def test_a_qa_managers_escalation_is_labelled_as_their_verdict(world, at_stage_1):
    services.escalation_escalate(
        actor=world.qa, escalation=at_stage_1, responder=world.north.service
    )
    page = text(client_of(world.chair).get(reverse("escalations:detail", args=[at_stage_1.pk])))
    assert "QA manager's verdict" in page
    assert at_stage_1.steps.get(sequence=2).judged_by == world.qa


def test_the_chairs_own_verdict_is_labelled_the_chairs(world, at_stage_1):
    services.escalation_escalate(
        actor=world.chair, escalation=at_stage_1, responder=world.north.service
    )
    page = text(client_of(world.chair).get(reverse("escalations:detail", args=[at_stage_1.pk])))
    assert "Chair's verdict" in page and "QA manager's verdict" not in page
