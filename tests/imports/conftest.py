"""Files as councils send them (CSV and XLSX), and Rutland with a team, staff and an admin."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.test import Client
from import_export.formats.base_formats import CSV, XLSX

from policies.models import LocalAuthority
from staff.models import StaffMember, Team
from staff.services import authority_admin_grant
from tests.staff.factories import TeamFactory

OWN, OTHER = "rutland", "gloucestershire"

STAFF_COLUMNS = [
    "source_id",
    "first_name",
    "last_name",
    "email",
    "role",
    "team",
    "line_manager_source_id",
    "agency",
]
CHILD_COLUMNS = [
    "source_id",
    "reference",
    "first_name",
    "last_name",
    "date_of_birth",
    "team",
    "social_worker_source_id",
    "plan_category",
    "plan_start",
    "conference_dates",
    "conference_kinds",
    "conference_chair_source_ids",
]


def csv_bytes(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(columns))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def dataset_of(columns: Sequence[str], rows: Sequence[Sequence[Any]], kind: str = "csv") -> Any:
    if kind == "xlsx":
        return XLSX().create_dataset(xlsx_bytes(columns, rows))
    return CSV().create_dataset(csv_bytes(columns, rows).decode())


@dataclass
class Council:
    authority: LocalAuthority
    team: Team
    chair: StaffMember
    worker: StaffMember


@pytest.fixture
def rutland(ladders, staff_of) -> Council:
    """Rutland with a team, a chair (source ID CH1) and a social worker (SW1)."""
    authority = LocalAuthority.objects.get(slug=OWN)
    team = TeamFactory(authority=authority, name="Safeguarding North")
    return Council(
        authority=authority,
        team=team,
        chair=staff_of(OWN, "cp-chair", source_id="CH1"),
        worker=staff_of(OWN, "social-worker", team=team, source_id="SW1"),
    )


@pytest.fixture
def gloucestershire(ladders, staff_of) -> Council:
    authority = LocalAuthority.objects.get(slug=OTHER)
    team = TeamFactory(authority=authority, name="Gloucester Family Help")
    return Council(
        authority=authority,
        team=team,
        chair=staff_of(OTHER, "cp-chair", source_id="G-CH1"),
        worker=staff_of(OTHER, "social-worker", team=team, source_id="G-SW1"),
    )


@pytest.fixture
def rutland_admin(rutland, staff_of) -> User:
    user = staff_of(OWN, "service-manager").user
    authority_admin_grant(user=user)
    return user


@pytest.fixture
def admin_client(client: Client, rutland_admin) -> Client:
    client.force_login(rutland_admin)
    return client


@pytest.fixture
def child_row() -> Callable[..., list[Any]]:
    """child_row("C1", reference=..., ...) -> a line of a children file, good by default."""

    def make(source_id: str, /, **values: Any) -> list[Any]:
        defaults = {
            "source_id": source_id,
            "reference": f"REF-{source_id}",
            "first_name": "Alex",
            "last_name": f"Child{source_id}",
            "date_of_birth": "01/05/2018",
            "team": "Safeguarding North",
            "social_worker_source_id": "SW1",
            "plan_category": "Neglect",
            "plan_start": "03/02/2026",
            "conference_dates": "20/01/2026; 20/04/2026",
            "conference_kinds": "icpc; rcpc",
            "conference_chair_source_ids": "CH1",
        }
        defaults.update(values)
        return [defaults[column] for column in CHILD_COLUMNS]

    return make


@pytest.fixture
def staff_row() -> Callable[..., list[Any]]:
    def make(source_id: str, /, **values: Any) -> list[Any]:
        defaults = {
            "source_id": source_id,
            "first_name": "Jo",
            "last_name": f"Worker{source_id}",
            "email": f"{source_id.lower()}@rutland.example",
            "role": "Social Worker",
            "team": "Safeguarding North",
            "line_manager_source_id": "",
            "agency": "",
        }
        defaults.update(values)
        return [defaults[column] for column in STAFF_COLUMNS]

    return make
