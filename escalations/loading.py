"""Rows read once and handed to the instances that show them (`set_loaded`), and the
ladders each process holds while no ladder has changed (`load_ladders`)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django_fsm import ConcurrentTransitionMixin

from escalations.models import Escalation
from policies.models import (
    ConcernCategory,
    LadderRevision,
    LocalAuthority,
    Policy,
    Role,
    Stage,
)

_M = TypeVar("_M", bound=Model)


def as_loaded(model: type[Any], rows: list[Any]) -> QuerySet[Any]:
    """`rows` as a related manager's `.all()` returns them once prefetched: a queryset
    already read (no query). For `set_loaded`."""
    qs: QuerySet[Any] = QuerySet(model=model)
    qs._result_cache = rows
    qs._prefetch_done = True  # type: ignore[attr-defined]  # Django's own flag, unstubbed
    return qs


def set_loaded(instance: Any, name: str, model: type[Any], rows: list[Any]) -> None:
    """Fill `instance.<name>.all()` with `rows`, grouped by the caller from one flat query:
    Django's prefetch builds a filtered queryset for every object it fills, which cost
    more than the rows (the lists and the child's file fill hundreds)."""
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = as_loaded(model, rows)


def in_field_order(model: type[Model], names: Iterable[str]) -> tuple[str, ...]:
    """`names` (attnames of the model's columns) in the order of its fields: the order
    `Model.from_db` takes a row's values in."""
    wanted = set(names)
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in wanted)


def built(model: type[_M], names: Sequence[str], values: Sequence[Any]) -> _M:
    """An instance of `model` from a row's `values` for its columns `names` (in field
    order, `in_field_order`), as a query with `.only(*names)` builds it: the others
    deferred.

    Model.from_db builds through Model.__init__, which walks every field of the model
    for each row (9 µs a step, a list reads a hundred, with their people): the instance
    it makes is its state (not adding, this database) and its columns' values in its
    __dict__, which is all this sets, in a tenth of the time. django-fsm's
    ConcurrentTransitionMixin.__init__ (the escalation's) then records the state fields'
    values, which this does too, by the mixin's own method. A model with any other
    __init__ of its own, or with init signals listened to, is built by from_db still."""
    init = model.__init__
    if (
        (init is not Model.__init__ and init is not _RECORDS_ITS_STATE)
        or pre_init.has_listeners(model)
        or post_init.has_listeners(model)
    ):
        return model.from_db(DEFAULT_DB_ALIAS, names, values)
    instance = model.__new__(model)
    state = instance._state = ModelState()
    state.adding = False
    state.db = DEFAULT_DB_ALIAS
    instance.__dict__.update(zip(names, values, strict=True))
    if init is _RECORDS_ITS_STATE:
        instance._update_initial_state()  # type: ignore[attr-defined]  # the mixin's
    return instance


# What ConcurrentTransitionMixin adds to Model.__init__: its record of the state fields.
_RECORDS_ITS_STATE = ConcurrentTransitionMixin.__init__


@dataclass(frozen=True)
class _ReadLadders:
    """Every ladder as read under one LadderRevision value. Never handed out: each caller
    gets copies of what it asked for (`load_ladders`), which it may change at will."""

    revision: int | None
    policies: dict[int, Policy]
    stages: dict[int, list[Stage]]  # by policy pk, in ladder order
    roles: dict[int, Role]
    raiser_roles: dict[int, list[int]]  # role pks by stage pk, in Role's order
    raisers: dict[int, list[int]]  # role pks by policy pk, in Role's order
    categories: dict[int, ConcernCategory]  # in ConcernCategory's order
    category_rank: dict[int, int]  # each category's place in that order


_held_ladders: _ReadLadders | None = None


