"""Creating notifications (in the caller's transaction) and delivering them by e-mail.

The outbox: a web request only writes rows. `notifications/relay.py` moves them — to the
Celery workers when there is a broker, or through `deliver()` itself on the embedded
default — so no request ever waits on the broker or on a mail server.

Only IDs (and an opaque claim token) leave the database for the task queue; e-mails
carry a case reference, the children's initials and a link — no names, no details of the
concern.
"""

from __future__ import annotations

import json
import logging
import smtplib
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Field, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.module_loading import import_string

from escalations.models import (
    AmendmentKind,
    Escalation,
    PartnerAccess,
    PartnerCode,
    Step,
    StepAmendment,
)
from notifications.links import partner_code, partner_link_url, step_link_url
from notifications.models import EmailStatus, Kind, Notification
from notifications.recipients import (
    StepRecipients,
    closing_recipients,
    partners_who_took_part,
    recipients_of_step,
    response_recipients,
)
from policies.models import Stage
from staff.models import Partner, StaffMember

logger = logging.getLogger(__name__)

# Failed sends are retried 15 s, 30 s, 1 min … doubling to at most an hour apart, for a
# day (from creation or the last manual resend) before a row is `failed`: a mail server
# down for a weekend afternoon loses nothing, and a bad address stops being tried.
FIRST_RETRY = timedelta(seconds=15)
LONGEST_RETRY = timedelta(hours=1)
RETRY_WINDOW = timedelta(hours=24)
# A sender's claim on a row: longer than the Celery task's hard time limit (40 s, in
# tasks.py) and the SMTP timeout, so it outlives any send that is still running; short
# enough that a row whose sender died (killed, or its database connection cut) goes
# again within a minute.
SEND_LEASE = timedelta(seconds=45)
# Woken on commit of new rows (PostgreSQL only; the relay also polls).
OUTBOX_CHANNEL = "notifications_outbox"
# Kinds about a response still to come: only these say when it is due.
DUE_KINDS = (
    Kind.STEP_RAISED,
    Kind.STEP_COPIED,
    Kind.REMINDER,
    Kind.OVERDUE,
    Kind.CHASE,
    Kind.STEP_AMENDED,
)


def create_notifications(
    *,
    kind: str,
    step: Step,
    recipients: Iterable[StaffMember | Partner],
    now: datetime,
    occurrence: int = 0,
    amendment: StepAmendment | None = None,
) -> list[Notification]:
    """One outbox row per recipient: council staff, or partner-agency contacts (e-mailed at
    the partner directory's address, with their own link). `amendment`: the extension or
    change of addressee a `step_amended` row tells of."""
    created = []
    seen: set[tuple[bool, int]] = set()
    for person in recipients:
        is_partner = isinstance(person, Partner)
        if (is_partner, person.pk) in seen or not person.is_active:
            continue
        seen.add((is_partner, person.pk))
        try:
            # A savepoint, so a duplicate (a re-run sweep) leaves the caller's transaction intact.
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        kind=kind,
                        escalation=step.escalation,
                        step=step,
                        recipient=person if isinstance(person, StaffMember) else None,
                        partner=person if isinstance(person, Partner) else None,
                        occurrence=occurrence,
                        amendment=amendment,
                        created_at=now,
                        next_attempt_at=now,
                        retry_window_from=now,
                    )
                )
        except IntegrityError:
            continue
    if created:
        # Nothing is sent or published here: the rows wait in the outbox and the relay
        # moves them, so the request never waits on the broker or a mail server.
        wake_relay()
    return created


class Alert(NamedTuple):
    """One notification the sweep wants: the outbox's unique key and the escalation.

    To council staff (`recipient_id`) or to a partner-agency contact (`partner_id`, with
    `recipient_id` None): exactly one of the two, as the outbox's check constraint says.
    """

    kind: str
    escalation_id: int
    step_id: int
    recipient_id: int | None
    occurrence: int = 0
    partner_id: int | None = None


_ALERT_COLUMNS = Alert._fields


class AlertQuery(NamedTuple):
    """Alerts as one SQL `SELECT` (and its parameters) whose columns are named as Alert's
    fields: the sweep finds and inserts them in the database, never reading them out."""

    sql: str
    params: Sequence[Any]


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None  # every concrete field has one
    return field.column


