"""The QA report views (reports/views.py) and the conference view.

Who may see them, the tracker's filters, sorting and pages, the CSV export, and the
number of queries each one runs (which must not grow with the number of escalations).
The data is Gloucestershire's 2026-27 Q3 from tests/reports/conftest.py's build_quarter, seen on
Monday 16 November 2026, unless a test says otherwise.
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from children.models import AccessLog, Conference
from escalations import selectors
from escalations.models import Escalation, State, Step, Verdict
from escalations.services import escalation_raise, step_respond
from policies.deadlines import formal_cap_deadline, stage_deadline
from policies.ladder_files import load_ladders
from policies.models import ConcernCategory, Policy, Role, Stage
from reports import reporting
from reports.views import _safe_cell
from staff.models import Partner
from tests.children.factories import ChildFactory
from tests.fixtures import LONDON, at, first_category
from tests.reports.conftest import (
    GLOUCESTERSHIRE,
    Q3,
    RUTLAND,
    TODAY,
    TRACKER,
    Scenario,
    build_quarter,
    get_as,
    listed,
    noon,
    qa_of,
    refs,
)
from tests.staff.factories import StaffMemberFactory, UserFactory


@pytest.fixture
def qa(world):
    return qa_of(world, GLOUCESTERSHIRE)


def text_of(response) -> str:
    """The body of a page or of a streamed download."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8")


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = text_of(response)
    assert text.startswith("\ufeff")  # so Excel reads UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def csv_refs(response) -> list[str]:
    return [row[0] for row in csv_rows(response)[1:]]


HEADER = [
    "Reference",
    "Raised",
    "Status",
    "Level",
    "Current stage",
    "Responder",
    "Due",
    "Overdue",
    "Chair",
    "Children (case references)",
    "Teams",
    "Closed",
    "Issue next stage by",
    "Issue overdue",
    "Steps issued on time",
    "Steps issued late",
    "Replies on time",
    "Replies late",
    "Categories",
    "Outcome",
    "Outcome for the child",
    "Stage dates",
]


# --- permissions ------------------------------------------------------------------------


def report_url_names() -> set[str]:
    """Every named URL in the `reports` namespace, found by walking the resolver."""
    _prefix, resolver = get_resolver().namespace_dict["reports"]
    names: set[str] = set()

    def walk(patterns) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name:
                names.add(f"reports:{p.name}")

    walk(resolver.url_patterns)
    return names


# name -> the content type a permitted user gets. A new report view must be added here.
REPORT_VIEWS = {
    "reports:dashboard": "text/html; charset=utf-8",
    "reports:tracker": "text/html; charset=utf-8",
    "reports:tracker_csv": "text/csv; charset=utf-8",
    "reports:quarterly": "text/html; charset=utf-8",
}

REFUSED_ROLES = ["cp-chair", "social-worker", "team-manager", "service-manager", "head-of-service"]


def test_every_report_view_is_in_the_permission_table():
    assert report_url_names() == set(REPORT_VIEWS)


GLOUCESTERSHIRE_ONLY = [
    "GL-N1",
    "GL-N2",
    "GL-S1",
    "GL-S2",
    "GL-X1",
    "Ann Archer",
    "Ben Baker",
    "North Team",
]


@pytest.mark.usefixtures("db")
class TestWhoMaySeeTheReports:
    """Read-only tests over build_quarter's data: one build for the class (shared_quarter)."""

    @pytest.fixture
    def quarter(self, shared_quarter) -> dict:
        return shared_quarter[0]

    @pytest.mark.parametrize("name", sorted(REPORT_VIEWS))
    @pytest.mark.parametrize("role", REFUSED_ROLES)
    def test_report_views_are_refused_to_everyone_but_qa(
        self, client, time_machine, quarter, staff_of, name, role
    ):
        user = staff_of(GLOUCESTERSHIRE, role).user
        response = get_as(client, time_machine, user, reverse(name))
        assert response.status_code == 403
        page = response.content.decode()
        assert "Reports are for quality assurance managers" in page
        assert quarter["e1"].reference not in page
        assert not AccessLog.objects.filter(user=user).exists()

    @pytest.mark.parametrize("name", sorted(REPORT_VIEWS))
    def test_report_views_send_signed_out_visitors_to_sign_in(self, client, quarter, name):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    @pytest.mark.parametrize("name", sorted(REPORT_VIEWS))
    def test_report_views_refuse_an_account_with_no_staff_record(
        self, client, time_machine, quarter, name
    ):
        response = get_as(client, time_machine, UserFactory(), reverse(name))
        assert response.status_code == 403
        assert quarter["e1"].reference not in response.content.decode()
        # An administrator with no staff record belongs to no authority: sent to admin.
        response = get_as(client, time_machine, UserFactory(is_staff=True), reverse(name))
        assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))

    @pytest.mark.parametrize("name", sorted(REPORT_VIEWS))
    @pytest.mark.parametrize("who", ["qa-manager", "is_staff team manager"])
    def test_report_views_are_open_to_qa_and_to_django_staff_with_a_staff_record(
        self, client, time_machine, quarter, staff_of, name, who
    ):
        if who == "qa-manager":
            user = staff_of(GLOUCESTERSHIRE, "qa-manager").user
        else:
            user = staff_of(GLOUCESTERSHIRE, "team-manager", user__is_staff=True).user
        response = get_as(client, time_machine, user, reverse(name))
        assert response.status_code == 200
        assert response["Content-Type"] == REPORT_VIEWS[name]
        # The dashboard names Q3's chairs; the others list open E5 (the quarterly report
        # lists the open cases).
        expected = "Ann Archer" if name == "reports:dashboard" else quarter["e5"].reference
        assert expected in text_of(response)

    @pytest.mark.parametrize("name", sorted(REPORT_VIEWS))
    @pytest.mark.parametrize(
        "query",
        ["", "?quarter=2026-27-Q3", "?from=2024-01-01&to=2026-12-31", "?sort=reference"],
    )
    def test_qa_of_another_authority_sees_only_their_own(
        self, client, time_machine, quarter, world, name, query
    ):
        rutland_qa = qa_of(world, RUTLAND).user
        response = get_as(client, time_machine, rutland_qa, reverse(name) + query)
        assert response.status_code == 200
        page = text_of(response)
        for key in ("e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e9", "e10"):
            assert quarter[key].reference not in page
        for text in GLOUCESTERSHIRE_ONLY:
            assert text not in page
        if name != "reports:dashboard":
            assert quarter["x1"].reference in page  # their own open escalation is there


