"""What the lists' rows show, read once in the selectors (escalations.selectors.row_url,
children_of, StepRow's files and amendments) rather than per cell in the templates."""

from __future__ import annotations

import pytest
from django.urls import reverse

from escalations import selectors
from escalations.models import Escalation


@pytest.mark.parametrize(
    "name", ["escalations:detail", "escalations:respond", "escalations:escalate"]
)
@pytest.mark.parametrize("pk", [1, 42, 987654321])
def test_a_rows_link_is_the_url_reverse_gives(name: str, pk: int) -> None:
    assert selectors.row_url(name, pk) == reverse(name, args=[pk])


@pytest.mark.django_db
def test_a_rows_children_are_the_same_loaded_or_not(raise_concern, django_assert_num_queries):
    escalation = raise_concern("rutland")
    expected = ", ".join(c.full_name for c in escalation.children.all())
    loaded = Escalation.objects.prefetch_related("children").get(pk=escalation.pk)
    with django_assert_num_queries(0):
        assert selectors.children_names(loaded) == expected
    assert selectors.children_names(Escalation.objects.get(pk=escalation.pk)) == expected


@pytest.mark.django_db
def test_a_lists_open_steps_read_as_the_orm_reads_them(
    raise_concern, world_of, django_assert_num_queries
):
    world = world_of("rutland")
    raised = [
        raise_concern("rutland", actor=world.chair, responder=responder)
        for responder in (world.north.service, world.north.service, world.south.service)
    ]

    listed = selectors.listed_open_steps([e.pk for e in raised])

    with django_assert_num_queries(0):
        shown = {
            pk: (step.pk, step.addressee_name, step.stage_name, step.effective_due_on)
            for pk, step in listed.items()
        }
    steps = {e.pk: e.steps.get(closed_at=None) for e in raised}
    assert shown == {
        pk: (step.pk, step.addressee_name, step.stage_name, step.effective_due_on)
        for pk, step in steps.items()
    }
    # Each person built once, however many of the steps they are asked.
    first, second, _third = (listed[e.pk] for e in raised)
    assert first.responder is second.responder


def _columns(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


@pytest.mark.django_db
def test_the_records_steps_and_people_read_as_the_orm_reads_them(
    raise_concern, world_of, django_assert_num_queries
):
    world = world_of("rutland")
    escalation = raise_concern("rutland", actor=world.chair, responder=world.north.service)
    loaded = Escalation.objects.get(pk=escalation.pk)

    people = selectors.load_the_record([loaded])

    with django_assert_num_queries(0):
        steps = list(loaded.steps.all())
        shown = [(_columns(s), _columns(s.responder), _columns(s.responder.user)) for s in steps]
        chair = (_columns(loaded.raised_by), _columns(loaded.raised_by.user))
    assert shown == [
        (_columns(s), _columns(s.responder), _columns(s.responder.user))
        for s in escalation.steps.order_by("sequence")
    ]
    assert chair == (_columns(world.chair), _columns(world.chair.user))
    assert set(people) >= {world.chair.pk, world.north.service.pk}


@pytest.mark.django_db
def test_awaiting_reads_its_page_as_the_orm_reads_it(
    raise_concern, world_of, django_assert_num_queries
):
    world = world_of("rutland")
    asked = world.north.service
    raised = [
        raise_concern("rutland", actor=chair, responder=asked)
        for chair in (world.chair, world.other_chair, world.chair)
    ]

    listed = selectors.awaiting_listed(asked)
    page = selectors.awaiting_page(listed)

    with django_assert_num_queries(0):
        shown = [
            (
                s.pk,
                s.stage_name,
                s.effective_due_on,
                s.escalation.state,
                s.escalation.raised_by.display_name,
            )
            for s in page
        ]
    steps = {s.pk: s for e in raised for s in e.steps.filter(closed_at=None)}
    assert shown == [
        (
            pk,
            s.stage_name,
            s.effective_due_on,
            s.escalation.state,
            s.escalation.raised_by.display_name,
        )
        for pk, s in ((pk, steps[pk]) for pk in listed)
    ]
    assert sorted(listed) == sorted(steps)
    # Each raiser built once, however many of the page's escalations they raised.
    chairs = [s.escalation.raised_by for s in page if s.escalation.raised_by_id == world.chair.pk]
    assert len(chairs) == 2 and chairs[0] is chairs[1]


def _read(instance, names) -> dict:
    return {name: getattr(instance, name) for name in names}


@pytest.mark.django_db
def test_to_dos_steps_read_as_the_orm_reads_them(
    raise_concern, world_of, django_assert_num_queries
):
    """Every column but the free texts (no row shows them, no rule reads them), which
    are read if asked for."""
    world = world_of("rutland")
    raised = [
        raise_concern("rutland", actor=world.chair, responder=world.north.service) for _ in range(2)
    ]
    steps = [e.steps.get(closed_at=None) for e in raised]
    names = ("id", "username", "first_name", "last_name")

    loaded = selectors._steps_for_todo([s.pk for s in steps])

    def shown(step):
        return (
            _read(step, selectors._TODO_STEP_COLUMNS),
            _read(step.escalation, selectors._TODO_ESCALATION_COLUMNS),
            _columns(step.responder),
            _read(step.responder.user, names),
            step.addressee_name,
        )

    with django_assert_num_queries(0):
        read = [shown(loaded[step.pk]) for step in steps]
    assert read == [shown(step) for step in steps]
    first, second = (loaded[s.pk] for s in steps)
    assert first.responder is second.responder
    assert {
        "response",
        "summary",
    } <= first.get_deferred_fields() | first.escalation.get_deferred_fields()
    assert first.escalation.summary == raised[0].summary
