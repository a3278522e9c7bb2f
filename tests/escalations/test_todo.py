"""The to-do list (selectors.todo_sections, the escalations:todo page): what each person
must do now, each row with its next action in words and a link to it."""

from __future__ import annotations

import html
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from escalations import selectors, services
from tests.fixtures import World, at

TODAY = at(2026, 11, 12).date()  # Thu 12 Nov 2026


@pytest.fixture
def world(world_of) -> World:
    return world_of("rutland")


def at_stage_1(world, raise_concern, *, child=None, responder=None):
    """A Rutland escalation raised informally, then at Stage 1 from Mon 2 Nov (due Mon 9)."""
    escalation = raise_concern(
        "rutland",
        actor=world.chair,
        responder=world.north.service,
        children=[child or world.child],
        now=at(2026, 10, 26),
    )
    services.escalation_escalate(
        actor=world.chair,
        escalation=escalation,
        responder=responder or world.north.manager,
        now=at(2026, 11, 2),
    )
    escalation.refresh_from_db()
    return escalation


def answered(world, raise_concern, child_of):
    escalation = at_stage_1(
        world, raise_concern, child=child_of("rutland", social_worker=world.north.worker)
    )
    services.step_respond(
        actor=world.north.manager,
        step=escalation.open_step(),
        response="Visits booked.",
        now=at(2026, 11, 5),
    )
    return escalation


def section(sections, key):
    return next((s for s in sections if s.key == key), None)


def test_a_chair_sees_a_response_awaiting_their_verdict_with_resolve_and_escalate(
    world, raise_concern, child_of
):
    escalation = answered(world, raise_concern, child_of)
    rows = section(selectors.todo_sections(world.chair, TODAY), "decide").rows
    assert [r.escalation for r in rows] == [escalation]
    assert [a.label for a in rows[0].actions] == ["Resolve", "Escalate to Stage 2: Service Manager"]
    assert rows[0].actions[0].url == reverse("escalations:resolve", args=[escalation.pk])


def test_a_chair_sees_an_overdue_step_to_chase_with_the_working_days_overdue(world, raise_concern):
    escalation = at_stage_1(world, raise_concern)
    row = section(selectors.todo_sections(world.chair, TODAY), "chase").rows[0]
    assert row.escalation == escalation
    assert row.when == "3 working days overdue (due Mon 9 Nov)"
    chase = row.actions[0]
    assert chase.post and chase.label == "Send Tess TeamN a reminder"
    assert chase.url == reverse("escalations:chase", args=[escalation.pk])


def test_a_step_in_time_is_not_on_the_chairs_list(world, raise_concern):
    at_stage_1(world, raise_concern)
    assert selectors.todo_sections(world.chair, at(2026, 11, 4).date()) == []


def test_an_informal_discussion_past_its_time_asks_for_its_outcome(raise_concern, staff_of):
    # Gloucestershire's informal stage gives 2 working days: raised Mon 2 Nov, due Wed 4.
    chair = staff_of("gloucestershire", "cp-chair")
    escalation = raise_concern("gloucestershire", actor=chair)
    row = section(selectors.todo_sections(chair, TODAY), "informal").rows[0]
    assert row.escalation == escalation
    assert [a.label for a in row.actions] == ["Record the outcome of the discussion"]
    assert row.actions[0].url == reverse("escalations:discussion", args=[escalation.pk])


def test_an_escalation_near_the_formal_cap_is_listed_with_its_limit(raise_concern, staff_of):
    chair = staff_of("gloucestershire", "cp-chair")
    escalation = raise_concern("gloucestershire", actor=chair, stage_order=1)
    escalation.refresh_from_db()
    cap = escalation.formal_cap_due_on
    rows = section(selectors.todo_sections(chair, cap), "cap").rows
    assert [r.escalation for r in rows] == [escalation]
    assert rows[0].when.startswith("Formal limit is today")


def test_a_responder_sees_what_to_answer_overdue_first(world, raise_concern, child_of):
    late = at_stage_1(world, raise_concern)
    in_time = raise_concern(
        "rutland",
        actor=world.chair,
        responder=world.north.service,
        children=[child_of("rutland")],
        now=at(2026, 11, 11),
    )
    services.escalation_escalate(
        actor=world.chair, escalation=in_time, responder=world.north.manager, now=at(2026, 11, 11)
    )
    rows = section(selectors.todo_sections(world.north.manager, TODAY), "respond").rows
    assert [r.escalation for r in rows] == [late, in_time]
    assert rows[0].overdue and rows[0].actions[0].label == "Respond"
    assert rows[1].actions[0].label == "Respond by Wed 18 Nov"
    assert rows[1].actions[0].url == reverse("escalations:respond", args=[in_time.open_step().pk])


