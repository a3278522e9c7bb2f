"""The staff directory: who works where, in which role, team and line."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from policies.models import LocalAuthority, Role


class Team(models.Model):
    authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["authority__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "name"], name="unique_team_name"),
        ]

    def __str__(self) -> str:
        return self.name


class StaffMember(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff"
    )
    authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="staff")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="staff")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    line_manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    agency = models.CharField(
        max_length=200,
        blank=True,
        help_text="Leave blank for the council; e.g. 'Health', 'Police'.",
    )
    job_title = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name = "staff member"

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def is_chair(self) -> bool:
        return self.role.is_chair

    @property
    def is_quality_assurance(self) -> bool:
        return self.role.is_quality_assurance

    def line_chain(self) -> list[StaffMember]:
        """This person's managers, nearest first (stops on a loop in bad data)."""
        chain: list[StaffMember] = []
        seen = {self.pk}
        current = self.line_manager
        while current is not None and current.pk not in seen:
            chain.append(current)
            seen.add(current.pk)
            current = current.line_manager
        return chain
