"""Every page of the site, for every role that may open it, passes axe at WCAG 2.2 AA (no
serious or critical issue) and reflows at 320 px (no page-level sideways scroll; a table
in its own scroll region may scroll) — and again with its form posted empty, showing its
errors.

The list of pages is generated: every named URL route (django.urls.get_resolver()), its
arguments filled from seeded records, opened by each role in turn (chair, QA manager, team
manager, social worker, a responder, an authority administrator), the public pages signed
out, the partner agency's pages in a partner's session, the second-factor pages, and the
admin's from its own registry. A route a browser cannot open is in pages.SKIPPED with the
reason; a new route that is neither visited nor skipped fails the first test below.
"""

# Fixtures from tests/admin, imported by name and so "redefined" as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from children.models import Child
from escalations import services
from escalations.models import Escalation, Step
from escalations.partner_access import PartnerAccess
from notifications.links import partner_link_token, step_link_token
from notifications.relay import relay_once
from policies.models import Stage
from staff.models import Partner, StaffMember
from staff.services import authority_admin_grant
from tests.admin.conftest import OWN, authorities, authority_admin  # noqa: F401
from tests.browser.pages import (
    SKIPPED,
    Run,
    admin_model_route_names,
    admin_pages,
    named_routes,
    sign_in_to_admin,
)
from tests.children.factories import ConferenceFactory, PlanFactory
from tests.staff.factories import UserFactory

# --- the plan: which routes each part of the run opens ----------------------------------


@dataclass
class Seed:
    """Rutland's records the staff pages are opened on."""

    people: dict[str, StaffMember]  # role name -> the person who plays it
    child: Child  # on a plan, with a conference and the open escalation
    fresh_child: Child  # nothing raised yet: the raise form
    informal: Escalation  # raised at the informal stage, awaiting the responder
    answered: Escalation  # at Stage 1, answered by the team manager: awaiting the chair
    closed: Escalation  # resolved


def _step(escalation: Escalation) -> Step:
    return escalation.steps.order_by("-sequence").first()


# Route -> the arguments of each variant opened; every role opens every variant.
STAFF_ROUTES: dict[str, Callable[[Seed], list[dict[str, Any]]]] = {
    "escalations:todo": lambda s: [{}],
    "escalations:mine": lambda s: [{}],
    "escalations:awaiting": lambda s: [{}],
    "escalations:raise": lambda s: [{"child_pk": s.fresh_child.pk}],
    "escalations:detail": lambda s: [
        {"pk": s.informal.pk},
        {"pk": s.answered.pk},
        {"pk": s.closed.pk},
    ],
    "escalations:record": lambda s: [{"pk": s.answered.pk}],
    "escalations:discussion": lambda s: [{"pk": s.informal.pk}],
    "escalations:escalate": lambda s: [{"pk": s.answered.pk}],
    "escalations:resolve": lambda s: [{"pk": s.answered.pk}],
    "escalations:final_decision": lambda s: [{"pk": s.answered.pk}],
    "escalations:withdraw": lambda s: [{"pk": s.informal.pk}],
    "escalations:extend": lambda s: [{"pk": s.informal.pk}],
    "escalations:readdress": lambda s: [{"pk": s.informal.pk}],
    "escalations:respond": lambda s: [
        {"pk": _step(s.informal).pk},
        {"pk": _step(s.answered).pk},
    ],
    "escalations:step_link": lambda s: [
        {"token": step_link_token(_step(s.informal).pk)},
        {"token": step_link_token(_step(s.closed).pk)},
        {"token": "not-a-link"},
    ],
    "children:list": lambda s: [{}],
    "children:file": lambda s: [{"pk": s.child.pk}],
    "children:conference": lambda s: [{"pk": s.child.pk}],
    "notifications:list": lambda s: [{}],
    "reports:dashboard": lambda s: [{}],
    "reports:tracker": lambda s: [{}],
    "reports:quarterly": lambda s: [{}],
    "records:subject_access": lambda s: [{"pk": s.child.pk}],
    "accessibility": lambda s: [{}],
}
ROLES = ("chair", "QA manager", "team manager", "social worker", "responder", "authority admin")
# Signed out: the sign-in page (with its error), the statement, a failed single sign-on.
PUBLIC_ROUTES = {"login", "accessibility", "sso_callback"}
SECOND_FACTOR_ROUTES = {"second_factor", "second_factor_setup"}
PARTNER_ROUTES = {
    "escalations:partner_link",
    "escalations:partner_code",
    "escalations:partner_reply",
}
# The admin's pages beyond each model's own (admin_model_route_names()).
ADMIN_ROUTES = {
    "admin:index",
    "admin:login",
    "admin:app_list",
    "operations_status",
    "admin:staff_staffmember_import",
    "admin:children_child_import",
    "admin:otp_totp_totpdevice_config",
    "admin:auth_user_password_change",
    "admin:password_change",
    "admin:password_change_done",
}


