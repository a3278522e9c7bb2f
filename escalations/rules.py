"""The ladder's rules: where an escalation may start or go next, and who may do what now.

Each rule is written here once. The services enforce with it (refusing in the words the
rule gives), the escalation page draws its buttons from `allowed_actions`, the raise and
escalate forms offer exactly `enterable_stages`, and the sweep's auto-escalation and the
load generator ask `next_stage` and `stage_refusal` rather than keeping copies.

Why these are not django-fsm `conditions=`/`permission=`: a condition sees only the
escalation, but the ladder's rules turn on the target stage, the person acting, the
reason they gave and the immediate-safety route, and each refusal must say which rule
refused in plain words (the FSM only says "not allowed"). Wiring half of them into the
FSM would give them two homes again. So the FSM on Escalation.state is the state guard
only (which state may follow which, and with ConcurrentTransitionMixin that nobody moved
it underneath), and everything about people and stages lives here.

Everything here reads; nothing writes. `stage_refusal` and `enterable_stages` take an
escalation (moving on from its current stage) or a policy (starting out, at the raise).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from django.utils import timezone

from children.models import Child
from escalations.models import Escalation, State, Step
from policies.models import BypassRule, Policy, RaisedBy, Stage
from policies.working_days import next_working_day_on_or_after
from staff.models import StaffMember


class Action(StrEnum):
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    FINAL_DECISION = "final_decision"
    WITHDRAW = "withdraw"
    RESPOND = "respond"


@dataclass(frozen=True)
class Refusal:
    """Why not, in plain words; `field` names the form field it is about, if one."""

    message: str
    field: str | None = None


NOT_THE_DRIVER = "Only the person who raised this escalation (or a QA manager) can do that."
NOT_THE_RAISER = "Only the person who raised this escalation can move it to that stage."
LAST_STAGE = "This is the last stage of the policy: there is no next stage."


# --- the ladder ------------------------------------------------------------------------


def ladder(policy: Policy) -> list[Stage]:
    """The policy's stages in order (from the prefetch cache when the caller loaded it)."""
    return list(policy.stages.all())


def _position(on: Escalation | Policy) -> tuple[Policy, Stage | None]:
    if isinstance(on, Policy):
        return on, None
    return on.policy, on.current_stage


def next_stage(on: Escalation | Policy, *, stages: list[Stage] | None = None) -> Stage | None:
    """The stage after the current one (the first, at the raise), passing over referrals."""
    policy, current = _position(on)
    after = current.order if current is not None else -1
    stages = ladder(policy) if stages is None else stages
    return next((s for s in stages if s.order > after and not s.referral), None)


def safety_stage(policy: Policy, *, stages: list[Stage] | None = None) -> Stage | None:
    """The stage the policy's immediate-safety route leads to, if it has one."""
    if policy.immediate_safety_role_id is None:
        return None
    stages = ladder(policy) if stages is None else stages
    return next((s for s in stages if s.role_id == policy.immediate_safety_role_id), None)


def skipped_stages(
    on: Escalation | Policy, target: Stage, *, stages: list[Stage] | None = None
) -> list[Stage]:
    """The stages a move to `target` passes over."""
    policy, current = _position(on)
    start = current.order if current is not None else -1
    stages = ladder(policy) if stages is None else stages
    return [s for s in stages if start < s.order < target.order]


def opening_state(stage: Stage) -> State:
    """The state an escalation raised at `stage` opens in."""
    return State.INFORMAL if stage.is_informal else State.AWAITING_RESPONSE


# --- people ----------------------------------------------------------------------------


def may_drive(actor: StaffMember, on: Escalation | Policy) -> bool:
    """The person who raised it drives it; a QA manager of the authority may stand in.
    At the raise (a policy) the raiser is the actor."""
    if actor.authority_id != on.authority_id:
        return False
    if isinstance(on, Policy):
        return True
    return actor.pk == on.raised_by_id or actor.is_quality_assurance


def default_responder(stage: Stage, children: list[Child]) -> StaffMember | None:
    """The person in the child's allocated line who holds the stage's role, if any."""
    for child in children:
        worker = child.social_worker
        if worker is None:
            continue
        for person in [worker, *worker.line_chain()]:
            if person.role_id == stage.role_id and person.is_active:
                return person
    return None


# --- where it may go -------------------------------------------------------------------


def stage_refusal(
    on: Escalation | Policy,
    target: Stage,
    actor: StaffMember | None,
    *,
    reason: str | None = None,
    immediate_safety: bool = False,
    stages: list[Stage] | None = None,
) -> Refusal | None:
    """Why `actor` may not start at (a policy) or move to (an escalation) `target`; None
    if they may.

    `actor` None judges the ladder alone, for a caller that picks who raises each stage
    by its `raised_by` (the load generator). `reason` None leaves out the policy's demand
    for a reason when stages are skipped (what the forms offer before anything is typed).
    """
    policy, current = _position(on)
    stages = ladder(policy) if stages is None else stages
    if target.policy_id != policy.pk:
        return Refusal("That stage belongs to another policy.", "stage")
    if current is not None and target.is_informal:
        return Refusal("An escalation cannot go back to the informal stage.", "stage")
    if current is not None and target.order <= current.order:
        return Refusal("Choose a later stage than the current one.", "stage")
    if current is not None and current.final and not target.referral:
        return Refusal(
            f"The decision at {current.name} is final: record it rather than escalating.",
            "stage",
        )
    if actor is not None:
        if target.raised_by == RaisedBy.QA_MANAGER and not (
            actor.is_quality_assurance and actor.authority_id == policy.authority_id
        ):
            return Refusal(f"{target.name} is raised by a QA manager.", "stage")
        if target.raised_by == RaisedBy.RAISER and not may_drive(actor, on):
            return Refusal(NOT_THE_RAISER)

    skipped = skipped_stages(on, target, stages=stages)
    # The immediate-safety route lifts the bypass rule only for the stage it leads to.
    safety_route = immediate_safety and target == safety_stage(policy, stages=stages)
    # A policy with no informal stage starts at Stage 1 without skipping anything.
    if skipped and not (target.referral or safety_route):
        rule = policy.bypass_rule
        if not (
            rule == BypassRule.ANY or (rule == BypassRule.DIRECT_ENTRY_ONLY and target.direct_entry)
        ):
            names = ", ".join(s.name for s in skipped)
            return Refusal(
                f"This policy does not allow going straight to {target.name} "
                f"(it would skip {names}).",
                "stage",
            )
        if reason is not None and policy.bypass_reason_required and not reason.strip():
            return Refusal("The policy asks you to record why stages are being skipped.", "reason")
    return None


