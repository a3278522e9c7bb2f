"""Who is told about a step: the one home of the need-to-know rule (docs/architecture.md §5).

A stage's copy list names *relationships to this case* (the children's social workers,
the managers in their line, the raiser's line, earlier recipients, the QA manager for
the case, the holder of a single named post), never every holder of a role. The raise
form's preview, the outbox and the closing notices all ask these functions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from children.models import Child
from escalations.models import Addressee, Escalation, Step
from notifications.models import Kind
from policies.models import LocalAuthority, Role, Stage
from staff.models import Partner, StaffMember


@dataclass(frozen=True)
class Copy:
    person: StaffMember
    why: str


@dataclass(frozen=True)
class StepRecipients:
    """The addressee, the people copied (with why), and whom the policy wanted but nobody is."""

    # Council staff, or a partner-agency contact from the directory.
    addressee: StaffMember | Partner
    copies: tuple[Copy, ...] = ()
    unfilled: tuple[str, ...] = field(default=())

    @property
    def signature(self) -> str:
        """Changes whenever the list of people changes: the form's 'I have seen who is told'."""
        first = ("partner" if isinstance(self.addressee, Partner) else "staff", self.addressee.pk)
        ids = [first, *sorted(c.person.pk for c in self.copies)]
        return hashlib.sha256(repr(ids).encode()).hexdigest()[:16]


def _line_above(child: Child) -> list[StaffMember]:
    """The managers above the child's social worker, nearest first.

    With no social worker allocated (the commonest drift), the line starts at the
    managers of the child's team: team members whom other team members report to.
    """
    if child.social_worker is not None:
        return child.social_worker.line_chain()
    if child.team_id is None:
        return []
    members = list(
        StaffMember.objects.filter(team_id=child.team_id, is_active=True).select_related(
            "role", "line_manager__role"
        )
    )
    managers = {m.line_manager_id for m in members if m.line_manager_id}
    line: list[StaffMember] = []
    for person in (m for m in members if m.pk in managers):
        for manager in [person, *person.line_chain()]:
            if manager not in line:
                line.append(manager)
    return line


def _holder_in(line: Iterable[StaffMember], role: Role) -> StaffMember | None:
    return next((p for p in line if p.role_id == role.pk and p.is_active), None)


def qa_managers_for(authority: LocalAuthority, children: Sequence[Child]) -> list[StaffMember]:
    """The QA manager(s) for these children: those on their teams, else the authority's."""
    qa = list(
        StaffMember.objects.filter(
            authority=authority, is_active=True, role__is_quality_assurance=True
        ).select_related("user", "role")
    )
    teams = {c.team_id for c in children if c.team_id}
    on_team = [p for p in qa if p.team_id in teams]
    return on_team or qa


def step_recipients(
    *,
    stage: Stage,
    authority: LocalAuthority,
    children: Sequence[Child],
    raiser: StaffMember,
    actor: StaffMember,
    responder: StaffMember | Partner,
    earlier: Iterable[StaffMember] = (),
) -> StepRecipients:
    """Who a step at `stage` goes to and who is copied, worked out from this case alone.

    `raiser` raised the escalation; `actor` raises this step (a QA manager at Rutland
    Stage 5); `earlier` is everyone addressed or copied at earlier steps.
    """
    copies: dict[int, Copy] = {}
    unfilled: list[str] = []

    def add(people: Iterable[StaffMember], why: str) -> None:
        for person in people:
            if person.is_active and person.pk not in copies:
                copies[person.pk] = Copy(person, why)

    if stage.copy_social_workers:
        workers = [c.social_worker for c in children if c.social_worker is not None]
        add(workers, "the children's allocated social worker")
        if len(workers) < len(children):
            unfilled.append("the allocated social worker: no social worker is allocated")

    lines = [_line_above(child) for child in children]
    for role in stage.copy_case_line_roles.all():
        found = [p for p in (_holder_in(line, role) for line in lines) if p is not None]
        add(found, f"{role.name} in the children's management line")
        if not found:
            unfilled.append(f"the {role.name} in the children's management line: nobody holds it")
    if stage.copy_case_line_up_to is not None:
        top = stage.copy_case_line_up_to
        found_top = False
        for line in lines:
            reached = next((i for i, p in enumerate(line) if p.role_id == top.pk), None)
            if reached is not None:
                found_top = True
                add(line[: reached + 1], f"the children's management line up to {top.name}")
        if not found_top:
            unfilled.append(
                f"the children's management line up to the {top.name}: nobody in it holds that post"
            )
    raiser_line = raiser.line_chain()
    for role in stage.copy_raiser_line_roles.all():
        holder = _holder_in(raiser_line, role)
        if holder is None:
            unfilled.append(f"the {role.name} above {raiser.display_name}: nobody holds it")
        else:
            add([holder], f"{role.name} ({raiser.display_name}'s line)")
    if stage.copy_raiser:
        add([raiser], "raised the escalation")
    if stage.copy_earlier_recipients:
        add(earlier, "told at an earlier stage")
    if stage.copy_qa_managers:
        qa = qa_managers_for(authority, children)
        add(qa, "QA manager for this case")
        if not qa:
            unfilled.append("a QA manager: nobody in the authority holds the role")
    for role in stage.copy_posts.all():
        holders = list(
            StaffMember.objects.filter(authority=authority, role=role, is_active=True)
            .select_related("user", "role")
            .order_by("pk")
        )
        add(holders, role.name)
        if not holders:
            unfilled.append(f"the {role.name}: nobody holds that post")

    if isinstance(responder, StaffMember):
        copies.pop(responder.pk, None)
    copies.pop(actor.pk, None)
    return StepRecipients(
        addressee=responder, copies=tuple(copies.values()), unfilled=tuple(unfilled)
    )


