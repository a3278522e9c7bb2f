"""Who may open which page: a permission matrix generated from the URL configuration.

Every named route of the project (outside the admin and sign-in/sign-out) must have an
entry in EXPECTATIONS below, saying how to build its URL from the fixtures and which
status each kind of user gets. A new view without an entry fails the suite.

The roles, all in Rutland except the last two:

    anonymous        not signed in: sent to sign in
    no_staff         signed in, no staff record: the plain 403 page
    chair            the chair who raised the escalation (drives it)
    other_chair      the authority's other chair, uninvolved: may find the child (any chair
                     may chair a conference or raise a concern), not the escalation
    responder        the team manager the open step is addressed to
    line_manager     the responder's line manager
    social_worker    a social worker of another team with nothing to do with the case
    allocated        the child's allocated social worker
    team_manager     the team manager whose line holds the child's social worker
    copied           a manager copied on the open step: the escalation, not the child's file
    qa_manager       a QA manager of the authority (may stand in for the chair)
    foreign_chair    a chair of another authority (Gloucestershire)
    foreign_manager  a team manager of another authority

Another authority's staff get a 404 for every object (the plain 403 "not for you" page
for the e-mailed link) and never see the child's name, case reference or the issue.

The views decide who may *see* an escalation; the services decide who may *act* on it.
So the action pages (escalate, resolve, ...) open for anyone who may see the escalation,
and a POST by someone who may not act is refused in words, with nothing saved.

Every route is case data unless NOT_CASE_DATA (at the end) says why not; each read of
case data, and each form shown again with its errors, writes exactly one access-log row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from children.models import AccessLog
from escalations import services
from escalations.models import Attachment, Escalation, State, Step
from notifications.links import step_link_token
from notifications.models import Kind, Notification
from notifications.services import create_notifications
from policies.models import Stage
from policies.working_days import add_working_days
from tests.confirm import post_and_confirm
from tests.fixtures import category_ticked, date_fields, first_category
from tests.staff.factories import TeamFactory, UserFactory

ROLES = (
    "anonymous",
    "no_staff",
    "chair",
    "other_chair",
    "responder",
    "line_manager",
    "social_worker",
    "allocated",
    "team_manager",
    "copied",
    "qa_manager",
    "foreign_chair",
    "foreign_manager",
)
STAFF_ROLES = ROLES[2:]
FOREIGN = ("foreign_chair", "foreign_manager")

CHILD_FIRST = "Zephyrine"
CHILD_LAST = "Quillfeather"
CHILD_REFERENCE = "RUT-MATRIX-4417"
SUMMARY = "Core group meetings have lapsed for eleven weeks at Larkspur Close."
ATTACHMENT_NAME = "core-group-notes-larkspur.pdf"
SECRETS = (CHILD_FIRST, CHILD_LAST, CHILD_REFERENCE, SUMMARY, ATTACHMENT_NAME)

NOT_THE_DRIVER = "Only the person who raised this escalation (or a QA manager) can do that."
NOT_THE_RAISER = "Only the person who raised this escalation can move it to that stage."


# --- the world the matrix runs in ------------------------------------------------------


@dataclass
class Scene:
    users: dict[str, Any]  # role -> User (None for anonymous)
    escalation: Escalation
    open_step: Step
    attachment: Attachment
    child: Any
    token: str
    notification: Notification
    stage2_manager: Any  # a service manager nobody above is: a valid responder to POST
    copied: Any  # the staff member copied on the open step


@pytest.fixture(autouse=True)
def media_root(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path / "media"):
        yield tmp_path / "media"


@pytest.fixture
def world(ladders, staff_of, child_of) -> Scene:
    """A Rutland escalation at Stage 1: the informal step answered with a PDF, then escalated."""
    policy = ladders["rutland"]
    chair = staff_of("rutland", "cp-chair")
    line_manager = staff_of("rutland", "service-manager")
    responder = staff_of("rutland", "team-manager", line_manager=line_manager)
    informal_manager = staff_of("rutland", "service-manager")
    team_manager = staff_of("rutland", "team-manager")
    allocated = staff_of("rutland", "social-worker", line_manager=team_manager)
    authority = chair.authority
    child = child_of(
        "rutland",
        first_name=CHILD_FIRST,
        last_name=CHILD_LAST,
        reference=CHILD_REFERENCE,
        social_worker=allocated,
        team=TeamFactory(authority=authority, name="Oakham Safeguarding"),
    )
    escalation = services.escalation_raise(
        actor=chair,
        policy=policy,
        categories=first_category(policy),
        children=[child],
        summary=SUMMARY,
        responder=informal_manager,
    )
    first = escalation.steps.get()
    services.step_respond(
        actor=informal_manager,
        step=first,
        response="Discussed: below threshold in my view.",
        attachments=[
            SimpleUploadedFile(ATTACHMENT_NAME, b"%PDF-1.4 notes\n%%EOF", "application/pdf")
        ],
    )
    open_step = services.escalation_escalate(
        actor=chair,
        escalation=escalation,
        stage=Stage.objects.get(policy=policy, order=1),
        responder=responder,
        from_step=first,
    )
    # Copied directly, not through a ladder's copy list, so that the role stays "told of
    # this step" whatever the ladders copy.
    copied = staff_of("rutland", "service-manager")
    create_notifications(
        kind=Kind.STEP_COPIED, step=open_step, recipients=[copied], now=timezone.now()
    )
    other_team = TeamFactory(authority=authority, name="Uppingham Safeguarding")
    users = {
        "anonymous": None,
        "no_staff": UserFactory(),
        "chair": chair.user,
        "other_chair": staff_of("rutland", "cp-chair").user,
        "responder": responder.user,
        "line_manager": line_manager.user,
        "social_worker": staff_of("rutland", "social-worker", team=other_team).user,
        "allocated": allocated.user,
        "team_manager": team_manager.user,
        "copied": copied.user,
        "qa_manager": staff_of("rutland", "qa-manager").user,
        "foreign_chair": staff_of("gloucestershire", "cp-chair").user,
        "foreign_manager": staff_of("gloucestershire", "team-manager").user,
    }
    assert set(users) == set(ROLES)
    return Scene(
        users=users,
        escalation=escalation,
        open_step=open_step,
        attachment=first.attachments.get(),
        child=child,
        token=step_link_token(open_step.pk),
        notification=Notification.objects.get(
            step=open_step, recipient=responder, kind=Kind.STEP_RAISED
        ),
        stage2_manager=staff_of("rutland", "service-manager"),
        copied=copied,
    )


# --- the expectations table ------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    kwargs: Callable[[Scene], dict[str, Any]]
    expect: dict[str, int]  # GET, by role
    # State-changing routes: the roles whose valid POST succeeds, the POST itself, and what
    # everyone else gets for it (default: the same as for GET).
    actors: tuple[str, ...] = ()
    post: Callable[[Scene], dict[str, Any]] | None = None
    post_expect: dict[str, int] = field(default_factory=dict)
    # The words of the refusal when a POST is refused with a 200 (the form, with an error).
    refusal: str = ""
    methods: tuple[str, ...] = ("GET", "POST")

    def post_status(self, role: str) -> int:
        return self.post_expect.get(role, self.expect[role])


def statuses(staff: int | None = None, **by_role: int) -> dict[str, int]:
    """Anonymous -> 302 to sign in, no staff record -> 403; `staff` for every staff role."""
    table = {"anonymous": 302, "no_staff": 403}
    if staff is not None:
        table |= dict.fromkeys(STAFF_ROLES, staff)
    return table | by_role


def no_kwargs(w: Scene) -> dict[str, Any]:
    return {}


def escalation_pk(w: Scene) -> dict[str, Any]:
    return {"pk": w.escalation.pk}


# Who may see the escalation (docs/architecture.md §5, §8): the chair who raised it, the responder and their
# line, whoever was copied, the child's social worker and their line, and QA. Not the
# authority's other chair nor an unrelated social worker; never another authority.
SEES = {
    "chair": 200,
    "other_chair": 404,
    "responder": 200,
    "line_manager": 200,
    "social_worker": 404,
    "allocated": 200,
    "team_manager": 200,
    "copied": 200,
    "qa_manager": 200,
    "foreign_chair": 404,
    "foreign_manager": 404,
}
# Who may see the child's file: chairs and QA of the authority, the child's social worker
# and their line. Being addressed or copied on the child's escalation is not enough.
SEES_CHILD = SEES | {
    "other_chair": 200,
    "responder": 404,
    "line_manager": 404,
    "copied": 404,
}
# Who may drive it: the chair who raised it and a QA manager of the authority. Anyone else
# who may see it gets the form back with the service's refusal.
DRIVERS = ("chair", "qa_manager")
REFUSED_IN_WORDS = {
    role: 200 for role, status in SEES.items() if status == 200 and role not in DRIVERS
}
# Reports: QA managers only (and administrators, who are not in this matrix).
REPORTS = statuses(403, qa_manager=200)

EXPECTATIONS: dict[str, Route] = {
    "escalations:mine": Route(no_kwargs, statuses(200)),
    "escalations:todo": Route(no_kwargs, statuses(200)),
    "escalations:awaiting": Route(no_kwargs, statuses(200)),
    "children:list": Route(no_kwargs, statuses(200)),
    "children:file": Route(lambda w: {"pk": w.child.pk}, statuses(**SEES_CHILD)),
    "children:conference": Route(lambda w: {"pk": w.child.pk}, statuses(**SEES_CHILD)),
    # Rutland lets only chairs raise; others who can see the child are told they cannot.
    "escalations:raise": Route(
        lambda w: {"child_pk": w.child.pk},
        statuses(**SEES_CHILD | {"allocated": 403, "team_manager": 403, "qa_manager": 403}),
        actors=("chair", "other_chair"),
        post=lambda w: {
            "policy": "rutland",
            "children": [w.child.pk],
            "summary": "Another concern.",
            "categories": category_ticked("rutland"),
            "stage": Stage.objects.get(policy__slug="rutland", order=0).pk,
            "responder": w.stage2_manager.pk,
        },
    ),
    "escalations:detail": Route(escalation_pk, statuses(**SEES)),
    "escalations:record": Route(escalation_pk, statuses(**SEES)),
    "escalations:escalate": Route(
        escalation_pk,
        statuses(**SEES),
        actors=DRIVERS,
        post=lambda w: {
            "from_step": w.open_step.pk,
            "stage": Stage.objects.get(policy__slug="rutland", order=2).pk,
            "responder": w.stage2_manager.pk,
        },
        post_expect=REFUSED_IN_WORDS,
        refusal=NOT_THE_RAISER,
    ),
    "escalations:resolve": Route(
        escalation_pk,
        statuses(**SEES),
        actors=DRIVERS,
        post=lambda w: {"outcome": "Visits booked."},
        post_expect=REFUSED_IN_WORDS,
        refusal=NOT_THE_DRIVER,
    ),
    # Rutland has no final stage, so even the chair is refused in words (checked below).
    "escalations:final_decision": Route(
        escalation_pk,
        statuses(**SEES),
        actors=DRIVERS,
        post=lambda w: {"decision": "Final."},
        post_expect=REFUSED_IN_WORDS,
        refusal=NOT_THE_DRIVER,
    ),
    "escalations:withdraw": Route(
        escalation_pk,
        statuses(**SEES),
        actors=DRIVERS,
        post=lambda w: {"reason": "Raised in error."},
        post_expect=REFUSED_IN_WORDS,
        refusal=NOT_THE_DRIVER,
    ),
    # Amending the open step: the drivers only (escalations/rules.py extend_refusal,
    # readdress_refusal); the form names the refusal instead for anyone else.
    "escalations:extend": Route(
        escalation_pk,
        statuses(**SEES),
        actors=DRIVERS,
        post=lambda w: {
            "from_step": w.open_step.pk,
            **date_fields("new_due_on", add_working_days(w.open_step.due_on, 1)),
            "reason": "Records are being gathered.",
        },
        post_expect=REFUSED_IN_WORDS,
        refusal="Only the person who raised this escalation (or a QA manager) can extend",
    ),
    "escalations:readdress": Route(
        escalation_pk,
        statuses(**SEES),
        actors=DRIVERS,
        post=lambda w: {
            "from_step": w.open_step.pk,
            "responder": w.users["team_manager"].staff.pk,
            "reason": "On leave.",
        },
        post_expect=REFUSED_IN_WORDS,
        refusal="Only the person who raised this escalation (or a QA manager) can change",
    ),
    # POST only (a button): the drivers send a reminder; anyone else who may see it is
    # sent back to the escalation with the refusal in words, and nothing is sent.
    "escalations:chase": Route(
        escalation_pk,
        statuses(405),
        actors=DRIVERS,
        post=lambda w: {},
        post_expect={role: 302 if status == 200 else status for role, status in SEES.items()},
        methods=("POST",),
    ),
    # The world's escalation is past its informal stage, so even the chair is refused in
    # words (checked below).
    "escalations:discussion": Route(
        escalation_pk,
        statuses(**SEES),
        actors=DRIVERS,
        post=lambda w: {"agreed": "Visits agreed.", "then": "resolved"},
        post_expect=REFUSED_IN_WORDS,
        refusal=NOT_THE_DRIVER,
    ),
    # Only the person the step is addressed to; others of the authority get the plain
    # "not for you" page, another authority a 404.
    "escalations:respond": Route(
        lambda w: {"pk": w.open_step.pk},
        statuses(403, responder=200, foreign_chair=404, foreign_manager=404),
        actors=("responder",),
        post=lambda w: {"response": "Visits are booked for Monday."},
    ),
    # The e-mailed link: the responder is moved on to the clean URL; anyone else is refused.
    "escalations:step_link": Route(lambda w: {"token": w.token}, statuses(403, responder=302)),
    "escalations:attachment": Route(lambda w: {"pk": w.attachment.pk}, statuses(**SEES)),
    "notifications:list": Route(no_kwargs, statuses(200)),
    # POST only (opening marks it read); only its recipient finds it, everyone else a 404.
    "notifications:open": Route(
        lambda w: {"pk": w.notification.pk},
        statuses(405),
        actors=("responder",),
        post=lambda w: {},
        post_expect=dict.fromkeys(STAFF_ROLES, 404),
        methods=("POST",),
    ),
    "reports:dashboard": Route(no_kwargs, REPORTS),
    "reports:tracker": Route(no_kwargs, REPORTS),
    "reports:tracker_csv": Route(no_kwargs, REPORTS),
    "reports:quarterly": Route(no_kwargs, REPORTS),
    # The subject-access export: QA managers (and administrators, not in this matrix) of
    # the child's authority; another authority does not find the child.
    "records:subject_access": Route(
        lambda w: {"pk": w.child.pk}, statuses(403, qa_manager=200, **dict.fromkeys(FOREIGN, 404))
    ),
    "records:subject_access_download": Route(
        lambda w: {"pk": w.child.pk}, statuses(403, qa_manager=200, **dict.fromkeys(FOREIGN, 404))
    ),
    # Account pages, no case data: anyone signed in (with no app yet: on to the setup).
    "second_factor": Route(no_kwargs, statuses(302, no_staff=302)),
    "second_factor_setup": Route(no_kwargs, statuses(200, no_staff=200)),
}

STATE_CHANGING = sorted(name for name, route in EXPECTATIONS.items() if route.actors)

# Patterns outside the matrix: the admin, signing in and out, and the unnamed home page
# (a redirect to escalations:mine), by route string.
# The health endpoint is open to all and shows no case data (tests/operations/test_health.py).
# Single sign-on's start and return are signing in too (tests/sso).
# The accessibility statement is public by law (tests/config/test_pages.py); extending the
# session touches only the session (tests/config/test_timeout.py).
SKIPPED_NAMES = {
    "login",
    "logout",
    "health",
    "health_live",
    "sso_start",
    "sso_callback",
    "accessibility",
    "session_extend",
    # A partner agency's pages: no staff login opens them (a link's token and a one-time
    # code do, for one step); their refusals and access logging are tested in
    # tests/escalations/test_partner_access.py.
    "escalations:partner_link",
    "escalations:partner_code",
    "escalations:partner_reply",
    "escalations:partner_sign_out",
}
# The favicon is a redirect to a static file (tests/config/test_favicon.py).
UNNAMED_ALLOWED = {"", "favicon.ico"}


def walk(patterns: list, namespace: str = "", prefix: str = "") -> Iterator[tuple[str, str]]:
    """(full name or "", route string) for every pattern, following includes."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace
            inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk(pattern.url_patterns, inner or "", prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name or "", prefix + str(pattern.pattern)


def project_routes() -> tuple[set[str], set[str], dict[str, str]]:
    """Named routes, unnamed routes, and {name: its integer argument} for object routes."""
    named, unnamed, ints = set(), set(), {}
    for name, route in walk(get_resolver().url_patterns):
        if name.startswith("admin:") or route.startswith("admin/") or name in SKIPPED_NAMES:
            continue
        if not name:
            unnamed.add(route)
            continue
        named.add(name)
        if match := re.search(r"<int:(\w+)>", route):
            ints[name] = match.group(1)
    return named, unnamed, ints


NAMED_ROUTES, UNNAMED_ROUTES, INT_ROUTES = project_routes()


# --- helpers ---------------------------------------------------------------------------


def client_for(world: Scene, role: str, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    if world.users[role] is not None:
        client.force_login(world.users[role])
    return client


def url_of(world: Scene, name: str) -> str:
    return reverse(name, kwargs=EXPECTATIONS[name].kwargs(world))


def text_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def assert_no_secrets(text: str, world: Scene, *, except_echoed: str = "") -> None:
    for secret in (*SECRETS, world.escalation.reference):
        if secret != except_echoed:
            assert secret not in text, f"{secret!r} leaked"


def snapshot() -> tuple:
    """Enough of the database to see that a refused request changed nothing."""
    return (
        list(Escalation.objects.order_by("pk").values_list("pk", "state", "outcome")),
        list(
            Step.objects.order_by("pk").values_list("pk", "closed_at", "responded_at", "response")
        ),
        Attachment.objects.count(),
        list(Notification.objects.order_by("pk").values_list("pk", "read_at")),
    )


# --- the table covers the URL configuration -------------------------------------------


def test_every_route_in_the_url_configuration_has_expectations():
    missing = NAMED_ROUTES - set(EXPECTATIONS)
    assert not missing, f"routes without a permission expectation: {sorted(missing)}"
    stale = (set(EXPECTATIONS) | set(NOT_CASE_DATA)) - NAMED_ROUTES
    assert not stale, f"expectations for routes that no longer exist: {sorted(stale)}"
    assert {"escalations", "children"} <= {n.split(":")[0] for n in NAMED_ROUTES}
    assert {"escalations:detail", "children:file", "escalations:attachment"} <= set(INT_ROUTES)


def test_no_unnamed_route_escapes_the_matrix():
    assert UNNAMED_ROUTES <= UNNAMED_ALLOWED, sorted(UNNAMED_ROUTES - UNNAMED_ALLOWED)


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_every_expectation_names_every_role(name):
    route = EXPECTATIONS[name]
    assert set(route.expect) == set(ROLES)
    assert set(route.post_expect) <= set(ROLES)
    assert set(route.actors) <= set(STAFF_ROLES)
    assert bool(route.actors) == (route.post is not None)


# --- GET, for every (route, role) ------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(NAMED_ROUTES | set(EXPECTATIONS)))
def test_get(world, name, role):
    route = EXPECTATIONS.get(name)
    if route is None:
        pytest.fail(f"{name} has no entry in EXPECTATIONS")
    response = client_for(world, role).get(url_of(world, name))
    text = text_of(response)

    expected = route.expect[role]
    assert response.status_code == expected, f"{role} GET {name}: {response.status_code}"
    if role == "anonymous":
        assert response["Location"].startswith(reverse("login") + "?next=")
    elif role == "no_staff" and expected == 403:
        refusal = (
            "This link is not for you"
            if name == "escalations:step_link"
            else ("not linked to a staff record")
        )
        assert refusal in text
    if expected in (403, 404, 405) or role in FOREIGN:
        assert_no_secrets(text, world)
    if role in FOREIGN and name == "escalations:step_link":
        assert "This link is not for you" in text


def test_the_responder_is_moved_on_from_the_link_to_a_url_without_the_token(world):
    response = client_for(world, "responder").get(url_of(world, "escalations:step_link"))
    assert response["Location"] == reverse("escalations:respond", args=[world.open_step.pk])
    assert world.token not in response["Location"]


@pytest.mark.parametrize("role", FOREIGN)
def test_another_authority_sees_none_of_it_on_the_lists(world, role):
    client = client_for(world, role)
    for name in ("escalations:mine", "escalations:awaiting", "children:list"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert_no_secrets(text_of(response), world)
    # The search box echoes the query itself; nothing else about the child may appear.
    response = client.get(reverse("children:list"), {"q": CHILD_LAST})
    assert_no_secrets(text_of(response), world, except_echoed=CHILD_LAST)
    assert "No children found" in text_of(response)


def test_a_qa_manager_of_another_authority_sees_none_of_it_in_the_reports(world, staff_of):
    client = Client()
    client.force_login(staff_of("gloucestershire", "qa-manager").user)
    for name in (
        "reports:dashboard",
        "reports:tracker",
        "reports:tracker_csv",
        "reports:quarterly",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert_no_secrets(text_of(response), world)
    # ...while the Rutland QA manager's tracker does list it (so the check above can fail).
    assert world.escalation.reference in text_of(
        client_for(world, "qa_manager").get(reverse("reports:tracker_csv"))
    )


# --- writes ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options"])
@pytest.mark.parametrize("name", STATE_CHANGING)
def test_state_changing_routes_refuse_other_methods(world, name, method):
    route = EXPECTATIONS[name]
    client = client_for(world, route.actors[0])
    before = snapshot()
    response = getattr(client, method)(url_of(world, name))
    assert response.status_code == 405
    assert sorted(response["Allow"].split(", ")) == sorted(route.methods)
    assert snapshot() == before


@pytest.mark.parametrize("name", STATE_CHANGING)
def test_a_post_without_a_csrf_token_is_refused(world, name):
    route = EXPECTATIONS[name]
    client = client_for(world, route.actors[0], enforce_csrf_checks=True)
    before = snapshot()
    response = client.post(url_of(world, name), route.post(world))
    assert response.status_code == 403
    assert "CSRF" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("name", STATE_CHANGING)
def test_the_same_post_with_the_csrf_token_is_accepted(world, name):
    """The control for the test above: the only thing missing there was the token."""
    route = EXPECTATIONS[name]
    client = client_for(world, route.actors[0], enforce_csrf_checks=True)
    url = url_of(world, name)
    page = url if "GET" in route.methods else reverse("escalations:mine")
    assert client.get(page).status_code == 200
    data = route.post(world) | {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    response = post_and_confirm(client, url, data)
    if name == "escalations:final_decision":
        # Rutland's ladder has no final stage: the service refuses it in words.
        assert response.status_code == 200
        assert "Only a stage whose decision is final" in response.content.decode()
    elif name == "escalations:discussion":
        # The world's escalation is past its informal discussion: refused in words.
        assert response.status_code == 200
        assert "Only an informal discussion" in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:3000]


@pytest.mark.parametrize(
    ("name", "role"),
    [(n, r) for n in STATE_CHANGING for r in ROLES if r not in EXPECTATIONS[n].actors],
)
def test_a_post_by_someone_who_may_not_act_is_refused_and_changes_nothing(world, name, role):
    route = EXPECTATIONS[name]
    before = snapshot()
    response = client_for(world, role).post(url_of(world, name), route.post(world))
    text = text_of(response)

    assert response.status_code == route.post_status(role), f"{role} POST {name}"
    assert snapshot() == before
    if role == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    if response.status_code == 200:
        assert route.refusal and route.refusal in text
        assert "There is a problem" in text
    else:
        assert_no_secrets(text, world)


# --- objects that do not exist, huge numbers, bad tokens ---------------------------------


@pytest.mark.parametrize("pk", [0, 987654321, 2**63, 10**30])
@pytest.mark.parametrize("name", sorted(INT_ROUTES))
def test_an_unknown_or_huge_number_is_a_404_not_a_500(world, name, pk):
    route = EXPECTATIONS[name]
    client = client_for(world, route.actors[0] if route.actors else "chair")
    url = reverse(name, kwargs={INT_ROUTES[name]: pk})
    response = client.get(url) if "GET" in route.methods else client.post(url)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "a" * 500,
        step_link_token(987654321),
        step_link_token(2**70),
        signing.dumps("not-a-number", salt="escalations.step-link"),
    ],
    # Named, not shown: the signed tokens carry the time they were made, and parallel
    # workers must collect the same test ids.
    ids=["nonsense", "too-long", "no-such-step", "huge-step-number", "not-a-number"],
)
def test_a_bad_token_gets_the_refusal_page(world, token):
    response = client_for(world, "responder").get(reverse("escalations:step_link", args=[token]))
    assert response.status_code == 403
    assert "This link is not for you" in response.content.decode()


def test_a_token_signed_with_another_salt_is_refused(world):
    token = signing.dumps(world.open_step.pk, salt="something-else")
    response = client_for(world, "responder").get(reverse("escalations:step_link", args=[token]))
    assert response.status_code == 403


def test_an_inactive_staff_record_counts_as_none(world):
    staff = world.users["chair"].staff
    staff.is_active = False
    staff.save()
    response = client_for(world, "chair").get(url_of(world, "escalations:detail"))
    assert response.status_code == 403
    assert_no_secrets(text_of(response), world)


def test_the_world_is_what_the_matrix_assumes(world):
    """Guard: the escalation is open at Stage 1 with the responder's step unanswered."""
    escalation = Escalation.objects.get(pk=world.escalation.pk)
    assert escalation.state == State.AWAITING_RESPONSE
    assert world.open_step.responded_at is None
    assert world.open_step.responder.user == world.users["responder"]
    assert world.open_step.responder.line_manager.user == world.users["line_manager"]
    assert Step.objects.get(pk=world.attachment.step_id).closed_at is not None


# --- every read of case data leaves exactly one access-log row ---------------------------

# Routes that show nothing of a child or an escalation's content, and why. Every other
# route of the URL configuration is case data, so a new view must log its reads or be
# listed here with its reason.
NOT_CASE_DATA = {
    "escalations:step_link": "a redirect to the response page, which logs the read",
    "notifications:list": "escalation references and the kind of event only",
    "notifications:open": "POST only: marks a notification read and redirects",
    "escalations:chase": "POST only: sends a reminder and redirects",
    "reports:dashboard": "counts by period, stage, theme and team: no child, no escalation",
    "second_factor": "the user's own sign-in",
    "second_factor_setup": "the user's own sign-in",
}
CASE_DATA = sorted(NAMED_ROUTES - set(NOT_CASE_DATA))
# Pages that show a form and, when it is refused, show the case again with the errors.
RE_RENDERED = sorted(n for n in CASE_DATA if EXPECTATIONS[n].actors)


def reader_for(name: str) -> str:
    """A role allowed to open this page."""
    return next(
        r for r in ("chair", "responder", "qa_manager") if EXPECTATIONS[name].expect[r] == 200
    )


def assert_one_row_by(world: Scene, role: str, since: int) -> None:
    user = world.users[role]
    rows = list(AccessLog.objects.filter(pk__gt=since))
    assert len(rows) == 1, [r.action for r in rows]
    assert (rows[0].user, rows[0].username) == (user, user.username)
    assert rows[0].name == user.get_full_name()


def last_log_pk() -> int:
    return AccessLog.objects.order_by("pk").values_list("pk", flat=True).last() or 0


@pytest.mark.parametrize("name", CASE_DATA)
def test_every_read_of_case_data_writes_exactly_one_access_log_row(world, name):
    role = reader_for(name)
    since = last_log_pk()
    response = client_for(world, role).get(url_of(world, name))
    text_of(response)
    assert response.status_code == 200
    assert_one_row_by(world, role, since)


@pytest.mark.parametrize("name", RE_RENDERED)
def test_a_refused_form_shown_again_writes_exactly_one_access_log_row(world, name):
    role = reader_for(name)
    since = last_log_pk()
    response = client_for(world, role).post(url_of(world, name), {})
    assert response.status_code == 200
    assert "There is a problem" in text_of(response)
    assert_one_row_by(world, role, since)
