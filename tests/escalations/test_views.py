"""The chair's and the manager's screens, driven through the Django test client.

Escalations are raised through the views where the raising is under test, and through
the services (as in test_services.py) where it is only the starting point.
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from children.models import AccessLog
from escalations import services
from escalations.models import Attachment, Escalation, State, Step
from notifications.links import step_link_token
from policies.models import Stage
from tests.children.factories import ConferenceFactory
from tests.confirm import post_and_confirm
from tests.fixtures import category_ticked, date_fields, first_category

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(tmp_path):
    root = tmp_path / "media"
    with override_settings(MEDIA_ROOT=root):
        yield root


# --- helpers ---------------------------------------------------------------------------


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def page(response) -> str:
    return html.unescape(response.content.decode())


def stage(slug: str, order: int) -> Stage:
    return Stage.objects.get(policy__slug=slug, order=order)


def field_group(text: str, name: str) -> str:
    """The GOV.UK form group holding the input named `name`."""
    groups = [g for g in text.split('<div class="govuk-form-group')[1:] if f'name="{name}"' in g]
    assert len(groups) == 1, f"no single form group for {name!r}"
    return groups[0]


def error_summary(text: str) -> str:
    assert "There is a problem" in text
    start = text.index('class="govuk-error-summary"')
    return text[start : text.index("</ul>", start)]


def assert_field_error(response, name: str, message: str) -> None:
    """The message sits beside the field and in the error summary at the top."""
    assert response.status_code == 200
    text = page(response)
    group = field_group(text, name)
    assert group.startswith(" govuk-form-group--error"), f"{name} not marked as in error"
    assert "govuk-error-message" in group
    assert message in group, f"{message!r} not beside {name}"
    assert message in error_summary(text)
    assert "<title>Error:" in text


def assert_form_error(response, message: str) -> None:
    """A 200 with the message in the error summary (wherever else it may also be)."""
    assert response.status_code == 200
    assert message in error_summary(page(response))


def snapshot() -> tuple:
    return (
        list(Escalation.objects.order_by("pk").values_list("pk", "state", "current_stage")),
        list(Step.objects.order_by("pk").values_list("pk", "closed_at", "responded_at")),
        Attachment.objects.count(),
    )


@pytest.fixture
def rutland(ladders, staff_of, child_of) -> dict[str, Any]:
    manager = staff_of("rutland", "service-manager")
    worker = staff_of("rutland", "social-worker")
    return {
        "policy": ladders["rutland"],
        "chair": staff_of("rutland", "cp-chair"),
        "manager": manager,
        "team_manager": staff_of("rutland", "team-manager"),
        "child": child_of(
            "rutland",
            first_name="Poppy",
            last_name="Hartwell",
            reference="RUT-001",
            social_worker=worker,
        ),
        "worker": worker,
    }


@pytest.fixture
def raised(rutland) -> Escalation:
    """A Rutland escalation at the informal stage, asked of the service manager."""
    return services.escalation_raise(
        actor=rutland["chair"],
        policy=rutland["policy"],
        categories=first_category(rutland["policy"]),
        children=[rutland["child"]],
        summary="Statutory visits are not happening.",
        responder=rutland["manager"],
    )


def open_step(escalation: Escalation) -> Step:
    return Step.objects.get(escalation=escalation, closed_at__isnull=True)


@pytest.fixture
def foreign_chair(staff_of):
    return staff_of("gloucestershire", "cp-chair")


# --- raising ---------------------------------------------------------------------------


def raise_data(rutland, **overrides) -> dict[str, Any]:
    data = {
        "policy": "rutland",
        "children": [rutland["child"].pk],
        "summary": "Core groups have not been held for ten weeks.",
        "categories": category_ticked("rutland"),
        "stage": stage("rutland", 0).pk,
        "responder": rutland["manager"].pk,
    }
    return data | overrides


def test_the_raise_form_offers_the_entry_stages_and_the_childs_line(rutland):
    response = signed_in(rutland["chair"]).get(
        reverse("escalations:raise", args=[rutland["child"].pk])
    )
    assert response.status_code == 200
    text = page(response)
    assert "Raise an escalation" in text
    assert rutland["policy"].name in text
    assert "Poppy Hartwell" in text
    assert "There is a problem" not in text


def test_an_empty_issue_is_shown_beside_the_field_and_in_the_summary_and_nothing_is_saved(
    rutland,
):
    response = signed_in(rutland["chair"]).post(
        reverse("escalations:raise", args=[rutland["child"].pk]),
        raise_data(rutland, summary="   "),
    )
    assert_field_error(response, "summary", "Describe the issue.")
    assert Escalation.objects.count() == 0
    assert Step.objects.count() == 0
    # What was entered is kept.
    assert f'<option value="{rutland["manager"].pk}" selected>' in page(response)


def test_skipping_stages_without_a_reason_where_the_policy_needs_one_is_refused(
    ladders, staff_of, child_of
):
    chair = staff_of("stoke-on-trent", "cp-chair")
    strategic = staff_of("stoke-on-trent", "strategic-manager")
    child = child_of("stoke-on-trent")
    client = signed_in(chair)
    url = reverse("escalations:raise", args=[child.pk])
    data = {
        "policy": "stoke-on-trent",
        "children": [child.pk],
        "summary": "Assessments are not being progressed.",
        "categories": category_ticked("stoke-on-trent"),
        "stage": stage("stoke-on-trent", 2).pk,
        "responder": strategic.pk,
        "reason": "",
    }

    response = client.post(url, data)

    assert_field_error(
        response, "reason", "The policy asks you to record why stages are being skipped."
    )
    assert Escalation.objects.count() == 0
    assert Step.objects.count() == 0

    response = post_and_confirm(client, url, data | {"reason": "Urgent: no visits for six weeks."})
    assert response.status_code == 302
    step = Step.objects.get()
    assert step.stage_name == "Stage 2: Strategic Manager"
    assert "Stage 1: Service Manager" in step.skipped_stage_names
    assert step.skip_reason == "Urgent: no visits for six weeks."


def test_a_successful_raise_goes_to_the_escalation_with_one_step(rutland):
    client = signed_in(rutland["chair"])
    response = post_and_confirm(
        client, reverse("escalations:raise", args=[rutland["child"].pk]), raise_data(rutland)
    )

    escalation = Escalation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("escalations:detail", args=[escalation.pk])
    [step] = Step.objects.filter(escalation=escalation)
    assert step.responder == rutland["manager"]
    assert escalation.state == State.INFORMAL
    assert list(escalation.children.all()) == [rutland["child"]]
    text = page(client.get(response["Location"]))
    assert f"{escalation.reference} raised." in text
    assert "Core groups have not been held for ten weeks." in text


def token_on(response) -> str:
    """The raise form's one-time token, as the page carries it."""
    match = re.search(r'name="request_token" value="([^"]+)"', page(response))
    assert match, "no request_token on the page"
    return match.group(1)


