"""Every write to an escalation goes through these functions.

Views, admin, commands, tasks and tests call them alike. Each one locks the
escalation row, checks who is acting and the state, applies the django-fsm transition
and saves inside one transaction, so two people acting at once never produce two
steps or lose a response: the second gets a plain ActionRefused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from children.models import Child, Conference
from children.selectors import visible_children
from escalations import rules
from escalations.attachments import AttachmentRefused, check_upload
from escalations.models import (
    Addressee,
    AmendmentKind,
    Attachment,
    Escalation,
    Nature,
    Step,
    StepAmendment,
    Verdict,
)
from escalations.partner_access import partner_access_readdressed, partner_accesses_open
from notifications import services as notifications
from notifications.models import Kind
from notifications.recipients import (
    StepRecipients,
    escalation_participants,
    recipients_of_step,
    response_recipients,
    step_recipients,
)
from policies.deadlines import formal_cap_deadline, issue_by_deadline, stage_deadline
from policies.models import (
    ConcernCategory,
    Policy,
    PolicyKind,
    Stage,
)
from staff.models import Partner, StaffMember

MAX_ATTACHMENTS = 5


class ActionRefused(Exception):
    """The action cannot be done; the message says why in plain words."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @classmethod
    def because(cls, refusal: rules.Refusal) -> ActionRefused:
        return cls(refusal.message, field=refusal.field)


def _enforce(refusal: rules.Refusal | None) -> None:
    """The rules say why not; the services refuse in those words."""
    if refusal is not None:
        raise ActionRefused.because(refusal)


class AlreadyRaised(ActionRefused):
    """The raise form was sent again (a double click, a resubmitted page, two tabs): the
    escalation its first sending raised is `escalation`, and nothing was raised twice."""

    def __init__(self, escalation: Escalation) -> None:
        super().__init__(
            f"{escalation.reference} was already raised from this form, so it was not raised again."
        )
        self.escalation = escalation


@contextmanager
def _refuse_races() -> Iterator[None]:
    try:
        yield
    except (ConcurrentTransition, IntegrityError):
        raise ActionRefused(
            "Someone else changed this escalation at the same moment. "
            "Nothing you entered was saved twice: reload the page to see where it stands."
        ) from None
    except TransitionNotAllowed:
        raise ActionRefused(
            "This escalation has moved on since you opened it, so that action is no longer "
            "possible. Reload the page to see where it stands."
        ) from None


def _lock(escalation: Escalation) -> Escalation:
    """Re-read the escalation under a row lock (PostgreSQL); the state is then current.

    The row alone, with no joins: after waiting for the lock PostgreSQL re-reads the locked
    row but keeps the joined rows of its first look, so a joined `current_stage` came back
    as None beside the new `current_stage_id` and the "later stage" check let a second
    step through. What the row points to (policy, authority, current stage) loads when
    first used, each in a query of its own after the lock, which sees everything committed
    before the lock was granted: do not add select_related here.
    """
    return Escalation.objects.select_for_update(of=("self",)).get(pk=escalation.pk)


def _check_responder(*, stage: Stage, responder: StaffMember, escalation_authority_id: int) -> None:
    if responder.authority_id != escalation_authority_id or not responder.is_active:
        raise ActionRefused("Choose a responder from this authority's staff.", field="responder")
    allowed = {stage.role_id, *(r.pk for r in stage.also_roles.all())}
    # Partner agencies answer as partners (staff.Partner), never as council staff: the
    # role check is never switched off.
    if responder.role_id not in allowed:
        names = " or ".join([stage.role.name, *(r.name for r in stage.also_roles.all())])
        raise ActionRefused(
            f"{stage.name} is addressed to a {names}; "
            f"{responder.display_name} is a {responder.role.name}.",
            field="responder",
        )


def _check_partner(*, stage: Stage, partner: Partner, authority_id: int) -> None:
    """A partner-agency contact may answer only a stage the policy opens to partners, and
    must be an active entry in this authority's own partner directory."""
    if not stage.partner_responders:
        raise ActionRefused(
            f"{stage.name} is answered within the council: choose a member of staff, not a "
            "partner-agency contact.",
            field="partner",
        )
    if partner.authority_id != authority_id or not partner.is_active:
        raise ActionRefused(
            "Choose a contact from this authority's partner directory.", field="partner"
        )


def _addressee_of(responder: StaffMember | None, partner: Partner | None) -> StaffMember | Partner:
    """The one person a single-addressee step goes to (the checks made sure there is one)."""
    addressee = responder or partner
    if addressee is None:
        raise ActionRefused("Choose who should respond.", field="responder")
    return addressee


def _check_target(
    *,
    escalation: Escalation,
    target: Stage,
    actor: StaffMember,
    reason: str,
    immediate_safety: bool = False,
) -> list[Stage]:
    """Refuse the move to `target` unless the rules allow it; return the stages it skips."""
    _enforce(
        rules.stage_refusal(
            escalation, target, actor, reason=reason, immediate_safety=immediate_safety
        )
    )
    return rules.skipped_stages(escalation, target)


def _check_timescale(*, stage: Stage, response_days: int | None, timescale_reason: str) -> None:
    """The chair's own timescale for this step: where the stage leaves it to the chair
    (chair_sets_timescale), or lets the chair vary the policy's, with a reason
    (chair_may_vary_timescale: "flexibility within the timeframe at each stage … as agreed
    by the CRM"). The days and the reason go together; the policy's own days are no
    variation."""
    reason = timescale_reason.strip()
    if response_days is None:
        if reason:
            raise ActionRefused(
                f"Give the timescale you are setting for {stage.name}, as well as why.",
                field="response_days",
            )
        return
    if not (stage.chair_sets_timescale or stage.chair_may_vary_timescale):
        raise ActionRefused(
            f"The policy sets the timescale for {stage.name}.", field="response_days"
        )
    if not 0 < response_days <= 365:
        raise ActionRefused("Give a timescale between 1 and 365 days.", field="response_days")
    if stage.chair_sets_timescale:
        return
    if response_days == stage.response_days:
        if reason:
            raise ActionRefused(
                f"{stage.timescale_label.capitalize()} is the policy's own timescale for "
                f"{stage.name}: leave the timescale blank, or give a different one.",
                field="response_days",
            )
        return
    if not reason:
        raise ActionRefused(
            f"Say why you are varying the timescale for {stage.name} "
            f"(the policy's is {stage.timescale_label}).",
            field="timescale_reason",
        )


