"""The tracker form's choices (reports.selectors.tracker_options): the authority's stages
and concern categories as its ladders stand, its teams and its chairs, each in order."""

from __future__ import annotations

import pytest
from django.utils.text import Truncator

from policies.models import ConcernCategory, Stage
from reports.selectors import tracker_options
from staff.models import StaffMember, Team

SLUG = "gloucestershire"


@pytest.fixture
def authority(ladders, staff_of):
    for first, last in (("Zoe", "Adams"), ("Amy", "Adams"), ("Ben", "Baker")):
        staff_of(SLUG, "cp-chair", user__first_name=first, user__last_name=last)
    staff_of(SLUG, "cp-chair", user__first_name="", user__last_name="", user__username="nameless")
    staff_of("rutland", "cp-chair", user__first_name="Other", user__last_name="Authority")
    Team.objects.create(authority=ladders[SLUG].authority, name="West")
    Team.objects.create(authority=ladders[SLUG].authority, name="East")
    return ladders[SLUG].authority


def _listed(options: list[dict]) -> list[tuple[str, str]]:
    return [(o["value"], o["label"]) for o in options]


def test_the_choices_are_the_authority_s_each_in_order(authority):
    choices, names = tracker_options(authority, {})

    stages = Stage.objects.filter(policy__authority=authority).order_by("policy_id", "order", "pk")
    assert _listed(choices["stages"]) == [(str(s.pk), s.name) for s in stages]
    items = ConcernCategory.objects.filter(
        policy__authority=authority, parent__isnull=False
    ).order_by("policy_id", "parent_id", "order", "pk")
    assert _listed(choices["categories"]) == [
        (str(c.pk), Truncator(c.name).chars(70)) for c in items
    ]
    teams = Team.objects.filter(authority=authority).order_by("name", "pk")
    assert _listed(choices["teams"]) == [(str(t.pk), t.name) for t in teams]
    chairs = StaffMember.objects.filter(authority=authority, role__is_chair=True).order_by(
        "user__last_name", "user__first_name", "pk"
    )
    assert names == {c.pk: c.display_name for c in chairs}
    assert list(names.values())[:4] == ["nameless", "Amy Adams", "Zoe Adams", "Ben Baker"]
    assert "Other Authority" not in names.values()


def test_a_renamed_stage_is_offered_under_its_new_name_at_once(authority):
    tracker_options(authority, {})
    stage = Stage.objects.filter(policy__authority=authority).order_by("pk").first()
    stage.name = "Stage 1: Renamed"
    stage.save()

    choices, _names = tracker_options(authority, {"stage": str(stage.pk)})

    assert {"value": str(stage.pk), "label": "Stage 1: Renamed", "selected": " selected"} in (
        choices["stages"]
    )
