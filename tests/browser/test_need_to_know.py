"""Need to know, in a real browser: a step's copies reach the people on this case and no one else.

A council has several people in each role. When a chair raises a stage that copies
people, only the children's own social worker and the managers in their line (and the
posts the policy names) hear of it; a social worker or team manager of the other team,
or another chair, gets no notice, no e-mail, and a 404 if they guess the address.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from escalations.models import Escalation
from notifications.models import Kind, Notification
from notifications.relay import relay_once
from staff.models import StaffMember
from tests.fixtures import World

STAGE_4 = "Stage 4: Director for People"
STAGE_5 = "Stage 5: Independent Chair of the LSCB"


def _send_after_checking(page, button: str) -> str:
    """The first press shows who will be told, by name; the second sends it."""
    page.get_by_role("button", name=button).click()
    told = page.locator("#recipients").inner_text()
    assert "Check who will be told" in told
    page.get_by_role("button", name=button).click()
    return told


def _emails_to(person: StaffMember) -> list:
    relay_once(now=timezone.now())  # what the scheduler's relay would have sent by now
    return [m for m in mail.outbox if person.user.email in m.to]


@pytest.fixture
def rutland(world_of) -> World:
    """Two teams, each with its own line up to the one Director for People, two chairs,
    a QA manager, the LSCB chair, and a child of the North team (tests/fixtures.py)."""
    return world_of("rutland")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_people_not_on_the_case_are_told_nothing_and_cannot_open_it(
    site, rutland, new_context, sign_in, step_link_for
):
    people = rutland
    child = people.child
    uninvolved = {
        "the other team's social worker": people.south.worker,
        "the other team's team manager": people.south.manager,
        "the other team's service manager": people.south.service,
        "the other team's head of service": people.south.head,
        "the other chair": people.other_chair,
    }
    on_the_case = {
        "the child's social worker": people.north.worker,
        "their team manager": people.north.manager,
        "their service manager": people.north.service,
        "their head of service": people.north.head,
        "the QA manager": people.qa,
    }

    # The chair goes straight to Stage 4, which copies the worker and their managers.
    chair_page = sign_in(new_context(), people.chair)
    chair_page.goto(f"{site}/escalations/raise/{child.pk}/")
    chair_page.get_by_role("radio", name=STAGE_4).check()
    chair_page.fill("#id_summary", "Core group meetings have not happened for eight weeks.")
    chair_page.locator("#id_categories").check()  # the policy's first kind of concern
    chair_page.select_option("#id_responder", value=str(people.director.pk))
    chair_page.fill("#id_statement_issue", "No core group meetings since the conference.")
    chair_page.fill("#id_statement_actions", "Two telephone alerts to the team.")
    chair_page.fill("#id_statement_wanted", "A core group meeting and a revised plan.")
    told = _send_after_checking(chair_page, "Raise escalation")
    for who, person in on_the_case.items():
        assert person.display_name in told, who
    for who, person in uninvolved.items():
        assert person.display_name not in told, who
    escalation = Escalation.objects.get()
    assert chair_page.url == f"{site}/escalations/{escalation.pk}/"

    # Not satisfied: the QA manager moves it to Stage 5, which copies "the IRO" who raised it.
    qa_page = sign_in(new_context(), people.qa)
    qa_page.goto(f"{site}/escalations/{escalation.pk}/")
    qa_page.get_by_role("link", name="Escalate", exact=True).click()
    qa_page.get_by_role("radio", name=STAGE_5).check()
    qa_page.select_option("#id_responder", value=str(people.lscb.pk))
    told = _send_after_checking(qa_page, "Escalate")
    assert people.chair.display_name in told
    assert people.other_chair.display_name not in told
    assert escalation.steps.count() == 2

    # Those on the case hear of it: the addressees with their links, the others by copy.
    assert step_link_for(people.director).startswith(f"{site}/escalations/link/")
    assert step_link_for(people.lscb).startswith(f"{site}/escalations/link/")
    stage_4 = escalation.steps.get(stage_name=STAGE_4)
    for who, person in on_the_case.items():
        copy = Notification.objects.filter(step=stage_4, kind=Kind.STEP_COPIED, recipient=person)
        assert copy.exists(), who
        assert _emails_to(person), who
    stage_5 = escalation.steps.get(stage_name=STAGE_5)
    assert Notification.objects.filter(
        step=stage_5, kind=Kind.STEP_COPIED, recipient=people.chair
    ).exists()

    # The team manager the stage names sees the notice and opens the escalation.
    manager_page = sign_in(new_context(), people.north.manager)
    manager_page.goto(f"{site}/notifications/")
    assert escalation.reference in manager_page.locator("#main-content").inner_text()
    assert manager_page.goto(f"{site}/escalations/{escalation.pk}/").status == 200

    # Nobody else: no notice, no e-mail, and the escalation's address is a 404.
    for who, person in uninvolved.items():
        assert not Notification.objects.filter(recipient=person).exists(), who
        assert not _emails_to(person), who
        page = sign_in(new_context(), person)
        page.goto(f"{site}/notifications/")
        assert "You have no notifications." in page.locator("#main-content").inner_text(), who
        response = page.goto(f"{site}/escalations/{escalation.pk}/")
        assert response.status == 404, who
        html = page.content()
        for secret in ("Poppy", "RUT-0042", escalation.reference):
            assert secret not in html, (who, secret)
