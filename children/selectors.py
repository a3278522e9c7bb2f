"""Who may see which child's record (docs/architecture.md §5, §8): written once, asked by every
page; and the child's own history as the file lists it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    CharField,
    DateField,
    F,
    Field,
    IntegerField,
    QuerySet,
    TextField,
    Value,
)

from children.models import Child, ChildProtectionPlan, Conference, SignificantEvent
from config.compiled import CompiledQuery
from staff.models import StaffMember
from staff.selectors import people_below


def visible_children(staff: StaffMember) -> QuerySet[Child]:
    """Chairs and QA see their authority's children; everyone else the children allocated
    to them or to anyone in their line below them.

    A chair may chair any child's conference and must be able to find a child to raise a
    concern. Being named in an escalation never makes a child visible: that would let a
    sibling's name widen who sees the file, and spread from sibling to sibling.
    """
    qs = Child.objects.filter(authority=staff.authority)
    if staff.is_chair or staff.is_quality_assurance:
        return qs
    return qs.filter(social_worker_id__in=people_below(staff) | {staff.pk})


@dataclass(frozen=True)
class ChildHistory:
    """What the child's file lists above the escalations, newest first (each model's own
    order). The conferences' chairs are not loaded: `chair_ids` says whose they are."""

    plans: list[ChildProtectionPlan]
    conferences: list[Conference]
    events: list[SignificantEvent]

    @property
    def chair_ids(self) -> set[int]:
        return {c.chair_id for c in self.conferences if c.chair_id is not None}


# The three tables' rows in one shape: which table, pk, two dates, two texts, a person.
_HISTORY_COLUMNS = ("row", "pk", "d1", "d2", "t1", "t2", "person")


def _as(value: Any, field: type[Field[Any, Any]]) -> Value:
    return Value(value, output_field=field())


def child_history(child: Child) -> ChildHistory:
    """The child's plans, conferences and significant events, in one query: three tables
    of a handful of rows each, read by one UNION ALL rather than a query apiece, compiled
    once (config.compiled)."""
    history = ChildHistory([], [], [])
    for row, pk, d1, d2, t1, t2, person in _HISTORY.rows(child=child.pk):
        if row == "plan":
            plan = ChildProtectionPlan(id=pk, category=t1, start_date=d1, end_date=d2)
            history.plans.append(_as_read(plan, child))
        elif row == "conference":
            conference = Conference(id=pk, kind=t1, date=d1, chair_id=person)
            history.conferences.append(_as_read(conference, child))
        else:
            event = SignificantEvent(id=pk, date=d1, description=t2, recorded_by_id=person)
            history.events.append(_as_read(event, child))
    # Each model's own order (newest first); ties by pk.
    history.plans.sort(key=lambda p: (p.start_date, -p.pk), reverse=True)
    history.conferences.sort(key=lambda c: (c.date, -c.pk), reverse=True)
    history.events.sort(key=lambda e: (e.date, -e.pk), reverse=True)
    return history


def _history_query(*, child: int) -> QuerySet[Any]:
    plans = ChildProtectionPlan.objects.filter(child=child).annotate(
        row=_as("plan", CharField),
        d1=F("start_date"),
        d2=F("end_date"),
        t1=F("category"),
        t2=_as("", TextField),
        person=_as(None, IntegerField),
    )
    conferences = Conference.objects.filter(child=child).annotate(
        row=_as("conference", CharField),
        d1=F("date"),
        d2=_as(None, DateField),
        t1=F("kind"),
        t2=_as("", TextField),
        person=F("chair_id"),
    )
    events = SignificantEvent.objects.filter(child=child).annotate(
        row=_as("event", CharField),
        d1=F("date"),
        d2=_as(None, DateField),
        t1=_as("", CharField),
        t2=F("description"),
        person=F("recorded_by_id"),
    )
    first, *rest = (
        qs.order_by().values_list(*_HISTORY_COLUMNS) for qs in (plans, conferences, events)
    )
    return first.union(*rest, all=True)


_HISTORY = CompiledQuery(_history_query)


_Row = TypeVar("_Row", ChildProtectionPlan, Conference, SignificantEvent)


def _as_read(instance: _Row, child: Child) -> _Row:
    """A row built from the union's columns, as if read from its table."""
    instance.child = child
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    return instance
