"""Calendar-day deadlines (issue 11 item 7): counted down in calendar days, said to be on
a non-working day where one lands there, or moved to the next working day where the
policy chooses so (Policy.calendar_day_off), by policies/deadlines.stage_deadline, so the
raise, the sweep and the pages agree.

Rutland's Stage 4 is "10 days" (calendar days: the text says days, not working days).
November and December 2026: Sat 5 and Sun 6 Dec are a weekend; Fri 25 Dec is Christmas
Day and Mon 28 Dec the substitute Boxing Day (Sat 26 Dec) in England.
"""

from __future__ import annotations

import html
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from escalations import selectors
from escalations.sweep import process_due
from notifications.models import Kind, Notification
from policies.deadlines import stage_deadline
from policies.models import CalendarDayOff, DayType, LocalAuthority, Policy, Stage
from policies.working_days import NATIONS, deadline_for, is_working_day
from tests.fixtures import World, at

LONDON = ZoneInfo("Europe/London")
STATEMENT = {
    "issue": "Visits are not happening.",
    "actions": "Stages 1 to 3 were tried.",
    "wanted": "Weekly visits.",
}


def calendar_stage(days: int, day_off: str) -> tuple[Stage, LocalAuthority]:
    """A calendar-day stage of a policy choosing `day_off`, unsaved: no database needed."""
    authority = LocalAuthority(slug="anytown", name="Anytown", nation="ENG")
    policy = Policy(authority=authority, calendar_day_off=day_off)
    return Stage(policy=policy, response_days=days, day_type=DayType.CALENDAR), authority


def deadline(days: int, day_off: str, received: date, **kwargs) -> date | None:
    stage, authority = calendar_stage(days, day_off)
    received_at = datetime.combine(received, time(10), tzinfo=LONDON)
    return stage_deadline(
        stage=stage, authority=authority, received_at=received_at, closures=frozenset(), **kwargs
    )[1]


# --- the arithmetic ----------------------------------------------------------------------


def test_a_calendar_deadline_on_a_saturday_stays_there_by_default() -> None:
    # Wed 25 Nov + 10 days = Sat 5 Dec.
    assert deadline(10, CalendarDayOff.KEEP, date(2026, 11, 25)) == date(2026, 12, 5)


def test_a_calendar_deadline_on_a_saturday_moves_to_monday_where_the_policy_says() -> None:
    # Sat 5 Dec -> Mon 7 Dec.
    assert deadline(10, CalendarDayOff.NEXT_WORKING_DAY, date(2026, 11, 25)) == date(2026, 12, 7)


def test_a_calendar_deadline_on_christmas_day_moves_past_the_bank_holidays() -> None:
    # Fri 11 Dec + 14 days = Fri 25 Dec (Christmas); Sat 26, Sun 27, Mon 28 (substitute
    # Boxing Day) -> Tue 29 Dec.
    assert deadline(14, CalendarDayOff.NEXT_WORKING_DAY, date(2026, 12, 11)) == date(2026, 12, 29)


def test_a_calendar_deadline_on_a_working_day_does_not_move() -> None:
    # Thu 19 Nov + 14 days = Thu 3 Dec.
    assert deadline(14, CalendarDayOff.NEXT_WORKING_DAY, date(2026, 11, 19)) == date(2026, 12, 3)


def test_the_chairs_own_calendar_days_move_the_same_way() -> None:
    # Fri 27 Nov + 8 days = Sat 5 Dec -> Mon 7 Dec.
    moved = deadline(14, CalendarDayOff.NEXT_WORKING_DAY, date(2026, 11, 27), response_days=8)
    assert moved == date(2026, 12, 7)


def test_a_closure_day_counts_as_a_day_off_for_the_move() -> None:
    stage, authority = calendar_stage(10, CalendarDayOff.NEXT_WORKING_DAY)
    # Fri 20 Nov + 10 days = Mon 30 Nov, closed -> Tue 1 Dec.
    _received, due = stage_deadline(
        stage=stage,
        authority=authority,
        received_at=at(2026, 11, 20),
        closures=frozenset({date(2026, 11, 30)}),
    )
    assert due == date(2026, 12, 1)


@settings(max_examples=300, deadline=None)
@given(
    received=st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
    days=st.integers(min_value=0, max_value=120),
    nation=st.sampled_from(NATIONS),
    closures=st.frozensets(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2061, 6, 30)), max_size=20
    ),
)
def test_a_moved_deadline_is_a_working_day_and_never_earlier_than_the_unmoved_one(
    received: date, days: int, nation: str, closures: frozenset[date]
) -> None:
    stage, authority = calendar_stage(days, CalendarDayOff.NEXT_WORKING_DAY)
    authority.nation = nation
    received_at = datetime.combine(received, time(12), tzinfo=LONDON)
    _received, moved = stage_deadline(
        stage=stage, authority=authority, received_at=received_at, closures=closures
    )
    unmoved = deadline_for(received, days, day_type="calendar", nation=nation, closures=closures)
    assert moved is not None and unmoved is not None
    assert is_working_day(moved, nation=nation, closures=closures)
    assert moved >= unmoved
    # The first working day on or after it: nothing between is a working day.
    between = (unmoved + timedelta(days=n) for n in range((moved - unmoved).days))
    assert not any(is_working_day(d, nation=nation, closures=closures) for d in between)