def test_every_named_route_is_visited_or_skipped():
    """A new route must be placed: in one of the plans above, or in pages.SKIPPED."""
    planned = (
        set(STAFF_ROUTES)
        | PUBLIC_ROUTES
        | SECOND_FACTOR_ROUTES
        | PARTNER_ROUTES
        | ADMIN_ROUTES
        | admin_model_route_names()
    )
    routes = set(named_routes())

    assert sorted(routes - planned - set(SKIPPED)) == [], "routes neither visited nor skipped"
    assert sorted((planned | set(SKIPPED)) - routes) == [], "planned routes that do not exist"
    assert not planned & set(SKIPPED), "a route both visited and skipped"


# --- the run ------------------------------------------------------------------------------


@pytest.fixture
def seed(world_of, staff_of, child_of, ladders) -> Seed:
    world = world_of("rutland")
    policy = ladders["rutland"]
    chair, north = world.chair, world.north
    admin_person = staff_of("rutland", "head-of-service", user__first_name="Ada")
    authority_admin_grant(user=admin_person.user)
    PlanFactory(child=world.child)
    ConferenceFactory(child=world.child, chair=chair)

    def child(last: str) -> Child:
        return child_of(
            "rutland", first_name="Kit", last_name=last, team=north.team, social_worker=north.worker
        )

    def raise_for(kid: Child, summary: str) -> Escalation:
        return services.escalation_raise(
            actor=chair,
            policy=policy,
            children=[kid],
            summary=summary,
            responder=north.service,
            categories=[policy.categories.filter(parent__isnull=False).first()],
        )

    informal = raise_for(world.child, "Core group meetings have not been held.")
    answered = raise_for(child("Answered"), "The plan's visits are not happening.")
    services.escalation_escalate(
        actor=chair,
        escalation=answered,
        stage=Stage.objects.get(policy=policy, order=1),
        responder=north.manager,
    )
    services.step_respond(
        actor=north.manager,
        step=_step(answered),
        response="Visits are booked weekly from Monday; the social worker has cover.",
    )
    closed = raise_for(child("Closed"), "The review conference was not booked.")
    services.escalation_resolve(actor=chair, escalation=closed, outcome="Booked for the 12th.")
    return Seed(
        people={
            "chair": chair,
            "QA manager": world.qa,
            "team manager": north.manager,
            "social worker": north.worker,
            "responder": north.service,
            "authority admin": admin_person,
        },
        child=world.child,
        fresh_child=child("Fresh"),
        informal=informal,
        answered=answered,
        closed=closed,
    )


def _rendered_error_page(page: Any, run: Run, template: str, status: int) -> None:
    """The 500 and 413 pages, which no request can be made to fail into: rendered as the
    handlers render them and served at the site's own address, so its CSS applies."""
    address = f"{run.site}/{status}-page/"
    body = render_to_string(template)
    page.route(address, lambda route: route.fulfill(status=status, body=body))
    page.goto(address)
    run.check(page, f"the {status} page")
    page.unroute(address)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_for_every_role_passes_axe_and_reflows(
    site, seed, settings, staff_of, new_context, sign_in, capsys
):
    run = Run(site)

    # Signed out.
    page = new_context(bypass_csp=True).new_page()
    run.visit(page, "signed out: sign in", reverse("login"))
    run.visit(page, "signed out: accessibility statement", reverse("accessibility"))
    run.visit(page, "signed out: single sign-on failed", reverse("sso_callback"))
    _rendered_error_page(page, run, "500.html", 500)
    _rendered_error_page(page, run, "413.html", 413)

    # Each role opens every route (what it may not open, it is refused: checked once).
    for role in ROLES:
        page = sign_in(new_context(bypass_csp=True), seed.people[role])
        for route, variants in STAFF_ROUTES.items():
            for kwargs in variants(seed):
                path = reverse(route, kwargs=kwargs)
                run.visit(page, f"{role}: {route} {kwargs or ''}".strip(), path)
        run.visit(page, f"{role}: a page that does not exist", "/escalations/0/")

    # The second factor: set up at first sign-in, then asked for at each.
    settings.REQUIRE_SECOND_FACTOR = True
    for name, device in (("second factor set-up", False), ("second factor", True)):
        person = staff_of("rutland", "cp-chair")
        if device:
            TOTPDevice.objects.create(user=person.user, name="Authenticator app", confirmed=True)
        page = new_context(bypass_csp=True).new_page()
        page.goto(f"{site}{reverse('login')}")
        sign_in(page, person)
        run.visit(page, name, page.url.removeprefix(site))

    expected = set(STAFF_ROUTES) | PUBLIC_ROUTES | SECOND_FACTOR_ROUTES
    assert expected <= run.visited_routes, sorted(expected - run.visited_routes)
    with capsys.disabled():
        print(f"\n{run.summary()}")
        for note in (c for c in run.checked if "no errors shown" in c):
            print(f"  {note}")
    assert not run.problems, "\n".join(run.problems)