def test_the_raise_form_carries_a_one_time_token_through_the_preview(rutland):
    client = signed_in(rutland["chair"])
    url = reverse("escalations:raise", args=[rutland["child"].pk])
    token = token_on(client.get(url))

    preview = client.post(url, raise_data(rutland, request_token=token))

    assert preview.context["preview"] is not None
    assert token_on(preview) == token
    assert token_on(client.get(url)) != token  # a new page is a new form


def test_the_same_raise_form_sent_twice_raises_one_escalation_and_goes_to_it(rutland):
    client = signed_in(rutland["chair"])
    url = reverse("escalations:raise", args=[rutland["child"].pk])
    data = raise_data(rutland, request_token=token_on(client.get(url)))
    preview = client.post(url, data).context["preview"]
    confirmed = data | {"recipients_seen": preview.signature}
    assert client.post(url, confirmed).status_code == 302

    again = client.post(url, confirmed)  # the confirming press, clicked twice

    escalation = Escalation.objects.get()
    assert Step.objects.count() == 1
    assert again.status_code == 302
    assert again["Location"] == reverse("escalations:detail", args=[escalation.pk])
    text = page(client.get(again["Location"]))
    assert f"{escalation.reference} was already raised from this form" in text


# --- escalating ------------------------------------------------------------------------