def create_notifications_in_bulk(
    *, alerts: Iterable[Alert] | AlertQuery, now: datetime
) -> Counter[str]:
    """`create_notifications` for any number of rows in one statement; how many of each
    kind were new.

    `INSERT … SELECT` over the rows (passed as one JSON value, or an AlertQuery the
    database runs itself), skipping inactive recipients, staff or partner (as
    `create_notifications` does), the rows already in the outbox (read from its unique
    key's index, so a re-run writes and locks nothing) and, by `ON CONFLICT DO NOTHING`
    against the unique keys (the staff one and the partner one), every row a concurrent
    writer (another sweep) adds meanwhile.
    `RETURNING` counts only the rows this statement wrote, so two sweeps at once report
    each alert once between them.
    """
    qn = connection.ops.quote_name
    if isinstance(alerts, AlertQuery):
        source, source_params = f"({alerts.sql}) AS r", list(alerts.params)
        picked = [f"r.{qn(c)}" for c in _ALERT_COLUMNS]
    else:
        rows = list(dict.fromkeys(alerts))
        if not rows:
            return Counter()
        source_params = [json.dumps([row._asdict() for row in rows])]
        if connection.vendor == "postgresql":
            source = (
                "jsonb_to_recordset(%s::jsonb) AS r(kind text, escalation_id bigint,"
                " step_id bigint, recipient_id bigint, occurrence integer, partner_id bigint)"
            )
            picked = [f"r.{c}" for c in _ALERT_COLUMNS]
        else:
            source = "json_each(%s) AS j"
            picked = [f"json_extract(j.value, '$.{c}')" for c in _ALERT_COLUMNS]
    # Every other column as a new row has it (created_at etc. set, the rest defaults);
    # read from the model so a field added later is not forgotten here.
    template = Notification(created_at=now, next_attempt_at=now, retry_window_from=now)
    fixed = [
        f
        for f in Notification._meta.concrete_fields
        if not f.primary_key
        and f.attname not in _ALERT_COLUMNS
        and getattr(template, f.attname) is not None
    ]
    if connection.vendor == "postgresql":
        constants = [f"CAST(%s AS {f.db_type(connection)})" for f in fixed]
        same = "IS NOT DISTINCT FROM"
    else:
        constants = ["%s" for _ in fixed]
        same = "IS"
    by_attname = {f.attname: f for f in Notification._meta.concrete_fields}
    columns = [_column(by_attname[c]) for c in _ALERT_COLUMNS] + [_column(f) for f in fixed]
    staff = {f.attname: _column(f) for f in StaffMember._meta.concrete_fields}
    partners = {f.attname: _column(f) for f in Partner._meta.concrete_fields}
    pick = dict(zip(_ALERT_COLUMNS, picked, strict=True))
    table = qn(Notification._meta.db_table)
    # Already in the outbox: the unique key's columns, led by its index's (step, kind).
    sent = " AND ".join(
        f"n.{qn(_column(by_attname[c]))} {'=' if c in ('step_id', 'kind', 'occurrence') else same} {pick[c]}"
        for c in ("step_id", "kind", "recipient_id", "partner_id", "occurrence")
    )
    # Only names from the models are formatted in; every value is a parameter. A row is
    # for staff or for a partner: the one it names must be active (the other join is
    # empty, so COALESCE reads the one that is there; a row naming nobody is dropped).
    sql = (
        f"INSERT INTO {table} ({', '.join(map(qn, columns))}) "  # noqa: S608
        f"SELECT {', '.join([*picked, *constants])} FROM {source} "
        f"LEFT JOIN {qn(StaffMember._meta.db_table)} s ON s.{qn(staff['id'])} = {pick['recipient_id']} "
        f"LEFT JOIN {qn(Partner._meta.db_table)} p ON p.{qn(partners['id'])} = {pick['partner_id']} "
        f"WHERE COALESCE(s.{qn(staff['is_active'])}, p.{qn(partners['is_active'])}) "
        f"AND NOT EXISTS (SELECT 1 FROM {table} n WHERE {sent}) "
        f"ON CONFLICT DO NOTHING RETURNING {qn(_column(by_attname['kind']))}"
    )
    params = [
        *(f.get_db_prep_save(getattr(template, f.attname), connection) for f in fixed),
        *source_params,
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        created = Counter(kind for (kind,) in cursor.fetchall())
        if created:
            wake_relay()
    return created


def step_addressees(step: Step) -> list[StaffMember | Partner]:
    """Everyone the step is addressed to: its responder or partner, and on a stage
    addressed to several people each Addressee (staff or partner)."""
    people: list[StaffMember | Partner] = [
        p for p in (step.responder, step.partner) if p is not None
    ]
    for addressee in step.addressees.select_related("staff__user", "partner"):
        person = addressee.staff or addressee.partner
        if person is not None and person not in people:
            people.append(person)
    return people


def notify_step_raised(*, step: Step, now: datetime) -> StepRecipients:
    """To the addressees (with the link: a partner's own) and the people the stage copies
    on this case.

    Returns the recipients, so the caller can tell the chair whom the policy wanted but
    nobody holds.
    """
    recipients = recipients_of_step(step)
    create_notifications(
        kind=Kind.STEP_RAISED, step=step, recipients=step_addressees(step), now=now
    )
    create_notifications(
        kind=Kind.STEP_COPIED, step=step, recipients=[c.person for c in recipients.copies], now=now
    )
    return recipients


def notify_partner_code(*, code: PartnerCode, now: datetime) -> None:
    """The one-time code a partner asked for, to the directory's address for them."""
    access = code.access
    create_notifications(
        kind=Kind.PARTNER_CODE,
        step=access.step,
        recipients=[access.partner],
        now=now,
        occurrence=code.sequence,
    )


def notify_response_received(*, step: Step, now: datetime) -> None:
    create_notifications(
        kind=Kind.RESPONSE_RECEIVED, step=step, recipients=response_recipients(step), now=now
    )


def notify_step_amended(
    *,
    step: Step,
    amendment: StepAmendment,
    addressed: Iterable[StaffMember | Partner],
    told: Iterable[StaffMember | Partner],
    actor: StaffMember,
    now: datetime,
) -> None:
    """An extension or a change of addressee on an open step (escalations.StepAmendment).

    One `step_amended` row each, never to the person who made the change: those the step
    now waits on (staff or partners; their e-mail carries their link and the new date)
    and those told (the chair, whoever the step went to before). The row points at the
    amendment, whose words it shows, and takes the amendment's place among the step's
    amendments as its occurrence: a second amendment is a new row, the same one twice is
    not (the outbox's unique key).
    """
    ordinal = step.amendments.filter(pk__lt=amendment.pk).count()
    people = [
        p for p in [*addressed, *told] if not (isinstance(p, StaffMember) and p.pk == actor.pk)
    ]
    create_notifications(
        kind=Kind.STEP_AMENDED,
        step=step,
        recipients=people,
        now=now,
        occurrence=ordinal,
        amendment=amendment,
    )


def _day(day: date) -> str:
    """Mon 16 Nov 2026, as the pages write a date."""
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def _next_stage_name(step: Step) -> str:
    """The name of the stage after `step` in its policy, passing over referrals, as
    escalations.rules.next_stage finds it (which this layer may not import:
    docs/architecture.md §2); "the next stage" where the ladder has none."""
    following = (
        Stage.objects.filter(
            policy_id=step.escalation.policy_id, order__gt=step.stage_order, referral=False
        )
        .order_by("order")
        .values_list("name", flat=True)
        .first()
    )
    return following or "the next stage"


def _is_addressed(step: Step, person: StaffMember | Partner) -> bool:
    """Whether `step` asks `person` to respond now: its responder or partner, or one of
    the people a stage addressed to several people is addressed to."""
    if isinstance(person, Partner):
        return step.partner_id == person.pk or step.addressees.filter(partner=person).exists()
    return step.responder_id == person.pk or step.addressees.filter(staff=person).exists()


def _headline(notification: Notification, *, addressed: bool) -> str:
    """What the e-mail says happened (its subject and first line): the in-app list's
    words (Notification.headline), made personal, with the next stage's name. Never an
    amendment's reason: the e-mails hold no case details. `addressed`: the step asks the
    recipient to respond."""
    amendment = notification.amendment
    if notification.kind == Kind.STEP_AMENDED and amendment is not None:
        if amendment.kind == AmendmentKind.EXTENSION and amendment.new_due_on is not None:
            return f"The deadline has been extended to {_day(amendment.new_due_on)}"
        now_to = "you" if addressed else amendment.new_addressee
        return f"This step is now addressed to {now_to}, instead of {amendment.old_addressee}"
    due = notification.step.next_issue_due_on
    if notification.kind == Kind.ISSUE_DUE_SOON and due is not None:
        return f"Issue {_next_stage_name(notification.step)} by {_day(due)}"
    if notification.kind == Kind.ISSUE_OVERDUE and due is not None:
        return f"Overdue: {_next_stage_name(notification.step)} was to be issued by {_day(due)}"
    return notification.headline


def notify_escalation_closed(*, step: Step, actor: StaffMember, now: datetime) -> None:
    """Resolved, withdrawn or decided: everyone who took part hears how it ended, the
    partner-agency contacts asked at any step too (with no link: theirs has closed)."""
    escalation = step.escalation
    create_notifications(
        kind=Kind.ESCALATION_CLOSED,
        step=step,
        recipients=[
            *closing_recipients(escalation, actor=actor),
            *partners_who_took_part(escalation),
        ],
        now=now,
    )


# --- delivery --------------------------------------------------------------------------


def wake_relay() -> None:
    """Tell a listening relay that rows are waiting — a database call, never the broker.

    PostgreSQL delivers a NOTIFY when the surrounding transaction commits (and drops it on
    rollback), so the relay wakes exactly when the rows become visible. Elsewhere the
    relay's 2-second poll finds them.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [OUTBOX_CHANNEL])


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed send: 15 s doubling, at most 1 hour."""
    # The exponent is capped only to keep the arithmetic small; the hour cap bites at 9.
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 16), LONGEST_RETRY)


