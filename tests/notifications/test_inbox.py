"""The in-app list of notifications, the unread count in the header, and opening one.

A Gloucestershire Stage 1 step (Team Manager, 4 working days) raised on Mon 2 Nov 2026
is due Fri 6 Nov (Tue 3, Wed 4, Thu 5, Fri 6); the sweep on Mon 9 Nov finds it overdue.
So the team manager has two notifications (step raised, overdue), the chair one (overdue).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from escalations import services
from escalations.models import Escalation, Step
from escalations.sweep import process_due
from notifications.models import Kind, Notification
from staff.models import StaffMember
from tests.fixtures import first_category

LONDON = ZoneInfo("Europe/London")
RAISED = datetime(2026, 11, 2, 10, tzinfo=LONDON)  # Mon 2 Nov
SWEPT = datetime(2026, 11, 9, 7, tzinfo=LONDON)  # Mon 9 Nov
OPENED = datetime(2026, 11, 9, 9, 30, tzinfo=LONDON)


@dataclass
class Case:
    chair: StaffMember
    team_manager: StaffMember
    escalation: Escalation
    step: Step

    def notification(self, kind: str, recipient: StaffMember) -> Notification:
        return Notification.objects.get(kind=kind, recipient=recipient)


@pytest.fixture
def case(ladders, staff_of, child_of) -> Case:
    policy = ladders["gloucestershire"]
    chair = staff_of("gloucestershire", "cp-chair")
    team_manager = staff_of("gloucestershire", "team-manager")
    escalation = services.escalation_raise(
        actor=chair,
        policy=policy,
        categories=first_category(policy),
        children=[child_of("gloucestershire", first_name="Amy", last_name="Zed")],
        summary="Core group meetings not held.",
        stage=policy.stages.get(order=1),
        responder=team_manager,
        now=RAISED,
    )
    with time_machine.travel(SWEPT, tick=False):
        process_due(SWEPT)
    return Case(chair, team_manager, escalation, escalation.steps.get())


def open_notification(client, notification: Notification):
    with time_machine.travel(OPENED, tick=False):
        return client.post(reverse("notifications:open", args=[notification.pk]))


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_my_notifications(client, case):
    client.force_login(case.team_manager.user)

    page = client.get(reverse("notifications:list")).content.decode()

    assert case.escalation.reference in page
    assert "A step was raised for you to answer" in page
    assert "A response is overdue" in page
    assert "Stage 1: Team Manager (Dispute Resolution Form)" in page


def test_the_list_leaves_out_other_peoples_notifications(client, case):
    client.force_login(case.chair.user)

    page = client.get(reverse("notifications:list")).content.decode()

    assert "A response is overdue" in page
    assert "A step was raised for you to answer" not in page  # the team manager's


def test_someone_with_no_notifications_is_told_so(client, case, staff_of):
    client.force_login(staff_of("gloucestershire", "team-manager").user)

    page = client.get(reverse("notifications:list")).content.decode()

    assert "You have no notifications." in page
    assert case.escalation.reference not in page


def test_the_list_needs_signing_in(client, case):
    response = client.get(reverse("notifications:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- the unread count ------------------------------------------------------------------------


def test_every_page_is_given_my_unread_count(client, case):
    client.force_login(case.team_manager.user)

    response = client.get(reverse("escalations:mine"))

    assert response.context["unread_notifications"] == 2


def test_the_header_shows_my_unread_count(client, case):
    client.force_login(case.team_manager.user)

    page = client.get(reverse("escalations:mine")).content.decode()

    href = re.escape(reverse("notifications:list"))
    links = re.findall(rf'<a\b[^>]*href="{href}"[^>]*>(.*?)</a>', page, flags=re.S)
    assert links, "the header has no link to the notifications"
    assert any(re.search(r"\b2\b", re.sub(r"<[^>]+>", " ", text)) for text in links), links


def test_reading_a_notification_lowers_the_unread_count(client, case):
    client.force_login(case.team_manager.user)
    open_notification(client, case.notification(Kind.OVERDUE, case.team_manager))

    # Still on 9 Nov: the session ends 30 idle minutes after the last request.
    with time_machine.travel(OPENED, tick=False):
        response = client.get(reverse("escalations:mine"))

    assert response.context["unread_notifications"] == 1


# --- opening one -----------------------------------------------------------------------------


def test_opening_a_notification_marks_it_read(client, case):
    notification = case.notification(Kind.STEP_RAISED, case.team_manager)
    client.force_login(case.team_manager.user)

    open_notification(client, notification)

    notification.refresh_from_db()
    assert notification.read_at == OPENED


def test_opening_it_again_keeps_the_first_time_it_was_read(client, case):
    notification = case.notification(Kind.STEP_RAISED, case.team_manager)
    client.force_login(case.team_manager.user)
    open_notification(client, notification)

    with time_machine.travel(datetime(2026, 11, 10, 9, tzinfo=LONDON), tick=False):
        client.post(reverse("notifications:open", args=[notification.pk]))

    notification.refresh_from_db()
    assert notification.read_at == OPENED


def test_the_responder_opening_a_notification_goes_to_the_response_form(client, case):
    client.force_login(case.team_manager.user)

    response = open_notification(client, case.notification(Kind.OVERDUE, case.team_manager))

    assert response.status_code == 302
    assert response["Location"] == reverse("escalations:respond", args=[case.step.pk])


def test_the_chair_opening_a_notification_goes_to_the_escalation_page(client, case):
    client.force_login(case.chair.user)

    response = open_notification(client, case.notification(Kind.OVERDUE, case.chair))

    assert response.status_code == 302
    assert response["Location"] == reverse("escalations:detail", args=[case.escalation.pk])


def test_a_notification_about_a_closed_step_goes_to_the_escalation_page(client, case, staff_of):
    services.escalation_escalate(
        actor=case.chair,
        escalation=case.escalation,
        responder=staff_of("gloucestershire", "team-manager"),
        now=SWEPT,
    )
    client.force_login(case.team_manager.user)

    response = open_notification(client, case.notification(Kind.STEP_RAISED, case.team_manager))

    assert response["Location"] == reverse("escalations:detail", args=[case.escalation.pk])


def test_another_users_notification_is_not_found(client, case):
    notification = case.notification(Kind.STEP_RAISED, case.team_manager)
    client.force_login(case.chair.user)

    response = open_notification(client, notification)

    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_opening_a_notification_needs_a_post(client, case):
    notification = case.notification(Kind.STEP_RAISED, case.team_manager)
    client.force_login(case.team_manager.user)

    response = client.get(reverse("notifications:open", args=[notification.pk]))

    assert response.status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None
