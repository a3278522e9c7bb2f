"""Authorities, their escalation policies and ladders (docs/architecture.md §3).

Ladders are data: admins edit them, `load_policies` loads the shipped files. Running
escalations never read a stage's timescale again after a step is raised: the step
snapshots it (escalations.Step).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import OuterRef, Subquery
from simple_history.models import HistoricalRecords

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "Use lower-case letters, digits and hyphens."
)


class Nation(models.TextChoices):
    ENGLAND = "ENG", "England"
    WALES = "WLS", "Wales"
    SCOTLAND = "SCT", "Scotland"
    NORTHERN_IRELAND = "NIR", "Northern Ireland"


class RetentionAction(models.TextChoices):
    ANONYMISE = "anonymise", "Anonymise: keep the stages and dates for reports, remove the rest"
    DELETE = "delete", "Delete everything"


class LocalAuthority(models.Model):
    slug = models.SlugField(unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    nation = models.CharField(
        max_length=3,
        choices=Nation.choices,
        default=Nation.ENGLAND,
        help_text="Decides which bank holidays are not working days.",
    )
    # The retention rule (records/retention.py applies it: manage.py apply_retention).
    retention_years_after_adulthood = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        verbose_name="keep closed escalations for (years after the youngest child turns 18)",
        help_text="Then they are anonymised or deleted, as chosen below. Leave blank to keep "
        "them until this is set.",
    )
    retention_action = models.CharField(
        max_length=10,
        choices=RetentionAction.choices,
        default=RetentionAction.ANONYMISE,
        verbose_name="when the retention period ends",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "local authorities"

    def __str__(self) -> str:
        return self.name

    def closure_dates(self) -> frozenset[date]:
        # Read with the signed-in person's staff record (`listed_closure_dates`), so the
        # pages of a request ask no query of their own.
        if self._listed_closure_dates is not None:
            return self._listed_closure_dates
        return frozenset(self.closure_days.values_list("date", flat=True))

    _listed_closure_dates: frozenset[date] | None = None

    def keep_listed_closure_dates(self, listed: str | None) -> None:
        """Take the closure days as `listed_closure_dates` read them, for this instance
        (one request's) only: a later instance reads them afresh."""
        self._listed_closure_dates = frozenset(
            date.fromisoformat(day) for day in (listed or "").split(",") if day
        )

    @staticmethod
    def listed_closure_dates(authority: OuterRef) -> Subquery:
        """The authority's closure days as one string of ISO dates, to read alongside a
        row that names the authority (`keep_listed_closure_dates` takes it)."""
        return Subquery(
            ClosureDay.objects.filter(authority=authority)
            .order_by()
            .values("authority")
            .annotate(listed=_DateList("date"))
            .values("listed")
        )


class _DateList(models.Aggregate):
    """Dates as one comma-separated string of ISO dates, in no particular order."""

    function = "STRING_AGG"
    template = "%(function)s(TO_CHAR(%(expressions)s, 'YYYY-MM-DD'), ',')"
    output_field = models.TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # SQLite keeps a date as its ISO text already.
        return self.as_sql(
            compiler,
            connection,
            function="GROUP_CONCAT",
            template="%(function)s(%(expressions)s, ',')",
            **extra,
        )


class ClosureDay(models.Model):
    """A day the authority's offices are shut beyond bank holidays (e.g. Christmas)."""

    authority = models.ForeignKey(
        LocalAuthority, on_delete=models.CASCADE, related_name="closure_days"
    )
    date = models.DateField()
    description = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "date"], name="unique_closure_day"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d %b %Y} {self.description}".strip()


