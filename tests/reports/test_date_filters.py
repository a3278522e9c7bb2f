"""The reports' date filters are GOV.UK date inputs (day, month, year) with the pattern's
messages, not the browser's own picker; the reports' links keep their ISO dates."""

from __future__ import annotations

import html
from datetime import date

import pytest
from django.urls import reverse

from reports import reporting
from tests.reports.conftest import GLOUCESTERSHIRE, TODAY, get_as, qa_of


def boxes(key: str, day: str = "", month: str = "", year: str = "") -> dict[str, str]:
    return {f"{key}_day": day, f"{key}_month": month, f"{key}_year": year}


def test_a_range_from_the_boxes_is_the_period_shown():
    period, errors = reporting.parse_period(
        boxes("from", "1", "4", "2026") | boxes("to", "15", "5", "2026"), TODAY
    )

    assert errors == []
    assert (period.start, period.end) == (date(2026, 4, 1), date(2026, 5, 15))


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        (boxes("from", "1", "", "2026") | boxes("to", "15", "5", "2026"), "The start date must include a month"),
        (boxes("from", "1", "4", "2026") | boxes("to", "31", "6", "2026"), "The end date must be a real date"),
        (boxes("from", "1", "4", "26") | boxes("to", "15", "5", "2026"), "Year must include 4 numbers"),
        (boxes("from", "1", "4", "2026"), "Enter the end date"),
    ],
    ids=["no month", "31 June", "two-digit year", "no end"],
)  # fmt: skip
def test_boxes_that_cannot_be_read_get_the_pattern_s_message(sent, message):
    period, errors = reporting.parse_period(sent, TODAY)

    assert errors == [message]
    assert period == reporting.financial_quarter(TODAY)  # shown instead, and said


def test_the_reports_links_keep_their_iso_dates():
    period, errors = reporting.parse_period({"from": "2026-04-01", "to": "2026-05-15"}, TODAY)

    assert errors == []
    assert (period.start, period.end) == (date(2026, 4, 1), date(2026, 5, 15))


def test_the_tracker_filters_by_the_boxes_and_links_with_iso_dates(world):
    _, used = reporting.filter_escalations(
        world.authority_of(GLOUCESTERSHIRE),
        boxes("from", "20", "10", "2026") | boxes("to", "12", "11", "2026"),
        TODAY,
    )

    assert used == {"from": "2026-10-20", "to": "2026-11-12"}


def test_the_dashboard_asks_for_the_range_as_day_month_and_year(world, client, time_machine):
    url = reverse("reports:dashboard") + "?from=2026-04-01&to=2026-05-15"

    text = html.unescape(
        get_as(client, time_machine, qa_of(world, GLOUCESTERSHIRE).user, url).content.decode()
    )

    assert 'type="date"' not in text
    assert 'name="from_day" type="text" inputmode="numeric" value="1"' in text
    assert 'name="from_month" type="text" inputmode="numeric" value="4"' in text
    assert 'name="to_year" type="text" inputmode="numeric" value="2026"' in text
    assert '<label class="govuk-label govuk-date-input__label" for="from">Day</label>' in text


def test_the_tracker_shows_the_boxes_as_typed(world, client, time_machine):
    url = reverse("reports:tracker") + "?from_day=20&from_month=10&from_year=2026"

    text = html.unescape(
        get_as(client, time_machine, qa_of(world, GLOUCESTERSHIRE).user, url).content.decode()
    )

    assert 'type="date"' not in text
    assert 'name="from_day" type="text" inputmode="numeric" value="20"' in text
    assert "from=2026-10-20" in text  # the CSV and the sort links carry the ISO date
