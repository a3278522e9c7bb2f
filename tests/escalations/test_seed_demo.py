"""The demo data: staff for every rung, a dozen children, escalations in every state."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from children.models import Child
from escalations.models import Escalation, State
from policies.models import Stage
from staff.models import StaffMember


@pytest.fixture
def demo(db, capsys):
    call_command("load_policies")
    call_command("seed_demo")
    return capsys.readouterr().out


def test_demo_has_escalations_in_every_state(demo):
    states = set(Escalation.objects.values_list("state", flat=True))
    assert states >= {
        State.INFORMAL,
        State.AWAITING_RESPONSE,
        State.RESPONSE_RECEIVED,
        State.RESOLVED,
        State.FINAL_DECISION,
        State.WITHDRAWN,
    }


def test_demo_has_overdue_steps(demo):
    from django.utils import timezone

    today = timezone.localdate()
    overdue = [
        s
        for e in Escalation.objects.filter(state=State.AWAITING_RESPONSE)
        for s in e.steps.filter(closed_at__isnull=True)
        if s.effective_due_on and s.effective_due_on < today
    ]
    assert overdue


def test_demo_has_a_dozen_children_with_plans(demo):
    assert Child.objects.filter(plans__isnull=False).distinct().count() >= 12


def test_demo_has_staff_for_every_rung_of_two_authorities(demo):
    for slug in ("rutland", "gloucestershire"):
        roles = set(
            StaffMember.objects.filter(authority__slug=slug).values_list("role__slug", flat=True)
        )
        ladder_roles = set(
            Stage.objects.filter(policy__authority__slug=slug).values_list("role__slug", flat=True)
        )
        assert ladder_roles <= roles
        assert {"cp-chair", "qa-manager"} <= roles


def test_demo_prints_the_logins_and_password(demo):
    assert "escalate-demo-2026" in demo
    assert "rutland.cp-chair" in demo


def test_demo_refuses_to_run_twice_unless_asked_to_skip(demo):
    with pytest.raises(CommandError, match="already loaded"):
        call_command("seed_demo")
    call_command("seed_demo", "--if-empty")
    assert Escalation.objects.count() == 12


def test_a_demo_chair_signs_in_and_sees_their_escalations(demo, client):
    response = client.post(
        reverse("login"),
        {"username": "rutland.cp-chair", "password": "escalate-demo-2026"},
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "My escalations" in page
    assert "Overdue" in page