class Role(models.Model):
    """A job that stages are addressed to and staff hold (Team Manager, CAFCASS, …)."""

    slug = models.SlugField(unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    is_chair = models.BooleanField(
        default=False, help_text="Chairs conferences: raises and drives escalations."
    )
    is_quality_assurance = models.BooleanField(
        default=False,
        help_text="Sees the authority's dashboards and reports; may raise QA-manager stages.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


DEFAULT_STATEMENT_WANTED = "What you want to happen"


class PolicyKind(models.TextChoices):
    CHAIR_RAISED = "chair_raised", "Concerns raised by a conference chair"
    ABOUT_CHAIR = "about_chair", "Concerns about a conference chair (reverse procedure)"


class BypassRule(models.TextChoices):
    NONE = "none", "Stages may not be skipped"
    DIRECT_ENTRY_ONLY = (
        "direct_entry_only",
        "Only stages marked for direct entry may be entered early",
    )
    ANY = "any", "Any stage may be bypassed"


class DayType(models.TextChoices):
    WORKING = "working", "Working days"
    CALENDAR = "calendar", "Calendar days"


class StageMode(models.TextChoices):
    WRITTEN_RESPONSE = "written_response", "Written response"
    MEETING = "meeting", "Meeting"
    WRITTEN_STATEMENT = "written_statement", "Written statement"
    DISCUSSION = "discussion", "Discussion"
    HANDOVER = "handover", "Hand-over"


class RaisedBy(models.TextChoices):
    RAISER = "raiser", "Whoever raised the escalation (usually the chair)"
    QA_MANAGER = "qa_manager", "A quality assurance manager"


class Completion(models.TextChoices):
    """What completes a stage addressed to several people at once."""

    ALL = "all", "Every addressee has replied"
    ANY = "any", "Any one addressee has replied"
    CHAIR = "chair", "The chair decides when the replies are enough"


class CalendarDayOff(models.TextChoices):
    """A calendar-day deadline that lands on a non-working day."""

    KEEP = "keep", "Keep the date, and say it is not a working day"
    NEXT_WORKING_DAY = "next_working_day", "Move it to the next working day"


class PolicyQuerySet(models.QuerySet["Policy"]):
    def current_for(self, authority: LocalAuthority, kind: str, on: date) -> Policy | None:
        """The policy in force on `on`: the latest effective date not after it."""
        candidates = self.filter(authority=authority, kind=kind, is_active=True).filter(
            models.Q(effective_from__isnull=True) | models.Q(effective_from__lte=on)
        )
        return candidates.order_by(models.F("effective_from").desc(nulls_last=True), "-pk").first()


class Policy(models.Model):
    authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="policies")
    slug = models.SlugField(unique=True, validators=[slug_validator])
    name = models.CharField(max_length=300)
    kind = models.CharField(
        max_length=20, choices=PolicyKind.choices, default=PolicyKind.CHAIR_RAISED
    )
    source = models.CharField(max_length=300, help_text="The source document and section.")
    effective_from = models.DateField(
        null=True, blank=True, help_text="Leave blank where the source gives no date."
    )
    is_active = models.BooleanField(default=True)
    chair_title = models.CharField(
        max_length=200,
        default="Child Protection Conference Chair",
        help_text="What this policy calls the person who raises concerns.",
    )
    raisers = models.ManyToManyField(
        Role, related_name="policies_raised", help_text="Roles allowed to raise under this policy."
    )
    raise_window_working_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Concerns must be raised within this many working days of the conference.",
    )
    formal_cap_working_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="The whole formal process must finish within this many working days of its start.",
    )
    bypass_rule = models.CharField(
        max_length=20, choices=BypassRule.choices, default=BypassRule.NONE
    )
    bypass_reason_required = models.BooleanField(default=True)
    overdue_repeat_working_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=5,
        help_text="Repeat the overdue alert every this many working days (blank: alert once).",
    )
    auto_escalate_when_overdue = models.BooleanField(
        default=False,
        help_text="Escalate to the next stage by itself when a response is overdue. The shipped "
        "policies leave escalation to the chair.",
    )
    immediate_safety_role = models.ForeignKey(
        Role,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Immediate-safety concerns go at once to this role.",
    )
    immediate_safety_route = models.TextField(blank=True)
    immediate_safety_response_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        verbose_name="immediate-safety response within (working days)",
        help_text="How soon an immediate-safety concern must be answered: 0 means the same "
        "working day. Blank: the stage's own timescale.",
    )
    calendar_day_off = models.CharField(
        max_length=20,
        choices=CalendarDayOff.choices,
        default=CalendarDayOff.KEEP,
        verbose_name="a calendar-day deadline on a non-working day",
    )
    history = HistoricalRecords(m2m_fields=[raisers])

    objects = PolicyQuerySet.as_manager()

    class Meta:
        ordering = ["authority__name", "name"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name

    @property
    def informal_stage(self) -> Stage | None:
        return next((s for s in self.stages.all() if s.is_informal), None)

    @property
    def formal_stages(self) -> list[Stage]:
        return [s for s in self.stages.all() if not s.is_informal]

    def is_in_use(self) -> bool:
        return self.escalations.exists()


class Stage(models.Model):
    """One rung of a ladder. Order 0 is the informal stage; formal rungs count from 1."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="stages")
    order = models.PositiveSmallIntegerField(help_text="0 for the informal stage, then 1, 2, 3 …")
    name = models.CharField(max_length=200)
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="stages")
    also_roles = models.ManyToManyField(
        Role,
        blank=True,
        related_name="stages_also",
        help_text="Other roles this stage may be addressed to (e.g. Social Worker / Team Manager).",
    )
    response_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Leave blank where the policy sets no timescale.",
    )
    day_type = models.CharField(max_length=10, choices=DayType.choices, default=DayType.WORKING)
    chair_sets_timescale = models.BooleanField(
        default=False, help_text="The chair sets the timescale for each case."
    )
    chair_may_vary_timescale = models.BooleanField(
        default=False,
        help_text="The chair may vary this stage's timescale for a case, giving a reason "
        "(recorded and shown on the step).",
    )
    issue_within_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        verbose_name="issue within (days)",
        help_text="The issue-by clock: whoever raises this stage must issue it within this "
        "many days (counted as the timescale is) of the previous stage's reply, or of the "
        "conference for the first stage. Blank: no issue-by clock.",
    )
    mode = models.CharField(
        max_length=20, choices=StageMode.choices, default=StageMode.WRITTEN_RESPONSE
    )
    statement_required = models.BooleanField(
        default=False,
        help_text="The chair sends a written statement (the issue, what has been done, what is "
        "wanted) with the earlier steps attached.",
    )
    statement_wanted_label = models.CharField(
        max_length=200,
        default=DEFAULT_STATEMENT_WANTED,
        verbose_name="the statement's last question",
        help_text="What the written statement's last part asks, in the policy's words (e.g. "
        "Cwm Taf's QASG e-mail: 'The identified risks to the child/ren').",
    )
    raised_by = models.CharField(max_length=20, choices=RaisedBy.choices, default=RaisedBy.RAISER)
    raiser_roles = models.ManyToManyField(
        Role,
        blank=True,
        related_name="stages_raised",
        verbose_name="raised by holders of these roles",
        help_text="Who may raise this stage, when it is neither the escalation's raiser nor "
        "any QA manager (e.g. the QA Service Manager). When set, it replaces 'raised by'.",
    )
    addresses_several = models.BooleanField(
        default=False,
        verbose_name="addressed to several people at once",
        help_text="Each person addressed (one per role above, or several partners) replies "
        "separately, with their own clock.",
    )
    completion = models.CharField(
        max_length=10,
        choices=Completion.choices,
        default=Completion.ALL,
        verbose_name="the stage is complete when",
        help_text="Only for stages addressed to several people.",
    )
    partner_responders = models.BooleanField(
        default=False,
        verbose_name="may be addressed to partner agencies",
        help_text="The stage may be addressed to people at partner agencies (police, health, "
        "education) from the partner directory; they answer through a link and a one-time "
        "code, without a council account.",
    )
    optional = models.BooleanField(
        default=False, help_text="May be passed over without a reason, whatever the bypass rule."
    )
    condition = models.TextField(
        blank=True,
        help_text="For a conditional stage: when it applies, in the policy's words (e.g. "
        "'where the CP Coordinator is absent or disagrees'). Shown to the chair, who may pass "
        "it over when it does not apply.",
    )
    # Who is copied: relationships to this case, never every holder of a role (docs/architecture.md §5).
    # notifications.recipients.step_recipients is the one place that reads these.
    copy_social_workers = models.BooleanField(
        default=False, help_text="Copy the children's allocated social workers."
    )
    copy_case_line_roles = models.ManyToManyField(
        Role,
        blank=True,
        related_name="stages_copied_in_case_line",
        verbose_name="copy these managers in the children's line",
        help_text="In the management line above the children's social workers, copy the "
        "person holding each of these roles (e.g. their Team Manager, Service Manager).",
    )
    copy_case_line_up_to = models.ForeignKey(
        Role,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="copy the children's management line up to",
        help_text="Copy every manager above the children's social workers, from their line "
        "manager up to and including the holder of this role.",
    )
    copy_raiser_line_roles = models.ManyToManyField(
        Role,
        blank=True,
        related_name="stages_copied_in_raiser_line",
        verbose_name="copy these managers in the raiser's line",
        help_text="In the management line above the person who raised the escalation, copy "
        "the holder of each of these roles (e.g. the Conference Team Manager).",
    )
    copy_raiser = models.BooleanField(
        default=False,
        help_text="Copy the person who raised the escalation when someone else raises this stage.",
    )
    copy_earlier_recipients = models.BooleanField(
        default=False,
        help_text="Copy everyone addressed or copied at an earlier stage of this escalation.",
    )
    copy_qa_managers = models.BooleanField(
        default=False,
        help_text="Copy the authority's QA manager(s) for this case: those assigned to the "
        "children's team, or every QA manager of the authority where none is.",
    )
    copy_posts = models.ManyToManyField(
        Role,
        blank=True,
        related_name="stages_copied_as_post",
        verbose_name="copy the holder of these single posts",
        help_text="Only for a post one person holds (Director for People, the LSCB chair): "
        "everyone holding the role in the authority is copied.",
    )
    response_to_qa_managers = models.BooleanField(
        default=False,
        help_text="The response also goes to the QA manager(s) for this case, not only to the "
        "person who raised the escalation and the stage.",
    )
    direct_entry = models.BooleanField(default=False, help_text="May be entered directly.")
    final = models.BooleanField(default=False, help_text="The decision at this stage is final.")
    referral = models.BooleanField(
        default=False, help_text="A referral available at any point, not only as the last rung."
    )
    guidance = models.TextField(blank=True)
    history = HistoricalRecords(
        m2m_fields=[
            copy_case_line_roles,
            copy_raiser_line_roles,
            copy_posts,
            also_roles,
            raiser_roles,
        ]
    )

    class Meta:
        ordering = ["policy", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="unique_stage_order"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_informal(self) -> bool:
        return self.order == 0

    @property
    def may_pass_over(self) -> bool:
        """Optional and conditional stages may be passed over without counting as skipped."""
        return self.optional or bool(self.condition.strip())

    def named_roles(self) -> list[Role]:
        """Every role the stage names: addressee, alternatives and the roles it copies."""
        roles = [self.role, *self.also_roles.all()]
        roles += [*self.copy_case_line_roles.all(), *self.copy_raiser_line_roles.all()]
        roles += [*self.copy_posts.all(), *self.raiser_roles.all()]
        if self.copy_case_line_up_to is not None:
            roles.append(self.copy_case_line_up_to)
        return roles

    @property
    def timescale_label(self) -> str:
        if self.response_days is None:
            if self.chair_sets_timescale:
                return "set by the chair for each case"
            return "no timescale set by the policy"
        unit = "working day" if self.day_type == DayType.WORKING else "calendar day"
        return f"{self.response_days} {unit}{'s' if self.response_days != 1 else ''}"


class ConcernCategory(models.Model):
    """Two levels: a theme (parent is empty) and its items."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="categories")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="items"
    )
    name = models.CharField(max_length=300)
    order = models.PositiveSmallIntegerField(default=0)
    good_practice = models.BooleanField(
        default=False, help_text="Records good practice rather than a problem."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["policy", "parent_id", "order", "pk"]
        verbose_name_plural = "concern categories"
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "parent", "name"], name="unique_category_name"
            ),
            models.UniqueConstraint(
                fields=["policy", "name"],
                condition=models.Q(parent__isnull=True),
                name="unique_theme_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name}: {self.name}" if self.parent is not None else self.name


class LadderRevision(models.Model):
    """One row whose value the database itself changes, in the same transaction, whenever
    a row of a ladder table changes (triggers: migration 0007 lists the tables). A process
    may keep the ladders it read for as long as the value it read them under is the
    current one (escalations.selectors.load_ladders): no write can miss it, whether made
    by the admin, a loader, a bulk statement or SQL by hand.

    The value is random, not a count: a rolled-back change leaves no value that a later,
    different change could take again."""

    value = models.BigIntegerField()

    class Meta:
        # Nothing to administer or to keep history of: a marker, not a record.
        default_permissions = ()

    def __str__(self) -> str:
        return str(self.value)
