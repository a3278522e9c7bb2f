"""Queries of plain values whose shape is fixed, built and compiled by the ORM once per
process and run with each call's values.

A page's query that the ORM builds afresh on every request costs its building (filters,
Q objects, subqueries resolved: about 1 ms for To do's UNION) and its compiling (about
1 ms more) on top of the database's own time (0.6 ms). Built once from the same selector
code, with stand-in values, its SQL is kept and each call passes its own values in their
places: the rules stay written once, as the ORM's Q objects, and a request pays for the
database alone.

How the places are found: the query is built and compiled twice, with two different
sets of stand-ins that no real value takes (negative ints; days in the years 1 and 2739).
The two SQL texts must be the same, and the parameters may differ only where a stand-in
went in; anything else (a value that changes the shape of the query) fails loudly when
the query is first asked for, as does a first real call whose SQL differs. Values that do
shape the query (a flag, a text, how long a list is) are part of the key: each shape is
compiled once. So a builder uses its ints and days as the query's values only (not to
slice, say); a date and time is refused (its stand-in would be a day).

Rows come back as the ORM's `values_list` gives them: the ORM's converters for the
columns (SQLite's days and times, flags) are applied. Model instances are not built
here.

A list of pks tested for membership (`pk__in`) would make a shape of every length: named
in `members`, such a list is padded to the next power of two with pks no row has (-1,
-2, ...), so a handful of shapes serve every length.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connection
from django.db.models import QuerySet

# Stand-ins no real value takes: a pk is positive (and within a 32-bit field's range, as
# Django drops a lookup whose value is out of its field's); no deadline falls in the year
# 1, nor in 2739 (where the second round's days start).
_FIRST_INT = -2_000_000_000
_FIRST_DAY = date(1, 1, 1)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Each parameter: ("value", name, index in a list or -1, as the database takes a
    # day: adapted or not) or ("constant", value).
    params: tuple[tuple[Any, ...], ...]
    empty: bool = False
    # The ORM's compiler of the stand-ins' query and its converters for the columns.
    compiler: Any = None
    converters: Any = None


class CompiledQuery:
    """`build(**values)` -> a QuerySet of values (`values_list`, a UNION of them); `rows`
    runs it with the ORM's SQL compiled once for each shape."""

    # The tests set this (tests/conftest.py): every call then compiles its query afresh
    # too and fails unless the kept SQL and the values put in it are what the ORM makes.
    verify_every_call = False

    def __init__(self, build: Callable[..., QuerySet[Any]], members: Sequence[str] = ()) -> None:
        self.build = build
        self.members = frozenset(members)
        self._compiled: dict[Hashable, _Compiled] = {}

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        for name in self.members:
            values[name] = _padded(values[name])
        key = (connection.vendor, *sorted((name, _shape(value)) for name, value in values.items()))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(values)
        if compiled.empty:
            return []
        params = _filled(compiled, values)
        if self.verify_every_call:
            self._verify(compiled, values, params)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            return [
                tuple(row) for row in compiled.compiler.apply_converters(rows, compiled.converters)
            ]
        return [tuple(row) for row in rows]

    def sql_of(self, **values: Any) -> tuple[str, list[Any]]:
        """What the ORM itself compiles for these values (the tests compare)."""
        return self._compiler(values).as_sql()

    def _compiler(self, values: dict[str, Any]) -> Any:
        return self.build(**values).query.get_compiler(connection.alias)

    def _compile(self, values: dict[str, Any]) -> _Compiled:
        first, first_places = _stand_ins(values, 0)
        second, second_places = _stand_ins(values, 1)
        compiler = self._compiler(first)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return _Compiled("", (), empty=True)
        sql_again, params_again = self.sql_of(**second)
        if sql != sql_again or len(params) != len(params_again):
            raise ImproperlyConfigured(
                f"{self.build.__qualname__}: its SQL changes with the values given, so it "
                "cannot be compiled once; make what changes it part of the values' shape."
            )
        places: list[tuple[Any, ...]] = []
        for one, other in zip(params, params_again, strict=True):
            place = first_places.get(_marker(one))
            if place is not None and second_places.get(_marker(other)) == place:
                places.append(("value", *place))
            elif _marker(one) == _marker(other) and place is None:
                places.append(("constant", one))
            else:
                raise ImproperlyConfigured(
                    f"{self.build.__qualname__}: a parameter ({one!r}) moved between two "
                    "compilations of the same shape; it cannot be compiled once."
                )
        # As the ORM's results_iter finds them, after as_sql set up the columns.
        columns = [select[0] for select in compiler.select[: compiler.col_count]]
        compiled = _Compiled(
            sql, tuple(places), compiler=compiler, converters=compiler.get_converters(columns)
        )
        # A value that shapes the query unkeyed (a branch on it) could leave both sets
        # of stand-ins on the same side: the first real values must compile the same too.
        self._verify(compiled, values, _filled(compiled, values))
        return compiled

    def _verify(self, compiled: _Compiled, values: dict[str, Any], params: list[Any]) -> None:
        sql, own = self.sql_of(**values)
        if sql != compiled.sql or list(own) != params:
            raise ImproperlyConfigured(
                f"{self.build.__qualname__}: the ORM compiles {values!r} differently from "
                "the SQL kept for their shape; what changes it must be part of the shape."
            )