def enterable_stages(
    on: Escalation | Policy, actor: StaffMember | None, *, immediate_safety: bool = False
) -> list[Stage]:
    """The stages `actor` may start at (a policy) or move to now (an escalation), in order."""
    policy, _current = _position(on)
    stages = ladder(policy)
    return [
        s
        for s in stages
        if stage_refusal(on, s, actor, immediate_safety=immediate_safety, stages=stages) is None
    ]


# --- what may be done now --------------------------------------------------------------


def closed_refusal(escalation: Escalation) -> Refusal | None:
    if escalation.is_open:
        return None
    return Refusal(
        f"This escalation is {escalation.get_state_display().lower()}: it can no longer change."
    )


def respond_refusal(actor: StaffMember, step: Step | None) -> Refusal | None:
    """Why `actor` may not answer `step` (the escalation's open step, for the page)."""
    if step is None:
        return Refusal("No step of this escalation is waiting for a response.")
    if actor.pk != step.responder_id:
        return Refusal("This step is addressed to someone else.")
    if step.is_answered:
        return Refusal("A response to this step has already been recorded.")
    if not step.is_open:
        return Refusal(
            "This step has closed (the escalation has moved on), so a response can no "
            "longer be recorded here."
        )
    return closed_refusal(step.escalation)


def action_refusal(actor: StaffMember, escalation: Escalation, action: Action) -> Refusal | None:
    """Why `actor` may not take `action` on `escalation` now; None if they may."""
    if action == Action.RESPOND:
        return respond_refusal(actor, escalation.open_step())
    if action == Action.ESCALATE:
        refusal = closed_refusal(escalation)
        if refusal is None and not enterable_stages(escalation, actor):
            # Nowhere to go: say why not the next stage, the one they would expect.
            following = next_stage(escalation)
            if following is not None:
                refusal = stage_refusal(escalation, following, actor)
            refusal = refusal or Refusal(LAST_STAGE)
        return refusal
    # Resolve, record the final decision, withdraw: the driver's to do.
    if not may_drive(actor, escalation):
        return Refusal(NOT_THE_DRIVER)
    refusal = closed_refusal(escalation)
    final = escalation.state != State.INFORMAL and escalation.at_final_stage()
    if refusal is None and action == Action.FINAL_DECISION and not final:
        refusal = Refusal("Only a stage whose decision is final can close with a final decision.")
    return refusal


def allowed_actions(actor: StaffMember, escalation: Escalation) -> set[Action]:
    """What `actor` may do to `escalation` now: what the escalation page offers."""
    return {a for a in Action if action_refusal(actor, escalation, a) is None}


# --- chasing and the informal discussion ---------------------------------------------


def chase_refusal(
    actor: StaffMember,
    escalation: Escalation,
    *,
    today: date,
    closures: frozenset[date] | None = None,
) -> Refusal | None:
    """Why `actor` may not send the open step's addressee a reminder now; None if they may.

    Once a working day per step: a reminder sent on a day off counts for the next working
    day, so a weekend's reminder and Monday's are one and the same. `closures`: the
    authority's closure days, when the caller has them already.
    """
    if not may_drive(actor, escalation):
        return Refusal("Only the person who raised this escalation (or a QA manager) can chase it.")
    refusal = closed_refusal(escalation)
    if refusal is not None:
        return refusal
    step = escalation.open_step()
    if step is None or not step.is_awaiting_response:
        return Refusal("Nobody is waiting to respond, so there is no one to remind.")
    if step.chased_at is not None:
        authority = escalation.authority
        closures = authority.closure_dates() if closures is None else closures
        sent = timezone.localtime(step.chased_at)
        sent_for = next_working_day_on_or_after(
            sent.date(), nation=authority.nation, closures=closures
        )
        if sent_for == next_working_day_on_or_after(
            today, nation=authority.nation, closures=closures
        ):
            again = next_working_day_on_or_after(
                sent_for + timedelta(days=1), nation=authority.nation, closures=closures
            )
            return Refusal(
                f"{step.responder.display_name} was already reminded on "
                f"{sent:%a} {sent.day} {sent:%b} at {sent:%H:%M}. One reminder a working day "
                f"is enough: you can send another from {again:%a} {again.day} {again:%b}."
            )
    return None


def discussion_refusal(actor: StaffMember, escalation: Escalation) -> Refusal | None:
    """Why `actor` may not record the outcome of the informal discussion; None if they may."""
    if not may_drive(actor, escalation):
        return Refusal(NOT_THE_DRIVER)
    refusal = closed_refusal(escalation)
    if refusal is not None:
        return refusal
    step = escalation.open_step()
    if step is None or not step.is_informal or escalation.state != State.INFORMAL:
        return Refusal("Only an informal discussion still under way can have its outcome recorded.")
    if step.is_answered:
        return Refusal("The outcome of this discussion has already been recorded.")
    return None