def _check_step_inputs(
    *,
    stage: Stage,
    responder: StaffMember | None = None,
    partner: Partner | None = None,
    authority_id: int,
    response_days: int | None,
    statement: dict[str, str] | None,
    timescale_reason: str = "",
) -> None:
    if partner is not None:
        if responder is not None:
            raise ActionRefused(
                "Choose a member of staff or a partner-agency contact to respond, not both.",
                field="partner",
            )
        _check_partner(stage=stage, partner=partner, authority_id=authority_id)
    elif responder is None:
        raise ActionRefused("Choose who should respond.", field="responder")
    else:
        _check_responder(stage=stage, responder=responder, escalation_authority_id=authority_id)
    _check_timescale(stage=stage, response_days=response_days, timescale_reason=timescale_reason)
    if stage.statement_required:
        statement = statement or {}
        for key, label in (
            ("issue", "the issue"),
            ("actions", "what you have done to resolve it"),
            ("wanted", stage.statement_wanted_label.lower()),
        ):
            if not statement.get(key, "").strip():
                raise ActionRefused(
                    f"The written statement must say {label}.", field=f"statement_{key}"
                )


# --- a stage addressed to several people; the issue-by clock ------------------------------


@dataclass(frozen=True)
class SeveralRecipients(StepRecipients):
    """Who a stage addressed to several people goes to: the first addressee (the step's
    responder), the others asked as well, and the copies (never someone addressed)."""

    # Partner-agency contacts among them too (escalations/partner_access.py).
    also_addressed: tuple[StaffMember | Partner, ...] = ()

    @property
    def signature(self) -> str:
        own = super().signature
        tagged = (f"{'p' if isinstance(p, Partner) else ''}{p.pk}" for p in self.also_addressed)
        return f"{own}-{'.'.join(tagged)}"


def _addressed(
    *,
    stage: Stage,
    responder: StaffMember | None,
    addressees: Iterable[StaffMember],
    authority_id: int,
    actor: StaffMember,
) -> list[StaffMember]:
    """Everyone a step at `stage` asks to respond, the step's responder first.

    A stage addressed to several people goes to the people chosen (each checked as a
    responder is), or to `responder` alone when none are; any other stage to `responder`.
    """
    chosen = list(dict.fromkeys(addressees))
    if not stage.addresses_several:
        if chosen and chosen != [responder]:
            raise ActionRefused(
                f"{stage.name} is addressed to one person: choose who should respond.",
                field="addressees",
            )
        return [responder] if responder is not None else []
    if responder is None:
        if chosen:
            raise ActionRefused(
                "The person who should respond must be one of the people the stage is "
                "addressed to.",
                field="addressees",
            )
        return []  # addressed to partners alone
    people = chosen or [responder]
    if responder not in people:
        raise ActionRefused(
            "The person who should respond must be one of the people the stage is addressed to.",
            field="addressees",
        )
    people.remove(responder)
    people.insert(0, responder)
    for person in people:
        if person.pk == actor.pk:
            raise ActionRefused("You cannot ask yourself to respond.", field="addressees")
        _check_responder(stage=stage, responder=person, escalation_authority_id=authority_id)
    return people


def _preview(recipients: StepRecipients, people: list[StaffMember]) -> StepRecipients:
    """The preview of a step addressed to several people names each of them as asked."""
    if len(people) < 2:
        return recipients
    addressed = {p.pk for p in people}
    return SeveralRecipients(
        addressee=people[0],
        copies=tuple(c for c in recipients.copies if c.person.pk not in addressed),
        unfilled=recipients.unfilled,
        also_addressed=tuple(people[1:]),
    )


def _address_several(*, step: Step, people: list[StaffMember], now: datetime) -> StepRecipients:
    """One Addressee row per person, each on the step's own deadline; each is sent the
    step as its addressee, and the stage's copies go to everyone else the stage names."""
    for person in people:
        Addressee.objects.create(step=step, staff=person, due_on=step.due_on)
    # Partner-agency addressees (Addressee(partner=...)) are added beside these and told
    # through their own link (escalations/partner_access.py).
    recipients = _preview(recipients_of_step(step), people)
    notifications.create_notifications(kind=Kind.STEP_RAISED, step=step, recipients=people, now=now)
    notifications.create_notifications(
        kind=Kind.STEP_COPIED, step=step, recipients=[c.person for c in recipients.copies], now=now
    )
    return recipients


def _split_partners(
    addressees: Iterable[StaffMember | Partner],
) -> tuple[list[StaffMember], list[Partner]]:
    """The staff and the partner-agency contacts among a stage's chosen addressees."""
    chosen = list(dict.fromkeys(addressees))
    return (
        [a for a in chosen if isinstance(a, StaffMember)],
        [a for a in chosen if isinstance(a, Partner)],
    )


def _check_partner_addressees(*, stage: Stage, partners: list[Partner], authority_id: int) -> None:
    if not partners:
        return
    if not stage.addresses_several:
        raise ActionRefused(
            f"{stage.name} is addressed to one person: choose who should respond.",
            field="partner_addressees",
        )
    for person in partners:
        _check_partner(stage=stage, partner=person, authority_id=authority_id)


def _with_partners(recipients: StepRecipients, partners: list[Partner]) -> StepRecipients:
    """The preview names the partner-agency contacts asked beside the staff, too."""
    others = [p for p in partners if p != recipients.addressee]
    if not others:
        return recipients
    also = recipients.also_addressed if isinstance(recipients, SeveralRecipients) else ()
    return SeveralRecipients(
        addressee=recipients.addressee,
        copies=recipients.copies,
        unfilled=recipients.unfilled,
        also_addressed=(*also, *others),
    )


def _address_partners(*, step: Step, partners: list[Partner], now: datetime) -> None:
    """Partner-agency contacts on a stage addressed to several people: an Addressee row
    each (on the step's deadline), their way in, and the e-mail with their own link."""
    for person in partners:
        Addressee.objects.create(step=step, partner=person, due_on=step.due_on)
    if partners:
        partner_accesses_open(step=step, now=now)
        notifications.create_notifications(
            kind=Kind.STEP_RAISED, step=step, recipients=partners, now=now
        )


