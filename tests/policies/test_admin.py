"""Editing ladders in Django admin: clear refusals, no silent rewrite of a policy in use."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from escalations import services
from policies.models import Policy, Stage
from tests.fixtures import first_category

NOW = datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def admin_client_(client, db):
    user = get_user_model().objects.create_superuser(
        "root", "root@example.invalid", "pw-long-enough-1"
    )
    client.force_login(user)
    return client


def form_data(response) -> dict[str, object]:
    """The change form's current values, as the browser would post them back."""
    data: dict[str, object] = {}

    def add(form) -> None:
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if value is None:
                continue
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, (list, tuple)):
                data[key] = [str(getattr(v, "pk", v)) for v in value]
            else:
                data[key] = str(getattr(value, "pk", value))

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = str(value)
        for form in formset.forms:
            add(form)
    return data


def change_url(policy: Policy) -> str:
    return reverse("admin:policies_policy_change", args=[policy.pk])


def stage_prefix(response, order: int) -> str:
    formset = next(
        i.formset for i in response.context["inline_admin_formsets"] if i.formset.model is Stage
    )
    form = next(f for f in formset.forms if f.instance.order == order)
    return form.prefix


def test_admin_can_change_a_stage_timescale(admin_client_, ladders):
    policy = ladders["rutland"]
    page = admin_client_.get(change_url(policy))
    data = form_data(page)
    data[f"{stage_prefix(page, 1)}-response_days"] = "7"

    response = admin_client_.post(change_url(policy), data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    assert policy.stages.get(order=1).response_days == 7


def test_a_gap_in_stage_numbers_is_refused_with_a_clear_message(admin_client_, ladders):
    policy = ladders["rutland"]
    page = admin_client_.get(change_url(policy))
    data = form_data(page)
    data[f"{stage_prefix(page, 6)}-order"] = "9"

    response = admin_client_.post(change_url(policy), data)

    assert response.status_code == 200
    assert "without gaps (missing: 6, 7, 8)." in response.content.decode()
    assert policy.stages.filter(order=9).count() == 0


def test_negative_days_are_refused(admin_client_, ladders):
    policy = ladders["rutland"]
    page = admin_client_.get(change_url(policy))
    data = form_data(page)
    data[f"{stage_prefix(page, 1)}-response_days"] = "-3"

    response = admin_client_.post(change_url(policy), data)

    assert response.status_code == 200
    assert "greater than or equal to 0" in response.content.decode()
    assert policy.stages.get(order=1).response_days == 5


@pytest.fixture
def rutland_in_use(ladders, staff_of, child_of):
    policy = ladders["rutland"]
    escalation = services.escalation_raise(
        actor=staff_of("rutland", "cp-chair"),
        policy=policy,
        categories=first_category(policy),
        children=[child_of("rutland")],
        summary="Visits not done.",
        stage=policy.stages.get(order=3),
        responder=staff_of("rutland", "head-of-service"),
        now=NOW,
    )
    return policy, escalation


def test_a_policy_in_use_is_not_rewritten_without_confirmation(admin_client_, rutland_in_use):
    policy, _ = rutland_in_use
    page = admin_client_.get(change_url(policy))
    data = form_data(page)
    data[f"{stage_prefix(page, 3)}-response_days"] = "20"

    response = admin_client_.post(change_url(policy), data)

    assert response.status_code == 200
    assert "Escalations already use this policy" in response.content.decode()
    assert policy.stages.get(order=3).response_days == 5


def test_a_confirmed_change_keeps_running_escalations_deadlines(admin_client_, rutland_in_use):
    policy, escalation = rutland_in_use
    step = escalation.steps.get()
    due_before = step.due_on
    page = admin_client_.get(change_url(policy))
    data = form_data(page)
    data[f"{stage_prefix(page, 3)}-response_days"] = "20"
    data["confirm_change_in_use"] = "on"

    response = admin_client_.post(change_url(policy), data)

    assert response.status_code == 302
    assert policy.stages.get(order=3).response_days == 20
    step.refresh_from_db()
    assert step.due_on == due_before
    assert step.response_days == 5
    assert policy.stages.get(order=3).history.count() >= 2


def test_deleting_a_stage_escalations_used_is_refused(admin_client_, rutland_in_use):
    policy, _ = rutland_in_use
    page = admin_client_.get(change_url(policy))
    data = form_data(page)
    data[f"{stage_prefix(page, 3)}-DELETE"] = "on"
    data["confirm_change_in_use"] = "on"

    response = admin_client_.post(change_url(policy), data)

    assert response.status_code == 200
    assert (
        "would require deleting the following protected related objects"
        in response.content.decode()
    )
    assert policy.stages.filter(order=3).exists()


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:policies_policy_changelist",
        "admin:policies_localauthority_changelist",
        "admin:staff_staffmember_changelist",
        "admin:children_child_changelist",
        "admin:escalations_escalation_changelist",
        "admin:policies_role_changelist",
    ],
)
def test_admin_lists_open_without_error(admin_client_, rutland_in_use, url_name):
    assert admin_client_.get(reverse(url_name)).status_code == 200


def test_an_escalation_opens_read_only_in_admin_with_its_history(admin_client_, rutland_in_use):
    _, escalation = rutland_in_use
    page = admin_client_.get(reverse("admin:escalations_escalation_change", args=[escalation.pk]))
    history = admin_client_.get(
        reverse("admin:escalations_escalation_history", args=[escalation.pk])
    )
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert history.status_code == 200


def test_failed_notifications_are_listed_in_admin(admin_client_, rutland_in_use):
    from notifications.models import EmailStatus, Notification

    Notification.objects.update(email_status=EmailStatus.FAILED, last_error="SMTPException")
    page = admin_client_.get(
        reverse("admin:notifications_notification_changelist") + "?email_status=failed"
    )
    assert page.status_code == 200
    assert rutland_in_use[1].reference in page.content.decode()
