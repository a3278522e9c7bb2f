"""The outbox: one row per notification, created with the change that caused it.

A uniqueness rule on (step, kind, recipient, occurrence) means a retried or duplicated
job can never create the same notification twice. Its e-mail goes at least once, and
once unless a sender dies between sending and recording it — then again, with the same
Message-ID (services.deliver, relay.py). The same rows are the in-app list (read_at).
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q

from escalations.models import AmendmentKind, Escalation, Step, StepAmendment
from staff.models import Partner, StaffMember


class Kind(models.TextChoices):
    STEP_RAISED = "step_raised", "A step was raised for you to answer"
    STEP_COPIED = "step_copied", "You were copied on a step"
    RESPONSE_RECEIVED = "response_received", "A response was received"
    REMINDER = "reminder", "A response is due soon"
    OVERDUE = "overdue", "A response is overdue"
    CAP_BREACHED = "cap_breached", "The formal process passed its time limit"
    INFORMAL_DISPUTE = "informal_dispute", "An informal concern is now a dispute"
    ESCALATION_CLOSED = "escalation_closed", "An escalation you took part in has ended"
    CHASE = "chase", "A reminder from the chair: your response is awaited"
    PARTNER_CODE = "partner_code", "A one-time code to open a step (partner agency)"
    STEP_AMENDED = "step_amended", "A step's deadline or addressee was changed"
    ISSUE_DUE_SOON = "issue_due_soon", "The next stage is to be issued soon"
    ISSUE_OVERDUE = "issue_overdue", "The next stage is overdue to be issued"


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed after a day of retries"


class Notification(models.Model):
    kind = models.CharField(max_length=30, choices=Kind.choices)
    escalation = models.ForeignKey(
        Escalation, on_delete=models.PROTECT, related_name="notifications"
    )
    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="notifications")
    # Council staff, or a partner-agency contact (staff.Partner, no account: e-mail only,
    # to the directory's address). Exactly one.
    recipient = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    # The extension or change of addressee a `step_amended` row tells of (its wording
    # comes from it); its occurrence is the amendment's place among the step's.
    amendment = models.ForeignKey(
        StepAmendment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    occurrence = models.PositiveSmallIntegerField(
        default=0, help_text="Repeated alerts (e.g. overdue every few days) count up from 0."
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The outbox's schedule (notifications/relay.py): the relay takes a pending row once
    # this has passed. Set to created_at by create_notifications, then pushed back after
    # each failed send.
    next_attempt_at = models.DateTimeField()
    # Failed sends are retried for a day from here: created_at, or the last manual resend.
    retry_window_from = models.DateTimeField()
    # A lease, not a lock: whoever holds an unexpired claim (the relay handing the row
    # over, or a sender) is the only one who may send it. A sender that dies leaves a
    # claim that simply expires, so the row goes again (with the same Message-ID).
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["step", "kind", "recipient", "occurrence"], name="notification_sent_once"
            ),
            models.UniqueConstraint(
                fields=["step", "kind", "partner", "occurrence"],
                condition=models.Q(partner__isnull=False),
                name="partner_notification_sent_once",
            ),
            models.CheckConstraint(
                condition=(models.Q(recipient__isnull=False) & models.Q(partner__isnull=True))
                | (models.Q(recipient__isnull=True) & models.Q(partner__isnull=False)),
                name="notification_to_staff_or_partner",
            ),
        ]
        indexes = [
            models.Index(fields=["email_status", "created_at"]),
            models.Index(fields=["email_status", "next_attempt_at"]),
            # "Was told" is "may see": the escalations a person was told of, from the
            # index alone (escalations.selectors.visible_escalations).
            models.Index(fields=["recipient", "escalation"], name="notification_told_of"),
            # The header's unread count on every page (selectors.unread), from the index
            # alone: a chair's hundreds of read notifications are not in it.
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.escalation.reference})"

    @property
    def headline(self) -> str:
        """What happened, in words, for the in-app list (the e-mail says the same, made
        personal and with the next stage's name: notifications.services)."""
        amendment = self.amendment
        if self.kind == Kind.STEP_AMENDED and amendment is not None:
            if amendment.kind == AmendmentKind.EXTENSION and amendment.new_due_on is not None:
                return f"Deadline extended to {_day(amendment.new_due_on)}"
            return (
                f"Now addressed to {amendment.new_addressee}, instead of {amendment.old_addressee}"
            )
        due = self.step.next_issue_due_on
        if self.kind == Kind.ISSUE_DUE_SOON and due is not None:
            return f"Issue the next stage by {_day(due)}"
        if self.kind == Kind.ISSUE_OVERDUE and due is not None:
            return f"The next stage was to be issued by {_day(due)}"
        return self.get_kind_display()


def _day(day: date) -> str:
    """Mon 16 Nov 2026."""
    return f"{day:%a} {day.day} {day:%b %Y}"
