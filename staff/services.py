"""Accounts: setting up and checking the second factor (TOTP, django-otp)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, Group, Permission, User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.models import IdentityProvider, StaffMember

DEVICE_NAME = "Authenticator app"
# Long enough to find the app and scan; short enough that a key seen over someone's
# shoulder, or left open on a shared PC, is soon worth nothing.
SETUP_KEY_LIFETIME = timedelta(minutes=10)


# A set-up key is an unconfirmed device row whose id only the session that started it
# holds (the view keeps it there). The row, not the session, keeps the key because it is
# the one place per user that every session sees: starting a key deletes the user's other
# unconfirmed rows, so a key shown to someone who had only the password stops working the
# moment the real user (or anyone) starts again. Keeping the key in the session alone
# would leave the first session's key valid, and sessions are in the database anyway.


def totp_device_start(*, user: AbstractBaseUser) -> TOTPDevice:
    """A new set-up key for one session; any earlier unconfirmed key of the user stops working."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def _live_setup_keys(user_id: int) -> QuerySet[TOTPDevice]:
    return TOTPDevice.objects.filter(
        user_id=user_id, confirmed=False, created_at__gt=timezone.now() - SETUP_KEY_LIFETIME
    )


def totp_device_pending(*, user: AbstractBaseUser, device_pk: object) -> TOTPDevice | None:
    """The set-up key this session started, while it is still the user's latest and not expired."""
    if not isinstance(device_pk, int):
        return None
    return _live_setup_keys(user.pk).filter(pk=device_pk).first()


def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm this session's set-up key with a code from the app; other unconfirmed keys go.

    The row is read again under a lock: another session may have replaced it since, and
    checking a code saves the device, which would bring a deleted row back.
    """
    with transaction.atomic():
        current = _live_setup_keys(device.user_id).select_for_update().filter(pk=device.pk).first()
        if current is None or not current.verify_token(token):
            return False
        current.confirmed = True
        current.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user_id=device.user_id, confirmed=False).delete()
    device.refresh_from_db()
    return True


AUTHORITY_ADMIN_GROUP = "Authority administrators"

# What an authority administrator may do in Django admin; the admin classes limit every one
# of these to the administrator's own authority (staff/admin_scope.py). Escalations,
# notifications and the access log stay read-only: they change only through the services.
AUTHORITY_ADMIN_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "policies": {
        "localauthority": ("view", "change"),
        "closureday": ("add", "change", "delete", "view"),
        "role": ("view",),
        "policy": ("add", "change", "view"),
        "stage": ("add", "change", "delete", "view"),
        "concerncategory": ("add", "change", "delete", "view"),
    },
    "staff": {
        "team": ("add", "change", "delete", "view"),
        "staffmember": ("add", "change", "view"),
        # Adding one, or naming its secret's variable, is a platform administrator's job.
        "identityprovider": ("change", "view"),
        # The partner directory (partner-agency contacts who answer by link and code).
        "partner": ("add", "change", "delete", "view"),
    },
    "children": {
        "child": ("add", "change", "view"),
        "childprotectionplan": ("add", "change", "delete", "view"),
        "conference": ("add", "change", "delete", "view"),
        "significantevent": ("add", "change", "view"),
        "accesslog": ("view",),
    },
    "escalations": {"escalation": ("view",), "step": ("view",)},
    "notifications": {"notification": ("view",)},
    "auth": {"user": ("view", "change")},
    "otp_totp": {"totpdevice": ("view", "delete")},
}


def authority_admin_group_ensure() -> Group:
    """The "Authority administrators" group with exactly its permissions (safe to re-run)."""
    wanted = Q(pk__in=[])
    for app_label, models in AUTHORITY_ADMIN_PERMISSIONS.items():
        for model, actions in models.items():
            wanted |= Q(
                content_type__app_label=app_label,
                codename__in=[f"{action}_{model}" for action in actions],
            )
    group, _ = Group.objects.get_or_create(name=AUTHORITY_ADMIN_GROUP)
    group.permissions.set(Permission.objects.filter(wanted))
    return group


def authority_admin_grant(*, user: User) -> None:
    """Make a staff member of an authority its administrator in Django admin."""
    group = authority_admin_group_ensure()
    with transaction.atomic():
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(group)


def staff_member_sso_link(
    *, staff: StaffMember, provider: IdentityProvider, subject: str
) -> StaffMember:
    """Record who this person is at their council's provider (their first sign-in there)."""
    staff.sso_provider = provider
    staff.sso_subject = subject
    staff.save(update_fields=["sso_provider", "sso_subject"])
    return staff
