"""Partner-agency contacts answer the step addressed to them with no council account: an
e-mailed link, a one-time code, a page showing their step alone (issue 11, item 5)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from children.models import AccessLog
from escalations import partner_access, selectors, services
from escalations.models import Attachment, Escalation, PartnerAccess, PartnerCode, State
from escalations.partner_access import PartnerRefused
from notifications.links import partner_code
from notifications.models import Kind, Notification
from notifications.relay import relay_once
from notifications.services import deliver
from policies.models import Stage
from staff.models import Partner
from tests.fixtures import MONDAY, category_ticked, first_category

GLOUCESTERSHIRE = "gloucestershire"

pytestmark = pytest.mark.usefixtures("no_broker")


@pytest.fixture
def partner_stage(ladders) -> Stage:
    """Gloucestershire's Stage 1, opened to partner agencies for these tests."""
    stage = Stage.objects.get(policy=ladders[GLOUCESTERSHIRE], order=1)
    stage.partner_responders = True
    stage.save()
    return stage


def make_partner(authority, **kwargs) -> Partner:
    defaults = {
        "name": "Pat Police",
        "job_title": "Detective Inspector",
        "organisation": "Gloucestershire Constabulary",
        "email": "pat.police@police.example",
    }
    return Partner.objects.create(authority=authority, **(defaults | kwargs))


@pytest.fixture
def partner(ladders) -> Partner:
    return make_partner(ladders[GLOUCESTERSHIRE].authority)


@pytest.fixture
def raise_to_partner(ladders, staff_of, child_of, partner_stage, partner):
    """Raise Gloucestershire Stage 1 addressed to a partner; the escalation."""

    def make(to: Partner | None = None, now=MONDAY):
        policy = ladders[GLOUCESTERSHIRE]
        return services.escalation_raise(
            actor=staff_of(GLOUCESTERSHIRE, "cp-chair"),
            policy=policy,
            categories=first_category(policy),
            children=[child_of(GLOUCESTERSHIRE, first_name="Poppy", last_name="Example")],
            summary="The core group has not met for ten weeks.",
            stage=partner_stage,
            partner=to or partner,
            reason="Police hold the information needed.",
            now=now,
        )

    return make


def relay() -> None:
    """Send what the outbox holds: rows made at MONDAY and by the pages (at the real now)."""
    relay_once(now=max(MONDAY, timezone.now()) + timedelta(minutes=1))


def sent_to(address: str) -> list:
    relay()
    return [m for m in mail.outbox if m.to == [address]]


def link_in(message) -> str:
    found = re.search(r"https?://\S+/escalations/partner/[\w-]+/", message.body)
    assert found, message.body
    return urlsplit(found.group(0)).path


def code_in(message) -> str:
    found = re.search(r"code for escalation \S+ is:\s+(\d{6})\b", message.body)
    assert found, message.body
    return found.group(1)


def signed_in(client: Client, link: str) -> None:
    """Ask for a code through the link and enter it (the partner's whole way in)."""
    client.post(link)
    code = code_in(sent_to_last_code())
    response = client.post(f"{link}code/", {"code": code})
    assert response.status_code == 302, response.content


def sent_to_last_code():
    relay()
    codes = [m for m in mail.outbox if "Your one-time code" in m.body]
    return codes[-1]


# --- addressing a step to a partner --------------------------------------------------


def test_a_step_may_be_addressed_to_a_partner_from_the_directory(raise_to_partner, partner):
    escalation = raise_to_partner()

    step = escalation.steps.get()
    assert (step.partner, step.responder) == (partner, None)
    assert escalation.state == State.AWAITING_RESPONSE


def test_the_partner_is_emailed_their_own_link_not_the_staff_one(raise_to_partner, partner):
    raise_to_partner()

    [message] = sent_to(partner.email)
    assert "/escalations/partner/" in message.body
    assert "/escalations/link/" not in message.body
    assert "one-time code" in message.body


def test_the_link_token_is_not_stored_only_its_hash(raise_to_partner, partner):
    raise_to_partner()
    [message] = sent_to(partner.email)
    token = link_in(message).strip("/").rsplit("/", 1)[1]

    access = PartnerAccess.objects.get()
    assert token not in (access.salt, access.token_hash)
    assert partner_access.access_for_token(token) == access


