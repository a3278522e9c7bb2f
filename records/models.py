"""What the retention rule did: the record that outlives what it removed (no names)."""

from __future__ import annotations

from django.db import models

from policies.models import LocalAuthority, RetentionAction


class RetentionRecord(models.Model):
    """One escalation anonymised or deleted under its authority's retention rule."""

    authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="retention_records"
    )
    # Not a foreign key: a deleted escalation is gone, and this row must stay.
    escalation_id = models.PositiveBigIntegerField(db_index=True)
    reference = models.CharField(max_length=20)
    action = models.CharField(max_length=10, choices=RetentionAction.choices)
    done_at = models.DateTimeField()
    counts = models.JSONField(default=dict, help_text="What was removed, by kind.")

    class Meta:
        ordering = ["-done_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.reference} {self.get_action_display().split(':')[0].lower()}"
