"""The raise form in a real browser: the written statement is shown only while a stage
that asks for one is chosen, and fills in from "The issue" and "What you want to happen"
as they are typed (static/app/reveal.js, under the strict content security policy)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from policies.models import Stage


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_statement_shows_for_the_stage_that_asks_and_follows_what_is_typed(
    site, world_of, new_context, sign_in
):
    world = world_of("rutland")
    stage_4 = Stage.objects.get(policy=world.policy, order=4)
    page = sign_in(new_context(), world.chair)
    page.goto(f"{site}{reverse('escalations:raise', args=[world.child.pk])}")

    statement = page.locator("#id_stage_reveal")
    assert statement.is_hidden()  # the first stage is chosen: it asks for no statement

    page.fill("#id_summary", "Core groups have not been held for ten weeks.")
    page.fill("#id_desired_outcome", "Core groups held fortnightly.")
    page.get_by_label(stage_4.name, exact=False).check()

    assert statement.is_visible()
    assert page.input_value("#id_statement_issue") == (
        "Core groups have not been held for ten weeks."
    )
    assert page.input_value("#id_statement_wanted") == "Core groups held fortnightly."
    stage_4_radio = f"input[name='stage'][value='{stage_4.pk}']"
    assert page.get_attribute(stage_4_radio, "aria-controls") == "id_stage_reveal"

    # Once the chair writes their own, it is theirs: typing above no longer changes it.
    page.fill("#id_statement_issue", "In my own words.")
    page.fill("#id_summary", "Core groups have not been held for eleven weeks.")
    assert page.input_value("#id_statement_issue") == "In my own words."

    page.locator("input[name='stage']").first.check()
    assert statement.is_hidden()
