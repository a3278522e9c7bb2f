"""Working-day and calendar-day arithmetic for escalation deadlines.

Counting rules (from the design):

* A working day is a weekday that is neither a bank holiday of the
  authority's nation nor an admin-entered closure day.
* The day an alert is received does not count. The deadline is the end of the
  Nth working day after it; this module deals in dates only, "end of" is the
  caller's concern.
* An alert received on a non-working day is deemed received on the next
  working day, so Saturday + 1 working day is Tuesday (Monday is the deemed
  receipt day).
* Calendar-day limits count every day: received date + N days.

Pure Python on purpose: it must be importable (and testable) without Django
settings.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays

NATIONS: tuple[str, ...] = ("ENG", "WLS", "SCT", "NIR")
DAY_TYPES: tuple[str, ...] = ("working", "calendar")

_ONE_DAY = timedelta(days=1)

# holidays expands years lazily on lookup and marks a year as present *before*
# it has finished filling it in, so an unguarded lookup from a second thread
# could briefly see a real bank holiday as a working day.
_LOOKUP_LOCK = threading.Lock()


def _check_nation(nation: str) -> None:
    if nation not in NATIONS:
        raise ValueError(f"Unknown nation {nation!r}: expected one of {', '.join(NATIONS)}.")


def _check_n(n: int) -> None:
    if n < 0:
        raise ValueError(f"Number of days must be zero or more, got {n}.")


@lru_cache(maxsize=len(NATIONS))
def _bank_holidays(nation: str) -> holidays.HolidayBase:
    # Building the calendar object is the expensive part; one per nation is
    # kept for the life of the process and grows a year at a time as needed.
    # ENG and WLS share a calendar in law but get separate objects so that a
    # future divergence in the library needs no change here.
    return holidays.country_holidays("GB", subdiv=nation)


def _is_bank_holiday(day: date, nation: str) -> bool:
    calendar = _bank_holidays(nation)
    with _LOOKUP_LOCK:
        return day in calendar


def _is_working(day: date, nation: str, closed: frozenset[date]) -> bool:
    # Cheapest tests first: most non-working days are weekends.
    return day.weekday() < 5 and day not in closed and not _is_bank_holiday(day, nation)


def _next_working(day: date, nation: str, closed: frozenset[date]) -> date:
    while not _is_working(day, nation, closed):
        day += _ONE_DAY
    return day


def _count_working(after: date, up_to: date, nation: str, closed: frozenset[date]) -> int:
    """Working days in the half-open interval (after, up_to]."""
    count = 0
    day = after + _ONE_DAY
    while day <= up_to:
        if _is_working(day, nation, closed):
            count += 1
        day += _ONE_DAY
    return count


def is_working_day(day: date, *, nation: str = "ENG", closures: Iterable[date] = ()) -> bool:
    """True if ``day`` is a weekday, not a bank holiday in ``nation`` and not a closure."""
    _check_nation(nation)
    return _is_working(day, nation, frozenset(closures))


def next_working_day_on_or_after(
    day: date, *, nation: str = "ENG", closures: Iterable[date] = ()
) -> date:
    """``day`` itself if it is a working day, otherwise the next working day.

    This is the deemed receipt day for an alert received on ``day``.
    """
    _check_nation(nation)
    return _next_working(day, nation, frozenset(closures))


def add_working_days(
    start: date, n: int, *, nation: str = "ENG", closures: Iterable[date] = ()
) -> date:
    """The date of the Nth working day after an alert received on ``start``.

    The receipt day does not count; a non-working ``start`` is first moved to
    the next working day. ``n == 0`` returns that deemed receipt day.

    Raises ValueError for negative ``n`` or an unknown nation.
    """
    _check_nation(nation)
    _check_n(n)
    closed = frozenset(closures)
    day = _next_working(start, nation, closed)
    for _ in range(n):
        day = _next_working(day + _ONE_DAY, nation, closed)
    return day


def add_calendar_days(start: date, n: int) -> date:
    """``start`` + ``n`` days: every day counts, the receipt day does not.

    No adjustment is made if the result falls on a weekend or holiday, because
    a calendar-day limit in the policies means exactly that many days.
    Raises ValueError for negative ``n``.
    """
    _check_n(n)
    return start + timedelta(days=n)


def working_days_between(
    start: date, end: date, *, nation: str = "ENG", closures: Iterable[date] = ()
) -> int:
    """Working days elapsed from an alert received on ``start`` up to ``end``.

    For ``end >= start``: the number of working days after the deemed receipt
    day (``next_working_day_on_or_after(start)``) up to and including ``end``;
    0 if ``end`` is on or before the deemed receipt day. This is the inverse of
    :func:`add_working_days`: ``working_days_between(d, add_working_days(d, n))
    == n`` for every ``d`` (working or not) and ``n >= 0``.

    For ``end < start``: minus the plain count of working days in the interval
    (end, start], with no deemed-receipt adjustment. With ``start`` = today and
    ``end`` = a (working-day) deadline already passed, this is minus the number
    of working days overdue. Because only the forward direction adjusts for
    receipt on a non-working day, the function is not exactly antisymmetric
    when ``start`` or ``end`` is a non-working day.

    Raises ValueError for an unknown nation.
    """
    _check_nation(nation)
    closed = frozenset(closures)
    if end < start:
        return -_count_working(end, start, nation, closed)
    deemed = _next_working(start, nation, closed)
    if end <= deemed:
        return 0
    return _count_working(deemed, end, nation, closed)


def deadline_for(
    start: date,
    n: int | None,
    *,
    day_type: str,
    nation: str = "ENG",
    closures: Iterable[date] = (),
) -> date | None:
    """The deadline for a stage with a limit of ``n`` days of ``day_type``.

    ``day_type`` is "working" or "calendar". Returns None when ``n`` is None,
    i.e. the policy sets no timescale.

    ``day_type`` and ``nation`` are validated even when ``n`` is None or the
    limit is in calendar days, so a bad policy record fails loudly the first
    time it is used rather than only when a timescale is later added.
    Raises ValueError for an unknown day_type or nation, or negative ``n``.
    """
    if day_type not in DAY_TYPES:
        raise ValueError(f"Unknown day_type {day_type!r}: expected one of {', '.join(DAY_TYPES)}.")
    _check_nation(nation)
    if n is None:
        return None
    if day_type == "calendar":
        return add_calendar_days(start, n)
    return add_working_days(start, n, nation=nation, closures=closures)


def earliest(*dates: date | None) -> date | None:
    """The earliest of the given dates, ignoring None; None if there are none.

    Used where two limits both apply (e.g. the formal-process cap and a stage
    deadline): the one that falls first governs.
    """
    present = [d for d in dates if d is not None]
    return min(present) if present else None