CODE = re.compile(r"code for escalation \S+ is:\s+(\d{6})\b")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_partner_pages_pass_axe_and_reflow(
    site, ladders, staff_of, child_of, new_context, capsys
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
    escalation = services.escalation_raise(
        actor=staff_of("gloucestershire", "cp-chair"),
        policy=policy,
        children=[child_of("gloucestershire")],
        summary="Police checks were not shared with the conference.",
        stage=stage,
        partner=partner,
        reason="The police hold the information.",
        categories=[policy.categories.filter(parent__isnull=False).first()],
    )
    access = PartnerAccess.objects.get(step__escalation=escalation)
    token = partner_link_token(access.salt)
    run = Run(site)
    page = new_context(bypass_csp=True).new_page()

    # The link's page (a button: send me a code), the code page (and a wrong code).
    run.visit(page, "partner: link", reverse("escalations:partner_link", args=[token]))
    page.get_by_role("button", name="Send me a code").click()
    run.visit(page, "partner: code", reverse("escalations:partner_code", args=[token]))
    relay_once(now=timezone.now())
    code = CODE.search([m for m in mail.outbox if m.to == [partner.email]][-1].body).group(1)
    page.fill("#code", code)
    page.get_by_role("button", name="Continue").click()
    run.visit(page, "partner: reply", reverse("escalations:partner_reply"))
    page.get_by_role("button", name="Sign out").click()
    run.check(page, "partner: signed out")
    run.visit(page, "partner: reply, signed out", reverse("escalations:partner_reply"))
    run.visit(page, "partner: an unknown link", reverse("escalations:partner_link", args=["x"]))

    assert run.visited_routes >= PARTNER_ROUTES, sorted(PARTNER_ROUTES - run.visited_routes)
    with capsys.disabled():
        print(f"\n{run.summary()}")
    assert not run.problems, "\n".join(run.problems)


@pytest.fixture
def records(authorities):
    """The own authority's records, the child with a row in each of its inlines."""
    own = authorities[0]
    assert own.slug == OWN
    PlanFactory(child=own["children.Child"])
    ConferenceFactory(child=own["children.Child"])
    return own.records


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_admin_page_passes_axe_and_reflows(
    site, records, authority_admin, new_context, capsys
):
    run = Run(site)
    page = new_context(bypass_csp=True).new_page()
    run.visit(page, "admin: log in", reverse("admin:login"))

    superuser = UserFactory(is_staff=True, is_superuser=True)
    device = records["otp_totp.TOTPDevice"]
    someone = records["auth.User"].pk
    # The superuser opens every page: each model's list, add form (and posted empty), a
    # record, its history, its latest version and its delete confirmation (only opened:
    # posting it deletes), each app's page and the admin's other pages.
    page = new_context(bypass_csp=True).new_page()
    sign_in_to_admin(page, site, superuser)
    for name, path in admin_pages(superuser, records, delete=True, versions=True):
        run.visit(page, f"superuser: {name}", path, errors=name.endswith("add form"))
    for app in sorted({model._meta.app_label for model in admin.site._registry}):
        run.visit(page, f"superuser: {app} app", reverse("admin:app_list", args=[app]))
    for name, path in (
        ("import staff", reverse("admin:staff_staffmember_import")),
        ("import children", reverse("admin:children_child_import")),
        ("authenticator set-up", reverse("admin:otp_totp_totpdevice_config", args=[device.pk])),
        ("set a user's password", reverse("admin:auth_user_password_change", args=[someone])),
        ("change your password", reverse("admin:password_change")),
        ("password changed", reverse("admin:password_change_done")),
    ):
        run.visit(page, f"superuser: {name}", path)

    # The authority's administrator: the lists and records scoped to the authority (what
    # differs from the superuser's; the add, history and delete pages are the same
    # templates with fewer choices, checked above — kept out for the run's time).
    page = new_context(bypass_csp=True).new_page()
    sign_in_to_admin(page, site, authority_admin)
    for name, path in admin_pages(authority_admin, records):
        if name.endswith(("index", "status", "list", "change form")):
            run.visit(page, f"authority admin: {name}", path, errors=False)
    run.visit(page, "authority admin: import children", reverse("admin:children_child_import"))

    # Each model's add and delete pages only where someone may add or delete (the walk
    # asks the admin's own permissions); its list, record and history always.
    expected = ADMIN_ROUTES | {
        r for r in admin_model_route_names() if r.endswith(("_changelist", "_change", "_history"))
    }
    assert expected <= run.visited_routes, sorted(expected - run.visited_routes)
    with capsys.disabled():
        print(f"\n{run.summary()}")
        for note in (c for c in run.checked if "no errors shown" in c):
            print(f"  {note}")
    assert not run.problems, "\n".join(run.problems)
