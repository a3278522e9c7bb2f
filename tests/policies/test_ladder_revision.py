"""LadderRevision: every write to a ladder table, however it is made, gives it a new value."""

from collections.abc import Callable

import pytest
from django.db import connection, transaction

from policies.models import ConcernCategory, LadderRevision, Role, Stage
from tests.policies.factories import PolicyFactory, RoleFactory, StageFactory

pytestmark = pytest.mark.django_db


def _value() -> int:
    return LadderRevision.objects.get(pk=1).value


def _stage() -> Stage:
    return StageFactory(policy=PolicyFactory(), order=1)


WRITES: dict[str, Callable[[Stage, Role], object]] = {
    "a policy saved": lambda stage, role: stage.policy.save(),
    "a policy's raisers changed": lambda stage, role: stage.policy.raisers.add(role),
    "a stage added": lambda stage, role: StageFactory(policy=stage.policy, order=2),
    "a stage saved": lambda stage, role: stage.save(),
    "a stage deleted": lambda stage, role: stage.delete(),
    "a stage's raiser roles changed": lambda stage, role: stage.raiser_roles.add(role),
    "a stage's other roles changed": lambda stage, role: stage.also_roles.add(role),
    "a stage's copied posts changed": lambda stage, role: stage.copy_posts.add(role),
    "a stage's case-line copies changed": lambda stage, role: stage.copy_case_line_roles.add(role),
    "a stage's raiser-line copies changed": lambda stage, role: stage.copy_raiser_line_roles.add(
        role
    ),
    "a role saved": lambda stage, role: role.save(),
    "a category added": lambda stage, role: ConcernCategory.objects.create(
        policy=stage.policy, name="New theme"
    ),
    "a stage changed by hand-written SQL": lambda stage, role: connection.cursor().execute(
        "UPDATE policies_stage SET name = 'By hand' WHERE id = %s", [stage.pk]
    ),
}


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_every_write_to_a_ladder_table_changes_the_revision(write):
    stage, role = _stage(), RoleFactory()
    before = _value()

    WRITES[write](stage, role)

    assert _value() != before


def test_a_write_elsewhere_leaves_the_revision_alone(staff_of):
    _stage()
    before = _value()

    staff_of("rutland", "cp-chair")

    assert _value() == before


def test_a_rolled_back_write_leaves_no_value_a_later_write_takes_again():
    stage = _stage()
    before = _value()
    with pytest.raises(RuntimeError), transaction.atomic():
        stage.name = "Rolled back"
        stage.save()
        during = _value()
        raise RuntimeError

    assert _value() == before
    stage.name = "Kept"
    stage.save()
    assert _value() not in (before, during)