def _ladder_revision() -> int | None:
    """The value the ladder tables' triggers change with every write to them (None when
    the row is missing: nothing is then kept)."""
    table = connection.ops.quote_name(LadderRevision._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {table} WHERE id = 1")  # noqa: S608 - our table
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _read_every_ladder(revision: int | None) -> _ReadLadders:
    """Every authority's policies, stages, roles and concern categories, and which roles
    raise under each policy and each stage: six flat queries, grouped here (a few hundred
    rows at most). The orders are the database's, as the pages had them."""
    policies = {p.pk: p for p in Policy.objects.order_by("pk")}
    stages: dict[int, list[Stage]] = {pk: [] for pk in policies}
    raiser_roles: dict[int, list[int]] = {}
    for stage in Stage.objects.order_by("policy_id", "order", "pk"):
        stages[stage.policy_id].append(stage)
        raiser_roles[stage.pk] = []
    roles = {r.pk: r for r in Role.objects.all()}
    in_role_order = [f"role__{f}" for f in Role._meta.ordering or ()]
    for stage_pk, role_pk in Stage.raiser_roles.through.objects.order_by(
        "stage_id", *in_role_order, "role_id"
    ).values_list("stage_id", "role_id"):
        raiser_roles[stage_pk].append(role_pk)
    raisers: dict[int, list[int]] = {pk: [] for pk in policies}
    for policy_pk, role_pk in Policy.raisers.through.objects.order_by(
        "policy_id", *in_role_order, "role_id"
    ).values_list("policy_id", "role_id"):
        raisers[policy_pk].append(role_pk)
    categories = {
        c.pk: c for c in ConcernCategory.objects.order_by("policy_id", "parent_id", "order", "pk")
    }
    rank = {pk: i for i, pk in enumerate(categories)}
    return _ReadLadders(revision, policies, stages, roles, raiser_roles, raisers, categories, rank)


class _OneRead:
    """The ladders one block (a request that changes none) looked up, once."""

    read: _ReadLadders | None = None


_this_block: ContextVar[_OneRead | None] = ContextVar("ladders_read_once", default=None)


@contextmanager
def one_ladder_read() -> Iterator[None]:
    """Within the block the ladders are looked up once, the revision read once, however
    many times they are asked for: for work that changes no ladder (a GET request,
    `OneLadderReadMiddleware`), which would otherwise read the revision for each."""
    token = _this_block.set(_OneRead())
    try:
        yield
    finally:
        _this_block.reset(token)


def _ladders_now(*, again: bool = False) -> _ReadLadders:
    """The ladders as they stand: those this process holds while the revision it read them
    under is still the current one, else read again (and held if no write came between).
    Inside `one_ladder_read`, what the block looked up first, unless `again`: a row newer
    than that (a policy, role or category committed since, which the block's own reads
    have met) is looked up afresh rather than missed."""
    global _held_ladders
    block = _this_block.get()
    if block is not None and block.read is not None and not again:
        return block.read
    revision = _ladder_revision()
    read = _held_ladders
    if read is None or revision is None or read.revision != revision:
        read = _read_every_ladder(revision)
        if revision is not None and _ladder_revision() == revision:
            _held_ladders = read
    if block is not None:
        block.read = read
    return read


def _twin(instance: _M) -> _M:
    """A copy of a held instance for one caller: its own state, no related object or
    prefetched rows (the caller's copy gets its own)."""
    twin = instance.__class__.__new__(instance.__class__)
    twin.__dict__.update(instance.__dict__)
    twin.__dict__.pop("_prefetched_objects_cache", None)
    twin._state = copy.copy(instance._state)
    twin._state.fields_cache = {}
    return twin


def _policy(read: _ReadLadders, pk: int) -> Policy:
    policy = _twin(read.policies[pk])
    set_loaded(policy, "raisers", Role, [_twin(read.roles[r]) for r in read.raisers[pk]])
    return policy


def load_ladders(
    policy_ids: Iterable[int] = (), *, authority: LocalAuthority | None = None
) -> dict[int, Policy]:
    """{pk: policy} with its ladder, each stage's raiser roles and the roles that raise
    under it loaded (`rules.ladder` and the rules read them with no query). `authority`:
    every one of its policies with a ladder (a handful), rather than those named.

    Read from what this process holds while no ladder has changed since (LadderRevision:
    one indexed read a call), else from the tables. The instances are the caller's own
    copies: nothing it sets on them reaches another request."""
    read = _ladders_now()
    if not set(policy_ids) <= read.policies.keys():
        read = _ladders_now(again=True)
    if authority is not None:
        wanted = [
            pk
            for pk, policy in read.policies.items()
            if policy.authority_id == authority.pk and read.stages[pk]
        ]
    else:
        wanted = sorted(pk for pk in set(policy_ids) if pk in read.policies)
    policies: dict[int, Policy] = {}
    for pk in wanted:
        policy = policies[pk] = _policy(read, pk)
        ladder = []
        for held in read.stages[pk]:
            stage = _twin(held)
            stage.policy = policy
            set_loaded(
                stage,
                "raiser_roles",
                Role,
                [_twin(read.roles[r]) for r in read.raiser_roles[held.pk]],
            )
            ladder.append(stage)
        set_loaded(policy, "stages", Stage, ladder)
    return policies


def authority_policies(authority: LocalAuthority) -> list[Policy]:
    """Every policy of the authority, in any state, with the roles that raise under it
    loaded (not its ladder: `load_ladders`), by pk; held as `load_ladders` holds them."""
    read = _ladders_now()
    return [_policy(read, pk) for pk, p in read.policies.items() if p.authority_id == authority.pk]


def roles_by_pk(wanted: Iterable[int]) -> dict[int, Role]:
    """The `wanted` roles, as the process holds them (copies): for the people a page shows,
    whose role is then not joined to every row read."""
    wanted = set(wanted)
    read = _ladders_now()
    if not wanted <= read.roles.keys():
        read = _ladders_now(again=True)
    return {pk: _twin(read.roles[pk]) for pk in wanted if pk in read.roles}


def categories_of(escalation_pks: Sequence[int]) -> dict[int, list[ConcernCategory]]:
    """{escalation pk: its concern categories, each with its parent theme}, in
    ConcernCategory's order: the links in one query of two columns, the categories as the
    process holds them (copies)."""
    read = _ladders_now()
    grouped: dict[int, list[ConcernCategory]] = {pk: [] for pk in escalation_pks}
    links = list(
        Escalation.categories.through.objects.filter(
            escalation_id__in=list(escalation_pks)
        ).values_list("escalation_id", "concerncategory_id")
    )
    if not {category_pk for _e, category_pk in links} <= read.categories.keys():
        read = _ladders_now(again=True)
    for escalation_pk, category_pk in links:
        grouped[escalation_pk].append(_category(read, category_pk))
    for listed in grouped.values():
        listed.sort(key=lambda c: read.category_rank[c.pk])
    return grouped


def authority_categories(authority: LocalAuthority) -> list[ConcernCategory]:
    """Every concern category of the authority's policies, themes and items, in
    ConcernCategory's order (policy, theme, order), each item with its theme: copies of
    what the process holds."""
    read = _ladders_now()
    ours = {pk for pk, p in read.policies.items() if p.authority_id == authority.pk}
    # In that order already.
    return [_category(read, pk) for pk, c in read.categories.items() if c.policy_id in ours]


def _category(read: _ReadLadders, pk: int) -> ConcernCategory:
    """A copy of a held category, with a copy of its theme when it is an item."""
    held = read.categories[pk]
    category = _twin(held)
    if held.parent_id is not None:
        category.parent = _twin(read.categories[held.parent_id])
    return category
