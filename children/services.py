"""Writes for children's records: the access log of who looked at what."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from children.models import AccessLog, Child


def access_log_record(
    *,
    user: AbstractBaseUser,
    action: str,
    children: list[Child] | tuple[Child, ...] = (),
    escalation: object | None = None,
) -> None:
    """One row per child read (or one for the escalation when it names no child)."""
    rows = [
        AccessLog(user=user, action=action, child=child, escalation=escalation)
        for child in children
    ] or [AccessLog(user=user, action=action, escalation=escalation)]
    AccessLog.objects.bulk_create(rows)