def test_a_partner_of_another_authority_is_refused(ladders, raise_to_partner):
    elsewhere = make_partner(ladders["rutland"].authority, email="pat@rutland-police.example")

    with pytest.raises(services.ActionRefused, match="partner directory"):
        raise_to_partner(to=elsewhere)


def test_an_inactive_partner_is_refused(raise_to_partner, partner):
    partner.is_active = False
    partner.save()

    with pytest.raises(services.ActionRefused, match="partner directory"):
        raise_to_partner()


def test_a_stage_not_open_to_partners_refuses_a_partner(raise_to_partner, partner_stage):
    partner_stage.partner_responders = False
    partner_stage.save()

    with pytest.raises(services.ActionRefused, match="answered within the council"):
        raise_to_partner()


def test_a_social_worker_is_not_accepted_for_a_partner_stage_without_its_role(
    ladders, staff_of, child_of, partner_stage
):
    """The old `external_responders` switch turned the role check off: the child's own
    social worker was accepted as the LSCB's Independent Chair. Partner stages now take
    partners from the directory, and staff only with the stage's role."""
    social_worker = staff_of(GLOUCESTERSHIRE, "social-worker")

    with pytest.raises(services.ActionRefused, match="is a Social Worker"):
        services.escalation_raise(
            actor=staff_of(GLOUCESTERSHIRE, "cp-chair"),
            policy=ladders[GLOUCESTERSHIRE],
            categories=first_category(ladders[GLOUCESTERSHIRE]),
            children=[child_of(GLOUCESTERSHIRE, social_worker=social_worker)],
            summary="Visits are not happening.",
            stage=partner_stage,
            responder=social_worker,
            now=MONDAY,
        )


def test_staff_holding_the_role_are_still_accepted_on_a_partner_stage(raise_concern, partner_stage):
    escalation = raise_concern(GLOUCESTERSHIRE, stage_order=1)

    assert escalation.steps.get().responder.role == partner_stage.role


# --- the code ---------------------------------------------------------------------------


def test_a_partner_answers_by_link_and_code(raise_to_partner, partner, client):
    escalation = raise_to_partner()
    [message] = sent_to(partner.email)
    link = link_in(message)

    signed_in(client, link)
    page = client.get(reverse("escalations:partner_reply"))
    assert page.status_code == 200
    assert "The core group has not met for ten weeks." in page.content.decode()
    response = client.post(
        reverse("escalations:partner_reply"),
        {
            "response": "We will attend the next core group and share the records.",
            "attachments": SimpleUploadedFile("note.txt", b"Police note", "text/plain"),
        },
    )

    assert response.status_code == 302
    step = escalation.steps.get()
    assert step.response == "We will attend the next core group and share the records."
    assert step.responded_by is None
    escalation.refresh_from_db()
    assert escalation.state == State.RESPONSE_RECEIVED
    attachment = Attachment.objects.get(step=step)
    assert (attachment.uploaded_by, attachment.uploaded_by_partner) == (None, partner)
    told = Notification.objects.filter(step=step, kind=Kind.RESPONSE_RECEIVED)
    assert [n.recipient for n in told] == [escalation.raised_by]


def test_the_code_is_stored_only_as_a_keyed_hash(raise_to_partner, partner):
    raise_to_partner()
    access = PartnerAccess.objects.get()

    code = partner_access.partner_code_request(access=access, now=MONDAY)
    deliver(notification_id=Notification.objects.get(kind=Kind.PARTNER_CODE).pk, now=MONDAY)
    sent = code_in(mail.outbox[-1])

    row = PartnerCode.objects.get(pk=code.pk)
    assert sent not in (row.salt, row.code_hash)
    assert len(row.code_hash) == 64


def test_a_wrong_code_is_refused_and_counted(raise_to_partner):
    raise_to_partner()
    access = PartnerAccess.objects.get()
    partner_access.partner_code_request(access=access, now=MONDAY)

    with pytest.raises(PartnerRefused, match=r"not right.*4 tries left"):
        partner_access.partner_code_verify(access=access, code="000000", now=MONDAY)
    assert PartnerCode.objects.get().tries == 1


