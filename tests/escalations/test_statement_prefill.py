"""No redundant entry (WCAG 2.2 3.3.7; issue 15): the written statement a stage asks for is
filled in from what the chair has already written, on the raise and on the escalate, and
stays theirs to change."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from escalations import services
from escalations.forms import statement_prefill_escalate
from escalations.models import Escalation, Step
from policies.models import Stage
from tests.confirm import post_and_confirm
from tests.fixtures import MONDAY, first_category

ISSUE = "Core groups have not been held for ten weeks."
WANTED = "Core groups held fortnightly, starting this month."


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def page(response) -> str:
    return html.unescape(response.content.decode())


def box(text: str, name: str) -> str:
    """What the textarea named `name` holds on the page."""
    match = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', text, re.S)
    assert match, f"no textarea {name!r}"
    return match.group(1).strip()


def stage(order: int) -> Stage:
    return Stage.objects.get(policy__slug="rutland", order=order)


@pytest.fixture
def rutland(ladders, staff_of, child_of) -> dict[str, Any]:
    worker = staff_of("rutland", "social-worker")
    return {
        "policy": ladders["rutland"],
        "chair": staff_of("rutland", "cp-chair"),
        "director": staff_of("rutland", "director-for-people"),
        "team_manager": staff_of("rutland", "team-manager"),
        "service_manager": staff_of("rutland", "service-manager"),
        "child": child_of("rutland", social_worker=worker),
    }


def raise_at_stage_4(rutland, **more: Any) -> dict[str, Any]:
    """The raise form as a chair sends it having typed only the issue and what they want."""
    return {
        "policy": "rutland",
        "children": [rutland["child"].pk],
        "categories": [c.pk for c in first_category(rutland["policy"])],
        "summary": ISSUE,
        "desired_outcome": WANTED,
        "stage": stage(4).pk,
        "responder": rutland["director"].pk,
    } | more


def test_raising_at_a_statement_stage_with_only_the_issue_and_the_wanted_outcome_goes_through(
    rutland,
):
    url = reverse("escalations:raise", args=[rutland["child"].pk])

    response = post_and_confirm(signed_in(rutland["chair"]), url, raise_at_stage_4(rutland))

    assert response.status_code == 302
    step = Step.objects.get()
    assert step.stage_name == stage(4).name
    assert step.statement_issue == ISSUE
    assert step.statement_wanted == WANTED


def test_the_page_before_the_raise_shows_the_statement_filled_in_to_check(rutland):
    url = reverse("escalations:raise", args=[rutland["child"].pk])

    preview = signed_in(rutland["chair"]).post(url, raise_at_stage_4(rutland))

    assert preview.status_code == 200
    assert preview.context["preview"] is not None
    text = page(preview)
    assert box(text, "statement_issue") == ISSUE
    assert box(text, "statement_wanted") == WANTED
    assert box(text, "statement_actions") == (
        f"No earlier stage of this procedure has been used: raised at {stage(4).name}."
    )
    assert Escalation.objects.count() == 0


def test_what_the_chair_writes_in_the_statement_is_kept_as_written(rutland):
    url = reverse("escalations:raise", args=[rutland["child"].pk])
    data = raise_at_stage_4(
        rutland,
        statement_issue="Ten weeks without a core group, against the plan.",
        statement_actions="Raised with the team manager on 3 November.",
    )

    assert post_and_confirm(signed_in(rutland["chair"]), url, data).status_code == 302

    step = Step.objects.get()
    assert step.statement_issue == "Ten weeks without a core group, against the plan."
    assert step.statement_actions == "Raised with the team manager on 3 November."
    assert step.statement_wanted == WANTED


def test_the_reason_for_going_straight_to_the_stage_says_what_has_been_done(rutland):
    url = reverse("escalations:raise", args=[rutland["child"].pk])
    data = raise_at_stage_4(rutland, reason="Discussed with the Head of Service on 30 October.")

    assert post_and_confirm(signed_in(rutland["chair"]), url, data).status_code == 302

    assert Step.objects.get().statement_actions == (
        "Discussed with the Head of Service on 30 October."
    )


def test_a_stage_that_asks_for_no_statement_keeps_none_of_the_boxes(rutland):
    url = reverse("escalations:raise", args=[rutland["child"].pk])
    data = raise_at_stage_4(
        rutland,
        stage=stage(0).pk,
        responder=rutland["service_manager"].pk,
        statement_issue=ISSUE,
        statement_wanted=WANTED,
    )

    assert post_and_confirm(signed_in(rutland["chair"]), url, data).status_code == 302

    step = Step.objects.get()
    assert step.stage_name == stage(0).name
    assert (step.statement_issue, step.statement_actions, step.statement_wanted) == ("", "", "")


def test_the_escalate_form_offers_the_statement_from_the_escalation_and_its_steps(rutland):
    escalation = services.escalation_raise(
        actor=rutland["chair"],
        policy=rutland["policy"],
        children=[rutland["child"]],
        categories=first_category(rutland["policy"]),
        summary=ISSUE,
        desired_outcome=WANTED,
        stage=stage(0),
        responder=rutland["service_manager"],
        now=MONDAY,
    )

    text = page(
        signed_in(rutland["chair"]).get(reverse("escalations:escalate", args=[escalation.pk]))
    )

    assert box(text, "statement_issue") == ISSUE
    assert box(text, "statement_wanted") == WANTED
    assert box(text, "statement_actions") == (
        f"{stage(0).name}: asked of {rutland['service_manager'].display_name} on 2 Nov 2026; "
        "no reply."
    )


def test_escalating_to_a_statement_stage_without_touching_the_statement_goes_through(rutland):
    escalation = services.escalation_raise(
        actor=rutland["chair"],
        policy=rutland["policy"],
        children=[rutland["child"]],
        categories=first_category(rutland["policy"]),
        summary=ISSUE,
        desired_outcome=WANTED,
        stage=stage(0),
        responder=rutland["service_manager"],
        now=MONDAY,
    )
    url = reverse("escalations:escalate", args=[escalation.pk])
    data = {
        "from_step": escalation.open_step().pk,
        "stage": stage(4).pk,
        "responder": rutland["director"].pk,
        "reason": "No reply and the risk is growing.",
    }

    response = post_and_confirm(signed_in(rutland["chair"]), url, data)

    assert response.status_code == 302
    step = escalation.open_step()
    assert step.stage_name == stage(4).name
    assert step.statement_issue == ISSUE
    assert step.statement_wanted == WANTED
    assert f"{stage(0).name}: asked of" in step.statement_actions


def test_after_a_statement_the_next_one_starts_from_it_and_what_happened_since(rutland):
    escalation = services.escalation_raise(
        actor=rutland["chair"],
        policy=rutland["policy"],
        children=[rutland["child"]],
        categories=first_category(rutland["policy"]),
        summary=ISSUE,
        desired_outcome=WANTED,
        stage=stage(4),
        responder=rutland["director"],
        statement={
            "issue": "The statement's issue.",
            "actions": "What was done before.",
            "wanted": "The statement's ask.",
        },
        now=MONDAY,
    )

    prefill = statement_prefill_escalate(escalation)

    assert prefill["issue"] == "The statement's issue."
    assert prefill["wanted"] == "The statement's ask."
    assert prefill["actions"] == (
        "What was done before.\n"
        f"{stage(4).name}: asked of {rutland['director'].display_name} on 2 Nov 2026; no reply."
    )
