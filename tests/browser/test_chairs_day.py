"""A chair's day in a real browser: the to-do list shows a response awaiting the chair's
verdict and an overdue step; the chair chases the one and resolves the other from the
list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from escalations import services
from escalations.models import Escalation, State
from notifications.models import Kind, Notification
from tests.fixtures import first_category


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_chair_chases_an_overdue_step_and_resolves_an_answered_one_from_the_to_do_list(
    site, world_of, child_of, new_context, sign_in, check_accessibility, screenshot
):
    world = world_of("rutland")
    now = timezone.now()

    def at_stage_1(child, *, days_ago: int) -> Escalation:
        escalation = services.escalation_raise(
            actor=world.chair,
            policy=world.policy,
            categories=first_category(world.policy),
            children=[child],
            summary="Statutory visits have not taken place.",
            responder=world.north.service,
            now=now - timedelta(days=days_ago + 1),
        )
        services.escalation_escalate(
            actor=world.chair,
            escalation=escalation,
            responder=world.north.manager,
            now=now - timedelta(days=days_ago),
        )
        return escalation

    # Stage 1 gives 5 working days: three weeks ago is overdue, whatever today is.
    overdue = at_stage_1(world.child, days_ago=21)
    answered = at_stage_1(
        child_of("rutland", first_name="Alfie", last_name="Example", team=world.north.team),
        days_ago=3,
    )
    services.step_respond(
        actor=world.north.manager,
        step=answered.open_step(),
        response="Visits are booked for Monday.",
        now=now - timedelta(hours=2),
    )

    page = sign_in(new_context(bypass_csp=True), world.chair)
    assert page.url == f"{site}/escalations/todo/"
    verdicts = page.get_by_role("table", name="Responses waiting for your verdict")
    assert answered.reference in verdicts.inner_text()
    chase = page.get_by_role("table", name="Overdue: chase or escalate")
    assert overdue.reference in chase.inner_text()
    assert "working days overdue" in chase.inner_text()
    check_accessibility(page, "the chair's to-do list")
    screenshot(page, "todo_chair")

    # Chase the overdue step: a reminder goes, and the list says so.
    page.get_by_role("button", name=f"Send Tess TeamN a reminder ({overdue.reference})").click()
    page.wait_for_load_state()
    assert page.url == f"{site}/escalations/todo/"
    assert "Reminder sent to Tess TeamN." in page.locator(".govuk-notification-banner").inner_text()
    assert Notification.objects.filter(
        kind=Kind.CHASE, escalation=overdue, recipient=world.north.manager
    ).exists()
    # Once a working day: the button has gone for today.
    assert (
        page.get_by_role("button", name=f"Send Tess TeamN a reminder ({overdue.reference})").count()
        == 0
    )

    # Resolve the answered one, straight from the list.
    page.get_by_role("link", name=f"Resolve ({answered.reference})").click()
    page.get_by_label("Outcome").fill("Visits booked and confirmed with the family.")
    page.get_by_role("button", name="Resolve escalation").click()
    page.wait_for_load_state()
    assert page.url == f"{site}/escalations/{answered.pk}/"
    assert "Resolved on" in page.locator("#case-sentence").inner_text()
    answered.refresh_from_db()
    assert answered.state == State.RESOLVED

    page.goto(f"{site}/escalations/todo/")
    assert "Responses waiting for your verdict" not in page.content()
