"""manage.py import_people: the admin's import for files too large for a web page."""

from __future__ import annotations

import io
import time

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import CommandError, call_command

from children.models import Child, ChildProtectionPlan, Conference
from staff.models import StaffMember
from tests.imports.conftest import CHILD_COLUMNS, STAFF_COLUMNS, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

BIG = 5_000
BAD_LINES = {
    17: {"team": "Nowhere"},
    2_500: {"date_of_birth": "32/13/2019"},
    4_999: {"social_worker_source_id": "SW404"},
}


def import_people(path, *args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "import_people", str(path), "--authority", "rutland", *args, stdout=out, stderr=err
        )
    finally:
        import_people.err = err.getvalue()  # type: ignore[attr-defined]
    return out.getvalue()


@pytest.fixture
def big_file(tmp_path, child_row):
    """5,000 children, three of them with a bad line (data rows numbered from 1)."""
    rows = [child_row(f"M{n:05d}", **BAD_LINES.get(n, {})) for n in range(1, BIG + 1)]
    path = tmp_path / "mosaic-children.csv"
    path.write_bytes(csv_bytes(CHILD_COLUMNS, rows))
    return path


def test_a_dry_run_counts_and_writes_nothing(tmp_path, rutland, staff_row):
    path = tmp_path / "staff.csv"
    path.write_bytes(csv_bytes(STAFF_COLUMNS, [staff_row("HR1"), staff_row("HR2")]))

    out = import_people(path, "--dry-run")

    assert "Dry run, nothing written: staff.csv (staff) into Rutland County Council" in out
    assert "2 new, 0 updated, 0 unchanged, 0 rows with errors" in out
    assert not StaffMember.objects.filter(source_id__in=["HR1", "HR2"]).exists()


def test_an_xlsx_file_of_staff_is_imported(tmp_path, rutland, staff_row):
    path = tmp_path / "staff.xlsx"
    path.write_bytes(xlsx_bytes(STAFF_COLUMNS, [staff_row("HR1")]))

    import_people(path)

    assert StaffMember.objects.get(source_id="HR1").authority == rutland.authority


def test_the_import_is_logged_against_the_named_user(tmp_path, rutland, staff_row):
    path = tmp_path / "staff.csv"
    path.write_bytes(csv_bytes(STAFF_COLUMNS, [staff_row("HR1")]))

    import_people(path, "--by", rutland.chair.user.username)

    entry = LogEntry.objects.get(user=rutland.chair.user)
    assert entry.get_change_message() == (
        "Import of staff.csv into Rutland County Council: "
        "1 new, 0 updated, 0 unchanged, 0 rows with errors."
    )


def test_an_unknown_authority_or_file_type_is_a_plain_error(tmp_path, rutland):
    path = tmp_path / "staff.txt"
    path.write_text("x")

    with pytest.raises(CommandError, match=r"give a \.csv or \.xlsx file"):
        import_people(path)
    with pytest.raises(CommandError, match="No authority with the slug “atlantis”"):
        call_command("import_people", str(path), "--authority", "atlantis")


def test_a_5000_line_file_with_bad_lines_writes_nothing_and_names_each_bad_line(big_file, rutland):
    started = time.monotonic()
    with pytest.raises(CommandError, match="Nothing was imported"):
        import_people(big_file)
    print(f"\n5,000 children refused in {time.monotonic() - started:.1f} s")

    assert import_people.err.splitlines() == [  # type: ignore[attr-defined]
        "Line 18: team: No team called “Nowhere” in Rutland County Council.",
        "Line 2501: date_of_birth: “32/13/2019” is not a date. Write dates like 31/01/2026.",
        "Line 5000: social_worker_source_id: No staff member with source ID “SW404” in "
        "Rutland County Council.",
    ]
    assert not Child.objects.filter(authority=rutland.authority, source_id__startswith="M").exists()


def test_a_5000_line_file_loads_its_good_lines_once_however_often_it_is_imported(big_file, rutland):
    started = time.monotonic()
    first = import_people(big_file, "--skip-bad-rows")
    middle = time.monotonic()
    again = import_people(big_file, "--skip-bad-rows")
    print(
        f"\n5,000 children: first import {middle - started:.1f} s, "
        f"re-import {time.monotonic() - middle:.1f} s"
    )

    good = BIG - len(BAD_LINES)
    assert f"{good} new, 0 updated, 0 unchanged, 3 rows with errors" in first
    assert f"0 new, 0 updated, {good} unchanged, 3 rows with errors" in again
    children = Child.objects.filter(authority=rutland.authority, source_id__startswith="M")
    assert children.count() == good
    assert ChildProtectionPlan.objects.filter(child__in=children).count() == good
    assert Conference.objects.filter(child__in=children).count() == 2 * good