def test_another_authoritys_ids_in_the_filters_show_nothing(client, time_machine, quarter, world):
    q = quarter
    rutland_qa = qa_of(world, RUTLAND).user
    stage3 = Stage.objects.get(policy=q["policy"], order=3)
    for query in (
        f"chair={q['ann'].pk}",
        f"team={q['north'].pk}",
        f"stage={stage3.pk}",
        f"category={q['lack'].pk}",
        f"theme={q['lack'].parent_id}",
        f"highest={q['policy'].pk}:0",
        f"timescale=missed&step_stage={q['policy'].pk}:0&from=2026-10-01&to=2026-12-31",
        f"timescale=met&step_stage={q['policy'].pk}:1",
    ):
        for name in ("reports:tracker", "reports:tracker_csv"):
            response = get_as(client, time_machine, rutland_qa, f"{reverse(name)}?{query}")
            assert response.status_code == 200
            body = text_of(response)
            assert "ESC-" not in body.replace(q["x1"].reference, ""), (name, query)
            assert "GL-" not in body


# --- the tracker -----------------------------------------------------------------------


@pytest.fixture
def tracker_as_qa(client, time_machine, qa):
    """tracker_as_qa("status=informal") -> the references listed, in order."""

    def get(query: str = "") -> list[str]:
        return listed(
            get_as(client, time_machine, qa.user, f"{reverse('reports:tracker')}?{query}")
        )

    return get


def test_tracker_filters(quarter, tracker_as_qa):
    q = quarter
    stage3 = Stage.objects.get(policy=q["policy"], order=3)
    cases = {
        "status=awaiting_response": refs(q["e3"], q["e5"]),
        "status=informal": refs(q["e4"]),
        "status=withdrawn": refs(q["e7"]),
        f"stage={stage3.pk}": refs(q["e3"]),
        f"category={q['unallocated'].pk}": refs(q["e2"]),
        f"category={q['lack'].pk}": refs(q["e1"], q["e3"]),
        f"team={q['south'].pk}": refs(q["e2"], q["e4"]),
        "team=none": refs(q["e3"]),
        f"chair={q['ben'].pk}": refs(q["e3"], q["e4"], q["e7"]),
        "overdue=1": refs(q["e3"], q["e4"]),
        # Raised Mon 9 – Thu 12 Nov 2026, London dates, both ends included.
        "from=2026-11-09&to=2026-11-12": refs(q["e4"], q["e5"]),
        "from=2026-11-12": refs(q["e5"], q["e6"]),
        "to=2024-11-04": refs(q["e10"]),
        # Combined: Ann's, in Q3, went formal.
        f"chair={q['ann'].pk}&level=formal&from=2026-10-01&to=2026-12-31": refs(q["e2"], q["e5"]),
    }
    for query, expected in cases.items():
        assert set(tracker_as_qa(query)) == expected, query


def test_tracker_sorting(quarter, tracker_as_qa):
    q = quarter
    by_raised = [
        q[k].reference for k in ("e10", "e9", "e0", "e1", "e2", "e3", "e7", "e4", "e5", "e6")
    ]
    assert tracker_as_qa("sort=raised") == by_raised
    assert tracker_as_qa("sort=-raised") == by_raised[::-1]
    assert tracker_as_qa("") == by_raised[::-1]  # newest first by default
    assert tracker_as_qa("sort=nonsense") == by_raised[::-1]
    by_pk = [q[k].reference for k in ("e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e9", "e10")]
    assert tracker_as_qa("sort=reference") == by_pk
    assert tracker_as_qa("sort=-reference") == by_pk[::-1]
    # By state code (awaiting_response < informal < resolved < withdrawn), then newest pk.
    assert tracker_as_qa("sort=status") == [
        q[k].reference for k in ("e5", "e3", "e4", "e10", "e9", "e6", "e2", "e1", "e0", "e7")
    ]


def test_tracker_keeps_the_filters_in_its_sort_page_and_csv_links(
    client, time_machine, quarter, qa
):
    q = quarter
    response = get_as(
        client,
        time_machine,
        qa.user,
        reverse("reports:tracker") + f"?chair={q['ben'].pk}&sort=raised",
    )
    page = response.content.decode()
    assert f"/reports/tracker.csv?chair={q['ben'].pk}&amp;sort=raised" in page
    assert f"?chair={q['ben'].pk}&amp;sort=-raised" in page  # the Raised column flips the order
    assert f'<option value="{q["ben"].pk}" selected>Ben Baker</option>' in page


# --- every filter combines with every other, in the page and the CSV ---------------------


def london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def deadline(step: Step) -> date | None:
    """The earlier of the step's own deadline and the formal cap (either may be missing)."""
    return min((d for d in (step.due_on, step.cap_due_on) if d is not None), default=None)


def judged(step: Step, today: date) -> str:
    """The step against its timescale, worked out here without the reporting code."""
    due = deadline(step)
    if due is None:
        return "none"
    if step.responded_at is not None:
        return "met" if london_day(step.responded_at) <= due else "missed"
    if step.closed_at is not None:
        return "closed" if london_day(step.closed_at) <= due else "missed"
    return "missed" if due < today else "pending"


OPEN = {"informal", "awaiting_response", "response_received"}
Filter = tuple[str, Callable[[Escalation], bool]]


