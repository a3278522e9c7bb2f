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

from children.models import Child, Conference
from escalations.loading import authority_policies
from escalations.models import Addressee, AmendmentKind, Escalation, State, Step
from policies.models import (
    BypassRule,
    Completion,
    LocalAuthority,
    Policy,
    RaisedBy,
    Role,
    Stage,
)
from policies.working_days import add_working_days, is_working_day, next_working_day_on_or_after
from staff.models import Partner, StaffMember


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
    """The policy's stages in order (from the prefetch cache when the caller loaded it,
    else with the raiser roles every stage_refusal reads)."""
    cache = getattr(policy, "_prefetched_objects_cache", {})
    if "stages" in cache:
        return list(cache["stages"])  # the loaded rows, without cloning the queryset
    return list(policy.stages.prefetch_related("raiser_roles"))


def _raiser_roles(stage: Stage) -> list[Role]:
    """The stage's raiser roles (from the prefetch cache when the caller loaded them)."""
    cache = getattr(stage, "_prefetched_objects_cache", {})
    if "raiser_roles" in cache:
        return list(cache["raiser_roles"])
    return list(stage.raiser_roles.all())


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
    """The stages a move to `target` passes over (optional and conditional ones included:
    the record names every stage not visited)."""
    policy, current = _position(on)
    start = current.order if current is not None else -1
    stages = ladder(policy) if stages is None else stages
    return [s for s in stages if start < s.order < target.order]


def counted_skips(skipped: list[Stage]) -> list[Stage]:
    """The passed-over stages that count as skipping for the bypass rule and its reason:
    an optional stage, or a conditional one whose condition does not apply, does not."""
    return [s for s in skipped if not s.may_pass_over]


def skipped_label(stage: Stage) -> str:
    """How the record names a stage passed over: an optional or conditional stage says so,
    so that a skip with no reason is not read as a broken rule."""
    if stage.optional:
        return f"{stage.name} (optional)"
    if stage.may_pass_over:
        return f"{stage.name} (conditional: did not apply)"
    return stage.name


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


def raiser_refusal(actor: StaffMember, on: Escalation | Policy, target: Stage) -> Refusal | None:
    """Why `actor` may not raise `target` (at the raise, or as the next move); None if
    they may.

    A stage with raiser roles is raised by their holders in the authority, whoever raised
    the escalation: holding one lets a person make that move and no other (resolving or
    withdrawing stays with the driver). A chair's role among them still means the chair
    driving this escalation, never any chair of the authority. Without raiser roles,
    `raised_by` decides: the escalation's raiser (or a QA manager standing in), or any QA
    manager of the authority.
    """
    policy, _current = _position(on)
    raiser_roles = _raiser_roles(target)
    if raiser_roles:
        holds = actor.authority_id == policy.authority_id and actor.role_id in {
            r.pk for r in raiser_roles
        }
        if holds and actor.is_chair and not may_drive(actor, on):
            return Refusal(NOT_THE_RAISER)
        if holds:
            return None
        names = " or the ".join(r.name for r in raiser_roles)
        return Refusal(f"{target.name} is raised by the {names}.", "stage")
    if target.raised_by == RaisedBy.QA_MANAGER and not (
        actor.is_quality_assurance and actor.authority_id == policy.authority_id
    ):
        return Refusal(f"{target.name} is raised by a QA manager.", "stage")
    if target.raised_by == RaisedBy.RAISER and not may_drive(actor, on):
        return Refusal(NOT_THE_RAISER)
    return None


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
        refusal = raiser_refusal(actor, on, target)
        if refusal is not None:
            return refusal

    # Optional stages, and conditional ones the chair judges do not apply, are passed over
    # without counting as skipped: no bypass rule and no reason for them.
    skipped = counted_skips(skipped_stages(on, target, stages=stages))
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


def _enters_any(on: Escalation | Policy, actor: StaffMember | None) -> bool:
    """Whether `enterable_stages(on, actor)` is not empty, stopping at the first stage."""
    policy, _current = _position(on)
    stages = ladder(policy)
    return any(stage_refusal(on, s, actor, stages=stages) is None for s in stages)


# --- when it may be raised --------------------------------------------------------------


def short_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def policies_in_force(authority: LocalAuthority, kind: str, on: date) -> list[Policy]:
    """The authority's policies of `kind` in force on `on` (Policy.effective_from).

    A dated version supersedes, from its date, the earlier-dated and undated policies of
    the same authority and kind; policies sharing the latest date (or all undated) are in
    force side by side, as an authority may run two procedures of a kind (Example
    Borough's alerts protocol and its multi-agency procedure). PolicyQuerySet.current_for
    picks one of them; this keeps them all.
    """
    return in_force_among([p for p in policy_candidates(authority, on) if p.kind == kind])


