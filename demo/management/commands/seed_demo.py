"""Demo data that looks like a council: teams, lines of managers, children and escalations.

Every shipped authority gets two teams with three social workers and two team managers
each, two chairs, two QA managers, several holders of every other management role (one
per team) and one holder of each single post, all in a management line; children
allocated across the teams (siblings with one social worker and with two; one child
waiting for a social worker); and escalations in every state spread across the chairs,
so the demo shows who is and is not told. Built through the same services the screens
use, with `now` set in the past so some steps are overdue today. Refuses to run twice (it
would duplicate the children).
"""

import itertools
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from children.models import Child, ChildProtectionPlan, Conference, ConferenceKind, PlanCategory
from escalations import services
from escalations.models import Escalation, Nature, Step
from policies.models import ConcernCategory, LocalAuthority, Policy, PolicyKind, Role, Stage
from policies.working_days import add_working_days
from staff.models import Partner, StaffMember, Team
from staff.services import authority_admin_grant, authority_admin_group_ensure

DEMO_PASSWORD = "escalate-demo-2026"  # noqa: S105 - printed on purpose: demo accounts only

FIRST_NAMES = [
    "Amelia",
    "Oliver",
    "Isla",
    "Noah",
    "Ava",
    "Leo",
    "Mia",
    "Arthur",
    "Ivy",
    "Oscar",
    "Freya",
    "Theo",
    "Lily",
    "Finley",
    "Rosie",
]
LAST_NAMES = [
    "Turner",
    "Hughes",
    "Evans",
    "Price",
    "Morgan",
    "Bennett",
    "Carter",
    "Lloyd",
    "Walsh",
    "Doyle",
]
STAFF_FIRST_NAMES = [
    "Aisha",
    "Ben",
    "Chloe",
    "Dev",
    "Ella",
    "Farid",
    "Grace",
    "Harry",
    "Imogen",
    "Jack",
    "Kiran",
    "Laura",
    "Mohammed",
    "Nadia",
    "Owen",
    "Priya",
    "Rhys",
    "Sarah",
    "Tom",
    "Uma",
    "Victor",
    "Wendy",
    "Yusuf",
    "Zara",
]
STAFF_SURNAMES = [
    "Ahmed",
    "Baker",
    "Clarke",
    "Davies",
    "Ellis",
    "Foster",
    "Gray",
    "Hall",
    "Irving",
    "Jones",
    "Khan",
    "Lewis",
    "Mills",
    "Nash",
    "Owen",
    "Patel",
    "Quinn",
    "Reid",
    "Shaw",
    "Taylor",
    "Usman",
    "Vaughan",
    "Wood",
    "Young",
]


TEAM_NAMES = ("Safeguarding Team North", "Safeguarding Team South")
# How many hold each team role in every team.
PER_TEAM = {"social-worker": 3, "team-manager": 2, "line-manager": 2}
# Posts one person holds in a council; a stage that copies "the Director" copies them.
SINGLE_POSTS = frozenset(
    {
        "assistant-director",
        "cafcass",
        "chief-executive",
        "cp-conference-team-manager",
        "cp-service-manager",
        "director-childrens-services",
        "director-for-people",
        "divisional-director",
        "lead-safeguarding-manager",
        "lscb-independent-chair",
        "qasg-chair",
        "service-manager-sqa",
    }
)
# Roles with a set number of holders; every other role has one holder per team.
HOLDERS = {"cp-chair": 2, "qa-manager": 2, "cp-coordinator": 3, "conference-attendee": 3}
AGENCIES = ("Health", "Police", "Education")
AUTHORITY_ADMIN_ROLE = ("authority-admin", "Authority administrator")

# Who reports to whom, bottom up. The first line is the one above a child's social
# worker (the line a stage's "case line" copies reach); the others are the chairs'
# managers (whom "raiser line" copies reach) and the safeguarding unit's. Roles an
# authority's ladders do not name are skipped.
LINES: dict[str, tuple[tuple[str, ...], ...]] = {
    "rutland": (
        (
            "social-worker",
            "team-manager",
            "service-manager",
            "head-of-service",
            "director-for-people",
        ),
        ("cp-chair", "qa-manager"),
    ),
    "gloucestershire": (
        (
            "social-worker",
            "team-manager",
            "head-of-service",
            "assistant-director",
            "director-childrens-services",
            "chief-executive",
        ),
        ("cp-chair", "cp-conference-team-manager", "cp-service-manager"),
    ),
    "mosaic-authority": (
        ("social-worker", "line-manager", "team-manager", "service-manager", "divisional-director"),
        ("cp-chair", "service-manager-sqa", "divisional-director"),
    ),
    "stoke-on-trent": (
        (
            "social-worker",
            "team-manager",
            "service-manager",
            "strategic-manager",
            "assistant-director",
            "director-childrens-services",
        ),
        ("cp-chair", "cp-service-manager"),
    ),
    "cwm-taf": (
        ("social-worker", "team-manager"),
        ("cp-chair", "lead-safeguarding-manager"),
        ("cp-coordinator", "lead-safeguarding-manager"),
    ),
}