def test_posting_the_same_escalate_form_twice_creates_one_step_and_says_it_moved_on(
    rutland, raised
):
    client = signed_in(rutland["chair"])
    url = reverse("escalations:escalate", args=[raised.pk])
    first = open_step(raised)
    form = page(client.get(url))
    assert f'name="from_step" value="{first.pk}"' in form
    data = {
        "from_step": first.pk,
        "stage": stage("rutland", 1).pk,
        "responder": rutland["team_manager"].pk,
    }

    assert post_and_confirm(client, url, data).status_code == 302
    second = client.post(url, data)

    assert second.status_code == 200
    assert_form_error(second, services.MOVED_ON)
    assert "Select a valid choice" not in page(second)  # the plain message, nothing else
    assert Step.objects.filter(escalation=raised).count() == 2
    assert open_step(raised).stage_name == "Stage 1: Team Manager"


# --- responding ------------------------------------------------------------------------


def test_the_signed_link_leads_to_a_clean_url_and_a_response_is_accepted_once(rutland, raised):
    step = open_step(raised)
    token = step_link_token(step.pk)
    client = signed_in(rutland["manager"])

    response = client.get(reverse("escalations:step_link", args=[token]), follow=True)

    clean = reverse("escalations:respond", args=[step.pk])
    assert response.redirect_chain[-1][0] == clean
    assert response.request["PATH_INFO"] == clean
    assert token not in response.redirect_chain[-1][0]
    assert token not in response.request.get("QUERY_STRING", "")
    assert 'name="response"' in page(response)

    response = client.post(clean, {"response": "Visits are booked for Monday."})
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.response == "Visits are booked for Monday."
    answered_at = step.responded_at
    assert answered_at is not None

    again = client.post(clean, {"response": "Something else entirely."})
    assert again.status_code == 200
    text = page(again)
    assert "This page is read-only." in text
    assert "You have already responded to this step." in text
    assert 'name="response"' not in text
    step.refresh_from_db()
    assert step.response == "Visits are booked for Monday."
    assert step.responded_at == answered_at


def test_an_answered_step_is_shown_awaiting_the_chair_with_no_clock_running(rutland, raised):
    services.step_respond(actor=rutland["manager"], step=open_step(raised), response="Done.")
    text = page(signed_in(rutland["chair"]).get(reverse("escalations:detail", args=[raised.pk])))
    assert "Awaiting the chair" in text
    assert "working day" not in text.replace("working days from receipt", "")
    assert "Overdue" not in text
    assert '<strong class="govuk-tag">Open</strong>' not in text


def test_a_closed_step_is_shown_read_only(rutland, raised):
    first = open_step(raised)
    services.escalation_escalate(
        actor=rutland["chair"],
        escalation=raised,
        stage=stage("rutland", 1),
        responder=rutland["team_manager"],
    )
    client = signed_in(rutland["manager"])
    url = reverse("escalations:respond", args=[first.pk])

    text = page(client.get(url))
    assert "This step is closed: the escalation has moved on." in text
    assert "This page is read-only." in text
    assert 'name="response"' not in text

    response = client.post(url, {"response": "Late answer."})
    assert response.status_code == 200
    first.refresh_from_db()
    assert first.response == ""
    assert first.responded_at is None


def test_the_e_mailed_link_of_a_closed_step_stops_with_a_plain_message(rutland, raised):
    first = open_step(raised)
    services.escalation_escalate(
        actor=rutland["chair"],
        escalation=raised,
        stage=stage("rutland", 1),
        responder=rutland["team_manager"],
    )
    client = signed_in(rutland["manager"])

    response = client.get(reverse("escalations:step_link", args=[step_link_token(first.pk)]))

    assert response.status_code == 410
    text = page(response)
    assert "This step has closed" in text
    for case_data in (raised.reference, "Poppy", "Hartwell", "RUT-001", raised.summary):
        assert case_data not in text
    assert reverse("escalations:respond", args=[first.pk]) not in text


