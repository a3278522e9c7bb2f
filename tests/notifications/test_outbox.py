"""The outbox: rows made with the change that caused them, each e-mailed once."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from escalations import services
from notifications.links import step_pk_from_token
from notifications.models import EmailStatus, Kind, Notification
from notifications.services import deliver
from tests.fixtures import first_category

NOW = datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def case(ladders, staff_of, child_of):
    """A child whose social worker's line and chair's line are set, beside uninvolved
    holders of the very same roles."""
    head = staff_of("gloucestershire", "head-of-service")
    manager = staff_of("gloucestershire", "team-manager", line_manager=head)
    worker = staff_of("gloucestershire", "social-worker", line_manager=manager)
    conference_manager = staff_of("gloucestershire", "cp-conference-team-manager")
    chair = staff_of("gloucestershire", "cp-chair", line_manager=conference_manager)
    uninvolved = [
        staff_of("gloucestershire", "team-manager", line_manager=head),
        staff_of("gloucestershire", "social-worker"),
        staff_of("gloucestershire", "cp-conference-team-manager"),
        staff_of("gloucestershire", "cp-chair"),
    ]
    child = child_of("gloucestershire", first_name="Amy", last_name="Zed", social_worker=worker)
    return {
        "head": head,
        "manager": manager,
        "worker": worker,
        "conference_manager": conference_manager,
        "chair": chair,
        "uninvolved": uninvolved,
        "child": child,
    }


@pytest.fixture
def gloucestershire_head_of_service_step(ladders, case):
    policy = ladders["gloucestershire"]
    escalation = services.escalation_raise(
        actor=case["chair"],
        policy=policy,
        categories=first_category(policy),
        children=[case["child"]],
        summary="No core group.",
        stage=policy.stages.get(order=3),
        responder=case["head"],
        now=NOW,
    )
    return escalation.steps.get()


def test_raising_a_step_notifies_the_responder_and_the_people_on_the_case(
    gloucestershire_head_of_service_step, case
):
    step = gloucestershire_head_of_service_step
    to_responder = Notification.objects.get(kind=Kind.STEP_RAISED)
    copied = Notification.objects.filter(kind=Kind.STEP_COPIED)
    assert to_responder.recipient == step.responder
    # Head of Service stage: "cc. Team Manager, Social Worker & Child Protection Conference
    # Team Manager": the child's own, and the chair's own, never every holder of the role.
    assert {n.recipient for n in copied} == {
        case["worker"],
        case["manager"],
        case["conference_manager"],
    }
    assert not Notification.objects.filter(recipient__in=case["uninvolved"]).exists()


def test_an_email_is_sent_once_even_if_delivered_twice(gloucestershire_head_of_service_step):
    notification = Notification.objects.get(kind=Kind.STEP_RAISED)
    assert deliver(notification_id=notification.pk, now=NOW) is True
    assert deliver(notification_id=notification.pk, now=NOW) is False
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.SENT


def test_the_email_holds_a_reference_initials_and_a_link_but_no_names(
    gloucestershire_head_of_service_step,
):
    step = gloucestershire_head_of_service_step
    deliver(notification_id=Notification.objects.get(kind=Kind.STEP_RAISED).pk, now=NOW)
    [message] = mail.outbox
    body = message.body + str(message.alternatives)
    assert step.escalation.reference in message.subject
    assert "AZ" in body
    assert "Amy" not in body and "Zed" not in body
    assert "No core group" not in body
    link = next(line for line in message.body.splitlines() if "/escalations/link/" in line)
    assert link.startswith("http://127.0.0.1:8000/escalations/link/")
    assert step_pk_from_token(link.rstrip("/").rsplit("/", 1)[1]) == step.pk


def test_a_tampered_token_is_not_accepted():
    assert step_pk_from_token("MQ:1abcde:forged-signature") is None


def test_a_response_notifies_the_chair(gloucestershire_head_of_service_step):
    step = gloucestershire_head_of_service_step
    services.step_respond(actor=step.responder, step=step, response="Done.", now=NOW)
    assert Notification.objects.get(kind=Kind.RESPONSE_RECEIVED).recipient == step.raised_by
