"""escalations.loading.built: an instance from a row's values is the instance
Model.from_db builds from them: the same columns, the same deferred fields, read from
this database (an FSM escalation with its state recorded); a model with an __init__ of
its own or init signals is built by from_db."""

from __future__ import annotations

import pytest
from django.db.models.signals import post_init

from children.models import Child
from escalations.loading import built, in_field_order
from escalations.models import Escalation, Step

pytestmark = pytest.mark.django_db


def _as_built(instance) -> tuple:
    columns = {k: v for k, v in instance.__dict__.items() if k != "_state"}
    return (
        type(instance),
        columns,
        instance.get_deferred_fields(),
        instance._state.adding,
        instance._state.db,
    )


def _both(model, pk, names):
    names = in_field_order(model, names)
    values = model.objects.filter(pk=pk).values_list(*names).get()
    return built(model, names, values), model.from_db("default", names, values)


@pytest.mark.parametrize(
    "names",
    [
        ["id", "escalation_id", "stage_name", "due_on", "responded_at"],
        [f.attname for f in Step._meta.concrete_fields],
    ],
)
def test_a_step_is_built_as_from_db_builds_it(raise_concern, names):
    step = raise_concern("rutland").steps.get()

    ours, django = _both(Step, step.pk, names)

    assert _as_built(ours) == _as_built(django)


def test_a_deferred_column_is_read_when_asked_for_as_from_db_does(
    raise_concern, django_assert_num_queries
):
    step = raise_concern("rutland").steps.get()

    ours, _django = _both(Step, step.pk, ["id", "escalation_id"])

    with django_assert_num_queries(1):
        assert ours.stage_name == step.stage_name


def test_an_fsm_model_is_built_as_from_db_builds_it_its_state_recorded(raise_concern):
    escalation = raise_concern("rutland")

    ours, django = _both(Escalation, escalation.pk, ["id", "state", "authority_id"])

    assert _as_built(ours) == _as_built(django)
    assert "_ConcurrentTransitionMixin__initial_states" in ours.__dict__


def test_a_model_with_an_init_of_its_own_is_built_by_from_db(raise_concern, monkeypatch):
    step = raise_concern("rutland").steps.get()
    built_by_init = []

    def init(self, *args, **kwargs):
        built_by_init.append(self)
        super(Step, self).__init__(*args, **kwargs)

    monkeypatch.setattr(Step, "__init__", init)
    ours, _django = _both(Step, step.pk, ["id", "stage_name"])

    assert any(instance is ours for instance in built_by_init)


def test_a_model_with_an_init_signal_is_built_by_from_db(child_of):
    child = child_of("rutland")
    seen = []

    def heard(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(heard, sender=Child)
    try:
        ours, _django = _both(Child, child.pk, ["id", "first_name"])
    finally:
        post_init.disconnect(heard, sender=Child)

    assert any(instance is ours for instance in seen)
