"""QA reporting figures (reports/reporting.py), directly and through the dashboard view.

Every escalation is made through the services with an explicit `now=`, and every
expected figure is counted by hand in a comment next to it. Financial quarters run
April–March; every date is Europe/London. The calendar used for the quarter's data
(England: no bank holiday between 31 August and 25 December 2026):

    September 2026        October 2026          November 2026         December 2026
    Mo Tu We Th Fr        Mo Tu We Th Fr        Mo Tu We Th Fr        Mo Tu We Th Fr
        1  2  3  4                  1  2         2  3  4  5  6            1  2  3  4
     7  8  9 10 11         5  6  7  8  9         9 10 11 12 13         7  8  9 10 11
    14 15 16 17 18        12 13 14 15 16        16 17 18 19 20        14 15 16 17 18
    21 22 23 24 25        19 20 21 22 23        23 24 25 26 27        21 22 23 24 [25]
    28 29 30              26 27 28 29 30        30                   [28] 29 30 31

British Summer Time ends on Sunday 25 October 2026 (London is UTC+1 before, UTC after).
Christmas Day (Fri 25 Dec) and Boxing Day observed (Mon 28 Dec) are bank holidays.
The day a step is received does not count: Monday + 2 working days is Wednesday.
"""

from __future__ import annotations

import html
import random
import re
import statistics
from collections import Counter
from datetime import date, datetime

import pytest
from django.urls import reverse

from escalations.models import Escalation, Step
from policies.models import ClosureDay, Stage
from reports import reporting
from tests.fixtures import LONDON, at
from tests.reports.conftest import (
    GLOUCESTERSHIRE,
    MOSAIC,
    Q3,
    RUTLAND,
    STOKE,
    TODAY,
    TRACKER,
    UTC,
    Scenario,
    get_as,
    listed,
    qa_of,
    refs,
)

# --- financial quarters and periods ------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "label", "start", "end"),
    [
        (date(2026, 4, 1), "2026-27 Q1", date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 6, 30), "2026-27 Q1", date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), "2026-27 Q2", date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 9, 30), "2026-27 Q2", date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 10, 1), "2026-27 Q3", date(2026, 10, 1), date(2026, 12, 31)),
        (date(2026, 12, 31), "2026-27 Q3", date(2026, 10, 1), date(2026, 12, 31)),
        # January to March belong to the financial year that started the April before.
        (date(2027, 1, 1), "2026-27 Q4", date(2027, 1, 1), date(2027, 3, 31)),
        (date(2027, 3, 31), "2026-27 Q4", date(2027, 1, 1), date(2027, 3, 31)),
        (date(2026, 3, 31), "2025-26 Q4", date(2026, 1, 1), date(2026, 3, 31)),
        # A leap year's February.
        (date(2028, 2, 29), "2027-28 Q4", date(2028, 1, 1), date(2028, 3, 31)),
        (date(2099, 12, 31), "2099-00 Q3", date(2099, 10, 1), date(2099, 12, 31)),
    ],
)
def test_financial_quarter_labels_and_bounds(day, label, start, end):
    period = reporting.financial_quarter(day)
    assert (period.label, period.start, period.end) == (label, start, end)


def test_a_quarter_runs_from_london_midnight_to_london_midnight():
    q1 = reporting.financial_quarter(date(2026, 4, 1))
    # 1 April 2026 is in British Summer Time: London midnight is 23:00 UTC the day before.
    assert q1.start_at.astimezone(UTC) == datetime(2026, 3, 31, 23, tzinfo=UTC)
    # The quarter ends at midnight starting 1 July 2026 (also BST).
    assert q1.end_at.astimezone(UTC) == datetime(2026, 6, 30, 23, tzinfo=UTC)
    q4 = reporting.financial_quarter(date(2027, 1, 1))
    assert q4.start_at.astimezone(UTC) == datetime(2027, 1, 1, tzinfo=UTC)  # GMT


def test_previous_quarters_lists_eight_quarters_oldest_first():
    quarters = reporting.previous_quarters(Q3, 8)
    assert [q.label for q in quarters] == [
        "2024-25 Q4",
        "2025-26 Q1",
        "2025-26 Q2",
        "2025-26 Q3",
        "2025-26 Q4",
        "2026-27 Q1",
        "2026-27 Q2",
        "2026-27 Q3",
    ]
    assert quarters[0].start == date(2025, 1, 1)


@pytest.mark.parametrize(
    ("quarter", "start", "end", "label"),
    [
        ("2026-27-Q1", date(2026, 4, 1), date(2026, 6, 30), "2026-27 Q1"),
        ("2026-27-Q3", date(2026, 10, 1), date(2026, 12, 31), "2026-27 Q3"),
        ("2026-27-Q4", date(2027, 1, 1), date(2027, 3, 31), "2026-27 Q4"),
        (" 2025-26-Q4 ", date(2026, 1, 1), date(2026, 3, 31), "2025-26 Q4"),
    ],
)
def test_parse_period_reads_a_quarter(quarter, start, end, label):
    period, errors = reporting.parse_period({"quarter": quarter}, TODAY)
    assert errors == []
    assert (period.start, period.end, period.label) == (start, end, label)
    assert reporting.quarter_key(period) == quarter.strip()


@pytest.mark.parametrize(
    "quarter",
    ["2026-27-Q5", "2026-27-Q0", "2026-27", "Q3", "nonsense", "-Q3", "1999-00-Q1", "2026-27-Q3-Q4"],
)
def test_parse_period_refuses_a_bad_quarter_and_shows_the_current_one(quarter):
    period, errors = reporting.parse_period({"quarter": quarter}, TODAY)
    assert errors == ["That quarter is not recognised; showing the current quarter."]
    assert period == Q3  # Mon 16 Nov 2026 is in 2026-27 Q3


def test_parse_period_reads_a_date_range():
    period, errors = reporting.parse_period({"from": "2026-04-01", "to": "2026-05-15"}, TODAY)
    assert errors == []
    assert (period.start, period.end) == (date(2026, 4, 1), date(2026, 5, 15))
    assert period.label == "1 Apr 2026 to 15 May 2026"


