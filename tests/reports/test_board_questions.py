"""The board's questions (issue 14 item 6, DESIGN §7): outcomes and what changed for the
child, children escalated again within a year, time to resolution by theme, good-practice
records on their own, and the CSV's categories, outcomes and stage dates.

Gloucestershire (England), Q3 2026-27 (1 Oct – 31 Dec 2026); every escalation made through
the services with an explicit `now=`. No bank holiday between 31 August and 25 December.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations.models import Nature
from escalations.services import escalation_resolve
from reports import reporting
from tests.fixtures import at
from tests.reports.conftest import GLOUCESTERSHIRE, Q3, TODAY, TRACKER, get_as, qa_of

G = GLOUCESTERSHIRE


@pytest.fixture
def qa(world):
    return qa_of(world, G)


def board(world):
    return reporting.board_questions(world.authority_of(G), Q3, TRACKER)


def resolve_with_change(escalation, now, change: str = "Visits restarted weekly."):
    return escalation_resolve(
        actor=escalation.raised_by,
        escalation=escalation,
        outcome="Resolved.",
        outcome_for_child=change,
        now=now,
    )


@pytest.fixture
def closed(world):
    """A: informal, resolved Thu 8 Oct with what changed for the child (General Issues).
    B: straight to Stage 6 (final), final decision Mon 19 Oct, nothing recorded for the child (General Issues).
    C: informal, withdrawn Wed 14 Oct (Failure to meet statutory requirements).
    D: informal, resolved 30 Sep (Q2): not in the quarter. E: open: not closed."""
    lack = world.category(G, "Lack of preparation")
    unallocated = world.category(G, "No allocated social worker")
    a = world.raise_(G, at(2026, 10, 5), categories=[lack])
    resolve_with_change(a, at(2026, 10, 8))
    b = world.raise_(G, at(2026, 10, 12), stage=6, categories=[lack])
    world.final(b, at(2026, 10, 19))
    c = world.raise_(G, at(2026, 10, 12), categories=[unallocated])
    world.withdraw(c, at(2026, 10, 14))
    d = world.raise_(G, at(2026, 9, 28), categories=[lack])
    resolve_with_change(d, at(2026, 9, 30))
    world.raise_(G, at(2026, 10, 20), categories=[lack])
    return {"a": a, "b": b, "c": c}


def counts(rows) -> dict[str, tuple[int, int, int, int]]:
    return {r.label: (r.resolved, r.final_decision, r.withdrawn, r.recorded) for r in rows}


def test_closed_escalations_are_counted_by_how_they_closed_with_what_changed_recorded(
    world, closed
):
    b = board(world)
    assert counts(b.closings) == {
        "Resolved": (1, 0, 0, 1),
        "Closed with a final decision": (0, 1, 0, 0),
        "Withdrawn": (0, 0, 1, 0),
    }
    assert (b.closed_total, b.recorded_total) == (3, 1)


def test_outcomes_are_counted_by_theme(world, closed):
    assert counts(board(world).by_theme) == {
        "General Issues": (1, 1, 0, 1),
        "Failure to meet statutory requirements": (0, 0, 1, 0),
    }


def test_outcomes_are_counted_by_the_stage_they_closed_at(world, closed):
    rows = board(world).by_stage
    assert [(r.label, r.total, r.recorded) for r in rows] == [
        ("Informal dispute resolution", 2, 1),
        ("Stage 6: Chief Executive", 1, 0),
    ]


def test_time_to_resolution_is_the_median_by_theme(world, closed):
    # Resolved or decided in Q3: A Mon 5 → Thu 8 Oct = 3 working days; B Mon 12 → Mon
    # 19 Oct = 5. Both General Issues: median 4. C was withdrawn: not resolved.
    rows = board(world).resolution_by_theme
    assert [(r.label, r.count, r.median) for r in rows] == [("General Issues", 2, 4)]


def test_a_child_escalated_again_within_a_year_is_listed_with_a_link_to_their_file(world):
    again = world.child(G, "GL-AGAIN")
    once = world.child(G, "GL-ONCE")
    long_ago = world.child(G, "GL-LONG")
    first = world.raise_(G, at(2025, 12, 1), children=[again])
    second = world.raise_(G, at(2026, 11, 2), children=[again])
    world.raise_(G, at(2026, 11, 2), children=[once])
    world.raise_(G, at(2025, 10, 1), children=[long_ago])  # 13 months before
    world.raise_(G, at(2026, 11, 3), children=[long_ago])
    rows = board(world).re_escalated
    assert [(r.reference, r.url, r.escalations) for r in rows] == [
        (
            "GL-AGAIN",
            reverse("children:file", args=[again.pk]),
            [first.reference, second.reference],
        )
    ]


def test_two_escalations_of_a_child_within_the_quarter_are_a_re_escalation(world):
    child = world.child(G, "GL-TWICE")
    world.raise_(G, at(2026, 10, 5), children=[child])
    world.raise_(G, at(2026, 12, 1), children=[child])
    assert [r.reference for r in board(world).re_escalated] == ["GL-TWICE"]


def test_good_practice_is_counted_apart_from_the_concern_figures(world):
    good = world.category(G, "Area of good practice")
    child = world.child(G, "GL-GOOD")
    world.raise_(G, at(2026, 9, 1), children=[child])
    note = world.raise_(
        G, at(2026, 10, 5), children=[child], categories=[good], nature=Nature.GOOD_PRACTICE
    )
    resolve_with_change(note, at(2026, 10, 6))
    b = board(world)
    assert (b.good_practice_raised, b.good_practice_closed) == (1, 1)
    assert (b.closed_total, b.by_theme, b.resolution_by_theme, b.re_escalated) == (0, [], [], [])


def test_the_dashboard_and_quarterly_report_show_the_boards_questions(
    client, time_machine, world, closed, qa
):
    for name in ("reports:dashboard", "reports:quarterly"):
        page = get_as(client, time_machine, qa.user, reverse(name)).content.decode()
        assert "what changed for the child" in page
        assert "Time to resolution, by theme" in page
        assert "Children escalated again within a year" in page
        assert "Records of good practice" in page


def test_the_boards_questions_ask_the_same_queries_for_few_escalations_or_many(world):
    child = world.child(G, "GL-MANY")
    lack = world.category(G, "Lack of preparation")
    resolve_with_change(
        world.raise_(G, at(2026, 10, 5), children=[child], categories=[lack]), at(2026, 10, 6)
    )
    with CaptureQueriesContext(connection) as few:
        board(world)
    for day in range(5, 25):
        e = world.raise_(G, at(2026, 11, day % 20 + 2), children=[child], categories=[lack])
        resolve_with_change(e, at(2026, 11, 27))
    with CaptureQueriesContext(connection) as many:
        board(world)
    assert len(many) == len(few)


def test_the_csv_has_categories_outcomes_and_each_stages_date(client, time_machine, world, qa):
    lack = world.category(G, "Lack of preparation")
    unallocated = world.category(G, "No allocated social worker")
    e = world.raise_(G, at(2026, 10, 12), categories=[unallocated, lack])
    world.escalate(e, at(2026, 10, 16))
    resolve_with_change(e, at(2026, 10, 23), "An allocated social worker visits weekly.")
    response = get_as(client, time_machine, qa.user, reverse("reports:tracker_csv"), TODAY)
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    header, row = list(csv.reader(io.StringIO(text)))
    got = dict(zip(header, row, strict=True))
    assert got["Categories"] == "; ".join(
        [
            f"Failure to meet statutory requirements: {unallocated.name}",
            f"General Issues: {lack.name}",
        ]
    )
    assert (got["Outcome"], got["Outcome for the child"]) == (
        "Resolved.",
        "An allocated social worker visits weekly.",
    )
    assert got["Stage dates"] == "Informal: 2026-10-12; Stage 1: 2026-10-16"
