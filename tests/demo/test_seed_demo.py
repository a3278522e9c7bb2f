"""The demo data: a council's teams and lines, children across them, escalations in every state."""

import io
from collections import Counter, defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from children.models import Child
from escalations.models import Escalation, State, Step
from notifications.models import Kind, Notification
from policies.models import LocalAuthority, Stage
from staff.models import StaffMember, Team
from staff.services import AUTHORITY_ADMIN_GROUP

SHIPPED = ("cwm-taf", "gloucestershire", "mosaic-authority", "rutland", "stoke-on-trent")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> str:
    """seed_demo once for the module (3.5 s a run), in a transaction rolled back after
    it; each test runs in a savepoint inside it (the `db` fixture). What it printed."""
    printed = io.StringIO()
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_policies", stdout=io.StringIO())
        call_command("seed_demo", stdout=printed)
        yield printed.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def demo(db, seeded) -> str:
    return seeded


def test_demo_has_escalations_in_every_state(demo):
    states = set(Escalation.objects.values_list("state", flat=True))
    assert states >= {
        State.INFORMAL,
        State.AWAITING_RESPONSE,
        State.RESPONSE_RECEIVED,
        State.RESOLVED,
        State.FINAL_DECISION,
        State.WITHDRAWN,
    }


def test_demo_has_overdue_steps(demo):
    from django.utils import timezone

    today = timezone.localdate()
    overdue = [
        s
        for e in Escalation.objects.filter(state=State.AWAITING_RESPONSE)
        for s in e.steps.filter(closed_at__isnull=True)
        if s.effective_due_on and s.effective_due_on < today
    ]
    assert overdue


def test_demo_has_a_dozen_children_with_plans(demo):
    assert Child.objects.filter(plans__isnull=False).distinct().count() >= 12


def test_demo_has_staff_for_every_rung_of_two_authorities(demo):
    for slug in ("rutland", "gloucestershire"):
        roles = set(
            StaffMember.objects.filter(authority__slug=slug).values_list("role__slug", flat=True)
        )
        ladder_roles = set(
            Stage.objects.filter(policy__authority__slug=slug).values_list("role__slug", flat=True)
        )
        assert ladder_roles <= roles
        assert {"cp-chair", "qa-manager"} <= roles


def test_demo_prints_the_logins_and_password(demo):
    assert "escalate-demo-2026" in demo
    assert "rutland.cp-chair" in demo


def test_demo_refuses_to_run_twice_unless_asked_to_skip(demo):
    with pytest.raises(CommandError, match="already loaded"):
        call_command("seed_demo")
    call_command("seed_demo", "--if-empty")
    assert Escalation.objects.count() == 12


