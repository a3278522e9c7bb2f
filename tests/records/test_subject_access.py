"""The subject-access export: everything held about one child, nothing about another.

A sibling on the same escalation: the escalation, its steps and responses are included
(they are about this child too) but the sibling is never named or identified — only
counted. An escalation about the sibling alone is not included at all.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from children.models import AccessLog
from children.services import access_log_record
from escalations import services
from records.selectors import subject_access_zip
from records.services import subject_access_export
from tests.children.factories import ConferenceFactory, PlanFactory
from tests.fixtures import first_category
from tests.records.conftest import ATTACHMENT_NAME, OUTCOME, RESPONSE, SUMMARY

CHILD = {"first_name": "Zephyrine", "last_name": "Quillfeather", "reference": "RUT-SAR-4417"}
SIBLING = {"first_name": "Thaddeus", "last_name": "Quillbright", "reference": "RUT-SAR-9902"}
SIBLING_ONLY_SUMMARY = "Thaddeus's school place at Elm Row lapsed."


@pytest.fixture
def family(closed_case, child_of, ladders, staff_of):
    child = child_of("rutland", **CHILD)
    sibling = child_of("rutland", **SIBLING, date_of_birth=datetime.date(2020, 3, 14))
    PlanFactory(child=child)
    ConferenceFactory(child=child)
    shared = closed_case([child, sibling])
    services.escalation_raise(
        actor=staff_of("rutland", "cp-chair"),
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=[sibling],
        summary=SIBLING_ONLY_SUMMARY,
        responder=staff_of("rutland", "service-manager"),
    )
    # A page that listed only the sibling: not a read of this child's record.
    access_log_record(user=shared.qa.user, action="view child", children=[sibling])
    return {"child": child, "sibling": sibling, "case": shared}


def unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}


def test_the_export_holds_the_childs_escalations_steps_responses_attachments_and_reads(family):
    files = unzip(subject_access_zip(child=family["child"]))

    assert CHILD["last_name"] in files["child.csv"]
    assert SUMMARY in files["escalations.csv"] and OUTCOME in files["escalations.csv"]
    assert family["case"].escalation.reference in files["escalations.csv"]
    assert RESPONSE in files["steps.csv"]
    assert ATTACHMENT_NAME in files["attachments.csv"]
    assert "view escalation" in files["access_log.csv"]
    assert "Neglect" in files["plans.csv"]
    assert "Initial child protection conference" in files["conferences.csv"]
    assert {"README.txt", "child_history.csv", "significant_events.csv"} <= set(files)


def test_nothing_of_a_sibling_on_the_same_escalation_leaks_into_the_export(family):
    files = unzip(subject_access_zip(child=family["child"]))
    everything = "\n".join(files.values())

    for secret in (*SIBLING.values(), SIBLING_ONLY_SUMMARY, str(family["sibling"].date_of_birth)):
        assert secret not in everything
    # The shared escalation says only that there was one other child.
    assert files["escalations.csv"].splitlines()[1].endswith(",1")
    # One read naming both: listed; the read of the sibling alone: not.
    assert files["access_log.csv"].count("\n") == 2
    assert "view child" not in files["access_log.csv"]


def test_the_siblings_own_export_does_not_name_this_child(family):
    everything = "\n".join(unzip(subject_access_zip(child=family["sibling"])).values())

    assert SIBLING_ONLY_SUMMARY in everything
    for secret in CHILD.values():
        assert secret not in everything


def test_exporting_is_logged_in_the_access_log(family):
    qa = family["case"].qa
    before = AccessLog.objects.count()

    subject_access_export(user=qa.user, child=family["child"])

    row = AccessLog.objects.order_by("-pk").first()
    assert AccessLog.objects.count() == before + 1
    assert (row.action, row.user, list(row.children.all())) == (
        "subject access export",
        qa.user,
        [family["child"]],
    )


def test_a_qa_manager_downloads_the_zip_from_the_page(family):
    client = Client()
    client.force_login(family["case"].qa.user)
    child = family["child"]

    page = client.get(reverse("records:subject_access", args=[child.pk]))
    download = client.get(reverse("records:subject_access_download", args=[child.pk]))

    assert page.status_code == 200
    assert reverse("records:subject_access_download", args=[child.pk]) in page.content.decode()
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert CHILD["last_name"] not in download["Content-Disposition"]
    assert SUMMARY in unzip(download.content)["escalations.csv"]
    assert list(AccessLog.objects.order_by("-pk").values_list("action", flat=True)[:2]) == [
        "subject access export",
        "view subject access",
    ]


def test_an_authority_administrator_may_export(family, staff_of):
    admin = staff_of("rutland", "team-manager")
    admin.user.is_staff = True
    admin.user.save()
    client = Client()
    client.force_login(admin.user)

    url = reverse("records:subject_access_download", args=[family["child"].pk])
    assert client.get(url).status_code == 200


def test_a_chair_is_refused_in_words(family):
    client = Client()
    client.force_login(family["case"].chair.user)

    response = client.get(reverse("records:subject_access_download", args=[family["child"].pk]))

    assert response.status_code == 403
    assert "for quality assurance managers and administrators" in response.content.decode()
    assert CHILD["last_name"] not in response.content.decode()


def test_a_qa_manager_of_another_authority_finds_nothing(family, staff_of):
    client = Client()
    client.force_login(staff_of("gloucestershire", "qa-manager").user)

    for name in ("records:subject_access", "records:subject_access_download"):
        response = client.get(reverse(name, args=[family["child"].pk]))
        assert response.status_code == 404
        assert CHILD["last_name"] not in response.content.decode()


def test_the_command_writes_the_zip_and_logs_it(family, tmp_path):
    output = tmp_path / "export.zip"
    qa = family["case"].qa

    call_command(
        "subject_access_export",
        "rutland",
        CHILD["reference"],
        "--by",
        qa.user.username,
        "--output",
        str(output),
        stdout=io.StringIO(),
    )

    assert SUMMARY in unzip(Path(output).read_bytes())["escalations.csv"]
    assert AccessLog.objects.order_by("-pk").first().action == "subject access export"


def test_the_command_refuses_someone_who_is_not_qa_or_an_administrator(family, tmp_path):
    with pytest.raises(CommandError, match="not a QA manager or administrator"):
        call_command(
            "subject_access_export",
            "rutland",
            CHILD["reference"],
            "--by",
            family["case"].chair.user.username,
            "--output",
            str(tmp_path / "export.zip"),
        )
    assert not (tmp_path / "export.zip").exists()
