"""An escalation walks its policy's ladder; one Step records each stage visited.

Transitions are code (django-fsm on Escalation.state); the ladder is data (the stage
pointer). The FSM is the state guard only: which state may follow which. Who may do
what, and to which stage, is escalations/rules.py (its docstring says why the rules are
not FSM conditions).

What "open", "answered", "overdue" and "due soon" mean for a step is written here once,
twice over: in SQL (StepQuerySet) and in Python (Step's predicates of the same names).
tests/escalations/test_models.py holds the two equal on random ladders and dates.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Least
from django.db.models.lookups import GreaterThan, LessThan, LessThanOrEqual
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from children.models import Child, Conference
from policies.models import (
    Completion,
    ConcernCategory,
    DayType,
    LocalAuthority,
    Policy,
    Stage,
    StageMode,
)
from policies.working_days import earliest, next_working_day_on_or_after
from staff.models import Partner, StaffMember


class State(models.TextChoices):
    INFORMAL = "informal", "Informal discussion"
    AWAITING_RESPONSE = "awaiting_response", "Awaiting response"
    RESPONSE_RECEIVED = "response_received", "Response received"
    RESOLVED = "resolved", "Resolved"
    FINAL_DECISION = "final_decision", "Closed with a final decision"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATES = (State.INFORMAL, State.AWAITING_RESPONSE, State.RESPONSE_RECEIVED)
CLOSED_STATES = (State.RESOLVED, State.FINAL_DECISION, State.WITHDRAWN)


class Nature(models.TextChoices):
    CONCERN = "concern", "A concern"
    GOOD_PRACTICE = "good_practice", "Good practice"


def escalation_reference(pk: int | None) -> str:
    """An escalation's reference as people quote it, from its id alone."""
    return f"ESC-{pk:06d}" if pk else "ESC-(new)"