def respond_with(rutland, raised, *files) -> Any:
    step = open_step(raised)
    return signed_in(rutland["manager"]).post(
        reverse("escalations:respond", args=[step.pk]),
        {"response": "Please see the attached notes.", "attachments": list(files)},
    )


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_real_pdf_is_attached_and_stored_under_media_root(rutland, raised, media_root):
    response = respond_with(rutland, raised, SimpleUploadedFile("plan.pdf", PDF, "application/pdf"))

    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        "plan.pdf",
        "application/pdf",
        len(PDF),
    )
    [stored] = stored_files(media_root)
    assert stored.read_bytes() == PDF
    assert stored.name != "plan.pdf"  # a random name on disk


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("tool.exe", b"MZ\x90\x00binary", "application/octet-stream"),
            "“tool.exe” is not an allowed type. Use PDF",
        ),
        (
            SimpleUploadedFile("minutes.pdf", b"MZ\x90\x00 not a pdf at all", "application/pdf"),
            "“minutes.pdf” is not really a PDF file.",
        ),
        (
            SimpleUploadedFile("empty.pdf", b"", "application/pdf"),
            "The submitted file is empty.",
        ),
    ],
    ids=["exe", "renamed-to-pdf", "empty"],
)
def test_a_refused_file_is_explained_beside_the_field_and_nothing_is_saved(
    rutland, raised, media_root, upload, message
):
    response = respond_with(rutland, raised, upload)

    assert_field_error(response, "attachments", message)
    assert Attachment.objects.count() == 0
    assert open_step(raised).responded_at is None
    assert stored_files(media_root) == []


@override_settings(ATTACHMENT_MAX_BYTES=1024)
def test_a_file_over_the_size_limit_is_refused(rutland, raised, media_root):
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 2048, "application/pdf")

    response = respond_with(rutland, raised, big)

    assert_field_error(response, "attachments", "“big.pdf” is larger than")
    assert "Send a smaller file." in page(response)
    assert Attachment.objects.count() == 0
    assert open_step(raised).responded_at is None
    assert stored_files(media_root) == []


def test_more_than_five_files_are_refused(rutland, raised):
    files = [SimpleUploadedFile(f"n{i}.pdf", PDF, "application/pdf") for i in range(6)]

    response = respond_with(rutland, raised, *files)

    assert_field_error(response, "attachments", "Attach at most 5 files.")
    assert Attachment.objects.count() == 0


def test_the_attachment_is_downloadable_by_the_chair_and_a_404_for_another_authority(
    rutland, raised, foreign_chair
):
    respond_with(rutland, raised, SimpleUploadedFile("plan.pdf", PDF, "application/pdf"))
    attachment = Attachment.objects.get()
    url = reverse("escalations:attachment", args=[attachment.pk])

    detail = page(signed_in(rutland["chair"]).get(reverse("escalations:detail", args=[raised.pk])))
    assert f'href="{url}"' in detail
    response = signed_in(rutland["chair"]).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="plan.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"

    refused = signed_in(foreign_chair).get(url)
    assert refused.status_code == 404
    assert b"plan.pdf" not in refused.content
    assert b"%PDF" not in refused.content


def test_a_missing_file_is_a_404_not_a_500(rutland, raised, media_root):
    respond_with(rutland, raised, SimpleUploadedFile("plan.pdf", PDF, "application/pdf"))
    for path in stored_files(media_root):
        path.unlink()
    url = reverse("escalations:attachment", args=[Attachment.objects.get().pk])
    assert signed_in(rutland["chair"]).get(url).status_code == 404


# --- the access log ----------------------------------------------------------------------


