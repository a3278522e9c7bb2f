"""Writes of an import beyond the resources' own rows: accounts for new staff, the log."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models
from import_export.results import Result

from imports.resources import AuthorityResource, ImportCounts, import_written, result_counts
from policies.models import LocalAuthority

logger = logging.getLogger(__name__)


def account_create(*, email: str, first_name: str, last_name: str) -> User:
    """A sign-in for a newly imported person: no password, no admin rights.

    They sign in with the council's single sign-on, or an administrator sets a password;
    an import never makes anyone staff or superuser.
    """
    user = User(
        username=email.lower(),
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=False,
        is_superuser=False,
    )
    user.set_unusable_password()
    user.save()
    return user


def account_update(*, user: User, email: str, first_name: str, last_name: str) -> None:
    """The HR directory's name and e-mail for an existing person; rights are left alone."""
    user.email = email
    user.first_name = first_name
    user.last_name = last_name
    user.save(update_fields=["email", "first_name", "last_name"])


def import_log_record(
    *,
    user: User | None,
    model: type[models.Model],
    authority: LocalAuthority,
    file_name: str,
    counts: ImportCounts,
    dry_run: bool,
    written: bool,
) -> LogEntry | None:
    """Who imported which file into which authority, and what came of it.

    One admin log entry per import (the admin's "Recent actions" and the LogEntry table),
    not one per row; a run with no user (the command run without --by) is in the log
    file only. File names and counts only: no personal data in logs.
    """
    if dry_run:
        what = "Preview (nothing written)"
    else:
        what = "Import" if written else "Import refused (nothing written)"
    message = (
        f"{what} of {file_name} into {authority.name}: {counts}."
        if file_name
        else f"{what} into {authority.name}: {counts}."
    )
    logger.info(
        "people import: %s",
        message,
        extra={
            "authority": authority.slug,
            "model": model._meta.label,
            "user_id": user.pk if user else None,
        },
    )
    if user is None:
        return None
    return LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(model),
        object_id=None,
        object_repr=f"{what} of {file_name}"[:200],
        action_flag=CHANGE,
        change_message=message,
    )


def people_import(
    *,
    resource_class: type[AuthorityResource],
    authority: LocalAuthority,
    dataset: Any,
    file_name: str,
    dry_run: bool,
    skip_bad_rows: bool,
    user: User | None = None,
) -> Result:
    """Import a file of staff or children into one authority, all or nothing.

    Any bad row means nothing is written, unless `skip_bad_rows` says to leave the bad
    rows out and write the rest.
    """
    resource = resource_class(authority=authority)
    result = resource.import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=not skip_bad_rows,
        file_name=file_name,
        user=user,
    )
    import_log_record(
        user=user,
        model=resource_class._meta.model,
        authority=authority,
        file_name=file_name,
        counts=result_counts(result),
        dry_run=dry_run,
        written=import_written(result, skip_bad_rows=skip_bad_rows),
    )
    return result