# Each authority's children: (team index, allocated social worker's handle, family).
# Children of one family share a surname and a team, so the raise form offers them
# together: one pair with one social worker, three siblings with two social workers.
CHILDREN: tuple[tuple[int, str | None, int], ...] = (
    (0, "social-worker", 0),
    (0, "social-worker", 0),
    (0, "social-worker-2", 1),
    (0, "social-worker-3", 2),
    (1, "social-worker-4", 3),
    (1, "social-worker-4", 3),
    (1, "social-worker-5", 3),
    (1, None, 4),  # waiting for a social worker: the team's managers answer for them
    (1, "social-worker-6", 5),
)
PLAN_CATEGORIES = (
    PlanCategory.NEGLECT,
    PlanCategory.EMOTIONAL,
    PlanCategory.PHYSICAL,
    PlanCategory.MULTIPLE,
    PlanCategory.SEXUAL,
)


def handle_of(slug: str, number: int) -> str:
    """The first holder of a role keeps the plain name (`rutland.team-manager`)."""
    return slug if number == 1 else f"{slug}-{number}"


def case_line(children: Iterable[Child]) -> list[StaffMember]:
    """The children's social workers and the managers above them, nearest first.

    A child with no social worker is their team's: the line starts at its team managers.
    """
    line: list[StaffMember] = []
    for child in children:
        if child.social_worker is not None:
            start = [child.social_worker]
        else:
            start = list(
                # A child of no team matches managers of no team (None: IS NULL), which
                # django-stubs' lookup check does not allow for.
                StaffMember.objects.filter(team_id=child.team_id, role__slug="team-manager")  # type: ignore[misc]
            )
        for person in start:
            for member in [person, *person.line_chain()]:
                if member not in line:
                    line.append(member)
    return line


# Each authority's partner directory: (name, job title, organisation, mailbox).
PARTNERS = (
    (
        "Priya Constable",
        "Detective Inspector, Public Protection Unit",
        "{place} Police",
        "priya.constable",
    ),
    (
        "Helen Nightingale",
        "Designated Nurse for Safeguarding Children",
        "{place} Integrated Care Board (NHS)",
        "helen.nightingale",
    ),
    (
        "Edward Schofield",
        "Head of Education Safeguarding",
        "{place} Education Service",
        "edward.schofield",
    ),
)