def test_after_five_wrong_tries_even_the_right_code_is_refused(raise_to_partner, partner):
    raise_to_partner()
    access = PartnerAccess.objects.get()
    code = partner_access.partner_code_request(access=access, now=MONDAY)
    right = _code_of(code)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(PartnerRefused):
            partner_access.partner_code_verify(access=access, code=wrong, now=MONDAY)

    with pytest.raises(PartnerRefused, match=r"too many times\. Ask for a new one"):
        partner_access.partner_code_verify(access=access, code=right, now=MONDAY)


def test_an_expired_code_is_refused(raise_to_partner):
    raise_to_partner()
    access = PartnerAccess.objects.get()
    code = partner_access.partner_code_request(access=access, now=MONDAY)

    with pytest.raises(PartnerRefused, match="expired"):
        partner_access.partner_code_verify(
            access=access, code=_code_of(code), now=MONDAY + timedelta(minutes=16)
        )


def test_a_new_code_replaces_the_last(raise_to_partner):
    raise_to_partner()
    access = PartnerAccess.objects.get()
    first = partner_access.partner_code_request(access=access, now=MONDAY)
    later = MONDAY + timedelta(minutes=2)
    partner_access.partner_code_request(access=access, now=later)

    with pytest.raises(PartnerRefused, match="not right"):
        partner_access.partner_code_verify(access=access, code=_code_of(first), now=later)


def test_a_code_works_once(raise_to_partner):
    raise_to_partner()
    access = PartnerAccess.objects.get()
    code = partner_access.partner_code_request(access=access, now=MONDAY)
    partner_access.partner_code_verify(access=access, code=_code_of(code), now=MONDAY)

    with pytest.raises(PartnerRefused, match="Ask for a code first"):
        partner_access.partner_code_verify(access=access, code=_code_of(code), now=MONDAY)


def test_codes_are_not_sent_twice_within_a_minute(raise_to_partner):
    raise_to_partner()
    access = PartnerAccess.objects.get()
    partner_access.partner_code_request(access=access, now=MONDAY)

    with pytest.raises(PartnerRefused, match="less than a minute ago"):
        partner_access.partner_code_request(access=access, now=MONDAY + timedelta(seconds=30))


def test_at_most_five_codes_are_sent_in_an_hour(raise_to_partner):
    raise_to_partner()
    access = PartnerAccess.objects.get()
    for minute in range(5):
        partner_access.partner_code_request(access=access, now=MONDAY + timedelta(minutes=minute))

    with pytest.raises(PartnerRefused, match="5 codes have been sent in the last hour"):
        partner_access.partner_code_request(access=access, now=MONDAY + timedelta(minutes=10))


def test_a_wrong_code_on_the_page_says_so_in_words(raise_to_partner, partner, client):
    raise_to_partner()
    link = link_in(sent_to(partner.email)[0])
    client.post(link)

    response = client.post(f"{link}code/", {"code": "12"})

    assert response.status_code == 400
    assert "Enter the 6-digit code from the e-mail." in response.content.decode()


def test_a_made_up_link_shows_a_plain_page(client, ladders):
    response = client.get(reverse("escalations:partner_link", args=["made-up-token"]))

    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


# --- only their step --------------------------------------------------------------------


def test_without_the_code_the_step_page_shows_nothing(raise_to_partner, partner, client):
    raise_to_partner()
    link = link_in(sent_to(partner.email)[0])
    client.get(link)

    response = client.get(reverse("escalations:partner_reply"))

    assert response.status_code == 403
    assert "core group" not in response.content.decode()


def test_the_partner_session_opens_no_staff_page(raise_to_partner, partner, client):
    escalation = raise_to_partner()
    signed_in(client, link_in(sent_to(partner.email)[0]))
    child = escalation.children.get()

    for url in (
        reverse("escalations:detail", args=[escalation.pk]),
        reverse("escalations:respond", args=[escalation.steps.get().pk]),
        reverse("escalations:todo"),
        f"/children/{child.pk}/",
        "/admin/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"], url


