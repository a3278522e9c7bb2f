"""Staff from a council's HR directory export (CSV or XLSX), matched by the HR system's ID.

Columns: source_id, first_name, last_name, email, role, team, line_manager_source_id,
agency, job_title. A new person gets a sign-in with no password (single sign-on, or an
administrator sets one); an existing one has their name, e-mail and post updated.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from import_export.fields import Field

from imports.resources import AuthorityResource, Lookup, Text, text_of
from imports.services import account_create, account_update
from policies.models import Role
from staff.models import StaffMember, Team

LINE_MANAGER = "line_manager_source_id"


class StaffResource(AuthorityResource[StaffMember]):
    source_id = Field(attribute="source_id", column_name="source_id", widget=Text())
    first_name = Field(attribute="user__first_name", column_name="first_name", widget=Text())
    last_name = Field(attribute="user__last_name", column_name="last_name", widget=Text())
    email = Field(attribute="user__email", column_name="email", widget=Text())
    role = Field(attribute="role", column_name="role", widget=Lookup("role_named"))
    team = Field(attribute="team", column_name="team", widget=Lookup("team_named"))
    line_manager = Field(column_name=LINE_MANAGER)
    agency = Field(attribute="agency", column_name="agency", widget=Text())
    job_title = Field(attribute="job_title", column_name="job_title", widget=Text())

    required_columns = ("source_id", "first_name", "last_name", "email", "role")
    # The user is made or updated just before the staff record is saved.
    unchecked_fields = AuthorityResource.unchecked_fields | {"user", "role", "team", "line_manager"}

    class Meta:
        model = StaffMember
        name = "Staff (HR directory export)"
        fields = (
            "source_id",
            "first_name",
            "last_name",
            "email",
            "role",
            "team",
            "line_manager",
            "agency",
            "job_title",
        )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._teams: dict[str, Team] | None = None
        self._roles: dict[str, Role] | None = None
        # Line managers on a later line: (person's source ID, manager's source ID).
        self._managers_to_link: list[tuple[str, str]] = []

    # Lookups (cells to records of this authority) -------------------------------------------

    def team_named(self, name: str) -> Team | None:
        if not name:
            return None
        if self._teams is None:
            self._teams = {
                t.name.casefold(): t for t in Team.objects.filter(authority=self.authority)
            }
        team = self._teams.get(name.casefold())
        if team is None:
            raise ValueError(f"No team called “{name}” in {self.authority.name}.")
        return team

    def role_named(self, name: str) -> Role:
        if self._roles is None:
            self._roles = {}
            for role in Role.objects.all():
                self._roles[role.slug.casefold()] = role
                self._roles[role.name.casefold()] = role
        found = self._roles.get(name.casefold()) if name else None
        if found is None:
            known = ", ".join(sorted({r.name for r in self._roles.values()}))
            said = f"Unknown role “{name}”." if name else "Every person needs a role."
            raise ValueError(f"{said} Use one of: {known}.")
        return found

    # Rows -------------------------------------------------------------------------------------

    def init_instance(self, row: Any = None) -> StaffMember:
        # An unsaved user carries the name and e-mail until the row is saved.
        return StaffMember(authority=self.authority, user=User())

    def unlinked_match(self, row: dict[str, Any]) -> StaffMember | None:
        # Someone an administrator added by hand before go-live: linked by e-mail, once.
        email = text_of(row.get("email"))
        if not email:
            return None
        return (
            self.get_queryset()
            .filter(source_id__isnull=True, user__email__iexact=email)
            .select_related("user")
            .first()
        )

    def import_extras(self, instance: StaffMember, row: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        user = instance.user
        if user.pk is not None and user.is_superuser:
            errors["email"] = (
                "This is a platform administrator's account: only a platform "
                "administrator can change it."
            )
        for column, what in (("first_name", "first name"), ("last_name", "last name")):
            if column in row and not text_of(row[column]):
                errors[column] = f"Every person needs a {what}."
        email = user.email
        if "email" in row:
            try:
                validate_email(email)
            except ValidationError:
                errors["email"] = (
                    f"“{email}” is not an e-mail address."
                    if email
                    else "Every person needs "
                    "an e-mail address: it is how they are matched at single sign-on."
                )
            else:
                taken = User.objects.filter(
                    Q(username__iexact=email) | Q(email__iexact=email)
                ).exclude(pk=user.pk)
                if taken.exists():
                    errors["email"] = f"“{email}” is already used by another person's account."
        if LINE_MANAGER in row:
            error = self._read_line_manager(instance, text_of(row[LINE_MANAGER]))
            if error:
                errors[LINE_MANAGER] = error
        return errors

    def _read_line_manager(self, instance: StaffMember, manager_id: str) -> str | None:
        before = instance.line_manager_id
        # A manager on a later line, and whether anything changed, ride on the instance to
        # after_save_instance (import-export passes nothing else along); StaffMember
        # declares no such fields, hence the ignores.
        instance._manager_later = None  # type: ignore[attr-defined]
        if not manager_id:
            instance.line_manager = None
        elif manager_id == instance.source_id:
            return "A person cannot be their own line manager."
        else:
            manager = self.get_queryset().filter(source_id=manager_id).first()
            if manager is not None:
                instance.line_manager = manager
            elif manager_id in self.first_row_of:
                instance._manager_later = manager_id  # type: ignore[attr-defined]
            else:
                return (
                    f"No line manager with source ID “{manager_id}” in "
                    f"{self.authority.name} or in this file."
                )
        if instance.line_manager_id != before or instance._manager_later:  # type: ignore[attr-defined]
            instance._import_changes = True  # type: ignore[attr-defined]
        return None

    def before_save_instance(self, instance: StaffMember, row: Any, **kwargs: Any) -> None:
        user = instance.user
        if user.pk is None:
            instance.user = account_create(
                email=user.email, first_name=user.first_name, last_name=user.last_name
            )
        else:
            saved = User.objects.get(pk=user.pk)
            if (saved.email, saved.first_name, saved.last_name) != (
                user.email,
                user.first_name,
                user.last_name,
            ):
                account_update(
                    user=user,
                    email=user.email,
                    first_name=user.first_name,
                    last_name=user.last_name,
                )

    def after_save_instance(self, instance: StaffMember, row: Any, **kwargs: Any) -> None:
        super().after_save_instance(instance, row, **kwargs)
        later = getattr(instance, "_manager_later", None)
        # Every saved line has a source ID (import_instance refuses a line without one).
        if later and instance.source_id:
            self._managers_to_link.append((instance.source_id, later))

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        # A manager on a later line now exists (unless their own line was bad and skipped).
        for person_id, manager_id in self._managers_to_link:
            person = self.get_queryset().filter(source_id=person_id).first()
            manager = self.get_queryset().filter(source_id=manager_id).first()
            if person is not None and manager is not None and person.line_manager_id != manager.pk:
                person.line_manager = manager
                person.save()

    # What the preview shows -------------------------------------------------------------------

    def dehydrate_line_manager(self, staff: StaffMember) -> str:
        later = getattr(staff, "_manager_later", None)
        if later:
            return later
        manager = staff.line_manager if staff.line_manager_id else None
        return (manager.source_id or manager.display_name) if manager else ""