def _issue_start(escalation: Escalation, now: datetime) -> date:
    """Where the issue-by clock of the next step starts (docs/architecture.md §3): the
    previous step's reply, or its deadline where none came; for the first step the
    conference the concern arose from, else the day the escalation was raised.

    A previous step with neither a reply nor a deadline (a stage the policy gives no
    timescale) ended only when the chair moved on, so the clock runs from `now`: the next
    stage is issued on time by definition, as a first stage with no conference is.
    """
    previous = escalation.steps.order_by("-sequence").first()
    if previous is None:
        if escalation.conference is not None:
            return escalation.conference.date
        return timezone.localdate(escalation.raised_at)
    if previous.responded_at is not None:
        return timezone.localdate(previous.responded_at)
    if previous.due_on is not None:
        return previous.due_on
    return timezone.localdate(now)


def _start_issue_clock(step: Step, escalation: Escalation, now: datetime) -> None:
    """The step is answered: the stage after it must be issued by its issue-by date (the
    chair's clock while the step awaits their decision). The caller saves the step."""
    step.next_issue_due_on = issue_by_deadline(
        stage=rules.next_stage(escalation),
        authority=escalation.authority,
        start=timezone.localdate(now),
        closures=escalation.authority.closure_dates(),
    )


def _raise_step(
    *,
    escalation: Escalation,
    stage: Stage,
    responder: StaffMember | None = None,
    partner: Partner | None = None,
    actor: StaffMember,
    now: datetime,
    skipped: list[Stage],
    reason: str,
    response_days: int | None,
    statement: dict[str, str] | None = None,
    safety_days: int | None = None,
    timescale_reason: str = "",
    addressees: Iterable[StaffMember | Partner] = (),
    partners: Iterable[Partner] = (),
) -> Step:
    """Raise `stage` on `escalation`. `safety_days`: the immediate-safety route's own
    timescale (Policy.immediate_safety_response_days; 0 is the same working day), which
    replaces the stage's for the step the route creates, so the sweep alerts on it.
    `addressees`: on a stage addressed to several people, everyone it asks (`responder`
    among them, first); partner-agency contacts among them are asked beside the staff."""
    staff_addressees, partners = _split_partners([*addressees, *partners])
    if partners and responder is None and partner is None:
        # Addressed to partners alone: the first is the step's own addressee.
        partner = partners[0]
    _check_step_inputs(
        stage=stage,
        responder=responder,
        partner=partner,
        authority_id=escalation.authority_id,
        response_days=response_days,
        statement=statement,
        timescale_reason=timescale_reason,
    )
    _check_partner_addressees(stage=stage, partners=partners, authority_id=escalation.authority_id)
    people = _addressed(
        stage=stage,
        responder=responder,
        addressees=staff_addressees,
        authority_id=escalation.authority_id,
        actor=actor,
    )
    closures = escalation.authority.closure_dates()
    # Read before this step exists: the issue-by clock runs from the step before it.
    issue_due_on = issue_by_deadline(
        stage=stage,
        authority=escalation.authority,
        start=_issue_start(escalation, now),
        closures=closures,
    )
    if not stage.is_informal and escalation.formal_started_at is None:
        escalation.formal_started_at = now
        escalation.formal_cap_due_on = formal_cap_deadline(
            policy=escalation.policy,
            authority=escalation.authority,
            started_at=now,
            closures=closures,
        )
    days = safety_days if safety_days is not None else response_days
    received_on, due_on = stage_deadline(
        stage=stage,
        authority=escalation.authority,
        received_at=now,
        response_days=days,
        closures=closures,
    )
    escalation.current_stage = stage
    sequence = escalation.steps.count() + 1
    # Only a stage that asks for a written statement keeps one (a form may send the
    # statement it filled in beside a stage that does not want it).
    statement = (statement or {}) if stage.statement_required else {}
    step = Step.objects.create(
        escalation=escalation,
        authority_id=escalation.authority_id,
        sequence=sequence,
        stage=stage,
        responder=responder,
        partner=partner,
        raised_by=actor,
        raised_at=now,
        stage_name=stage.name,
        stage_order=stage.order,
        mode=stage.mode,
        response_days=days if days is not None else stage.response_days,
        day_type=stage.day_type,
        is_final=stage.final,
        received_on=received_on,
        due_on=due_on,
        cap_due_on=None if stage.is_informal else escalation.formal_cap_due_on,
        skipped_stage_names=", ".join(rules.skipped_label(s) for s in skipped),
        skip_reason=reason.strip() if skipped else "",
        statement_issue=statement.get("issue", "").strip(),
        statement_actions=statement.get("actions", "").strip(),
        statement_wanted=statement.get("wanted", "").strip(),
        statement_wanted_label=stage.statement_wanted_label if stage.statement_required else "",
        # Only where the chair's days were used (the immediate-safety route's replace them).
        timescale_reason=timescale_reason.strip() if safety_days is None else "",
        issue_due_on=issue_due_on,
        completion=stage.completion if stage.addresses_several else "",
    )
    if step.addresses_several:
        recipients = _address_several(step=step, people=people, now=now)
        _address_partners(step=step, partners=partners, now=now)
    else:
        # A partner's way in (their link) exists before the e-mail that carries it is made.
        partner_accesses_open(step=step, now=now)
        recipients = notifications.notify_step_raised(step=step, now=now)
    if recipients.unfilled:
        # Kept on the step: the record shows whom the policy wanted and that nobody holds it.
        step.copies_unfilled = "\n".join(recipients.unfilled)
        step.save(update_fields=["copies_unfilled"])
    return step


MOVED_ON = (
    "This escalation has moved on since you opened it (someone else acted on it). "
    "Reload the page to see where it stands."
)


def _require_unchanged(open_step: Step | None, from_step: Step | None) -> None:
    """The screen said which step it acted on; refuse if another action got there first."""
    if from_step is not None and (open_step is None or open_step.pk != from_step.pk):
        raise ActionRefused(MOVED_ON)


