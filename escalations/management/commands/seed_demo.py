"""Demo data: staff for every rung, children on plans and escalations in every state.

Built through the same services the screens use, with `now` set in the past so some
steps are overdue today. Refuses to run twice (it would duplicate the children).
"""

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from children.models import Child, ChildProtectionPlan, Conference, ConferenceKind, PlanCategory
from escalations import services
from escalations.models import Escalation, Nature
from policies.models import LocalAuthority, Policy, PolicyKind, Role, Stage
from policies.working_days import add_working_days
from staff.models import StaffMember, Team

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
        with transaction.atomic():
            self._surname = iter(STAFF_SURNAMES * 10)
            self._first_name = iter(STAFF_FIRST_NAMES[::-1] * 10)
            User.objects.create_superuser(
                "admin",
                "admin@example.invalid",
                DEMO_PASSWORD,
                first_name="System",
                last_name="Administrator",
            )
            for authority in LocalAuthority.objects.filter(policies__isnull=False).distinct():
                self._staff_for(authority)
            self._children()
            self._escalations(timezone.now())
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self._print_logins()

    # --- staff ----------------------------------------------------------------------

    def _staff_for(self, authority: LocalAuthority) -> None:
        north = Team.objects.create(authority=authority, name="Safeguarding Team North")
        Team.objects.create(authority=authority, name="Safeguarding Team South")
        roles: dict[str, Role] = {}
        for policy in authority.policies.all():
            for role in policy.raisers.all():
                roles[role.slug] = role
            for stage in policy.stages.select_related("role"):
                roles[stage.role.slug] = stage.role
                for cc in stage.cc_roles.all():
                    roles[cc.slug] = cc
        for slug, name, flags in (
            ("cp-chair", "Child Protection Conference Chair", {"is_chair": True}),
            ("qa-manager", "Quality Assurance Manager", {"is_quality_assurance": True}),
            ("social-worker", "Social Worker", {}),
            ("team-manager", "Team Manager", {}),
        ):
            roles.setdefault(
                slug, Role.objects.get_or_create(slug=slug, defaults={"name": name, **flags})[0]
            )

        members: dict[str, StaffMember] = {}
        for slug, role in roles.items():
            members[slug] = self._member(authority, role, slug, north)
        # A second chair, so "my escalations" differs between chairs.
        members["cp-chair-2"] = self._member(authority, roles["cp-chair"], "cp-chair-2", north)

        # Line management follows the chair-raised ladder upwards.
        policy = authority.policies.filter(kind=PolicyKind.CHAIR_RAISED).first()
        chain = ["social-worker", "team-manager"]
        if policy:
            for stage in policy.stages.select_related("role").order_by("order"):
                if (
                    not stage.is_informal
                    and stage.role.slug not in chain
                    and stage.role.slug in members
                ):
                    chain.append(stage.role.slug)
        for lower, upper in itertools.pairwise(chain):
            member = members[lower]
            member.line_manager = members[upper]
            member.save()

    def _member(
        self, authority: LocalAuthority, role: Role, handle: str, team: Team
    ) -> StaffMember:
        User = get_user_model()
        username = f"{authority.slug}.{handle}"
        user = User.objects.create_user(
            username,
            f"{username}@example.invalid",
            DEMO_PASSWORD,
            first_name=next(self._first_name),
            last_name=next(self._surname),
        )
        return StaffMember.objects.create(
            user=user,
            authority=authority,
            role=role,
            team=team if role.slug in ("social-worker", "team-manager") else None,
            job_title=role.name,
        )

    # --- children -------------------------------------------------------------------

    def _children(self) -> None:
        today = timezone.localdate()
        names = iter(FIRST_NAMES * 3)
        for i, authority in enumerate(
            LocalAuthority.objects.filter(policies__isnull=False).distinct()
        ):
            sw = StaffMember.objects.filter(authority=authority, role__slug="social-worker").first()
            chair = StaffMember.objects.filter(authority=authority, role__slug="cp-chair").first()
            team = Team.objects.filter(authority=authority).first()
            surname = LAST_NAMES[i * 2 % len(LAST_NAMES)]
            for j in range(3):
                # The first two children of each authority are siblings.
                last = surname if j < 2 else LAST_NAMES[(i * 2 + 1) % len(LAST_NAMES)]
                child = Child.objects.create(
                    authority=authority,
                    reference=f"{authority.slug[:3].upper()}{1000 + j}",
                    first_name=next(names),
                    last_name=last,
                    date_of_birth=date(today.year - 3 - j * 3, 1 + j * 4, 10 + j),
                    team=team,
                    social_worker=None if j == 2 else sw,
                )
                start = today - timedelta(days=120 + j * 30)
                ChildProtectionPlan.objects.create(
                    child=child,
                    category=[PlanCategory.NEGLECT, PlanCategory.EMOTIONAL, PlanCategory.PHYSICAL][
                        j
                    ],
                    start_date=start,
                )
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

        def stage(policy: Policy, order: int) -> Stage:
            return policy.stages.get(order=order)

        def kids(authority: str, *indexes: int) -> list[Child]:
            children = list(Child.objects.filter(authority__slug=authority).order_by("reference"))
            return [children[i] for i in indexes]

        def cats(policy: Policy, n: int = 1) -> list[Any]:
            return list(policy.categories.filter(parent__isnull=False)[:n])

        def responder(authority: str, s: Stage) -> StaffMember:
            return who(authority, s.role.slug)

        made: list[Escalation] = []

        # Rutland: informal, overdue at Stage 1, response received at Stage 2, resolved, withdrawn.
        r = Policy.objects.get(slug="rutland")
        chair = who("rutland", "cp-chair")
        e = services.escalation_raise(
            actor=chair,
            policy=r,
            children=kids("rutland", 0, 1),
            categories=cats(r),
            summary="Core group meetings have not been held since the initial conference.",
            responder=responder("rutland", stage(r, 0)),
            now=ago(2),
        )
        made.append(e)
        e = services.escalation_raise(
            actor=chair,
            policy=r,
            children=kids("rutland", 2),
            categories=cats(r, 2),
            summary="Statutory visits have not taken place for six weeks.",
            responder=responder("rutland", stage(r, 0)),
            now=ago(12),
        )
        services.escalation_escalate(
            actor=chair, escalation=e, responder=responder("rutland", stage(r, 1)), now=ago(11)
        )
        made.append(e)
        e = services.escalation_raise(
            actor=who("rutland", "cp-chair-2"),
            policy=r,
            children=kids("rutland", 0),
            categories=cats(r),
            summary="The social worker's report did not meet the required standard.",
            responder=responder("rutland", stage(r, 0)),
            now=ago(9),
        )
        services.escalation_escalate(
            actor=who("rutland", "cp-chair-2"),
            escalation=e,
            responder=responder("rutland", stage(r, 1)),
            now=ago(8),
        )
        services.step_respond(
            actor=responder("rutland", stage(r, 1)),
            step=e.steps.last(),
            response="The report will be rewritten.",
            now=ago(6),
        )
        services.escalation_escalate(
            actor=who("rutland", "cp-chair-2"),
            escalation=e,
            responder=responder("rutland", stage(r, 2)),
            now=ago(5),
        )
        services.step_respond(
            actor=responder("rutland", stage(r, 2)),
            step=e.steps.last(),
            response="A senior practitioner will co-write the report.",
            now=ago(1),
        )
        made.append(e)
        e = services.escalation_raise(
            actor=chair,
            policy=r,
            children=kids("rutland", 1),
            categories=cats(r),
            summary="No allocated social worker for three weeks.",
            responder=responder("rutland", stage(r, 0)),
            now=ago(30),
        )
        services.step_respond(
            actor=responder("rutland", stage(r, 0)),
            step=e.steps.last(),
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
        e = services.escalation_raise(
            actor=chair,
            policy=r,
            children=kids("rutland", 2),
            categories=cats(r),
            summary="Plan actions appear not to have been progressed.",
            responder=responder("rutland", stage(r, 0)),
            now=ago(20),
        )
        services.escalation_withdraw(
            actor=chair,
            escalation=e,
            reason="The actions had been completed but not recorded.",
            now=ago(19),
        )
        made.append(e)

        # Gloucestershire: bypass to Head of Service; a final decision; past the 20 WD cap.
        g = Policy.objects.get(slug="gloucestershire")
        gchair = who("gloucestershire", "cp-chair")
        e = services.escalation_raise(
            actor=gchair,
            policy=g,
            children=kids("gloucestershire", 0, 1),
            categories=cats(g),
            summary="Child protection plan not implemented: no core group since conference.",
            responder=responder("gloucestershire", stage(g, 3)),
            stage=stage(g, 3),
            reason="Serious drift: two earlier alerts to the team went unanswered.",
            now=ago(3),
        )
        made.append(e)
        e = services.escalation_raise(
            actor=gchair,
            policy=g,
            children=kids("gloucestershire", 2),
            categories=cats(g),
            summary="Failure to take steps to protect the child despite evidence of risk.",
            responder=responder("gloucestershire", stage(g, 6)),
            stage=stage(g, 6),
            reason="Immediate risk of significant harm.",
            now=ago(10),
        )
        services.step_respond(
            actor=responder("gloucestershire", stage(g, 6)),
            step=e.steps.last(),
            response="Legal planning meeting convened; placement secured.",
            now=ago(8),
        )
        services.escalation_record_final_decision(
            actor=gchair,
            escalation=e,
            decision="The Chief Executive determined that legal proceedings start at once.",
            outcome_for_child="Child placed safely.",
            now=ago(7),
        )
        made.append(e)
        e = services.escalation_raise(
            actor=gchair,
            policy=g,
            children=kids("gloucestershire", 0),
            categories=cats(g),
            summary="Assessments not completed within timescales.",
            responder=responder("gloucestershire", stage(g, 1)),
            stage=stage(g, 1),
            reason="Informal alert already made by telephone.",
            now=ago(24),
        )
        services.escalation_escalate(
            actor=gchair,
            escalation=e,
            responder=responder("gloucestershire", stage(g, 2)),
            now=ago(19),
        )
        services.escalation_escalate(
            actor=gchair,
            escalation=e,
            responder=responder("gloucestershire", stage(g, 3)),
            now=ago(14),
        )
        services.escalation_escalate(
            actor=gchair,
            escalation=e,
            responder=responder("gloucestershire", stage(g, 4)),
            now=ago(9),
        )
        made.append(e)

        # Mosaic authority, Stoke-on-Trent (a stage with no timescale) and Cwm Taf (immediate safety).
        m = Policy.objects.get(slug="mosaic-authority")
        e = services.escalation_raise(
            actor=who("mosaic-authority", "cp-chair"),
            policy=m,
            children=kids("mosaic-authority", 0),
            categories=cats(m),
            summary="Visits not maintained as required in the CP plan.",
            responder=responder("mosaic-authority", stage(m, 0)),
            now=ago(7),
        )
        services.escalation_escalate(
            actor=who("mosaic-authority", "cp-chair"),
            escalation=e,
            responder=responder("mosaic-authority", stage(m, 1)),
            now=ago(1),
        )
        made.append(e)
        s = Policy.objects.get(slug="stoke-on-trent")
        e = services.escalation_raise(
            actor=who("stoke-on-trent", "cp-chair"),
            policy=s,
            children=kids("stoke-on-trent", 0, 1),
            categories=cats(s),
            summary="Reports not shared with parents before the conference.",
            responder=responder("stoke-on-trent", stage(s, 0)),
            now=ago(8),
        )
        services.escalation_escalate(
            actor=who("stoke-on-trent", "cp-chair"),
            escalation=e,
            responder=responder("stoke-on-trent", stage(s, 1)),
            now=ago(2),
        )
        made.append(e)
        rev = Policy.objects.get(slug="stoke-on-trent-about-crm")
        e = services.escalation_raise(
            actor=who("stoke-on-trent", "social-worker"),
            policy=rev,
            children=kids("stoke-on-trent", 2),
            summary="The conference decision did not reflect the agreed risk analysis.",
            about_staff=who("stoke-on-trent", "cp-chair"),
            responder=who("stoke-on-trent", "cp-chair"),
            now=ago(1),
        )
        made.append(e)
        c = Policy.objects.get(slug="cwm-taf")
        e = services.escalation_raise(
            actor=who("cwm-taf", "cp-chair"),
            policy=c,
            children=kids("cwm-taf", 0),
            categories=cats(c),
            summary="The child is not safe at home tonight: the safety plan has broken down.",
            immediate_safety=True,
            nature=Nature.CONCERN,
            responder=who("cwm-taf", c.immediate_safety_role.slug),
            now=ago(0),
        )
        made.append(e)
        self.stdout.write(f"Created {len(made)} escalations.")

    def _print_logins(self) -> None:
        self.stdout.write(f"\nDemo accounts (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  admin                          system administrator (Django admin)")
        for member in StaffMember.objects.select_related("user", "role", "authority").order_by(
            "authority__name", "user__username"
        ):
            if member.role.slug in (
                "cp-chair",
                "qa-manager",
                "team-manager",
                "social-worker",
                "head-of-service",
                "service-manager",
            ):
                self.stdout.write(
                    f"  {member.user.username:<30} {member.role.name}, {member.authority.name}"
                )
        self.stdout.write(
            "  (and one account per ladder role: <authority>.<role>, e.g. rutland.director-for-people)"
        )
