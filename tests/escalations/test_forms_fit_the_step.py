"""Forms that fit the step (issue 14, item 4): the responder reads what is asked before the
reply box; the written statement only for the stages that ask for one; categories where
the policy has them; GOV.UK date inputs; the reverse procedure in its own words."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from escalations import services
from escalations.models import Escalation, Step
from policies.models import Stage
from tests.confirm import post_and_confirm
from tests.fixtures import MONDAY, at, date_fields, first_category

ISSUE = "Core groups have not been held for ten weeks."
WANTED = "Core groups held fortnightly, starting this month."


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def page(response) -> str:
    return html.unescape(response.content.decode())


def stage(slug: str, order: int) -> Stage:
    return Stage.objects.get(policy__slug=slug, order=order)


def field_group(text: str, name: str) -> str:
    """The innermost GOV.UK form group holding the input named `name`."""
    groups = [g for g in text.split('<div class="govuk-form-group')[1:] if f'name="{name}' in g]
    assert groups, f"no form group for {name!r}"
    return groups[-1]


@pytest.fixture
def rutland(ladders, staff_of, child_of) -> dict[str, Any]:
    worker = staff_of("rutland", "social-worker")
    return {
        "policy": ladders["rutland"],
        "chair": staff_of("rutland", "cp-chair"),
        "director": staff_of("rutland", "director-for-people"),
        "service_manager": staff_of("rutland", "service-manager"),
        "child": child_of("rutland", social_worker=worker),
    }


def raise_at(rutland, order: int, responder, **more: Any) -> Escalation:
    answers: dict[str, Any] = {
        "categories": first_category(rutland["policy"]),
        "summary": ISSUE,
        "desired_outcome": WANTED,
        "now": MONDAY,
    }
    return services.escalation_raise(
        actor=rutland["chair"],
        policy=rutland["policy"],
        children=[rutland["child"]],
        stage=stage("rutland", order),
        responder=responder,
        **answers | more,
    )


# --- the responder reads what is asked before the reply box ---------------------------


def test_the_respond_page_shows_the_issue_the_ask_and_the_deadline_above_the_reply_box(rutland):
    escalation = raise_at(rutland, 4, rutland["director"], statement={
        "issue": "Ten weeks without a core group.",
        "actions": "Raised at every stage.",
        "wanted": "A core group this month.",
    })  # fmt: skip
    step = escalation.open_step()

    text = page(signed_in(rutland["director"]).get(reverse("escalations:respond", args=[step.pk])))

    box = text.index('name="response"')
    for shown in (
        "What you are asked",
        ISSUE,
        WANTED,
        "Ten weeks without a core group.",
        "Raised at every stage.",
        "A core group this month.",
        "Please respond by",
    ):
        assert -1 < text.find(shown) < box, f"{shown!r} is not above the reply box"


def test_the_statement_s_last_part_is_labelled_in_the_policy_s_words(rutland):
    stage_4 = stage("rutland", 4)
    stage_4.statement_wanted_label = "The action required to prevent the matter going further"
    stage_4.save()
    escalation = raise_at(rutland, 4, rutland["director"], statement={
        "issue": "Ten weeks without a core group.",
        "actions": "Raised at every stage.",
        "wanted": "A core group this month.",
    })  # fmt: skip

    text = page(
        signed_in(rutland["director"]).get(
            reverse("escalations:respond", args=[escalation.open_step().pk])
        )
    )

    label = text.index("The action required to prevent the matter going further")
    assert label < text.index("A core group this month.") < text.index('name="response"')


# --- the written statement, for the stages that ask for one ---------------------------


def test_the_statement_is_drawn_inside_the_stage_choice_for_the_stages_that_ask(rutland):
    text = page(
        signed_in(rutland["chair"]).get(reverse("escalations:raise", args=[rutland["child"].pk]))
    )

    start = text.index('data-app-reveal-name="stage"')
    block = text[text.rindex("<div", 0, start) : text.index("</fieldset>", start)]
    assert f'data-app-reveal-values="{stage("rutland", 4).pk}"' in block
    assert "govuk-radios__conditional--hidden" in block  # shown by the script when chosen
    assert f"{stage('rutland', 4).name} asks for a written statement." in block
    for name in ("statement_issue", "statement_actions", "statement_wanted"):
        assert f'name="{name}"' in block
        assert text.count(f'name="{name}"') == 1


def test_the_statement_follows_the_issue_and_the_wanted_outcome_as_they_are_typed(rutland):
    text = page(
        signed_in(rutland["chair"]).get(reverse("escalations:raise", args=[rutland["child"].pk]))
    )

    assert 'data-app-prefill-from="id_summary"' in field_group(text, "statement_issue")
    assert 'data-app-prefill-from="id_desired_outcome"' in field_group(text, "statement_wanted")


def test_a_policy_whose_stages_ask_for_no_statement_shows_no_statement_boxes(
    ladders, staff_of, child_of
):
    chair = staff_of("gloucestershire", "cp-chair")
    child = child_of("gloucestershire")

    text = page(signed_in(chair).get(reverse("escalations:raise", args=[child.pk])))

    assert "statement_issue" not in text
    assert "data-app-reveal-name" not in text


# --- categories -----------------------------------------------------------------------


def raise_form(rutland, **more: Any) -> dict[str, Any]:
    return {
        "policy": "rutland",
        "children": [rutland["child"].pk],
        "summary": ISSUE,
        "stage": stage("rutland", 0).pk,
        "responder": rutland["service_manager"].pk,
    } | more


def test_the_raise_form_asks_for_a_category_where_the_policy_has_them(rutland):
    url = reverse("escalations:raise", args=[rutland["child"].pk])

    response = signed_in(rutland["chair"]).post(url, raise_form(rutland))

    assert response.status_code == 200
    group = field_group(page(response), "categories")
    assert group.startswith(" govuk-form-group--error")
    assert "Choose at least one concern category." in group
    assert Escalation.objects.count() == 0


def test_the_service_refuses_a_raise_without_a_category_where_the_policy_has_them(rutland):
    with pytest.raises(services.ActionRefused) as refused:
        raise_at(rutland, 0, rutland["service_manager"], categories=[])

    assert refused.value.message == "Choose at least one concern category."
    assert refused.value.field == "categories"


def test_a_record_of_good_practice_is_counted_under_a_category_too(ladders, staff_of, child_of):
    policy = ladders["gloucestershire"]
    with pytest.raises(services.ActionRefused, match=r"Choose at least one concern category\."):
        services.escalation_raise(
            actor=staff_of("gloucestershire", "cp-chair"),
            policy=policy,
            children=[child_of("gloucestershire")],
            summary="A thorough, child-centred assessment.",
            nature="good_practice",
            responder=staff_of("gloucestershire", policy.stages.first().role.slug),
            now=MONDAY,
        )


def test_a_policy_that_lists_no_kinds_of_concern_asks_for_none(ladders, staff_of, child_of):
    policy = ladders["stoke-on-trent-about-crm"]
    chair = staff_of("stoke-on-trent", "cp-chair")
    raiser = staff_of("stoke-on-trent", "social-worker")

    escalation = services.escalation_raise(
        actor=raiser,
        policy=policy,
        children=[child_of("stoke-on-trent", social_worker=raiser)],
        summary="The conference decision did not reflect the agreed risk analysis.",
        about_staff=chair,
        responder=chair,
        now=MONDAY,
    )

    assert escalation.categories.count() == 0


# --- the reverse procedure in its own words -------------------------------------------


def test_the_reverse_procedure_names_the_chair_the_concern_is_about_by_their_title(
    ladders, staff_of, child_of
):
    raiser = staff_of("gloucestershire", "social-worker")
    staff_of("gloucestershire", "cp-chair")
    child = child_of("gloucestershire", social_worker=raiser)
    url = reverse("escalations:raise", args=[child.pk]) + "?policy=gloucestershire-about-chair"

    text = page(signed_in(raiser).get(url))

    group = field_group(text, "about_staff")
    assert "The Child Protection Conference Chair the concern is about" in group
    assert "Social Worker / Team Manager the concern is about" not in text
    # No default to promise: the stage's role is outside the child's line.
    assert "Defaults to" not in text
    assert "Suggested:" not in field_group(text, "responder")


def test_the_raise_form_names_the_responder_it_suggests(rutland, staff_of):
    manager = staff_of("rutland", "service-manager")
    rutland["child"].social_worker.line_manager = manager
    rutland["child"].social_worker.save()

    text = page(
        signed_in(rutland["chair"]).get(reverse("escalations:raise", args=[rutland["child"].pk]))
    )

    assert f"Suggested: {manager.display_name}, the Service Manager" in field_group(
        text, "responder"
    )


# --- GOV.UK date inputs ----------------------------------------------------------------


@pytest.fixture
def at_stage_1(rutland, staff_of) -> Escalation:
    rutland["team_manager"] = staff_of("rutland", "team-manager")
    escalation = raise_at(rutland, 0, rutland["service_manager"])
    services.escalation_escalate(
        actor=rutland["chair"],
        escalation=escalation,
        stage=stage("rutland", 1),
        responder=rutland["team_manager"],
        now=MONDAY,
    )
    return escalation


def extend(rutland, escalation: Escalation, **boxes: str):
    client = signed_in(rutland["chair"])
    with time_machine.travel(at(2026, 11, 5), tick=False):
        client.force_login(rutland["chair"].user)
        return client.post(
            reverse("escalations:extend", args=[escalation.pk]),
            {"from_step": escalation.open_step().pk, "reason": "Records being gathered."} | boxes,
        )


def test_the_extend_form_asks_for_the_date_as_day_month_and_year(rutland, at_stage_1):
    text = page(
        signed_in(rutland["chair"]).get(reverse("escalations:extend", args=[at_stage_1.pk]))
    )

    group = field_group(text, "new_due_on_day")
    assert 'type="date"' not in text
    for part, label in (("day", "Day"), ("month", "Month"), ("year", "Year")):
        assert f'name="new_due_on_{part}"' in text
        assert f">{label}</label>" in text
    assert 'id="id_new_due_on"' in group  # the day box: where the error summary links
    assert 'inputmode="numeric"' in group


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        ({"new_due_on_day": "16", "new_due_on_year": "2026"}, "The new deadline must include a month"),
        ({"new_due_on_day": "31", "new_due_on_month": "11", "new_due_on_year": "2026"}, "The new deadline must be a real date"),
        ({"new_due_on_day": "16", "new_due_on_month": "Nov", "new_due_on_year": "2026"}, "The new deadline must be a real date"),
        ({"new_due_on_day": "16", "new_due_on_month": "11", "new_due_on_year": "26"}, "Year must include 4 numbers"),
        ({}, "Enter the new deadline"),
    ],
    ids=["no month", "31 November", "a month in words", "two-digit year", "nothing"],
)  # fmt: skip
def test_a_date_the_extend_form_cannot_read_gets_the_pattern_s_message(
    rutland, at_stage_1, boxes, message
):
    response = extend(rutland, at_stage_1, **boxes)

    assert response.status_code == 200
    text = page(response)
    assert message in text.split('id="id_new_due_on_error"', 1)[1].split("</p>", 1)[0]
    assert f'href="#id_new_due_on">{message}' in text  # the summary links to the day box
    assert at_stage_1.open_step().amendments.count() == 0


def test_the_extend_form_takes_the_three_boxes(rutland, at_stage_1):
    response = extend(rutland, at_stage_1, **date_fields("new_due_on", date(2026, 11, 16)))

    assert response.status_code == 302
    assert at_stage_1.open_step().due_on == date(2026, 11, 16)


def test_the_meeting_date_is_three_boxes_too(rutland):
    escalation = raise_at(rutland, 4, rutland["director"], statement={
        "issue": "i", "actions": "a", "wanted": "w",
    })  # fmt: skip
    step = escalation.open_step()
    client = signed_in(rutland["director"])
    url = reverse("escalations:respond", args=[step.pk])

    refused = client.post(
        url,
        {"response": "Met.", "meeting_date_day": "3", "meeting_date_year": "2026"},
    )
    assert "Date of the meeting must include a month" in page(refused)

    with time_machine.travel(at(2026, 11, 6), tick=False):
        client.force_login(rutland["director"].user)
        done = client.post(
            url, {"response": "Met.", **date_fields("meeting_date", date(2026, 11, 5))}
        )
    assert done.status_code == 302
    assert Step.objects.get(pk=step.pk).meeting_date == date(2026, 11, 5)


def test_a_raise_through_the_form_with_a_category_goes_through(rutland):
    url = reverse("escalations:raise", args=[rutland["child"].pk])
    data = raise_form(rutland, categories=[c.pk for c in first_category(rutland["policy"])])

    assert post_and_confirm(signed_in(rutland["chair"]), url, data).status_code == 302
    assert list(Escalation.objects.get().categories.all()) == first_category(rutland["policy"])