def _close_step(step: Step, *, verdict: str, now: datetime, judge: StaffMember) -> None:
    step.verdict = verdict
    step.verdict_at = now
    step.judged_by = judge
    step.closed_at = now
    step.save()


# --- the public services -------------------------------------------------------------


@dataclass
class _Raise:
    """A raise that has passed every check, ready to write (or to preview)."""

    stage: Stage
    reason: str
    children: list[Child]
    categories: list[ConcernCategory]
    now: datetime
    safety_days: int | None = None


def _prepare_raise(
    *,
    actor: StaffMember,
    policy: Policy,
    children: Iterable[Child],
    summary: str,
    responder: StaffMember | None = None,
    partner: Partner | None = None,
    stage: Stage | None = None,
    categories: Iterable[ConcernCategory] = (),
    reason: str = "",
    immediate_safety: bool = False,
    about_staff: StaffMember | None = None,
    conference: Conference | None = None,
    now: datetime | None = None,
) -> _Raise:
    """Every check a raise makes before it writes anything."""
    now = now or timezone.now()
    children = list(children)
    categories = list(categories)
    if actor.authority_id != policy.authority_id:
        raise ActionRefused("You can only raise escalations under your own authority's policy.")
    if not policy.is_active:
        raise ActionRefused("That policy is no longer in use.")
    today = timezone.localdate(now)
    # A concern is raised under the version in force on the day it is raised, whatever
    # version the page or link named (a form left open across the day a new version
    # takes effect); the escalation keeps that version afterwards.
    _enforce(rules.version_refusal(policy, today=today))
    if not policy.raisers.filter(pk=actor.role_id).exists():
        raise ActionRefused(f"Under this policy a {actor.role.name} cannot raise a concern.")
    if not children:
        raise ActionRefused("Choose at least one child.", field="children")
    if any(child.authority_id != policy.authority_id for child in children):
        raise ActionRefused("Choose children from your own authority.", field="children")
    seen = set(
        visible_children(actor).filter(pk__in=[c.pk for c in children]).values_list("pk", flat=True)
    )
    if any(child.pk not in seen for child in children):
        raise ActionRefused(
            "You can only raise a concern about children whose records you can see.",
            field="children",
        )
    if not summary.strip():
        raise ActionRefused("Describe the issue.", field="summary")
    if any(cat.policy_id != policy.pk for cat in categories):
        raise ActionRefused("Choose categories from this policy.", field="categories")
    # Where the policy lists kinds of concern, every escalation is counted under at least
    # one (the themes report reads them); good-practice records and concerns about a
    # chair too, from their own policy's list. A policy with none asks for none.
    if not categories and policy.categories.filter(parent__isnull=False).exists():
        raise ActionRefused("Choose at least one concern category.", field="categories")
    if policy.kind == PolicyKind.ABOUT_CHAIR:
        if (
            about_staff is None
            or not about_staff.is_chair
            or about_staff.authority_id != policy.authority_id
        ):
            raise ActionRefused(
                "Choose the conference chair the concern is about.", field="about_staff"
            )
    elif about_staff is not None:
        raise ActionRefused(
            "Only a concern about a chair names a member of staff.", field="about_staff"
        )
    if conference is not None and conference.child not in children:
        raise ActionRefused(
            "That conference is not one of the chosen children's.", field="conference"
        )
    _enforce(rules.raise_window_refusal(policy, conference, today=today))
    if responder is not None and responder.pk == actor.pk:
        raise ActionRefused("You cannot ask yourself to respond.", field="responder")

    stages = list(policy.stages.select_related("role"))
    if stage is None and immediate_safety and policy.immediate_safety_role_id:
        # The policy's immediate-safety route: straight to the stage addressed to that role.
        stage = rules.safety_stage(policy, stages=stages)
        reason = reason or "Concern about the immediate safety of a child."
    if stage is None:
        stage = rules.next_stage(policy, stages=stages)
    if stage is None:
        raise ActionRefused("This policy has no stages yet: ask an administrator to set it up.")
    _enforce(rules.issue_clock_refusal(stage, conference))

    # The immediate-safety route's step runs on the policy's own timescale for it.
    safety_days = (
        policy.immediate_safety_response_days
        if immediate_safety and stage == rules.safety_stage(policy, stages=stages)
        else None
    )
    return _Raise(
        stage=stage,
        reason=reason,
        children=children,
        categories=categories,
        now=now,
        safety_days=safety_days,
    )


def _refuse_repeat(*, actor: StaffMember, request_token: uuid.UUID | None) -> None:
    """A raise form already used raises nothing: its sender is sent to what it raised."""
    if request_token is None:
        return
    earlier = Escalation.objects.filter(request_token=request_token).first()
    if earlier is None:
        return
    if earlier.raised_by_id != actor.pk:
        # Someone else's token: say nothing about what it raised.
        raise ActionRefused(
            "This form has already been used. Open the raise page again to start afresh."
        )
    raise AlreadyRaised(earlier)


