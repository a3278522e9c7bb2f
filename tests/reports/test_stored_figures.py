"""The stored figures (reports/figures.py): the dashboard's and the quarterly report's
sections are counted once and served until the data, the day or the code changes, and a
recount always equals what is stored.

The data is Gloucestershire's 2026-27 Q3 from tests/reports/conftest.py's build_quarter,
seen on Monday 16 November 2026, unless a test says otherwise.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import figures
from reports.models import StoredFigures
from tests.fixtures import at
from tests.reports.conftest import GLOUCESTERSHIRE, Q3, RUTLAND, TODAY, get_as, noon, qa_of

DASHBOARD = "/reports/"
QUARTERLY = "/reports/quarterly/"


@pytest.fixture
def qa(world):
    return qa_of(world, GLOUCESTERSHIRE)


def queries_of(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def section(page: str) -> str:
    """The stored part of a page: from the figures' opening note to the end of the board's
    questions (the page around it is rendered for each request)."""
    start = page.index('<p class="govuk-inset-text">')
    return page[start : page.index("</main>")].strip()


def test_a_second_visit_reads_the_stored_figures_instead_of_counting(
    client, time_machine, quarter, qa
):
    first = get_as(client, time_machine, qa.user, DASHBOARD).content.decode()
    assert StoredFigures.objects.filter(authority=qa.authority).count() == 1
    with CaptureQueriesContext(connection) as counting:
        figures.count_section(kind=figures.BODY, authority=qa.authority, period=Q3, today=TODAY)
    n_stored, again = queries_of(client, DASHBOARD)
    assert section(again) == section(first)
    # Read from the store: the two dozen aggregate queries of a count are not asked.
    assert len(counting) >= 15
    n_fresh_page = n_stored + len(counting)
    StoredFigures.objects.all().delete()
    assert queries_of(client, DASHBOARD)[0] >= n_fresh_page


def test_a_change_through_the_services_is_on_the_next_visit(
    client, time_machine, quarter, world, qa
):
    get_as(client, time_machine, qa.user, DASHBOARD)
    before = section(client.get(DASHBOARD).content.decode())
    # Resolving E5 (open at Stage 1) and raising a new concern change the figures.
    world.resolve(quarter["e5"], at(2026, 11, 16, 11))
    after = section(client.get(DASHBOARD).content.decode())
    assert after != before
    recount = figures.count_section(
        kind=figures.BODY, authority=qa.authority, period=Q3, today=TODAY
    )
    assert after == recount.strip()


def test_the_next_day_recounts_the_figures(client, time_machine, quarter, qa):
    get_as(client, time_machine, qa.user, DASHBOARD)
    stored = StoredFigures.objects.get(authority=qa.authority)
    assert stored.as_of == TODAY
    get_as(client, time_machine, qa.user, DASHBOARD, today=date(2026, 11, 17))
    stored.refresh_from_db()
    assert stored.as_of == date(2026, 11, 17)


def test_each_authority_has_its_own_stored_figures(client, time_machine, quarter, world, qa):
    get_as(client, time_machine, qa.user, DASHBOARD)
    rutland = qa_of(world, RUTLAND)
    page = get_as(client, time_machine, rutland.user, DASHBOARD).content.decode()
    assert "Ann Archer" not in page
    assert set(StoredFigures.objects.values_list("authority__slug", flat=True)) == {
        GLOUCESTERSHIRE,
        RUTLAND,
    }


def test_the_quarterly_report_stores_the_same_figures_with_the_open_cases(
    client, time_machine, quarter, qa
):
    dashboard = section(get_as(client, time_machine, qa.user, DASHBOARD).content.decode())
    report = client.get(QUARTERLY).content.decode()
    keys = set(StoredFigures.objects.filter(authority=qa.authority).values_list("key", flat=True))
    assert keys == {
        "body:2026-10-01:2026-12-31:2026-27 Q3",
        "report:2026-10-01:2026-12-31:2026-27 Q3",
    }
    # The period's figures, then the open cases now.
    assert dashboard in report
    assert "Open and overdue cases now" in report and "Open and overdue cases now" not in dashboard


def test_the_refresh_recounts_the_standing_quarters_once(quarter, qa):
    now = noon(TODAY)
    # Gloucestershire and Rutland have escalations: this quarter and the last of each.
    assert figures.figures_refresh(now=now) == 4
    assert figures.figures_refresh(now=now) == 0
    keys = set(StoredFigures.objects.filter(authority=qa.authority).values_list("key", flat=True))
    assert keys == {
        "body:2026-10-01:2026-12-31:2026-27 Q3",
        "body:2026-07-01:2026-09-30:2026-27 Q2",
    }


def test_the_check_finds_the_stored_figures_equal_to_a_recount(quarter, qa):
    now = noon(TODAY)
    figures.figures_refresh(now=now)
    assert figures.figures_check(now=now) == []
    call_command("figures", "--check", "--now", "2026-11-16T12:00")


def test_the_check_reports_stored_figures_that_differ_from_a_recount(quarter, qa):
    now = noon(TODAY)
    figures.figures_refresh(now=now)
    stored = StoredFigures.objects.get(authority=qa.authority, key__contains="Q3")
    stored.html = stored.html.replace("Ann Archer", "Someone Else")
    stored.save()
    assert figures.figures_check(now=now) == [f"{GLOUCESTERSHIRE} {stored.key}"]
    with pytest.raises(CommandError, match="differ from a recount"):
        call_command("figures", "--check", "--now", "2026-11-16T12:00")


def test_the_figures_command_refuses_a_moment_it_cannot_read(quarter):
    with pytest.raises(CommandError, match="is not a date and time"):
        call_command("figures", "--refresh", "--now", "next Tuesday")


def test_a_sections_key_names_its_kind_and_period():
    assert figures.period_of(figures.section_key(figures.REPORT, Q3)) == (figures.REPORT, Q3)
    assert figures.period_of("something:else") is None


def test_the_data_fingerprint_changes_with_every_history_tracked_write(quarter, world):
    before = figures.data_fingerprint()
    world.chair(GLOUCESTERSHIRE, "New", "Chair")
    assert figures.data_fingerprint() != before
    unchanged = figures.data_fingerprint()
    assert figures.data_fingerprint() == unchanged
