"""Children with their plans and conferences from a case-management report."""

from __future__ import annotations

import datetime

import pytest

from children.models import Child, ChildProtectionPlan, Conference
from children.resources import ChildResource
from imports.resources import result_counts, result_error_lines
from imports.services import people_import
from tests.children.factories import ChildFactory
from tests.imports.conftest import CHILD_COLUMNS, dataset_of

pytestmark = pytest.mark.django_db


def run(council, rows, *, kind="csv", dry_run=False, skip_bad_rows=False):
    return people_import(
        resource_class=ChildResource,
        authority=council.authority,
        dataset=dataset_of(CHILD_COLUMNS, rows, kind),
        file_name=f"children.{kind}",
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
    )


def test_a_child_is_created_with_worker_team_plan_and_conferences(rutland, child_row):
    result = run(rutland, [child_row("M100", reference="C-100", first_name="Sam")])

    assert result_error_lines(result) == []
    child = Child.objects.get(authority=rutland.authority, source_id="M100")
    assert (child.reference, child.first_name, child.date_of_birth) == (
        "C-100",
        "Sam",
        datetime.date(2018, 5, 1),
    )
    assert (child.team, child.social_worker) == (rutland.team, rutland.worker)
    plan = child.plans.get()
    assert (plan.category, plan.start_date) == ("neglect", datetime.date(2026, 2, 3))
    assert sorted(child.conferences.values_list("date", "kind", "chair")) == [
        (datetime.date(2026, 1, 20), "icpc", rutland.chair.pk),
        (datetime.date(2026, 4, 20), "rcpc", rutland.chair.pk),
    ]


def test_a_dry_run_writes_nothing(rutland, child_row):
    result = run(rutland, [child_row("M100")], dry_run=True)

    assert result_counts(result).new == 1
    assert not Child.objects.filter(source_id="M100").exists()


def test_a_reimport_updates_the_child_and_adds_no_duplicates(rutland, child_row):
    run(rutland, [child_row("M100"), child_row("M101")])

    result = run(
        rutland,
        [child_row("M100", last_name="Renamed"), child_row("M101")],
    )

    counts = result_counts(result)
    assert (counts.new, counts.updated, counts.unchanged, counts.bad) == (0, 1, 1, 0)
    assert Child.objects.filter(authority=rutland.authority, source_id="M100").get().last_name == (
        "Renamed"
    )
    assert Child.objects.filter(source_id__in=["M100", "M101"]).count() == 2
    assert ChildProtectionPlan.objects.filter(child__source_id="M100").count() == 1
    assert Conference.objects.filter(child__source_id="M100").count() == 2


def test_a_new_conference_on_reimport_is_added_to_the_existing_ones(rutland, child_row):
    run(rutland, [child_row("M100")])

    result = run(
        rutland,
        [
            child_row(
                "M100",
                conference_dates="20/01/2026; 20/04/2026; 20/10/2026",
                conference_kinds="icpc; rcpc; rcpc",
            )
        ],
    )

    assert result_counts(result).updated == 1
    assert Conference.objects.filter(child__source_id="M100").count() == 3


def test_a_child_entered_by_hand_is_linked_by_reference_not_duplicated(rutland, child_row):
    by_hand = ChildFactory(authority=rutland.authority, reference="C-7")

    run(rutland, [child_row("M7", reference="C-7")])

    by_hand.refresh_from_db()
    assert by_hand.source_id == "M7"
    assert Child.objects.filter(authority=rutland.authority, reference="C-7").count() == 1


def test_an_xlsx_report_with_date_cells_imports_like_a_csv(rutland, child_row):
    row = child_row(
        "M100", date_of_birth=datetime.datetime(2019, 3, 4), plan_start=datetime.date(2026, 2, 3)
    )

    result = run(rutland, [row], kind="xlsx")

    assert result_error_lines(result) == []
    child = Child.objects.get(source_id="M100")
    assert child.date_of_birth == datetime.date(2019, 3, 4)
    assert child.plans.get().start_date == datetime.date(2026, 2, 3)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"team": "Nowhere Team"}, "team: No team called “Nowhere Team” in Rutland"),
        ({"date_of_birth": "31/02/2018"}, "date_of_birth: “31/02/2018” is not a date"),
        ({"plan_start": "next week"}, "plan_start: “next week” is not a date"),
        ({"plan_category": "Worry"}, "plan_category: Unknown plan category “Worry”"),
        ({"conference_kinds": "icpc"}, "2 conference dates but 1 kinds"),
        ({"conference_kinds": "icpc; later"}, "Unknown conference kind “later”"),
        (
            {"social_worker_source_id": "SW404"},
            "social_worker_source_id: No staff member with source ID “SW404” in Rutland",
        ),
        (
            {"conference_chair_source_ids": "SW1"},
            "is a Social Worker, not a conference chair",
        ),
        ({"source_id": ""}, "source_id: Every row needs the source system's ID"),
        ({"first_name": ""}, "first_name: This field cannot be blank"),
    ],
)
def test_a_bad_line_is_reported_in_plain_words_and_nothing_is_written(
    rutland, child_row, values, expected
):
    result = run(rutland, [child_row("M1"), child_row("M2", **values)])

    errors = result_error_lines(result)
    assert len(errors) == 1
    assert errors[0].startswith("Line 3: ")
    assert expected in errors[0]
    assert not Child.objects.filter(source_id__in=["M1", "M2"]).exists()


def test_a_reference_that_belongs_to_another_child_is_refused(rutland, child_row):
    ChildFactory(authority=rutland.authority, reference="C-9", source_id="M9")

    result = run(rutland, [child_row("M10", reference="C-9")])

    assert result_error_lines(result) == [
        "Line 2: reference: Case reference “C-9” already belongs to another child in Rutland County Council "
        "(source ID “M9”): check the source ID and the reference."
    ]
    assert not Child.objects.filter(source_id="M10").exists()


def test_the_same_source_id_twice_in_a_file_is_refused(rutland, child_row):
    result = run(rutland, [child_row("M1"), child_row("M1", reference="OTHER")])

    assert result_error_lines(result) == [
        "Line 3: source_id: Source ID “M1” is also on line 2: give each record one line."
    ]


def test_another_authoritys_team_and_worker_are_errors(rutland, gloucestershire, child_row):
    result = run(
        rutland,
        [child_row("M1", team="Gloucester Family Help", social_worker_source_id="G-SW1")],
    )

    assert result_error_lines(result) == [
        "Line 2: team: No team called “Gloucester Family Help” in Rutland County Council.",
        "Line 2: social_worker_source_id: No staff member with source ID “G-SW1” in Rutland County Council.",
    ]
    assert not Child.objects.filter(source_id="M1").exists()


def test_children_always_go_into_the_importing_authority(rutland, gloucestershire, child_row):
    run(rutland, [child_row("M1")])

    assert Child.objects.get(source_id="M1").authority == rutland.authority


def test_skipping_bad_lines_writes_the_good_ones_only(rutland, child_row):
    result = run(
        rutland,
        [child_row("M1"), child_row("M2", team="Nowhere"), child_row("M3")],
        skip_bad_rows=True,
    )

    assert result_counts(result).bad == 1
    assert set(
        Child.objects.filter(authority=rutland.authority).values_list("source_id", flat=True)
    ) >= {"M1", "M3"}
    assert not Child.objects.filter(source_id="M2").exists()