def escalation_raise(
    *,
    actor: StaffMember,
    policy: Policy,
    children: Iterable[Child],
    summary: str,
    responder: StaffMember | None = None,
    partner: Partner | None = None,
    stage: Stage | None = None,
    categories: Iterable[ConcernCategory] = (),
    desired_outcome: str = "",
    reason: str = "",
    immediate_safety: bool = False,
    nature: str = Nature.CONCERN,
    about_staff: StaffMember | None = None,
    conference: Conference | None = None,
    response_days: int | None = None,
    timescale_reason: str = "",
    statement: dict[str, str] | None = None,
    request_token: uuid.UUID | None = None,
    addressees: Iterable[StaffMember | Partner] = (),
    partners: Iterable[Partner] = (),
    now: datetime | None = None,
) -> Escalation:
    """Raise a concern: at the informal stage, or straight to a formal one where allowed.

    `request_token` is the raise form's one-time token: a second raise with it raises
    AlreadyRaised, naming the escalation the first one made.
    """
    _refuse_repeat(actor=actor, request_token=request_token)
    checked = _prepare_raise(
        actor=actor,
        policy=policy,
        children=children,
        summary=summary,
        responder=responder,
        partner=partner,
        stage=stage,
        categories=categories,
        reason=reason,
        immediate_safety=immediate_safety,
        about_staff=about_staff,
        conference=conference,
        now=now,
    )
    stage, reason, children, now = checked.stage, checked.reason, checked.children, checked.now
    categories = checked.categories
    with transaction.atomic(), _refuse_races():
        try:
            with transaction.atomic():
                escalation = Escalation.objects.create(
                    authority=policy.authority,
                    policy=policy,
                    raised_by=actor,
                    about_staff=about_staff,
                    conference=conference,
                    nature=nature,
                    summary=summary.strip(),
                    desired_outcome=desired_outcome.strip(),
                    immediate_safety=immediate_safety,
                    state=rules.opening_state(stage),
                    raised_at=now,
                    request_token=request_token,
                )
        except IntegrityError:
            # The same form sent at the same moment: the unique token held this insert
            # until the other one committed, which is now there to be found.
            _refuse_repeat(actor=actor, request_token=request_token)
            raise
        escalation.children.set(children)
        escalation.categories.set(categories)
        skipped = _check_target(
            escalation=escalation,
            target=stage,
            actor=actor,
            reason=reason,
            immediate_safety=immediate_safety,
        )
        _raise_step(
            escalation=escalation,
            stage=stage,
            responder=responder,
            partner=partner,
            actor=actor,
            now=now,
            skipped=skipped,
            reason=reason,
            response_days=response_days,
            statement=statement,
            safety_days=checked.safety_days,
            timescale_reason=timescale_reason,
            addressees=[*addressees, *partners],
        )
        escalation.save()
    return escalation


def escalation_raise_recipients(
    *,
    actor: StaffMember,
    policy: Policy,
    children: Iterable[Child],
    summary: str,
    responder: StaffMember | None = None,
    partner: Partner | None = None,
    stage: Stage | None = None,
    categories: Iterable[ConcernCategory] = (),
    desired_outcome: str = "",
    reason: str = "",
    immediate_safety: bool = False,
    nature: str = Nature.CONCERN,
    about_staff: StaffMember | None = None,
    conference: Conference | None = None,
    response_days: int | None = None,
    timescale_reason: str = "",
    statement: dict[str, str] | None = None,
    request_token: uuid.UUID | None = None,
    addressees: Iterable[StaffMember | Partner] = (),
    partners: Iterable[Partner] = (),
    now: datetime | None = None,
) -> StepRecipients:
    """Who a raise with these answers would address and copy, after the very checks the
    raise makes (so the form can show it by name before anything is written)."""
    _refuse_repeat(actor=actor, request_token=request_token)
    checked = _prepare_raise(
        actor=actor,
        policy=policy,
        children=children,
        summary=summary,
        responder=responder,
        partner=partner,
        stage=stage,
        categories=categories,
        reason=reason,
        immediate_safety=immediate_safety,
        about_staff=about_staff,
        conference=conference,
        now=now,
    )
    staff_chosen, partners_chosen = _split_partners([*addressees, *partners])
    if partners_chosen and responder is None and partner is None:
        partner = partners_chosen[0]
    draft = Escalation(authority=policy.authority, policy=policy, raised_by=actor)
    _check_target(
        escalation=draft,
        target=checked.stage,
        actor=actor,
        reason=checked.reason,
        immediate_safety=immediate_safety,
    )
    _check_step_inputs(
        stage=checked.stage,
        responder=responder,
        partner=partner,
        authority_id=policy.authority_id,
        response_days=response_days,
        statement=statement,
        timescale_reason=timescale_reason,
    )
    _check_partner_addressees(
        stage=checked.stage, partners=partners_chosen, authority_id=policy.authority_id
    )
    people = _addressed(
        stage=checked.stage,
        responder=responder,
        addressees=staff_chosen,
        authority_id=policy.authority_id,
        actor=actor,
    )
    recipients = step_recipients(
        stage=checked.stage,
        authority=policy.authority,
        children=checked.children,
        raiser=actor,
        actor=actor,
        responder=_addressee_of(responder, partner),
    )
    return _with_partners(_preview(recipients, people), partners_chosen)


def step_respond(
    *,
    actor: StaffMember | Partner,
    step: Step,
    response: str,
    meeting_date: date | None = None,
    meeting_attendees: str = "",
    attachments: Iterable[UploadedFile] = (),
    now: datetime | None = None,
) -> Step:
    """The responder's answer (or the record of the meeting) for their step. Once only.

    `actor` is council staff, or a partner-agency contact answering through their link
    (escalations/partner_views.py): the same checks, completion and notifications.
    """
    now = now or timezone.now()
    if not response.strip():
        raise ActionRefused("Write the response.", field="response")
    attachments = list(attachments)
    if len(attachments) > MAX_ATTACHMENTS:
        raise ActionRefused(f"Attach at most {MAX_ATTACHMENTS} files.", field="attachments")
    checked = []
    for upload in attachments:
        try:
            checked.append((upload, *check_upload(upload)))
        except AttachmentRefused as exc:
            raise ActionRefused(str(exc), field="attachments") from None
    with transaction.atomic(), _refuse_races():
        escalation = _lock(step.escalation)
        step = Step.objects.select_for_update().get(pk=step.pk)
        # The step's escalation is the locked copy, not the one the caller read earlier.
        step.escalation = escalation
        _enforce(rules.respond_refusal(actor, step))
        if step.mode == "meeting" and meeting_date is None:
            raise ActionRefused("Give the date of the meeting.", field="meeting_date")
        if meeting_date is not None and meeting_date > timezone.localdate(now):
            raise ActionRefused("The meeting date cannot be in the future.", field="meeting_date")
        if step.addresses_several:
            _reply_to_several(
                step=step,
                escalation=escalation,
                actor=actor,
                response=response,
                meeting_date=meeting_date,
                meeting_attendees=meeting_attendees,
                checked=checked,
                now=now,
            )
            return step
        step.response = response.strip()
        step.responded_at = now
        # Step.responded_by names staff; a partner's reply is the step's partner's.
        step.responded_by = actor if isinstance(actor, StaffMember) else None
        step.meeting_date = meeting_date
        step.meeting_attendees = meeting_attendees.strip()
        _start_issue_clock(step, escalation, now)
        step.save()
        _save_attachments(checked, step=step, addressee=None, actor=actor, now=now)
        escalation.receive_response()
        escalation.save()
        notifications.notify_response_received(step=step, now=now)
    return step


