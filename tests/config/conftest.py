"""A Rutland escalation with one response and one attachment: case data to fetch."""

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from children.models import Child
from escalations import services
from escalations.models import Attachment, Escalation, Step
from staff.models import StaffMember
from tests.fixtures import first_category

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class Case:
    chair: StaffMember
    manager: StaffMember
    qa: StaffMember
    child: Child
    escalation: Escalation
    step: Step
    attachment: Attachment


@pytest.fixture(autouse=True)
def media_root(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path / "media"):
        yield tmp_path / "media"


@dataclass
class Raised:
    chair: StaffMember
    manager: StaffMember
    child: Child
    escalation: Escalation
    step: Step


@pytest.fixture
def raised(ladders, staff_of, child_of) -> Raised:
    """Asked of the service manager, not yet answered."""
    chair = staff_of("rutland", "cp-chair")
    manager = staff_of("rutland", "service-manager")
    child = child_of("rutland", social_worker=staff_of("rutland", "social-worker"))
    escalation = services.escalation_raise(
        actor=chair,
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=[child],
        summary="Statutory visits are not happening.",
        responder=manager,
    )
    return Raised(chair, manager, child, escalation, escalation.steps.get())


@pytest.fixture
def case(raised, staff_of) -> Case:
    services.step_respond(
        actor=raised.manager,
        step=raised.step,
        response="Visits are booked.",
        attachments=[SimpleUploadedFile("plan.pdf", PDF, "application/pdf")],
    )
    return Case(
        chair=raised.chair,
        manager=raised.manager,
        qa=staff_of("rutland", "qa-manager"),
        child=raised.child,
        escalation=raised.escalation,
        step=raised.step,
        attachment=Attachment.objects.get(step=raised.step),
    )
