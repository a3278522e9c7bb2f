"""Effective-dated versions of a policy (Policy.effective_from, PolicyQuerySet.current_for):
a concern is raised under the version in force on the day it is raised, whatever version
the link names, and the escalation keeps its version afterwards."""

from __future__ import annotations

import copy
import html
from datetime import date

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from escalations import services
from escalations.models import Escalation
from escalations.services import ActionRefused
from policies.ladder_files import load_ladders
from policies.models import Policy, Stage
from tests.confirm import post_and_confirm
from tests.fixtures import at, category_ticked, first_category

GLOS = "gloucestershire"
NEW_SLUG = "gloucestershire-december-2026"


@pytest.fixture
def versions(ladders, shipped_ladders, staff_of, child_of):
    """Gloucestershire's shipped policy (no effective date) and a new version in force from
    Tue 1 Dec 2026 whose Stage 1 gives the Team Manager 2 working days instead of 4."""
    [data] = [copy.deepcopy(d) for d in shipped_ladders if d["slug"] == GLOS]
    data["slug"] = NEW_SLUG
    data["name"] = "Gloucestershire dispute resolution (December 2026)"
    data["effective_from"] = date(2026, 12, 1)
    data["stages"][1]["response_days"] = 2  # [0] is the informal stage
    load_ladders([data])
    worker = staff_of(GLOS, "social-worker")
    return {
        "old": ladders[GLOS],
        "new": Policy.objects.get(slug=NEW_SLUG),
        "chair": staff_of(GLOS, "cp-chair"),
        "manager": staff_of(GLOS, "team-manager"),
        "head": staff_of(GLOS, "head-of-service"),
        "child": child_of(GLOS, social_worker=worker),
    }


def raise_under(versions, policy: Policy, *, now, order: int = 1) -> Escalation:
    return services.escalation_raise(
        actor=versions["chair"],
        policy=policy,
        categories=first_category(policy),
        children=[versions["child"]],
        summary="Core groups have lapsed.",
        stage=policy.stages.get(order=order),
        responder=versions["manager"] if order == 1 else versions["head"],
        reason="Drift for months.",
        now=now,
    )


def test_before_the_new_version_takes_effect_a_concern_is_raised_under_the_old_one(versions):
    escalation = raise_under(versions, versions["old"], now=at(2026, 11, 30))

    assert escalation.policy == versions["old"]
    # Mon 30 Nov + 4 working days = Fri 4 Dec.
    assert escalation.steps.get().due_on == date(2026, 12, 4)


def test_once_the_new_version_is_in_force_the_old_one_is_refused(versions):
    with pytest.raises(ActionRefused) as refused:
        raise_under(versions, versions["old"], now=at(2026, 12, 1))

    assert refused.value.message == (
        "The version of this procedure in force on Tue 1 Dec 2026 is Gloucestershire dispute "
        "resolution (December 2026): open the raise page again to raise the concern under it."
    )
    assert Escalation.objects.count() == 0


def test_a_version_not_yet_in_force_is_refused(versions):
    with pytest.raises(ActionRefused):
        raise_under(versions, versions["new"], now=at(2026, 11, 30))


def test_from_its_first_day_a_concern_is_raised_under_the_new_version(versions):
    escalation = raise_under(versions, versions["new"], now=at(2026, 12, 1))

    assert escalation.policy == versions["new"]
    # Tue 1 Dec + 2 working days (the new version's Stage 1) = Thu 3 Dec.
    assert escalation.steps.get().due_on == date(2026, 12, 3)


def test_an_escalation_keeps_its_version_after_a_new_one_takes_effect(versions):
    escalation = raise_under(versions, versions["old"], now=at(2026, 11, 30))

    step = services.escalation_escalate(
        actor=versions["chair"],
        escalation=escalation,
        stage=versions["old"].stages.get(order=3),
        responder=versions["head"],
        reason="No answer at Stage 1.",
        now=at(2026, 12, 8),
    )

    assert Escalation.objects.get(pk=escalation.pk).policy == versions["old"]
    assert step.stage.policy == versions["old"]


def test_an_escalation_cannot_move_to_a_stage_of_the_new_version(versions):
    escalation = raise_under(versions, versions["old"], now=at(2026, 11, 30))

    with pytest.raises(ActionRefused) as refused:
        services.escalation_escalate(
            actor=versions["chair"],
            escalation=escalation,
            stage=versions["new"].stages.get(order=3),
            responder=versions["head"],
            reason="No answer at Stage 1.",
            now=at(2026, 12, 8),
        )

    assert refused.value.message == "That stage belongs to another policy."


def test_the_raise_page_opened_by_the_old_versions_link_raises_under_the_version_in_force(
    versions,
):
    child = versions["child"]
    url = reverse("escalations:raise", args=[child.pk])
    client = Client()
    with time_machine.travel(at(2026, 12, 2), tick=False):
        client.force_login(versions["chair"].user)
        form = html.unescape(client.get(url, {"policy": GLOS}).content.decode())
        assert f'name="policy" value="{NEW_SLUG}"' in form
        response = post_and_confirm(
            client,
            url,
            {
                "policy": NEW_SLUG,
                "children": [child.pk],
                "categories": category_ticked(NEW_SLUG),
                "summary": "Core groups have lapsed.",
                "nature": "concern",
                "stage": Stage.objects.get(policy=versions["new"], order=0).pk,
                "responder": versions["manager"].pk,
            },
        )

    assert response.status_code == 302
    assert Escalation.objects.get().policy == versions["new"]


def test_a_raise_form_made_for_the_old_version_and_sent_after_the_change_says_so(versions):
    child = versions["child"]
    url = reverse("escalations:raise", args=[child.pk])
    client = Client()
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        client.force_login(versions["chair"].user)
        response = client.post(
            url,
            {
                "policy": GLOS,
                "children": [child.pk],
                "categories": category_ticked(GLOS),
                "summary": "Core groups have lapsed.",
                "nature": "concern",
                "stage": Stage.objects.get(policy=versions["old"], order=0).pk,
                "responder": versions["manager"].pk,
            },
        )

    text = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "The version of this procedure in force on Tue 1 Dec 2026 is" in text
    assert Escalation.objects.count() == 0


def test_two_undated_procedures_of_one_kind_are_both_in_force(versions, shipped_ladders):
    # An authority may run two chair-raised procedures side by side (Example Borough's
    # alerts protocol and its multi-agency procedure): neither is a version of the other.
    [data] = [copy.deepcopy(d) for d in shipped_ladders if d["slug"] == GLOS]
    data["slug"] = "gloucestershire-multi-agency"
    data["name"] = "Gloucestershire multi-agency practice resolution"
    load_ladders([data])
    other = Policy.objects.get(slug="gloucestershire-multi-agency")

    raised = [raise_under(versions, p, now=at(2026, 11, 30)) for p in (versions["old"], other)]

    assert [e.policy for e in raised] == [versions["old"], other]
