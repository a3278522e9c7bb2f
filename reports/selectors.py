"""Reads for the reports' pages: the tracker's rows and its form's choices, as plain
values worked out once here (fifty rows, a hundred options), not model instances read
field by field in the template."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TypedDict

from django.db.models import CharField, F, QuerySet, Value
from django.utils import timezone
from django.utils.text import Truncator

from children.models import Child
from config.dates import date_filter
from escalations import selectors
from escalations.models import Escalation, Nature, State, Step, escalation_reference
from policies.models import ConcernCategory, LocalAuthority, Stage
from staff.models import StaffMember, Team

# A tracker row's own columns, read for the page's slice as plain values.
_TRACKER_COLUMNS = ("pk", "raised_at", "state", "current_stage__name", "raised_by_id")

_STATES = dict(State.choices)


class TrackerRow(TypedDict):
    """One line of the tracker, its cells as the page prints them (a dict: the template
    finds a key at its first try, an attribute only after the key fails)."""

    url: str
    reference: str
    raised: str
    children: str
    status: str
    stage: str
    chair: str
    due: str  # HTML: the open step's Clock.html(), or "—" where no step is open


def tracker_rows(
    escalations: QuerySet[Escalation],
    today: date,
    nation: str,
    closures: frozenset[date],
    names: dict[int, str],
) -> tuple[list[TrackerRow], list[Child]]:
    """The rows of `escalations` (the page's slice), and the children they name for the
    access log, in the page's order. `names`: display names already read (the form's
    chairs, who raise nearly all escalations); anyone else's are read here.

    One query for the rows, one for their children, one for their open steps, and one
    for names not given.
    """
    page: list[tuple[int, datetime, str, str | None, int]] = list(
        escalations.values_list(*_TRACKER_COLUMNS)
    )
    pks = [values[0] for values in page]
    children = selectors.listed_children(pks, fields=("reference",))
    open_steps = {s.escalation_id: s for s in Step.objects.open().filter(escalation_id__in=pks)}
    missing = {values[4] for values in page} - names.keys()
    if missing:
        people = StaffMember.objects.filter(pk__in=missing).select_related("user")
        names = names | {person.pk: person.display_name for person in people}
    rows: list[TrackerRow] = []
    shown: list[Child] = []
    for pk, raised_at, state, stage, raised_by_id in page:
        kids = children.get(pk, [])
        shown += kids
        step = open_steps.get(pk)
        due = "—" if step is None else selectors.Clock.of(step, today, nation, closures).html()
        rows.append(
            {
                "url": selectors.row_url("escalations:detail", pk),
                "reference": escalation_reference(pk),
                "raised": date_filter(timezone.localtime(raised_at), "j M Y"),
                "children": ", ".join(c.reference for c in kids),
                "status": _STATES.get(state, state),
                "stage": stage or "—",
                "chair": names[raised_by_id],
                "due": due,
            }
        )
    return rows, shown


class Option(TypedDict):
    """One <option> of a filter's <select>: its value, its text, and " selected" on the
    one in use (worked out here: a template's comparison per option is slow)."""

    value: str
    label: str
    selected: str


def options(choices: Iterable[tuple[object, str]], chosen: str | None) -> list[Option]:
    listed: list[Option] = []
    for value, label in choices:
        text = str(value)
        listed.append({"value": text, "label": label, "selected": _SELECTED[text == chosen]})
    return listed


_SELECTED = ("", " selected")


def tracker_options(
    authority: LocalAuthority, used: dict[str, str]
) -> tuple[dict[str, list[Option]], dict[int, str]]:
    """The tracker form's choices, each filter's in use marked, read as plain values; and
    the chairs' display names by pk, which the rows reuse."""
    stages, categories, teams = _listed_choices(authority)
    # Display names by the model's own rule (StaffMember.display_name), from the three
    # columns it reads.
    chairs = (
        StaffMember.objects.filter(authority=authority, role__is_chair=True)
        .select_related("user")
        .only("user", "user__first_name", "user__last_name", "user__username")
    )
    names = {chair.pk: chair.display_name for chair in chairs}
    return {
        "statuses": options(State.choices, used.get("status")),
        "natures": options(Nature.choices, used.get("nature")),
        "stages": options(stages, used.get("stage")),
        "categories": options(
            ((pk, Truncator(name).chars(70)) for pk, name in categories), used.get("category")
        ),
        "teams": options(teams, used.get("team")),
        "chairs": options(names.items(), used.get("chair")),
    }, names


# The kinds of choice _listed_choices reads, in the order it returns them.
_STAGE, _CATEGORY, _TEAM = 0, 1, 2


def _listed_choices(
    authority: LocalAuthority,
) -> tuple[list[tuple[int, str]], list[tuple[int, str]], list[tuple[int, str]]]:
    """The authority's stages (in each policy's ladder order), concern categories (in
    their own order) and teams (by name, as Team's order is within one authority): (pk,
    name) of each, in one query rather than three.

    Each kind is sorted by the columns k1, k2, k3 (numbers), then by `by_name` (text),
    then pk; a kind fills the ones its order does not use with the same constant."""
    zero, blank = Value(0), Value("", output_field=CharField())
    stages = Stage.objects.filter(policy__authority=authority).annotate(
        kind=Value(_STAGE), k1=F("policy_id"), k2=F("order"), k3=zero, by_name=blank
    )
    categories = ConcernCategory.objects.filter(
        policy__authority=authority, parent__isnull=False
    ).annotate(
        kind=Value(_CATEGORY), k1=F("policy_id"), k2=F("parent_id"), k3=F("order"), by_name=blank
    )
    teams = Team.objects.filter(authority=authority).annotate(
        kind=Value(_TEAM), k1=zero, k2=zero, k3=zero, by_name=F("name")
    )
    columns = ("kind", "pk", "name", "k1", "k2", "k3", "by_name")
    listed: tuple[list[tuple[int, str]], ...] = ([], [], [])
    # The models' own orderings are cleared: a part of a UNION may not have one.
    union = (
        stages.order_by()
        .values_list(*columns)
        .union(
            categories.order_by().values_list(*columns),
            teams.order_by().values_list(*columns),
            all=True,
        )
        .order_by("kind", "k1", "k2", "k3", "by_name", "pk")
    )
    for n, pk, name, *_sort in union:
        listed[n].append((pk, name))
    return listed[_STAGE], listed[_CATEGORY], listed[_TEAM]