def test_viewing_a_childs_file_or_an_escalation_is_logged(rutland, raised):
    client = signed_in(rutland["chair"])
    user, child = rutland["chair"].user, rutland["child"]
    assert AccessLog.objects.count() == 0

    assert client.get(reverse("children:file", args=[child.pk])).status_code == 200
    assert AccessLog.objects.filter(user=user, action="view child", child=child).count() == 1

    assert client.get(reverse("escalations:detail", args=[raised.pk])).status_code == 200
    assert (
        AccessLog.objects.filter(
            user=user, action="view escalation", child=child, escalation=raised
        ).count()
        == 1
    )

    assert client.get(reverse("escalations:record", args=[raised.pk])).status_code == 200
    assert AccessLog.objects.filter(user=user, action="print escalation", escalation=raised)


def test_a_refused_view_is_not_logged_as_a_read(rutland, raised, foreign_chair):
    client = signed_in(foreign_chair)
    assert client.get(reverse("children:file", args=[rutland["child"].pk])).status_code == 404
    assert client.get(reverse("escalations:detail", args=[raised.pk])).status_code == 404
    assert not AccessLog.objects.filter(user=foreign_chair.user).exists()


# --- the reverse procedure ---------------------------------------------------------------


@pytest.fixture
def stoke(ladders, staff_of, child_of) -> dict[str, Any]:
    worker = staff_of("stoke-on-trent", "social-worker")
    return {
        "worker": worker,
        "crm": staff_of("stoke-on-trent", "cp-chair"),
        "child": child_of("stoke-on-trent", social_worker=worker),
    }


def raise_about_crm(client: Client, stoke) -> Any:
    url = reverse("escalations:raise", args=[stoke["child"].pk])
    form = client.get(url)
    text = page(form)
    if "Which procedure are you using?" in text:
        link = reverse("escalations:raise", args=[stoke["child"].pk])
        assert f'href="{link}?policy=stoke-on-trent-about-crm"' in text
        form = client.get(url, {"policy": "stoke-on-trent-about-crm"})
        text = page(form)
    assert form.status_code == 200
    assert 'name="about_staff"' in text
    assert 'value="stoke-on-trent-about-crm"' in text
    return post_and_confirm(
        client,
        url,
        {
            "policy": "stoke-on-trent-about-crm",
            "children": [stoke["child"].pk],
            "about_staff": stoke["crm"].pk,
            "summary": "The conference report was not shared before the conference.",
            "stage": stage("stoke-on-trent-about-crm", 0).pk,
            "responder": stoke["crm"].pk,
        },
    )


def test_a_social_worker_raises_a_concern_about_a_chair(stoke):
    response = raise_about_crm(signed_in(stoke["worker"]), stoke)

    escalation = Escalation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("escalations:detail", args=[escalation.pk])
    assert escalation.policy.slug == "stoke-on-trent-about-crm"
    assert escalation.raised_by == stoke["worker"]
    assert escalation.about_staff == stoke["crm"]
    [step] = escalation.steps.all()
    assert step.responder == stoke["crm"]
    # The chair it is about finds it on their own list.
    mine = page(signed_in(stoke["crm"]).get(reverse("escalations:mine")))
    assert escalation.reference in mine


def test_with_two_procedures_open_to_them_they_choose_one_first(stoke, ladders):
    ladders["stoke-on-trent"].raisers.add(stoke["worker"].role)
    client = signed_in(stoke["worker"])

    choose = page(client.get(reverse("escalations:raise", args=[stoke["child"].pk])))
    assert "Which procedure are you using?" in choose
    assert ladders["stoke-on-trent"].name in choose
    assert ladders["stoke-on-trent-about-crm"].name in choose

    assert raise_about_crm(client, stoke).status_code == 302
    assert Escalation.objects.get().policy.slug == "stoke-on-trent-about-crm"