def tracker_filters(q: dict) -> dict[str, Filter]:
    """Each tracker filter: a value for build_quarter's data, and who matches it (in plain
    Python over the objects). The values are chosen so that most pairs overlap without
    either containing the other; HAND_COUNTED lists who matches each alone."""
    policy = q["policy"]
    stage1 = Stage.objects.get(policy=policy, order=1)
    drift, north, ben = q["drift"], q["north"], q["ben"]
    theme = q["lack"].parent_id  # General Issues

    def steps(e: Escalation) -> list[Step]:
        return list(e.steps.all())

    return {
        "from": ("2026-10-20", lambda e: london_day(e.raised_at) >= date(2026, 10, 20)),
        "to": ("2026-11-05", lambda e: london_day(e.raised_at) <= date(2026, 11, 5)),
        "status": ("awaiting_response", lambda e: e.state == "awaiting_response"),
        "stage": (str(stage1.pk), lambda e: e.current_stage_id == stage1.pk),
        "category": (str(drift.pk), lambda e: drift in e.categories.all()),
        "theme": (
            str(theme),
            lambda e: any(theme in (c.pk, c.parent_id) for c in e.categories.all()),
        ),
        "team": (str(north.pk), lambda e: any(c.team_id == north.pk for c in e.children.all())),
        "chair": (str(ben.pk), lambda e: e.raised_by_id == ben.pk),
        "overdue": (
            "1",
            lambda e: (
                e.state in OPEN
                and any(
                    s.closed_at is None
                    and s.responded_at is None
                    and deadline(s) is not None
                    and deadline(s) < TODAY
                    for s in steps(e)
                )
            ),
        ),
        "open": ("1", lambda e: e.state in OPEN),
        "level": ("formal", lambda e: e.formal_started_at is not None),
        "highest": (
            f"{policy.pk}:0",
            lambda e: e.policy_id == policy.pk and max(s.stage_order for s in steps(e)) == 0,
        ),
        "timescale": ("missed", lambda e: any(judged(s, TODAY) == "missed" for s in steps(e))),
        "closed_from": (
            "2026-10-05",
            lambda e: e.closed_at is not None and london_day(e.closed_at) >= date(2026, 10, 5),
        ),
        "closed_to": (
            "2026-10-31",
            lambda e: e.closed_at is not None and london_day(e.closed_at) <= date(2026, 10, 31),
        ),
        "resolved": ("1", lambda e: e.state in ("resolved", "final_decision")),
        "nature": ("concern", lambda e: e.nature == "concern"),
    }


HAND_COUNTED = {
    "from": "e4 e5 e6 e7",  # raised from Tue 20 Oct
    "to": "e0 e1 e2 e3 e7 e9 e10",  # raised to Thu 5 Nov
    "status": "e3 e5",  # awaiting a response
    "stage": "e2 e5 e9",  # at Stage 1 now
    "category": "e3",  # Drift/delay
    "theme": "e1 e3",  # General Issues
    "team": "e0 e1 e5 e6 e7 e9 e10",  # North Team
    "chair": "e3 e4 e7",  # Ben
    "overdue": "e3 e4",
    "open": "e3 e4 e5",
    "level": "e2 e3 e5 e9",  # went formal
    "highest": "e0 e1 e4 e6 e7 e10",  # never beyond the informal stage
    "timescale": "e2 e3 e4",  # a step that missed its timescale
    "closed_from": "e1 e2 e6 e7",  # closed from Mon 5 Oct
    "closed_to": "e0 e1 e2 e9 e10",  # closed to Sat 31 Oct
    "resolved": "e0 e1 e2 e6 e9 e10",  # resolved or decided
    "nature": "e0 e1 e2 e3 e4 e5 e7 e9 e10",  # concerns (E6 is good practice)
}


def matching(q: dict, filters: dict[str, Filter], *keys: str) -> set[str]:
    everyone = Escalation.objects.filter(authority=q["authority"]).prefetch_related(
        "steps", "children", "categories"
    )
    return {e.reference for e in everyone if all(filters[k][1](e) for k in keys)}


TRACKER_FORM = re.compile(r'<form method="get" class="app-no-print">(.*?)</form>', re.S)


