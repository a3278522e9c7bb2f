"""The retention rule and `manage.py apply_retention` (records/retention.py, services.py)."""

from __future__ import annotations

import datetime
import logging
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from children.models import AccessLog
from escalations import services
from escalations.models import AmendmentKind, Attachment, Escalation, Step, StepAmendment
from notifications.models import Notification
from policies.models import LocalAuthority, RetentionAction
from records.models import RetentionRecord
from records.retention import add_years, retention_ends_on
from records.services import retention_apply
from tests.fixtures import first_category
from tests.records.conftest import ATTACHMENT_NAME, OUTCOME, RESPONSE, SUMMARY, born

FIRST, LAST = "Perpetua", "Ravenscroft"


@pytest.fixture
def rutland(ladders) -> LocalAuthority:
    authority = ladders["rutland"].authority
    authority.retention_years_after_adulthood = 6
    authority.retention_action = RetentionAction.ANONYMISE
    authority.save()
    return authority


def apply(authority: LocalAuthority, **kwargs) -> list:
    return retention_apply(
        authority=authority, today=datetime.date.today(), now=timezone.now(), **kwargs
    )


def history_text(escalation_id: int, step_ids: list[int]) -> str:
    rows = list(Escalation.history.filter(id=escalation_id).values()) + list(
        Step.history.filter(id__in=step_ids).values()
    )
    return repr(rows)


def test_an_expired_escalation_is_anonymised_with_its_history_files_and_outbox(
    rutland, closed_case, child_of, django_capture_on_commit_callbacks
):
    child = child_of("rutland", first_name=FIRST, last_name=LAST, date_of_birth=born(25))
    case = closed_case([child])
    path = Path(case.attachment.file.path)
    step_ids = list(case.escalation.steps.values_list("pk", flat=True))
    assert path.exists() and Notification.objects.filter(escalation=case.escalation).exists()
    assert SUMMARY in history_text(case.escalation.pk, step_ids)

    with django_capture_on_commit_callbacks(execute=True):
        [outcome] = apply(rutland)

    escalation = Escalation.objects.get(pk=case.escalation.pk)
    assert SUMMARY not in escalation.summary and OUTCOME not in escalation.outcome
    assert list(escalation.children.all()) == []
    assert [s.response for s in escalation.steps.all()] == [""]
    assert escalation.steps.get().stage_name  # the skeleton the reports count stays
    assert not Attachment.objects.filter(step__escalation=escalation).exists()
    assert not path.exists()
    assert not Notification.objects.filter(escalation=escalation).exists()
    assert not AccessLog.objects.filter(escalation=escalation).exists()
    leftover = history_text(escalation.pk, step_ids)
    for secret in (SUMMARY, RESPONSE, OUTCOME):
        assert secret not in leftover
    assert not Attachment.history.filter(original_name=ATTACHMENT_NAME).exists()
    assert not Escalation.children.through.objects.filter(escalation=escalation).exists()
    record = RetentionRecord.objects.get(escalation_id=escalation.pk)
    assert (record.reference, record.action) == (escalation.reference, "anonymise")
    assert record.counts["attachments"] == 1 and outcome.counts == record.counts