def _filled(compiled: _Compiled, values: dict[str, Any]) -> list[Any]:
    """The kept SQL's parameters with this call's values in their places."""
    adapt = connection.ops.adapt_datefield_value
    params = []
    for p in compiled.params:
        if p[0] == "constant":
            params.append(p[1])
            continue
        value = values[p[1]] if p[2] < 0 else values[p[1]][p[2]]
        params.append(adapt(value) if p[3] else value)
    return params


def _padded(pks: Sequence[int | None]) -> list[int]:
    """`pks` (a membership list) made up to the next power of two with pks no row has;
    each once, None left out, as the ORM's `__in` puts them in its SQL."""
    listed: list[int] = [pk for pk in dict.fromkeys(pks) if pk is not None]
    if not listed:
        return listed
    size = 1 << (len(listed) - 1).bit_length()
    return listed + [-n for n in range(1, size - len(listed) + 1)]


def _shape(value: Any) -> Hashable:
    """What of a value shapes the SQL: a list's length, a flag or text itself; an int or
    a day only its kind."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return ("as is", value)
    if isinstance(value, datetime):
        raise TypeError(f"A compiled query takes days, not dates and times: {value!r}")
    if isinstance(value, int):
        return "int"
    if isinstance(value, date):
        return "day"
    if isinstance(value, Sequence):
        return ("list", tuple(_shape(v) for v in value))
    raise TypeError(f"A compiled query takes ints, days, lists of them, flags or text: {value!r}")


def _stand_ins(
    values: dict[str, Any], round_: int
) -> tuple[dict[str, Any], dict[tuple[type, Any], tuple[Any, ...]]]:
    """The values with each int and day replaced by a stand-in, and where each went: by
    the stand-in as given and, for a day, as the database takes it (SQLite: text), with
    whether it was adapted."""
    out: dict[str, Any] = {}
    places: dict[tuple[type, Any], tuple[Any, ...]] = {}
    # The second round starts at an odd offset: a branch on parity (or on a weekday) sees
    # the two rounds differ.
    counter = iter(range(round_ * 1_000_001, (round_ + 1) * 1_000_001))

    def stand_in(value: Any, name: str, index: int) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | date):
            return value
        n = next(counter)
        made = _FIRST_INT - n if isinstance(value, int) else _FIRST_DAY + timedelta(days=n)
        places[_marker(made)] = (name, index, False)
        if isinstance(made, date):
            adapted = connection.ops.adapt_datefield_value(made)
            if _marker(adapted) != _marker(made):
                places[_marker(adapted)] = (name, index, True)
        return made

    for name, value in values.items():
        if isinstance(value, Sequence) and not isinstance(value, str):
            out[name] = [stand_in(v, name, i) for i, v in enumerate(value)]
        else:
            out[name] = stand_in(value, name, -1)
    return out, places


def _marker(value: Any) -> tuple[type, Any]:
    # By type too: 1 == True, and a date may equal a datetime's date part.
    return (type(value), value) if isinstance(value, Hashable) else (type(value), id(value))
