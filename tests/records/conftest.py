"""A closed Rutland escalation with a response, an attachment, outbox rows and reads."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from children.models import Child
from children.services import access_log_record
from escalations import services
from escalations.models import Attachment, Escalation
from staff.models import StaffMember
from tests.fixtures import first_category

SUMMARY = "Core group meetings lapsed at Larkspur Close."
RESPONSE = "Visits are booked with the family at Larkspur Close."
OUTCOME = "Visits restarted at Larkspur Close."
ATTACHMENT_NAME = "larkspur-core-group-notes.pdf"


@pytest.fixture(autouse=True)
def media_root(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path / "media"):
        yield tmp_path / "media"


@dataclass
class Case:
    escalation: Escalation
    chair: StaffMember
    manager: StaffMember
    qa: StaffMember
    attachment: Attachment


@pytest.fixture
def closed_case(ladders, staff_of) -> Callable[..., Case]:
    """closed_case([child, ...]) -> a resolved escalation about those children."""

    def make(children: list[Child]) -> Case:
        chair = staff_of("rutland", "cp-chair")
        manager = staff_of("rutland", "service-manager")
        qa = staff_of("rutland", "qa-manager")
        escalation = services.escalation_raise(
            actor=chair,
            policy=ladders["rutland"],
            categories=first_category(ladders["rutland"]),
            children=children,
            summary=SUMMARY,
            desired_outcome="Visits every ten days.",
            responder=manager,
        )
        step = escalation.steps.get()
        services.step_respond(
            actor=manager,
            step=step,
            response=RESPONSE,
            attachments=[
                SimpleUploadedFile(ATTACHMENT_NAME, b"%PDF-1.4 notes\n%%EOF", "application/pdf")
            ],
        )
        escalation.refresh_from_db()
        services.escalation_resolve(
            actor=chair, escalation=escalation, outcome=OUTCOME, outcome_for_child="Seen weekly."
        )
        access_log_record(
            user=qa.user, action="view escalation", children=children, escalation=escalation
        )
        return Case(
            escalation=Escalation.objects.get(pk=escalation.pk),
            chair=chair,
            manager=manager,
            qa=qa,
            attachment=step.attachments.get(),
        )

    return make


def born(years_ago: int, today: datetime.date | None = None) -> datetime.date:
    today = today or datetime.date.today()
    return today.replace(year=today.year - years_ago, day=1)