def test_an_authority_that_chose_deletion_has_it_deleted(
    rutland, closed_case, child_of, django_capture_on_commit_callbacks
):
    rutland.retention_action = RetentionAction.DELETE
    rutland.save()
    case = closed_case([child_of("rutland", date_of_birth=born(30))])
    path = Path(case.attachment.file.path)
    pk = case.escalation.pk
    step_ids = list(case.escalation.steps.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        apply(rutland)

    assert not Escalation.objects.filter(pk=pk).exists()
    assert not Step.objects.filter(pk__in=step_ids).exists()
    assert not path.exists()
    assert history_text(pk, step_ids) == "[]"
    assert RetentionRecord.objects.get(escalation_id=pk).action == "delete"


AMENDMENT_REASON = "The manager at Larkspur Close is on leave."


def amend(case) -> StepAmendment:
    """An extension recorded on the case's step (as services.step_extend records one)."""
    step = case.escalation.steps.get()
    return StepAmendment.objects.create(
        step=step,
        kind=AmendmentKind.EXTENSION,
        reason=AMENDMENT_REASON,
        made_by=case.chair,
        made_at=timezone.now(),
        old_due_on=step.due_on,
        new_due_on=step.due_on,
    )


def test_anonymising_removes_the_reasons_given_for_extensions(rutland, closed_case, child_of):
    case = closed_case([child_of("rutland", date_of_birth=born(25))])
    amendment = amend(case)
    apply(rutland)
    amendment.refresh_from_db()
    assert amendment.reason == ""
    assert not StepAmendment.history.filter(reason=AMENDMENT_REASON).exists()


def test_deletion_takes_the_extensions_with_it(rutland, closed_case, child_of):
    rutland.retention_action = RetentionAction.DELETE
    rutland.save()
    case = closed_case([child_of("rutland", date_of_birth=born(30))])
    amendment = amend(case)
    apply(rutland)
    assert not Escalation.objects.filter(pk=case.escalation.pk).exists()
    assert not StepAmendment.objects.filter(pk=amendment.pk).exists()
    assert not StepAmendment.history.filter(id=amendment.pk).exists()


def test_kept_while_the_youngest_child_is_within_the_period(rutland, closed_case, child_of):
    # The elder is 25 (expired at 24); the younger sibling is 20 (until 24).
    elder = child_of("rutland", date_of_birth=born(25))
    younger = child_of("rutland", date_of_birth=born(20))
    case = closed_case([elder, younger])

    assert apply(rutland) == []
    assert Escalation.objects.get(pk=case.escalation.pk).summary == SUMMARY


def test_an_open_escalation_is_never_touched(rutland, ladders, staff_of, child_of):
    escalation = services.escalation_raise(
        actor=staff_of("rutland", "cp-chair"),
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=[child_of("rutland", date_of_birth=born(40))],
        summary=SUMMARY,
        responder=staff_of("rutland", "service-manager"),
    )

    assert apply(rutland) == []
    assert Escalation.objects.get(pk=escalation.pk).summary == SUMMARY


def test_without_a_rule_nothing_expires(rutland, closed_case, child_of):
    rutland.retention_years_after_adulthood = None
    rutland.save()
    case = closed_case([child_of("rutland", date_of_birth=born(60))])

    assert apply(rutland) == []
    assert Escalation.objects.get(pk=case.escalation.pk).summary == SUMMARY


def test_an_unknown_date_of_birth_keeps_it_and_says_so(rutland, closed_case, child_of):
    closed_case(
        [child_of("rutland", date_of_birth=born(40)), child_of("rutland", date_of_birth=None)]
    )
    out = StringIO()

    call_command("apply_retention", "--authority", "rutland", stdout=out)

    assert Escalation.objects.get().summary == SUMMARY
    assert "1 closed escalation(s) kept: a child's date of birth is not recorded" in out.getvalue()


def test_a_dry_run_says_what_would_be_done_and_changes_nothing(rutland, closed_case, child_of):
    case = closed_case([child_of("rutland", date_of_birth=born(25))])
    out = StringIO()

    call_command("apply_retention", "--dry-run", stdout=out)

    assert f"rutland: {case.escalation.reference} would be anonymised: 1 steps, 1 attachments" in (
        out.getvalue()
    )
    assert Escalation.objects.get(pk=case.escalation.pk).summary == SUMMARY
    assert Attachment.objects.count() == 1 and not RetentionRecord.objects.exists()


def test_the_command_logs_references_and_counts_never_names(rutland, closed_case, child_of, caplog):
    child = child_of("rutland", first_name=FIRST, last_name=LAST, date_of_birth=born(25))
    case = closed_case([child])
    out = StringIO()

    with caplog.at_level(logging.INFO, logger="records.retention"):
        call_command("apply_retention", stdout=out)

    [record] = [r for r in caplog.records if r.name == "records.retention"]
    assert (record.reference, record.action, record.attachments) == (
        case.escalation.reference,
        "anonymise",
        1,
    )
    logged = repr(record.__dict__) + out.getvalue()
    for secret in (
        FIRST,
        LAST,
        child.reference,
        SUMMARY,
        ATTACHMENT_NAME,
        case.chair.user.last_name,
    ):
        assert secret not in logged


def test_a_second_run_finds_nothing_more_to_do(rutland, closed_case, child_of):
    closed_case([child_of("rutland", date_of_birth=born(25))])
    apply(rutland)

    assert apply(rutland) == []
    assert RetentionRecord.objects.count() == 1


def test_the_period_ends_on_the_youngest_childs_birthday_n_years_after_18():
    assert retention_ends_on([datetime.date(2000, 5, 1), datetime.date(2003, 7, 9)], 6) == (
        datetime.date(2027, 7, 9)
    )
    assert add_years(datetime.date(2008, 2, 29), 18) == datetime.date(2026, 3, 1)
    assert retention_ends_on([datetime.date(2000, 5, 1), None], 6) is None
    assert retention_ends_on([], 6) is None


def test_an_authority_administrator_sets_the_rule_in_admin(rutland, staff_of):
    admin = staff_of("rutland", "qa-manager")
    admin.user.is_staff = True
    admin.user.save()
    admin.user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_localauthority", "change_localauthority"])
    )
    client = Client()
    client.force_login(admin.user)

    page = client.get(f"/admin/policies/localauthority/{rutland.pk}/change/")

    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="retention_years_after_adulthood"' in text
    assert 'name="retention_action"' in text