@pytest.fixture(scope="class")
def shared_quarter(django_db_setup, django_db_blocker, shipped_ladders):
    """build_quarter's data made once for a class of tests that only read it.

    Each test still runs in its own savepoint (the `db` fixture) inside this transaction,
    which is rolled back after the class: 120 builds would cost about a minute.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        if not Policy.objects.exists():  # a transactional test flushed the database
            load_ladders(copy.deepcopy(shipped_ladders))
        ladders = {p.slug: p for p in Policy.objects.select_related("authority")}
        authorities = {p.authority.slug: p.authority for p in ladders.values()}

        def staff_of(slug: str, role: str, **kwargs):
            return StaffMemberFactory(authority=authorities[slug], role=role, **kwargs)

        def child_of(slug: str, **kwargs):
            return ChildFactory(authority=authorities[slug], **kwargs)

        world = Scenario(ladders, staff_of, child_of)
        quarter = build_quarter(world)
        yield quarter, qa_of(world, GLOUCESTERSHIRE), tracker_filters(quarter)
        transaction.set_rollback(True)


@pytest.mark.usefixtures("db")
class TestEveryFilterCombinesWithEveryOther:
    def test_the_filters_paired_are_the_tracker_forms_fields(
        self, client, time_machine, shared_quarter
    ):
        _quarter, qa, filters = shared_quarter
        assert set(filters) == set(reporting.FILTER_KEYS)
        # With every filter in use the form carries each one (the dashboard's as hidden
        # fields) and nothing else: so the pairs below are the pairs of the form's fields.
        query = urlencode({key: value for key, (value, _) in filters.items()})
        page = get_as(client, time_machine, qa.user, f"{reverse('reports:tracker')}?{query}")
        [form] = TRACKER_FORM.findall(page.content.decode())
        names = set(re.findall(r'name="([^"]+)"', form))
        # A date the form asks for comes as a GOV.UK date input's three boxes.
        dates = {n.rsplit("_", 1)[0] for n in names if n.endswith(("_day", "_month", "_year"))}
        for key in dates:
            assert {f"{key}_day", f"{key}_month", f"{key}_year"} <= names
        names = {n for n in names if n.rsplit("_", 1)[0] not in dates} | dates
        assert names == set(reporting.FILTER_KEYS)

    @pytest.mark.parametrize("key", reporting.FILTER_KEYS)
    def test_each_filter_alone_lists_the_escalations_counted_by_hand(
        self, client, time_machine, shared_quarter, key
    ):
        quarter, qa, filters = shared_quarter
        expected = refs(*(quarter[name] for name in HAND_COUNTED[key].split()))
        assert matching(quarter, filters, key) == expected
        query = urlencode({key: filters[key][0]})
        tracker = reverse("reports:tracker")
        assert set(listed(get_as(client, time_machine, qa.user, f"{tracker}?{query}"))) == expected

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            pytest.param(a, b, id=f"{a}+{b}")
            for a, b in itertools.combinations(reporting.FILTER_KEYS, 2)
        ],
    )
    def test_every_pair_of_filters_is_applied_in_the_page_and_the_csv(
        self, client, time_machine, shared_quarter, first, second
    ):
        quarter, qa, filters = shared_quarter
        expected = matching(quarter, filters, first, second)
        query = urlencode({first: filters[first][0], second: filters[second][0]})
        tracker, csv_url = reverse("reports:tracker"), reverse("reports:tracker_csv")
        shown = listed(get_as(client, time_machine, qa.user, f"{tracker}?{query}"))
        exported = csv_refs(client.get(f"{csv_url}?{query}"))
        assert (sorted(shown), sorted(exported)) == (sorted(expected), sorted(expected))


def test_the_dashboards_timescale_link_combines_with_the_tracker_forms_filters(
    client, time_machine, quarter, qa
):
    q = quarter
    d = reporting.dashboard(q["authority"], Q3, TODAY, TRACKER)
    informal = next(row for row in d.timescales if row["stage"] == "Informal dispute resolution")
    link = informal["links"]["missed"]
    page = get_as(client, time_machine, qa.user, link)
    assert set(listed(page)) == refs(q["e2"], q["e4"])
    # The step's stage and dates ride along as hidden fields when the form is sent again.
    [form] = TRACKER_FORM.findall(page.content.decode())
    assert {"step_stage", "step_from", "step_to"} <= set(re.findall(r'name="([^"]+)"', form))
    # Narrowed to Ann's: E2 (E4 is Ben's), in the page and the CSV.
    narrowed = link.split("?", 1)[1] + f"&chair={q['ann'].pk}"
    assert listed(client.get(f"{reverse('reports:tracker')}?{narrowed}")) == [q["e2"].reference]
    assert csv_refs(client.get(f"{reverse('reports:tracker_csv')}?{narrowed}")) == [
        q["e2"].reference
    ]


def test_the_closed_without_a_response_link_lists_them_in_the_tracker_and_its_csv(
    client, time_machine, quarter, qa
):
    q = quarter
    d = reporting.dashboard(q["authority"], Q3, TODAY, TRACKER)
    informal = next(row for row in d.timescales if row["stage"] == "Informal dispute resolution")
    # E7 (withdrawn the day after it was raised), before its deadline and with no response.
    # (E6, resolved the day it was raised, is good practice: not in the concern figures.)
    assert informal["closed"] == 1
    query = informal["links"]["closed"].split("?", 1)[1]
    shown = listed(get_as(client, time_machine, qa.user, f"{reverse('reports:tracker')}?{query}"))
    exported = csv_refs(client.get(f"{reverse('reports:tracker_csv')}?{query}"))
    assert set(shown) == set(exported) == refs(q["e7"])


# --- many escalations, made quickly -----------------------------------------------------


def bulk_escalations(world: Scenario, n: int, slug: str = GLOUCESTERSHIRE) -> list[Escalation]:
    """`n` escalations with one step each, by bulk_create_with_history (history kept).

    Raised an hour apart from Thu 1 Oct 2026 09:00 (1,000 reach Tue 10 Nov), in four kinds
    in turn: informal open; Stage 1 awaiting a response; informal resolved; Stage 1 with a
    response received. Each is about one of four children (two teams) and has one category.
    """
    policy = world.ladders[slug]
    authority = policy.authority
    chairs = [world.chair(slug, "Bulk", f"Chair{i}") for i in range(3)]
    teams = [world.team(slug, f"Bulk Team {i}") for i in range(2)]
    children = [world.child(slug, team=teams[i % 2]) for i in range(4)]
    informal, stage1 = world.stage(slug, 0), world.stage(slug, 1)
    social_worker = world.staff_of(authority.slug, informal.role.slug)
    team_manager = world.staff_of(authority.slug, stage1.role.slug)
    items = list(ConcernCategory.objects.filter(policy=policy, parent__isnull=False)[:4])
    closures: frozenset[date] = frozenset()

    escalations, plans = [], []
    for i in range(n):
        raised = at(2026, 10, 1, 9) + timedelta(hours=i)
        kind = i % 4
        formal = kind in (1, 3)
        stage = stage1 if formal else informal
        cap = (
            formal_cap_deadline(
                policy=policy, authority=authority, started_at=raised, closures=closures
            )
            if formal
            else None
        )
        state = (State.INFORMAL, State.AWAITING_RESPONSE, State.RESOLVED, State.RESPONSE_RECEIVED)[
            kind
        ]
        closed = raised + timedelta(days=1) if kind == 2 else None
        escalations.append(
            Escalation(
                authority=authority,
                policy=policy,
                raised_by=chairs[i % 3],
                summary=f"Bulk concern {i}",
                state=state,
                current_stage=stage,
                raised_at=raised,
                formal_started_at=raised if formal else None,
                formal_cap_due_on=cap,
                closed_at=closed,
                outcome="Sorted." if closed else "",
            )
        )
        received_on, due_on = stage_deadline(
            stage=stage, authority=authority, received_at=raised, closures=closures
        )
        plans.append((stage, received_on, due_on, cap, closed, kind == 3))
    escalations = bulk_create_with_history(escalations, Escalation)

    steps = []
    for e, (stage, received_on, due_on, cap, closed, answered) in zip(
        escalations, plans, strict=True
    ):
        responder = team_manager if stage.order else social_worker
        steps.append(
            Step(
                escalation=e,
                authority=e.authority,
                sequence=1,
                stage=stage,
                responder=responder,
                raised_by=e.raised_by,
                raised_at=e.raised_at,
                stage_name=stage.name,
                stage_order=stage.order,
                mode=stage.mode,
                response_days=stage.response_days,
                day_type=stage.day_type,
                is_final=stage.final,
                received_on=received_on,
                due_on=due_on,
                cap_due_on=cap,
                response="Done." if answered else "",
                responded_at=e.raised_at + timedelta(days=1) if answered else None,
                responded_by=responder if answered else None,
                verdict=Verdict.SATISFACTORY if closed else "",
                verdict_at=closed,
                closed_at=closed,
            )
        )
    bulk_create_with_history(steps, Step)
    Escalation.children.through.objects.bulk_create(
        Escalation.children.through(escalation_id=e.pk, child_id=children[i % 4].pk)
        for i, e in enumerate(escalations)
    )
    Escalation.categories.through.objects.bulk_create(
        Escalation.categories.through(escalation_id=e.pk, concerncategory_id=items[i % 4].pk)
        for i, e in enumerate(escalations)
    )
    return escalations


def test_bulk_escalations_keep_their_history(world):
    made = bulk_escalations(world, 8)
    assert Escalation.history.filter(id__in=[e.pk for e in made]).count() == 8
    assert Step.history.filter(escalation_id__in=[e.pk for e in made]).count() == 8
    assert Escalation.objects.get(pk=made[1].pk).children.count() == 1


def test_tracker_pages_fifty_at_a_time(client, time_machine, world, qa):
    made = bulk_escalations(world, 120)
    tracker = reverse("reports:tracker")
    pages = [
        listed(get_as(client, time_machine, qa.user, f"{tracker}?sort=reference&page={p}"))
        for p in (1, 2, 3)
    ]
    # 120 = 50 + 50 + 20, in reference order, none twice.
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [ref for page in pages for ref in page] == [e.reference for e in made]
    response = client.get(f"{tracker}?sort=reference&page=2")
    page = response.content.decode()
    assert "Page 2 of 3" in page
    assert "&amp;sort=reference&amp;page=3" in page and "&amp;sort=reference&amp;page=1" in page
    assert "120 escalations" in page
    # A page past the end shows the last; a page that is not a number shows the first.
    assert listed(client.get(f"{tracker}?sort=reference&page=99")) == pages[2]
    assert listed(client.get(f"{tracker}?sort=reference&page=two")) == pages[0]
    # Filtered (kind 1: Stage 1 awaiting a response, 30 of them) and paged together.
    awaiting = listed(client.get(f"{tracker}?status=awaiting_response&sort=reference"))
    assert awaiting == [e.reference for e in made[1::4]]


# --- the CSV export ---------------------------------------------------------------------


def test_csv_is_exactly_what_the_tracker_filters(client, time_machine, quarter, qa):
    q = quarter
    csv_url, tracker = reverse("reports:tracker_csv"), reverse("reports:tracker")
    get_as(client, time_machine, qa.user, tracker)
    for query in (
        "",
        "sort=raised",
        f"chair={q['ben'].pk}&sort=raised",
        "overdue=1",
        f"team={q['north'].pk}&from=2026-10-01&to=2026-12-31",
        "status=resolved&sort=reference",
        f"timescale=missed&step_stage={q['policy'].pk}:0&from=2026-10-01&to=2026-12-31",
    ):
        assert csv_refs(client.get(f"{csv_url}?{query}")) == listed(
            client.get(f"{tracker}?{query}")
        ), query


def test_csv_rows_are_not_paged(client, time_machine, world, qa):
    made = bulk_escalations(world, 120)
    rows = csv_rows(
        get_as(client, time_machine, qa.user, reverse("reports:tracker_csv") + "?sort=reference")
    )
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == [e.reference for e in made]


def reply_outcome(step, today: date) -> str:
    """A step's outcome against its reply clock, worked out in Python from the Step's own
    predicates (reporting.classified_steps says the same in SQL)."""
    due = step.effective_due_on
    if due is None:
        return "none"
    if step.responded_at is not None:
        return "met" if timezone.localdate(step.responded_at) <= due else "missed"
    if step.closed_at is not None:
        return "closed" if timezone.localdate(step.closed_at) <= due else "missed"
    return "missed" if step.is_overdue(today) else "pending"


def addressed_to(step: Step | None) -> str:
    """The "Responder" cell from the models: the step's addressee, or on a stage addressed
    to several people each of them in the order asked, with the day each replied."""
    if step is None:
        return ""
    if not step.completion:
        return step.addressee_name
    return "; ".join(
        a.name
        + (f" (replied {timezone.localdate(a.responded_at).isoformat()})" if a.responded_at else "")
        for a in step.addressees.order_by("pk")
    )


def csv_as_built_from_the_models(qa, today: date) -> str:
    """The export as the view used to build it: a model instance per escalation, its open
    step and Clock, every child loaded; the reference the streamed one must equal."""
    authority = qa.authority
    closures = authority.closure_dates()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    escalations = Escalation.objects.filter(authority=authority).order_by("-raised_at", "-pk")
    for e in escalations:
        step = e.open_step()
        clock = selectors.Clock.of(step, today, authority.nation, closures) if step else None
        children = list(e.children.all())
        steps = list(e.steps.all())
        replies = [reply_outcome(s, today) for s in steps]
        writer.writerow(
            [
                _safe_cell(v)
                for v in (
                    e.reference,
                    timezone.localtime(e.raised_at).strftime("%Y-%m-%d"),
                    e.get_state_display(),
                    "Formal" if e.formal_started_at else "Informal",
                    e.current_stage.name if e.current_stage else "",
                    addressed_to(step),
                    clock.effective.isoformat() if clock and clock.effective else "",
                    "Yes" if clock and clock.overdue else "No",
                    e.raised_by.display_name,
                    " ".join(c.reference for c in children),
                    "; ".join(sorted({c.team.name for c in children if c.team})),
                    timezone.localtime(e.closed_at).strftime("%Y-%m-%d") if e.closed_at else "",
                    clock.issue_by.isoformat() if clock and clock.issue_by else "",
                    "Yes" if any(s.is_issue_overdue(today) for s in steps) else "No",
                    sum(1 for s in steps if s.was_issued_late is False),
                    sum(1 for s in steps if s.was_issued_late),
                    replies.count("met"),
                    replies.count("missed"),
                    "; ".join(
                        sorted(
                            (f"{c.parent.name}: {c.name}" if c.parent else c.name)
                            for c in e.categories.all()
                        )
                    ),
                    e.outcome,
                    e.outcome_for_child,
                    "; ".join(
                        f"{'Informal' if s.is_informal else f'Stage {s.stage_order}'}: "
                        f"{timezone.localtime(s.raised_at):%Y-%m-%d}"
                        for s in steps
                    ),
                )
            ]
        )
    return "\ufeff" + out.getvalue()


def test_csv_is_streamed_and_equals_the_export_built_from_the_models(
    client, time_machine, quarter, world, qa
):
    bulk_escalations(world, 40)
    chair = world.chair(GLOUCESTERSHIRE, "=Sum", "Smith")
    team = world.team(GLOUCESTERSHIRE, "@Risk Team")
    two = [world.child(GLOUCESTERSHIRE, f"GL-T{i}", team) for i in range(2)]
    world.raise_(GLOUCESTERSHIRE, at(2026, 11, 12), chair=chair, children=two)

    response = get_as(client, time_machine, qa.user, reverse("reports:tracker_csv"))

    assert response.streaming
    assert text_of(response) == csv_as_built_from_the_models(qa, TODAY)


def test_csv_row_contents(client, time_machine, quarter, qa):
    q = quarter
    rows = csv_rows(get_as(client, time_machine, qa.user, reverse("reports:tracker_csv")))
    by_ref = {r[0]: dict(zip(HEADER, r, strict=True)) for r in rows[1:]}
    e3 = by_ref[q["e3"].reference]
    # E3: Stage 3 (Head of Service) raised Tue 3 Nov, due Mon 9 Nov: overdue on 16 Nov.
    assert e3["Raised"] == "2026-10-19"
    assert e3["Status"] == "Awaiting response"
    assert e3["Level"] == "Formal"
    assert e3["Current stage"] == "Stage 3: Head of Service"
    assert (e3["Due"], e3["Overdue"]) == ("2026-11-09", "Yes")
    assert e3["Chair"] == "Ben Baker"
    assert (e3["Children (case references)"], e3["Teams"], e3["Closed"]) == ("GL-X1", "", "")
    e2 = by_ref[q["e2"].reference]
    assert (e2["Status"], e2["Responder"], e2["Due"], e2["Overdue"], e2["Closed"]) == (
        "Resolved",
        "",
        "",
        "No",
        "2026-10-23",
    )
    assert (e2["Teams"], e2["Level"]) == ("South Team", "Formal")
    e5 = by_ref[q["e5"].reference]
    assert (e5["Due"], e5["Overdue"]) == ("2026-11-18", "No")  # Wed 18 Nov: not yet


@pytest.fixture
def pat(world):
    """Gloucestershire's Stage 1 opened to partner agencies, and a police contact."""
    Stage.objects.filter(policy=world.ladders[GLOUCESTERSHIRE], order=1).update(
        partner_responders=True
    )
    return Partner.objects.create(
        authority=world.authority_of(GLOUCESTERSHIRE),
        name="Pat Police",
        job_title="Detective Inspector",
        organisation="Gloucestershire Constabulary",
        email="pat.police@police.example",
    )


