"""Writes for children's records: the access log of who looked at what."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from django.contrib.auth.models import User
from django.db import transaction

from children.models import AccessLog, AccessLogChild, Child

if TYPE_CHECKING:
    from escalations.models import Escalation
    from staff.models import Partner


class AccessLogSubject(TypedDict, total=False):
    """What an admin page shows, as access_log_record's arguments (children, escalation)."""

    children: Iterable[Child]
    escalation: Escalation | None


def access_log_record(
    *,
    user: User | None = None,
    action: str,
    children: Iterable[Child] = (),
    escalation: Escalation | None = None,
    partner: Partner | None = None,
) -> AccessLog:
    """One row per page read, naming every child it showed.

    The reader's name and username are copied onto the row so that "who" outlives the
    deletion of their user. A partner-agency contact reading their step has no user: the
    row names the partner (and their agency) instead.
    """
    if (user is None) == (partner is None):
        raise ValueError("An access-log row names a user or a partner, exactly one.")
    read = list({child.pk: child for child in children}.values())
    if user is not None:
        username, name = user.get_username(), user.get_full_name() or user.get_username()
    else:
        assert partner is not None
        username, name = partner.email, f"{partner.name} ({partner.organisation})"
    # The row and its children stand or fall together; no savepoint of its own, as a
    # failed log write fails the page anyway.
    with transaction.atomic(savepoint=False):
        log = AccessLog.objects.create(
            user=user,
            username=username[:150],
            name=name[:300],
            partner=partner,
            action=action,
            # The first child places the row in an authority (all share one); the
            # full list is `children`.
            child=read[0] if read else None,
            escalation=escalation,
        )
        AccessLogChild.objects.bulk_create(AccessLogChild(log=log, child=c) for c in read)
    return log
