"""Writes for records: applying the retention rule, and the logged subject-access export."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Model, QuerySet

from children.models import AccessLog, Child
from children.services import access_log_record
from escalations.models import Attachment, Escalation, PartnerAccess, Step, StepAmendment
from notifications.models import Notification
from policies.models import LocalAuthority, RetentionAction
from records.models import RetentionRecord
from records.retention import retention_plan
from records.selectors import subject_access_zip

logger = logging.getLogger("records.retention")

REMOVED = "Removed under the authority's retention rule."
# Free text a person wrote: anonymising blanks it (it may name anyone).
STEP_TEXT = (
    "response",
    "statement_issue",
    "statement_actions",
    "statement_wanted",
    "meeting_attendees",
    "skip_reason",
    "copies_unfilled",
)


@dataclass(frozen=True)
class RetentionOutcome:
    reference: str
    action: str
    counts: dict[str, int]
    dry_run: bool

    def line(self) -> str:
        verbs: dict[str, str] = {
            RetentionAction.ANONYMISE: "anonymised",
            RetentionAction.DELETE: "deleted",
        }
        verb = verbs[self.action]
        done = f"would be {verb}" if self.dry_run else verb
        parts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in self.counts.items())
        return f"{self.reference} {done}: {parts}"


def _history_of(model: type[Model], ids: list[int]) -> QuerySet[Any]:
    # simple-history adds `history` (and builds its model) at run time: untyped, hence Any.
    return model.history.model.objects.filter(id__in=ids)  # type: ignore[attr-defined]


def _counts(escalation: Escalation) -> dict[str, int]:
    step_ids = list(escalation.steps.values_list("pk", flat=True))
    attachment_ids = list(
        Attachment.objects.filter(step_id__in=step_ids).values_list("pk", flat=True)
    )
    return {
        "steps": len(step_ids),
        "attachments": len(attachment_ids),
        "notifications": Notification.objects.filter(escalation=escalation).count(),
        "access_log_rows": AccessLog.objects.filter(escalation=escalation).count(),
        "history_rows": _history_of(Escalation, [escalation.pk]).count()
        + _history_of(Step, step_ids).count()
        + _history_of(Attachment, attachment_ids).count(),
    }


def _remove_attachments_and_outbox(escalation: Escalation) -> None:
    """What neither action keeps: files, the outbox, and the reads of this escalation."""
    Notification.objects.filter(escalation=escalation).delete()
    # Partners' ways in (links, codes, sessions): the step is closed, so they open nothing.
    PartnerAccess.objects.filter(step__escalation=escalation).delete()
    # The log of who read it goes with it: its rows name the children read.
    AccessLog.objects.filter(escalation=escalation).delete()
    for attachment in Attachment.objects.filter(step__escalation=escalation):
        name = attachment.file.name
        attachment.delete()
        # Only once the rows are gone for good: a rollback must not lose a kept file.
        if name:
            transaction.on_commit(partial(default_storage.delete, name))


def _purge_history(escalation_id: int, step_ids: list[int], attachment_ids: list[int]) -> None:
    # Earlier versions hold the text and the children removed; deleting the history rows
    # takes the children's many-to-many history with them (cascade).
    _history_of(Escalation, [escalation_id]).delete()
    _history_of(Step, step_ids).delete()
    _history_of(Attachment, attachment_ids).delete()
    # Extensions and changes of addressee: their reasons are words someone wrote.
    StepAmendment.history.filter(step_id__in=step_ids).delete()


def _anonymise(escalation: Escalation) -> None:
    """Keep the skeleton the reports count (stages, dates, verdicts, themes); remove the
    children, the conference and every word anyone wrote."""
    for step in escalation.steps.all():
        for name in STEP_TEXT:
            setattr(step, name, "")
        step.save()
        # The dates of an extension stay with the step's; the reason given goes.
        for amendment in step.amendments.all():
            amendment.reason = ""
            amendment.save()
    escalation.summary = REMOVED
    escalation.desired_outcome = ""
    escalation.outcome = ""
    escalation.outcome_for_child = ""
    escalation.conference = None
    escalation.save()
    escalation.children.clear()


def _delete(escalation: Escalation) -> None:
    # Before the steps they are kept on (protected): one at a time, for their history.
    for amendment in StepAmendment.objects.filter(step__escalation=escalation):
        amendment.delete()
    escalation.steps.all().delete()
    escalation.delete()


def retention_apply(
    *, authority: LocalAuthority, today: date, now: datetime, dry_run: bool = False
) -> list[RetentionOutcome]:
    """Anonymise or delete (the authority's choice) every closed escalation past its
    retention period, each in its own transaction, and log what was done: references and
    counts, never a name."""
    plan = retention_plan(authority=authority, today=today)
    action = authority.retention_action
    outcomes = []
    for escalation in plan.expired:
        reference = escalation.reference
        with transaction.atomic():
            counts = _counts(escalation)
            if not dry_run:
                step_ids = list(escalation.steps.values_list("pk", flat=True))
                attachment_ids = list(
                    Attachment.objects.filter(step_id__in=step_ids).values_list("pk", flat=True)
                )
                escalation_id = escalation.pk
                _remove_attachments_and_outbox(escalation)
                if action == RetentionAction.DELETE:
                    _delete(escalation)
                else:
                    _anonymise(escalation)
                _purge_history(escalation_id, step_ids, attachment_ids)
                RetentionRecord.objects.create(
                    authority=authority,
                    escalation_id=escalation_id,
                    reference=reference,
                    action=action,
                    done_at=now,
                    counts=counts,
                )
        outcome = RetentionOutcome(
            reference=reference, action=action, counts=counts, dry_run=dry_run
        )
        logger.info(
            "retention",
            extra={
                "authority": authority.slug,
                "reference": reference,
                "action": action,
                "dry_run": dry_run,
                **counts,
            },
        )
        outcomes.append(outcome)
    if plan.kept_undated:
        logger.warning(
            "retention: kept, a child's date of birth is unknown",
            extra={
                "authority": authority.slug,
                "references": [e.reference for e in plan.kept_undated],
            },
        )
    return outcomes


def subject_access_export(*, user: User, child: Child) -> bytes:
    """Everything held about one child, as a ZIP of CSV files; the export is a read of
    the child's record, so it goes in the access log like any other."""
    data = subject_access_zip(child=child)
    access_log_record(user=user, action="subject access export", children=[child])
    return data