def csv_row_of(client, time_machine, qa, escalation) -> dict[str, str]:
    rows = csv_rows(get_as(client, time_machine, qa.user, reverse("reports:tracker_csv")))
    return dict(zip(HEADER, next(r for r in rows if r[0] == escalation.reference), strict=True))


def test_csv_names_a_partner_responder_with_their_organisation(
    client, time_machine, world, qa, pat
):
    escalation = escalation_raise(
        actor=world.chair(GLOUCESTERSHIRE),
        policy=world.ladders[GLOUCESTERSHIRE],
        categories=first_category(world.ladders[GLOUCESTERSHIRE]),
        children=[world.child(GLOUCESTERSHIRE)],
        summary="The core group has not met.",
        stage=world.stage(GLOUCESTERSHIRE, 1),
        partner=pat,
        reason="The police hold the information.",
        now=at(2026, 11, 12),
    )

    row = csv_row_of(client, time_machine, qa, escalation)

    assert row["Responder"] == "Pat Police (Gloucestershire Constabulary)"


def test_csv_lists_everyone_a_stage_is_addressed_to_and_who_replied_when(
    client, time_machine, world, qa, pat
):
    stage = world.stage(GLOUCESTERSHIRE, 1)
    stage.addresses_several = True
    stage.save()
    stage.also_roles.set(Role.objects.filter(slug="social-worker"))
    g = GLOUCESTERSHIRE
    manager = world.staff_of(g, "team-manager", user__first_name="Tess", user__last_name="Team")
    worker = world.staff_of(g, "social-worker", user__first_name="Wren", user__last_name="Worker")
    escalation = escalation_raise(
        actor=world.chair(g),
        policy=world.ladders[g],
        categories=first_category(world.ladders[g]),
        children=[world.child(g)],
        summary="The core group has not met.",
        stage=stage,
        responder=manager,
        addressees=[manager, worker, pat],
        reason="Straight to the formal stage.",
        now=at(2026, 11, 12),
    )
    step_respond(
        actor=worker,
        step=Step.objects.get(escalation=escalation),
        response="Visits booked.",
        now=at(2026, 11, 13),
    )

    row = csv_row_of(client, time_machine, qa, escalation)

    assert row["Responder"] == (
        "Tess Team; Wren Worker (replied 2026-11-13); Pat Police (Gloucestershire Constabulary)"
    )