def _save_attachments(
    checked: list[tuple[UploadedFile, str, str, int]],
    *,
    step: Step,
    addressee: Addressee | None,
    actor: StaffMember | Partner,
    now: datetime,
) -> None:
    """The files sent with a reply (already checked), on the step or one addressee's part."""
    for upload, name, content_type, size in checked:
        Attachment.objects.create(
            step=step,
            addressee=addressee,
            file=upload,
            original_name=name,
            content_type=content_type,
            size=size,
            uploaded_by=actor if isinstance(actor, StaffMember) else None,
            uploaded_by_partner=actor if isinstance(actor, Partner) else None,
            uploaded_at=now,
        )


def _reply_to_several(
    *,
    step: Step,
    escalation: Escalation,
    actor: StaffMember | Partner,
    response: str,
    meeting_date: date | None,
    meeting_attendees: str,
    checked: list[tuple[UploadedFile, str, str, int]],
    now: datetime,
) -> None:
    """One addressee's reply to their part of a stage addressed to several people (the
    caller holds the locks and has checked the rules).

    The stage is answered once its completion rule is met (rules.stage_complete): then the
    escalation moves to response received and the issue-by clock of the next stage starts.
    Every reply is told to the chair, so a stage waiting for everyone still shows who has
    answered: the n-th reply is the outbox's occurrence n - 1.
    """
    # A partner-agency contact's part is their partner row, never a staff row.
    own = {"partner": actor} if isinstance(actor, Partner) else {"staff": actor}
    addressee = Addressee.objects.select_for_update().get(step=step, **own)
    addressee.response = response.strip()
    addressee.responded_at = now
    addressee.save()
    _save_attachments(checked, step=step, addressee=addressee, actor=actor, now=now)
    addressees = list(step.addressees.all())
    if meeting_date is not None and step.meeting_date is None:
        # A meeting of several people is one meeting: the first to record it dates it.
        step.meeting_date = meeting_date
        step.meeting_attendees = meeting_attendees.strip()
    if not step.is_answered and rules.stage_complete(step.completion, addressees):
        step.responded_at = now
        step.responded_by = actor if isinstance(actor, StaffMember) else None
        _start_issue_clock(step, escalation, now)
        step.save()
        escalation.receive_response()
        escalation.save()
    else:
        step.save()
    replies = sum(1 for a in addressees if a.is_answered)
    notifications.create_notifications(
        kind=Kind.RESPONSE_RECEIVED,
        step=step,
        recipients=response_recipients(step),
        now=now,
        occurrence=replies - 1,
    )


def _next_stage(escalation: Escalation) -> Stage:
    stage = rules.next_stage(escalation)
    if stage is None:
        raise ActionRefused(rules.LAST_STAGE)
    return stage


def escalation_escalate_recipients(
    *,
    actor: StaffMember,
    escalation: Escalation,
    responder: StaffMember | None = None,
    partner: Partner | None = None,
    stage: Stage | None = None,
    reason: str = "",
    response_days: int | None = None,
    timescale_reason: str = "",
    statement: dict[str, str] | None = None,
    from_step: Step | None = None,
    addressees: Iterable[StaffMember | Partner] = (),
    partners: Iterable[Partner] = (),
) -> StepRecipients:
    """Who escalating with these answers would address and copy, after the escalation's
    own checks (read without locks: the escalation itself checks again under its lock)."""
    _enforce(rules.closed_refusal(escalation))
    _require_unchanged(escalation.open_step(), from_step)
    stage = stage or _next_stage(escalation)
    _check_target(escalation=escalation, target=stage, actor=actor, reason=reason)
    staff_chosen, partners_chosen = _split_partners([*addressees, *partners])
    if partners_chosen and responder is None and partner is None:
        partner = partners_chosen[0]
    _check_step_inputs(
        stage=stage,
        responder=responder,
        partner=partner,
        authority_id=escalation.authority_id,
        response_days=response_days,
        statement=statement,
        timescale_reason=timescale_reason,
    )
    _check_partner_addressees(
        stage=stage, partners=partners_chosen, authority_id=escalation.authority_id
    )
    people = _addressed(
        stage=stage,
        responder=responder,
        addressees=staff_chosen,
        authority_id=escalation.authority_id,
        actor=actor,
    )
    recipients = step_recipients(
        stage=stage,
        authority=escalation.authority,
        children=list(escalation.children.select_related("social_worker", "team")),
        raiser=escalation.raised_by,
        actor=actor,
        responder=_addressee_of(responder, partner),
        earlier=escalation_participants(escalation),
    )
    return _with_partners(_preview(recipients, people), partners_chosen)


def escalation_escalate(
    *,
    actor: StaffMember,
    escalation: Escalation,
    responder: StaffMember | None = None,
    partner: Partner | None = None,
    stage: Stage | None = None,
    reason: str = "",
    response_days: int | None = None,
    timescale_reason: str = "",
    statement: dict[str, str] | None = None,
    from_step: Step | None = None,
    addressees: Iterable[StaffMember | Partner] = (),
    partners: Iterable[Partner] = (),
    now: datetime | None = None,
) -> Step:
    """Not satisfied (or no response in time): raise the next stage, or skip to a later one.

    `from_step` is the step the person was looking at; if the escalation has moved on
    since, nothing happens and they are told so.
    """
    now = now or timezone.now()
    with transaction.atomic(), _refuse_races():
        escalation = _lock(escalation)
        _enforce(rules.closed_refusal(escalation))
        open_step = escalation.open_step(lock=True)
        _require_unchanged(open_step, from_step)
        stage = stage or _next_stage(escalation)
        skipped = _check_target(escalation=escalation, target=stage, actor=actor, reason=reason)
        if open_step is not None:
            verdict = Verdict.UNSATISFACTORY if open_step.responded_at else Verdict.NO_RESPONSE
            _close_step(open_step, verdict=verdict, now=now, judge=actor)
        step = _raise_step(
            escalation=escalation,
            stage=stage,
            responder=responder,
            partner=partner,
            actor=actor,
            now=now,
            skipped=skipped,
            reason=reason,
            response_days=response_days,
            statement=statement,
            timescale_reason=timescale_reason,
            addressees=[*addressees, *partners],
        )
        escalation.move_to_stage()
        escalation.save()
    return step


