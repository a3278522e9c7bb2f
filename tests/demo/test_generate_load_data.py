"""generate_load_data at a tiny size: the shape of what it makes; benchmark_reports on it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.timezone import now

from children.models import AccessLog, Child, ChildProtectionPlan, Conference
from escalations.models import (
    CLOSED_STATES,
    OPEN_STATES,
    AmendmentKind,
    Attachment,
    Escalation,
    Step,
    StepAmendment,
)
from notifications.models import Notification
from policies.models import Policy, PolicyKind
from staff.models import StaffMember


def generate(*extra: str) -> str:
    out = StringIO()
    call_command(
        "generate_load_data", "--children", "30", "--steps", "100", "--seed", "7", *extra,
        stdout=out,
    )  # fmt: skip
    return out.getvalue()


@pytest.fixture
def generated(ladders) -> str:
    return generate()


def _shape(prefix: str) -> list[tuple]:
    """What a run made, without its ids and names: to compare two runs."""
    return [
        (s.escalation.policy.slug, s.sequence, s.stage_order, s.raised_at, s.due_on, s.verdict)
        for s in Step.objects.filter(
            escalation__raised_by__user__username__startswith=prefix
        ).select_related("escalation__policy")
    ]


def test_counts(generated):
    assert Child.objects.filter(reference__startswith="L1-").count() == 30
    assert Escalation.objects.count() == 40  # --steps / 2.5
    assert 95 <= Step.objects.count() <= 105
    assert ChildProtectionPlan.objects.count() >= 30
    assert Conference.objects.count() >= 30
    chair_raised = Policy.objects.filter(kind=PolicyKind.CHAIR_RAISED, is_active=True)
    assert set(Escalation.objects.values_list("policy", flat=True)) == {p.pk for p in chair_raised}
    for policy in chair_raised:
        roles = set(
            StaffMember.objects.filter(authority=policy.authority).values_list(
                "role__slug", flat=True
            )
        )
        assert {s.role.slug for s in policy.stages.all()} <= roles
        assert {"cp-chair", "qa-manager"} <= roles
    assert "Generated in" in generated
    assert "steps" in generated


def test_steps_follow_their_policys_ladder_in_order(generated):
    for escalation in Escalation.objects.prefetch_related("steps__stage"):
        steps = list(escalation.steps.all())
        assert steps, escalation
        assert [s.sequence for s in steps] == list(range(1, len(steps) + 1))
        assert all(s.stage.policy_id == escalation.policy_id for s in steps)
        orders = [s.stage_order for s in steps]
        assert orders == sorted(set(orders))
        assert all(s.stage.order == s.stage_order for s in steps)
        assert escalation.current_stage_id == steps[-1].stage_id
        assert escalation.raised_at == steps[0].raised_at


def test_open_escalations_have_one_open_step_and_closed_ones_none(generated):
    states = set(Escalation.objects.values_list("state", flat=True))
    assert states & set(CLOSED_STATES)
    for escalation in Escalation.objects.prefetch_related("steps"):
        open_steps = [s for s in escalation.steps.all() if s.closed_at is None]
        if escalation.state in OPEN_STATES:
            assert len(open_steps) == 1
            assert escalation.closed_at is None
        else:
            assert escalation.state in CLOSED_STATES
            assert open_steps == []
            assert escalation.closed_at is not None


def test_every_step_carries_its_escalations_authority(generated):
    assert Step.objects.exists()
    assert not Step.objects.exclude(authority=F("escalation__authority")).exists()
    history = Step.history.exclude(authority_id=F("escalation__authority_id"))
    assert not history.exists()


def test_history_rows_exist(generated):
    assert Escalation.history.count() == Escalation.objects.count()
    assert Step.history.count() == Step.objects.count()
    assert Child.history.count() == Child.objects.count()
    assert ChildProtectionPlan.history.count() == ChildProtectionPlan.objects.count()
    assert Conference.history.count() == Conference.objects.count()
    generated_staff = StaffMember.objects.filter(user__username__startswith="load.")
    assert StaffMember.history.filter(id__in=generated_staff.values("pk")).count() == (
        generated_staff.count()
    )
    record = Escalation.history.first()
    assert record.history_change_reason == "generate_load_data"
    assert {c.child_id for c in record.children.all()} == set(
        record.instance.children.values_list("pk", flat=True)
    )


def test_refuses_a_second_run_unless_asked_and_is_reproducible(generated):
    with pytest.raises(CommandError, match="already"):
        generate()
    generate("--force-extra")
    assert Child.objects.filter(reference__startswith="L2-").count() == 30
    assert _shape("load2.") == _shape("load.")


def test_refuses_without_policies(db):
    Policy.objects.all().delete()
    with pytest.raises(CommandError, match="load_policies"):
        generate()


def test_benchmark_reports_prints_its_table_and_leaves_no_trace(generated):
    out = StringIO()
    call_command("benchmark_reports", "--repeat", "1", stdout=out)
    table = out.getvalue()
    assert "| what" in table
    for row in ("dashboard(), current quarter", "tracker page", "CSV export", "sweep"):
        assert row in table
    assert Notification.objects.count() == 0
    assert AccessLog.objects.count() == 0


def test_nothing_is_dated_after_the_run(ladders):
    # A bigger set than the others use, so conferences held in the last days are among
    # the ones escalated: those used to be raised working days after today.
    generate("--children", "400", "--steps", "1000")
    now = timezone.now()
    for field in ("raised_at", "formal_started_at", "closed_at"):
        assert not Escalation.objects.filter(**{f"{field}__gt": now}).exists(), field
    for field in ("raised_at", "responded_at", "verdict_at", "closed_at"):
        assert not Step.objects.filter(**{f"{field}__gt": now}).exists(), field
    assert not Escalation.history.filter(history_date__gt=now).exists()
    assert not Step.history.filter(history_date__gt=now).exists()
    assert not Attachment.objects.filter(uploaded_at__gt=now).exists()
    assert not StepAmendment.objects.filter(made_at__gt=now).exists()


def test_some_replies_come_with_files_and_some_deadlines_were_extended(ladders):
    generate("--children", "400", "--steps", "1000")
    steps = Step.objects.count()

    attachments = Attachment.objects.select_related("step")
    assert 0.02 * steps < attachments.count() < 0.2 * steps
    for attachment in attachments:
        step = attachment.step
        assert step.responded_at is not None
        assert (attachment.uploaded_by_id, attachment.uploaded_at) == (
            step.responded_by_id,
            step.responded_at,
        )
        assert attachment.original_name in attachment.file.name
    extensions = StepAmendment.objects.select_related("step__escalation")
    assert 0 < extensions.count() < 0.1 * steps
    for extension in extensions:
        step = extension.step
        assert extension.kind == AmendmentKind.EXTENSION
        assert extension.made_by_id == step.escalation.raised_by_id
        assert extension.new_due_on == step.due_on > extension.old_due_on
        assert step.raised_at < extension.made_at < (step.responded_at or step.closed_at or now())
    assert Attachment.history.count() == attachments.count()
    assert StepAmendment.history.count() == extensions.count()


def _written(prefix: str, reference: str) -> dict[str, object]:
    """Counts per table and a few fields of one run, without ids: to compare two runs."""
    children = Child.objects.filter(reference__startswith=reference)
    escalations = Escalation.objects.filter(raised_by__user__username__startswith=prefix)
    steps = Step.objects.filter(escalation__in=escalations)
    staff = StaffMember.objects.filter(user__username__startswith=prefix)
    tables = {
        "staff": staff,
        "children": children,
        "plans": ChildProtectionPlan.objects.filter(child__in=children),
        "conferences": Conference.objects.filter(child__in=children),
        "escalations": escalations,
        "steps": steps,
        "attachments": Attachment.objects.filter(step__in=steps),
        "extensions": StepAmendment.objects.filter(step__in=steps),
    }
    written: dict[str, object] = {}
    for name, rows in tables.items():
        history = rows.model.history.filter(id__in=rows.values("pk"))
        written[name] = rows.count()
        written[f"{name} history"] = sorted(
            history.values_list("history_date", "history_type", "history_change_reason")
        )
    written["escalation children"] = Escalation.children.through.objects.filter(
        escalation__in=escalations
    ).count()
    written["escalation categories"] = sorted(
        escalations.values_list("raised_at", "categories__name")
    )
    written["children fields"] = sorted(
        children.values_list("first_name", "last_name", "date_of_birth", "social_worker__job_title")
    )
    written["escalation fields"] = sorted(
        escalations.values_list(
            "raised_at", "state", "summary", "formal_cap_due_on", "closed_at", "outcome"
        )
    )
    written["steps"] = sorted(
        steps.values_list(
            "escalation__raised_at", "sequence", "due_on", "responded_at", "response", "verdict"
        )
    )
    snapshot = Escalation.history.filter(id__in=escalations.values("pk"))
    written["history children"] = sorted(
        snapshot.values_list("raised_at", "historicalescalation_children__child__first_name")
    )
    return written


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's; SQLite always bulk-inserts"
)
def test_copy_writes_what_the_bulk_path_writes(generated):
    generate("--force-extra", "--no-copy")
    copied, bulk = _written("load.", "L1-"), _written("load2.", "L2-")
    assert copied["steps"]
    assert copied == bulk
