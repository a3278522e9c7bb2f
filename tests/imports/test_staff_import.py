"""Staff from a council's HR directory export."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from imports.resources import result_counts, result_error_lines
from imports.services import people_import
from staff.models import StaffMember
from staff.resources import StaffResource
from tests.imports.conftest import OWN, STAFF_COLUMNS, dataset_of
from tests.staff.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(council, rows, *, kind="csv", skip_bad_rows=False):
    return people_import(
        resource_class=StaffResource,
        authority=council.authority,
        dataset=dataset_of(STAFF_COLUMNS, rows, kind),
        file_name=f"staff.{kind}",
        dry_run=False,
        skip_bad_rows=skip_bad_rows,
    )


def test_a_new_person_gets_a_record_and_an_account_with_no_password_or_admin_rights(
    rutland, staff_row
):
    result = run(
        rutland, [staff_row("HR1", first_name="Priya", email="Priya.Shah@rutland.example")]
    )

    assert result_error_lines(result) == []
    staff = StaffMember.objects.get(authority=rutland.authority, source_id="HR1")
    user = staff.user
    assert (user.first_name, user.email, user.username) == (
        "Priya",
        "Priya.Shah@rutland.example",
        "priya.shah@rutland.example",
    )
    assert not user.has_usable_password()
    assert not user.is_staff
    assert not user.is_superuser
    assert (staff.role.slug, staff.team) == ("social-worker", rutland.team)


def test_a_line_manager_on_a_later_line_is_linked(rutland, staff_row):
    run(
        rutland,
        [
            staff_row("HR2", line_manager_source_id="HR9"),
            staff_row("HR9", role="Team Manager"),
        ],
    )

    worker = StaffMember.objects.get(source_id="HR2")
    assert worker.line_manager == StaffMember.objects.get(source_id="HR9")


def test_a_line_manager_already_recorded_is_linked_by_source_id(rutland, staff_row):
    run(rutland, [staff_row("HR2", line_manager_source_id="CH1")])

    assert StaffMember.objects.get(source_id="HR2").line_manager == rutland.chair


def test_a_reimport_updates_people_and_adds_no_duplicates(rutland, staff_row):
    run(rutland, [staff_row("HR1"), staff_row("HR2")])
    users_before = User.objects.count()

    result = run(
        rutland, [staff_row("HR1", last_name="Married", agency="Health"), staff_row("HR2")]
    )

    counts = result_counts(result)
    assert (counts.new, counts.updated, counts.unchanged) == (0, 1, 1)
    staff = StaffMember.objects.get(authority=rutland.authority, source_id="HR1")
    assert (staff.user.last_name, staff.agency) == ("Married", "Health")
    assert User.objects.count() == users_before
    assert StaffMember.objects.filter(source_id__in=["HR1", "HR2"]).count() == 2


def test_someone_added_by_hand_is_linked_by_email_not_duplicated(rutland, staff_row):
    rutland.worker.source_id = None
    rutland.worker.save()

    run(rutland, [staff_row("HR5", email=rutland.worker.user.email.upper())])

    rutland.worker.refresh_from_db()
    assert rutland.worker.source_id == "HR5"
    assert StaffMember.objects.filter(source_id="HR5").count() == 1


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"team": "Nowhere"}, "team: No team called “Nowhere” in Rutland County Council."),
        ({"role": "Wizard"}, "role: Unknown role “Wizard”. Use one of: "),
        ({"role": ""}, "role: Every person needs a role."),
        (
            {"line_manager_source_id": "HR404"},
            "line_manager_source_id: No line manager with source ID “HR404” in Rutland County "
            "Council or in this file.",
        ),
        ({"line_manager_source_id": "HR2"}, "A person cannot be their own line manager."),
        ({"email": "not-an-address"}, "email: “not-an-address” is not an e-mail address."),
        ({"email": ""}, "email: Every person needs an e-mail address"),
        ({"last_name": ""}, "last_name: Every person needs a last name."),
    ],
)
def test_a_bad_line_is_reported_in_plain_words_and_nothing_is_written(
    rutland, staff_row, values, expected
):
    result = run(rutland, [staff_row("HR1"), staff_row("HR2", **values)])

    errors = result_error_lines(result)
    assert len(errors) == 1
    assert errors[0].startswith("Line 3: ")
    assert expected in errors[0]
    assert not StaffMember.objects.filter(source_id__in=["HR1", "HR2"]).exists()
    assert not User.objects.filter(email="hr1@rutland.example").exists()


def test_an_email_used_by_another_account_is_refused(rutland, staff_row):
    UserFactory(email="taken@rutland.example")

    result = run(rutland, [staff_row("HR1", email="Taken@rutland.example")])

    assert result_error_lines(result) == [
        "Line 2: email: “Taken@rutland.example” is already used by another person's account."
    ]


def test_another_authoritys_team_and_manager_are_errors(rutland, gloucestershire, staff_row):
    result = run(
        rutland, [staff_row("HR1", team="Gloucester Family Help", line_manager_source_id="G-CH1")]
    )

    assert result_error_lines(result) == [
        "Line 2: team: No team called “Gloucester Family Help” in Rutland County Council.",
        "Line 2: line_manager_source_id: No line manager with source ID “G-CH1” in Rutland "
        "County Council or in this file.",
    ]


def test_a_platform_administrators_account_is_not_changed_by_an_import(rutland, staff_row):
    rutland.chair.user.is_superuser = True
    rutland.chair.user.save()

    result = run(rutland, [staff_row("CH1", email="attacker@example.invalid")])

    assert result_counts(result).bad == 1
    rutland.chair.user.refresh_from_db()
    assert rutland.chair.user.email != "attacker@example.invalid"


def test_skipping_bad_lines_writes_the_good_ones_only(rutland, staff_row):
    result = run(rutland, [staff_row("HR1"), staff_row("HR2", role="Wizard")], skip_bad_rows=True)

    assert result_counts(result).bad == 1
    assert StaffMember.objects.filter(authority__slug=OWN, source_id="HR1").exists()
    assert not StaffMember.objects.filter(source_id="HR2").exists()
