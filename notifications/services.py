"""Creating notifications (in the caller's transaction) and delivering them by e-mail.

Only IDs leave the database for the task queue; e-mails carry a case reference, the
children's initials and a link — no names, no details of the concern.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from escalations.models import Step
from escalations.recipients import (
    StepRecipients,
    closing_recipients,
    recipients_of_step,
    response_recipients,
)
from notifications.links import step_link_url
from notifications.models import EmailStatus, Kind, Notification
from staff.models import StaffMember

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
# Kinds about a response still to come: only these say when it is due.
DUE_KINDS = (Kind.STEP_RAISED, Kind.STEP_COPIED, Kind.REMINDER, Kind.OVERDUE)


def create_notifications(
    *, kind: str, step: Step, recipients: Iterable[StaffMember], now: datetime, occurrence: int = 0
) -> list[Notification]:
    created = []
    seen: set[int] = set()
    for person in recipients:
        if person.pk in seen or not person.is_active:
            continue
        seen.add(person.pk)
        try:
            # A savepoint, so a duplicate (a re-run sweep) leaves the caller's transaction intact.
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        kind=kind,
                        escalation=step.escalation,
                        step=step,
                        recipient=person,
                        occurrence=occurrence,
                        created_at=now,
                    )
                )
        except IntegrityError:
            continue
    if created:
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: dispatch(ids))
    return created


def notify_step_raised(*, step: Step, now: datetime) -> StepRecipients:
    """To the addressee (with the link) and the people the stage copies on this case.

    Returns the recipients, so the caller can tell the chair whom the policy wanted but
    nobody holds.
    """
    recipients = recipients_of_step(step)
    create_notifications(kind=Kind.STEP_RAISED, step=step, recipients=[step.responder], now=now)
    create_notifications(
        kind=Kind.STEP_COPIED, step=step, recipients=[c.person for c in recipients.copies], now=now
    )
    return recipients


def notify_response_received(*, step: Step, now: datetime) -> None:
    create_notifications(
        kind=Kind.RESPONSE_RECEIVED, step=step, recipients=response_recipients(step), now=now
    )


def notify_escalation_closed(*, step: Step, actor: StaffMember, now: datetime) -> None:
    """Resolved, withdrawn or decided: everyone who took part hears how it ended."""
    create_notifications(
        kind=Kind.ESCALATION_CLOSED,
        step=step,
        recipients=closing_recipients(step.escalation, actor=actor),
        now=now,
    )


# --- delivery --------------------------------------------------------------------------


def dispatch(ids: list[int]) -> None:
    """After commit: hand the IDs to Celery, or send now when there is no broker.

    Never raises: if the broker is down the rows stay pending and the sweep sends them.
    """
    if settings.REDIS_URL:
        from notifications.tasks import send_notification

        try:
            with send_notification.app.producer_or_acquire() as producer:
                # One try at connecting: left to itself kombu retries the connection for
                # seconds (retry=False only covers the publish), and this runs in the
                # request that caused the notification.
                producer.connection.ensure_connection(max_retries=0)
                for pk in ids:
                    send_notification.apply_async(args=[pk], retry=False, producer=producer)
        except Exception:  # broker unreachable: the rows wait in the outbox
            logger.warning("Broker unavailable; notification(s) %s left for the sweep", ids)
        return
    for pk in ids:
        try:
            deliver(notification_id=pk, now=timezone.now())
        except Exception as exc:
            # The type only: mail servers' messages can quote addresses.
            logger.warning(
                "Notification %s could not be sent now (%s); the sweep will retry",
                pk,
                type(exc).__name__,
            )


def _message(notification: Notification) -> EmailMultiAlternatives:
    step = notification.step
    escalation = notification.escalation
    context = {
        "notification": notification,
        "reference": escalation.reference,
        "initials": ", ".join(c.initials for c in escalation.children.all()),
        "stage_name": step.stage_name,
        "due_on": step.effective_due_on if notification.kind in DUE_KINDS else None,
        "link": step_link_url(step.pk)
        if notification.kind in (Kind.STEP_RAISED, Kind.REMINDER, Kind.OVERDUE)
        and notification.recipient_id == step.responder_id
        else f"{settings.SITE_BASE_URL}/escalations/{escalation.pk}/",
        "recipient_name": notification.recipient.display_name,
    }
    subject = render_to_string("notifications/email/subject.txt", context).strip()
    text = render_to_string("notifications/email/body.txt", context)
    html = render_to_string("notifications/email/body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[notification.recipient.user.email],
        from_email=settings.DEFAULT_FROM_EMAIL,
    )
    message.attach_alternative(html, "text/html")
    return message


def deliver(*, notification_id: int, now: datetime) -> bool:
    """Send one notification's e-mail unless it has been sent. True when sent now.

    The row is locked while sending, so two workers never send the same one.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("step", "escalation", "recipient__user")
            .filter(pk=notification_id, email_status=EmailStatus.PENDING)
            .first()
        )
        if notification is None:
            return False
        if not notification.recipient.user.email:
            notification.email_status = EmailStatus.FAILED
            notification.last_error = "The recipient has no e-mail address."
            notification.save(update_fields=["email_status", "last_error"])
            return False
        notification.attempts += 1
        try:
            _message(notification).send()
        except Exception as exc:
            # The error's type only: messages from mail servers can quote addresses.
            notification.last_error = f"{type(exc).__name__} on attempt {notification.attempts}"
            if notification.attempts >= MAX_ATTEMPTS:
                notification.email_status = EmailStatus.FAILED
            notification.save(update_fields=["attempts", "last_error", "email_status"])
            failure = exc
        else:
            notification.email_status = EmailStatus.SENT
            notification.sent_at = now
            notification.save(update_fields=["attempts", "email_status", "sent_at"])
            return True
    # Raised once the attempt is committed: raising inside the block would roll it back.
    raise failure


def notification_mark_read(*, notification: Notification, now: datetime) -> None:
    if notification.read_at is None:
        notification.read_at = now
        notification.save(update_fields=["read_at"])
