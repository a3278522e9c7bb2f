"""The admin's import: upload, a preview that writes nothing, then confirm."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from children.models import AccessLog, Child
from staff.models import StaffMember
from tests.children.factories import ChildFactory
from tests.imports.conftest import CHILD_COLUMNS, STAFF_COLUMNS, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

CHILD_IMPORT = reverse("admin:children_child_import")
CHILD_CONFIRM = reverse("admin:children_child_process_import")
STAFF_IMPORT = reverse("admin:staff_staffmember_import")
STAFF_CONFIRM = reverse("admin:staff_staffmember_process_import")
CSV_FORMAT, XLSX_FORMAT = "0", "1"


def upload(client, url, name, content, file_format=CSV_FORMAT, **extra):
    return client.post(
        url,
        {"import_file": SimpleUploadedFile(name, content), "format": file_format, **extra},
    )


def confirm(client, url, preview):
    form = preview.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    return client.post(url, data)


def test_the_preview_writes_nothing_and_offers_to_confirm(admin_client, child_row):
    response = upload(
        admin_client, CHILD_IMPORT, "children.csv", csv_bytes(CHILD_COLUMNS, [child_row("M1")])
    )

    assert response.status_code == 200
    assert response.context["confirm_form"] is not None
    assert "0 rows with errors" in response.content.decode()
    assert not Child.objects.filter(source_id="M1").exists()


def test_confirming_the_preview_imports_into_the_admins_authority(admin_client, rutland, child_row):
    preview = upload(
        admin_client, CHILD_IMPORT, "children.csv", csv_bytes(CHILD_COLUMNS, [child_row("M1")])
    )

    response = confirm(admin_client, CHILD_CONFIRM, preview)

    assert response.status_code == 302
    assert Child.objects.get(source_id="M1").authority == rutland.authority


def test_an_xlsx_file_imports_through_the_admin(admin_client, rutland, staff_row):
    preview = upload(
        admin_client,
        STAFF_IMPORT,
        "staff.xlsx",
        xlsx_bytes(STAFF_COLUMNS, [staff_row("HR1")]),
        file_format=XLSX_FORMAT,
    )

    confirm(admin_client, STAFF_CONFIRM, preview)

    assert StaffMember.objects.get(source_id="HR1").authority == rutland.authority


def test_a_bad_line_shows_its_error_and_no_confirm_button(admin_client, child_row):
    response = upload(
        admin_client,
        CHILD_IMPORT,
        "children.csv",
        csv_bytes(CHILD_COLUMNS, [child_row("M1"), child_row("M2", team="Nowhere")]),
    )

    page = response.content.decode()
    assert response.context.get("confirm_form") is None
    assert "No team called “Nowhere” in Rutland County Council." in page
    assert "Nothing will be imported while any line has an error" in page
    assert "Traceback" not in page
    assert not Child.objects.filter(source_id__in=["M1", "M2"]).exists()


def test_a_missing_column_is_said_once_in_plain_words(admin_client, child_row):
    response = upload(admin_client, CHILD_IMPORT, "children.csv", b"reference,first_name\nC1,Sam\n")

    page = response.content.decode()
    assert "The file has no column “source_id”, “last_name”." in page
    assert "Traceback" not in page
    assert response.context.get("confirm_form") is None


def test_skipping_bad_lines_is_explicit_and_imports_the_good_ones(admin_client, child_row):
    preview = upload(
        admin_client,
        CHILD_IMPORT,
        "children.csv",
        csv_bytes(CHILD_COLUMNS, [child_row("M1"), child_row("M2", team="Nowhere")]),
        skip_bad_rows="on",
    )
    assert "will be left out" in preview.content.decode()

    confirm(admin_client, CHILD_CONFIRM, preview)

    assert Child.objects.filter(source_id="M1").exists()
    assert not Child.objects.filter(source_id="M2").exists()


def test_a_confirm_without_skipping_writes_nothing_if_a_line_has_gone_bad(
    admin_client, rutland, child_row
):
    preview = upload(
        admin_client,
        CHILD_IMPORT,
        "children.csv",
        csv_bytes(CHILD_COLUMNS, [child_row("M1"), child_row("M2")]),
    )
    rutland.team.name = "Renamed since the preview"
    rutland.team.save()

    response = confirm(admin_client, CHILD_CONFIRM, preview)

    assert response.status_code == 302
    assert response.url == CHILD_IMPORT
    assert not Child.objects.filter(source_id__in=["M1", "M2"]).exists()


def test_previews_and_imports_are_logged_with_who_file_and_counts(
    admin_client, rutland_admin, child_row
):
    preview = upload(
        admin_client, CHILD_IMPORT, "rutland.csv", csv_bytes(CHILD_COLUMNS, [child_row("M1")])
    )
    confirm(admin_client, CHILD_CONFIRM, preview)

    entries = list(LogEntry.objects.filter(user=rutland_admin).order_by("pk"))
    assert [entry.get_change_message() for entry in entries] == [
        "Preview (nothing written) of rutland.csv into Rutland County Council: "
        "1 new, 0 updated, 0 unchanged, 0 rows with errors.",
        "Import of rutland.csv into Rutland County Council: "
        "1 new, 0 updated, 0 unchanged, 0 rows with errors.",
    ]


def test_a_preview_showing_existing_children_is_an_access_logged_read(
    admin_client, rutland, rutland_admin, child_row
):
    existing = ChildFactory(authority=rutland.authority, source_id="M1")

    upload(admin_client, CHILD_IMPORT, "children.csv", csv_bytes(CHILD_COLUMNS, [child_row("M1")]))

    log = AccessLog.objects.get(user=rutland_admin, action="admin import preview child")
    assert log.child == existing


def test_an_administrator_without_a_staff_record_cannot_import(client, rutland, child_row):
    from tests.staff.factories import UserFactory

    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)

    response = client.get(CHILD_IMPORT)

    assert response.status_code == 403


def test_an_administrator_who_may_only_view_cannot_import(client, rutland, staff_of):
    viewer = staff_of("rutland", "service-manager").user
    viewer.is_staff = True
    viewer.save()
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_child"))
    client.force_login(viewer)

    response = client.get(CHILD_IMPORT)

    assert response.status_code == 403


def test_an_upload_that_cannot_be_confirmed_is_not_left_on_disk(admin_client, child_row):
    response = upload(
        admin_client,
        CHILD_IMPORT,
        "children.csv",
        csv_bytes(CHILD_COLUMNS, [child_row("M1", team="Nowhere")]),
    )

    stored = response.context["form"].cleaned_data["import_file"].tmp_storage_name
    assert not (Path(tempfile.gettempdir()) / stored).exists()
