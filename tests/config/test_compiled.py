"""config.compiled.CompiledQuery: a query of values compiled once per shape answers what
the ORM's own query answers, for any values of that shape, and refuses a query whose
SQL the values change."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from children.models import Child
from config.compiled import CompiledQuery
from tests.children.factories import ChildFactory
from tests.policies.factories import LocalAuthorityFactory

pytestmark = pytest.mark.django_db

BIRTHDAYS = [date(2015, 3, 1), date(2017, 8, 20), date(2019, 1, 31), date(2021, 12, 25)]


def _born_between(*, authority: int, start: date, end: date):
    return (
        Child.objects.filter(authority=authority, date_of_birth__gte=start, date_of_birth__lte=end)
        .order_by("date_of_birth", "pk")
        # A day: SQLite gives text, which the ORM's converter makes a date again.
        .values_list("pk", "first_name", "date_of_birth")
    )


def _named(*, pks: list[int], authority: int):
    return Child.objects.filter(pk__in=pks, authority=authority).order_by("pk").values_list("pk")


@pytest.fixture
def children():
    authority, other = LocalAuthorityFactory(), LocalAuthorityFactory()
    made = [ChildFactory(authority=authority, date_of_birth=day) for day in BIRTHDAYS]
    made += [ChildFactory(authority=other, date_of_birth=day) for day in BIRTHDAYS]
    return authority, other, made


def test_every_range_of_days_answers_as_the_orm(children):
    authority, other, _made = children
    born = CompiledQuery(_born_between)
    days = [date(2014, 1, 1), *BIRTHDAYS, date(2030, 1, 1)]

    for start, end in itertools.product(days, repeat=2):
        for place in (authority, other):
            values = {"authority": place.pk, "start": start, "end": end}
            assert born.rows(**values) == list(_born_between(**values))


def test_lists_of_each_length_answer_as_the_orm(children):
    authority, _other, made = children
    named = CompiledQuery(_named)
    pks = [c.pk for c in made]

    for length in range(len(pks) + 1):
        for chosen in itertools.combinations(pks, length):
            values = {"pks": list(chosen), "authority": authority.pk}
            assert named.rows(**values) == list(_named(**values))


def test_membership_lists_of_each_length_answer_as_the_orm(children):
    authority, _other, made = children
    named = CompiledQuery(_named, members=["pks"])
    pks = [c.pk for c in made]

    for length in range(len(pks) + 1):
        for chosen in itertools.combinations(pks, length):
            values = {"pks": list(chosen), "authority": authority.pk}
            assert named.rows(**values) == list(_named(**values))


def test_a_membership_list_may_repeat_a_pk_or_hold_none(children):
    authority, _other, made = children
    named = CompiledQuery(_named, members=["pks"])
    pks = [made[0].pk, made[1].pk, made[0].pk, None]

    assert named.rows(pks=pks, authority=authority.pk) == [(made[0].pk,), (made[1].pk,)]


def test_membership_lists_share_a_shape_per_power_of_two(children, monkeypatch):
    authority, _other, made = children
    built = []

    def counted(**values):
        built.append(len(values["pks"]))
        return _named(**values)

    monkeypatch.setattr(CompiledQuery, "verify_every_call", False)
    named = CompiledQuery(counted, members=["pks"])
    for length in range(1, len(made) + 1):
        named.rows(pks=[c.pk for c in made[:length]], authority=authority.pk)

    # Lengths 1 to 8: shapes of 1, 2, 4 and 8, each built three times (two sets of
    # stand-ins and the first real values).
    assert sorted(set(built)) == [1, 2, 4, 8]
    assert len(built) == 4 * 3


def test_the_rows_come_back_converted_as_the_orms(children):
    authority, _other, _made = children
    born = CompiledQuery(_born_between)

    rows = born.rows(authority=authority.pk, start=BIRTHDAYS[0], end=BIRTHDAYS[-1])

    assert [row[2] for row in rows] == BIRTHDAYS


def test_an_empty_list_answers_nothing_without_asking_the_database(children):
    authority, _other, _made = children
    named = CompiledQuery(_named)

    with CaptureQueriesContext(connection) as asked:
        assert named.rows(pks=[], authority=authority.pk) == []

    assert len(asked) == 0


def test_the_kept_sql_is_built_once_per_shape(children, monkeypatch):
    authority, _other, _made = children
    built = []

    def counted(**values):
        built.append(values)
        return _born_between(**values)

    born = CompiledQuery(counted)
    born.rows(authority=authority.pk, start=BIRTHDAYS[0], end=BIRTHDAYS[1])
    compiled_once = len(built)
    monkeypatch.setattr(CompiledQuery, "verify_every_call", False)
    for end in BIRTHDAYS:
        born.rows(authority=authority.pk, start=BIRTHDAYS[0], end=end)

    assert len(built) == compiled_once


def test_a_query_whose_sql_a_value_changes_is_refused(children):
    authority, _other, _made = children

    def branching(*, authority: int):
        # Positive (real) pks take one shape, the stand-ins another.
        if authority > 0:
            return Child.objects.filter(authority=authority).values_list("pk")
        return Child.objects.filter(authority=authority, first_name="x").values_list("pk")

    with pytest.raises(ImproperlyConfigured, match="differently"):
        CompiledQuery(branching).rows(authority=authority.pk)


def test_a_value_used_twice_over_is_refused_when_it_changes_the_sql(children):
    authority, _other, _made = children

    def by_parity(*, authority: int):
        # Branches on the value itself: the two sets of stand-ins differ in parity.
        query = Child.objects.filter(authority=authority)
        return (query if authority % 2 else query.filter(first_name="x")).values_list("pk")

    with pytest.raises(ImproperlyConfigured):
        CompiledQuery(by_parity).rows(authority=authority.pk)


def test_values_of_another_kind_are_refused():
    with pytest.raises(TypeError, match="ints, days"):
        CompiledQuery(_named).rows(pks=[1.5], authority=1)
    with pytest.raises(TypeError, match="not dates and times"):
        CompiledQuery(_born_between).rows(authority=1, start=datetime(2026, 1, 1), end=date.max)