def policy_candidates(authority: LocalAuthority, on: date) -> list[Policy]:
    """The authority's active policies of every kind dated on or before `on` (or undated),
    by pk: those `in_force_among` chooses from, kind by kind. From the ladders the process
    holds (`authority_policies`), with the roles that raise under each."""
    return [
        p
        for p in authority_policies(authority)
        if p.is_active and (p.effective_from is None or p.effective_from <= on)
    ]


def in_force_among(candidates: list[Policy]) -> list[Policy]:
    """Of one kind's `policy_candidates`, those in force (`policies_in_force`): the
    latest-dated, or all of them when none is dated."""
    latest = max((p.effective_from for p in candidates if p.effective_from), default=None)
    return [p for p in candidates if p.effective_from == latest]


def version_refusal(policy: Policy, *, today: date) -> Refusal | None:
    """Why a concern may not be raised under `policy` today, it not being the version in
    force that day; None if it is. An escalation keeps its version afterwards: this is
    asked at the raise only."""
    in_force = policies_in_force(policy.authority, policy.kind, today)
    if policy in in_force:
        return None
    if policy.effective_from is not None and policy.effective_from > today:
        return Refusal(
            f"{policy.name} comes into force on {short_day(policy.effective_from)}: until "
            "then, open the raise page again to raise the concern under the version in force."
        )
    if not in_force:
        return Refusal(
            f"No version of {policy.name} is in force on {short_day(today)}: ask an administrator."
        )
    names = " or ".join(p.name for p in in_force)
    return Refusal(
        f"The version of this procedure in force on {short_day(today)} is {names}: open the "
        "raise page again to raise the concern under it."
    )


def raise_window_closes(
    policy: Policy, conference: Conference, *, closures: frozenset[date] | None = None
) -> date | None:
    """The last day a concern about `conference` may be raised under `policy`: the end of
    the Nth working day after the conference (None: the policy sets no window)."""
    if policy.raise_window_working_days is None:
        return None
    authority = policy.authority
    closures = authority.closure_dates() if closures is None else closures
    return add_working_days(
        conference.date,
        policy.raise_window_working_days,
        nation=authority.nation,
        closures=closures,
    )


def raise_window_refusal(
    policy: Policy,
    conference: Conference | None,
    *,
    today: date,
    closures: frozenset[date] | None = None,
) -> Refusal | None:
    """Why a concern may not be raised today under a policy with a raise window; None if
    it may (or the policy has no window).

    The window runs from a conference, so a policy with one needs to know which: without
    it the window could not be checked, and a concern raised weeks later would pass.
    """
    days = policy.raise_window_working_days
    if days is None:
        return None
    window = f"within {days} working day{'s' if days != 1 else ''} of the conference"
    if conference is None:
        return Refusal(
            f"This procedure asks for concerns to be raised {window}: choose the conference "
            "the concern arose from.",
            "conference",
        )
    last = raise_window_closes(policy, conference, closures=closures)
    assert last is not None  # the policy has a window
    if today > last:
        return Refusal(
            f"This procedure asks for concerns to be raised {window}. The conference was on "
            f"{short_day(conference.date)}, so the last day to raise a concern about it was "
            f"{short_day(last)}.",
            "conference",
        )
    return None


def issue_clock_refusal(stage: Stage, conference: Conference | None) -> Refusal | None:
    """Why a concern may not start at `stage` without its conference: the first stage's
    issue-by clock runs from the conference (docs/architecture.md §3), so without one the
    clock would start the day it is raised and could never be late."""
    if stage.issue_within_days is None or conference is not None:
        return None
    days = stage.issue_within_days
    unit = "working day" if stage.day_type == "working" else "day"
    return Refusal(
        f"{stage.name} is to be issued within {days} {unit}{'s' if days != 1 else ''} of the "
        "conference: choose the conference the concern arose from.",
        "conference",
    )


def reason_may_be_needed(on: Escalation | Policy, stages: list[Stage]) -> bool:
    """Whether moving to any of `stages` skips a stage that counts (so a reason may be
    asked for): the forms show the reason box only then."""
    return any(counted_skips(skipped_stages(on, s)) for s in stages)


# --- what may be done now --------------------------------------------------------------


def closed_refusal(escalation: Escalation) -> Refusal | None:
    if escalation.is_open:
        return None
    return Refusal(
        f"This escalation is {escalation.get_state_display().lower()}: it can no longer change."
    )


STEP_CLOSED = (
    "This step has closed (the escalation has moved on), so a response can no "
    "longer be recorded here."
)