def escalation_participants(escalation: Escalation) -> list[StaffMember]:
    """Everyone addressed or copied at any step, and whoever raised the escalation or a step."""
    people: dict[int, StaffMember] = {escalation.raised_by_id: escalation.raised_by}
    for step in escalation.steps.select_related("responder__user", "raised_by__user"):
        # A partner-agency contact is no participant here: they see only their own step.
        if step.responder is not None:
            people.setdefault(step.responder.pk, step.responder)
        people.setdefault(step.raised_by_id, step.raised_by)
    # Everyone a stage addressed to several people asked, not only its first addressee.
    addressed = StaffMember.objects.filter(
        pk__in=Addressee.objects.filter(step__escalation=escalation).values("staff_id")
    ).select_related("user")
    for person in addressed:
        people.setdefault(person.pk, person)
    # Told of a change of addressee (step_amended) counts as told: the person a step was
    # taken from stays one who took part.
    copied = StaffMember.objects.filter(
        notifications__escalation=escalation,
        notifications__kind__in=[Kind.STEP_COPIED, Kind.STEP_AMENDED],
    ).select_related("user")
    for person in copied:
        people.setdefault(person.pk, person)
    return list(people.values())


def recipients_of_step(step: Step) -> StepRecipients:
    """The recipients for a step about to be raised on an existing escalation."""
    escalation = step.escalation
    addressee = step.responder or step.partner
    assert addressee is not None  # a check constraint: staff or partner
    return step_recipients(
        stage=step.stage,
        authority=escalation.authority,
        children=list(escalation.children.select_related("social_worker__line_manager", "team")),
        raiser=escalation.raised_by,
        actor=step.raised_by,
        responder=addressee,
        earlier=escalation_participants(escalation),
    )


def response_recipients(step: Step) -> list[StaffMember]:
    """A response goes to whoever raised the escalation and the step, and where the policy
    says so (Rutland Stage 4: "submit a response to the QA Manager") the QA manager."""
    escalation = step.escalation
    people = {escalation.raised_by_id: escalation.raised_by, step.raised_by_id: step.raised_by}
    if step.stage.response_to_qa_managers:
        children = list(escalation.children.all())
        people |= {p.pk: p for p in qa_managers_for(escalation.authority, children)}
    if step.responder_id is not None:
        people.pop(step.responder_id, None)
    return list(people.values())


def closing_recipients(escalation: Escalation, *, actor: StaffMember) -> list[StaffMember]:
    """Everyone who took part hears how it ended, except the person who ended it."""
    return [p for p in escalation_participants(escalation) if p.pk != actor.pk]


def partners_who_took_part(escalation: Escalation) -> list[Partner]:
    """The partner-agency contacts any step of the escalation was sent to (addressed to
    them alone or among several, whether or not it went to someone else since): the
    closing notice tells them too."""
    return list(
        Partner.objects.filter(
            notifications__escalation=escalation, notifications__kind=Kind.STEP_RAISED
        )
        .distinct()
        .order_by("pk")
    )
