"""Who sees which child and which escalation (docs/architecture.md §5, §8), through the pages and services.

Naming a child in an escalation never makes that child visible: a social worker sees the
children allocated to them, a manager those of their line, chairs and QA the authority's.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from escalations import services
from escalations.forms import RaiseForm
from notifications.models import Kind
from notifications.services import create_notifications
from policies.models import Stage
from tests.fixtures import first_category
from tests.staff.factories import TeamFactory


def signed_in(staff: Any) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def status(staff: Any, name: str, pk: int) -> int:
    return signed_in(staff).get(reverse(name, args=[pk])).status_code


@pytest.fixture
def family(ladders, staff_of, child_of) -> dict[str, Any]:
    """Two Rutland siblings (same surname and team) allocated to different social workers,
    and a chair's escalation that names them both."""
    team = TeamFactory(authority=ladders["rutland"].authority)
    manager = staff_of("rutland", "team-manager")
    worker = staff_of("rutland", "social-worker", line_manager=manager, team=team)
    sibling_worker = staff_of("rutland", "social-worker", team=team)
    child = child_of("rutland", last_name="Ashdown", team=team, social_worker=worker)
    sibling = child_of("rutland", last_name="Ashdown", team=team, social_worker=sibling_worker)
    chair = staff_of("rutland", "cp-chair")
    responder = staff_of("rutland", "service-manager")
    escalation = services.escalation_raise(
        actor=chair,
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=[child, sibling],
        summary="Core group meetings have lapsed.",
        responder=responder,
    )
    return {
        "manager": manager,
        "worker": worker,
        "child": child,
        "sibling": sibling,
        "chair": chair,
        "responder": responder,
        "escalation": escalation,
    }


def test_a_social_worker_sees_their_childs_escalation_but_not_the_sibling_it_names(family):
    worker = family["worker"]
    assert status(worker, "escalations:detail", family["escalation"].pk) == 200
    assert status(worker, "children:file", family["child"].pk) == 200
    assert status(worker, "children:file", family["sibling"].pk) == 404
    assert status(worker, "children:conference", family["sibling"].pk) == 404


def test_a_named_sibling_is_not_on_the_social_workers_child_list(family):
    page = signed_in(family["worker"]).get(reverse("children:list")).content.decode()
    assert family["child"].reference in page
    assert family["sibling"].reference not in page


def test_the_manager_of_the_social_worker_sees_their_child_but_not_the_named_sibling(family):
    manager = family["manager"]
    assert status(manager, "children:file", family["child"].pk) == 200
    assert status(manager, "children:file", family["sibling"].pk) == 404


def test_the_manager_addressed_on_a_step_sees_the_escalation_but_not_the_childrens_files(
    family,
):
    responder = family["responder"]
    assert status(responder, "escalations:detail", family["escalation"].pk) == 200
    assert status(responder, "children:file", family["child"].pk) == 404
    assert status(responder, "children:file", family["sibling"].pk) == 404


def test_a_copied_manager_opens_the_escalation_but_not_the_childs_file(family, staff_of):
    copied = staff_of("rutland", "head-of-service")
    create_notifications(
        kind=Kind.STEP_COPIED,
        step=family["escalation"].steps.get(),
        recipients=[copied],
        now=timezone.now(),
    )
    assert status(copied, "escalations:detail", family["escalation"].pk) == 200
    assert status(copied, "children:file", family["child"].pk) == 404


def test_an_uninvolved_chair_gets_a_404_on_another_chairs_escalation(family, staff_of):
    other_chair = staff_of("rutland", "cp-chair")
    response = signed_in(other_chair).get(
        reverse("escalations:detail", args=[family["escalation"].pk])
    )
    assert response.status_code == 404
    assert family["escalation"].summary not in response.content.decode()


# --- raising: the sibling list and the service ------------------------------------------


@pytest.fixture
def stoke_family(ladders, staff_of, child_of) -> dict[str, Any]:
    """Stoke's social workers may raise a concern about a chair (the reverse procedure)."""
    team = TeamFactory(authority=ladders["stoke-on-trent-about-crm"].authority)
    worker = staff_of("stoke-on-trent", "social-worker", team=team)
    other_worker = staff_of("stoke-on-trent", "social-worker", team=team)
    return {
        "worker": worker,
        "crm": staff_of("stoke-on-trent", "cp-chair"),
        "child": child_of("stoke-on-trent", last_name="Brook", team=team, social_worker=worker),
        "sibling": child_of(
            "stoke-on-trent", last_name="Brook", team=team, social_worker=other_worker
        ),
        "own_sibling": child_of(
            "stoke-on-trent", last_name="Brook", team=team, social_worker=worker
        ),
    }


def test_the_sibling_list_offers_only_children_the_user_may_see(stoke_family, ladders):
    form = RaiseForm(
        staff=stoke_family["worker"],
        policy=ladders["stoke-on-trent-about-crm"],
        child=stoke_family["child"],
    )
    offered = set(form.fields["children"].queryset)
    assert offered == {stoke_family["child"], stoke_family["own_sibling"]}


def test_the_raise_page_does_not_name_a_sibling_the_user_may_not_see(stoke_family):
    page = (
        signed_in(stoke_family["worker"])
        .get(
            reverse("escalations:raise", args=[stoke_family["child"].pk]),
            {"policy": "stoke-on-trent-about-crm"},
        )
        .content.decode()
    )
    assert stoke_family["own_sibling"].reference in page
    assert stoke_family["sibling"].reference not in page


def test_raising_a_concern_naming_a_child_the_actor_may_not_see_is_refused(stoke_family, ladders):
    with pytest.raises(services.ActionRefused) as refused:
        services.escalation_raise(
            actor=stoke_family["worker"],
            policy=ladders["stoke-on-trent-about-crm"],
            categories=first_category(ladders["stoke-on-trent-about-crm"]),
            children=[stoke_family["child"], stoke_family["sibling"]],
            summary="The conference report was not shared.",
            about_staff=stoke_family["crm"],
            stage=Stage.objects.get(policy__slug="stoke-on-trent-about-crm", order=0),
            responder=stoke_family["crm"],
        )
    assert refused.value.field == "children"
    assert "children whose records you can see" in refused.value.message