class Command(BaseCommand):
    help = "Create demo staff, children and escalations (run load_policies first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) if demo data is already there.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        if User.objects.filter(username="admin").exists():
            if options["if_empty"]:
                self.stdout.write("Demo data is already loaded.")
                self._print_logins()
                return
            raise CommandError("Demo data is already loaded (the user 'admin' exists).")
        if not Policy.objects.exists():
            raise CommandError("No policies yet: run `python manage.py load_policies` first.")
        # Hashed once: over a hundred demo accounts share the one printed password, and
        # hashing it for each would make every fresh `dev.py run` wait about a minute.
        self._password = make_password(DEMO_PASSWORD)
        self._first_name = itertools.cycle(STAFF_FIRST_NAMES[::-1])
        # One name fewer than the first names, so no full name repeats for 552 people.
        self._surname = itertools.cycle(STAFF_SURNAMES[:-1])
        authorities = list(LocalAuthority.objects.filter(policies__isnull=False).distinct())
        with transaction.atomic():
            User.objects.create_superuser(
                "admin",
                "admin@example.invalid",
                DEMO_PASSWORD,
                first_name="System",
                last_name="Administrator",
            )
            for i, authority in enumerate(authorities):
                self._staff_for(authority)
                self._partners_of(authority)
                self._children_of(authority, i)
            self._escalations(timezone.now())
            authority_admin_group_ensure()
            for authority in authorities:
                self._authority_admin(authority)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self._print_logins()

    # --- staff ----------------------------------------------------------------------

    def _roles_of(self, authority: LocalAuthority) -> dict[str, Role]:
        """Every role the authority's policies name, and the four every council has."""
        roles: dict[str, Role] = {}
        for policy in authority.policies.all():
            roles.update({r.slug: r for r in policy.raisers.all()})
            if policy.immediate_safety_role:
                roles[policy.immediate_safety_role.slug] = policy.immediate_safety_role
            for stage in policy.stages.select_related("role"):
                roles.update({r.slug: r for r in stage.named_roles()})
        for slug, name, flags in (
            ("cp-chair", "Child Protection Conference Chair", {"is_chair": True}),
            ("qa-manager", "Quality Assurance Manager", {"is_quality_assurance": True}),
            ("social-worker", "Social Worker", {}),
            ("team-manager", "Team Manager", {}),
        ):
            if slug not in roles:
                roles[slug] = Role.objects.get_or_create(
                    slug=slug, defaults={"name": name, **flags}
                )[0]
        return roles

    def _lines_of(self, authority: LocalAuthority, roles: dict[str, Role]) -> dict[str, str]:
        """role slug -> the role of its holders' line manager, for this authority."""
        lines = LINES.get(authority.slug)
        if lines is None:
            # An authority added after these were written: its ladder, upwards, is the line
            # (stages answered outside the council are no one's manager).
            chain = ["social-worker", "team-manager"]
            policy = authority.policies.filter(kind=PolicyKind.CHAIR_RAISED).first()
            stages = policy.stages.select_related("role") if policy else Stage.objects.none()
            for stage in stages:
                in_council = not (stage.is_informal or stage.partner_responders)
                if in_council and stage.role.slug not in chain:
                    chain.append(stage.role.slug)
            lines = (tuple(chain),)
        above: dict[str, str] = {}
        for line in lines:
            present = [slug for slug in line if slug in roles]
            above.update(dict(itertools.pairwise(present)))
        return above

    def _staff_for(self, authority: LocalAuthority) -> None:
        teams = [Team.objects.create(authority=authority, name=name) for name in TEAM_NAMES]
        roles = self._roles_of(authority)
        above = self._lines_of(authority, roles)
        holders: dict[str, list[StaffMember]] = {}

        def create(slug: str) -> list[StaffMember]:
            # Managers first, so each person is created with their line manager in place.
            if slug in holders:
                return holders[slug]
            managers = create(above[slug]) if slug in above else []
            role = roles[slug]
            places: list[tuple[Team | None, int]]
            if slug in PER_TEAM:
                places = [(team, j) for team in teams for j in range(PER_TEAM[slug])]
            else:
                count = HOLDERS.get(slug, 1 if slug in SINGLE_POSTS else len(teams))
                # The i-th manager above the teams manages the i-th team; each QA manager
                # is the QA manager for one team's cases.
                places = [
                    (teams[i % len(teams)] if slug == "qa-manager" else None, i)
                    for i in range(count)
                ]
            made = []
            for number, (team, j) in enumerate(places, start=1):
                team_index = teams.index(team) if team is not None else j
                manager = None
                if managers:
                    same_team = [m for m in managers if team and m.team_id == team.pk]
                    manager = (
                        same_team[j % len(same_team)]
                        if same_team
                        else managers[team_index % len(managers)]
                    )
                made.append(
                    self._member(
                        authority,
                        role,
                        handle_of(slug, number),
                        team=team,
                        line_manager=manager,
                        agency=AGENCIES[j % len(AGENCIES)] if slug == "conference-attendee" else "",
                    )
                )
            holders[slug] = made
            return made

        for slug in roles:
            create(slug)

    def _member(
        self,
        authority: LocalAuthority,
        role: Role,
        handle: str,
        *,
        team: Team | None = None,
        line_manager: StaffMember | None = None,
        agency: str = "",
    ) -> StaffMember:
        User = get_user_model()
        username = f"{authority.slug}.{handle}"
        user = User.objects.create(
            username=username,
            email=f"{username}@example.invalid",
            password=self._password,
            first_name=next(self._first_name),
            last_name=next(self._surname),
        )
        return StaffMember.objects.create(
            user=user,
            authority=authority,
            role=role,
            team=team,
            line_manager=line_manager,
            agency=agency,
            job_title=role.name,
        )

    def _partners_of(self, authority: LocalAuthority) -> None:
        """The authority's partner directory: a police, a health and an education contact,
        to whom a stage open to partner agencies may be addressed (no accounts: they answer
        by an e-mailed link and a one-time code)."""
        place = authority.name.removesuffix(" County Council").removesuffix(" Council")
        domain = authority.slug.replace("-", "")
        for name, job_title, organisation, mailbox in PARTNERS:
            Partner.objects.create(
                authority=authority,
                name=name,
                job_title=job_title,
                organisation=organisation.format(place=place),
                email=f"{mailbox}@{domain}.partners.example.invalid",
            )

    def _authority_admin(self, authority: LocalAuthority) -> None:
        """`<authority>.admin`: administers their own authority in Django admin, no other."""
        slug, name = AUTHORITY_ADMIN_ROLE
        role = Role.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        member = self._member(authority, role, "admin")
        authority_admin_grant(user=member.user)

    # --- children -------------------------------------------------------------------

    def _children_of(self, authority: LocalAuthority, i: int) -> None:
        today = timezone.localdate()
        names = itertools.islice(
            itertools.cycle(FIRST_NAMES), i * len(CHILDREN), (i + 1) * len(CHILDREN)
        )
        teams = list(Team.objects.filter(authority=authority).order_by("name"))
        chairs = list(
            StaffMember.objects.filter(authority=authority, role__slug="cp-chair").order_by(
                "user__username"
            )
        )
        for j, ((team_index, worker, family), first_name) in enumerate(
            zip(CHILDREN, names, strict=True)
        ):
            child = Child.objects.create(
                authority=authority,
                reference=f"{authority.slug[:3].upper()}{1000 + j}",
                first_name=first_name,
                last_name=LAST_NAMES[(i * 6 + family) % len(LAST_NAMES)],
                date_of_birth=date(today.year - 2 - j, 1 + j, 10 + j),
                team=teams[team_index],
                social_worker=(
                    StaffMember.objects.get(user__username=f"{authority.slug}.{worker}")
                    if worker
                    else None
                ),
            )
            start = today - timedelta(days=120 + j * 15)
            ChildProtectionPlan.objects.create(
                child=child, category=PLAN_CATEGORIES[j % len(PLAN_CATEGORIES)], start_date=start
            )
            chair = chairs[j % len(chairs)]
            Conference.objects.create(
                child=child, kind=ConferenceKind.INITIAL, date=start, chair=chair
            )
            Conference.objects.create(
                child=child,
                kind=ConferenceKind.REVIEW,
                date=start + timedelta(days=90),
                chair=chair,
            )

    # --- escalations ----------------------------------------------------------------

    def _escalations(self, now: datetime) -> None:
        today = timezone.localdate(now)

        def ago(working_days: int) -> datetime:
            # `working_days` working days before today, at 10:00 London time.
            day = today
            while add_working_days(day, working_days) > today:
                day -= timedelta(days=1)
            return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=10))

        def who(authority: str, handle: str) -> StaffMember:
            return StaffMember.objects.get(user__username=f"{authority}.{handle}")

        def newest_step(escalation: Escalation) -> Step:
            step = escalation.steps.last()
            if step is None:
                raise CommandError(f"{escalation.reference} has no step to answer.")
            return step

        def stage(policy: Policy, order: int) -> Stage:
            return policy.stages.get(order=order)

        def kids(authority: str, *indexes: int) -> list[Child]:
            children = list(Child.objects.filter(authority__slug=authority).order_by("reference"))
            return [children[i] for i in indexes]

        def cats(policy: Policy, n: int = 1) -> list[ConcernCategory]:
            return list(policy.categories.filter(parent__isnull=False)[:n])

        def responder(s: Stage, children: Sequence[Child]) -> StaffMember:
            """The holder of the stage's role in the children's line, as a chair would pick;
            a single post or a role outside the line (CAFCASS, a coordinator): its holder."""
            in_line = next((p for p in case_line(children) if p.role_id == s.role_id), None)
            if in_line is not None:
                return in_line
            holder = (
                StaffMember.objects.filter(authority=s.policy.authority, role=s.role)
                .order_by("user__username")
                .first()
            )
            if holder is None:
                raise CommandError(f"No one holds {s.role.name} for {s.policy.name}.")
            return holder

        made: list[Escalation] = []

        # Rutland: informal, overdue at Stage 1, response received at Stage 2, resolved, withdrawn.
        # The first chair's to-do list holds both kinds of work today: a response awaiting
        # their verdict and an overdue step to chase.
        r = Policy.objects.get(slug="rutland")
        chair, chair2 = who("rutland", "cp-chair"), who("rutland", "cp-chair-2")
        children = kids("rutland", 0, 1)
        e = services.escalation_raise(
            actor=chair,
            policy=r,
            children=children,
            categories=cats(r),
            summary="Core group meetings have not been held since the initial conference.",
            responder=responder(stage(r, 0), children),
            now=ago(2),
        )
        made.append(e)
        children = kids("rutland", 4)
        e = services.escalation_raise(
            actor=chair,
            policy=r,
            children=children,
            categories=cats(r, 2),
            summary="Statutory visits have not taken place for six weeks.",
            responder=responder(stage(r, 0), children),
            now=ago(12),
        )
        services.escalation_escalate(
            actor=chair, escalation=e, responder=responder(stage(r, 1), children), now=ago(11)
        )
        made.append(e)
        children = kids("rutland", 2)
        e = services.escalation_raise(
            actor=chair,
            policy=r,
            children=children,
            categories=cats(r),
            summary="The social worker's report did not meet the required standard.",
            responder=responder(stage(r, 0), children),
            now=ago(9),
        )
        services.escalation_escalate(
            actor=chair, escalation=e, responder=responder(stage(r, 1), children), now=ago(8)
        )
        services.step_respond(
            actor=responder(stage(r, 1), children),
            step=newest_step(e),
            response="The report will be rewritten.",
            now=ago(6),
        )
        services.escalation_escalate(
            actor=chair, escalation=e, responder=responder(stage(r, 2), children), now=ago(5)
        )
        services.step_respond(
            actor=responder(stage(r, 2), children),
            step=newest_step(e),
            response="A senior practitioner will co-write the report.",
            now=ago(1),
        )
        made.append(e)
        children = kids("rutland", 5, 6)
        e = services.escalation_raise(
            actor=chair,
            policy=r,
            children=children,
            categories=cats(r),
            summary="No allocated social worker for three weeks.",
            responder=responder(stage(r, 0), children),
            now=ago(30),
        )
        services.step_respond(
            actor=responder(stage(r, 0), children),
            step=newest_step(e),
            response="A social worker is allocated from Monday.",
            now=ago(28),
        )
        services.escalation_resolve(
            actor=chair,
            escalation=e,
            outcome="Social worker allocated.",
            outcome_for_child="Visited within the week.",
            now=ago(27),
        )
        made.append(e)
        children = kids("rutland", 7)
        e = services.escalation_raise(
            actor=chair2,
            policy=r,
            children=children,
            categories=cats(r),
            summary="Plan actions appear not to have been progressed.",
            responder=responder(stage(r, 0), children),
            now=ago(20),
        )
        services.escalation_withdraw(
            actor=chair2,
            escalation=e,
            reason="The actions had been completed but not recorded.",
            now=ago(19),
        )
        made.append(e)

        # Gloucestershire: bypass to Head of Service; a final decision; past the 20 WD cap.
        g = Policy.objects.get(slug="gloucestershire")
        gchair, gchair2 = who("gloucestershire", "cp-chair"), who("gloucestershire", "cp-chair-2")
        children = kids("gloucestershire", 0, 1)
        e = services.escalation_raise(
            actor=gchair,
            policy=g,
            children=children,
            categories=cats(g),
            summary="Child protection plan not implemented: no core group since conference.",
            responder=responder(stage(g, 3), children),
            stage=stage(g, 3),
            reason="Serious drift: two earlier alerts to the team went unanswered.",
            now=ago(3),
        )
        made.append(e)
        children = kids("gloucestershire", 4)
        e = services.escalation_raise(
            actor=gchair2,
            policy=g,
            children=children,
            categories=cats(g),
            summary="Failure to take steps to protect the child despite evidence of risk.",
            responder=responder(stage(g, 6), children),
            stage=stage(g, 6),
            reason="Immediate risk of significant harm.",
            now=ago(10),
        )
        services.step_respond(
            actor=responder(stage(g, 6), children),
            step=newest_step(e),
            response="Legal planning meeting convened; placement secured.",
            now=ago(8),
        )
        services.escalation_record_final_decision(
            actor=gchair2,
            escalation=e,
            decision="The Chief Executive determined that legal proceedings start at once.",
            outcome_for_child="Child placed safely.",
            now=ago(7),
        )
        made.append(e)
        children = kids("gloucestershire", 2)
        e = services.escalation_raise(
            actor=gchair,
            policy=g,
            children=children,
            categories=cats(g),
            summary="Assessments not completed within timescales.",
            responder=responder(stage(g, 1), children),
            stage=stage(g, 1),
            reason="Informal alert already made by telephone.",
            now=ago(24),
        )
        for order, when in ((2, 19), (3, 14), (4, 9)):
            services.escalation_escalate(
                actor=gchair,
                escalation=e,
                responder=responder(stage(g, order), children),
                now=ago(when),
            )
        made.append(e)

        # Mosaic authority, Stoke-on-Trent (a stage with no timescale) and Cwm Taf (immediate safety).
        m = Policy.objects.get(slug="mosaic-authority")
        mchair2 = who("mosaic-authority", "cp-chair-2")
        children = kids("mosaic-authority", 5)
        e = services.escalation_raise(
            actor=mchair2,
            policy=m,
            children=children,
            categories=cats(m),
            summary="Visits not maintained as required in the CP plan.",
            responder=responder(stage(m, 0), children),
            now=ago(7),
        )
        services.escalation_escalate(
            actor=mchair2, escalation=e, responder=responder(stage(m, 1), children), now=ago(1)
        )
        made.append(e)
        s = Policy.objects.get(slug="stoke-on-trent")
        schair = who("stoke-on-trent", "cp-chair")
        children = kids("stoke-on-trent", 0, 1)
        e = services.escalation_raise(
            actor=schair,
            policy=s,
            children=children,
            categories=cats(s),
            summary="Reports not shared with parents before the conference.",
            responder=responder(stage(s, 0), children),
            now=ago(8),
        )
        services.escalation_escalate(
            actor=schair, escalation=e, responder=responder(stage(s, 1), children), now=ago(2)
        )
        made.append(e)
        rev = Policy.objects.get(slug="stoke-on-trent-about-crm")
        # The child's own social worker raises a concern about the chair of their conference.
        e = services.escalation_raise(
            actor=who("stoke-on-trent", "social-worker-3"),
            policy=rev,
            children=kids("stoke-on-trent", 3),
            summary="The conference decision did not reflect the agreed risk analysis.",
            about_staff=who("stoke-on-trent", "cp-chair-2"),
            responder=who("stoke-on-trent", "cp-chair-2"),
            now=ago(1),
        )
        made.append(e)
        c = Policy.objects.get(slug="cwm-taf")
        children = kids("cwm-taf", 4)
        safety_role = c.immediate_safety_role
        if safety_role is None:
            raise CommandError(f"{c.name} names no one for immediate safety.")
        e = services.escalation_raise(
            actor=who("cwm-taf", "cp-chair-2"),
            policy=c,
            children=children,
            categories=cats(c),
            summary="The child is not safe at home tonight: the safety plan has broken down.",
            immediate_safety=True,
            nature=Nature.CONCERN,
            responder=who("cwm-taf", safety_role.slug),
            now=ago(0),
        )
        made.append(e)
        self.stdout.write(f"Created {len(made)} escalations.")

    # --- the accounts table ---------------------------------------------------------

    def _print_logins(self) -> None:
        self.stdout.write(f"\nDemo accounts (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  System administrator (every authority): admin")
        members = StaffMember.objects.select_related("user", "role", "authority", "team")
        by_authority: dict[LocalAuthority, list[StaffMember]] = {}
        for member in members.order_by("authority__name", "pk"):
            by_authority.setdefault(member.authority, []).append(member)
        for authority, people in by_authority.items():
            self.stdout.write(f"\n{authority.name}")
            # One row per role (and team, or agency).
            rows: dict[str, list[str]] = {}
            for member in people:
                label = member.role.name
                if member.team is not None:
                    label = f"{label}, {member.team.name}"
                if member.agency:
                    label = f"{label} ({member.agency})"
                rows.setdefault(label, []).append(member.user.username)
            width = max(len(label) for label in rows)
            for label, usernames in sorted(rows.items(), key=self._row_order):
                self.stdout.write(f"  {label:<{width}}  {', '.join(usernames)}")

    @staticmethod
    def _row_order(row: tuple[str, list[str]]) -> tuple[int, str]:
        # Chairs, QA and the authority's administrator first: the accounts a demo starts with.
        first = ("Child Protection Conference Chair", "Quality Assurance Manager", "Authority")
        label = row[0]
        rank = next((i for i, name in enumerate(first) if label.startswith(name)), len(first))
        return rank, label
