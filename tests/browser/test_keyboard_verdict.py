"""The chair's verdict with the keyboard only, and each person's home page.

A chair goes from their To do page to a response awaiting their verdict, opens it,
resolves it and lands back on the escalation, pressing only Tab, Enter and typing, with
the focus visible at every stop. Then the To do page of each role (chair, team manager
answering, QA manager, social worker), checked with axe and photographed for the README.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from escalations import services
from escalations.models import Escalation, State
from tests.fixtures import World, first_category

# Counts every pointer press on the site's pages, across page loads (sessionStorage), so
# the test can prove no click was needed.
COUNT_POINTER = """
document.addEventListener("pointerdown", () => {
  const n = Number(sessionStorage.getItem("pointerdowns") || 0);
  sessionStorage.setItem("pointerdowns", String(n + 1));
}, true);
"""

# GOV.UK Frontend draws focus as a yellow outline (inputs) or a box shadow (links,
# buttons): one of them must be drawn on the focused element.
FOCUS_DRAWN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "";
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0
    && s.outlineColor !== "rgba(0, 0, 0, 0)" && s.outlineColor !== "transparent";
  const shadow = s.boxShadow && s.boxShadow !== "none";
  return outline || shadow ? el.outerHTML.slice(0, 120) : "";
}"""


def _tab_to(page: Any, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has the focus; it must show it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            assert page.evaluate(FOCUS_DRAWN), f"no visible focus on {selector} ({page.url})"
            return
    raise AssertionError(f"Tab never reached {selector} on {page.url}")


def _at_stage_1(world: World, child: Any, *, days_ago: int) -> Escalation:
    """Raised informally the day before, then at Stage 1 (5 working days) with the north
    team manager, `days_ago` days ago."""
    now = timezone.now()
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


def _answered(world: World, child: Any) -> Escalation:
    escalation = _at_stage_1(world, child, days_ago=3)
    services.step_respond(
        actor=world.north.manager,
        step=escalation.open_step(),
        response="Visits are booked for Monday.",
        now=timezone.now() - timedelta(hours=2),
    )
    return escalation


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_chair_resolves_a_response_from_the_to_do_list_with_the_keyboard_only(
    site, world_of, child_of, new_context, sign_in
):
    world = world_of("rutland")
    # Something else on the list too, so the keys must pass over another table to reach it.
    overdue = _at_stage_1(world, world.child, days_ago=21)
    answered = _answered(
        world, child_of("rutland", first_name="Alfie", last_name="Example", team=world.north.team)
    )

    context = new_context()
    context.add_init_script(COUNT_POINTER)
    page = sign_in(context, world.chair)
    # Signing in lands on the To do page: from here on, keys only and no typed addresses.
    assert page.url == f"{site}/escalations/todo/"
    page.evaluate("() => sessionStorage.setItem('pointerdowns', '0')")
    assert (
        overdue.reference
        in page.get_by_role("table", name="Overdue: chase or escalate").inner_text()
    )

    # The row awaiting the verdict: its reference opens the escalation.
    _tab_to(page, f"table[aria-labelledby=todo-decide] a[href='/escalations/{answered.pk}/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site}/escalations/{answered.pk}/")
    assert "Visits are booked for Monday." in page.content()

    # The response is satisfactory: Resolve.
    _tab_to(page, f"main a[href='/escalations/{answered.pk}/resolve/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site}/escalations/{answered.pk}/resolve/")
    assert page.locator("h1").inner_text() == "Resolve: the response is satisfactory"
    _tab_to(page, "#id_outcome")
    page.keyboard.type("Visits booked and confirmed with the family.")
    _tab_to(page, "#id_outcome_for_child")
    page.keyboard.type("Poppy's visits are back on the plan.")
    _tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")

    # Back on the escalation, saying what happened.
    page.wait_for_url(f"{site}/escalations/{answered.pk}/")
    assert page.title() == f"{answered.reference} – Escalation manager"
    assert page.locator("h1").inner_text() == f"Escalation {answered.reference}"
    assert "Resolved." in page.locator(".govuk-notification-banner").inner_text()
    assert "Resolved on" in page.locator("#case-sentence").inner_text()
    # The banner takes the focus (it is an alert); the page can go on from there by keys.
    _tab_to(page, "a")
    assert page.evaluate("() => sessionStorage.getItem('pointerdowns')") == "0"

    answered.refresh_from_db()
    assert answered.state == State.RESOLVED
    assert answered.outcome == "Visits booked and confirmed with the family."


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_each_persons_home_page_is_their_to_do_list(
    site, world_of, child_of, raise_concern, new_context, sign_in, check_accessibility, screenshot
):
    world = world_of("rutland")
    now = timezone.now()
    _at_stage_1(world, world.child, days_ago=21)  # overdue: chase it / answer it
    _answered(
        world, child_of("rutland", first_name="Alfie", last_name="Example", team=world.north.team)
    )
    _at_stage_1(
        world,
        child_of("rutland", first_name="Rosa", last_name="Example", team=world.north.team),
        days_ago=0,
    )  # in time: the team manager's to answer by its date
    # Stage 4 answered: Rutland's Stage 5 is for a QA manager to raise.
    at_4 = raise_concern(
        "rutland",
        actor=world.chair,
        stage_order=4,
        responder=world.director,
        children=[
            child_of("rutland", first_name="Noah", last_name="Example", team=world.south.team)
        ],
        statement={"issue": "Drift.", "actions": "Alerts.", "wanted": "A plan."},
        now=now - timedelta(days=10),
    )
    services.step_respond(
        actor=world.director,
        step=at_4.open_step(),
        response="Met with the team; a plan is agreed.",
        meeting_date=(now - timedelta(days=3)).date(),
        now=now - timedelta(days=3),
    )

    expected = {
        "home_chair": (world.chair, "Responses waiting for your verdict"),
        "home_team_manager": (world.north.manager, "Waiting for your response"),
        "home_qa_manager": (world.qa, "Stages for you to raise"),
        "home_social_worker": (world.north.worker, "Nothing needs you now."),
    }
    for name, (person, shows) in expected.items():
        page = sign_in(new_context(bypass_csp=True), person)
        assert page.url == f"{site}/escalations/todo/", name
        assert page.locator("h1").inner_text() == "To do"
        assert shows in page.locator("main").inner_text(), name
        check_accessibility(page, f"{name.replace('_', ' ')}'s to-do list")
        screenshot(page, name)
        page.close()
