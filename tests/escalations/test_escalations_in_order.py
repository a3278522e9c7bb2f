"""A page of My escalations is read in a fixed number of queries, in the order asked,
each row with its children and open step."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalations import selectors
from escalations.models import Escalation
from tests.fixtures import at

SLUG = "gloucestershire"


def _shown(escalation: Escalation) -> tuple:
    step = escalation.open_step()
    return (
        escalation.pk,
        # What a row reads of the escalation itself, each column its own value.
        escalation.state,
        escalation.get_state_display(),
        escalation.authority_id,
        escalation.raised_by_id,
        [c.pk for c in escalation.children.all()],
        step.pk if step else None,
    )


def test_a_page_of_escalations_is_read_in_order_with_children_and_open_steps(
    raise_concern, staff_of
):
    chair = staff_of(SLUG, "cp-chair")
    made = [
        raise_concern(
            SLUG, stage_order=1, actor=chair, now=at(2026, 11, 2, 9) + timedelta(minutes=i)
        )
        for i in range(3)
    ]
    pks = [made[1].pk, made[2].pk, made[0].pk]
    listed = [
        Escalation.objects.values_list("pk", "state", "raised_by_id").get(pk=pk) for pk in pks
    ]
    with CaptureQueriesContext(connection) as queries:
        rows = [_shown(e) for e in selectors.escalations_in_order(listed, chair.authority_id)]
    # The children and the open steps: the escalations are built from what was listed.
    assert len(queries) == 2
    assert rows == [_shown(Escalation.objects.get(pk=pk)) for pk in pks]


def test_the_open_steps_read_for_the_sort_serve_the_page(raise_concern, staff_of):
    chair = staff_of(SLUG, "cp-chair")
    made = [
        raise_concern(
            SLUG, stage_order=1, actor=chair, now=at(2026, 11, 2, 9) + timedelta(minutes=i)
        )
        for i in range(3)
    ]
    deciding, others = selectors.my_escalations_listed(chair, at(2026, 11, 3).date())
    assert deciding == []
    assert others.open_steps is not None
    listed = others[:]

    with CaptureQueriesContext(connection) as queries:
        escalations = selectors.escalations_in_order(listed, chair.authority_id, others.open_steps)
        rows = [_shown(e) for e in escalations]
    # The children only: the open steps came with the sort's read.
    assert len(queries) == 1
    assert sorted(rows) == sorted(_shown(Escalation.objects.get(pk=e.pk)) for e in made)
