"""My escalations is paged (a chair's history runs to more than a thousand): fifty rows a
page in the order the page always had, what waits on the chair's decision at the top of
the first page, and the same number of queries however long the history."""

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations import selectors, services
from tests.fixtures import LONDON, at

# Wednesday 25 November 2026, noon: Gloucestershire's Stage 1 raised on 2 November is
# overdue; raised that morning it is not.
TODAY = datetime(2026, 11, 25, 12, tzinfo=LONDON)
THAT_MORNING = at(2026, 11, 25, 9)
REFERENCE = re.compile(r">(ESC-\d{6})</a>")


@pytest.fixture
def chair(staff_of):
    return staff_of("gloucestershire", "cp-chair")


@pytest.fixture
def history(raise_concern, chair):
    """Make `n` escalations raised by the chair at Stage 1 (4 working days), a minute
    apart from `start`."""

    def make(n: int, start: datetime = THAT_MORNING) -> list:
        return [
            raise_concern(
                "gloucestershire", stage_order=1, actor=chair, now=start + timedelta(minutes=i)
            )
            for i in range(n)
        ]

    return make


def _page(client, time_machine, chair, query: str = "") -> str:
    time_machine.move_to(TODAY, tick=False)
    client.force_login(chair.user)
    response = client.get(reverse("escalations:mine") + query)
    assert response.status_code == 200
    return response.content.decode()


def test_a_long_history_is_shown_fifty_at_a_time(client, time_machine, chair, history):
    made = history(selectors.MINE_PAGE_SIZE + 3)
    first = _page(client, time_machine, chair)
    second = _page(client, time_machine, chair, "?page=2")
    on_first, on_second = REFERENCE.findall(first), REFERENCE.findall(second)
    assert len(on_first) == selectors.MINE_PAGE_SIZE
    assert len(on_second) == 3
    assert set(on_first) | set(on_second) == {e.reference for e in made}
    assert 'class="govuk-pagination"' in first
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert f"Showing 1 to 50 of {len(made)}" in first


def test_a_short_history_has_no_pages(client, time_machine, chair, history):
    history(3)
    page = _page(client, time_machine, chair)
    assert len(REFERENCE.findall(page)) == 3
    assert "govuk-pagination" not in page


def test_a_page_past_the_end_shows_the_last_page(client, time_machine, chair, history):
    history(2)
    assert len(REFERENCE.findall(_page(client, time_machine, chair, "?page=99"))) == 2


def test_the_query_orders_as_the_list_always_sorted_open_and_overdue_first(
    time_machine, chair, history
):
    # Overdue (raised on 2 Nov, due the 6th), open and not yet due, and withdrawn.
    overdue = history(2, start=at(2026, 11, 2, 9))
    current = history(3)
    for escalation in current[:2]:
        services.escalation_withdraw(
            actor=chair,
            escalation=escalation,
            reason="Raised in error.",
            now=THAT_MORNING + timedelta(hours=1),
        )
    time_machine.move_to(TODAY, tick=False)
    today = TODAY.date()
    in_sql = selectors.escalation_rows(
        chair, selectors.my_escalations(chair, today), today, sort=False
    )
    sorted_in_python = selectors.escalation_rows(
        chair, selectors.my_escalations(chair, today), today
    )
    assert [r.escalation for r in in_sql] == [r.escalation for r in sorted_in_python]
    # Overdue first (the same deadline: the newest first), then open, then the closed.
    assert [r.escalation for r in in_sql[:2]] == overdue[::-1]
    assert in_sql[2].escalation == current[2]


def test_a_response_awaiting_the_chairs_decision_heads_the_first_page_only(
    client, time_machine, chair, history, staff_of
):
    made = history(selectors.MINE_PAGE_SIZE + 2)  # the answered one and two pages more
    answered = made[0]
    step = answered.steps.get()
    services.step_respond(
        actor=step.responder, step=step, response="Visits booked.", now=at(2026, 11, 25, 11)
    )
    first = _page(client, time_machine, chair)
    deciding, rest = first.split("Your other escalations", 1)
    assert answered.reference in deciding and answered.reference not in rest
    assert len(REFERENCE.findall(rest)) == selectors.MINE_PAGE_SIZE
    second = _page(client, time_machine, chair, "?page=2")
    assert "Responses waiting for your decision" not in second
    assert answered.reference not in second


