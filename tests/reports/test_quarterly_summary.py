"""The quarterly report summarises the open cases (counts by stage, each a link to the
tracker's list of them) and lists only the longest open: it stays printable at any size."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations.models import OPEN_STATES, Escalation, State
from policies.models import ConcernCategory
from reports import reporting
from reports.models import StoredFigures
from tests.fixtures import at
from tests.reports.conftest import GLOUCESTERSHIRE, TODAY, TRACKER, get_as, qa_of
from tests.reports.test_report_views import bulk_escalations

REFERENCE = re.compile(r"ESC-\d{6}")


@pytest.fixture
def qa(world):
    return qa_of(world, GLOUCESTERSHIRE)


def _report(client, time_machine, qa) -> str:
    response = get_as(client, time_machine, qa.user, reverse("reports:quarterly"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_open_cases_are_counted_by_stage_and_state(world, qa):
    made = bulk_escalations(world, 40)  # in turn: informal, Stage 1 awaiting, resolved, answered
    rows = {r.stage: r for r in reporting.open_by_stage(qa.authority, TODAY, TRACKER)}
    informal, stage1 = world.stage(GLOUCESTERSHIRE, 0), world.stage(GLOUCESTERSHIRE, 1)
    assert rows[informal.name].informal == 10
    assert rows[stage1.name].awaiting_response == 10
    assert rows[stage1.name].response_received == 10
    open_now = sum(e.state in OPEN_STATES for e in made)
    assert sum(r.total for r in rows.values()) == open_now == 30


def test_each_count_links_to_the_trackers_list_of_those_cases(client, time_machine, world, qa):
    bulk_escalations(world, 8)
    stage1 = world.stage(GLOUCESTERSHIRE, 1)
    [row] = [
        r for r in reporting.open_by_stage(qa.authority, TODAY, TRACKER) if r.stage == stage1.name
    ]
    get_as(client, time_machine, qa.user, "/")  # signed in, at noon on TODAY
    listed = client.get(row.links["awaiting_response"]).content.decode()
    expected = Escalation.objects.filter(
        authority=qa.authority, current_stage=stage1, state=State.AWAITING_RESPONSE
    )
    assert set(REFERENCE.findall(listed)) == {e.reference for e in expected}
    report = _report(client, time_machine, qa)
    assert f'href="{unescape(row.links["awaiting_response"])}"' in unescape(report)


def test_the_report_lists_only_the_longest_open_and_links_to_the_rest(
    client, time_machine, world, qa
):
    made = bulk_escalations(world, 60)  # 45 open, raised an hour apart
    report = _report(client, time_machine, qa)
    listed = report.split("The longest-open cases", 1)[1]
    oldest_open = [e for e in made if e.state in OPEN_STATES][: reporting.LONGEST_OPEN]
    assert REFERENCE.findall(listed) == [e.reference for e in oldest_open]
    assert "all 45 open in the tracker" in listed


def test_the_report_asks_the_same_queries_for_two_escalations_or_two_hundred(
    client, time_machine, world, qa
):
    # Of the same shape as the two hundred: a theme among them (its name is one query).
    item = ConcernCategory.objects.filter(
        policy=world.ladders[GLOUCESTERSHIRE], parent__isnull=False
    ).first()
    world.raise_(GLOUCESTERSHIRE, at(2026, 11, 2), categories=[item])
    world.raise_(GLOUCESTERSHIRE, at(2026, 11, 3), stage=1, categories=[item])
    _report(client, time_machine, qa)  # the session's first writes
    # Each measured request counts afresh (stored figures would hide the counting).
    StoredFigures.objects.all().delete()
    with CaptureQueriesContext(connection) as few:
        _report(client, time_machine, qa)
    bulk_escalations(world, 190)
    StoredFigures.objects.all().delete()
    with CaptureQueriesContext(connection) as many:
        _report(client, time_machine, qa)
    assert len(many) == len(few)