def test_the_partner_session_opens_only_their_own_step(raise_to_partner, partner, ladders, client):
    raise_to_partner()
    other_partner = make_partner(
        ladders[GLOUCESTERSHIRE].authority, name="Hana Health", email="hana@nhs.example"
    )
    other = raise_to_partner(to=other_partner)
    other.summary = "Another child's concern."
    signed_in(client, link_in(sent_to(partner.email)[0]))

    page = client.get(reverse("escalations:partner_reply")).content.decode()
    other_link = link_in(sent_to(other_partner.email)[0])
    at_other_code = client.post(f"{other_link}code/", {"code": "123456"})

    assert "Another child's concern" not in page
    assert at_other_code.status_code == 400  # this session does not open the other step
    assert "Ask for a code first" in at_other_code.content.decode()


def test_the_link_expires_when_the_step_closes(raise_to_partner, partner, client):
    escalation = raise_to_partner()
    link = link_in(sent_to(partner.email)[0])
    services.escalation_withdraw(
        actor=escalation.raised_by, escalation=escalation, reason="Resolved by phone."
    )

    response = client.get(link)

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


def test_an_open_session_closes_with_the_step(raise_to_partner, partner, client):
    escalation = raise_to_partner()
    signed_in(client, link_in(sent_to(partner.email)[0]))
    services.escalation_withdraw(
        actor=escalation.raised_by, escalation=escalation, reason="Resolved by phone."
    )

    response = client.get(reverse("escalations:partner_reply"))

    assert response.status_code == 410


def test_signing_out_ends_the_session(raise_to_partner, partner, client):
    raise_to_partner()
    signed_in(client, link_in(sent_to(partner.email)[0]))

    client.post(reverse("escalations:partner_sign_out"))

    assert client.get(reverse("escalations:partner_reply")).status_code == 403


# --- the access log ---------------------------------------------------------------------


def test_every_view_of_their_step_is_logged_naming_the_partner(raise_to_partner, partner, client):
    escalation = raise_to_partner()
    signed_in(client, link_in(sent_to(partner.email)[0]))

    client.get(reverse("escalations:partner_reply"))
    client.get(reverse("escalations:partner_reply"))

    logs = AccessLog.objects.filter(partner=partner)
    assert logs.count() == 2
    log = logs.first()
    assert log.user is None
    assert log.name == "Pat Police (Gloucestershire Constabulary)"
    assert log.escalation == escalation
    assert log.child == escalation.children.get()


def _code_of(code: PartnerCode) -> str:
    return partner_code(code.salt)


# --- the chair's side -------------------------------------------------------------------


def test_the_chair_sees_the_partner_on_the_escalation_page(raise_to_partner, client):
    escalation = raise_to_partner()
    client.force_login(escalation.raised_by.user)

    response = client.get(reverse("escalations:detail", args=[escalation.pk]))

    assert response.status_code == 200
    assert "Pat Police" in response.content.decode()


def test_the_chair_can_chase_a_partner(raise_to_partner, partner):
    escalation = raise_to_partner()

    services.step_chase(
        actor=escalation.raised_by, escalation=escalation, now=MONDAY + timedelta(days=1)
    )

    chase = Notification.objects.get(kind=Kind.CHASE)
    assert (chase.partner, chase.recipient) == (partner, None)
    [message] = [m for m in sent_to(partner.email) if "reminder" in m.body.lower()]
    assert "/escalations/partner/" in message.body


def test_the_chair_sees_the_partner_on_the_to_do_page(raise_to_partner, client):
    escalation = raise_to_partner()
    client.force_login(escalation.raised_by.user)

    response = client.get(reverse("escalations:todo"))

    assert response.status_code == 200


def test_the_record_reads_the_partner_of_a_step(
    raise_to_partner, partner, django_assert_num_queries
):
    escalation = raise_to_partner()
    loaded = Escalation.objects.get(pk=escalation.pk)

    selectors.load_the_record([loaded])

    with django_assert_num_queries(0):
        [step] = loaded.steps.all()
        assert (step.partner.pk, step.addressee_name) == (
            partner.pk,
            "Pat Police (Gloucestershire Constabulary)",
        )


def test_the_chair_sees_the_partner_named_on_my_escalations(raise_to_partner, client):
    escalation = raise_to_partner()
    client.force_login(escalation.raised_by.user)

    response = client.get(reverse("escalations:mine"))

    assert response.status_code == 200
    assert "Pat Police (Gloucestershire Constabulary)" in response.content.decode()


