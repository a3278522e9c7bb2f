"""Two authorities with one record of every admin-registered model each, and their admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.contrib.auth.models import Group
from django.db import models
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from children.models import AccessLog, SignificantEvent
from children.services import access_log_record
from escalations import services
from policies.models import ClosureDay, Role
from staff.models import IdentityProvider, Partner
from staff.services import authority_admin_grant
from tests.fixtures import first_category
from tests.staff.factories import TeamFactory, UserFactory

OWN, OTHER = "rutland", "gloucestershire"


@dataclass
class Authority:
    """One record of each registered model, keyed by model label ("children.Child")."""

    slug: str
    records: dict[str, models.Model]

    def __getitem__(self, label: str) -> Any:
        return self.records[label]


def _platform_records() -> dict[str, models.Model]:
    """Models that belong to no authority: the same records count as everyone's."""
    return {
        "auth.Group": Group.objects.create(name="Platform support"),
        "policies.Role": Role.objects.get(slug="cp-chair"),
        "axes.AccessAttempt": AccessAttempt.objects.create(
            username="someone", ip_address="192.0.2.1", failures_since_start=1
        ),
        "axes.AccessLog": AxesAccessLog.objects.create(username="someone", ip_address="192.0.2.1"),
        "axes.AccessFailureLog": AccessFailureLog.objects.create(
            username="someone", ip_address="192.0.2.1"
        ),
    }


def _authority_records(slug: str, ladders, staff_of, child_of) -> dict[str, models.Model]:
    policy = ladders[slug]
    authority = policy.authority
    team = TeamFactory(authority=authority, name="Safeguarding Team North")
    chair = staff_of(slug, "cp-chair")
    social_worker = staff_of(slug, "social-worker", team=team)
    responder = staff_of(slug, policy.stages.order_by("order").first().role.slug)
    child = child_of(slug, team=team, social_worker=social_worker)
    escalation = services.escalation_raise(
        actor=chair,
        policy=policy,
        categories=first_category(policy),
        children=[child],
        summary=f"Core group lapsed ({slug})",
        responder=responder,
    )
    access_log_record(user=chair.user, action="test read", children=[child], escalation=escalation)
    return {
        "policies.Policy": policy,
        "policies.LocalAuthority": authority,
        "policies.Stage": policy.stages.order_by("order").first(),
        "policies.ClosureDay": ClosureDay.objects.create(
            authority=authority, date=date(2026, 12, 29), description=f"Christmas ({slug})"
        ),
        "staff.Team": team,
        "staff.StaffMember": social_worker,
        "staff.IdentityProvider": IdentityProvider.objects.create(
            authority=authority,
            display_name=f"{authority.name} account",
            discovery_url=f"https://login.{slug}.example/",
            client_id=f"{slug}-client",
            client_secret_env=f"SSO_CLIENT_SECRET_{slug.upper()}",
            email_domains=f"{slug}.example",
        ),
        "staff.Partner": Partner.objects.create(
            authority=authority,
            name=f"Pat Partner ({slug})",
            job_title="Detective Inspector",
            organisation=f"{authority.name} Police",
            email=f"pat.partner@police.{slug}.example",
        ),
        "auth.User": social_worker.user,
        "otp_totp.TOTPDevice": TOTPDevice.objects.create(
            user=social_worker.user, name="Authenticator app", confirmed=True
        ),
        "children.Child": child,
        "children.SignificantEvent": SignificantEvent.objects.create(
            child=child, date=date(2026, 6, 1), description=f"Moved house ({slug})"
        ),
        "children.AccessLog": AccessLog.objects.filter(action="test read").latest("pk"),
        "escalations.Escalation": escalation,
        "notifications.Notification": escalation.notifications.first(),
    }


@pytest.fixture
def authorities(ladders, staff_of, child_of) -> tuple[Authority, Authority]:
    platform = _platform_records()
    own, other = (
        Authority(slug, {**platform, **_authority_records(slug, ladders, staff_of, child_of)})
        for slug in (OWN, OTHER)
    )
    return own, other


@pytest.fixture
def authority_admin(ladders, staff_of):
    """An administrator of Rutland with every permission of the group."""
    user = staff_of(OWN, "service-manager").user
    authority_admin_grant(user=user)
    return user


@pytest.fixture
def admin_client_(client: Client, authority_admin) -> Client:
    client.force_login(authority_admin)
    return client


@pytest.fixture
def superuser_client(db) -> Client:
    user = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client