def test_the_tracker_and_quarterly_report_list_a_partner_step_with_its_deadline(
    client, time_machine, world, qa, pat
):
    # Raised Thu 12 Nov, 4 working days: due Wed 18 Nov. Neither page names responders
    # (the quarterly report holds case references only); both show the step's clock.
    escalation = escalation_raise(
        actor=world.chair(GLOUCESTERSHIRE),
        policy=world.ladders[GLOUCESTERSHIRE],
        categories=first_category(world.ladders[GLOUCESTERSHIRE]),
        children=[world.child(GLOUCESTERSHIRE)],
        summary="The core group has not met.",
        stage=world.stage(GLOUCESTERSHIRE, 1),
        partner=pat,
        reason="The police hold the information.",
        now=at(2026, 11, 12),
    )

    for name in ("reports:tracker", "reports:quarterly"):
        page = text_of(get_as(client, time_machine, qa.user, reverse(name)))
        assert escalation.reference in page
        assert "Wed 18 Nov 2026" in page


def test_csv_overdue_column_agrees_with_the_overdue_filter(
    client, time_machine, quarter, world, qa
):
    # A response received after the deadline (Stage 3, 4 WD from Mon 2 Nov: due Fri 6 Nov;
    # answered Thu 12 Nov) leaves the step open for the chair's verdict: not overdue now,
    # as the dashboard and the overdue filter count it.
    late = world.raise_(GLOUCESTERSHIRE, at(2026, 11, 2), stage=3, chair=quarter["ann"])
    world.respond(late, at(2026, 11, 12))
    csv_url = reverse("reports:tracker_csv")
    rows = csv_rows(get_as(client, time_machine, qa.user, csv_url))
    overdue = set(csv_refs(client.get(f"{csv_url}?overdue=1")))
    assert overdue == refs(quarter["e3"], quarter["e4"])
    assert {r[0] for r in rows[1:] if r[HEADER.index("Overdue")] == "Yes"} == overdue
    late_row = next(r for r in rows if r[0] == late.reference)
    assert (late_row[2], late_row[6], late_row[7]) == ("Response received", "2026-11-06", "No")
    # The tracker flags the same two (E3, E4) as overdue.
    page = client.get(reverse("reports:tracker")).content.decode()
    assert page.count('govuk-tag--red">Overdue<') == 2


