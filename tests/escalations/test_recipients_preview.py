"""Before a step is raised, the page shows exactly who will be addressed and copied."""

import html

import pytest
from django.test import Client
from django.urls import reverse

from escalations import services
from escalations.models import Escalation, Step
from notifications.models import Notification
from policies.models import Stage
from tests.confirm import post_and_confirm
from tests.fixtures import category_ticked, first_category


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def page(response) -> str:
    return html.unescape(response.content.decode())


def panel(response) -> str:
    """The 'who will be told' panel alone (the form's pickers list other people)."""
    text = page(response)
    start = text.index('id="recipients"')
    return text[start : text.index("</table>", start)]


@pytest.fixture
def glos(ladders, staff_of, child_of):
    head = staff_of("gloucestershire", "head-of-service")
    manager = staff_of("gloucestershire", "team-manager", line_manager=head)
    worker = staff_of("gloucestershire", "social-worker", line_manager=manager)
    conference_manager = staff_of("gloucestershire", "cp-conference-team-manager")
    chair = staff_of("gloucestershire", "cp-chair", line_manager=conference_manager)
    other_worker = staff_of("gloucestershire", "social-worker")
    child = child_of("gloucestershire", social_worker=worker)
    return {
        "policy": ladders["gloucestershire"],
        "head": head,
        "manager": manager,
        "worker": worker,
        "conference_manager": conference_manager,
        "chair": chair,
        "other_worker": other_worker,
        "child": child,
        "stage_3": Stage.objects.get(policy=ladders["gloucestershire"], order=3),
    }


def raise_data(glos, **overrides):
    return {
        "policy": "gloucestershire",
        "children": [glos["child"].pk],
        "summary": "No core group for ten weeks.",
        "categories": category_ticked("gloucestershire"),
        "stage": glos["stage_3"].pk,
        "responder": glos["head"].pk,
        "reason": "Serious drift.",
        "nature": "concern",
    } | overrides


def test_the_first_press_shows_everyone_told_by_name_and_writes_nothing(glos):
    url = reverse("escalations:raise", args=[glos["child"].pk])

    response = signed_in(glos["chair"]).post(url, raise_data(glos))

    assert response.status_code == 200
    text = panel(response)
    assert "Check who will be told" in text
    for person in ("head", "manager", "worker", "conference_manager"):
        assert glos[person].display_name in text
    assert glos["other_worker"].display_name not in text
    assert Escalation.objects.count() == 0
    assert Notification.objects.count() == 0


def test_pressing_again_raises_and_tells_exactly_those_people(glos):
    url = reverse("escalations:raise", args=[glos["child"].pk])

    response = post_and_confirm(signed_in(glos["chair"]), url, raise_data(glos))

    assert response.status_code == 302
    assert {n.recipient for n in Notification.objects.all()} == {
        glos["head"],
        glos["manager"],
        glos["worker"],
        glos["conference_manager"],
    }


def test_changing_the_answers_after_seeing_the_list_shows_the_new_list_first(glos, child_of):
    client = signed_in(glos["chair"])
    url = reverse("escalations:raise", args=[glos["child"].pk])
    seen = client.post(url, raise_data(glos)).context["preview"].signature
    glos["child"].last_name = "Sibling"
    glos["child"].save()
    sibling = child_of(
        "gloucestershire", last_name="Sibling", team=None, social_worker=glos["worker"]
    )
    sibling.social_worker = glos["other_worker"]
    sibling.save()

    response = client.post(
        url,
        raise_data(glos, children=[glos["child"].pk, sibling.pk]) | {"recipients_seen": seen},
    )

    assert response.status_code == 200
    assert "Check who will be told" in page(response)
    assert Escalation.objects.count() == 0


def test_a_post_nobody_holds_is_shown_before_and_after_and_the_step_still_raises(glos):
    glos["conference_manager"].is_active = False
    glos["conference_manager"].save()
    client = signed_in(glos["chair"])
    url = reverse("escalations:raise", args=[glos["child"].pk])

    first = page(client.post(url, raise_data(glos)))
    done = post_and_confirm(client, url, raise_data(glos))

    assert "Child Protection Conference Team Manager above" in first
    assert "nobody holds it" in first
    assert done.status_code == 302
    assert "nobody holds it" in page(client.get(done["Location"]))
    assert "nobody holds it" in Step.objects.get().copies_unfilled


def test_a_refused_raise_shows_the_error_not_the_list(glos):
    url = reverse("escalations:raise", args=[glos["child"].pk])

    response = signed_in(glos["chair"]).post(url, raise_data(glos, responder=glos["worker"].pk))

    assert response.status_code == 200
    assert "Check who will be told" not in page(response)
    assert "There is a problem" in page(response)


def test_escalating_shows_who_will_be_told_before_the_step_is_raised(glos):
    escalation = services.escalation_raise(
        actor=glos["chair"],
        policy=glos["policy"],
        categories=first_category(glos["policy"]),
        children=[glos["child"]],
        summary="Drift.",
        stage=Stage.objects.get(policy=glos["policy"], order=1),
        reason="Serious.",
        responder=glos["manager"],
    )
    client = signed_in(glos["chair"])
    url = reverse("escalations:escalate", args=[escalation.pk])
    data = {
        "from_step": escalation.steps.get().pk,
        "stage": glos["stage_3"].pk,
        "responder": glos["head"].pk,
        "reason": "No reply.",
    }

    first = client.post(url, data)
    assert "Check who will be told" in page(first)
    assert escalation.steps.count() == 1

    assert post_and_confirm(client, url, data).status_code == 302
    assert escalation.steps.count() == 2
