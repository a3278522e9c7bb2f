"""Reads for the reports' pages: the tracker's rows and its form's choices, as plain
values worked out once here (fifty rows, a hundred options), not model instances read
field by field in the template."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, TypedDict

from django.contrib.auth.models import User
from django.db.models import CharField, F, QuerySet, Value
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from children.models import Child
from config.compiled import CompiledQuery
from config.dates import date_filter
from config.html import format_html, table_row
from escalations import rules, selectors
from escalations.loading import authority_categories, load_ladders
from escalations.models import Escalation, Nature, State, escalation_reference
from policies.models import LocalAuthority
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
    open_steps = selectors.listed_open_steps(pks)
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


def options_html(listed: list[Option]) -> SafeString:
    """A filter's options as the <select> prints them, built here: the tracker's form
    prints a hundred, and the template's loop over them cost more than their making."""
    return SafeString(
        "".join(
            format_html('<option value="{}"{}>{}</option>', o["value"], o["selected"], o["label"])
            for o in listed
        )
    )


def tracker_row_html(row: TrackerRow) -> SafeString:
    """One row of the tracker's table as reports/tracker.html prints it (the template's
    loop it replaced is kept in the tests, which compare them)."""
    return table_row(
        row["url"],
        row["reference"],
        row["raised"],
        row["children"],
        row["status"],
        row["stage"],
        row["chair"],
        row["due"],
        indent="  ",
    )


def tracker_options(
    authority: LocalAuthority, used: dict[str, str]
) -> tuple[dict[str, list[Option]], dict[int, str]]:
    """The tracker form's choices, each filter's in use marked, read as plain values; and
    the chairs' display names by pk, which the rows reuse. The stages and categories are
    ladder data (`load_ladders`, `authority_categories`: no query while no ladder has
    changed); the teams and chairs one query (`_teams_and_chairs`)."""
    # Each policy's ladder in order, the policies by pk; the categories' items (not their
    # themes) in their own order.
    stages = [
        (stage.pk, stage.name)
        for policy in load_ladders(authority=authority).values()
        for stage in rules.ladder(policy)
    ]
    categories = [
        (c.pk, Truncator(c.name).chars(70))
        for c in authority_categories(authority)
        if c.parent_id is not None
    ]
    teams, names = _teams_and_chairs(authority)
    return {
        "statuses": options(State.choices, used.get("status")),
        "natures": options(Nature.choices, used.get("nature")),
        "stages": options(stages, used.get("stage")),
        "categories": options(categories, used.get("category")),
        "teams": options(teams, used.get("team")),
        "chairs": options(names.items(), used.get("chair")),
    }, names


# The kinds of row _teams_and_chairs reads, in the order it returns them.
_TEAM, _CHAIR = 0, 1


def _teams_and_chairs(authority: LocalAuthority) -> tuple[list[tuple[int, str]], dict[int, str]]:
    """The authority's teams (by name) as (pk, name), and its chairs' display names by pk
    (by last then first name, StaffMember's order), in one query rather than two. Each
    chair's name by the model's own rule (StaffMember.display_name), from the three
    columns it reads."""
    listed: list[tuple[int, str]] = []
    names: dict[int, str] = {}
    for kind, pk, t1, t2, t3 in _TEAMS_AND_CHAIRS.rows(authority=authority.pk):
        if kind == _TEAM:
            listed.append((pk, t1))
        else:
            chair = StaffMember(user=User(first_name=t2, last_name=t1, username=t3))
            names[pk] = chair.display_name
    return listed, names


def _teams_and_chairs_query(*, authority: int) -> QuerySet[Any]:
    blank = Value("", output_field=CharField())
    teams = Team.objects.filter(authority=authority).annotate(
        kind=Value(_TEAM), t1=F("name"), t2=blank, t3=blank
    )
    chairs = StaffMember.objects.filter(authority=authority, role__is_chair=True).annotate(
        kind=Value(_CHAIR),
        t1=F("user__last_name"),
        t2=F("user__first_name"),
        t3=F("user__username"),
    )
    columns = ("kind", "pk", "t1", "t2", "t3")
    # The models' own orderings are cleared: a part of a UNION may not have one.
    return (
        teams.order_by()
        .values_list(*columns)
        .union(chairs.order_by().values_list(*columns), all=True)
        .order_by("kind", "t1", "t2", "pk")
    )


# Built and compiled once per process (config.compiled): every tracker page asks it.
_TEAMS_AND_CHAIRS = CompiledQuery(_teams_and_chairs_query)