def test_csv_neutralises_cells_excel_would_run(client, time_machine, world, qa):
    g = GLOUCESTERSHIRE
    chair = world.chair(g, "=cmd|' /C calc'!A0", "Smith")
    team = world.team(g, "@Risk Team")
    child = world.child(g, "+44 7700 900123", team)
    responder = world.staff_of(g, "social-worker", user__first_name="-2+3", user__last_name="Jones")
    e = world.raise_(g, at(2026, 11, 12), chair=chair, children=[child], responder=responder)
    rows = csv_rows(get_as(client, time_machine, qa.user, reverse("reports:tracker_csv")))
    row = dict(zip(HEADER, next(r for r in rows if r[0] == e.reference), strict=True))
    assert row["Chair"] == "'=cmd|' /C calc'!A0 Smith"
    assert row["Children (case references)"] == "'+44 7700 900123"
    assert row["Teams"] == "'@Risk Team"
    assert row["Responder"] == "'-2+3 Jones"
    for r in rows:
        for cell in r:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell


def test_csv_downloads_are_in_the_access_log(client, time_machine, quarter, qa):
    q = quarter
    get_as(client, time_machine, qa.user, reverse("reports:tracker_csv") + f"?chair={q['ben'].pk}")
    client.get(reverse("reports:tracker_csv"))
    logged = list(
        AccessLog.objects.filter(user=qa.user, action__startswith="export csv").order_by("pk")
    )
    # Ben's three, then all ten of Gloucestershire's.
    assert [a.action for a in logged] == [
        "export csv (3 escalations)",
        "export csv (10 escalations)",
    ]
    # Viewing the tracker or the dashboard is not an export.
    client.get(reverse("reports:tracker"))
    assert AccessLog.objects.filter(action__startswith="export csv").count() == 2


def test_the_quarterly_report_is_logged_and_shows_case_references_only(
    client, time_machine, world, qa
):
    g = GLOUCESTERSHIRE
    child = world.child(g, "GL-Q1", first_name="Poppy", last_name="Zebedee")
    e = world.raise_(g, at(2026, 11, 12), children=[child])
    response = get_as(
        client, time_machine, qa.user, reverse("reports:quarterly") + "?quarter=2026-27-Q3"
    )
    page = response.content.decode()
    assert "Escalations report: 2026-27 Q3" in page
    assert e.reference in page and "GL-Q1" in page
    assert "Poppy" not in page and "Zebedee" not in page
    assert AccessLog.objects.filter(user=qa.user, action="quarterly report").count() == 1


def test_the_quarterly_report_shows_an_answered_step_awaiting_the_chair_not_overdue(
    client, time_machine, world, qa
):
    # Stage 1 raised Monday 2 November (due Friday 6th), answered Tuesday 3rd, seen on the
    # 20th: the dashboard's "overdue now" and the open-cases table must agree.
    e = world.raise_(GLOUCESTERSHIRE, at(2026, 11, 2), stage=1)
    world.respond(e, at(2026, 11, 3))
    response = get_as(
        client, time_machine, qa.user, reverse("reports:quarterly"), today=date(2026, 11, 20)
    )
    page = response.content.decode()
    assert response.context["d"].overdue_now == 0
    cases = page.split("Open and overdue cases now", 1)[1]
    assert e.reference in cases
    assert "Awaiting the chair" in cases
    assert "Overdue" not in cases


# --- odd requests: a plain page, never a 500 --------------------------------------------

BIG = "99999999999999999999"