def test_a_concern_about_a_chair_must_name_the_chair(stoke):
    client = signed_in(stoke["worker"])
    response = client.post(
        reverse("escalations:raise", args=[stoke["child"].pk]),
        {
            "policy": "stoke-on-trent-about-crm",
            "children": [stoke["child"].pk],
            "summary": "Reports not shared.",
            "stage": stage("stoke-on-trent-about-crm", 0).pk,
            "responder": stoke["crm"].pk,
        },
    )
    assert_field_error(
        response,
        "about_staff",
        "Choose the Child Protection Conference Chair the concern is about.",
    )
    assert Escalation.objects.count() == 0


# --- the printable record ----------------------------------------------------------------


def test_the_printable_record_shows_every_step(rutland, raised):
    first = open_step(raised)
    services.step_respond(actor=rutland["manager"], step=first, response="Not at threshold.")
    services.escalation_escalate(
        actor=rutland["chair"],
        escalation=raised,
        stage=stage("rutland", 1),
        responder=rutland["team_manager"],
    )

    response = signed_in(rutland["chair"]).get(reverse("escalations:record", args=[raised.pk]))

    assert response.status_code == 200
    text = page(response)
    assert f"Escalation record {raised.reference}" in text
    assert "1. Threshold discussion with the Service Manager / Head of Service" in text
    assert "2. Stage 1: Team Manager" in text
    assert "Not at threshold." in text
    assert "Not satisfactory" in text  # the chair's verdict on the first step
    assert "Statutory visits are not happening." in text
    assert "Poppy Hartwell" in text
    assert "Printed" in text


# --- awaiting my response ----------------------------------------------------------------


def test_awaiting_my_response_lists_my_open_steps_overdue_first(ladders, staff_of, child_of):
    policy = ladders["gloucestershire"]
    chair = staff_of("gloucestershire", "cp-chair")
    me = staff_of("gloucestershire", "team-manager")
    somebody_else = staff_of("gloucestershire", "team-manager")
    stage_1 = stage("gloucestershire", 1)
    now = timezone.now()

    def raise_for(responder, summary: str, when) -> Escalation:
        return services.escalation_raise(
            actor=chair,
            policy=policy,
            categories=first_category(policy),
            children=[child_of("gloucestershire")],
            summary=summary,
            stage=stage_1,
            responder=responder,
            now=when,
        )

    due_later = raise_for(me, "Recent.", now)  # raised first: listed first were it by age
    overdue = raise_for(me, "Old.", now - timedelta(days=30))
    answered = raise_for(me, "Answered.", now - timedelta(days=40))
    services.step_respond(actor=me, step=open_step(answered), response="Done.")
    not_mine = raise_for(somebody_else, "Not mine.", now - timedelta(days=30))

    response = signed_in(me).get(reverse("escalations:awaiting"))

    text = page(response)
    assert response.status_code == 200
    assert answered.reference not in text
    assert not_mine.reference not in text
    assert text.index(overdue.reference) < text.index(due_later.reference)
    assert "Overdue" in text
    assert reverse("escalations:respond", args=[open_step(overdue).pk]) in text


def test_awaiting_my_response_says_when_nothing_is_waiting(rutland):
    text = page(signed_in(rutland["chair"]).get(reverse("escalations:awaiting")))
    assert "Nothing is waiting for your response." in text


# --- garbage in: a 200 with an error, never a 500 ----------------------------------------


@pytest.fixture
def garbage_world(rutland, raised, staff_of, child_of, ladders):
    """Everything the garbage cases refer to."""
    other = services.escalation_raise(
        actor=rutland["chair"],
        policy=rutland["policy"],
        categories=first_category(rutland["policy"]),
        children=[child_of("rutland")],
        summary="Another case.",
        responder=rutland["manager"],
    )
    glos_chair = staff_of("gloucestershire", "cp-chair")
    glos_manager = staff_of("gloucestershire", "team-manager")
    glos_child = child_of("gloucestershire")
    meeting = services.escalation_raise(
        actor=glos_chair,
        policy=ladders["gloucestershire"],
        categories=first_category(ladders["gloucestershire"]),
        children=[glos_child],
        summary="Meeting needed.",
        stage=stage("gloucestershire", 2),
        responder=glos_manager,
    )
    return {
        **rutland,
        "escalation": raised,
        "step": open_step(raised),
        "other_step": open_step(other),
        "foreign_manager": glos_manager,
        "foreign_child": glos_child,
        "foreign_stage": stage("gloucestershire", 1),
        "meeting_step": open_step(meeting),
        "conference": ConferenceFactory(child=child_of("rutland")),
    }