def _close_escalation(
    *,
    actor: StaffMember,
    escalation: Escalation,
    from_step: Step | None,
    now: datetime,
    action: rules.Action,
    verdict: Callable[[Step], str],
    transition: Callable[[Escalation], None],
    outcome: str,
    outcome_for_child: str = "",
) -> Escalation:
    """Resolve, decide or withdraw: judge the open step, apply the transition, record why."""
    with transaction.atomic(), _refuse_races():
        escalation = _lock(escalation)
        _enforce(rules.action_refusal(actor, escalation, action))
        open_step = escalation.open_step(lock=True)
        _require_unchanged(open_step, from_step)
        if open_step is not None:
            _close_step(open_step, verdict=verdict(open_step), now=now, judge=actor)
        transition(escalation)
        escalation.outcome = outcome.strip()
        escalation.outcome_for_child = outcome_for_child.strip()
        escalation.closed_at = now
        escalation.save()
        last_step = escalation.steps.order_by("-sequence").first()
        if last_step is not None:
            notifications.notify_escalation_closed(step=last_step, actor=actor, now=now)
    return escalation


def escalation_resolve(
    *,
    actor: StaffMember,
    escalation: Escalation,
    outcome: str,
    outcome_for_child: str = "",
    from_step: Step | None = None,
    now: datetime | None = None,
) -> Escalation:
    """The chair is satisfied: close the escalation with its outcome."""
    if not outcome.strip():
        raise ActionRefused("Record the outcome.", field="outcome")
    return _close_escalation(
        actor=actor,
        escalation=escalation,
        from_step=from_step,
        now=now or timezone.now(),
        action=rules.Action.RESOLVE,
        verdict=lambda step: (
            Verdict.SATISFACTORY if step.responded_at else Verdict.RESOLVED_BEFORE_RESPONSE
        ),
        transition=Escalation.resolve,
        outcome=outcome,
        outcome_for_child=outcome_for_child,
    )


def escalation_record_final_decision(
    *,
    actor: StaffMember,
    escalation: Escalation,
    decision: str,
    outcome_for_child: str = "",
    from_step: Step | None = None,
    now: datetime | None = None,
) -> Escalation:
    """At a stage whose decision is final: record it and close the escalation."""
    if not decision.strip():
        raise ActionRefused("Record the decision.", field="decision")
    return _close_escalation(
        actor=actor,
        escalation=escalation,
        from_step=from_step,
        now=now or timezone.now(),
        action=rules.Action.FINAL_DECISION,
        verdict=lambda step: Verdict.FINAL_DECISION,
        transition=Escalation.record_final_decision,
        outcome=decision,
        outcome_for_child=outcome_for_child,
    )


def escalation_withdraw(
    *,
    actor: StaffMember,
    escalation: Escalation,
    reason: str,
    from_step: Step | None = None,
    now: datetime | None = None,
) -> Escalation:
    if not reason.strip():
        raise ActionRefused("Say why the escalation is being withdrawn.", field="reason")
    return _close_escalation(
        actor=actor,
        escalation=escalation,
        from_step=from_step,
        now=now or timezone.now(),
        action=rules.Action.WITHDRAW,
        verdict=lambda step: Verdict.WITHDRAWN,
        transition=Escalation.withdraw,
        outcome=reason,
    )


def step_chase(*, actor: StaffMember, escalation: Escalation, now: datetime | None = None) -> Step:
    """Send everyone the open step still waits on a reminder now: the addressee, or on a
    stage addressed to several people each of them yet to reply (staff, or partner-agency
    contacts, reminded with their own link). An outbox row each, recorded on the step (and
    on each addressee's row).

    At most once a working day (rules.chase_refusal says why not, in words).
    """
    now = now or timezone.now()
    with transaction.atomic(), _refuse_races():
        escalation = _lock(escalation)
        _enforce(rules.chase_refusal(actor, escalation, today=timezone.localdate(now)))
        step = escalation.open_step(lock=True)
        assert step is not None  # the rule refuses when no step is open
        awaited = _awaited_addressees(step)
        active = [person for person in awaited if person.is_active]
        if not active and not step.addresses_several:
            raise ActionRefused(
                f"{step.addressee_name} is no longer active, so cannot be reminded: "
                "escalate to someone who can answer."
            )
        if not active:
            raise ActionRefused(
                "Nobody the stage still waits on is active any longer, so nobody can be "
                "reminded: address their parts to someone who can answer."
            )
        for person in active:
            # The n-th reminder to this person on this step is the outbox's occurrence n - 1.
            own = {"partner": person} if isinstance(person, Partner) else {"recipient": person}
            earlier = step.notifications.filter(kind=Kind.CHASE, **own).count()
            notifications.create_notifications(
                kind=Kind.CHASE, step=step, recipients=[person], now=now, occurrence=earlier
            )
        if step.addresses_several:
            rows = step.addressees.filter(responded_at__isnull=True).select_related(
                "staff", "partner"
            )
            for addressee in rows:
                if (addressee.staff or addressee.partner) in active:
                    # One saved at a time: the addressee's row is history-tracked.
                    addressee.chased_at = now
                    addressee.save(update_fields=["chased_at"])
        step.chased_at = now
        step.save(update_fields=["chased_at"])
    return step


