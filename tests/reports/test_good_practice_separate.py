"""Good-practice records counted separately (issue 14, item 6): the dashboard's and the
quarterly report's figures count concerns only, every concern figure's link carries
nature=concern so that the tracker lists exactly the rows counted, and the good-practice
figure links to the good-practice records. The tracker filters by nature.

Gloucestershire (England), 2026-27 Q3 (1 Oct – 31 Dec 2026), seen on Monday 16 November
2026; every escalation made through the services with an explicit `now=`.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from escalations.models import Escalation, Nature
from reports import reporting
from tests.fixtures import at
from tests.reports.conftest import (
    GLOUCESTERSHIRE,
    Q3,
    TODAY,
    TRACKER,
    get_as,
    listed,
    qa_of,
    refs,
)

G = GLOUCESTERSHIRE
NUMBER_LINK = re.compile(r'<a class="govuk-link" href="(/reports/tracker/\?[^"]*)">(\d+)</a>')


@pytest.fixture
def qa(world):
    return qa_of(world, G)


@pytest.fixture
def mixed(world) -> dict[str, Escalation]:
    """Two concerns and two good-practice records, all raised in Q3 by Ann about North's
    children:

    concern     informal, raised Mon 5 Oct ("Lack of preparation"), resolved Thu 8 Oct.
    open        a concern straight to Stage 1, raised Mon 12 Oct ("No allocated social
                worker"), never answered: open and overdue on Mon 16 Nov.
    good        good practice, informal, raised Tue 6 Oct, resolved Wed 7 Oct.
    good_open   good practice, informal, raised Mon 9 Nov (due Wed 11 Nov), left open:
                past its date on Mon 16 Nov.
    """
    ann = world.chair(G, "Ann", "Archer")
    north = world.team(G, "North Team")
    lack = world.category(G, "Lack of preparation")
    unallocated = world.category(G, "No allocated social worker")
    praise = world.category(G, "Area of good practice")

    def child():
        return [world.child(G, team=north)]

    concern = world.raise_(G, at(2026, 10, 5), chair=ann, children=child(), categories=[lack])
    world.resolve(concern, at(2026, 10, 8))
    still_open = world.raise_(
        G, at(2026, 10, 12), chair=ann, children=child(), stage=1, categories=[unallocated]
    )
    good = world.raise_(
        G,
        at(2026, 10, 6),
        chair=ann,
        children=child(),
        categories=[praise],
        nature=Nature.GOOD_PRACTICE,
    )
    world.resolve(good, at(2026, 10, 7))
    good_open = world.raise_(
        G,
        at(2026, 11, 9),
        chair=ann,
        children=child(),
        categories=[praise],
        nature=Nature.GOOD_PRACTICE,
    )
    return {"concern": concern, "open": still_open, "good": good, "good_open": good_open}


def figures(world) -> reporting.Dashboard:
    return reporting.dashboard(world.authority_of(G), Q3, TODAY, TRACKER)


def nature_of(url: str) -> list[str]:
    return parse_qs(urlsplit(url).query).get("nature", [])


# --- the figures ------------------------------------------------------------------------


def test_a_good_practice_record_is_not_in_the_raised_figures_but_in_its_own(world, mixed):
    d = figures(world)
    assert (d.raised_informal, d.raised_formal, d.raised_total) == (1, 1, 2)
    assert d.good_practice == 2


def test_a_good_practice_record_is_not_in_the_highest_stage_reached(world, mixed):
    d = figures(world)
    assert [(b.label, b.value) for b in d.highest.bars] == [
        ("Informal dispute resolution", 1),
        ("Stage 1: Team Manager (Dispute Resolution Form)", 1),
    ]


def test_a_good_practice_record_is_not_in_the_themes(world, mixed):
    d = figures(world)
    assert {t["bar"].label: t["bar"].value for t in d.themes} == {
        "General Issues": 1,
        "Failure to meet statutory requirements": 1,
    }


def test_a_good_practice_record_is_not_in_the_timescales_or_time_to_resolve(world, mixed):
    d = figures(world)
    # Steps raised in Q3: the concerns' only, not the good-practice records'.
    assert {row["stage"]: row["raised"] for row in d.timescales} == {
        "Informal dispute resolution": 1,
        "Stage 1: Team Manager (Dispute Resolution Form)": 1,
    }
    # Resolved in Q3: the concern (Mon 5 → Thu 8 Oct, 3 working days), not the good practice.
    assert (d.resolution_days["count"], d.resolution_days["median"]) == (1, 3)


def test_a_good_practice_record_is_not_open_or_overdue_now(world, mixed):
    d = figures(world)
    assert (d.open_now, d.overdue_now) == (1, 1)
    stages = reporting.open_by_stage(world.authority_of(G), TODAY, TRACKER)
    assert [(s.stage, s.total, s.overdue) for s in stages] == [
        ("Stage 1: Team Manager (Dispute Resolution Form)", 1, 1)
    ]


def test_a_good_practice_record_is_not_by_team_by_chair_or_in_the_trend(world, mixed):
    d = figures(world)
    assert [(b.label, b.value) for b in d.by_team.bars] == [("North Team", 2)]
    assert [(b.label, b.value) for b in d.by_chair.bars] == [("Ann Archer", 2)]
    assert (d.trend[-1]["informal"], d.trend[-1]["formal"]) == (1, 1)


# --- every figure's link lists exactly the rows counted ---------------------------------


@pytest.mark.parametrize("name", ["reports:dashboard", "reports:quarterly"])
def test_every_number_links_to_exactly_the_rows_it_counts(
    client, time_machine, world, qa, mixed, name
):
    page = get_as(client, time_machine, qa.user, reverse(name)).content.decode()
    links = NUMBER_LINK.findall(page)
    assert links
    good = refs(mixed["good"], mixed["good_open"])
    for href, number in links:
        url = html.unescape(href)
        shown = set(listed(client.get(url)))
        assert len(shown) == int(number), url
        if nature_of(url) == [Nature.GOOD_PRACTICE]:
            assert shown == good, url
        else:
            assert nature_of(url) == [Nature.CONCERN], url
            assert not shown & good, url


def test_the_concern_figures_links_list_the_concerns_counted(
    client, time_machine, world, qa, mixed
):
    get_as(client, time_machine, qa.user, reverse("reports:dashboard"))
    d = figures(world)

    def follow(url: str) -> set[str]:
        return set(listed(client.get(url)))

    concern, still_open = mixed["concern"], mixed["open"]
    assert follow(d.links["all"]) == refs(concern, still_open)
    assert follow(d.links["informal"]) == refs(concern)
    assert follow(d.links["formal"]) == refs(still_open)
    assert follow(d.links["open"]) == refs(still_open)
    assert follow(d.links["overdue"]) == refs(still_open)
    bars = {b.label: b.url for b in d.highest.bars}
    assert follow(bars["Informal dispute resolution"]) == refs(concern)
    assert follow(d.resolution_days["url"]) == refs(concern)
    [team] = d.by_team.bars
    assert follow(team.url) == refs(concern, still_open)
    assert follow(d.trend[-1]["url"]) == refs(concern, still_open)
    informal = next(r for r in d.timescales if r["stage"] == "Informal dispute resolution")
    # Resolved the day after its deadline with no response: missed.
    assert follow(informal["links"]["missed"]) == refs(concern)


def test_the_good_practice_figure_links_to_the_good_practice_records(
    client, time_machine, world, qa, mixed
):
    get_as(client, time_machine, qa.user, reverse("reports:dashboard"))
    d = figures(world)
    assert set(listed(client.get(d.links["good_practice"]))) == refs(
        mixed["good"], mixed["good_open"]
    )


@pytest.mark.parametrize("name", ["reports:dashboard", "reports:quarterly"])
def test_the_page_says_its_figures_are_concerns_with_good_practice_apart(
    client, time_machine, world, qa, mixed, name
):
    page = get_as(client, time_machine, qa.user, reverse(name)).content.decode()
    assert "The figures count concerns only. Records of good practice are counted separately." in (
        page
    )


# --- the tracker's nature filter ---------------------------------------------------------


@pytest.mark.parametrize(
    ("nature", "expected"),
    [("concern", ("concern", "open")), ("good_practice", ("good", "good_open"))],
)
def test_the_tracker_filters_by_nature(client, time_machine, qa, mixed, nature, expected):
    page = get_as(client, time_machine, qa.user, f"{reverse('reports:tracker')}?nature={nature}")
    assert set(listed(page)) == refs(*(mixed[key] for key in expected))


def test_the_tracker_shows_the_nature_chosen_and_keeps_it_in_the_csv_link(
    client, time_machine, qa, mixed
):
    page = get_as(
        client, time_machine, qa.user, f"{reverse('reports:tracker')}?nature=good_practice"
    ).content.decode()
    assert '<option value="good_practice" selected>Good practice</option>' in page
    assert "/reports/tracker.csv?nature=good_practice&amp;sort=-raised" in page


def test_the_tracker_csv_filters_by_nature(client, time_machine, qa, mixed):
    get_as(client, time_machine, qa.user, reverse("reports:dashboard"))
    response = client.get(f"{reverse('reports:tracker_csv')}?nature=good_practice")
    body = b"".join(response.streaming_content).decode("utf-8")
    references = {line.split(",", 1)[0] for line in body.splitlines()[1:]}
    assert references == refs(mixed["good"], mixed["good_open"])


@pytest.mark.parametrize("value", ["praise", "CONCERN", "<script>", "1"])
def test_a_bad_nature_is_ignored_with_a_message_not_a_500(client, time_machine, qa, mixed, value):
    response = get_as(client, time_machine, qa.user, f"{reverse('reports:tracker')}?nature={value}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "That kind of record is not recognised; showing concerns and good practice." in page
    assert set(listed(response)) == refs(*mixed.values())
    assert "<script>" not in page.replace("<script src", "")


def test_no_message_when_the_nature_is_recognised_or_not_given(client, time_machine, qa, mixed):
    for query in ("", "nature=concern", "nature="):
        page = get_as(client, time_machine, qa.user, f"{reverse('reports:tracker')}?{query}")
        assert "not recognised" not in page.content.decode(), query
