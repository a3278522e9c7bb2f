"""Children on child protection plans, their conferences and significant events."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from policies.models import LocalAuthority
from staff.models import StaffMember, Team


class Child(models.Model):
    authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="children")
    # NULL, not "": records without a source ID must not collide in the unique constraint.
    source_id = models.CharField(  # noqa: DJ001
        max_length=100,
        null=True,
        blank=True,
        help_text="The child's ID in the case-management system; imports match on it.",
    )
    reference = models.CharField(max_length=50, help_text="The case reference in the case system.")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    social_worker = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="allocated_children",
        help_text="Leave blank where no social worker is allocated.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name_plural = "children"
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "reference"], name="unique_child_reference"
            ),
            models.UniqueConstraint(
                fields=["authority", "source_id"], name="unique_child_source_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.reference})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def initials(self) -> str:
        return f"{self.first_name[:1]}{self.last_name[:1]}".upper()


class PlanCategory(models.TextChoices):
    NEGLECT = "neglect", "Neglect"
    PHYSICAL = "physical", "Physical abuse"
    EMOTIONAL = "emotional", "Emotional abuse"
    SEXUAL = "sexual", "Sexual abuse"
    MULTIPLE = "multiple", "Multiple"


class ChildProtectionPlan(models.Model):
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="plans")
    category = models.CharField(max_length=20, choices=PlanCategory.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="plan_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} plan from {self.start_date:%d %b %Y}"

    @property
    def is_current(self) -> bool:
        return self.end_date is None


class ConferenceKind(models.TextChoices):
    INITIAL = "icpc", "Initial child protection conference"
    REVIEW = "rcpc", "Review child protection conference"


class Conference(models.Model):
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="conferences")
    kind = models.CharField(max_length=10, choices=ConferenceKind.choices)
    date = models.DateField()
    chair = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conferences_chaired",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date:%d %b %Y}"


class SignificantEvent(models.Model):
    """A change the chair must be told of (Stoke-on-Trent §7 lists them)."""

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="significant_events")
    date = models.DateField()
    description = models.TextField()
    recorded_by = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%d %b %Y}: {self.description[:60]}"


class AccessLog(models.Model):
    """Every read of case data: who, when, which records (docs/architecture.md §5, §8). One row per page read.

    The reader's name and username are copied onto the row, so "who" survives the
    deletion of their user.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150, blank=True)
    name = models.CharField(max_length=300, blank=True)
    child = models.ForeignKey(
        Child,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The first child the page showed; children lists them all.",
    )
    children = models.ManyToManyField(
        Child,
        through="AccessLogChild",
        blank=True,
        related_name="+",
        help_text="Every child whose data the page showed.",
    )
    escalation = models.ForeignKey(
        "escalations.Escalation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A partner-agency contact reading their step through their link (no user account):
    # then `user` is empty and `name` says who they are and for which agency.
    partner = models.ForeignKey(
        "staff.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=50)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%d %b %Y %H:%M} {self.action}"


class AccessLogChild(models.Model):
    """One child read on one logged page; PROTECT so a child's read history cannot vanish."""

    log = models.ForeignKey(AccessLog, on_delete=models.CASCADE, related_name="+")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["log", "child"], name="access_log_child_once"),
        ]

    def __str__(self) -> str:
        return f"{self.log} {self.child}"
