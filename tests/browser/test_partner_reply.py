"""A partner agency's whole journey, in a real browser: the chair addresses a stage to a
police contact from the partner directory; the contact, with no council account, opens
the e-mailed link, asks for a one-time code, enters it, sees their step alone, replies
with an attachment; the chair sees the reply; the partner's session opens nothing else."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone

from children.models import AccessLog
from escalations.models import Escalation, State
from notifications.relay import relay_once
from policies.models import Stage
from staff.models import Partner

PARTNER_LINK = re.compile(r"https?://\S+/escalations/partner/[\w-]+/")
CODE = re.compile(r"code for escalation \S+ is:\s+(\d{6})\b")


def _emails_to(address: str) -> list:
    relay_once(now=timezone.now())  # what the scheduler's relay would have sent by now
    return [m for m in mail.outbox if m.to == [address]]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_partner_replies_by_link_and_code_and_sees_nothing_else(
    site, ladders, staff_of, child_of, new_context, sign_in, check_accessibility, screenshot
):
    policy = ladders["gloucestershire"]
    stage = Stage.objects.get(policy=policy, order=1)
    stage.partner_responders = True
    stage.save()
    partner = Partner.objects.create(
        authority=policy.authority,
        name="Priya Constable",
        job_title="Detective Inspector",
        organisation="Gloucestershire Constabulary",
        email="priya.constable@police.example",
    )
    chair = staff_of("gloucestershire", "cp-chair")
    child = child_of("gloucestershire", first_name="Poppy", last_name="Example")

    # The chair addresses Stage 1 to the police contact, and sees them named first.
    chair_page = sign_in(new_context(), chair)
    chair_page.goto(f"{site}/escalations/raise/{child.pk}/")
    chair_page.get_by_role("radio", name=re.compile(r"^Stage 1")).check()
    chair_page.get_by_role("radio", name="A concern").check()
    chair_page.fill("#id_summary", "Police checks were not shared with the conference.")
    chair_page.locator("#id_categories").check()  # the policy's first kind of concern
    chair_page.fill("#id_reason", "The police hold the information.")
    chair_page.select_option("#id_partner", value=str(partner.pk))
    chair_page.get_by_role("button", name="Raise escalation").click()
    told = chair_page.locator("#recipients").inner_text()
    assert "Priya Constable" in told and "Gloucestershire Constabulary" in told
    chair_page.get_by_role("button", name="Raise escalation").click()
    escalation = Escalation.objects.get(raised_by=chair)
    assert escalation.steps.get().partner == partner

    # The partner opens the link: a code is sent only when they ask for it.
    [raised] = _emails_to(partner.email)
    link = PARTNER_LINK.search(raised.body).group(0)
    context = new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(link)
    assert page.get_by_role("heading", name="Open the request sent to you").is_visible()
    assert "core group" not in page.content().lower()
    check_accessibility(page, "partner link page")
    page.get_by_role("button", name="Send me a code").click()

    # A wrong code is refused in words; the right one opens their step.
    page.fill("#code", "000000")
    page.get_by_role("button", name="Continue").click()
    assert "That code is not right" in page.locator(".govuk-error-summary").inner_text()
    check_accessibility(page, "partner code page with an error")
    code = CODE.search(_emails_to(partner.email)[-1].body).group(1)
    page.fill("#code", code)
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", name=re.compile("Stage 1")).is_visible()
    assert "Police checks were not shared with the conference." in page.content()
    check_accessibility(page, "partner reply page")
    screenshot(page, "partner-reply")

    page.fill("#id_response", "The checks were completed; the report is attached.")
    page.set_input_files(
        "#id_attachments",
        files=[{"name": "checks.txt", "mimeType": "text/plain", "buffer": b"PNC checks: none."}],
    )
    page.get_by_role("button", name="Send reply").click()
    assert page.get_by_text("Your reply has been recorded").is_visible()

    escalation.refresh_from_db()
    assert escalation.state == State.RESPONSE_RECEIVED
    assert AccessLog.objects.filter(partner=partner, escalation=escalation).exists()

    # Nothing else opens with the partner's session: staff pages want a council sign-in.
    for path in (f"/escalations/{escalation.pk}/", f"/children/{child.pk}/", "/escalations/"):
        page.goto(f"{site}{path}")
        assert "/accounts/login/" in page.url, path

    # The chair sees the reply on the escalation page.
    chair_page.goto(f"{site}/escalations/{escalation.pk}/")
    text = chair_page.content()
    assert "The checks were completed; the report is attached." in text
    assert "checks.txt" in text