HUGE = "9" * 30

# (label, who posts, route, url argument, data) — every one must come back as a 200 with
# the error summary, and save nothing.
GARBAGE: list[tuple[str, str, str, str, Any]] = [
    # raising
    ("raise: child not a number", "chair", "raise", "child", {"children": ["abc"]}),
    ("raise: no child", "chair", "raise", "child", {"children": []}),
    ("raise: another authority's child", "chair", "raise", "child", {"children": ["@foreign_child"]}),
    ("raise: stage not a number", "chair", "raise", "child", {"stage": "abc"}),
    ("raise: unknown stage", "chair", "raise", "child", {"stage": "987654321"}),
    ("raise: huge stage", "chair", "raise", "child", {"stage": HUGE}),
    ("raise: another policy's stage", "chair", "raise", "child", {"stage": "@foreign_stage"}),
    ("raise: a stage not open to entry", "chair", "raise", "child", {"stage": "@rutland_stage_2"}),
    ("raise: responder not a number", "chair", "raise", "child", {"responder": "abc"}),
    ("raise: huge responder", "chair", "raise", "child", {"responder": HUGE}),
    ("raise: another authority's responder", "chair", "raise", "child", {"responder": "@foreign_manager"}),
    ("raise: asking yourself", "chair", "raise", "child", {"responder": "@chair"}),
    ("raise: a responder of the wrong role", "chair", "raise", "child", {"responder": "@worker"}),
    ("raise: conference not a number", "chair", "raise", "child", {"conference": "abc"}),
    ("raise: another child's conference", "chair", "raise", "child", {"conference": "@conference"}),
    ("raise: category not a number", "chair", "raise", "child", {"categories": ["abc"]}),
    ("raise: a NUL in the issue", "chair", "raise", "child", {"summary": "bad\x00text"}),
    ("raise: a list for the issue", "chair", "raise", "child", {"summary": ["", ""]}),
    ("raise: form token not a token", "chair", "raise", "child", {"request_token": "abc"}),
    # escalating
    ("escalate: stage not a number", "chair", "escalate", "escalation", {"stage": "abc"}),
    ("escalate: unknown stage", "chair", "escalate", "escalation", {"stage": "987654321"}),
    ("escalate: huge stage", "chair", "escalate", "escalation", {"stage": HUGE}),
    ("escalate: another policy's stage", "chair", "escalate", "escalation", {"stage": "@foreign_stage"}),
    ("escalate: responder not a number", "chair", "escalate", "escalation", {"responder": "abc"}),
    ("escalate: another authority's responder", "chair", "escalate", "escalation", {"responder": "@foreign_manager"}),
    ("escalate: from_step not a number", "chair", "escalate", "escalation", {"from_step": "abc"}),
    ("escalate: huge from_step", "chair", "escalate", "escalation", {"from_step": HUGE}),
    ("escalate: another escalation's from_step", "chair", "escalate", "escalation", {"from_step": "@other_step"}),
    ("escalate: unknown from_step", "chair", "escalate", "escalation", {"from_step": "987654321"}),
    # closing
    ("resolve: no outcome", "chair", "resolve", "escalation", {"outcome": " "}),
    ("resolve: a NUL in the outcome", "chair", "resolve", "escalation", {"outcome": "a\x00b"}),
    ("final decision: none given", "chair", "final_decision", "escalation", {"decision": ""}),
    ("final decision: not a final stage", "chair", "final_decision", "escalation", {}),
    ("withdraw: no reason", "chair", "withdraw", "escalation", {"reason": ""}),
    # responding
    ("respond: no response", "manager", "respond", "step", {"response": "  "}),
    ("respond: a NUL in the response", "manager", "respond", "step", {"response": "a\x00b"}),
    ("respond: meeting date not a date", "foreign_manager", "respond", "meeting_step", {"meeting_date_day": "31", "meeting_date_month": "Smarch", "meeting_date_year": "2026"}),
    ("respond: no meeting date", "foreign_manager", "respond", "meeting_step", {"meeting_date_day": "", "meeting_date_month": "", "meeting_date_year": ""}),
    ("respond: meeting in the future", "foreign_manager", "respond", "meeting_step", date_fields("meeting_date", date(2999, 1, 1))),
]  # fmt: skip