def test_the_raise_form_addresses_the_step_to_a_partner_after_showing_them(
    ladders, staff_of, child_of, partner_stage, partner, client
):
    chair = staff_of(GLOUCESTERSHIRE, "cp-chair")
    child = child_of(GLOUCESTERSHIRE)
    client.force_login(chair.user)
    url = reverse("escalations:raise", args=[child.pk])
    form = client.get(url)
    assert "Or a partner-agency contact" in form.content.decode()
    data = {
        "policy": GLOUCESTERSHIRE,
        "children": [child.pk],
        "summary": "Police checks were not shared with the conference.",
        "categories": category_ticked(GLOUCESTERSHIRE),
        "stage": partner_stage.pk,
        "responder": "",
        "partner": partner.pk,
        "reason": "The police hold the information.",
        "nature": "concern",
    }

    preview = client.post(url, data)
    assert preview.status_code == 200, preview.content
    assert preview.context["preview"] is not None, preview.context["form"].errors
    assert preview.context["preview"].addressee == partner
    assert "Gloucestershire Constabulary (partner agency" in preview.content.decode()
    done = client.post(url, data | {"recipients_seen": preview.context["preview"].signature})

    assert done.status_code == 302
    step = chair.escalations_raised.get().steps.get()
    assert (step.partner, step.responder) == (partner, None)


def test_the_raise_form_offers_no_partner_where_no_stage_is_open_to_partners(
    ladders, staff_of, child_of, partner_stage, partner, client
):
    partner_stage.partner_responders = False
    partner_stage.save()
    chair = staff_of(GLOUCESTERSHIRE, "cp-chair")
    client.force_login(chair.user)

    form = client.get(reverse("escalations:raise", args=[child_of(GLOUCESTERSHIRE).pk]))

    assert "partner-agency contact" not in form.content.decode()


def test_a_stage_addressed_to_several_may_ask_partners_beside_staff(
    ladders, staff_of, child_of, partner_stage, partner
):
    partner_stage.addresses_several = True
    partner_stage.save()
    health = make_partner(
        ladders[GLOUCESTERSHIRE].authority, name="Hana Health", email="hana@nhs.example"
    )
    manager = staff_of(GLOUCESTERSHIRE, partner_stage.role.slug)

    escalation = services.escalation_raise(
        actor=staff_of(GLOUCESTERSHIRE, "cp-chair"),
        policy=ladders[GLOUCESTERSHIRE],
        categories=first_category(ladders[GLOUCESTERSHIRE]),
        children=[child_of(GLOUCESTERSHIRE)],
        summary="Agencies did not attend the core group.",
        stage=partner_stage,
        responder=manager,
        addressees=[manager, partner, health],
        reason="Every agency must answer.",
        now=MONDAY,
    )

    step = escalation.steps.get()
    asked = [(a.staff, a.partner) for a in step.addressees.all()]
    assert asked == [(manager, None), (None, partner), (None, health)]
    assert set(PartnerAccess.objects.values_list("partner", flat=True)) == {partner.pk, health.pk}
    assert len(sent_to(health.email)) == 1


def test_a_partner_replies_to_their_own_part_of_a_stage_addressed_to_several(
    ladders, staff_of, child_of, partner_stage, partner, client
):
    partner_stage.addresses_several = True
    partner_stage.save()
    manager = staff_of(GLOUCESTERSHIRE, partner_stage.role.slug)
    escalation = services.escalation_raise(
        actor=staff_of(GLOUCESTERSHIRE, "cp-chair"),
        policy=ladders[GLOUCESTERSHIRE],
        categories=first_category(ladders[GLOUCESTERSHIRE]),
        children=[child_of(GLOUCESTERSHIRE)],
        summary="Agencies did not attend the core group.",
        stage=partner_stage,
        responder=manager,
        addressees=[manager, partner],
        reason="Every agency must answer.",
        now=MONDAY,
    )
    signed_in(client, link_in(sent_to(partner.email)[0]))

    client.post(reverse("escalations:partner_reply"), {"response": "Police will attend."})

    mine = escalation.steps.get().addressees.get(partner=partner)
    theirs = escalation.steps.get().addressees.get(staff=manager)
    assert mine.response == "Police will attend."
    assert theirs.responded_at is None