@pytest.mark.usefixtures("db")
class TestOddRequests:
    """Read-only: one build_quarter for every odd request (shared_quarter)."""

    @pytest.fixture
    def quarter(self, shared_quarter) -> dict:
        return shared_quarter[0]

    @pytest.mark.parametrize(
        "query",
        [
            f"category={BIG}",
            f"team={BIG}",
            f"chair={BIG}",
            f"stage={BIG}",
            f"theme={BIG}",
            "theme=-1",
            f"highest=1:{BIG}",
            "highest=::",
            "highest=a:b",
            "timescale=missed&step_stage=x:y",
            f"timescale=met&step_stage=1:{BIG}",
            "timescale=none&from=2026-10-01&to=2026-12-31",
            "timescale=closed&step_from=0001-01-01&step_to=9999-12-31",
            "timescale=met&step_from=yesterday&step_to=2026-02-30",
            "page=abc",
            "page=-1",
            f"page={BIG}",
            "from=2026-13-01",
            "to=9999-12-31",
            "from=0001-01-01",
            "closed_to=9999-12-31",
            "closed_from=0001-01-01&closed_to=0001-01-01",
            "from=2026-12-31&to=2026-01-01",
            "sort=raised_at;DROP TABLE",
            "status=<script>",
            "quarter=2026-27-Q3&from=x&to=y",
        ],
    )
    @pytest.mark.parametrize("name", sorted(REPORT_VIEWS))
    def test_odd_parameters_never_cause_a_500(self, client, time_machine, quarter, qa, name, query):
        response = get_as(client, time_machine, qa.user, f"{reverse(name)}?{query}")
        assert response.status_code == 200, response.status_code
        assert "<script>" not in text_of(response).replace("<script src", "")


# --- query counts: fixed, however many escalations there are ---------------------------

# Measured, the same on SQLite and PostgreSQL and at 10 and 1,000 escalations: the
# dashboard 22, the tracker 19, the CSV 12, the quarterly report 27. (Each includes the
# session, the user, the staff record and the header's unread count; the tracker and
# the quarterly report their access-log row.) One bound for both
# sizes: a query per escalation would break it at once.
QUERY_BOUNDS = {
    # The dashboard and report: +8 for the board's questions (reporting.board_questions),
    # +2 to read the stored figures (the data's fingerprint and the stored row) and +6
    # to store them after counting (reports/figures.py); read from the store, the
    # counting queries are not asked at all (tests/reports/test_stored_figures.py).
    "reports:dashboard": 40,
    "reports:tracker": 19,
    "reports:tracker_csv": 12,
    "reports:quarterly": 43,
}


@pytest.mark.parametrize("n", [10, 1000])
def test_report_queries_do_not_grow_with_the_number_of_escalations(
    client, time_machine, world, qa, django_assert_max_num_queries, n
):
    made = bulk_escalations(world, n)
    assert Escalation.objects.filter(authority=qa.authority).count() == n
    time_machine.move_to(noon(TODAY), tick=False)
    client.force_login(qa.user)
    policy = world.ladders[GLOUCESTERSHIRE]
    urls = {
        "reports:dashboard": ["", "?quarter=2026-27-Q3"],
        "reports:tracker": [
            "",
            "?overdue=1&sort=status",
            f"?timescale=missed&step_stage={policy.pk}:0",
        ],
        "reports:tracker_csv": ["", "?open=1"],
        "reports:quarterly": [""],
    }
    for name, queries in urls.items():
        for query in queries:
            with django_assert_max_num_queries(QUERY_BOUNDS[name]):
                response = client.get(reverse(name) + query)
                text_of(response)  # a streamed CSV runs its queries as it is read
            assert response.status_code == 200
    # The CSV really did carry every row.
    assert len(csv_refs(client.get(reverse("reports:tracker_csv")))) == len(made)


# --- the conference view --------------------------------------------------------------


def test_the_conference_view_lists_escalations_raised_since_the_previous_conference(
    client, time_machine, world
):
    r = RUTLAND
    child = world.child(r, "RT-C1")
    sibling = world.child(r, "RT-C2")
    other = world.child(r, "RT-C3")
    Conference.objects.create(child=child, kind="icpc", date=date(2026, 6, 1))
    Conference.objects.create(child=child, kind="rcpc", date=date(2026, 9, 1))  # the previous
    Conference.objects.create(child=child, kind="rcpc", date=date(2026, 12, 1))  # not yet held
    # The chair tells the conference of the escalations they raised (Rutland), and sees no
    # other chair's.
    chair = world.chair(r)
    before = world.raise_(r, at(2026, 8, 10), chair=chair, children=[child])
    # 00:30 London on Wed 2 Sep is 23:30 UTC on Tue 1 Sep, the conference day: still after it.
    just_after = world.raise_(r, at(2026, 9, 2, 0, 30), chair=chair, children=[child])
    later = world.raise_(r, at(2026, 10, 5), chair=chair, children=[child, sibling])
    not_this_child = world.raise_(r, at(2026, 10, 5), chair=chair, children=[other])

    response = get_as(
        client, time_machine, chair.user, reverse("children:conference", args=[child.pk])
    )
    assert response.status_code == 200
    listed_refs = set(listed(response))
    assert listed_refs == refs(just_after, later)
    assert before.reference not in listed_refs and not_this_child.reference not in listed_refs
    assert AccessLog.objects.filter(user=chair.user, action="conference view", child=child).exists()

    # With no conference yet, every escalation on the child is listed.
    response = client.get(reverse("children:conference", args=[sibling.pk]))
    assert set(listed(response)) == refs(later)


def test_the_conference_view_is_refused_for_another_authoritys_child(client, time_machine, world):
    child = world.child(RUTLAND, "RT-C9")
    world.raise_(RUTLAND, at(2026, 10, 5), children=[child])
    outsider = world.chair(GLOUCESTERSHIRE)
    response = get_as(
        client, time_machine, outsider.user, reverse("children:conference", args=[child.pk])
    )
    assert response.status_code == 404
    assert "RT-C9" not in response.content.decode()


def test_the_quarterly_report_says_when_it_could_not_read_the_quarter_asked_for(
    client, ladders, staff_of
):
    client.force_login(staff_of("rutland", "qa-manager").user)
    page = client.get("/reports/quarterly/?quarter=not-a-quarter").content.decode()
    assert "That quarter is not recognised; showing the current quarter." in page