class Escalation(ConcurrentTransitionMixin, models.Model):
    authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="escalations"
    )
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="escalations")
    children = models.ManyToManyField(Child, related_name="escalations")
    conference = models.ForeignKey(
        Conference, null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations"
    )
    raised_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="escalations_raised"
    )
    about_staff = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalations_about",
        help_text="The chair a reverse-procedure concern is about.",
    )
    categories = models.ManyToManyField(ConcernCategory, blank=True, related_name="escalations")
    nature = models.CharField(max_length=20, choices=Nature.choices, default=Nature.CONCERN)
    summary = models.TextField(help_text="The issue, in words.")
    desired_outcome = models.TextField(blank=True)
    immediate_safety = models.BooleanField(default=False)

    # No default: the service that raises it says which state it opens in
    # (rules.opening_state), so there is no draft state nothing ever leaves.
    state = FSMField(choices=State.choices, protected=True)
    current_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField()
    formal_started_at = models.DateTimeField(null=True, blank=True)
    # Snapshot: the cap's date is fixed when the formal process starts.
    formal_cap_due_on = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    outcome_for_child = models.TextField(blank=True, help_text="What changed for the child.")
    # The one-time token of the raise form that created it: the same form sent twice (a
    # double click, a resubmitted page, two tabs) finds this escalation instead of making
    # another. Unique, so two sends at the same moment cannot both get through.
    request_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    history = HistoricalRecords(m2m_fields=[children, categories])

    class Meta:
        ordering = ["-raised_at"]
        indexes = [
            models.Index(fields=["authority", "state"]),
            # The tracker's and the lists' sort within an authority, newest first (read
            # backwards), without sorting all its rows for a page of fifty.
            models.Index(
                fields=["authority", "raised_at", "id"], name="escalation_authority_raised"
            ),
            # "What I raised", a way in of every list and visibility check: read from the
            # index alone (a chair raises well over a thousand).
            models.Index(fields=["raised_by", "id"], name="escalation_raised_by"),
            # My escalations for a chair: what they raised, newest first, with the state
            # that ranks it, read backwards from the index alone (no sort, no table).
            models.Index(
                fields=["raised_by", "authority", "raised_at", "id", "state"],
                name="escalation_raised_listed",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return escalation_reference(self.pk)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_formal(self) -> bool:
        return self.formal_started_at is not None

    def at_final_stage(self) -> bool:
        return self.current_stage is not None and self.current_stage.final

    def open_step(self, *, lock: bool = False) -> Step | None:
        """The step now open (at most one: a constraint says so), the one way to find it.

        From the prefetched steps when the caller loaded them (no query), else one query;
        `lock` takes the step's row lock (inside a service's transaction).
        """
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "steps" in cache and not lock:
            return next((s for s in cache["steps"] if s.is_open), None)
        steps = self.steps.open()
        return (steps.select_for_update() if lock else steps).first()

    # Transitions: the state guard only (which state may follow which; the bodies are
    # empty because django-fsm's decorator does the move). The rules are in rules.py;
    # the services create and close steps around these.
    @transition(field=state, source=list(OPEN_STATES), target=State.AWAITING_RESPONSE)
    def move_to_stage(self) -> None:
        pass

    @transition(
        field=state,
        source=[State.INFORMAL, State.AWAITING_RESPONSE],
        target=State.RESPONSE_RECEIVED,
    )
    def receive_response(self) -> None:
        pass

    @transition(field=state, source=list(OPEN_STATES), target=State.RESOLVED)
    def resolve(self) -> None:
        pass

    @transition(
        field=state,
        source=[State.AWAITING_RESPONSE, State.RESPONSE_RECEIVED],
        target=State.FINAL_DECISION,
    )
    def record_final_decision(self) -> None:
        pass

    @transition(field=state, source=list(OPEN_STATES), target=State.WITHDRAWN)
    def withdraw(self) -> None:
        pass


class Verdict(models.TextChoices):
    SATISFACTORY = "satisfactory", "Satisfactory"
    UNSATISFACTORY = "unsatisfactory", "Not satisfactory"
    NO_RESPONSE = "no_response", "Escalated without a response"
    WITHDRAWN = "withdrawn", "Escalation withdrawn"
    FINAL_DECISION = "final_decision", "Final decision recorded"
    RESOLVED_BEFORE_RESPONSE = "resolved_before_response", "Resolved before a response"


def effective_due() -> Least:
    """SQL for Step.effective_due_on: the earlier of the stage's deadline and the formal
    cap, either of which may be empty."""
    return Least(
        Coalesce("due_on", "cap_due_on"),
        Coalesce("cap_due_on", "due_on"),
        output_field=models.DateField(),
    )


def due_soon_until(today: date, *, nation: str, closures: frozenset[date]) -> date:
    """The last due date that is "due soon" on `today`: the next working day after it.

    A step is due soon on the last working day before its deadline (and on any day off
    between that day and the deadline): then no working day is left in which to answer.
    """
    return next_working_day_on_or_after(today + timedelta(days=1), nation=nation, closures=closures)


def _day(day: date) -> Value:
    return Value(day, output_field=models.DateField())


# The conditions themselves, for a filter or a Case/When (the reports classify with them).
OPEN = Q(closed_at__isnull=True)
ANSWERED = Q(responded_at__isnull=False)
AWAITING_RESPONSE = OPEN & Q(responded_at__isnull=True)
AWAITING_CHAIR = OPEN & ANSWERED


def past_due_q(today: date) -> Q:
    """Open with its deadline (the earlier clock) behind it, answered or not."""
    return OPEN & Q(LessThan(effective_due(), _day(today)))


def overdue_q(today: date) -> Q:
    """Past due and not answered (an answered step is awaiting the chair instead)."""
    return AWAITING_RESPONSE & past_due_q(today)


def due_soon_q(today: date, *, nation: str, closures: frozenset[date]) -> Q:
    until = due_soon_until(today, nation=nation, closures=closures)
    return AWAITING_RESPONSE & Q(
        GreaterThan(effective_due(), _day(today)),
        LessThanOrEqual(effective_due(), _day(until)),
    )


# The issue-by clock (Stage.issue_within_days) of the stage after an answered step: it runs
# for the chair while the step awaits their decision, and stops when the next stage is
# issued (the step closes).
def issue_overdue_q(today: date) -> Q:
    """Answered, still open, and the next stage's issue-by date is behind it."""
    return AWAITING_CHAIR & Q(next_issue_due_on__lt=today)


def issue_due_soon_q(today: date, *, nation: str, closures: frozenset[date]) -> Q:
    until = due_soon_until(today, nation=nation, closures=closures)
    return AWAITING_CHAIR & Q(next_issue_due_on__gt=today, next_issue_due_on__lte=until)


class StepQuerySet(models.QuerySet["Step"]):
    """Open, answered, awaiting, overdue and due soon, in SQL. The Step predicates of the
    same names say the same in Python; every page, the sweep and the reports use these.

    An answered step is never overdue or due soon: its clock stopped when the answer came
    and it is awaiting the chair's decision (`awaiting_chair`).
    """

    def open(self) -> StepQuerySet:
        return self.filter(OPEN)

    def answered(self) -> StepQuerySet:
        return self.filter(ANSWERED)

    def awaiting_response(self) -> StepQuerySet:
        return self.filter(AWAITING_RESPONSE)

    def awaiting_chair(self) -> StepQuerySet:
        return self.filter(AWAITING_CHAIR)

    def past_due(self, today: date) -> StepQuerySet:
        return self.filter(past_due_q(today))

    def overdue(self, today: date) -> StepQuerySet:
        return self.filter(overdue_q(today))

    def due_soon(self, today: date, *, nation: str, closures: frozenset[date]) -> StepQuerySet:
        return self.filter(due_soon_q(today, nation=nation, closures=closures))

    def issue_overdue(self, today: date) -> StepQuerySet:
        return self.filter(issue_overdue_q(today))

    def issue_due_soon(
        self, today: date, *, nation: str, closures: frozenset[date]
    ) -> StepQuerySet:
        return self.filter(issue_due_soon_q(today, nation=nation, closures=closures))


class Step(models.Model):
    """One stage visited: who was asked, when, the due date, the response, the verdict."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="steps")
    # The escalation's authority, copied when the step is raised (an escalation never
    # moves authority): an authority's overdue steps are then read from one index
    # (step_awaiting_by_authority), not found by probing each open escalation's step.
    authority = models.ForeignKey(
        "policies.LocalAuthority", on_delete=models.PROTECT, related_name="+", editable=False
    )
    sequence = models.PositiveSmallIntegerField()
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="steps")
    # The person addressed: council staff, or a partner-agency contact (exactly one). A
    # stage addressed to several people has an Addressee row for each of them, the first of
    # whom is also named here (the lists and the sweep sort and filter on it).
    responder = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="steps_to_answer",
    )
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="steps_to_answer"
    )
    raised_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="steps_raised"
    )
    raised_at = models.DateTimeField()

    # Snapshot of the stage as it stood when raised: later policy edits never move it.
    stage_name = models.CharField(max_length=200)
    stage_order = models.PositiveSmallIntegerField()
    mode = models.CharField(max_length=20, choices=StageMode.choices)
    response_days = models.PositiveSmallIntegerField(null=True, blank=True)
    day_type = models.CharField(max_length=10, choices=DayType.choices)
    is_final = models.BooleanField(default=False)
    received_on = models.DateField(help_text="The deemed day of receipt (a working day).")
    due_on = models.DateField(null=True, blank=True, help_text="The stage's own deadline.")
    cap_due_on = models.DateField(null=True, blank=True, help_text="The formal process's cap.")
    # The issue-by clock (Stage.issue_within_days): by when this stage should have been
    # issued, and, once this step is answered, by when the next stage must be.
    issue_due_on = models.DateField(
        null=True, blank=True, help_text="By when this stage should have been issued."
    )
    next_issue_due_on = models.DateField(
        null=True, blank=True, help_text="Once answered: by when the next stage must be issued."
    )
    # The chair varied the stage's timescale (Stage.chair_may_vary_timescale): why.
    timescale_reason = models.TextField(blank=True)
    # Snapshot of Stage.completion for a stage addressed to several people ('' otherwise).
    completion = models.CharField(max_length=10, blank=True)

    copies_unfilled = models.TextField(
        blank=True, help_text="Whom the policy wanted copied but nobody holds, one per line."
    )
    skipped_stage_names = models.TextField(blank=True)
    skip_reason = models.TextField(blank=True)

    # The chair's written statement (written-statement stages).
    statement_issue = models.TextField(blank=True)
    statement_actions = models.TextField(blank=True)
    statement_wanted = models.TextField(blank=True)
    # Snapshot of Stage.statement_wanted_label: what the statement's last part answered.
    statement_wanted_label = models.CharField(max_length=200, blank=True)

    response = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    meeting_date = models.DateField(null=True, blank=True)
    meeting_attendees = models.TextField(blank=True)

    verdict = models.CharField(max_length=30, choices=Verdict.choices, blank=True)
    verdict_at = models.DateTimeField(null=True, blank=True)
    # Who judged it: the chair, or a QA manager standing in (the record says which).
    judged_by = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The last "send a reminder now" (its e-mail is an outbox row of kind `chase`).
    chased_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = StepQuerySet.as_manager()

    class Meta:
        ordering = ["escalation", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["escalation", "sequence"], name="unique_step_sequence"),
            # The last line of defence against a race: never two open steps at once.
            models.UniqueConstraint(
                fields=["escalation"],
                condition=models.Q(closed_at__isnull=True),
                name="one_open_step_per_escalation",
            ),
            models.CheckConstraint(
                condition=models.Q(responder__isnull=False) | models.Q(partner__isnull=False),
                name="step_addressed_to_someone",
            ),
        ]
        indexes = [
            models.Index(fields=["responder", "closed_at"]),
            # The reports count the steps raised in a period (the dashboard's timescales).
            models.Index(fields=["raised_at"], name="step_raised_at"),
            # An authority's steps awaiting a response by their deadline: the QA
            # manager's "Overdue across the authority", longest overdue first.
            models.Index(
                F("authority"),
                effective_due(),
                condition=AWAITING_RESPONSE,
                name="step_awaiting_by_authority",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.escalation.reference} step {self.sequence}: {self.stage_name}"

    @property
    def addressee_name(self) -> str:
        """Whom the step is addressed to, for display (staff or partner)."""
        if self.responder is not None:
            return self.responder.display_name
        assert self.partner is not None
        return f"{self.partner.name} ({self.partner.organisation})"

    @property
    def addressee_title(self) -> str:
        """Their role (staff) or job title (a partner-agency contact), for display."""
        if self.responder is not None:
            return self.responder.role.name
        assert self.partner is not None
        return self.partner.job_title

    # The Python side of StepQuerySet: the same definitions, for rows already loaded.

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def is_answered(self) -> bool:
        return self.responded_at is not None

    @property
    def is_awaiting_response(self) -> bool:
        return self.is_open and not self.is_answered

    @property
    def is_awaiting_chair(self) -> bool:
        """Answered and still open: the chair's decision is awaited, no clock runs."""
        return self.is_open and self.is_answered

    def is_past_due(self, today: date) -> bool:
        effective = self.effective_due_on
        return self.is_open and effective is not None and effective < today

    def is_overdue(self, today: date) -> bool:
        return self.is_awaiting_response and self.is_past_due(today)

    def is_due_soon(self, today: date, *, nation: str, closures: frozenset[date]) -> bool:
        effective = self.effective_due_on
        return (
            self.is_awaiting_response
            and effective is not None
            and today < effective <= due_soon_until(today, nation=nation, closures=closures)
        )

    def is_issue_overdue(self, today: date) -> bool:
        return (
            self.is_awaiting_chair
            and self.next_issue_due_on is not None
            and self.next_issue_due_on < today
        )

    def is_issue_due_soon(self, today: date, *, nation: str, closures: frozenset[date]) -> bool:
        due = self.next_issue_due_on
        return (
            self.is_awaiting_chair
            and due is not None
            and today < due <= due_soon_until(today, nation=nation, closures=closures)
        )

    @property
    def was_issued_late(self) -> bool | None:
        """Issued after its issue-by date (None: no issue-by clock ran on it)."""
        if self.issue_due_on is None:
            return None
        return timezone.localdate(self.raised_at) > self.issue_due_on

    @property
    def addresses_several(self) -> bool:
        """Addressed to several people at once (an Addressee row each)."""
        return bool(self.completion)

    @property
    def completion_label(self) -> str:
        """When a stage addressed to several people is complete, in words."""
        return Completion(self.completion).label if self.completion else ""

    @property
    def is_informal(self) -> bool:
        return self.stage_order == 0

    @property
    def verdict_label(self) -> str:
        """Whose verdict the record shows: the chair's, or a QA manager's standing in."""
        judge = self.judged_by
        if judge is None:
            return "Verdict"
        if judge.pk != self.escalation.raised_by_id and judge.is_quality_assurance:
            return "QA manager's verdict"
        if judge.is_chair:
            return "Chair's verdict"
        return f"{judge.role.name}'s verdict"

    @property
    def effective_due_on(self) -> date | None:
        return earliest(self.due_on, self.cap_due_on)

    @property
    def binding_clock(self) -> str:
        """Which deadline bites: 'stage', 'cap', or '' when neither is set."""
        if self.due_on is None and self.cap_due_on is None:
            return ""
        if self.cap_due_on is not None and (self.due_on is None or self.cap_due_on < self.due_on):
            return "cap"
        return "stage"

    @property
    def extended_from(self) -> date | None:
        """The deadline the step was raised with, when it has been extended since (from the
        prefetched amendments when the page loaded them); None if never extended."""
        extensions = [a for a in self.amendments.all() if a.kind == AmendmentKind.EXTENSION]
        return extensions[0].old_due_on if extensions else None

    @property
    def timescale_words(self) -> str:
        """The step's own timescale in words ('10 working days', '1 calendar day'), as the
        record says when the chair varied it."""
        if self.response_days is None:
            return "no timescale"
        unit = "working day" if self.day_type == DayType.WORKING else "calendar day"
        return f"{self.response_days} {unit}{'' if self.response_days == 1 else 's'}"


def addressee_effective_due() -> Least:
    """SQL for Addressee.effective_due_on: the earlier of their own deadline and the cap."""
    return Least(
        Coalesce("due_on", "step__cap_due_on"),
        Coalesce("step__cap_due_on", "due_on"),
        output_field=models.DateField(),
    )


# Whom a stage addressed to several people still waits on: no reply of their own, the step
# open, and the stage not yet complete (when the chair decides, later replies are still
# welcome until the chair does).
ADDRESSEE_AWAITED = Q(responded_at__isnull=True, step__closed_at__isnull=True) & (
    Q(step__responded_at__isnull=True) | Q(step__completion=Completion.CHAIR)
)


def addressee_overdue_q(today: date) -> Q:
    return ADDRESSEE_AWAITED & Q(LessThan(addressee_effective_due(), _day(today)))


def addressee_due_soon_q(today: date, *, nation: str, closures: frozenset[date]) -> Q:
    until = due_soon_until(today, nation=nation, closures=closures)
    return ADDRESSEE_AWAITED & Q(
        GreaterThan(addressee_effective_due(), _day(today)),
        LessThanOrEqual(addressee_effective_due(), _day(until)),
    )


class AddresseeQuerySet(models.QuerySet["Addressee"]):
    """Awaited, overdue and due soon for each person addressed, in SQL; the Addressee
    predicates of the same names say the same in Python."""

    def awaited(self) -> AddresseeQuerySet:
        return self.filter(ADDRESSEE_AWAITED)

    def overdue(self, today: date) -> AddresseeQuerySet:
        return self.filter(addressee_overdue_q(today))

    def due_soon(self, today: date, *, nation: str, closures: frozenset[date]) -> AddresseeQuerySet:
        return self.filter(addressee_due_soon_q(today, nation=nation, closures=closures))


def _attachment_path(instance: Attachment, filename: str) -> str:
    # A random name on disk: the uploader's file name is kept only in the database.
    return f"attachments/{uuid.uuid4().hex}"


class Addressee(models.Model):
    """One person a stage addressed to several people is addressed to, with their own
    clock and reply. The step's own `responded_at` records the stage complete, by its
    completion rule (escalations/rules.py)."""

    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="addressees")
    staff = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    response = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    chased_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = AddresseeQuerySet.as_manager()

    class Meta:
        ordering = ["step", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(staff__isnull=False) & models.Q(partner__isnull=True))
                | (models.Q(staff__isnull=True) & models.Q(partner__isnull=False)),
                name="addressee_is_staff_or_partner",
            ),
            models.UniqueConstraint(
                fields=["step", "staff"],
                condition=models.Q(staff__isnull=False),
                name="unique_staff_addressee",
            ),
            models.UniqueConstraint(
                fields=["step", "partner"],
                condition=models.Q(partner__isnull=False),
                name="unique_partner_addressee",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if self.staff is not None:
            return self.staff.display_name
        assert self.partner is not None
        return f"{self.partner.name} ({self.partner.organisation})"

    @property
    def is_answered(self) -> bool:
        return self.responded_at is not None

    @property
    def is_awaited(self) -> bool:
        step = self.step
        return (
            not self.is_answered
            and step.is_open
            and (not step.is_answered or step.completion == Completion.CHAIR)
        )

    @property
    def effective_due_on(self) -> date | None:
        return earliest(self.due_on, self.step.cap_due_on)

    def is_overdue(self, today: date) -> bool:
        effective = self.effective_due_on
        return self.is_awaited and effective is not None and effective < today

    def is_due_soon(self, today: date, *, nation: str, closures: frozenset[date]) -> bool:
        effective = self.effective_due_on
        return (
            self.is_awaited
            and effective is not None
            and today < effective <= due_soon_until(today, nation=nation, closures=closures)
        )


class AmendmentKind(models.TextChoices):
    EXTENSION = "extension", "Deadline extended"
    READDRESSED = "readdressed", "Addressed to someone else"


class StepAmendment(models.Model):
    """An extension or a change of addressee on an open step, with the reason given."""

    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="amendments")
    kind = models.CharField(max_length=20, choices=AmendmentKind.choices)
    reason = models.TextField()
    made_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField()
    old_due_on = models.DateField(null=True, blank=True)
    new_due_on = models.DateField(null=True, blank=True)
    old_addressee = models.CharField(max_length=300, blank=True)
    new_addressee = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["step", "made_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reason[:50]}"

    @property
    def change_words(self) -> str:
        """What changed, for the step's history: 'from 9 Nov 2026 to 16 Nov 2026'."""
        if self.kind == AmendmentKind.EXTENSION:
            old, new = self.old_due_on, self.new_due_on
            if old is None or new is None:
                return ""
            return f"from {old.day} {old:%b %Y} to {new.day} {new:%b %Y}"
        return f"from {self.old_addressee} to {self.new_addressee}"


class Attachment(models.Model):
    """A file sent with a response; stored outside the web root, served after a permission check."""

    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="attachments")
    # The addressee's reply it came with, on a stage addressed to several people.
    addressee = models.ForeignKey(
        Addressee, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(upload_to=_attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    # Staff, or a partner answering through their link (exactly one).
    uploaded_by = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by_partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class PartnerAccess(models.Model):
    """A partner-agency contact's way in to the one step addressed to them, with no council
    account (escalations/partner_access.py).

    The e-mailed link carries a token made from `salt` (random) and the site's secret key;
    only its hash is stored, to find the row. The link leads to a one-time code (PartnerCode)
    and the code to a session (PartnerSession) that opens this step and nothing else.
    """

    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="partner_accesses")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    # Their row, on a stage addressed to several people.
    addressee = models.ForeignKey(
        Addressee, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    salt = models.CharField(max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step", "partner"], name="one_partner_access_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.partner.name}: step {self.step_id}"


class PartnerCode(models.Model):
    """A one-time code sent to a partner: six digits, kept only as a keyed hash; it expires,
    allows a few tries, and is used once. `sequence` numbers the codes of one access (the
    outbox row that e-mails it has the same occurrence)."""

    access = models.ForeignKey(PartnerAccess, on_delete=models.CASCADE, related_name="codes")
    sequence = models.PositiveSmallIntegerField()
    salt = models.CharField(max_length=64, editable=False)
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["access", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["access", "sequence"], name="partner_code_sequence"),
        ]

    def __str__(self) -> str:
        return f"code {self.sequence} for access {self.access_id}"


class PartnerSession(models.Model):
    """A partner signed in by a code: its cookie (kept only as a hash here) opens the one
    step of its access, until it expires or the step closes."""

    access = models.ForeignKey(PartnerAccess, on_delete=models.CASCADE, related_name="sessions")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"session for access {self.access_id}"
