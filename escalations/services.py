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
    Attachment,
    Escalation,
    Nature,
    Step,
    Verdict,
)
from notifications import services as notifications
from notifications.models import Kind
from notifications.recipients import StepRecipients, escalation_participants, step_recipients
from policies.deadlines import formal_cap_deadline, stage_deadline
from policies.models import (
    ConcernCategory,
    Policy,
    PolicyKind,
    Stage,
)
from staff.models import StaffMember

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


def _check_step_inputs(
    *,
    stage: Stage,
    responder: StaffMember,
    authority_id: int,
    response_days: int | None,
    statement: dict[str, str] | None,
) -> None:
    _check_responder(stage=stage, responder=responder, escalation_authority_id=authority_id)
    if response_days is not None and not stage.chair_sets_timescale:
        raise ActionRefused(
            f"The policy sets the timescale for {stage.name}.", field="response_days"
        )
    if response_days is not None and not 0 < response_days <= 365:
        raise ActionRefused("Give a timescale between 1 and 365 days.", field="response_days")
    if stage.statement_required:
        statement = statement or {}
        for key, label in (
            ("issue", "the issue"),
            ("actions", "what you have done to resolve it"),
            ("wanted", "what you want to happen"),
        ):
            if not statement.get(key, "").strip():
                raise ActionRefused(
                    f"The written statement must say {label}.", field=f"statement_{key}"
                )


def _raise_step(
    *,
    escalation: Escalation,
    stage: Stage,
    responder: StaffMember,
    actor: StaffMember,
    now: datetime,
    skipped: list[Stage],
    reason: str,
    response_days: int | None,
    statement: dict[str, str] | None = None,
) -> Step:
    _check_step_inputs(
        stage=stage,
        responder=responder,
        authority_id=escalation.authority_id,
        response_days=response_days,
        statement=statement,
    )
    closures = escalation.authority.closure_dates()
    if not stage.is_informal and escalation.formal_started_at is None:
        escalation.formal_started_at = now
        escalation.formal_cap_due_on = formal_cap_deadline(
            policy=escalation.policy,
            authority=escalation.authority,
            started_at=now,
            closures=closures,
        )
    received_on, due_on = stage_deadline(
        stage=stage,
        authority=escalation.authority,
        received_at=now,
        response_days=response_days,
        closures=closures,
    )
    escalation.current_stage = stage
    sequence = escalation.steps.count() + 1
    statement = statement or {}
    step = Step.objects.create(
        escalation=escalation,
        sequence=sequence,
        stage=stage,
        responder=responder,
        raised_by=actor,
        raised_at=now,
        stage_name=stage.name,
        stage_order=stage.order,
        mode=stage.mode,
        response_days=response_days if response_days is not None else stage.response_days,
        day_type=stage.day_type,
        is_final=stage.final,
        received_on=received_on,
        due_on=due_on,
        cap_due_on=None if stage.is_informal else escalation.formal_cap_due_on,
        skipped_stage_names=", ".join(s.name for s in skipped),
        skip_reason=reason.strip() if skipped else "",
        statement_issue=statement.get("issue", "").strip(),
        statement_actions=statement.get("actions", "").strip(),
        statement_wanted=statement.get("wanted", "").strip(),
    )
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


def _prepare_raise(
    *,
    actor: StaffMember,
    policy: Policy,
    children: Iterable[Child],
    summary: str,
    responder: StaffMember,
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
    if responder.pk == actor.pk:
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

    return _Raise(stage=stage, reason=reason, children=children, categories=categories, now=now)


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
    responder: StaffMember,
    stage: Stage | None = None,
    categories: Iterable[ConcernCategory] = (),
    desired_outcome: str = "",
    reason: str = "",
    immediate_safety: bool = False,
    nature: str = Nature.CONCERN,
    about_staff: StaffMember | None = None,
    conference: Conference | None = None,
    response_days: int | None = None,
    statement: dict[str, str] | None = None,
    request_token: uuid.UUID | None = None,
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
            actor=actor,
            now=now,
            skipped=skipped,
            reason=reason,
            response_days=response_days,
            statement=statement,
        )
        escalation.save()
    return escalation