def respond_refusal(actor: StaffMember | Partner, step: Step | None) -> Refusal | None:
    """Why `actor` may not answer `step` (the escalation's open step, for the page).

    On a stage addressed to several people each answers their own part, once, while the
    stage still waits on them (`addressee_refusal`).
    """
    if step is None:
        return Refusal("No step of this escalation is waiting for a response.")
    if step.addresses_several:
        return addressee_refusal(actor, step)
    # A partner-agency contact (through their link) answers a step addressed to them as a
    # partner; staff the step addressed to them as staff. Never one for the other.
    addressed_id = step.partner_id if isinstance(actor, Partner) else step.responder_id
    if actor.pk != addressed_id:
        return Refusal("This step is addressed to someone else.")
    if step.is_answered:
        return Refusal("A response to this step has already been recorded.")
    if not step.is_open:
        return Refusal(STEP_CLOSED)
    return closed_refusal(step.escalation)


# --- a stage addressed to several people -------------------------------------------------


def addressee_of(actor: StaffMember | Partner, step: Step) -> Addressee | None:
    """`actor`'s own part of a stage addressed to several people (None: not addressed).
    A partner-agency contact matches only a partner's row, staff only a staff row."""
    if isinstance(actor, Partner):
        return next((a for a in step.addressees.all() if a.partner_id == actor.pk), None)
    return next((a for a in step.addressees.all() if a.staff_id == actor.pk), None)


def is_addressed_to(actor: StaffMember | Partner, step: Step) -> bool:
    """Whether the step asks `actor` to respond: its responder (or partner), or one of its
    addressees. Who may open the response page and the e-mailed link."""
    if step.addresses_several:
        return addressee_of(actor, step) is not None
    if isinstance(actor, Partner):
        return step.partner_id == actor.pk
    return step.responder_id == actor.pk


def has_replied(actor: StaffMember, step: Step) -> bool:
    """Whether `actor`'s own reply to `step` is in (their part, on a stage addressed to
    several people)."""
    if step.addresses_several:
        mine = addressee_of(actor, step)
        return mine is not None and mine.is_answered
    return step.is_answered and step.responder_id == actor.pk


def stage_complete(completion: str, addressees: list[Addressee]) -> bool:
    """Whether the replies in complete the stage by its completion rule.

    All: everyone has replied. Any: one reply is enough, and the others are no longer
    asked. The chair decides: from the first reply the stage waits on the chair (it is
    answered, so it shows among the responses awaiting their verdict and its respond clock
    stops), who may judge it then or wait for more; the others may still reply, and are
    still reminded, until the chair does. Before any reply the chair can only escalate or
    close it without a response, as on any stage.
    """
    replies = sum(1 for a in addressees if a.is_answered)
    if completion == Completion.ALL:
        return replies == len(addressees)
    return replies >= 1


def addressee_refusal(actor: StaffMember | Partner, step: Step) -> Refusal | None:
    """Why `actor` may not reply to their part of a stage addressed to several people."""
    addressee = addressee_of(actor, step)
    if addressee is None:
        return Refusal("This step is addressed to someone else.")
    if addressee.is_answered:
        return Refusal("You have already replied to this step.")
    if not step.is_open:
        return Refusal(STEP_CLOSED)
    if step.is_answered and step.completion != Completion.CHAIR:
        return Refusal(
            "This stage has already been answered: one reply was enough, so yours is no "
            "longer needed."
        )
    return closed_refusal(step.escalation)


def default_addressees(stage: Stage, children: list[Child]) -> list[StaffMember]:
    """Whom a stage addressed to several people goes to unless the chair changes it: for
    each role it names (its role, then its other roles), the holder in the children's
    allocated line."""
    found: list[StaffMember] = []
    for role in [stage.role, *stage.also_roles.all()]:
        holder = _line_holder(role.pk, children)
        if holder is not None and holder not in found:
            found.append(holder)
    return found


def _line_holder(role_id: int, children: list[Child]) -> StaffMember | None:
    for child in children:
        worker = child.social_worker
        if worker is None:
            continue
        for person in [worker, *worker.line_chain()]:
            if person.role_id == role_id and person.is_active:
                return person
    return None


def action_refusal(actor: StaffMember, escalation: Escalation, action: Action) -> Refusal | None:
    """Why `actor` may not take `action` on `escalation` now; None if they may."""
    if action == Action.RESPOND:
        return respond_refusal(actor, escalation.open_step())
    if action == Action.ESCALATE:
        refusal = closed_refusal(escalation)
        if refusal is None and not _enters_any(escalation, actor):
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
                f"{step.addressee_name} was already reminded on "
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


# --- amending an open step: an extension, a change of addressee -------------------------

