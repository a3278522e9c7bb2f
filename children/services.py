"""Writes for children's records: the access log of who looked at what."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict, cast

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

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
    log = AccessLog(
        at=timezone.now(),
        user=user,
        username=username[:150],
        name=name[:300],
        partner=partner,
        action=action,
        # The first child places the row in an authority (all share one); the full list
        # is `children`.
        child=read[0] if read else None,
        escalation=escalation,
    )
    if connection.vendor == "postgresql":
        _insert_in_one_statement(log, [c.pk for c in read])
        return log
    # The row and its children stand or fall together; no savepoint of its own, as a
    # failed log write fails the page anyway.
    with transaction.atomic(savepoint=False):
        log.save(force_insert=True)
        AccessLogChild.objects.bulk_create(AccessLogChild(log=log, child=c) for c in read)
    return log


def _insert_in_one_statement(log: AccessLog, child_pks: list[int]) -> None:
    """The row and its children in one statement (a data-modifying CTE), so one round
    trip and no model machinery: every page that shows case data writes one, and the
    ORM's create and bulk_create cost more than the page's own largest query. Atomic as
    any single statement is."""
    qn = connection.ops.quote_name
    row = [f for f in AccessLog._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(getattr(log, f.attname), connection) for f in row]
    linked = AccessLogChild._meta
    # Names from the models' own metadata, values as parameters.
    sql = (
        f"WITH log AS (INSERT INTO {qn(AccessLog._meta.db_table)} "  # noqa: S608
        f"({', '.join(qn(cast(str, f.column)) for f in row)}) VALUES ({', '.join(['%s'] * len(row))}) "
        f"RETURNING id), linked AS (INSERT INTO {qn(linked.db_table)} "
        f"({qn(linked.get_field('log').column)}, {qn(linked.get_field('child').column)}) "
        "SELECT log.id, child FROM log, unnest(%s::bigint[]) AS child) "
        "SELECT id FROM log"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, child_pks])
        log.pk = cursor.fetchone()[0]
    log._state.adding = False
    log._state.db = connection.alias