def test_a_one_day_range_is_allowed():
    period, errors = reporting.parse_period({"from": "2026-11-16", "to": "2026-11-16"}, TODAY)
    assert (period.start, period.end, errors) == (date(2026, 11, 16), date(2026, 11, 16), [])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"from": "2026-05-01", "to": "2026-04-01"},
            "The end of the date range must be on or after its start.",
        ),
        (
            {"from": "yesterday", "to": "2026-04-01"},
            "Enter both dates of the range as real dates, for example 2026-04-01.",
        ),
        (
            {"from": "2026-02-30", "to": "2026-04-01"},
            "Enter both dates of the range as real dates, for example 2026-04-01.",
        ),
        (
            {"from": "2026-04-01"},
            "Enter both dates of the range as real dates, for example 2026-04-01.",
        ),
        ({"from": "2000-01-01", "to": "2026-04-01"}, "Choose a date range of ten years or less."),
        # Dates the calendar cannot go round (a year 1 or 9999 quarter has no neighbours).
        (
            {"from": "0001-01-01", "to": "0001-06-01"},
            "Enter dates between the years 2000 and 2100.",
        ),
        (
            {"from": "9999-12-01", "to": "9999-12-31"},
            "Enter dates between the years 2000 and 2100.",
        ),
    ],
)
def test_parse_period_explains_a_bad_range_and_shows_the_current_quarter(params, message):
    period, errors = reporting.parse_period(params, TODAY)
    assert errors == [message]
    assert period == Q3