def valid_data(kind: str, w: dict[str, Any]) -> dict[str, Any]:
    return {
        "raise": {
            "policy": "rutland",
            "children": [w["child"].pk],
            "summary": "Visits not done.",
            "categories": category_ticked("rutland"),
            "stage": stage("rutland", 0).pk,
            "responder": w["manager"].pk,
        },
        "escalate": {
            "from_step": w["step"].pk,
            "stage": stage("rutland", 1).pk,
            "responder": w["team_manager"].pk,
        },
        "resolve": {"outcome": "Resolved."},
        "final_decision": {"decision": "Final."},
        "withdraw": {"reason": "Raised in error."},
        "respond": {"response": "An answer.", **date_fields("meeting_date", date(2026, 1, 5))},
    }[kind]


def resolve_refs(value: Any, w: dict[str, Any]) -> Any:
    """ "@name" -> the pk of that object in the garbage world."""
    if isinstance(value, list):
        return [resolve_refs(v, w) for v in value]
    if isinstance(value, str) and value.startswith("@"):
        name = value[1:]
        if name == "rutland_stage_2":
            return stage("rutland", 2).pk
        return w[name].pk
    return value


@pytest.mark.parametrize(
    ("label", "who", "kind", "target", "bad"), GARBAGE, ids=[g[0] for g in GARBAGE]
)
def test_garbage_gets_a_200_with_an_error_never_a_500(garbage_world, label, who, kind, target, bad):
    w = garbage_world
    url_arg = {
        "child": w["child"].pk,
        "escalation": w["escalation"].pk,
        "step": w["step"].pk,
        "meeting_step": w["meeting_step"].pk,
    }[target]
    url = reverse(f"escalations:{kind}", args=[url_arg])
    data = valid_data(kind, w) | {k: resolve_refs(v, w) for k, v in bad.items()}
    before = snapshot()

    response = signed_in(w[who]).post(url, data)

    assert response.status_code == 200, f"{label}: {response.status_code}"
    text = page(response)
    assert "There is a problem" in text, label
    assert "govuk-error-summary__list" in text
    assert snapshot() == before, f"{label} changed something"


def test_resolving_a_page_that_has_moved_on_is_refused_and_changes_nothing(
    client, ladders, staff_of, child_of
):
    from escalations import services as escalation_services
    from escalations.models import State

    chair = staff_of("rutland", "cp-chair")
    escalation = escalation_services.escalation_raise(
        actor=chair,
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=[child_of("rutland")],
        summary="Visits not done.",
        responder=staff_of("rutland", "service-manager"),
    )
    seen = escalation.steps.get()
    # Someone escalates in another tab after the chair opened the resolve page.
    escalation_services.escalation_escalate(
        actor=chair, escalation=escalation, responder=staff_of("rutland", "team-manager")
    )
    client.force_login(chair.user)

    response = client.post(
        f"/escalations/{escalation.pk}/resolve/",
        {"outcome": "Sorted.", "from_step": seen.pk},
    )

    assert response.status_code == 200
    assert "moved on since you opened it" in response.content.decode()
    escalation.refresh_from_db()
    assert escalation.state == State.AWAITING_RESPONSE
