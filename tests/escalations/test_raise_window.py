"""The raise window (Policy.raise_window_working_days): Gloucestershire's reverse procedure
asks for a concern about a chair "within 5 working days of the Conference". The raise
refuses a late concern naming the last day, asks for the conference the window runs from,
and the form shows the window."""

from __future__ import annotations

import html
from datetime import date

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from escalations import services
from escalations.forms import RaiseForm
from escalations.models import Escalation
from escalations.services import ActionRefused
from policies.models import Stage
from tests.children.factories import ConferenceFactory
from tests.confirm import post_and_confirm
from tests.fixtures import at, category_ticked, first_category

ABOUT_CHAIR = "gloucestershire-about-chair"
GLOS = "gloucestershire"


@pytest.fixture
def glos(ladders, staff_of, child_of):
    worker = staff_of(GLOS, "social-worker")
    child = child_of(GLOS, social_worker=worker)
    return {
        "policy": ladders[ABOUT_CHAIR],
        "worker": worker,
        "chair": staff_of(GLOS, "cp-chair"),
        "manager": staff_of(GLOS, "cp-service-manager"),
        "child": child,
        # Thursday 26 November 2026: + 5 working days = Thursday 3 December.
        "conference": ConferenceFactory(child=child, kind="rcpc", date=date(2026, 11, 26)),
    }


def raise_about_chair(glos, *, now, conference="default") -> Escalation:
    return services.escalation_raise(
        actor=glos["worker"],
        policy=glos["policy"],
        categories=first_category(glos["policy"]),
        children=[glos["child"]],
        summary="The chair did not let the family's advocate speak.",
        responder=glos["manager"],
        about_staff=glos["chair"],
        conference=glos["conference"] if conference == "default" else conference,
        now=now,
    )


def test_the_shipped_procedure_has_a_five_working_day_window(glos):
    assert glos["policy"].raise_window_working_days == 5


def test_a_concern_raised_on_the_last_day_of_the_window_is_accepted(glos):
    escalation = raise_about_chair(glos, now=at(2026, 12, 3, 16))

    assert escalation.conference == glos["conference"]


def test_a_concern_raised_the_day_after_the_window_is_refused_naming_the_last_day(glos):
    with pytest.raises(ActionRefused) as refused:
        raise_about_chair(glos, now=at(2026, 12, 4, 9))

    assert refused.value.field == "conference"
    assert refused.value.message == (
        "This procedure asks for concerns to be raised within 5 working days of the "
        "conference. The conference was on Thu 26 Nov 2026, so the last day to raise a "
        "concern about it was Thu 3 Dec 2026."
    )
    assert Escalation.objects.count() == 0


def test_a_concern_42_working_days_after_the_conference_is_refused(glos):
    # Mon 7 Sep 2026 + 42 working days = Wed 4 Nov; its window closed on Mon 14 Sep.
    glos["conference"].date = date(2026, 9, 7)
    glos["conference"].save()

    with pytest.raises(ActionRefused) as refused:
        raise_about_chair(glos, now=at(2026, 11, 4))

    assert refused.value.message.endswith(
        "the last day to raise a concern about it was Mon 14 Sep 2026."
    )


def test_the_window_does_not_count_bank_holidays(glos):
    # Thu 24 Dec 2026: Fri 25 Dec, Mon 28 Dec (Boxing Day's substitute) and Fri 1 Jan are
    # bank holidays, so the 5 working days are 29, 30, 31 Dec, 4 and 5 Jan.
    glos["conference"].date = date(2026, 12, 24)
    glos["conference"].save()

    raise_about_chair(glos, now=at(2027, 1, 5, 16))

    with pytest.raises(ActionRefused):
        raise_about_chair(glos, now=at(2027, 1, 6, 9))


def test_a_procedure_with_a_window_asks_for_the_conference(glos):
    with pytest.raises(ActionRefused) as refused:
        raise_about_chair(glos, now=at(2026, 11, 27), conference=None)

    assert refused.value.field == "conference"
    assert refused.value.message == (
        "This procedure asks for concerns to be raised within 5 working days of the "
        "conference: choose the conference the concern arose from."
    )


def test_a_procedure_without_a_window_needs_no_conference(raise_concern):
    escalation = raise_concern("rutland", now=at(2027, 3, 1))

    assert escalation.conference is None


# --- the form -------------------------------------------------------------------------------


def test_the_raise_form_requires_the_conference_and_names_each_ones_last_day(glos):
    form = RaiseForm(staff=glos["worker"], policy=glos["policy"], child=glos["child"])

    field = form.fields["conference"]
    assert field.required
    assert [label for _pk, label in field.choices][-1] == (
        "Review child protection conference on Thu 26 Nov 2026: raise by Thu 3 Dec 2026"
    )


def test_the_raise_form_shows_the_window_for_the_latest_conference(glos):
    form = RaiseForm(staff=glos["worker"], policy=glos["policy"], child=glos["child"])

    assert form.fields["conference"].help_text == (
        "Raise within 5 working days of the conference: by Thu 3 Dec 2026 for the "
        "conference on Thu 26 Nov 2026."
    )


def test_a_form_without_a_window_keeps_the_conference_optional(ladders, staff_of, child_of):
    form = RaiseForm(
        staff=staff_of("rutland", "cp-chair"), policy=ladders["rutland"], child=child_of("rutland")
    )

    assert not form.fields["conference"].required


# --- through the page -------------------------------------------------------------------------


def post_raise(glos, **changes):
    client = Client()
    client.force_login(glos["worker"].user)
    data = {
        "policy": ABOUT_CHAIR,
        "children": [glos["child"].pk],
        "about_staff": glos["chair"].pk,
        "summary": "The chair did not let the family's advocate speak.",
        "categories": category_ticked(ABOUT_CHAIR),
        "stage": Stage.objects.get(policy=glos["policy"], order=1).pk,
        "responder": glos["manager"].pk,
        "conference": glos["conference"].pk,
    } | changes
    url = reverse("escalations:raise", args=[glos["child"].pk])
    return client, post_and_confirm(client, url, {k: v for k, v in data.items() if v is not None})


def test_the_raise_page_shows_the_window(glos):
    client = Client()
    with time_machine.travel(at(2026, 11, 27), tick=False):
        client.force_login(glos["worker"].user)
        response = client.get(
            reverse("escalations:raise", args=[glos["child"].pk]), {"policy": ABOUT_CHAIR}
        )

    text = html.unescape(response.content.decode())
    assert "Raise within 5 working days of the conference: by Thu 3 Dec 2026" in text


def test_the_page_refuses_a_late_concern_beside_the_conference(glos):
    with time_machine.travel(at(2026, 12, 7), tick=False):
        _client, response = post_raise(glos)

    text = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "the last day to raise a concern about it was Thu 3 Dec 2026." in text
    assert Escalation.objects.count() == 0


def test_the_page_asks_for_the_conference(glos):
    with time_machine.travel(at(2026, 11, 27), tick=False):
        _client, response = post_raise(glos, conference=None)

    text = html.unescape(response.content.decode())
    assert "Choose the conference the concern arose from." in text
    assert Escalation.objects.count() == 0


def test_the_page_raises_a_concern_within_the_window(glos):
    with time_machine.travel(at(2026, 11, 27), tick=False):
        _client, response = post_raise(glos)

    assert response.status_code == 302
    assert Escalation.objects.get().conference == glos["conference"]