def test_a_qa_manager_sees_the_stages_they_must_raise(world, raise_concern):
    # Rutland's Stage 5 is raised by a QA manager once Stage 4 has answered.
    escalation = raise_concern(
        "rutland",
        actor=world.chair,
        stage_order=4,
        responder=world.director,
        children=[world.child],
        statement={"issue": "Drift.", "actions": "Alerts.", "wanted": "A plan."},
    )
    services.step_respond(
        actor=world.director,
        step=escalation.open_step(),
        response="Met.",
        meeting_date=at(2026, 11, 3).date(),
        now=at(2026, 11, 3),
    )
    rows = section(selectors.todo_sections(world.qa, TODAY), "raise").rows
    assert [r.escalation for r in rows] == [escalation]
    assert rows[0].actions[0].label == "Raise Stage 5: Independent Chair of the LSCB"


def test_a_qa_manager_sees_every_overdue_step_in_the_authority(world, raise_concern):
    escalation = at_stage_1(world, raise_concern)
    rows = section(selectors.todo_sections(world.qa, TODAY), "authority_overdue").rows
    assert [r.escalation for r in rows] == [escalation]
    assert section(selectors.todo_sections(world.other_chair, TODAY), "chase") is None


def test_the_list_takes_the_same_number_of_queries_for_many_rows(world, raise_concern, child_of):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            selectors.todo_sections(world.chair, TODAY)
        return len(queries)

    at_stage_1(world, raise_concern)
    answered(world, raise_concern, child_of)
    few = count()
    for _ in range(3):
        at_stage_1(world, raise_concern, child=child_of("rutland"))
        answered(world, raise_concern, child_of)
    assert count() == few


def test_the_home_page_is_the_to_do_list(world):
    client = Client()
    client.force_login(world.chair.user)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("escalations:todo")


def test_the_to_do_page_shows_each_row_with_its_next_action_and_keeps_the_lists_reachable(
    world, raise_concern, child_of
):
    escalation = answered(world, raise_concern, child_of)
    client = Client()
    client.force_login(world.chair.user)
    with time_machine.travel(at(2026, 11, 12), tick=False):
        text = html.unescape(client.get(reverse("escalations:todo")).content.decode())
    assert "Responses waiting for your verdict" in text
    assert escalation.reference in text
    assert f'href="{reverse("escalations:resolve", args=[escalation.pk])}"' in text
    assert f'href="{reverse("escalations:mine")}"' in text
    assert f'href="{reverse("escalations:awaiting")}"' in text


def test_the_to_do_pages_actions_are_links_and_buttons_with_the_forms_token(world, raise_concern):
    escalation = at_stage_1(world, raise_concern)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.chair.user)
    with time_machine.travel(at(2026, 11, 12), tick=False):
        page = client.get(reverse("escalations:todo")).content.decode()
    chase = reverse("escalations:chase", args=[escalation.pk])
    form = re.search(rf'<form method="post" action="{re.escape(chase)}">(.*?)</form>', page, re.S)
    assert form is not None, "the reminder is no form of its own"
    assert re.search(r'<input type="hidden" name="csrfmiddlewaretoken" value="\w+">', form[1])
    assert "Send Tess TeamN a reminder" in form[1]
    escalate = reverse("escalations:escalate", args=[escalation.pk])
    assert f'<a class="govuk-link" href="{escalate}">Escalate<span' in page


def test_the_to_do_page_says_when_there_is_nothing_to_do(world):
    client = Client()
    client.force_login(world.chair.user)
    assert "Nothing needs you now." in client.get(reverse("escalations:todo")).content.decode()


def test_the_menu_leads_to_the_to_do_list_and_marks_it_current(world):
    client = Client()
    client.force_login(world.chair.user)

    text = html.unescape(client.get(reverse("escalations:todo")).content.decode())

    todo = reverse("escalations:todo")
    # Marked for assistive technology and, visibly, by GOV.UK's active item style.
    assert (
        '<li class="govuk-service-navigation__item govuk-service-navigation__item--active">'
        f'<a class="govuk-service-navigation__link" href="{todo}" aria-current="page">To do</a>'
    ) in text
    assert text.count("govuk-service-navigation__item--active") == 1
