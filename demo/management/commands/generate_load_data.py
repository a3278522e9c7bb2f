"""Load-test data: tens of thousands of children, hundreds of thousands of steps.

Spread over the authorities of the shipped chair-raised policies and the last eight
financial quarters. Each escalation walks its ladder in order (skipping only where
escalations.rules allows it, with a reason where the policy asks for one); deadlines are computed
with policies.working_days exactly as escalations.services._raise_step does, and the
formal cap where the policy has one. A tenth of the replies come with files (the rows
only: their downloads answer "missing from storage") and a few deadlines were extended,
so the pages that show a record read them as they would at a council.

Written straight to the database in batches, not through the services (they lock and
notify one escalation at a time) by one Writer: on PostgreSQL with COPY, ids reserved
from the sequences (a million steps in about eight minutes on two cores), elsewhere or
with --no-copy through simple_history's bulk_create_with_history. Either way each row of a
history-tracked model gets its "+" history record.
No notifications are created. Seeded random.Randoms drive every choice: the same seed
on the same day gives the same data.

Generated users have unusable passwords and names beginning "load." ("load2." … for
runs added with --force-extra), children references beginning "L1-" ("L2-" …).
"""

from __future__ import annotations

import itertools
import random
import time as clock
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypedDict, TypeVar
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Model, prefetch_related_objects
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, get_history_model_for_model

from children.models import Child, ChildProtectionPlan, Conference, ConferenceKind, PlanCategory
from escalations import rules
from escalations.models import (
    AmendmentKind,
    Attachment,
    Escalation,
    Nature,
    State,
    Step,
    StepAmendment,
    Verdict,
)
from policies.models import (
    ConcernCategory,
    DayType,
    LocalAuthority,
    Policy,
    PolicyKind,
    RaisedBy,
    Role,
    Stage,
)
from policies.working_days import add_working_days, earliest, next_working_day_on_or_after
from reports.reporting import financial_quarter, previous_quarters
from staff.models import StaffMember, Team

LONDON = ZoneInfo("Europe/London")
BATCH = 2000  # rows per INSERT
CHUNK = 2000  # escalations (with their steps) per round trip
CHANGE_REASON = "generate_load_data"
# What simple-history adds before the tracked fields of each history record.
HISTORY_COLUMNS = (
    "history_id", "history_date", "history_change_reason", "history_type", "history_user_id",
)  # fmt: skip
HistoryDated = TypeVar("HistoryDated", bound=Model)

# Share of the children (and escalations) per authority; unknown authorities get 0.2.
WEIGHTS = {
    "gloucestershire": 0.30,
    "stoke-on-trent": 0.22,
    "mosaic-authority": 0.22,
    "cwm-taf": 0.16,
    "rutland": 0.10,
}

FIRST_NAMES = [
    "Amelia", "Oliver", "Isla", "Noah", "Ava", "Leo", "Mia", "Arthur", "Ivy", "Oscar",
    "Freya", "Theo", "Lily", "Finley", "Rosie", "Muhammad", "Grace", "Jack", "Sophia",
    "Harry", "Evie", "Charlie", "Ella", "George", "Poppy", "Alfie", "Willow", "Jacob",
    "Daisy", "Henry", "Aria", "Thomas", "Millie", "Isaac", "Ruby", "Archie", "Florence",
    "Ethan", "Phoebe", "Logan", "Zara", "Dylan", "Layla", "Rhys", "Seren", "Callum",
    "Niamh", "Kai", "Maya", "Tyler",
]  # fmt: skip
LAST_NAMES = [
    "Turner", "Hughes", "Evans", "Price", "Morgan", "Bennett", "Carter", "Lloyd", "Walsh",
    "Doyle", "Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Wilson", "Roberts",
    "Thomas", "Johnson", "Lewis", "Walker", "Robinson", "Wood", "Thompson", "White",
    "Watson", "Jackson", "Wright", "Green", "Harris", "Cooper", "King", "Lee", "Martin",
    "Clarke", "James", "Phillips", "Ahmed", "Khan", "Ali", "Hussain", "Kowalski", "Nowak",
    "Okafor", "Mensah", "Rees", "Jenkins",
]  # fmt: skip
STAFF_FIRST_NAMES = [
    "Aisha", "Ben", "Chloe", "Dev", "Ella", "Farid", "Grace", "Harry", "Imogen", "Jack",
    "Kiran", "Laura", "Mohammed", "Nadia", "Owen", "Priya", "Rhys", "Sarah", "Tom", "Uma",
    "Victor", "Wendy", "Yusuf", "Zara", "Anna", "Bilal", "Claire", "Dan", "Emma", "Gareth",
]  # fmt: skip
STAFF_SURNAMES = [
    "Ahmed", "Baker", "Clarke", "Davies", "Ellis", "Foster", "Gray", "Hall", "Irving",
    "Jones", "Khan", "Lewis", "Mills", "Nash", "Owen", "Patel", "Quinn", "Reid", "Shaw",
    "Taylor", "Usman", "Vaughan", "Wood", "Young", "Bell", "Cole", "Dunn", "Fox", "Hart",
    "Lamb",
]  # fmt: skip
LOCALITIES = [
    "North", "South", "East", "West", "Central", "City", "Riverside", "Valley", "Coastal",
    "Forest", "Vale", "Moorland", "Market Towns", "Harbour", "Hillside", "Eastgate",
    "Westgate", "Parkside", "Fieldway", "Brookside",
]  # fmt: skip
AGENCIES = ("Health", "Police", "Education", "Probation", "Housing", "Health visiting")