def test_a_bad_range_falls_back_to_the_quarter_asked_for():
    period, errors = reporting.parse_period(
        {"from": "2026-05-01", "to": "2026-04-01", "quarter": "2025-26-Q2"}, TODAY
    )
    assert errors == ["The end of the date range must be on or after its start."]
    assert period.label == "2025-26 Q2"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("quarter=2026-27-Q9", "That quarter is not recognised; showing the current quarter."),
        (
            "from=2026-05-01&to=2026-04-01",
            "The end of the date range must be on or after its start.",
        ),
        ("from=31/12/2026&to=2027-01-01", "Enter both dates of the range as real dates"),
        ("from=0001-01-01&to=0001-01-02", "Enter dates between the years 2000 and 2100."),
        ("from=9999-12-30&to=9999-12-31", "Enter dates between the years 2000 and 2100."),
    ],
)
@pytest.mark.parametrize("name", ["reports:dashboard", "reports:quarterly"])
def test_the_dashboard_shows_period_errors_in_plain_words_never_a_500(
    client, time_machine, world, name, query, message
):
    response = get_as(
        client, time_machine, qa_of(world, GLOUCESTERSHIRE).user, f"{reverse(name)}?{query}"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page or name == "reports:quarterly"
    assert response.context["errors"][0].startswith(message)
    assert response.context["d"].period == Q3  # the current quarter instead


def test_the_dashboard_shows_the_quarter_asked_for(client, time_machine, world):
    response = get_as(
        client,
        time_machine,
        qa_of(world, GLOUCESTERSHIRE).user,
        reverse("reports:dashboard") + "?quarter=2026-27-Q1",
    )
    assert response.context["d"].period.label == "2026-27 Q1"
    assert response.context["errors"] == []
    assert "Escalations dashboard: 2026-27 Q1" in response.content.decode()


# --- quarter boundaries in London time -------------------------------------------------


@pytest.fixture
def year_end(world):
    """Two Rutland escalations either side of the financial year end (BST from 29 Mar 2026)."""
    late = world.raise_(RUTLAND, at(2026, 3, 31, 23, 30))  # Tue 31 Mar 23:30 BST
    early = world.raise_(RUTLAND, at(2026, 4, 1, 0, 30))  # Wed 1 Apr 00:30 BST
    return late, early


def test_raised_at_is_stored_in_utc_either_side_of_midnight(year_end):
    late, early = year_end
    assert Escalation.objects.get(pk=late.pk).raised_at == datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    # 1 April 00:30 in London is still 31 March in UTC.
    assert Escalation.objects.get(pk=early.pk).raised_at == datetime(
        2026, 3, 31, 23, 30, tzinfo=UTC
    )


def test_31_march_2330_is_q4_and_1_april_0030_is_q1_of_the_next_year(world, year_end):
    late, early = year_end
    authority = world.authority_of(RUTLAND)
    q4 = reporting.parse_period({"quarter": "2025-26-Q4"}, TODAY)[0]
    q1 = reporting.parse_period({"quarter": "2026-27-Q1"}, TODAY)[0]

    d4 = reporting.dashboard(authority, q4, date(2026, 4, 2), TRACKER)
    d1 = reporting.dashboard(authority, q1, date(2026, 4, 2), TRACKER)
    # One each, both informal (Rutland's threshold discussion).
    assert (d4.raised_informal, d4.raised_formal) == (1, 0)
    assert (d1.raised_informal, d1.raised_formal) == (1, 0)

    for period, expected in ((q4, late), (q1, early)):
        qs, used = reporting.filter_escalations(
            authority, {"from": period.start.isoformat(), "to": period.end.isoformat()}, TODAY
        )
        assert list(qs) == [expected]
        assert used == {"from": period.start.isoformat(), "to": period.end.isoformat()}

    # The trend to 2026-27 Q1 shows one in each of its last two quarters.
    assert [(t["label"], t["informal"]) for t in d1.trend[-2:]] == [
        ("2025-26 Q4", 1),
        ("2026-27 Q1", 1),
    ]


def test_the_year_end_through_the_views(client, time_machine, world, year_end):
    late, early = year_end
    qa = qa_of(world, RUTLAND).user
    for quarter, expected in (("2025-26-Q4", late), ("2026-27-Q1", early)):
        response = get_as(
            client,
            time_machine,
            qa,
            reverse("reports:dashboard") + f"?quarter={quarter}",
            date(2026, 4, 2),
        )
        d = response.context["d"]
        assert d.raised_total == 1
        bar = next(iter(d.by_chair.bars))
        assert listed(client.get(bar.url)) == [expected.reference]


# --- the quarter's figures -----------------------------------------------------------


def test_raised_informal_formal_and_good_practice(quarter):
    d = reporting.dashboard(quarter["authority"], Q3, TODAY, TRACKER)
    # Raised in Q3: E1–E7, of which E6 is good practice, counted apart: concerns E1–E5, E7
    # (6). Went formal: E2, E3, E5 (3). Informal only: E1, E4, E7 (3). Good practice: E6
    # (1). E0 (Q2), E9, E10 and Rutland's X1 are not counted.
    assert (d.raised_informal, d.raised_formal, d.raised_total) == (3, 3, 6)
    assert d.good_practice == 1


def test_highest_stage_reached_per_escalation(quarter):
    d = reporting.dashboard(quarter["authority"], Q3, TODAY, TRACKER)
    # Concerns only (not E6, good practice). Informal only: E1, E4, E7 (3); Stage 1: E2
    # (via informal), E5 (straight in) (2); Stage 3: E3 (Stage 1 → 2 → 3) (1).
    assert [(b.label, b.value) for b in d.highest.bars] == [
        ("Informal dispute resolution", 3),
        ("Stage 1: Team Manager (Dispute Resolution Form)", 2),
        ("Stage 3: Head of Service", 1),
    ]
    # The longest bar is full width; the others in proportion.
    assert [b.width for b in d.highest.bars] == [100.0, 66.7, 33.3]


def test_a_skipped_stage_is_not_reached(world):
    # Straight to Stage 3 (Gloucestershire lets any stage be bypassed): the highest is 3.
    skipped = world.raise_(GLOUCESTERSHIRE, at(2026, 10, 5), stage=3)
    d = reporting.dashboard(world.authority_of(GLOUCESTERSHIRE), Q3, TODAY, TRACKER)
    assert [(b.label, b.value) for b in d.highest.bars] == [("Stage 3: Head of Service", 1)]
    qs, _ = reporting.filter_escalations(
        world.authority_of(GLOUCESTERSHIRE), {"highest": f"{skipped.policy_id}:3"}, TODAY
    )
    assert list(qs) == [skipped]


def test_themes_at_both_levels(quarter):
    d = reporting.dashboard(quarter["authority"], Q3, TODAY, TRACKER)
    themes = {
        t["bar"].label: (t["bar"].value, [(b.label[:30], b.value) for b in t["items"].bars])
        for t in d.themes
    }
    # General Issues: E1 (two items), E3 — two escalations, not three ticks.
    #   "Lack of preparation": E1, E3 (2); "Conference decisions": E1 (1).
    # Failure to meet statutory requirements: E2 (1). Failure to manage the plan: E3 (1).
    # Good practice: E6 is not a concern, so not in the themes. Serious safeguarding: none,
    # so no row.
    assert themes == {
        "General Issues": (
            2,
            [("Lack of preparation for Child ", 2), ("Conference decisions not acted", 1)],
        ),
        "Failure to meet statutory requirements": (1, [("No allocated social worker", 1)]),
        "Failure to manage the child protection plan": (1, [("Drift/delay in the ownership a", 1)]),
    }
    # Largest theme first.
    assert d.themes[0]["bar"].label == "General Issues"


def test_themes_on_a_second_two_level_policy(world):
    m = MOSAIC
    visits = world.category(m, "Visits not maintained")
    core = world.category(m, "Core Groups not held")
    unallocated = world.category(m, "No allocated social worker")
    world.raise_(m, at(2026, 10, 5), categories=[visits, core])
    world.raise_(m, at(2026, 10, 6), categories=[visits])
    world.raise_(m, at(2026, 10, 7), categories=[unallocated])
    world.raise_(m, at(2026, 10, 8))  # no category: in no theme
    d = reporting.dashboard(world.authority_of(m), Q3, TODAY, TRACKER)
    # Timeliness: the first two (2): "Visits" 2, "Core Groups" 1. Engagement: the third (1).
    assert [
        (t["bar"].label, t["bar"].value, [(b.label, b.value) for b in t["items"].bars])
        for t in d.themes
    ] == [
        (
            "Timeliness",
            2,
            [("Visits not maintained as required in CP Plan", 2), ("Core Groups not held", 1)],
        ),
        ("Engagement", 1, [("No allocated social worker", 1)]),
    ]


def test_responses_within_timescale_per_stage(quarter):
    d = reporting.dashboard(quarter["authority"], Q3, TODAY, TRACKER)
    table = {
        row["stage"]: (
            row["met"],
            row["missed"],
            row["pending"],
            row["none"],
            row["closed"],
            row["raised"],
            row["percent_met"],
        )
        for row in d.timescales
    }
    # Steps raised in Q3, judged against the earlier of the stage deadline and the cap:
    # Concerns only (E6 is good practice, counted apart).
    # Informal (4 raised): E1 answered on its deadline day (met); E2 answered a day late
    #   (missed); E4 open past Wed 11 Nov (missed). E7 closed before its deadline with no
    #   response asked for: nothing to judge, and not "no timescale", so "closed without a
    #   response" (1). 1 of 3 met = 33%.
    # Stage 1 (3 raised): E2 answered 23:30 London on its deadline day (met); E3 escalated
    #   after its deadline unanswered (missed); E5 due Wed 18 Nov (pending). 1 of 2 = 50%.
    # Stage 2: E3 answered Mon 2 Nov, due Fri 30 Oct (missed). 0%.
    # Stage 3: E3 due Mon 9 Nov, open (missed). 0%.
    assert table == {
        "Informal dispute resolution": (1, 2, 0, 0, 1, 4, 33),
        "Stage 1: Team Manager (Dispute Resolution Form)": (1, 1, 1, 0, 0, 3, 50),
        "Stage 2: Resolution Meeting with Team Manager & Social Worker": (0, 1, 0, 0, 0, 1, 0),
        "Stage 3: Head of Service": (0, 1, 0, 0, 0, 1, 0),
    }


def test_working_days_to_resolution_in_the_quarter(quarter):
    d = reporting.dashboard(quarter["authority"], Q3, TODAY, TRACKER)
    # Resolved (or decided) in Q3, in working days from raising:
    #   E0 Wed 30 Sep → Fri 2 Oct: Thu 1, Fri 2 = 2 (raised in Q2, resolved in Q3)
    #   E1 Mon 5 Oct → Thu 8 Oct: 6, 7, 8 = 3
    #   E2 Mon 12 Oct → Fri 23 Oct: 13–16, 19–23 = 9
    # E6 (resolved Fri 13 Nov) is good practice, not a concern; E7 was withdrawn, not
    # resolved. Sorted: 2, 3, 9.
    # Median: 3. Quartiles by the inclusive method: 0-based positions (n − 1) × ¼ = 0.5
    # and (n − 1) × ¾ = 1.5: 2 + 0.5 × (3 − 2) = 2.5 and 3 + 0.5 × (9 − 3) = 6.
    r = d.resolution_days
    assert (r["count"], r["median"], r["lower_quartile"], r["upper_quartile"]) == (3, 3, 2.5, 6)
    assert (r["min"], r["max"]) == (2, 9)


def test_resolution_quartiles_count_bank_holidays_and_closure_days(world):
    g = GLOUCESTERSHIRE
    ClosureDay.objects.create(
        authority=world.authority_of(g), date=date(2026, 12, 24), description="Christmas Eve"
    )

    def resolved(raised: datetime, closed: datetime) -> Escalation:
        e = world.raise_(g, raised)
        return world.resolve(e, closed)

    resolved(at(2026, 10, 5), at(2026, 10, 6))  # Mon → Tue: 1
    resolved(at(2026, 10, 5), at(2026, 10, 7))  # Mon → Wed: 6, 7 = 2
    resolved(at(2026, 10, 1), at(2026, 10, 7))  # Thu 1 → Wed 7: 2, 5, 6, 7 = 4
    # Fri 18 Dec → Tue 29 Dec: 21, 22, 23 (24 closed; 25 and 28 bank holidays;
    # 26, 27 weekend), 29 = 4.
    resolved(at(2026, 12, 18), at(2026, 12, 29))
    # Closed with a final decision at Stage 6 (Chief Executive), Mon 2 Nov → Mon 16 Nov:
    # 3–6, 9–13, 16 = 10.
    decided = world.raise_(g, at(2026, 11, 2), stage=6)
    world.final(decided, at(2026, 11, 16))
    # Not counted: withdrawn; resolved in Q2; raised in Q3 but resolved in Q4.
    world.withdraw(world.raise_(g, at(2026, 10, 5)), at(2026, 10, 20))
    resolved(at(2026, 9, 28), at(2026, 9, 30))
    resolved(at(2026, 12, 1), at(2027, 1, 5))

    d = reporting.dashboard(world.authority_of(g), Q3, date(2027, 1, 6), TRACKER)
    # Sorted 1, 2, 4, 4, 10. Median 4. Quartiles (inclusive) at 0-based positions
    # 4 × ¼ = 1 and 4 × ¾ = 3: exactly the values there, 2 and 4.
    r = d.resolution_days
    assert (r["count"], r["median"], r["lower_quartile"], r["upper_quartile"]) == (5, 4, 2, 4)
    assert (r["min"], r["max"]) == (1, 10)


def test_a_single_resolution_is_its_own_median_and_quartiles(world):
    e = world.raise_(RUTLAND, at(2026, 10, 5))
    world.resolve(e, at(2026, 10, 9))  # Mon → Fri: 4
    d = reporting.dashboard(world.authority_of(RUTLAND), Q3, TODAY, TRACKER)
    r = d.resolution_days
    assert (r["count"], r["median"], r["lower_quartile"], r["upper_quartile"]) == (1, 4, 4, 4)


def test_no_resolutions_leaves_the_figures_empty(world):
    world.raise_(RUTLAND, at(2026, 10, 5))
    assert (
        reporting.dashboard(world.authority_of(RUTLAND), Q3, TODAY, TRACKER).resolution_days == {}
    )


# Hand-computed by the inclusive method: the quartiles sit at the 0-based positions
# (n − 1) × ¼ and (n − 1) × ¾ of the sorted values, interpolated between neighbours.
@pytest.mark.parametrize(
    ("values", "lower", "upper"),
    [
        # One value is its own quartiles (statistics.quantiles refuses a single value).
        ([4], 4, 4),
        # Two: positions 0.25 and 0.75: 0 + 0.25 × 3 = 0.75 and 0 + 0.75 × 3 = 2.25. (The
        # exclusive method gave −0.75 and 3.75, outside the range 0 to 3.)
        ([0, 3], 0.75, 2.25),
        # Three: positions 0.5 and 1.5: midway from 1 to 2 = 1.5, midway from 2 to 4 = 3.
        ([1, 2, 4], 1.5, 3),
        ([5, 5, 5], 5, 5),
        # Four: positions 0.75 and 2.25: 0 + 0.75 × (2 − 0) = 1.5 and 3 + 0.25 × (9 − 3) = 4.5.
        ([0, 2, 3, 9], 1.5, 4.5),
        # Five, given unsorted: sorted 1, 2, 4, 4, 10; positions 1 and 3: 2 and 4.
        ([10, 4, 1, 4, 2], 2, 4),
        # Nine: 1 to 9, positions 2 and 6: 3 and 7.
        (list(range(1, 10)), 3, 7),
    ],
)
def test_quartiles_by_the_inclusive_method(values, lower, upper):
    assert reporting.quartiles(values) == (lower, upper)


def test_quartiles_always_lie_within_the_range():
    rng = random.Random(2026)
    for size in range(1, 40):
        for _ in range(25):
            # Small samples with ties and outliers are where extrapolation showed.
            values = [rng.choice((rng.randint(0, 3), rng.randint(0, 200))) for _ in range(size)]
            lower, upper = reporting.quartiles(values)
            assert min(values) <= lower <= statistics.median(values) <= upper <= max(values), values


def test_quartiles_of_no_values_are_refused():
    with pytest.raises(ValueError):
        reporting.quartiles([])


def test_the_printed_quartiles_lie_within_the_printed_range(client, time_machine, world):
    r = RUTLAND
    world.resolve(world.raise_(r, at(2026, 10, 5)), at(2026, 10, 5, 15))  # same day: 0
    world.resolve(world.raise_(r, at(2026, 10, 5)), at(2026, 10, 8))  # Mon → Thu: 3
    response = get_as(
        client,
        time_machine,
        qa_of(world, r).user,
        reverse("reports:quarterly") + "?quarter=2026-27-Q3",
    )
    summary = dict(
        re.findall(
            r'<dt class="govuk-summary-list__key">([^<]+)</dt>'
            r'<dd class="govuk-summary-list__value">([^<]+)</dd>',
            response.content.decode(),
        )
    )
    assert summary["Range"] == "0 to 3"
    # 0.75 and 2.25, one decimal place (the board saw "−0.8 to 3.8" here).
    assert summary["Middle half (quartiles)"] == "0.8 to 2.3"


def test_open_and_overdue_now(quarter):
    d = reporting.dashboard(quarter["authority"], Q3, TODAY, TRACKER)
    # Open on Mon 16 Nov: E3 (Stage 3 due Mon 9 Nov), E4 (informal due Wed 11 Nov), E5
    # (Stage 1 due Wed 18 Nov) = 3. Overdue: E3, E4 = 2. Rutland's X1 is not counted.
    assert (d.open_now, d.overdue_now) == (3, 2)
    # "Now" does not depend on the period shown.
    d2 = reporting.dashboard(
        quarter["authority"], reporting.financial_quarter(date(2025, 6, 1)), TODAY, TRACKER
    )
    assert (d2.open_now, d2.overdue_now) == (3, 2)


def test_a_response_received_past_the_deadline_is_open_but_not_overdue(world):
    # Rutland Stage 3 (direct entry allowed), 5 WD: Mon 2 Nov → due Mon 9 Nov.
    e = world.raise_(RUTLAND, at(2026, 11, 2), stage=3)
    world.respond(e, at(2026, 11, 12))  # late, awaiting the chair's verdict
    d = reporting.dashboard(world.authority_of(RUTLAND), Q3, TODAY, TRACKER)
    assert (d.open_now, d.overdue_now) == (1, 0)
    assert [row["missed"] for row in d.timescales] == [1]


def test_by_team_and_by_chair(quarter):
    d = reporting.dashboard(quarter["authority"], Q3, TODAY, TRACKER)
    # Concerns only (not E6, good practice). The children's team: North E1, E5, E7 (3);
    # South E2, E4 (2); no team E3 (1).
    assert [(b.label, b.value) for b in d.by_team.bars] == [
        ("North Team", 3),
        ("South Team", 2),
        ("No team", 1),
    ]
    # The chair who raised it: Ann E1, E2, E5 (3); Ben E3, E4, E7 (3); a tie, by name.
    assert [(b.label, b.value) for b in d.by_chair.bars] == [("Ann Archer", 3), ("Ben Baker", 3)]


def test_siblings_in_two_teams_count_once_in_each(world):
    g = GLOUCESTERSHIRE
    north, south = world.team(g, "North Team"), world.team(g, "South Team")
    world.raise_(
        g, at(2026, 10, 5), children=[world.child(g, team=north), world.child(g, team=south)]
    )
    world.raise_(
        g, at(2026, 10, 6), children=[world.child(g, team=north), world.child(g, team=north)]
    )
    d = reporting.dashboard(world.authority_of(g), Q3, TODAY, TRACKER)
    # North: both (2); South: the first (1). Two siblings in North count once.
    assert [(b.label, b.value) for b in d.by_team.bars] == [("North Team", 2), ("South Team", 1)]


def test_trend_over_eight_quarters(quarter):
    d = reporting.dashboard(quarter["authority"], Q3, TODAY, TRACKER)
    # E10 (Nov 2024) is before 2024-25 Q4; E9 (Jun 2025) formal in 2025-26 Q1; E0 (30 Sep
    # 2026) informal in 2026-27 Q2; Q3: informal 3, formal 3 (as above: concerns only).
    assert [(t["label"], t["informal"], t["formal"]) for t in d.trend] == [
        ("2024-25 Q4", 0, 0),
        ("2025-26 Q1", 0, 1),
        ("2025-26 Q2", 0, 0),
        ("2025-26 Q3", 0, 0),
        ("2025-26 Q4", 0, 0),
        ("2026-27 Q1", 0, 0),
        ("2026-27 Q2", 1, 0),
        ("2026-27 Q3", 3, 3),
    ]
    chart = reporting.trend_chart(d.trend)
    assert [dot["total"] for dot in chart["dots"]] == [0, 1, 0, 0, 0, 0, 1, 6]


def test_another_authoritys_escalations_never_change_the_figures(quarter, world):
    before = reporting.dashboard(quarter["authority"], Q3, TODAY, TRACKER)
    for _ in range(3):
        e = world.raise_(MOSAIC, at(2026, 10, 5))
        world.respond(e, at(2026, 10, 20))
    after = reporting.dashboard(quarter["authority"], Q3, TODAY, TRACKER)
    assert after == before
    rutland = reporting.dashboard(world.authority_of(RUTLAND), Q3, TODAY, TRACKER)
    assert (rutland.raised_total, rutland.open_now) == (1, 1)  # X1 only


# --- responses within timescale: the edge cases ----------------------------------------


def outcome(step: Step, today: date) -> str:
    return reporting.classified_steps(today).get(pk=step.pk).outcome


def test_a_response_on_the_deadline_day_is_met_and_a_day_late_over_christmas_is_missed(world):
    g = GLOUCESTERSHIRE
    # Stage 1 raised Fri 18 Dec 2026: + 4 working days = Mon 21, Tue 22, Wed 23, Thu 24.
    # The cap (20 WD) is in January, so Thu 24 Dec is the deadline that bites.
    on_time = world.raise_(g, at(2026, 12, 18), stage=1)
    late = world.raise_(g, at(2026, 12, 18), stage=1)
    on_time_step = world.open_step(on_time)
    assert (on_time_step.due_on, on_time_step.effective_due_on) == (
        date(2026, 12, 24),
        date(2026, 12, 24),
    )
    world.respond(on_time, at(2026, 12, 24, 17))
    # Fri 25 (Christmas), Sat 26, Sun 27, Mon 28 (Boxing Day observed) are not working
    # days: Tue 29 Dec is one working day late.
    world.respond(late, at(2026, 12, 29, 9))
    today = date(2027, 1, 6)
    assert outcome(on_time_step, today) == "met"
    assert outcome(world.open_step(late), today) == "missed"

    d = reporting.dashboard(world.authority_of(g), Q3, today, TRACKER)
    assert [(r["met"], r["missed"], r["percent_met"]) for r in d.timescales] == [(1, 1, 50)]


def test_the_response_time_is_compared_as_a_london_date(world):
    g = GLOUCESTERSHIRE
    # Informal stage raised Mon 12 Oct 2026 (BST): due Wed 14 Oct.
    evening = world.raise_(g, at(2026, 10, 12))
    after_midnight = world.raise_(g, at(2026, 10, 12))
    # 23:30 London on the deadline day (22:30 UTC): met.
    world.respond(evening, at(2026, 10, 14, 23, 30))
    # 00:30 London on Thu 15 Oct is 23:30 UTC on Wed 14 Oct: still a day late in London.
    world.respond(after_midnight, at(2026, 10, 15, 0, 30))
    late_step = Step.objects.get(escalation=after_midnight)
    assert late_step.responded_at.astimezone(UTC).date() == date(2026, 10, 14)
    assert outcome(Step.objects.get(escalation=evening), TODAY) == "met"
    assert outcome(late_step, TODAY) == "missed"


def test_an_open_step_past_its_deadline_is_missed_and_one_not_yet_due_is_pending(world):
    # Rutland Stage 3 (direct entry allowed): 5 WD, Mon 2 Nov → due Mon 9 Nov.
    e = world.raise_(RUTLAND, at(2026, 11, 2), stage=3)
    step = world.open_step(e)
    assert step.due_on == date(2026, 11, 9)
    assert outcome(step, date(2026, 11, 6)) == "pending"
    assert outcome(step, date(2026, 11, 9)) == "pending"  # due today: not yet missed
    assert outcome(step, date(2026, 11, 10)) == "missed"


def test_stoke_stage_1_has_no_deadline_of_its_own_so_the_20_day_cap_judges_it(world):
    s = STOKE
    # Stoke-on-Trent Stage 1 (Service Manager): the policy sets no timescale, but the
    # formal process must finish within 20 working days. Raised Mon 2 Nov 2026 straight to
    # Stage 1: cap = 3–6 (4), 9–13 (9), 16–20 (14), 23–27 (19), Mon 30 Nov (20).
    answered = world.raise_(s, at(2026, 11, 2), stage=1)
    waiting = world.raise_(s, at(2026, 11, 2), stage=1)
    step = world.open_step(waiting)
    assert (step.due_on, step.cap_due_on, step.binding_clock) == (None, date(2026, 11, 30), "cap")
    world.respond(answered, at(2026, 11, 30, 16))  # on the cap's last day
    assert outcome(world.open_step(answered), date(2026, 12, 10)) == "met"
    assert outcome(step, date(2026, 11, 30)) == "pending"
    assert outcome(step, date(2026, 12, 1)) == "missed"
    d = reporting.dashboard(world.authority_of(s), Q3, date(2026, 12, 1), TRACKER)
    row = d.timescales[0]
    assert row["stage"] == "Stage 1: Service Manager"
    assert (row["met"], row["missed"], row["pending"], row["none"]) == (1, 1, 0, 0)


def test_no_timescale_only_where_neither_clock_exists(world):
    # Rutland's threshold discussion has no timescale and, being informal, no cap: "none",
    # answered or not.
    answered = world.raise_(RUTLAND, at(2026, 10, 5))
    world.respond(answered, at(2026, 11, 2))
    world.raise_(RUTLAND, at(2026, 10, 5))  # unanswered
    resolved = world.raise_(RUTLAND, at(2026, 10, 5))
    world.resolve(resolved, at(2026, 10, 6))
    # Steps with a clock that closed before it ran out, with no response asked for:
    # Gloucestershire informal resolved the same day; informal then escalated early;
    # Stage 1 withdrawn the next day.
    g = GLOUCESTERSHIRE
    world.resolve(world.raise_(g, at(2026, 10, 5)), at(2026, 10, 5, 15))
    world.escalate(world.raise_(g, at(2026, 10, 5)), at(2026, 10, 6))
    world.withdraw(world.raise_(g, at(2026, 10, 5), stage=1), at(2026, 10, 6))

    steps = reporting.classified_steps(TODAY)
    no_clock = {s.pk for s in Step.objects.filter(due_on__isnull=True, cap_due_on__isnull=True)}
    assert len(no_clock) == 3  # the three Rutland steps
    assert {s.pk for s in steps if s.outcome == "none"} == no_clock
    for authority, nones in ((world.authority_of(RUTLAND), 3), (world.authority_of(g), 0)):
        d = reporting.dashboard(authority, Q3, TODAY, TRACKER)
        assert sum(r["none"] for r in d.timescales) == nones
        assert all(r["percent_met"] is None for r in d.timescales if authority.slug == RUTLAND)


OUTCOME_COLUMNS = ("met", "missed", "pending", "none", "closed")


def build_every_outcome(world: Scenario) -> None:
    """Rutland steps of every outcome, raised in 2026-27 Q3 and seen on Mon 16 Nov 2026.

    Threshold discussion (no timescale, no cap): two, one unanswered and one resolved:
        no timescale set ×2.
    Stage 3 (5 working days; direct entry allowed), 7 steps:
        raised Mon 2 Nov (due Mon 9 Nov): answered Thu 5 Nov (met); answered Thu 12 Nov
        (missed); unanswered (missed); withdrawn Wed 11 Nov unanswered (missed: it closed
        after the deadline);
        raised Thu 12 Nov (due Thu 19 Nov): unanswered (not yet due); withdrawn Fri 13 Nov
        (closed without a response);
        raised Mon 5 Oct: escalated unanswered on Tue 6 Oct (closed without a response).
    Stage 4 (10 calendar days from Tue 6 Oct): unanswered (missed).
    Raised Mon 28 Sep (2026-27 Q2) at Stage 3: not in Q3's table.
    """
    r = RUTLAND
    world.raise_(r, at(2026, 10, 5))
    world.resolve(world.raise_(r, at(2026, 10, 5)), at(2026, 10, 6))
    world.respond(world.raise_(r, at(2026, 11, 2), stage=3), at(2026, 11, 5))
    world.respond(world.raise_(r, at(2026, 11, 2), stage=3), at(2026, 11, 12))
    world.raise_(r, at(2026, 11, 2), stage=3)
    world.withdraw(world.raise_(r, at(2026, 11, 2), stage=3), at(2026, 11, 11))
    world.raise_(r, at(2026, 11, 12), stage=3)
    world.withdraw(world.raise_(r, at(2026, 11, 12), stage=3), at(2026, 11, 13))
    world.escalate(world.raise_(r, at(2026, 10, 5), stage=3), at(2026, 10, 6))
    world.raise_(r, at(2026, 9, 28), stage=3)


def test_the_timescale_columns_add_up_to_the_steps_raised(world):
    build_every_outcome(world)
    authority = world.authority_of(RUTLAND)
    d = reporting.dashboard(authority, Q3, TODAY, TRACKER)
    assert {
        row["stage"]: tuple(row[c] for c in (*OUTCOME_COLUMNS, "raised")) for row in d.timescales
    } == {
        # met, missed, not yet due, no timescale set, closed without a response; raised
        "Threshold discussion with the Service Manager / Head of Service": (0, 0, 0, 2, 0, 2),
        "Stage 3: Head of Service": (1, 3, 1, 0, 2, 7),
        "Stage 4: Director for People": (0, 1, 0, 0, 0, 1),
    }
    raised_in_q3 = Counter(
        step.stage_name
        for step in Step.objects.filter(escalation__authority=authority)
        if Q3.start <= step.raised_at.astimezone(LONDON).date() <= Q3.end
    )
    for row in d.timescales:
        assert sum(row[c] for c in OUTCOME_COLUMNS) == row["raised"] == raised_in_q3[row["stage"]]
    assert sum(row["raised"] for row in d.timescales) == sum(raised_in_q3.values()) == 10


TIMESCALE_TABLE = re.compile(r"Responses within timescale, by stage</h2>(.*?)</table>", re.S)


@pytest.mark.parametrize("name", ["reports:dashboard", "reports:quarterly"])
def test_the_dashboard_and_the_printed_report_show_closed_without_a_response(
    client, time_machine, world, name
):
    build_every_outcome(world)
    response = get_as(client, time_machine, qa_of(world, RUTLAND).user, reverse(name))
    [table] = TIMESCALE_TABLE.findall(response.content.decode())
    headers = re.findall(r'<th scope="col" class="govuk-table__header[^"]*">([^<]+)</th>', table)
    assert headers == [
        "Stage",
        "Met",
        "Missed",
        "Not yet due",
        "No timescale set",
        "Closed without a response",
        "Steps raised",
        "% met",
        "Issued on time",
        "Issued late",
    ]
    rows = {
        stage: re.findall(r'<td class="govuk-table__cell[^"]*">(?:<a[^>]*>)?([^<]*)', cells)
        for stage, cells in re.findall(
            r'<th scope="row" class="govuk-table__header">([^<]+)</th>(.*?)</tr>', table, re.S
        )
    }
    # Stage 3: 1 met of 4 judged = 25%. Rutland sets no issue-by clock: none issued on
    # time or late.
    assert rows["Stage 3: Head of Service"] == ["1", "3", "1", "0", "2", "7", "25%", "0", "0"]


def test_a_step_raised_in_the_quarter_counts_though_its_escalation_was_raised_before(
    client, time_machine, world
):
    g = GLOUCESTERSHIRE
    # Raised Mon 28 Sep (Q2), informal; escalated Thu 1 Oct (Q3) to Stage 1, due Wed 7 Oct
    # (Fri 2, Mon 5, Tue 6, Wed 7) and never answered: missed, in Q3's table.
    e = world.raise_(g, at(2026, 9, 28))
    world.escalate(e, at(2026, 10, 1))
    d = reporting.dashboard(world.authority_of(g), Q3, TODAY, TRACKER)
    [row] = d.timescales
    assert (row["stage"], row["missed"], row["raised"]) == (
        "Stage 1: Team Manager (Dispute Resolution Form)",
        1,
        1,
    )
    get_as(client, time_machine, qa_of(world, g).user, reverse("reports:dashboard"))
    assert listed(client.get(row["links"]["missed"])) == [e.reference]
    # The tracker's own "Raised from" is the escalation's date, and combines with it.
    assert listed(client.get(row["links"]["missed"] + "&from=2026-10-01")) == []


def test_the_dashboard_view_shows_the_same_figures(client, time_machine, quarter, world):
    response = get_as(
        client, time_machine, qa_of(world, GLOUCESTERSHIRE).user, reverse("reports:dashboard")
    )
    assert response.status_code == 200
    assert response.context["d"] == reporting.dashboard(quarter["authority"], Q3, TODAY, TRACKER)
    page = response.content.decode()
    assert "Escalations dashboard: 2026-27 Q3" in page
    # The raised table, concerns only: informal 3, formal 3, all 6; good practice apart, 1.
    numbers = dict(
        re.findall(
            r'<th scope="row" class="govuk-table__header">([^<]+)</th><td[^>]*>(?:<a[^>]*>)?(\d+)',
            page,
        )
    )
    assert numbers["Informal only (never went formal)"] == "3"
    assert numbers["Went formal"] == "3"
    assert numbers["All concerns"] == "6"
    assert numbers["Records of good practice (not in the figures above)"] == "1"
    assert "RUT-LEAK-1" not in page


# --- drill-down: every number leads to the escalations it counts ------------------------


NUMBER_LINK = re.compile(r'<a class="govuk-link" href="(/reports/tracker/\?[^"]*)">(\d+)</a>')


def test_every_number_on_the_dashboard_links_to_exactly_that_many(
    client, time_machine, quarter, world
):
    response = get_as(
        client, time_machine, qa_of(world, GLOUCESTERSHIRE).user, reverse("reports:dashboard")
    )
    links = NUMBER_LINK.findall(response.content.decode())
    # raised ×3 and good practice, open, overdue, highest ×3, 3 themes + 4 items (concerns
    # only: not E6's "Good practice"), 4 stages × 7 outcomes (5 against the reply clock, 2
    # against the issue-by clock), teams ×3, chairs ×2
    assert len(links) == 4 + 2 + 3 + 3 + 4 + 28 + 3 + 2
    for href, number in links:
        assert len(listed(client.get(html.unescape(href)))) == int(number), href


def test_the_dashboards_links_list_the_escalations_counted(client, time_machine, quarter, world):
    q = quarter
    get_as(client, time_machine, qa_of(world, GLOUCESTERSHIRE).user, reverse("reports:dashboard"))
    d = reporting.dashboard(q["authority"], Q3, TODAY, TRACKER)

    def follow(url: str) -> set[str]:
        return set(listed(client.get(url)))

    bars = {b.label: b.url for b in d.highest.bars}
    assert follow(bars["Informal dispute resolution"]) == refs(q["e1"], q["e4"], q["e7"])
    assert follow(bars["Stage 3: Head of Service"]) == refs(q["e3"])

    themes = {t["bar"].label: t for t in d.themes}
    assert follow(themes["General Issues"]["bar"].url) == refs(q["e1"], q["e3"])
    [lack, decisions] = themes["General Issues"]["items"].bars
    assert follow(lack.url) == refs(q["e1"], q["e3"])
    assert follow(decisions.url) == refs(q["e1"])

    by_stage = {row["stage"]: row["links"] for row in d.timescales}
    informal = by_stage["Informal dispute resolution"]
    assert follow(informal["met"]) == refs(q["e1"])
    assert follow(informal["missed"]) == refs(q["e2"], q["e4"])
    assert follow(informal["closed"]) == refs(q["e7"])
    stage1 = by_stage["Stage 1: Team Manager (Dispute Resolution Form)"]
    assert follow(stage1["met"]) == refs(q["e2"])
    assert follow(stage1["missed"]) == refs(q["e3"])
    assert follow(stage1["pending"]) == refs(q["e5"])
    assert follow(stage1["none"]) == set()

    # Resolved or decided in the quarter: E0, E1, E2 (not E7, which was withdrawn, nor E6,
    # good practice).
    assert follow(d.resolution_days["url"]) == refs(q["e0"], q["e1"], q["e2"])
    assert len(follow(d.resolution_days["url"])) == d.resolution_days["count"]

    teams = {b.label: b.url for b in d.by_team.bars}
    assert follow(teams["North Team"]) == refs(q["e1"], q["e5"], q["e7"])
    assert follow(teams["No team"]) == refs(q["e3"])
    chairs = {b.label: b.url for b in d.by_chair.bars}
    assert follow(chairs["Ben Baker"]) == refs(q["e3"], q["e4"], q["e7"])

    trend = {t["label"]: t["url"] for t in d.trend}
    assert follow(trend["2025-26 Q1"]) == refs(q["e9"])
    assert follow(trend["2026-27 Q2"]) == refs(q["e0"])
    assert len(follow(trend["2026-27 Q3"])) == 6

    assert follow(reverse("reports:tracker") + "?open=1") == refs(q["e3"], q["e4"], q["e5"])
    assert follow(reverse("reports:tracker") + "?overdue=1") == refs(q["e3"], q["e4"])
    assert follow(d.links["open"]) == refs(q["e3"], q["e4"], q["e5"])
    assert follow(d.links["overdue"]) == refs(q["e3"], q["e4"])


def test_the_no_team_link_lists_siblings_of_whom_one_has_no_team(client, time_machine, world):
    g = GLOUCESTERSHIRE
    north = world.team(g, "North Team")
    mixed = world.raise_(g, at(2026, 10, 5), children=[world.child(g, team=north), world.child(g)])
    d = reporting.dashboard(world.authority_of(g), Q3, TODAY, TRACKER)
    # One escalation, about a child in North and a sibling with no team: once in each bar.
    assert sorted((b.label, b.value) for b in d.by_team.bars) == [("No team", 1), ("North Team", 1)]
    get_as(client, time_machine, qa_of(world, g).user, reverse("reports:dashboard"))
    for bar in d.by_team.bars:
        assert listed(client.get(bar.url)) == [mixed.reference], bar.label


# --- filter_escalations directly --------------------------------------------------------


def test_filter_escalations_applies_each_filter(quarter):
    q, authority = quarter, quarter["authority"]

    def found(**params) -> set[str]:
        return {e.reference for e in reporting.filter_escalations(authority, params, TODAY)[0]}

    all_g = refs(*(q[f"e{i}"] for i in range(8)), q["e9"], q["e10"])
    assert found() == all_g
    assert found(status="withdrawn") == refs(q["e7"])
    assert found(status="awaiting_response") == refs(q["e3"], q["e5"])
    assert found(status="not-a-state") == all_g  # ignored
    stage3 = Stage.objects.get(policy=q["policy"], order=3)
    assert found(stage=str(stage3.pk)) == refs(q["e3"])
    assert found(category=str(q["unallocated"].pk)) == refs(q["e2"])
    assert found(theme=str(q["lack"].parent_id)) == refs(q["e1"], q["e3"])
    assert found(team=str(q["south"].pk)) == refs(q["e2"], q["e4"])
    assert found(chair=str(q["ben"].pk)) == refs(q["e3"], q["e4"], q["e7"])
    assert found(overdue="1") == refs(q["e3"], q["e4"])
    assert found(level="formal", **{"from": "2026-10-01", "to": "2026-12-31"}) == refs(
        q["e2"], q["e3"], q["e5"]
    )
    # Raised from Mon 9 Nov to Thu 12 Nov (inclusive, London dates): E4, E5.
    assert found(**{"from": "2026-11-09", "to": "2026-11-12"}) == refs(q["e4"], q["e5"])
    # Closed in October: E0 (2 Oct), E1 (8 Oct), E2 (23 Oct).
    assert found(closed_from="2026-10-01", closed_to="2026-10-31") == refs(
        q["e0"], q["e1"], q["e2"]
    )
    # Several at once: Ann's, open.
    assert found(chair=str(q["ann"].pk), open="1") == refs(q["e5"])
