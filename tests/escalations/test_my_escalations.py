"""Signing in lands on the list of the user's own escalations."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from escalations import services
from notifications.models import Kind
from notifications.services import create_notifications
from tests.children.factories import ChildFactory
from tests.fixtures import first_category
from tests.staff.factories import PASSWORD, UserFactory

NOW = datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def raised(ladders, staff_of, child_of):
    chair = staff_of("rutland", "cp-chair")
    manager = staff_of("rutland", "service-manager")
    child = child_of("rutland", first_name="Poppy", last_name="Example")
    escalation = services.escalation_raise(
        actor=chair,
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=[child],
        summary="Visits not done.",
        responder=manager,
        now=NOW,
    )
    return chair, manager, escalation


def test_signing_in_lands_on_the_to_do_list(client, raised):
    chair, _manager, _escalation = raised
    response = client.post(
        reverse("login"), {"username": chair.user.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("escalations:todo")
    page = response.content.decode()
    assert "To do" in page
    assert reverse("escalations:mine") in page


def test_the_responder_sees_the_escalation_addressed_to_them(client, raised):
    _chair, manager, escalation = raised
    client.force_login(manager.user)
    assert escalation.reference in client.get(reverse("escalations:mine")).content.decode()


def test_each_row_says_where_the_escalation_stands_in_words(client, raised):
    chair, _manager, escalation = raised
    client.force_login(chair.user)

    page = client.get(reverse("escalations:mine")).content.decode()

    row = page.split(escalation.reference, 1)[1].split("</tr>", 1)[0]
    assert f'<td class="govuk-table__cell">{escalation.get_state_display()}</td>' in row


def test_a_chair_of_another_authority_does_not_see_it(client, raised, staff_of):
    _chair, _manager, escalation = raised
    client.force_login(staff_of("gloucestershire", "cp-chair").user)
    page = client.get(reverse("escalations:mine")).content.decode()
    assert escalation.reference not in page
    assert "Poppy" not in page


def test_a_wrong_password_is_refused_with_a_plain_message(client, raised):
    chair, _manager, _escalation = raised
    response = client.post(reverse("login"), {"username": chair.user.username, "password": "nope"})
    assert response.status_code == 200
    assert "Enter a correct username and password" in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    response = client.get(reverse("escalations:mine"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_account_without_a_staff_record_is_told_so(client, db):
    client.force_login(UserFactory())
    response = client.get(reverse("escalations:mine"))
    assert response.status_code == 403
    assert "not linked to a staff record" in response.content.decode()


def test_an_administrator_without_a_staff_record_goes_to_admin(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(reverse("escalations:mine"))["Location"] == reverse("admin:index")


def test_a_social_worker_finds_the_escalations_on_their_own_children(client, ladders, staff_of):
    chair = staff_of("rutland", "cp-chair")
    worker = staff_of("rutland", "social-worker")
    child = ChildFactory(authority=chair.authority, social_worker=worker)
    escalation = services.escalation_raise(
        actor=chair,
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=[child],
        summary="Visits not done.",
        responder=staff_of("rutland", "service-manager"),
        now=NOW,
    )
    client.force_login(worker.user)
    page = client.get(reverse("escalations:mine")).content.decode()
    assert escalation.reference in page
    assert "You have no escalations" not in page


def test_someone_told_of_an_escalation_finds_it_on_my_escalations(client, raised, staff_of):
    _chair, _manager, escalation = raised
    copied = staff_of("rutland", "head-of-service")
    create_notifications(
        kind=Kind.STEP_COPIED, step=escalation.steps.get(), recipients=[copied], now=NOW
    )
    client.force_login(copied.user)
    assert escalation.reference in client.get(reverse("escalations:mine")).content.decode()


# --- an answered step is awaiting the chair, not overdue ----------------------------------

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def answered_in_gloucestershire(ladders, staff_of, child_of):
    """A Gloucestershire Stage 1 step raised Monday 2 November (due Friday 6 November, the
    cap 30 November) and answered Tuesday 3 November; the chair has not yet decided."""
    policy = ladders["gloucestershire"]
    chair = staff_of("gloucestershire", "cp-chair")
    manager = staff_of("gloucestershire", "team-manager")
    escalation = services.escalation_raise(
        actor=chair,
        policy=policy,
        categories=first_category(policy),
        children=[child_of("gloucestershire")],
        summary="Core group meetings have lapsed.",
        stage=policy.stages.get(order=1),
        responder=manager,
        now=NOW,
    )
    services.step_respond(
        actor=manager,
        step=escalation.steps.get(),
        response="Meetings booked for next week.",
        now=datetime(2026, 11, 3, 11, tzinfo=LONDON),
    )
    return chair, escalation


def _on_20_november(client, time_machine, user):
    time_machine.move_to(datetime(2026, 11, 20, 12, tzinfo=LONDON), tick=False)
    client.force_login(user.user)
    return client.get(reverse("escalations:mine")).content.decode()


def test_an_answered_step_is_not_overdue_on_the_chairs_list_nor_on_the_dashboard(
    client, time_machine, answered_in_gloucestershire, staff_of
):
    chair, escalation = answered_in_gloucestershire
    page = _on_20_november(client, time_machine, chair)
    assert escalation.reference in page
    assert "Overdue" not in page
    assert "working days left" not in page
    qa = staff_of("gloucestershire", "qa-manager")
    client.force_login(qa.user)
    dashboard = client.get(reverse("reports:dashboard")).context["d"]
    assert dashboard.overdue_now == 0


def test_an_answered_step_waits_in_its_own_section_of_the_chairs_list(
    client, time_machine, answered_in_gloucestershire
):
    chair, escalation = answered_in_gloucestershire
    page = _on_20_november(client, time_machine, chair)
    assert "Responses waiting for your decision" in page
    section, rest = page.split("Responses waiting for your decision", 1)[1].split("</table>", 1)
    assert escalation.reference in section
    assert "Awaiting the chair" in section
    assert escalation.reference not in rest