DETAILS = (
    "Raised at the review conference; the plan has drifted since.",
    "The core group has not met the timescales agreed at conference.",
    "Actions from the last conference have not been completed.",
    "The family told the conference that nothing has changed since the plan began.",
    "Agencies at the conference reported they had not been contacted.",
    "The risk analysis presented did not match the evidence in the reports.",
    "The child's views were not represented in the assessment.",
    "Repeated concern: the same issue was raised at the previous conference.",
)
DESIRED = (
    "Core group to meet within ten working days.",
    "A social worker allocated and the child seen alone this week.",
    "An updated assessment before the next review.",
    "The plan's outstanding actions completed and recorded.",
    "A written explanation and a date for the overdue visits.",
    "",
)
SKIP_REASONS = (
    "Serious drift: earlier alerts to the team went unanswered.",
    "The team manager is the subject of the concern.",
    "Urgent: risk of significant harm while the plan is not implemented.",
    "Informal discussion already held by telephone without result.",
    "The same issue was escalated informally last quarter.",
)
IMMEDIATE_SAFETY_REASON = "Concern about the immediate safety of a child."
RESPONSES = (
    "A social worker is allocated from Monday and will visit this week.",
    "The core group has been booked and all agencies invited.",
    "The assessment will be completed and shared before the review.",
    "Agreed: the team manager will oversee the plan's actions weekly.",
    "We disagree with the concern; the visits are recorded on the case file.",
    "Resources have been identified; the plan will be updated at core group.",
    "The report has been rewritten and shared with the family.",
)
OUTCOMES = (
    "Social worker allocated and visits back on schedule.",
    "Core group held; the plan's actions reviewed and re-timed.",
    "Assessment completed and shared before the review conference.",
    "Agreed a revised plan with the team manager.",
    "Explanation accepted; actions recorded on the child's file.",
)
OUTCOMES_FOR_CHILD = (
    "The child was seen alone within the week.",
    "The child's plan is progressing again.",
    "Support for the family started.",
    "The child's views are now recorded in the plan.",
    "",
)
WITHDRAWALS = (
    "The actions had been completed but not recorded.",
    "Raised in error: the wrong child was selected.",
    "The child moved out of the area; transferred to the new authority.",
    "Resolved at the core group before a response was due.",
)
FINAL_DECISIONS = (
    "The decision at this stage is final: the plan stands with the agreed changes.",
    "Legal planning meeting convened; proceedings to start.",
    "The concern is upheld: the service will report progress to the chair monthly.",
)
# Files sent with responses: the rows only (a download answers "missing from storage").
ATTACHMENT_NAMES = (
    ("visit-records.pdf", "application/pdf"),
    ("core-group-minutes.pdf", "application/pdf"),
    ("plan-review.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("chronology.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
)
EXTENSION_REASONS = (
    "The team manager is gathering the visit records.",
    "The service manager is on leave until next week.",
    "Waiting for the health visitor's report.",
)
# Of the steps answered, those sent with files; of the steps with a deadline, those whose
# deadline the chair extended (a week, before the reply).
ATTACHED_SHARE = 0.10
EXTENDED_SHARE = 0.04
STATEMENT = {
    "statement_issue": "The child protection plan is not being implemented as agreed.",
    "statement_actions": "Raised informally and at each earlier stage; see the attached steps.",
    "statement_wanted": "A senior manager to ensure the plan's actions are completed.",
}


class Calendar:
    """Cached working-day arithmetic for one authority (its nation and closure days)."""

    def __init__(self, nation: str, closures: frozenset[date]) -> None:
        self.nation, self.closures = nation, closures
        self._add: dict[tuple[date, int], date] = {}
        self._next: dict[date, date] = {}

    def add(self, start: date, n: int) -> date:
        key = (start, n)
        found = self._add.get(key)
        if found is None:
            found = self._add[key] = add_working_days(
                start, n, nation=self.nation, closures=self.closures
            )
        return found

    def next_working(self, day: date) -> date:
        found = self._next.get(day)
        if found is None:
            found = self._next[day] = next_working_day_on_or_after(
                day, nation=self.nation, closures=self.closures
            )
        return found

    def deadline(self, start: date, n: int | None, day_type: str) -> date | None:
        if n is None:
            return None
        if day_type == DayType.CALENDAR:
            return start + timedelta(days=n)
        return self.add(start, n)


Row = dict[str, Any]  # field attname -> value; fields left out take their defaults


class Writer:
    """Inserts rows of one model at a time, with the "+" history record simple-history
    keeps for each row of a history-tracked model (dated by the caller, changed by no
    user, reason CHANGE_REASON).

    On PostgreSQL the ids are reserved from the table's sequence in one query and the
    rows, then their history records, are streamed with COPY: no model instances, no
    INSERT statements, no RETURNING. Elsewhere (SQLite, where the tests run), or with
    copy=False, through simple-history's bulk_create_with_history.
    """

    def __init__(self, copy: bool) -> None:
        self.copy = copy

    def write(self, model: type[Model], rows: list[Row], dated: list[datetime] | None) -> list[int]:
        """Saves `rows` of `model` and returns their ids, in order. `dated`: each row's
        history date, for a history-tracked model (None for one that is not)."""
        tracked = hasattr(model._meta, "simple_history_manager_attribute")
        if tracked != (dated is not None):
            raise ValueError(f"{model.__name__}: history dates are needed exactly when tracked.")
        if not rows:
            return []
        if self.copy:
            return self._copy(model, rows, dated)
        objs = [model(**row) for row in rows]
        if dated is None:
            objs = model._default_manager.bulk_create(objs, batch_size=BATCH)
        else:
            for obj, when in zip(objs, dated, strict=True):
                _history_dated(obj, when)
            objs = bulk_create_with_history(
                objs, model, batch_size=BATCH, default_change_reason=CHANGE_REASON
            )
        return [obj.pk for obj in objs]

    def _copy(self, model: type[Model], rows: list[Row], dated: list[datetime] | None) -> list[int]:
        fields = model._meta.concrete_fields
        pk = model._meta.pk
        others = [f for f in fields if f is not pk]
        # Every other column: the row's value, or the field's default as Model() gives it.
        rest = [(f.attname, f.get_default()) for f in others]
        pk_column = str(pk.column)  # concrete fields all have a column
        ids = self._reserve(model._meta.db_table, pk_column, len(rows))
        values = [
            (pk_value, *[row.get(name, default) for name, default in rest])
            for pk_value, row in zip(ids, rows, strict=True)
        ]
        columns = [pk_column, *(str(f.column) for f in others)]
        self._stream(model._meta.db_table, columns, values)
        if dated is not None:
            history = get_history_model_for_model(model)
            position = {name: i for i, name in enumerate([pk.attname, *(n for n, _ in rest)])}
            kept = [position[f.attname] for f in history.tracked_fields]
            history_ids = self._reserve(history._meta.db_table, HISTORY_COLUMNS[0], len(rows))
            self._stream(
                history._meta.db_table,
                [
                    *HISTORY_COLUMNS,
                    *(str(f.column) for f in history.tracked_fields),
                ],
                (
                    (hid, when, CHANGE_REASON, "+", None, *[row[i] for i in kept])
                    for hid, when, row in zip(history_ids, dated, values, strict=True)
                ),
            )
        return ids

    @staticmethod
    def _reserve(table: str, column: str, n: int) -> list[int]:
        """`n` ids from the table's sequence, taken as one block. The lock (held to the end
        of the transaction) keeps other writers from drawing an id in between."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {connection.ops.quote_name(table)} IN SHARE ROW EXCLUSIVE MODE"
            )
            cursor.execute(
                "SELECT setval(seq, nextval(seq) + %s - 1)"
                " FROM (SELECT pg_get_serial_sequence(%s, %s) AS seq) AS s",
                [n, table, column],
            )
            (last,) = cursor.fetchone()
        return list(range(last - n + 1, last + 1))

    @staticmethod
    def _stream(table: str, columns: list[str], values: Iterable[tuple[Any, ...]]) -> None:
        quote = connection.ops.quote_name
        sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in values:
                copy.write_row(row)


@dataclass
class Ladder:
    policy: Policy
    stages: list[Stage]  # in order; referral stages left out
    also_roles: dict[int, list[str]]  # stage pk -> the other role slugs it may go to
    concern_items: list[int]
    good_items: list[int]
    safety_index: int | None
    # (target, current) -> whether the ladder's rules allow the move: asked of
    # escalations.rules once per pair, not once per escalation.
    moves: dict[tuple[int, int], bool] = field(default_factory=dict)


class NewFamily(TypedDict):
    """A family planned by _family, before _save_families writes it (pks: team, worker, chairs)."""

    children: list[Row]
    team: int | None
    worker: int | None
    start: date
    end: date | None
    category: str
    dates: list[date]
    chairs: list[int]
    previous: tuple[date, date] | None


def _history_dated(instance: HistoryDated, when: datetime) -> HistoryDated:
    """Dates the history row bulk_create_with_history writes for `instance`: simple-history
    reads `_history_date` off the instance, an attribute no model declares."""
    instance._history_date = when  # type: ignore[attr-defined]  # see the docstring
    return instance


@dataclass
class Family:
    child_ids: list[int]
    team_id: int | None
    social_worker_id: int | None
    conference_dates: list[date]
    conference_chairs: list[int]
    conference_ids: list[list[int]]  # per child, aligned with conference_dates


@dataclass
class Place:
    """One authority and everything the escalations need from it."""

    authority: LocalAuthority
    ladder: Ladder
    calendar: Calendar
    share: float
    teams: list[int] = field(default_factory=list)
    staff: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    role_of: dict[int, str] = field(default_factory=dict)
    manager_of: dict[int, int | None] = field(default_factory=dict)
    social_workers: dict[int, list[int]] = field(default_factory=dict)  # by team
    families: list[Family] = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Create a large, realistic data set for load testing (run load_policies first): "
        "staff, children with plans and conferences, escalations over eight quarters."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=int, default=50_000)
        parser.add_argument(
            "--escalations",
            type=int,
            default=None,
            help="Default: --steps / 2.5 (escalations have 1–6 steps).",
        )
        parser.add_argument(
            "--steps", type=int, default=200_000, help="Steps to aim for across all escalations."
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--authorities",
            default="all",
            help="'all', or comma-separated authority (or policy) slugs.",
        )
        parser.add_argument(
            "--no-copy",
            action="store_true",
            help="On PostgreSQL too, insert through simple-history's bulk_create_with_history "
            "rather than COPY (slower; what SQLite always does).",
        )
        parser.add_argument(
            "--force-extra",
            action="store_true",
            help="Add another generated set even though one is already there.",
        )

    # --- the run ------------------------------------------------------------------

    def handle(self, *args: Any, **options: Any) -> None:
        self.started = started = clock.perf_counter()
        children, steps = options["children"], options["steps"]
        escalations = options["escalations"]
        if escalations is None:
            escalations = round(steps / 2.5)
        if children < 1 or steps < 1 or escalations < 1:
            raise CommandError("--children, --steps and --escalations must be at least 1.")
        if escalations > steps:
            raise CommandError("Every escalation has at least one step: --steps >= --escalations.")
        policies = self._policies(options["authorities"])
        self.run = self._run_number(options["force_extra"])
        self.rng = random.Random(options["seed"])
        # Files and extensions drawn apart, so adding them changed no other row.
        self.extras_rng = random.Random(f"{options['seed']}-extras")
        self.now = timezone.localtime(timezone.now(), LONDON).replace(microsecond=0)
        self.today = self.now.date()
        self.window_start = previous_quarters(financial_quarter(self.today), 8)[0].start
        self.created: dict[str, int] = defaultdict(int)
        self.children_wanted = children
        self.states: dict[str, int] = defaultdict(int)
        self.overdue = 0
        self.writer = Writer(copy=connection.vendor == "postgresql" and not options["no_copy"])

        with transaction.atomic():
            places = self._places(policies)
            for place in places:
                self._staff(place)
            self._say(f"staff: {self.created['staff']:,} in {len(places)} authorities")
            self._children(places, children)
            self._escalations(places, escalations, steps)
        self._say("committed")
        self._analyze()
        elapsed = clock.perf_counter() - started
        self._totals(elapsed)

    def _analyze(self) -> None:
        """Fresh planner statistics: without them (autovacuum off, or not yet run) the
        first reports after a bulk load plan as if the tables were empty. On PostgreSQL,
        outside a transaction, VACUUM as well: it marks the new pages all-visible, so a
        count reads the index alone instead of every page of the table (120,000
        escalations: 200 ms reading 20,000 pages before, a few ms after)."""
        models = [
            Team, StaffMember, get_user_model(), Child, ChildProtectionPlan, Conference,
            Escalation, Step, Escalation.children.through, Escalation.categories.through,
        ]  # fmt: skip
        tables = [m._meta.db_table for m in models]
        tables += [m.history.model._meta.db_table for m in models if hasattr(m, "history")]
        tables += [
            apps.get_model("escalations", name)._meta.db_table
            for name in ("HistoricalEscalation_children", "HistoricalEscalation_categories")
        ]
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        command = "VACUUM ANALYZE" if vacuum else "ANALYZE"
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"{command} {connection.ops.quote_name(table)}")
        self._say(f"{'vacuumed and ' if vacuum else ''}analyzed {len(tables)} tables")

    def _say(self, message: str) -> None:
        self.stdout.write(f"[{clock.perf_counter() - self.started:7.1f} s] {message}")
        self.stdout.flush()

    def _policies(self, wanted: str) -> list[Policy]:
        if not Policy.objects.exists():
            raise CommandError("No policies yet: run `python manage.py load_policies` first.")
        qs = Policy.objects.filter(kind=PolicyKind.CHAIR_RAISED, is_active=True).select_related(
            "authority", "immediate_safety_role"
        )
        if wanted.strip() != "all":
            slugs = {s.strip() for s in wanted.split(",") if s.strip()}
            qs = qs.filter(authority__slug__in=slugs) | qs.filter(slug__in=slugs)
            found = {p.authority.slug for p in qs} | {p.slug for p in qs}
            if missing := sorted(slugs - found):
                raise CommandError(
                    f"No active chair-raised policy for: {', '.join(missing)}. "
                    "Use authority slugs (e.g. rutland,gloucestershire) or 'all'."
                )
        # One ladder per authority: the one in force today.
        by_authority: dict[int, Policy] = {}
        for policy in qs.order_by("authority__name", "pk"):
            current = Policy.objects.current_for(
                policy.authority, PolicyKind.CHAIR_RAISED, timezone.localdate()
            )
            by_authority.setdefault(policy.authority_id, current or policy)
        if not by_authority:
            raise CommandError("No active chair-raised policies: run load_policies first.")
        return list(by_authority.values())

    def _run_number(self, force_extra: bool) -> int:
        User = get_user_model()
        run = 1
        while User.objects.filter(username__startswith=self._prefix(run) + ".").exists():
            run += 1
        if run > 1 and not force_extra:
            raise CommandError(
                "Generated load data is already in this database (users named 'load.…'). "
                "Use a fresh database, or --force-extra to add another set beside it."
            )
        return run

    @staticmethod
    def _prefix(run: int) -> str:
        return "load" if run == 1 else f"load{run}"

    def _places(self, policies: list[Policy]) -> list[Place]:
        weights = [WEIGHTS.get(p.authority.slug, 0.2) for p in policies]
        total = sum(weights)
        places = []
        for policy, weight in zip(policies, weights, strict=True):
            # The rules read the whole ladder (referrals too) from here, with no query.
            prefetch_related_objects([policy], "stages")
            stages = [
                s
                for s in policy.stages.select_related("role").prefetch_related("also_roles")
                if not s.referral
            ]
            if not stages:
                raise CommandError(f"The policy {policy.slug} has no stages.")
            items = list(
                ConcernCategory.objects.filter(policy=policy, parent__isnull=False).values_list(
                    "pk", "good_practice"
                )
            )
            safety = rules.safety_stage(policy)
            ladder = Ladder(
                policy=policy,
                stages=stages,
                also_roles={s.pk: [r.slug for r in s.also_roles.all()] for s in stages},
                concern_items=[pk for pk, good in items if not good],
                good_items=[pk for pk, good in items if good],
                safety_index=stages.index(safety) if safety in stages else None,
            )
            authority = policy.authority
            places.append(
                Place(
                    authority=authority,
                    ladder=ladder,
                    calendar=Calendar(authority.nation, authority.closure_dates()),
                    share=weight / total,
                )
            )
        return places

    # --- staff ----------------------------------------------------------------------

    def _staff(self, place: Place) -> None:
        rng, authority, policy = self.rng, place.authority, place.ladder.policy
        n_children = max(1, round(self.children_wanted * place.share))
        n_teams = min(20, max(2, round(n_children / 1000)))
        n_chairs = min(25, max(3, round(n_children / 800)))
        history_date = datetime.combine(self.window_start - timedelta(days=60), time(9), LONDON)

        teams = []
        for i in range(n_teams):
            name = f"{LOCALITIES[i % len(LOCALITIES)]} Safeguarding Team"
            if i >= len(LOCALITIES):
                name += f" {i // len(LOCALITIES) + 1}"
            if self.run > 1:
                name += f" ({self._prefix(self.run)})"
            teams.append({"authority_id": authority.pk, "name": name})
        place.teams = self.writer.write(Team, teams, [history_date] * len(teams))
        self.created["teams"] += len(teams)

        roles: dict[str, Role] = {r.slug: r for r in policy.raisers.all()}
        for stage in place.ladder.stages:
            roles.update({r.slug: r for r in stage.named_roles()})
        if policy.immediate_safety_role:
            roles[policy.immediate_safety_role.slug] = policy.immediate_safety_role
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

        # (role slug, team pk or None, agency) for every member, by role.
        wanted: dict[str, list[tuple[int | None, str]]] = {}
        for slug, role in roles.items():
            if slug == "social-worker":
                wanted[slug] = [(t, "") for t in place.teams for _ in range(6)]
            elif slug == "team-manager":
                wanted[slug] = [(t, "") for t in place.teams]
            elif role.is_chair:
                wanted[slug] = [(None, "")] * n_chairs
            elif role.is_quality_assurance:
                wanted[slug] = [(None, "")] * 2
            elif slug == "conference-attendee":
                wanted[slug] = [(None, AGENCIES[i % len(AGENCIES)]) for i in range(6)]
            else:
                wanted[slug] = [(None, "")] * 3

        # Managers first, so each level can point at the one above it: the chain follows
        # the ladder upwards (as seed_demo does); every other role reports to no one.
        chain = ["social-worker", "team-manager"]
        for stage in place.ladder.stages:
            if not stage.is_informal and stage.role.slug not in chain:
                chain.append(stage.role.slug)
        chain = [slug for slug in chain if slug in wanted]
        levels = [[slug] for slug in reversed(chain)]
        levels.append([slug for slug in wanted if slug not in chain])

        User = get_user_model()
        password = make_password(None)
        users = []
        order: list[tuple[str, int, int | None, str]] = []
        for slug in itertools.chain.from_iterable(levels):
            for i, (team_pk, agency) in enumerate(wanted[slug], start=1):
                username = f"{self._prefix(self.run)}.{authority.slug}.{slug}-{i}"
                users.append(
                    {
                        "username": username,
                        "email": f"{username}@example.invalid",
                        "first_name": rng.choice(STAFF_FIRST_NAMES),
                        "last_name": rng.choice(STAFF_SURNAMES),
                        "password": password,
                        "date_joined": history_date,
                    }
                )
                order.append((slug, i, team_pk, agency))
        user_ids = self.writer.write(User, users, None)
        self.created["users"] += len(users)
        user_iter = iter(zip(user_ids, order, strict=True))

        tm_of_team: dict[int, int] = {}
        for level in levels:
            members = []
            for slug in level:
                upper = chain[chain.index(slug) + 1] if slug in chain[:-1] else None
                for _ in wanted[slug]:
                    user_id, (_slug, _i, team_pk, agency) = next(user_iter)
                    if slug == "social-worker" and team_pk is not None and team_pk in tm_of_team:
                        manager = tm_of_team[team_pk]
                    elif upper is not None and place.staff[upper]:
                        manager = rng.choice(place.staff[upper])
                    else:
                        manager = None
                    member = {
                        "user_id": user_id,
                        "authority_id": authority.pk,
                        "role_id": roles[slug].pk,
                        "team_id": team_pk,
                        "line_manager_id": manager,
                        "agency": agency,
                        "job_title": roles[slug].name,
                    }
                    members.append((slug, team_pk, manager, member))
            member_ids = self.writer.write(
                StaffMember, [m for *_, m in members], [history_date] * len(members)
            )
            for pk, (slug, team_id, manager, _member) in zip(member_ids, members, strict=True):
                place.staff[slug].append(pk)
                place.role_of[pk] = slug
                place.manager_of[pk] = manager
                if slug == "team-manager" and team_id:
                    tm_of_team[team_id] = pk
                if slug == "social-worker" and team_id:
                    place.social_workers.setdefault(team_id, []).append(pk)
            self.created["staff"] += len(members)

    # --- children, plans and conferences -------------------------------------------

    def _children(self, places: list[Place], total: int) -> None:
        counts = [round(total * p.share) for p in places]
        counts[-1] = total - sum(counts[:-1])
        for place, count in zip(places, counts, strict=True):
            made = 0
            number = itertools.count(1)
            while made < count:
                families: list[NewFamily] = []
                while made < count and len(families) < 2000:
                    size = min(count - made, self.rng.choices((1, 2, 3), (60, 28, 12))[0])
                    families.append(self._family(place, size, number))
                    made += size
                self._save_families(place, families)
            self._say(f"children: {place.authority.slug} {made:,}")

    def _family(self, place: Place, size: int, number: Iterator[int]) -> NewFamily:
        rng, cal = self.rng, place.calendar
        team = rng.choice(place.teams) if rng.random() < 0.95 else None
        workers = place.social_workers.get(team, []) if team else []
        worker = rng.choice(workers) if workers and rng.random() < 0.92 else None
        start = cal.next_working(self.today - timedelta(days=rng.randint(7, 4 * 365)))
        start = min(start, self.today)
        lasts = rng.randint(100, 800)
        usual_chair = rng.choice(place.staff["cp-chair"])
        dates = [start]
        review = cal.next_working(start + timedelta(days=90))
        end = None
        while review <= self.today:
            dates.append(review)
            if (review - start).days >= lasts:
                end = review
                break
            review = cal.next_working(review + timedelta(days=182))
        chairs = [usual_chair if rng.random() < 0.8 else rng.choice(place.staff["cp-chair"])]
        chairs += [
            usual_chair if rng.random() < 0.8 else rng.choice(place.staff["cp-chair"])
            for _ in dates[1:]
        ]
        previous = None
        if rng.random() < 0.1:
            p_start = cal.next_working(start - timedelta(days=rng.randint(400, 900)))
            previous = (p_start, p_start + timedelta(days=rng.randint(90, 300)))
        surname = rng.choice(LAST_NAMES)
        category = rng.choices(list(PlanCategory.values), (45, 8, 35, 4, 8))[0]
        prefix = f"L{self.run}-{place.authority.slug[:3].upper()}"
        children = []
        for _ in range(size):
            age_days = rng.randint(0, 16 * 365)
            children.append(
                {
                    "authority_id": place.authority.pk,
                    "reference": f"{prefix}-{next(number):06d}",
                    "first_name": rng.choice(FIRST_NAMES),
                    "last_name": surname,
                    "date_of_birth": start - timedelta(days=age_days),
                    "team_id": team,
                    "social_worker_id": worker,
                }
            )
        return {
            "children": children,
            "team": team,
            "worker": worker,
            "start": start,
            "end": end,
            "category": category,
            "dates": dates,
            "chairs": chairs,
            "previous": previous,
        }

    def _save_families(self, place: Place, families: list[NewFamily]) -> None:
        def at(day: date) -> datetime:
            return datetime.combine(day, time(9), LONDON)

        children, children_dated = [], []
        for fam in families:
            first = fam["previous"][0] if fam["previous"] else fam["start"]
            children += fam["children"]
            children_dated += [at(first)] * len(fam["children"])
        child_ids = iter(self.writer.write(Child, children, children_dated))
        family_ids = [[next(child_ids) for _ in fam["children"]] for fam in families]
        plans: list[Row] = []
        conferences: list[Row] = []
        for fam, ids in zip(families, family_ids, strict=True):
            for child_id in ids:
                plans.append(
                    {
                        "child_id": child_id,
                        "category": fam["category"],
                        "start_date": fam["start"],
                        "end_date": fam["end"],
                    }
                )
                if fam["previous"]:
                    p_start, p_end = fam["previous"]
                    plans.append(
                        {
                            "child_id": child_id,
                            "category": PlanCategory.NEGLECT,
                            "start_date": p_start,
                            "end_date": p_end,
                        }
                    )
                    conferences.append(
                        {
                            "child_id": child_id,
                            "kind": ConferenceKind.INITIAL,
                            "date": p_start,
                            "chair_id": fam["chairs"][0],
                        }
                    )
                for i, (day, chair) in enumerate(zip(fam["dates"], fam["chairs"], strict=True)):
                    conferences.append(
                        {
                            "child_id": child_id,
                            "kind": ConferenceKind.INITIAL if i == 0 else ConferenceKind.REVIEW,
                            "date": day,
                            "chair_id": chair,
                        }
                    )
        # Each plan's record is dated when it ended (or began), each conference's its day.
        self.writer.write(
            ChildProtectionPlan, plans, [at(p["end_date"] or p["start_date"]) for p in plans]
        )
        conference_ids = self.writer.write(
            Conference, conferences, [at(c["date"]) for c in conferences]
        )
        by_child: dict[int, dict[date, int]] = defaultdict(dict)
        for conf, pk in zip(conferences, conference_ids, strict=True):
            by_child[conf["child_id"]][conf["date"]] = pk
        for fam, ids in zip(families, family_ids, strict=True):
            place.families.append(
                Family(
                    child_ids=ids,
                    team_id=fam["team"],
                    social_worker_id=fam["worker"],
                    conference_dates=fam["dates"],
                    conference_chairs=fam["chairs"],
                    conference_ids=[[by_child[pk][d] for d in fam["dates"]] for pk in ids],
                )
            )
        self.created["children"] += len(children)
        self.created["plans"] += len(plans)
        self.created["conferences"] += len(conferences)

    # --- escalations and steps -------------------------------------------------------

    def _escalations(self, places: list[Place], total: int, steps: int) -> None:
        rng = self.rng
        # Where and when each escalation is raised: after a conference in the window.
        seeds: list[tuple[Place, Family, int]] = []
        counts = [round(total * p.share) for p in places]
        counts[-1] = total - sum(counts[:-1])
        for place, count in zip(places, counts, strict=True):
            slots = [
                (fam, j)
                for fam in place.families
                for j, day in enumerate(fam.conference_dates)
                if day >= self.window_start
            ]
            if not slots:  # tiny runs: any conference will do, raised inside the window
                slots = [(fam, len(fam.conference_dates) - 1) for fam in place.families]
            seeds += [(place, *rng.choice(slots)) for _ in range(count)]
        rng.shuffle(seeds)

        # Simulated in random order so the step budget evens out; saved in raised order.
        planned = []
        steps_left, escalations_left = steps, len(seeds)
        for place, fam, j in seeds:
            mean = steps_left / escalations_left
            wanted = 1 + sum(rng.random() < min(max((mean - 1) / 5, 0), 1) for _ in range(5))
            plan = self._simulate(place, fam, j, wanted)
            planned.append(plan)
            steps_left -= len(plan["steps"])
            escalations_left -= 1
        planned.sort(key=lambda p: p["escalation"]["raised_at"])
        self._say(f"planned {len(planned):,} escalations; saving")

        history_children = apps.get_model("escalations", "HistoricalEscalation_children")
        history_categories = apps.get_model("escalations", "HistoricalEscalation_categories")
        children_through = Escalation.children.through
        categories_through = Escalation.categories.through
        for n in range(0, len(planned), CHUNK):
            chunk = planned[n : n + CHUNK]
            escalations = self.writer.write(
                Escalation,
                [plan["escalation"] for plan in chunk],
                [plan["changed_at"] for plan in chunk],
            )
            history_of = dict(
                Escalation.history.filter(id__in=escalations).values_list("id", "history_id")
            )
            kids = [
                {"escalation_id": e, "child_id": c}
                for e, plan in zip(escalations, chunk, strict=True)
                for c in plan["children"]
            ]
            cats = [
                {"escalation_id": e, "concerncategory_id": c}
                for e, plan in zip(escalations, chunk, strict=True)
                for c in plan["categories"]
            ]
            # The m2m snapshot simple_history keeps beside each escalation history row.
            for through, snapshot, rows in (
                (children_through, history_children, kids),
                (categories_through, history_categories, cats),
            ):
                ids = self.writer.write(through, rows, None)
                self.writer.write(
                    snapshot,
                    [
                        {"id": pk, "history_id": history_of[row["escalation_id"]], **row}
                        for pk, row in zip(ids, rows, strict=True)
                    ],
                    None,
                )
            step_rows = [
                {
                    "escalation_id": e,
                    "authority_id": plan["escalation"]["authority_id"],
                    **fields,
                }
                for e, plan in zip(escalations, chunk, strict=True)
                for fields in plan["steps"]
            ]
            step_ids = self.writer.write(
                Step,
                step_rows,
                [s["closed_at"] or s["responded_at"] or s["raised_at"] for s in step_rows],
            )
            chairs = [
                plan["escalation"]["raised_by_id"] for plan in chunk for _step in plan["steps"]
            ]
            self._extras(step_ids, step_rows, chairs)
            self.created["escalations"] += len(escalations)
            self.created["steps"] += len(step_rows)
            self.created["escalation children"] += len(kids)
            self.created["escalation categories"] += len(cats)
            done = n + len(chunk)
            if done == len(planned) or (done // CHUNK) % 5 == 0:
                self._say(
                    f"escalations {self.created['escalations']:,}/{len(planned):,}, "
                    f"steps {self.created['steps']:,}"
                )

    def _extras(self, ids: list[int], steps: list[Row], chairs: list[int]) -> None:
        """Files sent with some replies and extensions of some deadlines, as the record
        shows them: most steps have neither (ATTACHED_SHARE, EXTENDED_SHARE)."""
        rng = self.extras_rng
        files: list[Row] = []
        extensions: list[Row] = []
        for pk, step, chair in zip(ids, steps, chairs, strict=True):
            answered = step["responded_at"]
            if answered is not None and rng.random() < ATTACHED_SHARE:
                for n in range(1 if rng.random() < 0.75 else 2):
                    name, content_type = rng.choice(ATTACHMENT_NAMES)
                    files.append(
                        {
                            "step_id": pk,
                            "file": f"attachments/load/{pk}-{n}-{name}",
                            "original_name": name,
                            "content_type": content_type,
                            "size": rng.randint(20_000, 900_000),
                            "uploaded_by_id": step["responded_by_id"],
                            "uploaded_at": answered,
                        }
                    )
            made_at = step["raised_at"] + timedelta(days=1)
            before = answered or step["closed_at"] or self.now
            if step["due_on"] and made_at < before and rng.random() < EXTENDED_SHARE:
                extensions.append(
                    {
                        "step_id": pk,
                        "kind": AmendmentKind.EXTENSION,
                        "reason": rng.choice(EXTENSION_REASONS),
                        "made_by_id": chair,
                        "made_at": made_at,
                        "old_due_on": step["due_on"] - timedelta(days=7),
                        "new_due_on": step["due_on"],
                    }
                )
        self.writer.write(Attachment, files, [f["uploaded_at"] for f in files])
        self.writer.write(StepAmendment, extensions, [e["made_at"] for e in extensions])
        self.created["attachments"] += len(files)
        self.created["extensions"] += len(extensions)

    def _office(self, day: date) -> datetime:
        minute = self.rng.randint(8 * 60 + 30, 17 * 60 + 30)
        return datetime.combine(day, time(minute // 60, minute % 60), LONDON)

    def _after(self, moment: datetime, day: date) -> datetime:
        """A time in office hours on `day`, but always after `moment`."""
        candidate = self._office(day)
        if candidate <= moment:
            candidate = moment + timedelta(minutes=self.rng.randint(20, 240))
        return candidate

    def _path(self, ladder: Ladder, wanted: int, immediate_safety: bool) -> list[tuple[int, str]]:
        """Stage indexes visited and the skip reason where a move skips stages."""
        rng, stages, policy = self.rng, ladder.stages, ladder.policy

        def may_enter(target: int, current: int) -> bool:
            # The ladder's rules alone: each step's raiser is picked by its stage's
            # raised_by (a QA manager's stage is raised by one).
            allowed = ladder.moves.get((target, current))
            if allowed is None:
                here = (
                    policy
                    if current < 0
                    else Escalation(policy=policy, current_stage=stages[current])
                )
                allowed = rules.stage_refusal(here, stages[target], None) is None
                ladder.moves[(target, current)] = allowed
            return allowed

        def reason() -> str:
            if ladder.policy.bypass_reason_required or rng.random() < 0.6:
                return rng.choice(SKIP_REASONS)
            return ""

        if immediate_safety and ladder.safety_index is not None:
            start = ladder.safety_index
            path = [(start, IMMEDIATE_SAFETY_REASON if start else "")]
        else:
            start = 0
            if rng.random() < 0.1:
                direct = [i for i in range(1, len(stages)) if may_enter(i, -1)][:3]
                if direct:
                    start = rng.choice(direct)
            path = [(start, reason() if start else "")]
        current = start
        while len(path) < wanted and current + 1 < len(stages) and may_enter(current + 1, current):
            target = current + 1
            if rng.random() < 0.07:
                later = [
                    i
                    for i in range(current + 2, min(current + 4, len(stages)))
                    if may_enter(i, current)
                ]
                if later:
                    target = rng.choice(later)
            path.append((target, reason() if target > current + 1 else ""))
            current = target
        return path

    def _responder(self, place: Place, stage: Stage, fam: Family) -> int:
        rng = self.rng
        roles = [stage.role.slug, *place.ladder.also_roles[stage.pk]]
        # The child's line first (what the raise form offers by default).
        line = fam.social_worker_id
        if line is not None and rng.random() < 0.85:
            seen = set()
            while line is not None and line not in seen:
                if place.role_of.get(line) in roles:
                    return line
                seen.add(line)
                line = place.manager_of.get(line)
        candidates = [pk for slug in roles for pk in place.staff.get(slug, [])]
        if not candidates:
            raise CommandError(f"No staff for {stage.name} in {place.authority.slug}.")
        return rng.choice(candidates)

    def _simulate(self, place: Place, fam: Family, j: int, wanted: int) -> dict[str, Any]:
        rng, cal, ladder, now = self.rng, place.calendar, place.ladder, self.now
        policy = ladder.policy
        good = bool(ladder.good_items) and rng.random() < 0.03
        immediate = not good and ladder.safety_index is not None and rng.random() < 0.02
        path = [(0, "")] if good else self._path(ladder, wanted, immediate)

        conference_day = fam.conference_dates[j]
        offset = rng.randint(0, min(policy.raise_window_working_days or 10, 10))
        raised_at = self._office(cal.add(conference_day, offset))
        if raised_at.date() < self.window_start:
            raised_at = self._office(cal.next_working(self.window_start))
        linked = rng.random() < 0.85  # most name the conference they came from
        if raised_at >= now:
            # Not happened yet (the window runs past today): the last working day before
            # today instead, counted back from today, not from the future date.
            day = self.today - timedelta(days=1)
            while cal.next_working(day) != day:
                day -= timedelta(days=1)
            raised_at = self._office(day)
            linked = linked and conference_day <= day
        chair = fam.conference_chairs[j] if rng.random() < 0.85 else None
        chair = chair or rng.choice(place.staff["cp-chair"])
        children = fam.child_ids if rng.random() < 0.7 else [fam.child_ids[0]]
        conference = fam.conference_ids[fam.child_ids.index(children[0])][j]
        if good:
            categories = [rng.choice(ladder.good_items)]
        elif ladder.concern_items:
            n = min(len(ladder.concern_items), rng.choices((1, 2, 3), (55, 30, 15))[0])
            categories = rng.sample(ladder.concern_items, n)
        else:
            categories = []

        ending = "normal"
        if not good:
            r = rng.random()
            if r < 0.06:
                ending = "withdrawn"
            elif r < 0.075 and (now - raised_at).days > 30:
                ending = "stalled"  # drift: the last step sits unanswered
        qa = place.staff.get("qa-manager") or [chair]

        steps: list[dict[str, Any]] = []
        at = raised_at
        formal_started_at = cap_due_on = closed_at = None
        state, outcome, outcome_for_child = "", "", ""
        for i, (index, skip_reason) in enumerate(path):
            stage = ladder.stages[index]
            last = i == len(path) - 1
            day = at.date()
            response_days = stage.response_days
            if stage.chair_sets_timescale and response_days is None:
                response_days = rng.choice((5, 10, 15))
            if not stage.is_informal and formal_started_at is None:
                formal_started_at = at
                if policy.formal_cap_working_days is not None:
                    cap_due_on = cal.add(day, policy.formal_cap_working_days)
            received_on = cal.next_working(day)
            due_on = cal.deadline(day, response_days, stage.day_type)
            step_cap = None if stage.is_informal else cap_due_on
            effective = earliest(due_on, step_cap)
            responder = self._responder(place, stage, fam)
            skipped = ladder.stages[(path[i - 1][0] + 1 if i else 0) : index]
            step: dict[str, Any] = {
                "sequence": i + 1,
                "stage_id": stage.pk,
                "responder_id": responder,
                "raised_by_id": rng.choice(qa) if stage.raised_by == RaisedBy.QA_MANAGER else chair,
                "raised_at": at,
                "stage_name": stage.name,
                "stage_order": stage.order,
                "mode": stage.mode,
                "response_days": response_days,
                "day_type": stage.day_type,
                "is_final": stage.final,
                "received_on": received_on,
                "due_on": due_on,
                "cap_due_on": step_cap,
                "skipped_stage_names": ", ".join(s.name for s in skipped),
                "skip_reason": skip_reason if skipped else "",
                "responded_at": None,
                "closed_at": None,
            }
            if stage.statement_required:
                step |= STATEMENT
            steps.append(step)

            # The response: most on time, some late, some never.
            r = rng.random()
            kind = "on_time" if good or r < 0.72 else "late" if r < 0.86 else "missing"
            if (ending == "stalled" and last) or (ending == "withdrawn" and last and r < 0.5):
                kind = "missing"
            responded_at = None
            if kind != "missing":
                if effective is None:
                    reply_day = cal.add(received_on, rng.randint(1, 12))
                elif kind == "on_time":
                    reply_day = min(
                        cal.add(received_on, rng.randint(0, response_days or 5)), effective
                    )
                else:
                    reply_day = cal.add(effective, rng.randint(1, 8))
                responded_at = self._after(at, reply_day)
            # When the chair acts on it (or on its absence).
            if responded_at is not None:
                decided_at = self._after(
                    responded_at, cal.add(responded_at.date(), rng.randint(0, 3))
                )
            elif ending == "withdrawn" and last:
                decided_at = self._after(at, cal.add(received_on, rng.randint(0, 4)))
            else:
                base = effective or cal.add(received_on, 10)
                decided_at = self._after(at, cal.add(base, rng.randint(1, 5)))

            if responded_at is not None and responded_at <= now:
                step |= {
                    "response": rng.choice(RESPONSES),
                    "responded_at": responded_at,
                    "responded_by_id": responder,
                }
                if stage.mode == "meeting":
                    step |= {
                        "meeting_date": responded_at.date(),
                        "meeting_attendees": "Chair, team manager, social worker",
                    }
            if (
                (ending == "stalled" and last)
                or decided_at > now
                or (responded_at is not None and responded_at > now)
            ):
                # Still open today.
                if step["responded_at"] is not None:
                    state = State.RESPONSE_RECEIVED
                elif stage.is_informal:
                    state = State.INFORMAL
                else:
                    state = State.AWAITING_RESPONSE
                break
            step["closed_at"] = step["verdict_at"] = decided_at
            if not last:
                step["verdict"] = Verdict.UNSATISFACTORY if responded_at else Verdict.NO_RESPONSE
                at = decided_at
                continue
            closed_at = decided_at
            if ending == "withdrawn":
                step["verdict"], state = Verdict.WITHDRAWN, State.WITHDRAWN
                outcome = rng.choice(WITHDRAWALS)
            elif stage.final and responded_at is not None:
                step["verdict"], state = Verdict.FINAL_DECISION, State.FINAL_DECISION
                outcome = rng.choice(FINAL_DECISIONS)
                outcome_for_child = rng.choice(OUTCOMES_FOR_CHILD)
            else:
                step["verdict"], state = Verdict.SATISFACTORY, State.RESOLVED
                outcome = rng.choice(OUTCOMES)
                outcome_for_child = rng.choice(OUTCOMES_FOR_CHILD)

        last_step = steps[-1]
        self.states[state] += 1
        if state in (State.INFORMAL, State.AWAITING_RESPONSE):
            # Asked of the step itself, so the count is the pages' and the reports'.
            final = Step(**{k: last_step[k] for k in ("due_on", "cap_due_on", "responded_at")})
            self.overdue += final.is_overdue(self.today)
        changed_at = max(
            (s[k] for s in steps for k in ("raised_at", "responded_at", "closed_at") if s[k]),
        )
        return {
            "escalation": {
                "authority_id": place.authority.pk,
                "policy_id": policy.pk,
                "conference_id": conference if linked else None,
                "raised_by_id": chair,
                "nature": Nature.GOOD_PRACTICE if good else Nature.CONCERN,
                "summary": self._summary(place, categories, good),
                "desired_outcome": "" if good else rng.choice(DESIRED),
                "immediate_safety": immediate,
                "state": state,
                "current_stage_id": last_step["stage_id"],
                "raised_at": raised_at,
                "formal_started_at": formal_started_at,
                "formal_cap_due_on": cap_due_on,
                "closed_at": closed_at,
                "outcome": outcome,
                "outcome_for_child": outcome_for_child,
            },
            "children": children,
            "categories": categories,
            "steps": steps,
            "changed_at": changed_at,
        }

    def _summary(self, place: Place, categories: list[int], good: bool) -> str:
        names = self.category_names
        if good:
            return "Good practice: the plan's actions were completed early and well recorded."
        lead = names.get(categories[0], "Concern about the plan") if categories else "Concern"
        return f"{lead}. {self.rng.choice(DETAILS)}"

    @property
    def category_names(self) -> dict[int, str]:
        if not hasattr(self, "_category_names"):
            self._category_names = dict(
                ConcernCategory.objects.filter(parent__isnull=False).values_list("pk", "name")
            )
        return self._category_names

    # --- the end ----------------------------------------------------------------------

    def _totals(self, elapsed: float) -> None:
        c = self.created
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated in {elapsed:.1f} s (run {self.run}, names '{self._prefix(self.run)}.…'):"
            )
        )
        for label in (
            "teams", "users", "staff", "children", "plans", "conferences", "escalations",
            "escalation children", "escalation categories", "steps", "attachments",
            "extensions",
        ):  # fmt: skip
            self.stdout.write(f"  {label:<24}{c[label]:>10,}")
        self.stdout.write(
            "  escalations by state: "
            + ", ".join(f"{s} {n:,}" for s, n in sorted(self.states.items()))
        )
        self.stdout.write(f"  open and overdue today: {self.overdue:,}")