def escalation_record_discussion(
    *,
    actor: StaffMember,
    escalation: Escalation,
    agreed: str,
    resolved: bool,
    outcome_for_child: str = "",
    from_step: Step | None = None,
    now: datetime | None = None,
) -> Escalation:
    """The chair records what the informal discussion agreed; then, if it settled the
    concern, the escalation is resolved with that as its outcome. If not, the informal
    step is left answered (awaiting the chair) for the chair to go formal, so the record
    says "Not satisfactory" rather than "Escalated without a response"."""
    now = now or timezone.now()
    if not agreed.strip():
        raise ActionRefused("Record what was agreed in the discussion.", field="agreed")
    with transaction.atomic(), _refuse_races():
        locked = _lock(escalation)
        _enforce(rules.discussion_refusal(actor, locked))
        step = locked.open_step(lock=True)
        _require_unchanged(step, from_step)
        assert step is not None  # the rule refuses when no informal step is open
        step.response = agreed.strip()
        step.responded_at = now
        step.responded_by = actor
        _start_issue_clock(step, locked, now)
        step.save()
        locked.receive_response()
        locked.save()
        if resolved:
            return escalation_resolve(
                actor=actor,
                escalation=locked,
                outcome=agreed,
                outcome_for_child=outcome_for_child,
                from_step=step,
                now=now,
            )
    return locked


# --- amending an open step: an extension, a change of addressee (on leave) -------------


def step_extend(
    *,
    actor: StaffMember,
    escalation: Escalation,
    new_due_on: date,
    reason: str,
    from_step: Step | None = None,
    now: datetime | None = None,
) -> StepAmendment:
    """Give the open step a later deadline, with the reason: recorded as an amendment (and
    in the step's history), told to the addressee and the chair. The sweep's reminders and
    overdue alerts then run to the new date (escalations/sweep.py)."""
    now = now or timezone.now()
    if not reason.strip():
        raise ActionRefused("Say why the deadline is being extended.", field="reason")
    with transaction.atomic(), _refuse_races():
        escalation = _lock(escalation)
        step = escalation.open_step(lock=True)
        _require_unchanged(step, from_step)
        _enforce(
            rules.extend_refusal(
                actor, escalation, new_due_on=new_due_on, today=timezone.localdate(now)
            )
        )
        assert step is not None and step.due_on is not None  # the rule refuses otherwise
        old_due_on = step.due_on
        step.due_on = new_due_on
        step.save()
        # Each addressee still to reply on a stage addressed to several people has the
        # stage's clock: it moves with it (one saved at a time, for their history).
        for addressee in step.addressees.filter(responded_at__isnull=True):
            if addressee.due_on is None or addressee.due_on < new_due_on:
                addressee.due_on = new_due_on
                addressee.save()
        amendment = StepAmendment.objects.create(
            step=step,
            kind=AmendmentKind.EXTENSION,
            reason=reason.strip(),
            made_by=actor,
            made_at=now,
            old_due_on=old_due_on,
            new_due_on=new_due_on,
        )
        notifications.notify_step_amended(
            step=step,
            amendment=amendment,
            addressed=_awaited_addressees(step),
            told=[escalation.raised_by],
            actor=actor,
            now=now,
        )
    return amendment


def _awaited_addressees(step: Step) -> list[StaffMember | Partner]:
    """Everyone the open step still waits on: its addressee (staff or partner), or on a
    stage addressed to several people each of them yet to reply, in the order asked."""
    if step.completion:
        return [
            person
            for a in step.addressees.select_related("staff__user", "partner")
            if not a.is_answered
            for person in (a.staff or a.partner,)
            if person is not None
        ]
    addressee = step.responder or step.partner
    return [addressee] if addressee is not None else []


def step_readdress(
    *,
    actor: StaffMember,
    escalation: Escalation,
    responder: StaffMember | None = None,
    partner: Partner | None = None,
    reason: str,
    replacing: Addressee | None = None,
    from_step: Step | None = None,
    now: datetime | None = None,
) -> StepAmendment:
    """Address the open step to someone else (the person asked is on leave, has left, …),
    with the reason; on a stage addressed to several people, `replacing` is whose part
    passes on. The new addressee is a member of staff (`responder`) who passes the raise's
    own role check, or, on a stage open to partner agencies, a contact from the partner
    directory (`partner`), who gets a fresh link of their own; the link of a partner the
    step (or the part) leaves closes (escalations/partner_access.py). Recorded as an
    amendment (and in the step's history); the new addressee is sent the step, the one it
    was addressed to and the chair are told. The deadline stays: extend it too if the new
    person needs longer."""
    now = now or timezone.now()
    if not reason.strip():
        raise ActionRefused("Say why the step is going to someone else.", field="reason")
    with transaction.atomic(), _refuse_races():
        escalation = _lock(escalation)
        step = escalation.open_step(lock=True)
        _require_unchanged(step, from_step)
        if replacing is not None:
            replacing = Addressee.objects.select_for_update().get(pk=replacing.pk)
        _enforce(
            rules.readdress_refusal(
                actor, escalation, responder=responder, partner=partner, replacing=replacing
            )
        )
        assert step is not None  # the rule refuses otherwise
        new = _addressee_of(responder, partner)
        if partner is not None:
            _check_partner(stage=step.stage, partner=partner, authority_id=escalation.authority_id)
        else:
            assert responder is not None  # _addressee_of refuses neither
            _check_responder(
                stage=step.stage,
                responder=responder,
                escalation_authority_id=escalation.authority_id,
            )
        old_staff: StaffMember | None
        # A partner-agency contact whose part passes on is told too (their link closes).
        old_partner = replacing.partner if replacing is not None else step.partner
        if replacing is not None:
            old_name, old_staff = replacing.name, replacing.staff
            was_first = (old_staff is not None and old_staff.pk == step.responder_id) or (
                replacing.partner_id is not None and replacing.partner_id == step.partner_id
            )
            replacing.staff, replacing.partner = responder, partner
            replacing.save()
        else:
            old_name, old_staff = step.addressee_name, step.responder
            was_first = True
        if was_first:
            step.responder, step.partner = responder, partner
            step.save()
        if partner is not None:
            partner_access_readdressed(step=step, partner=partner, addressee=replacing, now=now)
        amendment = StepAmendment.objects.create(
            step=step,
            kind=AmendmentKind.READDRESSED,
            reason=reason.strip(),
            made_by=actor,
            made_at=now,
            old_due_on=step.due_on,
            new_due_on=step.due_on,
            old_addressee=old_name,
            new_addressee=step.addressee_name if replacing is None else replacing.name,
        )
        notifications.notify_step_amended(
            step=step,
            amendment=amendment,
            addressed=[new],
            told=[p for p in (old_staff, old_partner, escalation.raised_by) if p is not None],
            actor=actor,
            now=now,
        )
    return amendment