# The sweep's alerts for an extended step start again under fresh occurrence numbers
# (escalations/sweep.py, ALERTS_PER_EXTENSION); the outbox counts occurrences in a small
# integer, so one step can be extended only so many times. Far beyond any real case.
MAX_EXTENSIONS = 30


def _on_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def _amendable_step(actor: StaffMember, escalation: Escalation, doing: str) -> Step | Refusal:
    """The open step still waiting for a response, which the driver may amend; or why not."""
    if not may_drive(actor, escalation):
        return Refusal(f"Only the person who raised this escalation (or a QA manager) can {doing}.")
    refusal = closed_refusal(escalation)
    if refusal is not None:
        return refusal
    step = escalation.open_step()
    if step is None or not step.is_awaiting_response:
        return Refusal(
            f"Nobody is waiting to respond to this escalation, so you cannot {doing} now."
        )
    return step


def extend_refusal(
    actor: StaffMember,
    escalation: Escalation,
    *,
    new_due_on: date | None = None,
    today: date | None = None,
    closures: frozenset[date] | None = None,
) -> Refusal | None:
    """Why `actor` may not extend the open step's deadline (to `new_due_on`, when given:
    the form's question; without it, the page's button); None if they may.

    The new date is a working day after the current deadline, not in the past, and not
    beyond the formal cap: the policy's limit on the whole process is not the chair's to move.
    """
    step = _amendable_step(actor, escalation, "extend the deadline")
    if isinstance(step, Refusal):
        return step
    if step.due_on is None:
        return Refusal("This stage has no deadline of its own, so there is nothing to extend.")
    extensions = [a for a in step.amendments.all() if a.kind == AmendmentKind.EXTENSION]
    if len(extensions) >= MAX_EXTENSIONS:
        return Refusal(
            f"This step has been extended {len(extensions)} times: escalate it or address it "
            "to someone else instead."
        )
    if new_due_on is None:
        return None
    if new_due_on <= step.due_on:
        return Refusal(
            f"Choose a date after the current deadline, {_on_date(step.due_on)}.", "new_due_on"
        )
    if today is not None and new_due_on < today:
        return Refusal("Choose a date from today onwards.", "new_due_on")
    authority = escalation.authority
    closures = authority.closure_dates() if closures is None else closures
    if not is_working_day(new_due_on, nation=authority.nation, closures=closures):
        return Refusal(
            f"{_on_date(new_due_on)} is not a working day: choose a working day.", "new_due_on"
        )
    if step.cap_due_on is not None and new_due_on > step.cap_due_on:
        return Refusal(
            f"The policy's time limit for the whole formal process is {_on_date(step.cap_due_on)}: "
            "an extension cannot go beyond it.",
            "new_due_on",
        )
    return None


def readdress_refusal(
    actor: StaffMember,
    escalation: Escalation,
    *,
    responder: StaffMember | None = None,
    replacing: Addressee | None = None,
    partner: Partner | None = None,
) -> Refusal | None:
    """Why `actor` may not address the open step to someone else (to `responder`, or to
    `partner` from the partner directory, in place of `replacing` on a stage addressed to
    several people, when given); None if they may.

    Whether `responder` holds a role the stage is addressed to, and whether the stage is
    open to partners and `partner` is in this authority's directory, are the raise's own
    checks (services._check_responder, services._check_partner), made again by the service.
    """
    step = _amendable_step(actor, escalation, "change who responds")
    if isinstance(step, Refusal):
        return step
    if responder is not None and partner is not None:
        return Refusal(
            "Choose a member of staff or a partner-agency contact to respond, not both.",
            "partner",
        )
    several = bool(step.completion)
    if replacing is not None:
        if replacing.step_id != step.pk:
            return Refusal("Choose someone this stage is addressed to now.", "replacing")
        if replacing.is_answered:
            return Refusal(
                f"{replacing.name} has already replied, so their part cannot be passed on.",
                "replacing",
            )
    elif several and (responder is not None or partner is not None):
        return Refusal("Choose whose part of this stage is to go to someone else.", "replacing")
    if partner is not None:
        partners = {a.partner_id for a in step.addressees.all()} if several else set()
        partners.add(step.partner_id)
        if partner.pk in partners:
            return Refusal(f"{partner.name} is already addressed at this stage.", "partner")
        return None
    if responder is None:
        return None
    if responder.pk == actor.pk:
        return Refusal("You cannot ask yourself to respond.", "responder")
    addressed = {a.staff_id for a in step.addressees.all()} if several else set()
    addressed.add(step.responder_id)
    if responder.pk in addressed:
        return Refusal(f"{responder.display_name} is already addressed at this stage.", "responder")
    return None