def escalation_raise_recipients(
    *,
    actor: StaffMember,
    policy: Policy,
    children: Iterable[Child],
    summary: str,
    responder: StaffMember,
    stage: Stage | None = None,
    categories: Iterable[ConcernCategory] = (),
    desired_outcome: str = "",
    reason: str = "",
    immediate_safety: bool = False,
    nature: str = Nature.CONCERN,
    about_staff: StaffMember | None = None,
    conference: Conference | None = None,
    response_days: int | None = None,
    statement: dict[str, str] | None = None,
    request_token: uuid.UUID | None = None,
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
        stage=stage,
        categories=categories,
        reason=reason,
        immediate_safety=immediate_safety,
        about_staff=about_staff,
        conference=conference,
        now=now,
    )
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
        authority_id=policy.authority_id,
        response_days=response_days,
        statement=statement,
    )
    return step_recipients(
        stage=checked.stage,
        authority=policy.authority,
        children=checked.children,
        raiser=actor,
        actor=actor,
        responder=responder,
    )


def step_respond(
    *,
    actor: StaffMember,
    step: Step,
    response: str,
    meeting_date: date | None = None,
    meeting_attendees: str = "",
    attachments: Iterable[UploadedFile] = (),
    now: datetime | None = None,
) -> Step:
    """The responder's answer (or the record of the meeting) for their step. Once only."""
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
        step.response = response.strip()
        step.responded_at = now
        step.responded_by = actor
        step.meeting_date = meeting_date
        step.meeting_attendees = meeting_attendees.strip()
        step.save()
        for upload, name, content_type, size in checked:
            Attachment.objects.create(
                step=step,
                file=upload,
                original_name=name,
                content_type=content_type,
                size=size,
                uploaded_by=actor,
                uploaded_at=now,
            )
        escalation.receive_response()
        escalation.save()
        notifications.notify_response_received(step=step, now=now)
    return step


def _next_stage(escalation: Escalation) -> Stage:
    stage = rules.next_stage(escalation)
    if stage is None:
        raise ActionRefused(rules.LAST_STAGE)
    return stage


def escalation_escalate_recipients(
    *,
    actor: StaffMember,
    escalation: Escalation,
    responder: StaffMember,
    stage: Stage | None = None,
    reason: str = "",
    response_days: int | None = None,
    statement: dict[str, str] | None = None,
    from_step: Step | None = None,
) -> StepRecipients:
    """Who escalating with these answers would address and copy, after the escalation's
    own checks (read without locks: the escalation itself checks again under its lock)."""
    _enforce(rules.closed_refusal(escalation))
    _require_unchanged(escalation.open_step(), from_step)
    stage = stage or _next_stage(escalation)
    _check_target(escalation=escalation, target=stage, actor=actor, reason=reason)
    _check_step_inputs(
        stage=stage,
        responder=responder,
        authority_id=escalation.authority_id,
        response_days=response_days,
        statement=statement,
    )
    return step_recipients(
        stage=stage,
        authority=escalation.authority,
        children=list(escalation.children.select_related("social_worker", "team")),
        raiser=escalation.raised_by,
        actor=actor,
        responder=responder,
        earlier=escalation_participants(escalation),
    )


def escalation_escalate(
    *,
    actor: StaffMember,
    escalation: Escalation,
    responder: StaffMember,
    stage: Stage | None = None,
    reason: str = "",
    response_days: int | None = None,
    statement: dict[str, str] | None = None,
    from_step: Step | None = None,
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
            actor=actor,
            now=now,
            skipped=skipped,
            reason=reason,
            response_days=response_days,
            statement=statement,
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
    """Send the open step's addressee a reminder now: an outbox row, recorded on the step.

    At most once a working day (rules.chase_refusal says why not, in words).
    """
    now = now or timezone.now()
    with transaction.atomic(), _refuse_races():
        escalation = _lock(escalation)
        _enforce(rules.chase_refusal(actor, escalation, today=timezone.localdate(now)))
        step = escalation.open_step(lock=True)
        assert step is not None  # the rule refuses when no step is open
        if not step.responder.is_active:
            raise ActionRefused(
                f"{step.responder.display_name} is no longer active, so cannot be reminded: "
                "escalate to someone who can answer."
            )
        earlier = step.notifications.filter(kind=Kind.CHASE, recipient=step.responder).count()
        notifications.create_notifications(
            kind=Kind.CHASE,
            step=step,
            recipients=[step.responder],
            now=now,
            occurrence=earlier,
        )
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
