"""End to end in a real browser: chairs, managers and their e-mailed links, one flow a test.

Run alone with `pytest tests/browser`; see conftest.py for how Chromium is found.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone

from escalations import services
from escalations.models import Escalation, State, Step, Verdict
from notifications.relay import relay_once
from tests.children.factories import ConferenceFactory, PlanFactory
from tests.fixtures import first_category

RUTLAND_INFORMAL = "Threshold discussion with the Service Manager / Head of Service"
GLOS_SKIPPED = (
    "Informal dispute resolution, "
    "Stage 1: Team Manager (Dispute Resolution Form), "
    "Stage 2: Resolution Meeting with Team Manager & Social Worker"
)


def _stage(page, name: str):
    """The radio button for a stage (its label adds the timescale, so not an exact match)."""
    return page.get_by_role("radio", name=name)


def _banner(page) -> str:
    return "\n".join(page.locator(".govuk-notification-banner").all_inner_texts())


def _send_after_checking(page, button: str, shot=None) -> str:
    """The first press shows who will be told, by name; the second sends it."""
    page.get_by_role("button", name=button).click()
    told = page.locator("#recipients").inner_text()
    assert "Check who will be told" in told
    if shot:
        shot(page)
    page.get_by_role("button", name=button).click()
    return told


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_rutland_chair_raises_escalates_skips_and_resolves(
    site, ladders, staff_of, child_of, new_context, sign_in, step_link_for, screenshot
):
    chair = staff_of("rutland", "cp-chair", user__first_name="Chris", user__last_name="Chair")
    service_manager = staff_of(
        "rutland", "service-manager", user__first_name="Sally", user__last_name="Service"
    )
    team_manager = staff_of(
        "rutland", "team-manager", user__first_name="Tom", user__last_name="Team"
    )
    director = staff_of(
        "rutland", "director-for-people", user__first_name="Dana", user__last_name="Director"
    )
    child = child_of("rutland", first_name="Poppy", last_name="Example", reference="RUT-0001")

    # The chair raises the concern from the child's file, at the informal stage.
    chair_page = sign_in(new_context(), chair)
    assert chair_page.url == f"{site}/escalations/todo/"
    chair_page.goto(f"{site}/children/{child.pk}/")
    chair_page.get_by_role("link", name="Raise an escalation").click()
    chair_page.wait_for_url(f"{site}/escalations/raise/{child.pk}/")
    assert _stage(chair_page, RUTLAND_INFORMAL).is_checked()
    assert chair_page.get_by_label("Poppy Example").is_checked()
    chair_page.get_by_label("Core Group Meetings not having taken place", exact=False).check()
    chair_page.fill("#id_summary", "Core group meetings have not happened for eight weeks.")
    chair_page.fill("#id_desired_outcome", "A core group meeting within five working days.")
    chair_page.select_option("#id_responder", value=str(service_manager.pk))
    screenshot(chair_page, "raise")
    told = _send_after_checking(
        chair_page, "Raise escalation", shot=lambda p: screenshot(p, "raise_who_is_told")
    )
    assert "Sally Service" in told

    escalation = Escalation.objects.get()
    assert chair_page.url == f"{site}/escalations/{escalation.pk}/"
    assert f"{escalation.reference} raised." in _banner(chair_page)
    assert escalation.state == State.INFORMAL
    assert escalation.raised_by == chair

    # Not settled informally: on to Stage 1, the team manager.
    chair_page.get_by_role("link", name="Escalate", exact=True).click()
    _stage(chair_page, "Stage 1: Team Manager").check()
    chair_page.select_option("#id_responder", value=str(team_manager.pk))
    assert "Tom Team" in _send_after_checking(chair_page, "Escalate")
    assert "Escalated. The responder has been notified." in _banner(chair_page)
    assert "Stage 1: Team Manager" in chair_page.locator("#main-content").inner_text()
    screenshot(chair_page, "escalation")
    chair_page.get_by_role("link", name="My escalations").click()
    assert escalation.reference in chair_page.locator("table").inner_text()
    screenshot(chair_page, "my_escalations")

    # The team manager follows the e-mailed link, signs in, and lands on a token-free URL.
    link = step_link_for(team_manager)
    assert link.startswith(f"{site}/escalations/link/")
    stage1 = Step.objects.get(escalation=escalation, stage_name="Stage 1: Team Manager")
    manager_page = new_context().new_page()
    manager_page.goto(link)
    assert "/accounts/login/" in manager_page.url
    sign_in(manager_page, team_manager)
    assert manager_page.url == f"{site}/escalations/steps/{stage1.pk}/"
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert token not in manager_page.url

    manager_page.get_by_role("link", name="Awaiting my response").click()
    assert escalation.reference in manager_page.locator("table").inner_text()
    screenshot(manager_page, "awaiting")
    manager_page.get_by_role("link", name=escalation.reference).click()
    manager_page.wait_for_url(f"{site}/escalations/steps/{stage1.pk}/")
    due = manager_page.locator(".govuk-inset-text").inner_text()
    # "Please respond by Thu 3 Dec 2026 (5 working days left)."
    respond_by = r"Please respond by \w{3} \d+ \w+ \d{4} \(5 working days left\)\."
    assert re.fullmatch(respond_by, due), due
    manager_page.fill("#id_response", "The core group meets on Friday; the minutes will follow.")
    screenshot(manager_page, "respond")
    manager_page.get_by_role("button", name="Send response").click()
    assert "Your response has been recorded. Thank you." in _banner(manager_page)
    assert "This page is read-only." in manager_page.locator("#main-content").inner_text()
    escalation.refresh_from_db()
    assert escalation.state == State.RESPONSE_RECEIVED

    # The chair reads the response, is not satisfied, and skips to Stage 4.
    chair_page.goto(f"{site}/escalations/{escalation.pk}/")
    assert "The core group meets on Friday" in chair_page.locator("#main-content").inner_text()
    chair_page.get_by_role("link", name="Escalate", exact=True).click()
    _stage(chair_page, "Stage 4: Director for People").check()
    chair_page.select_option("#id_responder", value=str(director.pk))
    chair_page.fill("#id_reason", "The plan has drifted for two months; this cannot wait.")
    chair_page.fill("#id_statement_issue", "No core group meetings since the conference.")
    chair_page.fill("#id_statement_actions", "Stage 1 alert; the promised meeting did not happen.")
    chair_page.fill("#id_statement_wanted", "A core group meeting and a revised plan.")
    screenshot(chair_page, "escalate")
    assert "Dana Director" in _send_after_checking(chair_page, "Escalate")
    assert "Escalated. The responder has been notified." in _banner(chair_page)
    # Poppy has no allocated social worker: the chair is told whom the policy wanted.
    assert "no social worker is allocated" in _banner(chair_page)
    main = chair_page.locator("#main-content").inner_text()
    assert "Stage 2: Service Manager, Stage 3: Head of Service" in main
    assert "Reason: The plan has drifted for two months" in main
    assert "No core group meetings since the conference." in main
    assert step_link_for(director).startswith(f"{site}/escalations/link/")

    # Satisfied at last: resolve with the outcome.
    chair_page.get_by_role("link", name="Resolve", exact=True).click()
    chair_page.fill(
        "#id_outcome", "The Director convened the core group; the plan is back on track."
    )
    chair_page.fill("#id_outcome_for_child", "Poppy is seen weekly again.")
    chair_page.get_by_role("button", name="Resolve escalation").click()
    assert "Resolved." in _banner(chair_page)
    assert (
        "The Director convened the core group" in chair_page.locator("#main-content").inner_text()
    )

    chair_page.get_by_role("link", name="Print the record").click()
    chair_page.wait_for_url(f"{site}/escalations/{escalation.pk}/record/")
    screenshot(chair_page, "record")
    chair_page.emulate_media(media="print")
    screenshot(chair_page, "record_print")
    chair_page.emulate_media(media="screen")
    chair_page.goto(f"{site}/children/{child.pk}/")
    assert escalation.reference in chair_page.locator("#main-content").inner_text()
    # Each escalation's steps sit under its own heading, not beside "Escalations".
    headings = chair_page.evaluate(
        """() => [...document.querySelectorAll("main :is(h1, h2, h3, h4, h5, h6)")]
          .map(h => h.tagName + " " + h.textContent.trim().split("\\n")[0])"""
    )
    after = headings[headings.index("H2 Escalations") + 1 :]
    assert after[:2] == [f"H3 {escalation.reference} — Resolved", "H4 Steps"], headings
    assert [h.split(" ")[0] for h in after[2:]] == ["H5"] * 3, headings
    screenshot(chair_page, "child_file")

    escalation.refresh_from_db()
    assert escalation.state == State.RESOLVED
    assert escalation.closed_at is not None
    assert escalation.outcome.startswith("The Director convened the core group")
    assert escalation.current_stage.name == "Stage 4: Director for People"
    steps = list(escalation.steps.order_by("sequence"))
    assert [s.stage_name for s in steps] == [
        RUTLAND_INFORMAL,
        "Stage 1: Team Manager",
        "Stage 4: Director for People",
    ]
    assert [s.responder for s in steps] == [service_manager, team_manager, director]
    assert [s.verdict for s in steps] == [
        Verdict.NO_RESPONSE,
        Verdict.UNSATISFACTORY,
        # The chair resolved before the Director responded.
        Verdict.RESOLVED_BEFORE_RESPONSE,
    ]
    assert steps[1].response.startswith("The core group meets on Friday")
    assert steps[2].skipped_stage_names == "Stage 2: Service Manager, Stage 3: Head of Service"
    assert steps[2].skip_reason.startswith("The plan has drifted")
    assert steps[2].statement_wanted == "A core group meeting and a revised plan."
    assert all(s.closed_at is not None for s in steps)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_gloucestershire_chair_bypasses_to_head_of_service_on_raising(
    site, ladders, staff_of, child_of, new_context, sign_in, step_link_for, screenshot
):
    chair = staff_of("gloucestershire", "cp-chair")
    head = staff_of(
        "gloucestershire", "head-of-service", user__first_name="Hana", user__last_name="Head"
    )
    child = child_of("gloucestershire", first_name="Leo", last_name="Sample")

    page = sign_in(new_context(), chair)
    page.goto(f"{site}/children/{child.pk}/")
    page.get_by_role("link", name="Raise an escalation").click()
    page.fill("#id_summary", "Immediate risk: the child was left alone overnight again.")
    page.locator("#id_categories").check()  # the policy's first kind of concern
    _stage(page, "Stage 3: Head of Service").check()
    page.fill("#id_reason", "Immediate risk of significant harm: it cannot wait for a meeting.")
    page.select_option("#id_responder", value=str(head.pk))
    assert "Hana Head" in _send_after_checking(page, "Raise escalation")

    escalation = Escalation.objects.get()
    assert page.url == f"{site}/escalations/{escalation.pk}/"
    main = page.locator("#main-content").inner_text()
    assert GLOS_SKIPPED in main
    assert "Formal cap" in main  # the 20 working-day cap shows beside the stage deadline
    screenshot(page, "escalation_with_cap")

    assert escalation.state == State.AWAITING_RESPONSE
    assert escalation.formal_cap_due_on is not None
    step = escalation.steps.get()
    assert step.stage_order == 3
    assert step.stage_name == "Stage 3: Head of Service"
    assert step.responder == head
    assert step.skipped_stage_names == GLOS_SKIPPED
    assert step.skip_reason.startswith("Immediate risk of significant harm")
    assert step_link_for(head).startswith(f"{site}/escalations/link/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_of_another_authority_is_refused_a_step_link(
    site, ladders, staff_of, child_of, new_context, sign_in, step_link_for
):
    chair = staff_of("rutland", "cp-chair")
    manager = staff_of("rutland", "service-manager")
    child = child_of("rutland", first_name="Marigold", last_name="Whitlock", reference="RUT-7731")
    summary = "Statutory visits overdue by three weeks."
    escalation = services.escalation_raise(
        actor=chair,
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=[child],
        summary=summary,
        responder=manager,
    )
    link = step_link_for(manager)
    outsider = staff_of("gloucestershire", "team-manager")

    page = sign_in(new_context(), outsider)
    response = page.goto(link)
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "This link is not for you"
    html = page.content()
    for secret in ("Marigold", "Whitlock", "RUT-7731", summary, escalation.reference):
        assert secret not in html

    # Nor does guessing the step's own address help.
    step = escalation.steps.get()
    response = page.goto(f"{site}/escalations/steps/{step.pk}/")
    assert response.status == 404
    html = page.content()
    for secret in ("Marigold", "Whitlock", "RUT-7731", summary, escalation.reference):
        assert secret not in html


# Counts pointer presses in this tab (keyboard activation fires no pointerdown).
COUNT_POINTER = """
document.addEventListener("pointerdown", () => {
  const n = Number(sessionStorage.getItem("pointerdowns") || 0);
  sessionStorage.setItem("pointerdowns", String(n + 1));
}, true);
"""


def _tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_chair_raises_an_escalation_with_the_keyboard_only(
    site, ladders, staff_of, child_of, new_context, sign_in
):
    chair = staff_of("rutland", "cp-chair")
    manager = staff_of(
        "rutland", "service-manager", user__first_name="Priya", user__last_name="Patel"
    )
    staff_of("rutland", "head-of-service", user__first_name="Harry", user__last_name="Hughes")
    child = child_of("rutland", first_name="Ivy", last_name="Keys")

    context = new_context()
    context.add_init_script(COUNT_POINTER)
    page = sign_in(context, chair)
    page.goto(f"{site}/escalations/raise/{child.pk}/")
    page.evaluate("() => sessionStorage.setItem('pointerdowns', '0')")

    # From here on: keys only.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    _tab_to(page, "#id_categories")
    page.keyboard.press("Space")
    _tab_to(page, "#id_summary")
    page.keyboard.type("Social worker visits have not taken place for six weeks.")
    _tab_to(page, "#id_responder")
    page.keyboard.type("Priya")
    assert page.evaluate("() => document.activeElement.value") == str(manager.pk)
    _tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")
    # Who will be told comes first (an alert, so it is read out); then the same button.
    page.locator("#recipients").wait_for()
    _tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")
    # The skip link left #main-content in the address; the redirect keeps that fragment.
    page.wait_for_url(re.compile(r"/escalations/\d+/(#main-content)?$"))

    escalation = Escalation.objects.get()
    assert page.url.split("#")[0] == f"{site}/escalations/{escalation.pk}/"
    assert f"{escalation.reference} raised." in _banner(page)
    assert escalation.summary == "Social worker visits have not taken place for six weeks."
    assert escalation.children.get() == child
    assert escalation.categories.count() == 1
    assert escalation.steps.get().responder == manager
    assert escalation.state == State.INFORMAL
    assert page.evaluate("() => sessionStorage.getItem('pointerdowns')") == "0"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_main_pages_have_no_serious_accessibility_issues(
    site,
    ladders,
    staff_of,
    child_of,
    new_context,
    sign_in,
    check_accessibility,
    screenshot,
    capsys,
):
    chair = staff_of("rutland", "cp-chair")
    service_manager = staff_of("rutland", "service-manager")
    team_manager = staff_of("rutland", "team-manager")
    staff_of("rutland", "director-for-people")
    child = child_of("rutland", first_name="Ada", last_name="Checked")
    PlanFactory(child=child)
    ConferenceFactory(child=child, chair=chair)
    escalation = services.escalation_raise(
        actor=chair,
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=[child],
        summary="Core group meetings not held.",
        responder=service_manager,
    )
    services.escalation_escalate(
        actor=chair,
        escalation=escalation,
        stage=ladders["rutland"].stages.get(name="Stage 1: Team Manager"),
        responder=team_manager,
    )
    step = escalation.steps.get(closed_at__isnull=True)
    relay_once(now=timezone.now())
    assert mail.outbox, "raising and escalating send e-mails"

    # The site's content security policy forbids inline scripts, axe's injection included:
    # these contexts bypass it (the flow tests run with it enforced).
    found: dict[str, list[dict]] = {}
    page = new_context(bypass_csp=True).new_page()
    page.goto(f"{site}/accounts/login/")
    found["login"] = check_accessibility(page, "login")
    sign_in(page, chair)

    chair_pages = {
        "my escalations": "/escalations/",
        "awaiting my response (empty)": "/escalations/awaiting/",
        "children list": "/children/",
        "child file": f"/children/{child.pk}/",
        "raise form": f"/escalations/raise/{child.pk}/",
        "escalation page": f"/escalations/{escalation.pk}/",
        "escalate form": f"/escalations/{escalation.pk}/escalate/",
        "resolve form": f"/escalations/{escalation.pk}/resolve/",
        "printable record": f"/escalations/{escalation.pk}/record/",
    }
    for name, path in chair_pages.items():
        response = page.goto(site + path)
        assert response.status == 200, name
        found[name] = check_accessibility(page, name)

    # Errors: no child ticked, no issue, no responder.
    page.goto(f"{site}/escalations/raise/{child.pk}/")
    page.get_by_label("Ada Checked").uncheck()
    # The form posts back to its own address: wait for the answer, not for the URL.
    with page.expect_navigation():
        page.get_by_role("button", name="Raise escalation").click()
    assert page.title().startswith("Error: ")
    summary = page.locator(".govuk-error-summary")
    assert summary.inner_text().splitlines()[1:] == [
        "Choose at least one child.",
        "Choose at least one concern category.",
        "Describe the issue.",
        "Choose who should respond.",
    ]
    found["raise form with errors"] = check_accessibility(page, "raise form with errors")
    screenshot(page, "raise_errors")
    # Each error is read out with its field, and its summary link moves focus to the field.
    described = page.evaluate(
        """() => [...document.querySelectorAll('[aria-invalid="true"], fieldset[aria-describedby]')]
          .map(el => (el.getAttribute("aria-describedby") || "").split(" ")
            .map(id => document.getElementById(id)?.textContent.trim() || `missing #${id}`)
            .join(" | "))"""
    )
    assert any("Error: Choose at least one child." in d for d in described), described
    assert any("Error: Describe the issue." in d for d in described), described
    assert any("Error: Choose who should respond." in d for d in described), described
    assert not [d for d in described if "missing #" in d], described
    for text, field in [
        ("Choose at least one child.", "Ada Checked"),
        ("Describe the issue.", "The issue"),
        ("Choose who should respond.", "Who should respond"),
    ]:
        summary.get_by_role("link", name=text).click()
        focused = page.evaluate("() => document.activeElement.labels[0].textContent.trim()")
        assert focused.startswith(field), (text, focused)

    # A valid raise first shows who will be told: that page is checked too.
    page.get_by_label("Ada Checked").check()
    page.locator("#id_categories").check()
    page.fill("#id_summary", "Visits have not happened.")
    page.select_option("#id_responder", value=str(service_manager.pk))
    page.get_by_role("button", name="Raise escalation").click()
    page.locator("#recipients").wait_for()
    found["who will be told"] = check_accessibility(page, "who will be told")

    manager_page = sign_in(new_context(bypass_csp=True), team_manager)
    for name, path in {
        "awaiting my response": "/escalations/awaiting/",
        "response form": f"/escalations/steps/{step.pk}/",
    }.items():
        response = manager_page.goto(site + path)
        assert response.status == 200, name
        found[name] = check_accessibility(manager_page, name)

    with capsys.disabled():
        lesser = {n: sorted({f"{v['id']} ({v['impact']})" for v in vs}) for n, vs in found.items()}
        lesser = {n: vs for n, vs in lesser.items() if vs}
        if lesser:
            print(f"\naxe: moderate/minor findings: {lesser}")
    assert lesser == {}, "moderate and minor findings are fixed too"