@pytest.mark.parametrize("role", ["cp-chair", "qa-manager"])
def test_the_page_asks_the_same_number_of_queries_however_long_the_history(
    client, time_machine, staff_of, history, chair, role
):
    viewer = chair if role == "cp-chair" else staff_of("gloucestershire", role)
    history(2)

    def count() -> int:
        time_machine.move_to(TODAY, tick=False)
        client.force_login(viewer.user)
        client.get(reverse("escalations:mine"))  # the session's first writes
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("escalations:mine"))
        return len(queries)

    few = count()
    history(selectors.MINE_PAGE_SIZE + 5, start=at(2026, 11, 16, 9))
    assert count() == few


def _in_sql_order(viewer, today) -> tuple[list[int], list[int]]:
    """What waits on the viewer's decision and the rest, in `_in_list_order`'s SQL."""
    rows = selectors._in_list_order(selectors._mine(viewer), today).annotate(
        deciding=ExpressionWrapper(selectors._awaiting_my_decision(viewer), BooleanField())
    )
    deciding = [e.pk for e in rows if e.deciding]
    return deciding, [e.pk for e in rows if not e.deciding]


@pytest.mark.parametrize("page_size", [selectors.MINE_PAGE_SIZE, 2])
def test_the_pages_pks_are_sorted_as_the_sql_sorts_them(
    time_machine, chair, history, staff_of, monkeypatch, page_size
):
    """my_escalations_listed sorts in Python what it reads in plain queries: the same order
    as the list's SQL, for the chair who raised them, the one who must answer and a QA
    manager (the whole authority's). With pages of two, more are open than two pages
    hold: the sort reads only its own columns of the open steps."""
    monkeypatch.setattr(selectors, "MINE_PAGE_SIZE", page_size)
    overdue = history(2, start=at(2026, 11, 2, 9))
    current = history(4)
    services.escalation_withdraw(
        actor=chair, escalation=current[0], reason="Raised in error.", now=THAT_MORNING
    )
    step = current[1].steps.get()
    services.step_respond(
        actor=step.responder, step=step, response="Visits booked.", now=at(2026, 11, 25, 11)
    )
    time_machine.move_to(TODAY, tick=False)
    today = TODAY.date()
    deciding, others = _pks(selectors.my_escalations_listed(chair, today))
    assert deciding == [current[1].pk]
    assert others[:2] == [e.pk for e in overdue[::-1]]
    assert (deciding, others) == _in_sql_order(chair, today)
    responder = overdue[0].steps.get().responder
    listed = selectors.my_escalations_listed(responder, today)
    assert _pks(listed) == _in_sql_order(responder, today)
    qa = staff_of("gloucestershire", "qa-manager")
    assert _pks(selectors.my_escalations_listed(qa, today)) == _in_sql_order(qa, today)


def test_a_page_runs_on_from_the_last_open_escalations_into_the_closed(
    client, time_machine, chair, history, monkeypatch
):
    """The open rows are sorted in Python, the closed read a page at a time: a page that
    holds the end of one and the start of the other shows both, in the list's order."""
    monkeypatch.setattr(selectors, "MINE_PAGE_SIZE", 3)
    made = history(7)
    for escalation in made[:4]:
        services.escalation_withdraw(
            actor=chair, escalation=escalation, reason="Raised in error.", now=THAT_MORNING
        )
    pages = [_page(client, time_machine, chair, f"?page={n}") for n in (1, 2, 3)]
    shown = [REFERENCE.findall(page) for page in pages]
    assert [len(refs) for refs in shown] == [3, 3, 1]
    _deciding, in_order = _in_sql_order(chair, TODAY.date())
    by_pk = {e.pk: e.reference for e in made}
    assert [ref for refs in shown for ref in refs] == [by_pk[pk] for pk in in_order]
    # The three still open, newest first, then the withdrawn, newest first.
    assert in_order == [e.pk for e in made[4:][::-1]] + [e.pk for e in made[:4][::-1]]


def _pks(listed) -> tuple[list[int], list[int]]:
    deciding, others = listed
    return [row[0] for row in deciding], [row[0] for row in others]
