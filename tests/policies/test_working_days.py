"""Tests for policies.working_days.

Every expected date below was worked out by hand from a calendar (weekday
noted beside it) and the published UK bank holidays; the comment beside each
case shows the count so a reviewer can check it without running anything.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.working_days import (
    NATIONS,
    add_calendar_days,
    add_working_days,
    deadline_for,
    earliest,
    is_working_day,
    next_working_day_on_or_after,
    working_days_between,
)

# --- ordinary weeks (March 2026 has no ENG bank holidays) -------------------


def test_weekday_receipt_plus_five_working_days_skips_the_weekend() -> None:
    # Wed 4 Mar: Thu 5 (1), Fri 6 (2), Mon 9 (3), Tue 10 (4), Wed 11 (5).
    assert add_working_days(date(2026, 3, 4), 5) == date(2026, 3, 11)


def test_friday_receipt_plus_one_is_the_following_monday() -> None:
    # Fri 6 Mar: Sat/Sun skipped, Mon 9 (1).
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)


def test_friday_receipt_plus_five_is_the_following_friday() -> None:
    # Fri 6 Mar: Mon 9, Tue 10, Wed 11, Thu 12, Fri 13 (5).
    assert add_working_days(date(2026, 3, 6), 5) == date(2026, 3, 13)


def test_saturday_receipt_is_deemed_monday_so_plus_one_is_tuesday() -> None:
    # Sat 7 Mar -> deemed Mon 9; Tue 10 (1).
    assert add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 10)


def test_sunday_receipt_is_deemed_monday_so_plus_one_is_tuesday() -> None:
    # Sun 8 Mar -> deemed Mon 9; Tue 10 (1).
    assert add_working_days(date(2026, 3, 8), 1) == date(2026, 3, 10)


def test_saturday_receipt_plus_five_counts_from_deemed_monday() -> None:
    # Sat 7 Mar -> deemed Mon 9; Tue 10, Wed 11, Thu 12, Fri 13, Mon 16 (5).
    assert add_working_days(date(2026, 3, 7), 5) == date(2026, 3, 16)


def test_zero_working_days_on_a_working_day_is_the_same_day() -> None:
    assert add_working_days(date(2026, 3, 4), 0) == date(2026, 3, 4)


def test_zero_working_days_on_a_weekend_is_the_deemed_receipt_day() -> None:
    # Sat 7 Mar -> Mon 9.
    assert add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)


# --- England bank holidays --------------------------------------------------


def test_eng_christmas_and_new_year_2026_27_are_skipped() -> None:
    # Wed 23 Dec: Thu 24 (1); Fri 25 Christmas; Sat/Sun; Mon 28 Boxing Day
    # substitute; Tue 29 (2), Wed 30 (3), Thu 31 (4); Fri 1 Jan New Year;
    # Sat/Sun; Mon 4 Jan (5).
    assert add_working_days(date(2026, 12, 23), 5, nation="ENG") == date(2027, 1, 4)


def test_eng_easter_2027_skips_good_friday_and_easter_monday() -> None:
    # Thu 25 Mar: Fri 26 Good Friday; Sat/Sun; Mon 29 Easter Monday;
    # Tue 30 (1), Wed 31 (2), Thu 1 Apr (3).
    assert add_working_days(date(2027, 3, 25), 3, nation="ENG") == date(2027, 4, 1)


def test_boxing_day_substitute_monday_is_not_a_working_day_in_eng() -> None:
    # Boxing Day 2026 is Sat 26 Dec, so Mon 28 Dec is the bank holiday.
    assert not is_working_day(date(2026, 12, 28), nation="ENG")


def test_receipt_on_a_bank_holiday_is_deemed_the_next_working_day() -> None:
    # Good Friday Fri 26 Mar 2027 -> deemed Tue 30 (Mon 29 is Easter Monday);
    # Wed 31 (1).
    assert add_working_days(date(2027, 3, 26), 1, nation="ENG") == date(2027, 3, 31)


def test_receipt_on_christmas_day_is_deemed_the_next_working_day() -> None:
    # Fri 25 Dec 2026 -> Sat/Sun, Mon 28 substitute -> deemed Tue 29; Wed 30 (1).
    assert add_working_days(date(2026, 12, 25), 1, nation="ENG") == date(2026, 12, 30)


def test_zero_working_days_on_a_bank_holiday_is_the_deemed_receipt_day() -> None:
    # Good Friday 26 Mar 2027 -> Tue 30 Mar.
    assert add_working_days(date(2027, 3, 26), 0, nation="ENG") == date(2027, 3, 30)


# --- Scotland ---------------------------------------------------------------


def test_sct_christmas_2026_27_also_skips_the_2_january_substitute() -> None:
    # As ENG to Thu 31 Dec (4); then Fri 1 Jan; Sat 2 Jan is the Scottish
    # "New Year Holiday", so its substitute Mon 4 Jan is also closed; Tue 5 (5).
    assert add_working_days(date(2026, 12, 23), 5, nation="SCT") == date(2027, 1, 5)


def test_sct_2_january_on_a_weekday_is_a_bank_holiday() -> None:
    # Wed 31 Dec 2025: Thu 1 Jan and Fri 2 Jan closed in SCT; Mon 5 Jan (1).
    assert add_working_days(date(2025, 12, 31), 1, nation="SCT") == date(2026, 1, 5)


def test_eng_2_january_on_a_weekday_is_a_working_day() -> None:
    # Wed 31 Dec 2025: Thu 1 Jan closed; Fri 2 Jan (1).
    assert add_working_days(date(2025, 12, 31), 1, nation="ENG") == date(2026, 1, 2)


def test_sct_easter_monday_is_a_working_day() -> None:
    # Thu 25 Mar 2027: Fri 26 Good Friday; Mon 29 (1), Tue 30 (2), Wed 31 (3).
    assert add_working_days(date(2027, 3, 25), 3, nation="SCT") == date(2027, 3, 31)


def test_sct_st_andrews_day_on_a_monday_is_a_bank_holiday() -> None:
    # Fri 27 Nov 2026: Mon 30 Nov St Andrew's Day; Tue 1 Dec (1).
    assert add_working_days(date(2026, 11, 27), 1, nation="SCT") == date(2026, 12, 1)


def test_sct_st_andrews_day_on_a_sunday_moves_to_monday() -> None:
    # 30 Nov 2025 is a Sunday; the holiday is taken Mon 1 Dec.
    # Fri 28 Nov: Mon 1 Dec closed; Tue 2 Dec (1).
    assert add_working_days(date(2025, 11, 28), 1, nation="SCT") == date(2025, 12, 2)


def test_eng_does_not_observe_st_andrews_day() -> None:
    # Fri 28 Nov 2025: Mon 1 Dec (1).
    assert add_working_days(date(2025, 11, 28), 1, nation="ENG") == date(2025, 12, 1)


# --- Northern Ireland -------------------------------------------------------


def test_nir_st_patricks_day_is_a_bank_holiday() -> None:
    # Mon 16 Mar 2026: Tue 17 St Patrick's Day; Wed 18 (1).
    assert add_working_days(date(2026, 3, 16), 1, nation="NIR") == date(2026, 3, 18)


def test_eng_st_patricks_day_is_a_working_day() -> None:
    # Mon 16 Mar 2026: Tue 17 (1).
    assert add_working_days(date(2026, 3, 16), 1, nation="ENG") == date(2026, 3, 17)


def test_nir_battle_of_the_boyne_is_a_bank_holiday() -> None:
    # Fri 9 Jul 2027: Mon 12 Jul closed in NIR; Tue 13 (1).
    assert add_working_days(date(2027, 7, 9), 1, nation="NIR") == date(2027, 7, 13)


def test_nir_battle_of_the_boyne_on_a_sunday_moves_to_monday() -> None:
    # 12 Jul 2026 is a Sunday; taken Mon 13. Fri 10 Jul: Tue 14 (1).
    assert add_working_days(date(2026, 7, 10), 1, nation="NIR") == date(2026, 7, 14)


# --- Wales ------------------------------------------------------------------


def test_wls_working_days_match_eng_for_every_day_of_2026_and_2027() -> None:
    day = date(2026, 1, 1)
    mismatches = []
    while day <= date(2027, 12, 31):
        if is_working_day(day, nation="WLS") != is_working_day(day, nation="ENG"):
            mismatches.append(day)
        day += timedelta(days=1)
    assert mismatches == []


def test_wls_christmas_2026_27_deadline_matches_eng() -> None:
    # Same count as the ENG case: Mon 4 Jan 2027.
    assert add_working_days(date(2026, 12, 23), 5, nation="WLS") == date(2027, 1, 4)


# --- admin closure days -----------------------------------------------------


def test_christmas_shutdown_closure_days_push_the_deadline() -> None:
    # Shutdown Tue 29 - Thu 31 Dec 2026. Wed 23 Dec: Thu 24 (1); Fri 25,
    # Mon 28 bank holidays; 29-31 closed; Fri 1 Jan bank holiday;
    # Mon 4 (2), Tue 5 (3), Wed 6 (4), Thu 7 (5).
    shutdown = [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]
    assert add_working_days(date(2026, 12, 23), 5, closures=shutdown) == date(2027, 1, 7)


def test_closures_may_be_a_one_shot_iterator() -> None:
    # A generator can only be read once; the result must still honour it.
    shutdown = (date(2026, 12, 29) + timedelta(days=i) for i in range(3))
    assert add_working_days(date(2026, 12, 23), 5, closures=shutdown) == date(2027, 1, 7)


def test_closure_day_is_not_a_working_day() -> None:
    assert not is_working_day(date(2026, 3, 4), closures=[date(2026, 3, 4)])


def test_receipt_on_a_closure_day_is_deemed_the_next_working_day() -> None:
    # Wed 4 Mar 2026 closed -> deemed Thu 5; Fri 6 (1).
    assert add_working_days(date(2026, 3, 4), 1, closures=[date(2026, 3, 4)]) == date(2026, 3, 6)


# --- is_working_day / next_working_day_on_or_after --------------------------


def test_weekday_without_holiday_is_a_working_day() -> None:
    assert is_working_day(date(2026, 3, 4))


def test_saturday_and_sunday_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 3, 7))
    assert not is_working_day(date(2026, 3, 8))


def test_next_working_day_on_or_after_a_working_day_is_that_day() -> None:
    assert next_working_day_on_or_after(date(2026, 3, 4)) == date(2026, 3, 4)


def test_next_working_day_on_or_after_a_saturday_is_monday() -> None:
    assert next_working_day_on_or_after(date(2026, 3, 7)) == date(2026, 3, 9)


# --- working_days_between ---------------------------------------------------


def test_working_days_between_counts_days_after_receipt_up_to_end() -> None:
    # Wed 4 Mar -> Wed 11 Mar: Thu 5, Fri 6, Mon 9, Tue 10, Wed 11 = 5.
    assert working_days_between(date(2026, 3, 4), date(2026, 3, 11)) == 5


def test_working_days_between_same_day_is_zero() -> None:
    assert working_days_between(date(2026, 3, 4), date(2026, 3, 4)) == 0


def test_working_days_between_up_to_deemed_receipt_day_is_zero() -> None:
    # Sat 7 Mar -> deemed Mon 9; nothing has elapsed by Mon 9.
    assert working_days_between(date(2026, 3, 7), date(2026, 3, 9)) == 0


def test_working_days_between_saturday_and_tuesday_is_one() -> None:
    # Sat 7 Mar -> deemed Mon 9; Tue 10 (1).
    assert working_days_between(date(2026, 3, 7), date(2026, 3, 10)) == 1


def test_working_days_between_with_end_before_start_is_negative_plain_count() -> None:
    # (Fri 6 Mar, Wed 11 Mar] holds Mon 9, Tue 10, Wed 11 = 3.
    assert working_days_between(date(2026, 3, 11), date(2026, 3, 6)) == -3


@pytest.mark.parametrize("nation", NATIONS)
def test_working_days_between_inverts_add_working_days(nation: str) -> None:
    # Every day 1 Dec 2026 - 31 Jan 2027 (working or not), n = 0..25: spans
    # Christmas, New Year and the SCT 2 Jan substitute.
    failures = []
    day = date(2026, 12, 1)
    while day <= date(2027, 1, 31):
        for n in range(26):
            deadline = add_working_days(day, n, nation=nation)
            if working_days_between(day, deadline, nation=nation) != n:
                failures.append((day, n, deadline))
        day += timedelta(days=1)
    assert failures == []


def test_working_days_between_inverts_add_working_days_with_closures() -> None:
    shutdown = frozenset(date(2026, 12, 29) + timedelta(days=i) for i in range(3))
    failures = []
    day = date(2026, 12, 1)
    while day <= date(2027, 1, 31):
        for n in range(26):
            deadline = add_working_days(day, n, closures=shutdown)
            if working_days_between(day, deadline, closures=shutdown) != n:
                failures.append((day, n, deadline))
        day += timedelta(days=1)
    assert failures == []


# --- the cached tables agree with counting one day at a time -----------------


@lru_cache
def _reference_bank_holidays(nation: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv=nation, years=year)


def _reference_working(day: date, nation: str, closed: frozenset[date]) -> bool:
    bank = _reference_bank_holidays(nation, day.year)
    return day.weekday() < 5 and day not in closed and day not in bank


def _reference_next(day: date, nation: str, closed: frozenset[date]) -> date:
    while not _reference_working(day, nation, closed):
        day += timedelta(days=1)
    return day


def _reference_add(start: date, n: int, nation: str, closed: frozenset[date]) -> date:
    day = _reference_next(start, nation, closed)
    for _ in range(n):
        day = _reference_next(day + timedelta(days=1), nation, closed)
    return day


def _reference_count(after: date, up_to: date, nation: str, closed: frozenset[date]) -> int:
    days = ((after + timedelta(days=i)) for i in range(1, (up_to - after).days + 1))
    return sum(_reference_working(day, nation, closed) for day in days)


def _reference_between(start: date, end: date, nation: str, closed: frozenset[date]) -> int:
    if end < start:
        return -_reference_count(end, start, nation, closed)
    deemed = _reference_next(start, nation, closed)
    return 0 if end <= deemed else _reference_count(deemed, end, nation, closed)


# Dates either side of decade boundaries (where one cached table ends and the next
# begins), with closure runs long enough to swallow whole weeks.
days_drawn = st.dates(min_value=date(2017, 1, 1), max_value=date(2042, 12, 31))
closures_drawn = st.builds(
    lambda anchor, runs: frozenset(
        anchor + timedelta(days=offset + i) for offset, length in runs for i in range(length)
    ),
    days_drawn,
    st.lists(st.tuples(st.integers(-60, 120), st.integers(1, 15)), max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(
    start=days_drawn,
    n=st.integers(0, 90),
    nation=st.sampled_from(NATIONS),
    closed=closures_drawn,
)
def test_add_working_days_agrees_with_counting_day_by_day(
    start: date, n: int, nation: str, closed: frozenset[date]
) -> None:
    assert add_working_days(start, n, nation=nation, closures=closed) == _reference_add(
        start, n, nation, closed
    )


@settings(max_examples=300, deadline=None)
@given(
    start=days_drawn,
    end=days_drawn,
    nation=st.sampled_from(NATIONS),
    closed=closures_drawn,
)
def test_working_days_between_agrees_with_counting_day_by_day(
    start: date, end: date, nation: str, closed: frozenset[date]
) -> None:
    assert working_days_between(start, end, nation=nation, closures=closed) == _reference_between(
        start, end, nation, closed
    )


@settings(max_examples=300, deadline=None)
@given(day=days_drawn, nation=st.sampled_from(NATIONS), closed=closures_drawn)
def test_working_day_and_deemed_receipt_day_agree_with_the_reference(
    day: date, nation: str, closed: frozenset[date]
) -> None:
    assert is_working_day(day, nation=nation, closures=closed) == _reference_working(
        day, nation, closed
    )
    assert next_working_day_on_or_after(day, nation=nation, closures=closed) == _reference_next(
        day, nation, closed
    )


def test_a_closure_run_longer_than_the_first_reach_still_finds_the_deadline() -> None:
    # Six closed months from Mon 2 Mar 2026: the first working day after is Wed 2 Sep.
    closed = frozenset(date(2026, 3, 2) + timedelta(days=i) for i in range(184))
    assert add_working_days(date(2026, 3, 2), 0, closures=closed) == date(2026, 9, 2)
    assert working_days_between(date(2026, 3, 2), date(2026, 9, 3), closures=closed) == 1


def test_dates_decades_apart_are_counted_across_every_decade_between() -> None:
    # 2020-2059 in England: 40 years of weekdays less the bank holidays.
    expected = _reference_count(date(2019, 12, 31), date(2059, 12, 31), "ENG", frozenset())
    assert working_days_between(date(2019, 12, 31), date(2059, 12, 31)) == expected


# --- calendar days ----------------------------------------------------------


def test_calendar_days_count_every_day_including_weekends_and_holidays() -> None:
    # Wed 23 Dec 2026 + 10 days = Sat 2 Jan 2027 (23 + 10 = 33 = 31 Dec + 2);
    # no move off the weekend.
    assert add_calendar_days(date(2026, 12, 23), 10) == date(2027, 1, 2)


def test_zero_calendar_days_is_the_receipt_day() -> None:
    assert add_calendar_days(date(2026, 3, 7), 0) == date(2026, 3, 7)


# --- deadline_for -----------------------------------------------------------


@pytest.mark.parametrize("day_type", ["working", "calendar"])
def test_deadline_for_returns_none_when_policy_sets_no_timescale(day_type: str) -> None:
    assert deadline_for(date(2026, 3, 4), None, day_type=day_type) is None


def test_deadline_for_working_days_uses_nation_holidays() -> None:
    # Same count as the SCT Christmas case: Tue 5 Jan 2027.
    assert deadline_for(date(2026, 12, 23), 5, day_type="working", nation="SCT") == date(2027, 1, 5)


def test_deadline_for_working_days_honours_closures() -> None:
    # Same count as the Christmas shutdown case: Thu 7 Jan 2027.
    shutdown = [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]
    assert deadline_for(date(2026, 12, 23), 5, day_type="working", closures=shutdown) == date(
        2027, 1, 7
    )


def test_deadline_for_calendar_days_adds_plain_days() -> None:
    # Wed 23 Dec 2026 + 10 = Sat 2 Jan 2027.
    assert deadline_for(date(2026, 12, 23), 10, day_type="calendar") == date(2027, 1, 2)


# --- earliest ---------------------------------------------------------------


def test_earliest_returns_the_earlier_date() -> None:
    assert earliest(date(2027, 1, 7), date(2027, 1, 4)) == date(2027, 1, 4)


def test_earliest_ignores_none() -> None:
    assert earliest(None, date(2027, 1, 7), None) == date(2027, 1, 7)


def test_earliest_of_only_none_is_none() -> None:
    assert earliest(None, None) is None


def test_earliest_of_nothing_is_none() -> None:
    assert earliest() is None


# --- errors -----------------------------------------------------------------


def test_unknown_nation_is_rejected_by_add_working_days() -> None:
    with pytest.raises(ValueError, match="nation"):
        add_working_days(date(2026, 3, 4), 5, nation="UK")


def test_nation_codes_are_case_sensitive() -> None:
    with pytest.raises(ValueError, match="nation"):
        add_working_days(date(2026, 3, 4), 5, nation="eng")


def test_unknown_nation_is_rejected_by_is_working_day() -> None:
    with pytest.raises(ValueError, match="nation"):
        is_working_day(date(2026, 3, 4), nation="GB")


def test_unknown_nation_is_rejected_by_working_days_between() -> None:
    with pytest.raises(ValueError, match="nation"):
        working_days_between(date(2026, 3, 4), date(2026, 3, 11), nation="XX")


def test_negative_working_days_are_rejected() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        add_working_days(date(2026, 3, 4), -1)


def test_negative_calendar_days_are_rejected() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        add_calendar_days(date(2026, 3, 4), -1)


def test_unknown_day_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="day_type"):
        deadline_for(date(2026, 3, 4), 5, day_type="business")


def test_unknown_day_type_is_rejected_even_without_a_timescale() -> None:
    with pytest.raises(ValueError, match="day_type"):
        deadline_for(date(2026, 3, 4), None, day_type="business")
