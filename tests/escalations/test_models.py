"""Open, answered, awaiting, overdue and due soon (and the issue-by clock's overdue and due
soon): the StepQuerySet (SQL) and the Step
predicates (Python) are one definition each, so on the same rows they must agree.

Property-based: hypothesis draws random ladders (a stage's days, working or calendar, a
formal cap or none, informal or formal), the day each step was raised, whether and when it
was answered or closed, the day it is judged on, the nation and the authority's closure
days; the rows go into the database and each queryset must find exactly the steps whose
predicate is true.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalations.models import Escalation, State, Step
from policies.working_days import NATIONS, add_working_days, deadline_for

LONDON = ZoneInfo("Europe/London")
FIRST_DAY = date(2026, 10, 1)  # the autumn and winter of 2026: bank holidays and Christmas


@dataclass(frozen=True)
class Drawn:
    """One step as drawn: its stage's clock and what happened to it."""

    raised: int  # days after FIRST_DAY
    response_days: int | None
    day_type: str
    cap_days: int | None
    informal: bool
    answered_after: int | None  # days after raising; None: no answer
    closed_after: int | None  # days after raising; None: still open
    issue_days: int | None  # the next stage's issue-by clock, from the answer; None: none


steps_drawn = st.builds(
    Drawn,
    raised=st.integers(0, 60),
    response_days=st.none() | st.integers(1, 15),
    day_type=st.sampled_from(["working", "calendar"]),
    cap_days=st.none() | st.integers(1, 25),
    informal=st.booleans(),
    answered_after=st.none() | st.integers(0, 30),
    closed_after=st.none() | st.integers(0, 40),
    issue_days=st.none() | st.integers(0, 10),
)


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=LONDON)


@pytest.fixture
def home(ladders, staff_of):
    """A policy, a chair and a responder to hang the drawn steps on."""
    policy = ladders["gloucestershire"]
    return {
        "policy": policy,
        "stage": policy.stages.get(order=1),
        "chair": staff_of("gloucestershire", "cp-chair"),
        "responder": staff_of("gloucestershire", "team-manager"),
    }


def _make(home, drawn: Drawn, nation: str, closures: frozenset[date]) -> Step:
    """The step a ladder like `drawn` makes (one escalation each: one open step apiece)."""
    raised_on = FIRST_DAY + timedelta(days=drawn.raised)
    due_on = deadline_for(
        raised_on, drawn.response_days, day_type=drawn.day_type, nation=nation, closures=closures
    )
    cap_due_on = None
    if not drawn.informal and drawn.cap_days is not None:
        cap_due_on = add_working_days(raised_on, drawn.cap_days, nation=nation, closures=closures)
    answered = closed = next_issue_due_on = None
    if drawn.answered_after is not None:
        answered = _moment(raised_on + timedelta(days=drawn.answered_after))
        if drawn.issue_days is not None:
            next_issue_due_on = add_working_days(
                answered.date(), drawn.issue_days, nation=nation, closures=closures
            )
    if drawn.closed_after is not None:
        closed = _moment(raised_on + timedelta(days=drawn.closed_after))
    escalation = Escalation.objects.create(
        authority=home["policy"].authority,
        policy=home["policy"],
        raised_by=home["chair"],
        summary="Drawn by hypothesis.",
        state=State.RESOLVED if closed else State.AWAITING_RESPONSE,
        raised_at=_moment(raised_on),
    )
    return Step.objects.create(
        escalation=escalation,
        authority=escalation.authority,
        sequence=1,
        stage=home["stage"],
        responder=home["responder"],
        raised_by=home["chair"],
        raised_at=_moment(raised_on),
        stage_name="Drawn",
        stage_order=0 if drawn.informal else 1,
        mode="written_response",
        response_days=drawn.response_days,
        day_type=drawn.day_type,
        received_on=raised_on,
        due_on=due_on,
        cap_due_on=cap_due_on,
        responded_at=answered,
        closed_at=closed,
        next_issue_due_on=next_issue_due_on,
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=st.lists(steps_drawn, min_size=1, max_size=6),
    judged=st.integers(0, 110),
    nation=st.sampled_from(NATIONS),
    closures=st.frozensets(
        st.integers(0, 110).map(lambda n: FIRST_DAY + timedelta(days=n)), max_size=8
    ),
)
def test_each_queryset_finds_exactly_the_steps_its_predicate_names(
    home, drawn, judged, nation, closures
):
    today = FIRST_DAY + timedelta(days=judged)
    with transaction.atomic():
        steps = [_make(home, d, nation, closures) for d in drawn]
        pks = [s.pk for s in steps]
        rows = Step.objects.filter(pk__in=pks)
        by_sql = {
            "open": rows.open(),
            "answered": rows.answered(),
            "awaiting_response": rows.awaiting_response(),
            "awaiting_chair": rows.awaiting_chair(),
            "past_due": rows.past_due(today),
            "overdue": rows.overdue(today),
            "due_soon": rows.due_soon(today, nation=nation, closures=closures),
            "issue_overdue": rows.issue_overdue(today),
            "issue_due_soon": rows.issue_due_soon(today, nation=nation, closures=closures),
        }
        by_python = {
            "open": lambda s: s.is_open,
            "answered": lambda s: s.is_answered,
            "awaiting_response": lambda s: s.is_awaiting_response,
            "awaiting_chair": lambda s: s.is_awaiting_chair,
            "past_due": lambda s: s.is_past_due(today),
            "overdue": lambda s: s.is_overdue(today),
            "due_soon": lambda s: s.is_due_soon(today, nation=nation, closures=closures),
            "issue_overdue": lambda s: s.is_issue_overdue(today),
            "issue_due_soon": lambda s: s.is_issue_due_soon(
                today, nation=nation, closures=closures
            ),
        }
        for name, query in by_sql.items():
            found = set(query.values_list("pk", flat=True))
            assert found == {s.pk for s in steps if by_python[name](s)}, name
        transaction.set_rollback(True)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=steps_drawn, judged=st.integers(0, 110), nation=st.sampled_from(NATIONS))
def test_an_answered_step_is_never_overdue_nor_due_soon_but_awaits_the_chair_while_open(
    home, drawn, judged, nation
):
    today = FIRST_DAY + timedelta(days=judged)
    with transaction.atomic():
        step = _make(home, drawn, nation, frozenset())
        if step.is_answered:
            assert not step.is_overdue(today)
            assert not step.is_due_soon(today, nation=nation, closures=frozenset())
            assert not Step.objects.filter(pk=step.pk).overdue(today).exists()
            assert step.is_awaiting_chair == step.is_open
        transaction.set_rollback(True)


def test_a_step_is_due_soon_on_the_last_working_day_before_its_deadline_and_the_days_off_after():
    # Deadline Monday 9 November 2026: due soon from Friday 6 November (the last working
    # day before it) through the weekend, not on Thursday 5th and not on the day itself.
    step = Step(due_on=date(2026, 11, 9))
    soon = {
        day
        for day in (date(2026, 11, 5) + timedelta(days=n) for n in range(5))
        if step.is_due_soon(day, nation="ENG", closures=frozenset())
    }
    assert soon == {date(2026, 11, 6), date(2026, 11, 7), date(2026, 11, 8)}
