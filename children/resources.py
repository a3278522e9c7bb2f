"""Children on plans from a case-management report (Mosaic, LiquidLogic; CSV or XLSX).

One line per child, matched by the case system's ID. Columns: source_id, reference,
first_name, last_name, date_of_birth, team, social_worker_source_id, plan_category,
plan_start, conference_dates, conference_kinds, conference_chair_source_ids. Several
conferences go in one cell each, separated by ";" (one kind per date; one chair for all
or one per date). Plans are matched by their start date and conferences by date and
kind, so a re-import updates them rather than adding them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.utils import timezone
from import_export.fields import Field

from children.models import Child, ChildProtectionPlan, Conference, ConferenceKind, PlanCategory
from imports.resources import AuthorityResource, Date, Lookup, Text, date_of, list_of, text_of
from staff.models import StaffMember, Team

PLAN_COLUMNS = ("plan_category", "plan_start")
CONFERENCE_COLUMNS = ("conference_dates", "conference_kinds", "conference_chair_source_ids")
KIND_WORDS = {"initial": ConferenceKind.INITIAL, "review": ConferenceKind.REVIEW}


def _choice_named(choices: type[Any], text: str, extra: Mapping[str, str] | None = None) -> Any:
    for value, label in choices.choices:
        if text.casefold() in (value.casefold(), label.casefold()):
            return value
    return (extra or {}).get(text.casefold())


class ChildResource(AuthorityResource[Child]):
    source_id = Field(attribute="source_id", column_name="source_id", widget=Text())
    reference = Field(attribute="reference", column_name="reference", widget=Text())
    first_name = Field(attribute="first_name", column_name="first_name", widget=Text())
    last_name = Field(attribute="last_name", column_name="last_name", widget=Text())
    date_of_birth = Field(attribute="date_of_birth", column_name="date_of_birth", widget=Date())
    team = Field(attribute="team", column_name="team", widget=Lookup("team_named"))
    social_worker = Field(
        attribute="social_worker",
        column_name="social_worker_source_id",
        widget=Lookup("worker_with_id", shown=lambda worker: worker.source_id or str(worker)),
    )
    plan_category = Field(column_name="plan_category")
    plan_start = Field(column_name="plan_start")
    conference_dates = Field(column_name="conference_dates")
    conference_kinds = Field(column_name="conference_kinds")
    conference_chairs = Field(column_name="conference_chair_source_ids")

    required_columns = ("source_id", "reference", "first_name", "last_name")
    unchecked_fields = AuthorityResource.unchecked_fields | {"team", "social_worker"}

    class Meta:
        model = Child
        name = "Children (case-management report)"
        fields = (
            "source_id",
            "reference",
            "first_name",
            "last_name",
            "date_of_birth",
            "team",
            "social_worker",
            "plan_category",
            "plan_start",
            "conference_dates",
            "conference_kinds",
            "conference_chairs",
        )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._teams: dict[str, Team] | None = None
        self._staff: dict[str, StaffMember] | None = None
        self._preview: tuple[ChildProtectionPlan | None, list[Conference]] | None = None
        # Case reference -> (child's pk, source ID), kept up to date as lines are saved.
        self._references: dict[str, tuple[int, str | None]] = {}
        self._reference_of: dict[int, str] = {}

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

    def staff_with_id(self, source_id: str) -> StaffMember:
        if self._staff is None:
            self._staff = {
                s.source_id: s
                for s in StaffMember.objects.filter(
                    authority=self.authority, source_id__isnull=False
                ).select_related("user", "role")
                if s.source_id is not None
            }
        staff = self._staff.get(source_id)
        if staff is None:
            raise ValueError(
                f"No staff member with source ID “{source_id}” in {self.authority.name}."
            )
        if not staff.is_active:
            raise ValueError(
                f"{staff} (source ID “{source_id}”) has left: their record is inactive."
            )
        return staff

    def worker_with_id(self, source_id: str) -> StaffMember | None:
        return self.staff_with_id(source_id) if source_id else None

    # Rows -------------------------------------------------------------------------------------

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        super().before_import(dataset, **kwargs)
        self._references = {
            reference: (pk, source_id)
            for pk, reference, source_id in self.get_queryset().values_list(
                "pk", "reference", "source_id"
            )
        }
        self._reference_of = {pk: reference for reference, (pk, _) in self._references.items()}

    def unlinked_match(self, row: dict[str, Any]) -> Child | None:
        # A child entered by hand before go-live: linked by case reference, once.
        reference = text_of(row.get("reference"))
        if not reference:
            return None
        return self.get_queryset().filter(source_id__isnull=True, reference=reference).first()

    def import_extras(self, instance: Child, row: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        pk, other_source_id = self._references.get(instance.reference, (instance.pk, None))
        if pk != instance.pk:
            whose = f"source ID “{other_source_id}”" if other_source_id else "entered by hand"
            errors["reference"] = (
                f"Case reference “{instance.reference}” already belongs to another child "
                f"in {self.authority.name} ({whose}): check the source ID and the reference."
            )
        if instance.date_of_birth and instance.date_of_birth > timezone.localdate():
            errors["date_of_birth"] = "The date of birth is in the future."
        # What a line says beyond the child's own fields rides on the instance to
        # after_save_instance (import-export passes nothing else along); Child declares no
        # such fields, hence the ignores here and below.
        instance._import_new = instance.pk is None  # type: ignore[attr-defined]
        instance._import_plan = None  # type: ignore[attr-defined]
        instance._import_conferences = []  # type: ignore[attr-defined]
        errors.update(self._read_plan(instance, row))
        errors.update(self._read_conferences(instance, row))
        return errors

    def _read_plan(self, instance: Child, row: dict[str, Any]) -> dict[str, str]:
        category_text = text_of(row.get("plan_category"))
        try:
            start = date_of(row.get("plan_start"))
        except ValueError as error:
            return {"plan_start": str(error)}
        if not category_text and start is None:
            return {}
        category = _choice_named(PlanCategory, category_text) if category_text else None
        if category is None:
            known = ", ".join(label for _, label in PlanCategory.choices)
            said = (
                f"Unknown plan category “{category_text}”."
                if category_text
                else ("The plan has a start date but no category.")
            )
            return {"plan_category": f"{said} Use one of: {known}."}
        if start is None:
            return {"plan_start": "The plan has a category but no start date."}
        instance._import_plan = (category, start)  # type: ignore[attr-defined]
        existing = (
            instance.pk is not None
            and ChildProtectionPlan.objects.filter(
                child=instance, start_date=start, category=category
            ).exists()
        )
        if not existing:
            instance._import_changes = True  # type: ignore[attr-defined]
        return {}

    def _read_conferences(self, instance: Child, row: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        dates: list[date] = []
        for text in list_of(row.get("conference_dates")):
            try:
                day = date_of(text)
            except ValueError as error:
                errors["conference_dates"] = str(error)
                continue
            if day is not None:  # always: list_of gives no blank parts
                dates.append(day)
        kinds: list[str] = []
        for text in list_of(row.get("conference_kinds")):
            kind = _choice_named(ConferenceKind, text, KIND_WORDS)
            if kind is None:
                errors["conference_kinds"] = (
                    f"Unknown conference kind “{text}”. Use icpc (initial) or rcpc (review)."
                )
            kinds.append(kind)
        chairs: list[StaffMember] = []
        for text in list_of(row.get("conference_chair_source_ids")):
            try:
                chair = self.staff_with_id(text)
            except ValueError as error:
                errors["conference_chair_source_ids"] = str(error)
                continue
            if not chair.is_chair:
                errors["conference_chair_source_ids"] = (
                    f"{chair} (source ID “{text}”) is a {chair.role}, not a conference chair."
                )
            chairs.append(chair)
        if errors:
            return errors
        if len(kinds) != len(dates):
            return {
                "conference_kinds": f"{len(dates)} conference dates but {len(kinds)} kinds: "
                "give one kind for each date, separated by “;”."
            }
        if len(chairs) == 1:
            chairs = chairs * len(dates)
        if chairs and len(chairs) != len(dates):
            return {
                "conference_chair_source_ids": f"{len(dates)} conference dates but "
                f"{len(chairs)} chairs: give one chair for all, or one for each date."
            }
        chair_of_each: list[StaffMember | None] = [*chairs] if chairs else [None] * len(dates)
        conferences = list(zip(dates, kinds, chair_of_each, strict=True))
        instance._import_conferences = conferences  # type: ignore[attr-defined]
        if conferences and self._conferences_differ(instance, conferences):
            instance._import_changes = True  # type: ignore[attr-defined]
        return {}

    @staticmethod
    def _conferences_differ(instance: Child, conferences: list[tuple[Any, ...]]) -> bool:
        if instance.pk is None:
            return True
        saved = set(
            Conference.objects.filter(child=instance).values_list("date", "kind", "chair_id")
        )
        return any(
            (day, kind, chair.pk if chair else None) not in saved
            for day, kind, chair in conferences
        )

    # Plans and conferences are saved with their child, one record at a time, so each keeps
    # its history like an edit in admin would.
    def after_save_instance(self, instance: Child, row: Any, **kwargs: Any) -> None:
        super().after_save_instance(instance, row, **kwargs)
        if instance.pk is None:
            return
        old = self._reference_of.get(instance.pk)
        if old is not None and old != instance.reference:
            del self._references[old]
        self._references[instance.reference] = (instance.pk, instance.source_id)
        self._reference_of[instance.pk] = instance.reference
        new = getattr(instance, "_import_new", False)
        plan = getattr(instance, "_import_plan", None)
        if plan is not None:
            category, start = plan
            existing = (
                None
                if new
                else ChildProtectionPlan.objects.filter(child=instance, start_date=start).first()
            )
            if existing is None:
                ChildProtectionPlan.objects.create(
                    child=instance, category=category, start_date=start
                )
            elif existing.category != category:
                existing.category = category
                existing.save()
        for day, kind, chair in getattr(instance, "_import_conferences", []):
            conference = (
                None
                if new
                else Conference.objects.filter(child=instance, date=day, kind=kind).first()
            )
            if conference is None:
                Conference.objects.create(child=instance, date=day, kind=kind, chair=chair)
            elif chair is not None and conference.chair_id != chair.pk:
                conference.chair = chair
                conference.save()

    # What the preview shows -------------------------------------------------------------------

    def preview_values(self, instance: Child) -> list[Any]:
        # Read the plan and conferences once for the five columns that show them.
        self._preview = self._plan_and_conferences(instance)
        try:
            return super().preview_values(instance)
        finally:
            self._preview = None

    @staticmethod
    def _plan_and_conferences(child: Child) -> tuple[ChildProtectionPlan | None, list[Conference]]:
        if child.pk is None:
            return None, []
        plan = ChildProtectionPlan.objects.filter(child=child).order_by("-start_date").first()
        conferences = (
            Conference.objects.filter(child=child).select_related("chair").order_by("date")
        )
        return plan, list(conferences)

    def _shown(self, child: Child) -> tuple[ChildProtectionPlan | None, list[Conference]]:
        return self._preview if self._preview is not None else self._plan_and_conferences(child)

    def dehydrate_plan_category(self, child: Child) -> str:
        plan, _ = self._shown(child)
        return plan.get_category_display() if plan else ""

    def dehydrate_plan_start(self, child: Child) -> str:
        plan, _ = self._shown(child)
        return f"{plan.start_date:%d/%m/%Y}" if plan else ""

    def dehydrate_conference_dates(self, child: Child) -> str:
        return "; ".join(f"{c.date:%d/%m/%Y}" for c in self._shown(child)[1])

    def dehydrate_conference_kinds(self, child: Child) -> str:
        return "; ".join(c.kind for c in self._shown(child)[1])

    def dehydrate_conference_chairs(self, child: Child) -> str:
        return "; ".join(
            (c.chair.source_id or str(c.chair)) if c.chair else "" for c in self._shown(child)[1]
        )