_MAIL_SERVER_ERRORS = (smtplib.SMTPException, OSError)


def describe_failure(exc: BaseException) -> str:
    """What failed, for last_error and the logs, by the exception's type alone.

    Never str(exc): a mail server's message can quote addresses. The category keeps a
    database fault from looking like a mail fault (and the reverse).
    """
    kind = type(exc)
    module = kind.__module__.split(".")[0]
    if isinstance(exc, DatabaseError) or module in ("psycopg", "psycopg2", "sqlite3"):
        category = "database"
    elif isinstance(exc, _MAIL_SERVER_ERRORS) or module in ("smtplib", "ssl", "socket"):
        category = "mail server"
    else:
        category = "unexpected"
    return f"{category}: {kind.__name__}"


def message_id(notification_id: int) -> str:
    """The same Message-ID every time this notification is sent.

    If a sender dies between sending and recording it, the row goes again; with the same
    Message-ID mail systems (and people's mail programs) recognise the repeat.
    """
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    domain = address.rpartition("@")[2] or urlsplit(settings.SITE_BASE_URL).hostname
    return f"<notification-{notification_id}@{domain or 'localhost'}>"


def _case_sentence() -> Callable[[Escalation, date], str]:
    """The escalations app's one-sentence summary of a case, named in settings rather than
    imported: notifications sit below escalations in the layering (docs/architecture.md §2),
    and the e-mail must say what the escalation page says."""
    sentence: Callable[[Escalation, date], str] = import_string(settings.NOTIFICATION_CASE_SENTENCE)
    return sentence


