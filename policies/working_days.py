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

Each (nation, closure days) pair gets a table of working-day ordinals per decade,
built once and cached, so every function here is a lookup and a subtraction however
far apart the dates are.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

NATIONS: tuple[str, ...] = ("ENG", "WLS", "SCT", "NIR")
DAY_TYPES: tuple[str, ...] = ("working", "calendar")

# Calendars cover whole decades: a deadline rarely crosses into the next one, so one
# table usually answers every question about a case, and a sweep over thousands of steps
# in the same authority builds it once.
_BLOCK_YEARS = 10


def _check_nation(nation: str) -> None:
    if nation not in NATIONS:
        raise ValueError(f"Unknown nation {nation!r}: expected one of {', '.join(NATIONS)}.")


def _check_n(n: int) -> None:
    if n < 0:
        raise ValueError(f"Number of days must be zero or more, got {n}.")


@lru_cache(maxsize=256)
def _bank_holidays(nation: str, first_year: int, last_year: int) -> frozenset[date]:
    # A fresh calendar object for exactly these years: the library fills a shared one in
    # lazily and not thread-safely, and a frozen set of dates is all a table needs.
    # ENG and WLS share a calendar in law but are asked separately so that a future
    # divergence in the library needs no change here.
    found = holidays.country_holidays("GB", subdiv=nation, years=range(first_year, last_year + 1))
    return frozenset(found.keys())


@dataclass(frozen=True)
class _Calendar:
    """Working-day ordinals for the whole years ``first``..``last`` (inclusive).

    ``through[i]`` counts the working days from ``first`` up to and including
    ``first + i``; ``working[k]`` is the (k+1)-th working day. Every question is then a
    lookup and a subtraction.
    """

    first: date
    last: date
    through: array
    working: tuple[date, ...]

    def index(self, day: date) -> int:
        return (day - self.first).days

    def before(self, day: date) -> int:
        """Working days in [first, day)."""
        i = self.index(day)
        return self.through[i - 1] if i > 0 else 0

    def upto(self, day: date) -> int:
        """Working days in [first, day]."""
        return self.through[self.index(day)]


@lru_cache(maxsize=256)
def _calendar(nation: str, closed: frozenset[date], first_year: int, last_year: int) -> _Calendar:
    first, last = date(first_year, 1, 1), date(last_year, 12, 31)
    bank = _bank_holidays(nation, first_year, last_year)
    through = array("l")
    working: list[date] = []
    day, one_day = first, timedelta(days=1)
    while True:
        # Cheapest tests first: most non-working days are weekends.
        if day.weekday() < 5 and day not in closed and day not in bank:
            working.append(day)
        through.append(len(working))
        if day == last:
            break
        day += one_day
    return _Calendar(first, last, through, tuple(working))


def _covering(nation: str, closed: frozenset[date], low: date, high: date) -> _Calendar:
    """A calendar for whole decades from ``low`` to at least ``high``."""
    first_year = max(1, low.year - low.year % _BLOCK_YEARS)
    last_year = min(date.max.year, high.year - high.year % _BLOCK_YEARS + _BLOCK_YEARS - 1)
    return _calendar(nation, closed, first_year, last_year)


def _reach(day: date, days: int) -> date:
    # How far ahead a calendar must reach; the callers widen it if closures eat it all.
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max


def _ordinal_on_or_after(
    day: date, nation: str, closed: frozenset[date], ahead: int
) -> tuple[_Calendar, int]:
    """A calendar holding the working day ``ahead`` working days after the deemed receipt
    day of ``day``, and the deemed receipt day's position in it."""
    span = 2 * ahead + 31
    while True:
        calendar = _covering(nation, closed, day, _reach(day, span))
        k = calendar.before(day)
        if k + ahead < len(calendar.working):
            return calendar, k
        if calendar.last == date.max:
            raise OverflowError("date value out of range")
        span *= 2


def is_working_day(day: date, *, nation: str = "ENG", closures: Iterable[date] = ()) -> bool:
    """True if ``day`` is a weekday, not a bank holiday in ``nation`` and not a closure."""
    _check_nation(nation)
    calendar = _covering(nation, frozenset(closures), day, day)
    return calendar.upto(day) != calendar.before(day)


def next_working_day_on_or_after(
    day: date, *, nation: str = "ENG", closures: Iterable[date] = ()
) -> date:
    """``day`` itself if it is a working day, otherwise the next working day.

    This is the deemed receipt day for an alert received on ``day``.
    """
    _check_nation(nation)
    calendar, k = _ordinal_on_or_after(day, nation, frozenset(closures), 0)
    return calendar.working[k]


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
    calendar, k = _ordinal_on_or_after(start, nation, frozenset(closures), n)
    return calendar.working[k + n]


def add_calendar_days(start: date, n: int) -> date:
    """``start`` + ``n`` days: every day counts, the receipt day does not.

    No adjustment is made if the result falls on a weekend or holiday, because
    a calendar-day limit in the policies means exactly that many days.
    Raises ValueError for negative ``n``.
    """
    _check_n(n)
    return start + timedelta(days=n)


def calendar_days_between(start: date, end: date) -> int:
    """Days from ``start`` to ``end``, every day counted (negative when ``end`` is earlier).

    The countdown of a calendar-day deadline ("Sun 6 Dec (6 days left)"): a limit in
    calendar days is counted down in the days it was set in, not in working days.
    """
    return (end - start).days


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
        calendar = _covering(nation, closed, end, start)
        return -(calendar.upto(start) - calendar.upto(end))
    # Through `end`, and at least to the deemed receipt day when that falls after it.
    calendar, k = _ordinal_on_or_after(start, nation, closed, 0)
    if end > calendar.last:
        calendar = _covering(nation, closed, start, end)
    if end <= calendar.working[k]:
        return 0
    # The deemed receipt day is the (k+1)-th working day: count those after it.
    return calendar.upto(end) - (k + 1)


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
