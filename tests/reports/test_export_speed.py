"""The CSV export's streaming, the tracker's rows worked out in the view, and the
benchmark's memory proof (issue 13: the export near its floor, memory flat)."""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from demo.management.commands import benchmark_reports
from escalations.models import Escalation
from reports import reporting, views
from tests.reports.conftest import GLOUCESTERSHIRE, RUTLAND, TODAY, get_as, qa_of
from tests.reports.test_report_views import bulk_escalations


@pytest.fixture
def qa(world):
    return qa_of(world, GLOUCESTERSHIRE)


def test_the_export_reads_its_rows_inside_a_transaction_of_its_own(world):
    """So PostgreSQL streams the server-side cursor."""
    bulk_escalations(world, 3)
    before = len(connection.savepoint_ids)
    rows = reporting.tracker_export_rows(Escalation.objects.order_by("pk"), TODAY)
    inside = []
    for _row in rows:
        inside.append(len(connection.savepoint_ids))
    assert inside == [before + 1] * 3
    assert len(connection.savepoint_ids) == before


def test_an_export_cut_short_ends_its_transaction(world):
    bulk_escalations(world, 3)
    before = len(connection.savepoint_ids)
    rows = reporting.tracker_export_rows(Escalation.objects.order_by("pk"), TODAY)
    next(rows)
    rows.close()  # the browser went away mid-download
    assert len(connection.savepoint_ids) == before


def test_the_tracker_row_shows_each_escalations_cells(client, time_machine, world, qa):
    made = bulk_escalations(world, 2)
    page = get_as(client, time_machine, qa.user, reverse("reports:tracker")).content.decode()
    for escalation in made:
        url = reverse("escalations:detail", args=[escalation.pk])
        assert f'href="{url}">{escalation.reference}</a>' in page
        raised = date_format(timezone.localtime(escalation.raised_at), "j M Y")
        children = ", ".join(c.reference for c in escalation.children.all())
        chair = html.escape(escalation.raised_by.display_name)
        stage = html.escape(escalation.current_stage.name)
        status = html.escape(escalation.get_state_display())
        assert (
            f'<td class="govuk-table__cell">{raised}</td>\n'
            f'    <td class="govuk-table__cell">{children}</td>\n'
            f'    <td class="govuk-table__cell">{status}</td>\n'
            f'    <td class="govuk-table__cell">{stage}</td>\n'
            f'    <td class="govuk-table__cell">{chair}</td>'
        ) in page


def test_the_memory_proof_takes_the_largest_there_is_and_a_tenth_of_it(world):
    bulk_escalations(world, 20)
    own = Escalation.objects.filter(authority=world.authority_of(GLOUCESTERSHIRE))
    ordered, small, large, whose = benchmark_reports._peak_sample(own)
    assert (small, large, whose) == (2, 20, "the authority's")
    assert list(ordered) == list(own.order_by("-raised_at", "-pk"))


def test_the_memory_proof_takes_its_two_sizes_from_the_authority_when_it_has_them(
    world, monkeypatch
):
    bulk_escalations(world, 20)
    monkeypatch.setattr(benchmark_reports, "PEAK_ROWS", (2, 20))
    own = Escalation.objects.filter(authority=world.authority_of(GLOUCESTERSHIRE))
    _ordered, small, large, whose = benchmark_reports._peak_sample(own)
    assert (small, large, whose) == (2, 20, "the authority's")


def test_the_memory_proof_takes_the_whole_database_when_one_authority_is_too_small(
    world, monkeypatch
):
    bulk_escalations(world, 20)
    bulk_escalations(world, 15, slug=RUTLAND)
    monkeypatch.setattr(benchmark_reports, "PEAK_ROWS", (3, 30))
    own = Escalation.objects.filter(authority=world.authority_of(GLOUCESTERSHIRE))
    ordered, small, large, whose = benchmark_reports._peak_sample(own)
    assert (small, large, whose) == (3, 30, "the whole database's")
    assert ordered.count() == 35


def test_the_memory_proof_prints_both_peaks_and_their_ratio(world):
    bulk_escalations(world, 20)
    own = Escalation.objects.filter(authority=world.authority_of(GLOUCESTERSHIRE))
    text = benchmark_reports.export_peaks(own, TODAY)
    assert "at 2 rows" in text and "at 20 rows" in text and "ratio " in text


def test_the_csv_is_sent_in_pieces_of_whole_lines(client, time_machine, world, qa, monkeypatch):
    bulk_escalations(world, 5)
    url = reverse("reports:tracker_csv")
    whole = b"".join(get_as(client, time_machine, qa.user, url).streaming_content)
    monkeypatch.setattr(views, "CSV_LINES_PER_WRITE", 2)
    pieces = list(client.get(url).streaming_content)
    # The header and rows 1-2, rows 3-4, row 5: the same bytes, each piece whole lines.
    assert len(pieces) == 3
    assert b"".join(pieces) == whole
    assert all(piece.endswith(b"\r\n") for piece in pieces)