# Kinds whose e-mail carries the addressee's link to answer the step (to those the step
# asks to respond; the others' link opens the escalation page).
LINK_KINDS = (
    Kind.STEP_RAISED,
    Kind.REMINDER,
    Kind.OVERDUE,
    Kind.CHASE,
    Kind.STEP_AMENDED,
    Kind.CAP_BREACHED,
)
# What a partner whose link no longer opens anything is told instead of it.
PARTNER_ENDED = (
    "The escalation has ended. Nothing more is asked of you, and the link you were sent "
    "no longer opens anything."
)
PARTNER_NOT_ASKED = (
    "Nothing more is asked of you at this stage, so the link you were sent no longer opens it."
)


def _own_due_on(step: Step, person: StaffMember | Partner) -> date | None:
    """The person's own deadline: theirs on a stage addressed to several people (each has
    a clock), else the step's."""
    own = {"partner": person} if isinstance(person, Partner) else {"staff": person}
    row = step.addressees.select_related("step").filter(**own).first()
    return row.effective_due_on if row is not None else step.effective_due_on


def _partner_message(notification: Notification, partner: Partner) -> EmailMultiAlternatives:
    """A partner-agency contact's e-mail: their own link (or code) while the step asks
    them to respond, nothing of the case beyond the reference, the children's initials
    and the stage, as staff e-mails. Never a code but in the code's own e-mail."""
    step = notification.step
    escalation = notification.escalation
    access = PartnerAccess.objects.filter(step=step, partner=partner).first()
    context: dict[str, Any] = {
        "notification": notification,
        "reference": escalation.reference,
        "initials": ", ".join(c.initials for c in escalation.children.all()),
        "stage_name": step.stage_name,
        "recipient_name": partner.name,
    }
    if notification.kind == Kind.PARTNER_CODE:
        assert access is not None  # a code is asked for through the access's link
        code = PartnerCode.objects.get(access=access, sequence=notification.occurrence)
        context |= {
            "link": partner_link_url(access.salt),
            "code": partner_code(code.salt),
            "expires_at": code.expires_at,
        }
        template = "notifications/email/partner_code"
    else:
        # The link only while it opens something (escalations.partner_access.access_refusal
        # closes it with the step, the escalation, or their part going to someone else).
        asked = (
            notification.kind != Kind.ESCALATION_CLOSED
            and access is not None
            and step.is_open
            and escalation.is_open
            and _is_addressed(step, partner)
        )
        context |= {
            "headline": _headline(notification, addressed=asked),
            "link": partner_link_url(access.salt) if asked and access is not None else "",
            "due_on": _own_due_on(step, partner) if asked else None,
            "no_link": PARTNER_ENDED
            if notification.kind == Kind.ESCALATION_CLOSED or not escalation.is_open
            else PARTNER_NOT_ASKED,
        }
        template = "notifications/email/partner_body"
    subject = render_to_string("notifications/email/subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[partner.email],
        from_email=settings.DEFAULT_FROM_EMAIL,
        headers={"Message-ID": message_id(notification.pk)},
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def _message(notification: Notification) -> EmailMultiAlternatives:
    if notification.partner is not None:
        return _partner_message(notification, notification.partner)
    recipient = notification.recipient
    assert recipient is not None  # a check constraint: staff or partner
    step = notification.step
    escalation = notification.escalation
    # Anyone the step asks to respond (on a stage addressed to several people, each of
    # them) is sent their link to the response form; everyone else the escalation page.
    addressed = _is_addressed(step, recipient)
    context = {
        "notification": notification,
        "reference": escalation.reference,
        "initials": ", ".join(c.initials for c in escalation.children.all()),
        "stage_name": step.stage_name,
        "due_on": _own_due_on(step, recipient) if notification.kind in DUE_KINDS else None,
        "link": step_link_url(step.pk)
        if notification.kind in LINK_KINDS and addressed
        else f"{settings.SITE_BASE_URL}/escalations/{escalation.pk}/",
        "recipient_name": recipient.display_name,
        "headline": _headline(notification, addressed=addressed),
        # An amendment's reason is case detail: the page has it, the e-mail says so.
        "amended": notification.kind == Kind.STEP_AMENDED,
        # As the case stood when the notification was made (a demo sweep's --now included).
        "sentence": _case_sentence()(escalation, timezone.localdate(notification.created_at)),
    }
    subject = render_to_string("notifications/email/subject.txt", context).strip()
    text = render_to_string("notifications/email/body.txt", context)
    html = render_to_string("notifications/email/body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[recipient.user.email],
        from_email=settings.DEFAULT_FROM_EMAIL,
        headers={"Message-ID": message_id(notification.pk)},
    )
    message.attach_alternative(html, "text/html")
    return message


def _take(*, notification_id: int, now: datetime, claim: str) -> str | None:
    """Transaction 1: claim the row for this sender; the new claim token, or None.

    A conditional UPDATE whose row count says who won, so it holds on SQLite (no row
    locks) as well as PostgreSQL: a row is taken only while pending and unclaimed — its
    lease expired, or handed to us by the relay under `claim`.
    """
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    if claim:
        free |= Q(claim_token=claim)
    token = uuid.uuid4().hex
    with transaction.atomic():
        taken = Notification.objects.filter(
            free, pk=notification_id, email_status=EmailStatus.PENDING
        ).update(claimed_until=now + SEND_LEASE, claim_token=token, attempts=F("attempts") + 1)
    return token if taken else None


# Failures that say the mail server could not be reached at all (rather than that it
# refused one message): once a send succeeds, rows backing off after these go at once.
_UNREACHABLE = (
    "SMTPServerDisconnected",
    "SMTPConnectError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "TimeoutError",
    "timeout",
    "gaierror",
)


def could_not_reach_mail_server() -> Q:
    """Pending rows whose last send failed because the mail server could not be reached:
    the ones a returning server releases (`_mark_sent`) and the relay probes with."""
    unreachable = Q()
    for name in _UNREACHABLE:
        unreachable |= Q(last_error__startswith=f"mail server: {name} ")
    return unreachable & Q(email_status=EmailStatus.PENDING)


def _mark_sent(*, notification_id: int, now: datetime) -> None:
    """Transaction 2: sent, whoever holds the claim now (an e-mail that went, went).

    The mail server is evidently back: rows waiting out a back-off because it could not
    be reached become due now, so an outage ends for everyone within seconds instead of
    at each row's next (up to hourly) attempt.
    """
    with transaction.atomic():
        Notification.objects.filter(pk=notification_id).update(
            email_status=EmailStatus.SENT, sent_at=now, claimed_until=None, claim_token=""
        )
        if Notification.objects.filter(
            could_not_reach_mail_server(), next_attempt_at__gt=now
        ).update(next_attempt_at=now):
            wake_relay()


def _record_failure(*, notification: Notification, token: str, now: datetime, error: str) -> None:
    """Pending again after the back-off, or failed once the row has had its day of retries."""
    give_up = now - notification.retry_window_from >= RETRY_WINDOW
    next_attempt_at = now + retry_delay(notification.attempts)
    # Only while the claim is still ours: after it expired another sender owns the row.
    Notification.objects.filter(pk=notification.pk, claim_token=token).update(
        email_status=EmailStatus.FAILED if give_up else EmailStatus.PENDING,
        next_attempt_at=next_attempt_at,
        claimed_until=None,
        claim_token="",
        last_error=error[:300],
    )
    if give_up:
        logger.warning("Notification %s failed after a day of retries (%s)", notification.pk, error)
    else:
        logger.info(
            "Notification %s not sent (%s); next attempt at %s",
            notification.pk,
            error,
            next_attempt_at.isoformat(),
        )


def deliver(*, notification_id: int, now: datetime, claim: str = "") -> bool:
    """Send one notification's e-mail if it is still to go. True when this call sent it.

    Claim, send, mark — three steps, so nothing holds a database transaction open across
    the SMTP conversation:

    1. take the row (pending, and its lease free, expired, or `claim` — the token the
       relay handed over with it): `claimed_until = now + SEND_LEASE`, `attempts += 1`;
    2. send, with the notification's fixed Message-ID;
    3. mark it sent.

    False when there was nothing to do: already sent or failed, or another sender holds
    it. A crash between 2 and 3 leaves a claim that expires; the row is then sent again,
    as the same message (at-least-once delivery). If the send fails the row stays pending
    until `next_attempt_at` (see `retry_delay`), or becomes failed once its retry window
    is over; then the send's exception is raised again for the caller to log (by type —
    see `describe_failure`). The schedule itself is the relay's to keep: a direct call
    sends a due or not-yet-due row alike.
    """
    token = _take(notification_id=notification_id, now=now, claim=claim)
    if token is None:
        return False
    notification = Notification.objects.select_related(
        "step", "escalation", "recipient__user", "partner", "amendment"
    ).get(pk=notification_id)
    address = (
        notification.partner.email
        if notification.partner is not None
        else notification.recipient.user.email
        if notification.recipient is not None
        else ""
    )
    if not address:
        Notification.objects.filter(pk=notification_id, claim_token=token).update(
            email_status=EmailStatus.FAILED,
            claimed_until=None,
            claim_token="",
            last_error="The recipient has no e-mail address.",
        )
        return False
    try:
        _message(notification).send()
    except Exception as exc:
        error = f"{describe_failure(exc)} on attempt {notification.attempts}"
        _record_failure(notification=notification, token=token, now=now, error=error)
        raise
    _mark_sent(notification_id=notification_id, now=now)
    return True


def notification_resend(
    *, notification: Notification, actor: AbstractBaseUser | None, now: datetime
) -> bool:
    """A failed e-mail goes again: pending from now, with a fresh day of retries.

    True when it was failed (and is now pending); anything else is left alone. Logged by
    IDs only; the admin action adds its own LogEntry.
    """
    with transaction.atomic():
        resent = Notification.objects.filter(
            pk=notification.pk, email_status=EmailStatus.FAILED
        ).update(
            email_status=EmailStatus.PENDING,
            next_attempt_at=now,
            retry_window_from=now,
            attempts=0,
            claimed_until=None,
            claim_token="",
        )
        if resent:
            wake_relay()
    if resent:
        logger.info(
            "Notification %s set to be sent again by user %s",
            notification.pk,
            actor.pk if actor is not None else "(command line)",
        )
        notification.refresh_from_db()
    return bool(resent)


def notification_mark_read(*, notification: Notification, now: datetime) -> None:
    if notification.read_at is None:
        notification.read_at = now
        notification.save(update_fields=["read_at"])
