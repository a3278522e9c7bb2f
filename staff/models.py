"""The staff directory: who works where, in which role, team and line."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
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


DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
# Only variables with this prefix may be named: an administrator who could name any
# variable could have DJANGO_SECRET_KEY (or another council's secret) sent to a provider.
CLIENT_SECRET_ENV_PREFIX = "SSO_CLIENT_SECRET_"  # noqa: S105 (a name prefix, no secret)


class IdentityProvider(models.Model):
    """A council's own OpenID Connect provider (Entra ID or another): its staff sign in there."""

    class SubjectClaim(models.TextChoices):
        SUB = "sub", "sub (most providers)"
        OID = "oid", "oid (Microsoft Entra ID)"

    class SecondFactor(models.TextChoices):
        AMR = "amr", "Skip this app's code when the token says MFA was done (amr contains mfa)"
        PROVIDER = "provider", "Never ask this app's code: the provider enforces MFA every time"
        APP = "app", "Always ask this app's code as well"

    authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="identity_providers"
    )
    display_name = models.CharField(
        max_length=100,
        help_text="Shown on the sign-in button: “Sign in with <this>”, e.g. Rutland County Council.",
    )
    discovery_url = models.URLField(
        max_length=500,
        help_text=f"The issuer, or its full discovery address ending {DISCOVERY_SUFFIX}.",
    )
    client_id = models.CharField(max_length=255)
    client_secret_env = models.CharField(
        "client secret environment variable",
        max_length=100,
        validators=[
            RegexValidator(
                rf"^{CLIENT_SECRET_ENV_PREFIX}[A-Z0-9_]+$",
                f"Name an environment variable starting {CLIENT_SECRET_ENV_PREFIX}, "
                f"in capitals, e.g. {CLIENT_SECRET_ENV_PREFIX}RUTLAND.",
            )
        ],
        help_text="The NAME of the environment variable holding the client secret; the "
        "secret itself is never stored in the database.",
    )
    scopes = models.CharField(max_length=200, default="openid email profile")
    subject_claim = models.CharField(
        max_length=3,
        choices=SubjectClaim.choices,
        default=SubjectClaim.SUB,
        help_text="The claim that stays the same for a person for good; e-mail does not.",
    )
    email_domains = models.CharField(
        max_length=500,
        help_text="E-mail domains this provider serves, separated by commas or spaces, e.g. "
        "rutland.gov.uk. A person's first sign-in links them to the staff record with their "
        "e-mail address only at these domains.",
    )
    second_factor = models.CharField(
        max_length=8, choices=SecondFactor.choices, default=SecondFactor.AMR
    )
    local_passwords_allowed = models.BooleanField(
        default=True,
        help_text="Untick to refuse this authority's staff a password sign-in: they use this "
        "provider only.",
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["authority__name", "display_name"]
        verbose_name = "identity provider"

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        super().clean()
        if (
            self.discovery_url
            and not self.discovery_url.startswith("https://")
            and not settings.SSO_ALLOW_HTTP_PROVIDERS
        ):
            raise ValidationError({"discovery_url": "Enter the provider's https:// address."})
        if self.email_domains and not self.domains:
            raise ValidationError({"email_domains": "Enter at least one domain."})

    @property
    def discovery_document_url(self) -> str:
        url = self.discovery_url.rstrip("/")
        return url if url.endswith(DISCOVERY_SUFFIX) else url + DISCOVERY_SUFFIX

    @property
    def domains(self) -> set[str]:
        return {
            part.strip().lstrip("@").lower()
            for part in self.email_domains.replace(",", " ").split()
            if part.strip().lstrip("@")
        }


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
    # NULL, not "": records without a source ID must not collide in the unique constraint.
    source_id = models.CharField(  # noqa: DJ001
        max_length=100,
        null=True,
        blank=True,
        help_text="The person's ID in the council's HR directory; imports match on it.",
    )
    # Who this person is at their council's provider: linked at their first sign-in there.
    sso_provider = models.ForeignKey(
        IdentityProvider,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="linked_staff",
        verbose_name="single sign-on provider",
    )
    sso_subject = models.CharField(
        "single sign-on subject",
        max_length=255,
        blank=True,
        help_text="Filled in at the first sign-in through the provider. Clear it to let the "
        "next sign-in link by e-mail again.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name = "staff member"
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "source_id"], name="unique_staff_source_id"
            ),
            models.UniqueConstraint(
                fields=["sso_provider", "sso_subject"],
                condition=~models.Q(sso_subject=""),
                name="unique_sso_subject_per_provider",
            ),
        ]

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


class Partner(models.Model):
    """A named person at a partner agency (police, health, education …) in an authority's
    partner directory. Not council staff: no account, no role, never in a council role
    check. They answer a step addressed to them through a link and a one-time code."""

    authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="partners")
    name = models.CharField(max_length=200)
    job_title = models.CharField(max_length=200, help_text="e.g. Director of Nursing.")
    organisation = models.CharField(
        max_length=200, help_text="The agency, e.g. Anyshire Police, Anyshire NHS Trust."
    )
    email = models.EmailField(help_text="Links and one-time codes are sent here.")
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = "partner-agency contact"
        constraints = [
            models.UniqueConstraint(fields=["authority", "email"], name="unique_partner_email"),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.job_title} ({self.organisation})"

    @property
    def display_name(self) -> str:
        return self.name