def test_a_demo_chair_signs_in_and_sees_their_escalations(demo, client):
    response = client.post(
        reverse("login"),
        {"username": "rutland.cp-chair", "password": "escalate-demo-2026"},
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "My escalations" in page
    assert "Overdue" in page


def _holders(authority: str, role: str) -> list[StaffMember]:
    return list(StaffMember.objects.filter(authority__slug=authority, role__slug=role))


def _line(children) -> set[StaffMember]:
    """The children's social workers and everyone above them; for a child with no social
    worker, their team's managers and everyone above those."""
    line: set[StaffMember] = set()
    for child in children:
        start = (
            [child.social_worker]
            if child.social_worker
            else list(StaffMember.objects.filter(team=child.team, role__slug="team-manager"))
        )
        for person in start:
            line |= {person, *person.line_chain()}
    return line


def test_every_authority_has_two_teams_of_three_social_workers_and_two_team_managers(demo):
    for slug in SHIPPED:
        teams = Team.objects.filter(authority__slug=slug)
        assert teams.count() == 2, slug
        for team in teams:
            roles = Counter(team.members.values_list("role__slug", flat=True))
            assert roles["social-worker"] == 3, (slug, team.name)
            assert roles["team-manager"] == 2, (slug, team.name)


def test_every_authority_has_two_chairs_and_two_qa_managers(demo):
    for slug in SHIPPED:
        assert len(_holders(slug, "cp-chair")) == 2, slug
        assert len(_holders(slug, "qa-manager")) == 2, slug


def test_single_posts_have_one_holder_and_other_management_roles_several(demo):
    for slug, role in (
        ("rutland", "director-for-people"),
        ("rutland", "lscb-independent-chair"),
        ("rutland", "cafcass"),
        ("gloucestershire", "assistant-director"),
        ("gloucestershire", "director-childrens-services"),
        ("gloucestershire", "chief-executive"),
        ("stoke-on-trent", "director-childrens-services"),
        ("cwm-taf", "qasg-chair"),
    ):
        assert len(_holders(slug, role)) == 1, (slug, role)
    for slug, role in (
        ("rutland", "service-manager"),
        ("rutland", "head-of-service"),
        ("gloucestershire", "head-of-service"),
        ("stoke-on-trent", "strategic-manager"),
        ("mosaic-authority", "line-manager"),
        ("cwm-taf", "cp-coordinator"),
    ):
        assert len(_holders(slug, role)) >= 2, (slug, role)


def test_every_social_worker_reports_to_a_team_manager_of_their_own_team(demo):
    workers = StaffMember.objects.filter(role__slug="social-worker").select_related(
        "line_manager__role"
    )
    assert workers.count() == 6 * len(SHIPPED)
    for worker in workers:
        manager = worker.line_manager
        if worker.authority.slug == "mosaic-authority":
            # Mosaic's informal stage is "the Line Manager", between worker and team manager.
            assert manager.role.slug == "line-manager"
            manager = manager.line_manager
        assert manager.role.slug == "team-manager", worker.user.username
        assert manager.team_id == worker.team_id, worker.user.username


def test_rutland_lines_run_from_each_team_up_to_the_one_director(demo):
    tops = set()
    middles = set()
    for worker in _holders("rutland", "social-worker"):
        chain = worker.line_chain()
        assert [p.role.slug for p in chain] == [
            "team-manager",
            "service-manager",
            "head-of-service",
            "director-for-people",
        ], worker.user.username
        middles.add((worker.team_id, chain[1].pk, chain[2].pk))
        tops.add(chain[-1].pk)
    # Each team has its own service manager and head of service; they meet at the Director.
    assert len(middles) == 2
    assert len({m[1] for m in middles}) == 2
    assert len(tops) == 1


def test_gloucestershire_chairs_report_to_the_conference_team_manager(demo):
    # Later Gloucestershire stages copy the chair's own manager.
    for chair in _holders("gloucestershire", "cp-chair"):
        assert chair.line_manager.role.slug == "cp-conference-team-manager"


def test_children_are_allocated_across_both_teams_and_several_social_workers(demo):
    for slug in SHIPPED:
        children = Child.objects.filter(authority__slug=slug)
        assert children.values("team").distinct().count() == 2, slug
        workers = {c.social_worker_id for c in children if c.social_worker_id}
        assert len(workers) >= 4, slug
        assert children.filter(social_worker__isnull=True).exists(), slug
        for child in children.exclude(social_worker__isnull=True):
            assert child.social_worker.team_id == child.team_id, child.reference


def test_siblings_come_with_one_social_worker_and_with_two(demo):
    families = defaultdict(set)
    for child in Child.objects.all():
        families[(child.authority_id, child.team_id, child.last_name)].add(child)
    siblings = [f for f in families.values() if len(f) > 1]
    workers = [{c.social_worker_id for c in family} for family in siblings]
    assert any(len(w) == 1 for w in workers)
    assert any(len(w) >= 2 for w in workers)


def test_each_responder_is_the_holder_of_the_stage_role_in_the_childrens_line(demo):
    chosen_among_several = 0
    for step in Step.objects.select_related("stage", "responder", "escalation"):
        line = _line(step.escalation.children.all())
        if not any(p.role_id == step.stage.role_id for p in line):
            continue  # a single post, or a role outside the line (CAFCASS, a coordinator)
        assert step.responder in line, (step.escalation.reference, step.stage_name)
        if len(_holders(step.escalation.authority.slug, step.stage.role.slug)) > 1:
            chosen_among_several += 1
    # Picking by role alone would have been wrong for these: the role has other holders.
    assert chosen_among_several >= 5


def test_escalations_are_spread_across_both_chairs(demo):
    for slug in ("rutland", "gloucestershire"):
        raisers = set(
            Escalation.objects.filter(authority__slug=slug).values_list("raised_by", flat=True)
        )
        assert raisers == {c.pk for c in _holders(slug, "cp-chair")}, slug


def test_demo_copies_reach_no_social_worker_or_team_manager_outside_the_childrens_line(demo):
    copies = Notification.objects.filter(kind=Kind.STEP_COPIED).select_related(
        "recipient__role", "step__escalation"
    )
    assert copies.filter(recipient__role__slug__in=["social-worker", "team-manager"]).exists()
    for copy in copies:
        if copy.recipient.role.slug in ("social-worker", "team-manager"):
            assert copy.recipient in _line(copy.step.escalation.children.all()), (
                copy.step.escalation.reference,
                copy.recipient.user.username,
            )


def test_every_authority_has_its_own_administrator(demo):
    for slug in SHIPPED:
        user = get_user_model().objects.get(username=f"{slug}.admin")
        assert user.is_staff and not user.is_superuser
        assert user.groups.filter(name=AUTHORITY_ADMIN_GROUP).exists()
        assert user.staff.authority == LocalAuthority.objects.get(slug=slug)


def test_the_documented_demo_accounts_keep_their_names_and_password(demo):
    for username in (
        "admin",
        "rutland.cp-chair",
        "rutland.cp-chair-2",
        "rutland.team-manager",
        "rutland.qa-manager",
        "rutland.social-worker",
        "gloucestershire.qa-manager",
        "gloucestershire.head-of-service",
        "rutland.admin",
    ):
        user = get_user_model().objects.get(username=username)
        assert user.check_password("escalate-demo-2026"), username


def test_demo_prints_the_accounts_by_authority_and_role(demo):
    lines = demo.splitlines()
    rutland = lines.index("Rutland County Council")
    section = lines[rutland + 1 : lines.index("", rutland)]
    row = next(line for line in section if "Social Worker, Safeguarding Team South" in line)
    assert row.split()[-3:] == [
        "rutland.social-worker-4,",
        "rutland.social-worker-5,",
        "rutland.social-worker-6",
    ]
    assert any(line.split()[-1] == "rutland.director-for-people" for line in section)
    assert any(line.split()[-1] == "rutland.admin" for line in section)
