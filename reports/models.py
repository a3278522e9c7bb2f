"""The stored figures: each period's dashboard and report sections, rendered once and kept
until the data they were counted from changes (reports/figures.py)."""

from __future__ import annotations

from django.db import models

from policies.models import LocalAuthority


class StoredFigures(models.Model):
    """One rendered section of figures for one authority, as counted on `as_of` from the
    data whose fingerprint it records. Derived data, kept only to serve pages fast: it is
    recounted whenever its fingerprint or day no longer matches, so it is never history
    tracked and deleting it loses nothing."""

    authority = models.ForeignKey(
        LocalAuthority, on_delete=models.CASCADE, related_name="stored_figures"
    )
    # What and for which period: "body:2026-10-01:2026-12-31:2026-27 Q3".
    key = models.CharField(max_length=100)
    as_of = models.DateField(help_text="The day the figures were counted for (Europe/London).")
    fingerprint = models.CharField(max_length=500)
    html = models.TextField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["authority", "key"], name="stored_figures_once")
        ]
        verbose_name_plural = "stored figures"

    def __str__(self) -> str:
        return f"{self.authority} {self.key} as of {self.as_of}"
