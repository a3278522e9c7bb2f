"""Issue 11, "Done when": both procedures at the top of the issue are entered from an empty
authority in Django admin alone, then raised in the browser with the right deadlines.

One test, in Chromium against the live server, with the clock fixed (time-machine, which
the live server's thread sees too) at Thu 24 Dec 2026, 09:00 London time:

1. a platform administrator (a superuser: only they add authorities and the roles every
   authority shares) creates "Example Borough" (England), its Christmas shutdown (closure
   days Tue 29 to Thu 31 Dec 2026, entered as one run), the roles the platform lacks (it
   already runs the shipped ladders), a team, five staff with accounts and two
   partner-agency Directors;
2. builds the "Alerts Protocol" and the multi-agency practice-resolution procedure on the
   policy page (one row per stage) and each stage's "All settings" page; the ladders they
   make export exactly as the shipped examples in policies/ladders/examples/ do;
3. previews both ladders' deadlines in admin on fixed dates;
4. the chair signs in and raises a concern under each procedure; the escalation pages show
   each Stage 1 addressee's own deadline, and the issue-by and reply-by dates.

Every date is worked out by hand below, never by the product's arithmetic. England's bank
holidays in the span: Christmas Day Fri 25 Dec 2026, Boxing Day Sat 26 Dec with its
substitute day Mon 28 Dec, New Year's Day Fri 1 Jan 2027 (the calendar is checked by
tests/escalations/test_example_ladders.py). With the shutdown, no working day falls
between Thu 24 Dec 2026 and Mon 4 Jan 2027:

    December 2026              January 2027
    Mo Tu We Th Fr Sa Su       Mo Tu We Th Fr Sa Su
        1  2  3  4  5  6                    1* 2  3
     7  8  9 10 11 12 13        4  5  6  7  8  9 10
    14 15 16 17 18 19 20       11 12 13 14 15 16 17
    21 22 23 24 25*26*27       18 19 20 21 22 23 24
    28*29c30c31c               25 26 27 28 29 30 31

    * bank holiday, c closure day. The day received does not count; a deadline is the end
      of the Nth working day after it.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.urls import reverse

from children.models import Child
from escalations.models import Addressee, Escalation, Step
from policies.ladder_files import LADDER_DIR, check_ladder, export_policy, read_ladder
from policies.models import ClosureDay, LocalAuthority, Policy
from staff.models import Partner, StaffMember
from tests.children.factories import ConferenceFactory, PlanFactory
from tests.staff.factories import PASSWORD, UserFactory

LONDON = ZoneInfo("Europe/London")
# "Now" for the whole test: Christmas Eve 2026, a working day, 09:00 London time.
NOW = datetime(2026, 12, 24, 9, 0, tzinfo=LONDON)
EXAMPLES = LADDER_DIR / "examples"

ALERTS_NAME = "Alerts Protocol (Example Borough)"
PRACTICE_NAME = "Multi-agency practice resolution (Example Borough)"

# The roles the platform does not have yet (the shipped ladders bring Child Protection
# Conference Chair, Social Worker, Team Manager, Line Manager, Service Manager, Head of
# Service and Director of Children's Services): slug, name, chairs?, quality assurance?
NEW_ROLES = [
    ("assistant-team-manager", "Assistant Team Manager", False, False),
    ("qa-service-manager", "Quality Assurance Service Manager", False, True),
    ("head-of-qa", "Head of Quality Assurance", False, True),
    ("executive-head-childrens-services", "Executive Head of Children's Services", False, False),
    ("strategic-director", "Strategic Director", False, False),
]

# Stage rows as typed on the policy page: order, name, role, reply within (blank: none).
ALERTS_STAGES = [
    (
        1,
        "Stage 1: Alert to the social worker, assistant team manager and team manager",
        "Social Worker",
        "5",
    ),
    (2, "Stage 2: Head of Service", "Head of Service", "5"),
    (
        3,
        "Stage 3: Executive Head of Children's Services",
        "Executive Head of Children's Services",
        "5",
    ),
    (4, "Stage 4: Report to the Strategic Director", "Strategic Director", ""),
]
PRACTICE_STAGES = [
    (1, "Stage 1: Line manager", "Line Manager", "10"),
    (
        2,
        "Stage 2: Senior manager, after consulting the Safeguarding Unit Manager",
        "Service Manager",
        "10",
    ),
    (
        3,
        "Stage 3: Directors of each organisation involved",
        "Director of Children's Services",
        "",
    ),
]


# --- admin helpers --------------------------------------------------------------------------


def _admin(page, site: str, name: str, action: str = "add", *args: Any) -> None:
    page.goto(f"{site}{reverse(f'admin:{name}_{action}', args=args)}")


def _save(page, button: str = "Save") -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    errors = page.locator(".errornote, .errorlist").all_inner_texts()
    assert not errors, f"admin refused the form at {page.url}: {errors}"


def _choose(page, selector: str, text: str) -> None:
    """Pick the option of a <select> labelled `text`, else the one option whose label
    contains it (a superuser's pickers add the authority to each choice: "Children in Need
    Team East (Example Borough)")."""
    labels = {
        o.get_attribute("value"): o.inner_text().strip()
        for o in page.locator(f"{selector} option").all()
    }
    values = [v for v, label in labels.items() if label == text] or [
        v for v, label in labels.items() if text in label
    ]
    assert len(values) == 1, f"{len(values)} options of {selector} match {text!r}: {labels}"
    page.select_option(selector, value=values[0])


def _autocomplete(page, field: str, text: str) -> None:
    """A Django admin autocomplete (select2): open it, type, take the one match."""
    page.locator(f"#id_{field} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).click()


def _pick_roles(page, field: str, *names: str) -> None:
    """A two-pane role picker (filter_horizontal): choose each role, move it across."""
    page.select_option(f"#id_{field}_from", label=list(names))
    page.locator(f"#id_{field}_add").click()
    chosen = page.locator(f"#id_{field}_to option").all_inner_texts()
    assert sorted(chosen) == sorted(names)


def _add_person(
    page,
    site: str,
    *,
    username: str,
    name: str,
    role: str,
    team: str = "",
    line_manager: str = "",
) -> None:
    """An account (the user pages), then its staff record in Example Borough."""
    first, last = name.split()
    _admin(page, site, "auth_user")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    _save(page)
    page.fill("#id_first_name", first)
    page.fill("#id_last_name", last)
    page.fill("#id_email", f"{username}@example-borough.invalid")
    _save(page)

    _admin(page, site, "staff_staffmember")
    _autocomplete(page, "user", username)
    _choose(page, "#id_authority", "Example Borough")
    _choose(page, "#id_role", role)
    if team:
        _choose(page, "#id_team", team)
    if line_manager:
        _autocomplete(page, "line_manager", line_manager)
    page.fill("#id_job_title", role)
    _save(page)


def _add_partner(page, site: str, *, name: str, job_title: str, organisation: str) -> None:
    _admin(page, site, "staff_partner")
    _choose(page, "#id_authority", "Example Borough")
    page.fill("#id_name", name)
    page.fill("#id_job_title", job_title)
    page.fill("#id_organisation", organisation)
    page.fill("#id_email", f"{name.lower().replace(' ', '.')}@example.invalid")
    _save(page)


def _add_policy(
    page,
    site: str,
    *,
    name: str,
    slug: str,
    source: str,
    stages: list[tuple[int, str, str, str]],
) -> Policy:
    """The policy page: its own settings and one row per stage, in one save."""
    _admin(page, site, "policies_policy")
    _choose(page, "#id_authority", "Example Borough")
    page.fill("#id_name", name)
    page.fill("#id_slug", slug)
    page.fill("#id_source", source)
    page.select_option("#id_raisers", label="Child Protection Conference Chair")
    page.select_option("#id_bypass_rule", value="none")
    page.uncheck("#id_bypass_reason_required")  # nothing may be skipped: no reason to ask
    for index, (order, stage_name, role, days) in enumerate(stages):
        page.locator("#stages-group .add-row a").click()
        row = f"#id_stages-{index}"
        page.fill(f"{row}-order", str(order))
        page.fill(f"{row}-name", stage_name)
        page.select_option(f"{row}-role", label=role)
        page.fill(f"{row}-response_days", days)
        page.select_option(f"{row}-day_type", value="working")
        page.select_option(f"{row}-mode", value="written_response")
    _save(page, "Save and continue editing")
    return Policy.objects.get(slug=slug)


def _open_stage(page, stage_name: str) -> None:
    """From the policy page, the stage's own page (the row's "All settings" link)."""
    page.get_by_role("link", name=f"All settings of {stage_name}").click()
    page.wait_for_load_state()
    assert "/admin/policies/stage/" in page.url


def _copy_earlier_recipients(page) -> None:
    page.locator("summary", has_text="Who is copied").click()
    page.check("#id_copy_earlier_recipients")


def _preview(page, on: str) -> list[list[str]]:
    """The policy page's deadline preview for `on` (YYYY-MM-DD): its table, row by row."""
    page.fill("#id_preview-on", on)
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    rows = page.locator("#deadline-preview tbody tr").all()
    return [[cell.strip() for cell in row.locator("th, td").all_inner_texts()] for row in rows]


def _exported(policy: Policy) -> dict:
    """The policy as `export_policy` writes it, without what only the files say (their
    stages' guidance, the authority's full name)."""
    ladder = check_ladder(yaml.safe_load(export_policy(policy)), "export")
    return _comparable(ladder)


def _comparable(ladder: dict) -> dict:
    ladder = copy.deepcopy(ladder)
    ladder["authority"].pop("name")
    for stage in ladder["stages"]:
        stage.pop("guidance")
        for key in ("also_roles", "raiser_roles"):
            stage[key] = sorted(stage[key])
    return ladder


def _example(slug: str, exported: dict) -> dict:
    expected = _comparable(read_ladder(EXAMPLES / f"{slug}.yaml"))
    # The export lists only the roles the policy uses.
    expected["roles"] = {k: v for k, v in expected["roles"].items() if k in exported["roles"]}
    return expected


# --- the chair's side ----------------------------------------------------------------------


def _raise(page, site: str, child: Child, procedure: str) -> None:
    page.goto(f"{site}/children/{child.pk}/")
    page.get_by_role("link", name="Raise an escalation").click()
    # Two procedures of Example Borough: the chair picks one.
    page.get_by_role("link", name=procedure).click()
    page.wait_for_load_state()
    assert procedure in page.locator(".govuk-caption-l").inner_text()


def _send(page) -> str:
    """The first press shows who will be told, by name; the second sends it."""
    page.get_by_role("button", name="Raise escalation").click()
    told = page.locator("#recipients").inner_text()
    assert "Check who will be told" in told
    page.get_by_role("button", name="Raise escalation").click()
    page.wait_for_load_state()
    return told


def _step_section(page, stage_name: str) -> str:
    return page.locator("section.app-step", has_text=stage_name).inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_both_issue_11_procedures_are_built_in_admin_and_raised_with_the_right_deadlines(
    site, ladders, new_context, sign_in, screenshot, time_machine
):
    time_machine.move_to(NOW, tick=True)
    assert not LocalAuthority.objects.filter(name="Example Borough").exists()
    admin_user = UserFactory(is_staff=True, is_superuser=True, username="platform-admin")
    page = new_context().new_page()
    page.goto(f"{site}{reverse('admin:login')}")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site}{reverse('admin:index')}")

    # --- 1. the authority, its closure days, roles, people and partners ---------------------
    _admin(page, site, "policies_localauthority")
    page.fill("#id_name", "Example Borough")
    page.fill("#id_slug", "example-borough")
    page.select_option("#id_nation", label="England")
    _save(page)
    authority = LocalAuthority.objects.get(slug="example-borough")
    assert (authority.nation, authority.closure_dates()) == ("ENG", frozenset())

    # The Christmas shutdown, as a run of days on the closure days' own page.
    _admin(page, site, "policies_closureday")
    _choose(page, "#id_authority", "Example Borough")
    page.fill("#id_date", "2026-12-29")
    page.fill("#id_description", "Christmas shutdown")
    page.fill("#id_last_day", "2026-12-31")
    _save(page)
    assert (
        "Also added 2 more closure days, to Thu 31 Dec 2026."
        in page.locator(".messagelist").inner_text()
    )
    assert set(ClosureDay.objects.filter(authority=authority).values_list("date", flat=True)) == {
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
    }

    for slug, name, is_chair, is_qa in NEW_ROLES:
        _admin(page, site, "policies_role")
        page.fill("#id_slug", slug)
        page.fill("#id_name", name)
        page.set_checked("#id_is_chair", is_chair)
        page.set_checked("#id_is_quality_assurance", is_qa)
        _save(page)

    _admin(page, site, "staff_team")
    _choose(page, "#id_authority", "Example Borough")
    page.fill("#id_name", "Children in Need Team East")
    _save(page)

    # Top down, so each line manager exists before their report.
    team = "Children in Need Team East"
    _add_person(page, site, username="tess.team", name="Tess Team", role="Team Manager", team=team)
    _add_person(
        page,
        site,
        username="ash.assistant",
        name="Ash Assistant",
        role="Assistant Team Manager",
        team=team,
        line_manager="Tess Team",
    )
    _add_person(
        page,
        site,
        username="wren.worker",
        name="Wren Worker",
        role="Social Worker",
        team=team,
        line_manager="Ash Assistant",
    )
    _add_person(page, site, username="lin.line", name="Lin Line", role="Line Manager")
    _add_person(
        page,
        site,
        username="chris.chair",
        name="Chris Chair",
        role="Child Protection Conference Chair",
    )
    _add_partner(
        page,
        site,
        name="Pat Police",
        job_title="Director of Public Protection",
        organisation="Example Borough Police",
    )
    _add_partner(
        page,
        site,
        name="Hal Health",
        job_title="Director of Nursing",
        organisation="Example Borough Integrated Care Board",
    )
    people = {
        s.user.username: s
        for s in StaffMember.objects.filter(authority=authority).select_related(
            "user", "role", "line_manager__user"
        )
    }
    assert {
        u: (s.role.slug, s.line_manager and s.line_manager.user.username) for u, s in people.items()
    } == {
        "tess.team": ("team-manager", None),
        "ash.assistant": ("assistant-team-manager", "tess.team"),
        "wren.worker": ("social-worker", "ash.assistant"),
        "lin.line": ("line-manager", None),
        "chris.chair": ("cp-chair", None),
    }
    assert Partner.objects.filter(authority=authority).count() == 2

    # --- 2a. the Alerts Protocol ----------------------------------------------------------------
    alerts = _add_policy(
        page,
        site,
        name=ALERTS_NAME,
        slug="example-borough-alerts",
        source='Example ladder: the "Alerts Protocol" as described in issue 11',
        stages=ALERTS_STAGES,
    )
    # Stage 1: "the chair alerts the social worker, the assistant team manager and the team
    # manager, each to reply within 5 working days".
    _open_stage(page, ALERTS_STAGES[0][1])
    _pick_roles(page, "also_roles", "Assistant Team Manager", "Team Manager")
    page.check("#id_addresses_several")
    page.select_option("#id_completion", value="all")
    _save(page)
    # Stage 2 "the QA Service Manager escalates"; Stages 3 and 4 "the Head of QA"; each
    # "copies everyone told before".
    for (_, stage_name, _, _), raiser in zip(
        ALERTS_STAGES[1:],
        [
            "Quality Assurance Service Manager",
            "Head of Quality Assurance",
            "Head of Quality Assurance",
        ],
        strict=True,
    ):
        _open_stage(page, stage_name)
        _pick_roles(page, "raiser_roles", raiser)
        _copy_earlier_recipients(page)
        _save(page)
    summaries = page.locator("#stages-group td.field-other_settings").all_inner_texts()
    assert "several people at once (all reply)" in summaries[0]
    assert "raised by Quality Assurance Service Manager; copies earlier recipients" in summaries[1]
    screenshot(page, "admin_builds_alerts_protocol")

    # --- 2b. the multi-agency practice-resolution procedure ----------------------------------
    practice = _add_policy(
        page,
        site,
        name=PRACTICE_NAME,
        slug="example-borough-practice-resolution",
        source=(
            "Example ladder: the multi-agency practice-resolution procedure as described "
            "in issue 11"
        ),
        stages=PRACTICE_STAGES,
    )
    # "Stage 1 the chair sends the form within 3 WD"; "Stage 2 the form within 2 WD"; the
    # line manager of a practitioner in any agency answers, council or partner.
    for (_, stage_name, _, _), issue_within in zip(PRACTICE_STAGES[:2], ["3", "2"], strict=True):
        _open_stage(page, stage_name)
        page.fill("#id_issue_within_days", issue_within)
        page.check("#id_partner_responders")
        _save(page)
    # Stage 3: "the Directors of each organisation involved (police, health, children's
    # services), each replying".
    _open_stage(page, PRACTICE_STAGES[2][1])
    page.check("#id_addresses_several")
    page.select_option("#id_completion", value="all")
    page.check("#id_partner_responders")
    _save(page)
    screenshot(page, "admin_builds_practice_resolution")

    # What admin built is what the shipped example files say, setting for setting.
    for policy in (alerts, practice):
        exported = _exported(policy)
        assert exported == _example(policy.slug, exported)

    # --- 3. the deadline preview, on fixed dates -------------------------------------------------
    # Practice resolution, raised (or the conference held) on Tue 22 Dec 2026:
    # replies within 10 WD: 1 Wed 23, 2 Thu 24 Dec, (Fri 25 Dec to Sun 3 Jan: none),
    #   3 Mon 4, 4 Tue 5, 5 Wed 6, 6 Thu 7, 7 Fri 8, 8 Mon 11, 9 Tue 12, 10 Wed 13 Jan 2027;
    # Stage 1 issued within 3 WD: Wed 23, Thu 24, Mon 4 Jan 2027;
    # Stage 2 issued within 2 WD: Wed 23, Thu 24 Dec 2026.
    assert _preview(page, "2026-12-22") == [
        [
            f"1. {PRACTICE_STAGES[0][1]}",
            "10 working days",
            "Wed 13 Jan 2027",
            "Mon 4 Jan 2027 (3 working days)",
        ],
        [
            f"2. {PRACTICE_STAGES[1][1]}",
            "10 working days",
            "Wed 13 Jan 2027",
            "Thu 24 Dec 2026 (2 working days)",
        ],
        [f"3. {PRACTICE_STAGES[2][1]}", "no timescale set by the policy", "No deadline", "—"],
    ]
    screenshot(page, "admin_preview_practice_resolution")

    # Alerts Protocol, raised on Fri 18 Dec 2026: 5 WD: 1 Mon 21, 2 Tue 22, 3 Wed 23,
    # 4 Thu 24 Dec, 5 Mon 4 Jan 2027.
    _admin(page, site, "policies_policy", "change", alerts.pk)
    assert _preview(page, "2026-12-18") == [
        *(
            [f"{order}. {name}", "5 working days", "Mon 4 Jan 2027", "—"]
            for order, name, _, _ in ALERTS_STAGES[:3]
        ),
        [f"4. {ALERTS_STAGES[3][1]}", "no timescale set by the policy", "No deadline", "—"],
    ]
    assert "Formal cap: none" in page.locator("#deadline-preview").inner_text()
    screenshot(page, "admin_preview_alerts_protocol")

    # --- 4. the chair raises under each procedure -----------------------------------------------
    # The child record is not the point: made here, on Wren Worker's caseload, with the
    # initial conference of Tue 22 Dec 2026 the practice-resolution concern arises from.
    child = Child.objects.create(
        authority=authority,
        reference="EXB-0001",
        first_name="Poppy",
        last_name="Example",
        date_of_birth=date(2019, 3, 4),
        team=people["wren.worker"].team,
        social_worker=people["wren.worker"],
    )
    PlanFactory(child=child, start_date=date(2026, 12, 22))
    ConferenceFactory(child=child, kind="icpc", date=date(2026, 12, 22))

    chair_page = sign_in(new_context(), people["chris.chair"])

    # (a) The Alerts Protocol, raised now (Thu 24 Dec 2026): each of the three replies within
    # 5 WD: 1 Mon 4, 2 Tue 5, 3 Wed 6, 4 Thu 7, 5 Fri 8 Jan 2027 (5 working days left).
    _raise(chair_page, site, child, ALERTS_NAME)
    stage_1 = ALERTS_STAGES[0][1]
    assert chair_page.get_by_role("radio", name=stage_1).is_checked()
    ticked = {
        label: chair_page.get_by_label(label).is_checked()
        for label in (
            "Wren Worker — Social Worker",
            "Ash Assistant — Assistant Team Manager",
            "Tess Team — Team Manager",
        )
    }
    assert ticked == dict.fromkeys(ticked, True), ticked  # the holders in Poppy's line
    chair_page.fill("#id_summary", "Core group meetings have not been held since the conference.")
    screenshot(chair_page, "raise_alerts_protocol")
    told = _send(chair_page)
    assert all(n in told for n in ("Wren Worker", "Ash Assistant", "Tess Team")), told

    alert = Escalation.objects.get(policy=alerts)
    assert chair_page.url == f"{site}/escalations/{alert.pk}/"
    section = _step_section(chair_page, stage_1)
    assert "3 people at once" in section
    for who, role in (
        ("Wren Worker", "Social Worker"),
        ("Ash Assistant", "Assistant Team Manager"),
        ("Tess Team", "Team Manager"),
    ):
        assert f"{who} ({role}): awaiting, due Fri 8 Jan 2027 (5 working days left)" in section
    assert re.search(r"Stage deadline\s+8 Jan 2027 \(5 working days from receipt\)", section)
    screenshot(chair_page, "escalation_alerts_protocol")
    step = alert.open_step()
    assert {a.name: a.due_on for a in Addressee.objects.filter(step=step)} == {
        "Wren Worker": date(2027, 1, 8),
        "Ash Assistant": date(2027, 1, 8),
        "Tess Team": date(2027, 1, 8),
    }

    # (b) Practice resolution, from the conference of Tue 22 Dec 2026, raised now:
    # issue by 3 WD after the conference: 1 Wed 23, 2 Thu 24 Dec, 3 Mon 4 Jan 2027 (issued
    # on time today); the line manager replies within 10 WD of today: 1 Mon 4, 2 Tue 5,
    # 3 Wed 6, 4 Thu 7, 5 Fri 8, 6 Mon 11, 7 Tue 12, 8 Wed 13, 9 Thu 14, 10 Fri 15 Jan 2027.
    _raise(chair_page, site, child, PRACTICE_NAME)
    stage_1 = PRACTICE_STAGES[0][1]
    assert chair_page.get_by_role("radio", name=stage_1).is_checked()
    _choose(chair_page, "#id_conference", "22 Dec 2026")
    # The partner directory entered in admin is offered for the stage partners may answer.
    assert chair_page.locator("#id_partner option").all_inner_texts()[1:] == [
        "Hal Health — Director of Nursing, Example Borough Integrated Care Board",
        "Pat Police — Director of Public Protection, Example Borough Police",
    ]
    chair_page.select_option("#id_responder", label="Lin Line — Line Manager")
    chair_page.fill("#id_summary", "The plan's health actions have not been started.")
    screenshot(chair_page, "raise_practice_resolution")
    assert "Lin Line" in _send(chair_page)

    resolution = Escalation.objects.get(policy=practice)
    assert chair_page.url == f"{site}/escalations/{resolution.pk}/"
    section = _step_section(chair_page, stage_1)
    assert re.search(r"Issue by\s+Mon 4 Jan 2027 — issued Thu 24 Dec 2026, on time", section)
    assert re.search(r"Stage deadline\s+15 Jan 2027 \(10 working days from receipt\)", section)
    assert re.search(r"Reply due\s+Fri 15 Jan 2027 \(10 working days left\)", section)
    screenshot(chair_page, "escalation_practice_resolution")
    step = Step.objects.get(escalation=resolution)
    assert (step.responder, step.issue_due_on, step.due_on) == (
        people["lin.line"],
        date(2027, 1, 4),
        date(2027, 1, 15),
    )