def test_a_working_day_deadline_is_untouched_by_the_calendar_setting() -> None:
    stage, authority = calendar_stage(5, CalendarDayOff.NEXT_WORKING_DAY)
    stage.day_type = DayType.WORKING
    _received, due = stage_deadline(
        stage=stage, authority=authority, received_at=at(2026, 11, 25), closures=frozenset()
    )
    # Wed 25 Nov + 5 working days -> Wed 2 Dec.
    assert due == date(2026, 12, 2)


# --- a running escalation ---------------------------------------------------------------


@pytest.fixture
def world(world_of) -> World:
    return world_of("rutland")


@pytest.fixture
def stage_4(world, raise_concern):
    """Straight to Rutland's Stage 4 (10 calendar days), raised at `now`."""

    def make(now: datetime, day_off: str = CalendarDayOff.KEEP):
        policy = world.policy
        policy.calendar_day_off = day_off
        policy.save()
        return raise_concern(
            "rutland",
            stage_order=4,
            actor=world.chair,
            responder=world.director,
            children=[world.child],
            reason="Serious and urgent: straight to the Director.",
            statement=STATEMENT,
            now=now,
        )

    return make


def clock_of(escalation, today: date) -> selectors.Clock:
    authority = escalation.authority
    return selectors.Clock.of(
        escalation.open_step(), today, authority.nation, authority.closure_dates()
    )


def page_of(staff, escalation, today: datetime) -> str:
    client = Client()
    with time_machine.travel(today, tick=False):
        # Signed in at that moment: the session would have timed out over the days between.
        client.force_login(staff.user)
        response = client.get(reverse("escalations:detail", args=[escalation.pk]))
    return html.unescape(response.content.decode())


def test_a_calendar_step_counts_down_in_calendar_days(world, stage_4):
    escalation = stage_4(at(2026, 11, 26))  # Thu 26 Nov + 10 days = Sun 6 Dec
    clock = clock_of(escalation, date(2026, 11, 30))
    assert (clock.effective, clock.days_left, clock.calendar) == (date(2026, 12, 6), 6, True)


def test_the_page_counts_a_calendar_step_in_days_and_says_it_ends_on_a_day_off(world, stage_4):
    escalation = stage_4(at(2026, 11, 26))
    page = page_of(world.chair, escalation, at(2026, 11, 30))
    assert "Sun 6 Dec 2026 — not a working day" in page
    assert "(6 days left)" in page
    assert "working days left" not in page


def test_the_case_sentence_counts_a_calendar_step_in_days(world, stage_4):
    escalation = stage_4(at(2026, 11, 25))  # Wed 25 Nov + 10 days = Sat 5 Dec
    sentence = selectors.case_sentence(escalation, date(2026, 11, 30))
    assert sentence.endswith("by Sat 5 Dec (not a working day) — 5 days left.")


def test_a_calendar_step_overdue_is_counted_in_days(world, stage_4):
    escalation = stage_4(at(2026, 11, 25))
    sentence = selectors.case_sentence(escalation, date(2026, 12, 8))
    assert sentence.endswith("— 3 days overdue (due Sat 5 Dec, not a working day).")


def test_a_working_day_step_keeps_working_days_left(world, raise_concern):
    escalation = raise_concern(
        "rutland",
        stage_order=3,
        actor=world.chair,
        responder=world.north.head,
        children=[world.child],
        reason="Urgent.",
        now=at(2026, 11, 25),
    )
    # Wed 25 Nov + 5 working days = Wed 2 Dec; on Mon 30 Nov: Tue 1, Wed 2 = 2 left.
    page = page_of(world.chair, escalation, at(2026, 11, 30))
    assert "(2 working days left)" in page
    assert "not a working day" not in page


def test_the_policy_moves_the_step_deadline_to_the_next_working_day(world, stage_4):
    escalation = stage_4(at(2026, 11, 25), CalendarDayOff.NEXT_WORKING_DAY)
    step = escalation.open_step()
    assert step.due_on == date(2026, 12, 7)  # Sat 5 Dec -> Mon 7 Dec
    page = page_of(world.chair, escalation, at(2026, 11, 30))
    assert "Mon 7 Dec 2026" in page and "not a working day" not in page


def test_the_sweep_follows_the_moved_deadline(world, stage_4):
    stage_4(at(2026, 11, 25), CalendarDayOff.NEXT_WORKING_DAY)
    process_due(at(2026, 12, 7, 9))  # Mon 7 Dec: due today, not overdue
    assert not Notification.objects.filter(kind=Kind.OVERDUE).exists()
    process_due(at(2026, 12, 8, 9))  # Tue 8 Dec: overdue
    assert Notification.objects.filter(kind=Kind.OVERDUE).count() == 2
