"""Reads: who may see which escalation, and what the screens show about it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import accumulate
from typing import Any, TypeVar, cast, overload

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
    Window,
    prefetch_related_objects,
)
from django.db.models.lookups import IsNull
from django.template.defaultfilters import pluralize
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from children.models import Child
from config.compiled import CompiledQuery
from config.dates import date_filter
from config.html import format_html, table_row
from escalations import rules
from escalations.loading import (
    built,
    categories_of,
    in_field_order,
    load_ladders,
    roles_by_pk,
    set_loaded,
)
from escalations.models import (
    AWAITING_CHAIR,
    CLOSED_STATES,
    OPEN_STATES,
    Addressee,
    Attachment,
    Escalation,
    Nature,
    State,
    Step,
    StepAmendment,
    StepQuerySet,
    effective_due,
    overdue_q,
)
from notifications.models import Notification
from policies.models import (
    DayType,
    LocalAuthority,
    Policy,
    PolicyKind,
    RaisedBy,
    Stage,
)
from policies.working_days import (
    add_working_days,
    calendar_days_between,
    is_working_day,
    working_days_between,
)
from staff.models import Partner, StaffMember
from staff.selectors import people_below

# A pk no row has: reversed once, and split where it falls (`row_url`).
_URL_MARK = 987654321987
_URL_HALVES: dict[tuple[str, str | None, str, str], tuple[str, str]] = {}


class RowUrls:
    """reverse(name, args=[pk]) for a page's many rows: each name reversed once per URLconf
    and script prefix, the rows' pks put in its place (reverse per row cost more than the
    list's queries). The URLconf and prefix (thread-local reads) are read when it is made:
    make one for a page's rows, not one a link."""

    def __init__(self) -> None:
        self._key = (get_urlconf(), settings.ROOT_URLCONF, get_script_prefix())

    def __call__(self, name: str, pk: int) -> str:
        key = (name, *self._key)
        halves = _URL_HALVES.get(key)
        if halves is None:
            before, _mark, after = reverse(name, args=[_URL_MARK]).partition(str(_URL_MARK))
            halves = _URL_HALVES[key] = (before, after)
        return f"{halves[0]}{pk}{halves[1]}"


def row_url(name: str, pk: int) -> str:
    """One row's link (`RowUrls`)."""
    return RowUrls()(name, pk)


def children_of(escalation: Escalation) -> Iterable[Child]:
    """`escalation.children.all()`, from the prefetch cache without building a related
    manager each time when the caller loaded them (a list reads them twice a row)."""
    cache = getattr(escalation, "_prefetched_objects_cache", {})
    return cache["children"] if "children" in cache else escalation.children.all()


def children_names(escalation: Escalation) -> str:
    """The escalation's children's names, as a list's cell shows them."""
    return ", ".join(c.full_name for c in children_of(escalation))


def children_by_escalation(pks: Sequence[int]) -> dict[int, list[Child]]:
    """{escalation pk: its children, in Child's order}, in one query."""
    grouped: dict[int, list[Child]] = {pk: [] for pk in pks}
    links = (
        Escalation.children.through.objects.filter(escalation_id__in=pks)
        .select_related("child")
        .order_by("child__last_name", "child__first_name", "child_id")
    )
    for link in links:
        grouped[link.escalation_id].append(link.child)
    return grouped


def visible_escalations(staff: StaffMember, pk: int | None = None) -> QuerySet[Escalation]:
    """QA managers see their authority's escalations; everyone else (chairs too) only
    what involves them (docs/architecture.md §5, §8).

    Involved: raised it, it is about them, they or their line are addressed on a step,
    they were told of it (a copy or an alert: "was told" is "may see"), or one of its
    children is allocated to them or their line. Naming a child never widens this.
    Whoever holds a role that raises a stage of its policy (Stage.raiser_roles: the Head
    of QA) sees it too, or they could not raise that stage; a chair's role there means
    the escalation's own chair (rules.raiser_refusal), so it shows chairs nothing more.

    `pk`: that one escalation only, if visible. Each way in then reads a handful of index
    entries for it, not every escalation the person may see (a chair's run to thousands).
    """
    qs = Escalation.objects.filter(authority=staff.authority)
    if pk is not None:
        qs = qs.filter(pk=pk)
    if staff.is_quality_assurance:
        return qs
    line = people_below(staff) | {staff.pk}

    def only(way: QuerySet[Any], field: str) -> QuerySet[Any]:
        return way if pk is None else way.filter(**{field: pk})

    # One UNION of indexed lookups (an OR across joins of the steps, addressees,
    # notifications and children scanned them all): see _mine.
    ways_in = [
        only(Escalation.objects.filter(raised_by=staff), "pk").values("pk"),
        only(Escalation.objects.filter(about_staff=staff), "pk").values("pk"),
        only(Step.objects.filter(responder_id__in=line), "escalation_id").values("escalation_id"),
        only(Addressee.objects.filter(staff_id__in=line), "step__escalation_id").values(
            "step__escalation_id"
        ),
        only(Notification.objects.filter(recipient=staff), "escalation_id").values("escalation_id"),
        only(
            Escalation.children.through.objects.filter(child__social_worker_id__in=line),
            "escalation_id",
        ).values("escalation_id"),
    ]
    if not staff.is_chair:
        ways_in.append(
            only(
                Escalation.objects.filter(policy__stages__raiser_roles=staff.role_id), "pk"
            ).values("pk")
        )
    first, *rest = (way.order_by() for way in ways_in)
    return qs.filter(pk__in=first.union(*rest, all=True))


def policies_for(staff: StaffMember, on: date | None = None) -> QuerySet[Policy]:
    """The policies this person may raise under on `on` (today), in their authority: of
    each kind, the version in force that day (Policy.effective_from), if they may raise
    under it."""
    return Policy.objects.filter(pk__in=raisable_policy_pks(staff, on)).order_by("kind", "name")


def raisable_policy_pks(staff: StaffMember, on: date | None = None) -> list[int]:
    """The pks of `policies_for`: of each kind, the versions in force (`rules`) this
    person's role may raise under. From the ladders the process holds: no query while
    no ladder has changed (the child's file asks only whether there is one)."""
    on = on or timezone.localdate()
    by_kind: dict[str, list[Policy]] = {}
    for policy in rules.policy_candidates(staff.authority, on):
        by_kind.setdefault(policy.kind, []).append(policy)
    return [
        p.pk
        for kind in PolicyKind.values
        for p in rules.in_force_among(by_kind.get(kind, []))
        if any(role.pk == staff.role_id for role in p.raisers.all())
    ]


def policy_to_raise(
    staff: StaffMember, slug: str, on: date | None = None, *, as_named: bool = False
) -> Policy | None:
    """The version in force on `on` of the procedure a link names by `slug` (an older or
    later version names the same procedure), if this person may raise under it.

    `as_named`: the very version named, if active and theirs to raise under. A posted raise
    form was made for one version: it is read against that version's stages, and the raise
    itself refuses it, saying so, when another version has come into force since."""
    named = Policy.objects.filter(authority=staff.authority, slug=slug, is_active=True).first()
    if named is None:
        return None
    if as_named:
        return named if named.raisers.filter(pk=staff.role_id).exists() else None
    in_force = list(policies_for(staff, on).filter(kind=named.kind))
    if named in in_force:
        return named
    # Another version is in force: that one, if it alone is (else the choice page).
    return in_force[0] if len(in_force) == 1 else None


def counts_calendar_days(step: Step) -> bool:
    """Whether the step's countdown is in calendar days: its own calendar-day deadline is
    the one that bites (the formal cap is always in working days)."""
    return step.day_type == DayType.CALENDAR and step.binding_clock == "stage"


def days_between(
    start: date, end: date, *, calendar: bool, nation: str, closures: frozenset[date]
) -> int:
    """Days from `start` to `end` in the countdown's unit (calendar or working days)."""
    if calendar:
        return calendar_days_between(start, end)
    return working_days_between(start, end, nation=nation, closures=closures)


@dataclass
class Clock:
    """One step's deadlines (the stage's own, the formal cap, and which one bites) and
    where it stands by the Step predicates: overdue, or awaiting the chair once answered
    (its clock stopped: no days left and never overdue)."""

    due_on: date | None
    cap_due_on: date | None
    effective: date | None
    binding: str
    days_left: int | None
    overdue: bool
    awaiting_chair: bool
    # `days_left` counts calendar days where a calendar-day deadline is the one that bites
    # ("Sun 6 Dec (6 days left)"), else working days.
    calendar: bool = False
    # The deadline that bites lands on a weekend, bank holiday or closure day (a calendar-day
    # deadline the policy keeps where it falls): the page says so beside the date.
    off_day: bool = False
    # The issue-by clock (Stage.issue_within_days), the chair's once the step is answered:
    # by when the next stage (`issue_stage`, when the caller knows it) must be issued.
    issue_by: date | None = None
    issue_stage: str = ""
    issue_overdue: bool = False
    issue_days_left: int | None = None

    @property
    def bites(self) -> str:
        """Which clock runs now: 'issue' (the chair must issue the next stage), 'reply'
        (a response is awaited), or '' (neither)."""
        if self.awaiting_chair:
            return "issue" if self.issue_by is not None else ""
        return "reply" if self.effective is not None else ""

    def html(self) -> SafeString:
        """The clock as the lists and the record print it: built here rather than in a
        template included per row, which cost more than the rest of a list's row."""
        if self.awaiting_chair:
            out = _AWAITING_THE_CHAIR
            if self.issue_by is not None:
                out += format_html(
                    "<br>Issue {} by {}{}",
                    self.issue_stage or "the next stage",
                    date_filter(self.issue_by, "D j M Y"),
                    _late_or_left(self.issue_overdue, self.issue_days_left, "working day"),
                )
            return out
        if self.effective is not None:
            unit = "day" if self.calendar else "working day"
            return format_html(
                "{}{}{}{}",
                date_filter(self.effective, "D j M Y"),
                " — not a working day" if self.off_day else "",
                _late_or_left(self.overdue, self.days_left, unit),
                _CAP_APPLIES if self.binding == "cap" else "",
            )
        return _NO_TIMESCALE

    @classmethod
    def of(
        cls,
        step: Step,
        today: date,
        nation: str,
        closures: frozenset[date],
        *,
        next_stage: Stage | None = None,
    ) -> Clock:
        """`next_stage`: the stage the issue-by clock is for, when the caller knows it (its
        name is shown, and its days are the unit of the countdown)."""
        issue_by = step.next_issue_due_on if step.is_awaiting_chair else None
        issue_days_left = None
        if issue_by is not None and issue_by >= today:
            issue_days_left = days_between(
                today,
                issue_by,
                calendar=next_stage is not None and next_stage.day_type == DayType.CALENDAR,
                nation=nation,
                closures=closures,
            )
        effective = step.effective_due_on
        calendar = counts_calendar_days(step)
        days_left = None
        if effective is not None and step.is_awaiting_response:
            days_left = days_between(
                today, effective, calendar=calendar, nation=nation, closures=closures
            )
        return cls(
            due_on=step.due_on,
            cap_due_on=step.cap_due_on,
            effective=effective,
            binding=step.binding_clock,
            days_left=days_left,
            overdue=step.is_overdue(today),
            awaiting_chair=step.is_awaiting_chair,
            calendar=calendar,
            off_day=effective is not None
            and not is_working_day(effective, nation=nation, closures=closures),
            issue_by=issue_by,
            issue_stage=next_stage.name if next_stage is not None else "",
            issue_overdue=step.is_issue_overdue(today),
            issue_days_left=issue_days_left,
        )


# The clock's fixed pieces of markup (Clock.html).
_AWAITING_THE_CHAIR = SafeString(
    '<strong class="govuk-tag govuk-tag--blue">Awaiting the chair</strong> '
    '<span class="govuk-hint govuk-!-display-inline">(answered: the chair decides next)</span>'
)
_CAP_APPLIES = SafeString('<br><span class="govuk-body-s">Formal cap applies</span>')
_NO_TIMESCALE = SafeString("No timescale set by the policy")
_OVERDUE = SafeString(' <strong class="govuk-tag govuk-tag--red">Overdue</strong>')


def _late_or_left(overdue: bool, left: int | None, unit: str) -> SafeString:
    """A clock's tag: overdue, or how many days are left (nothing when neither is known)."""
    if overdue:
        return _OVERDUE
    if left is None:
        return SafeString("")
    return format_html(
        ' <span class="govuk-hint govuk-!-display-inline">({} {}{} left)</span>',
        left,
        unit,
        pluralize(left),
    )


class _ListCells:
    """What every list's cells show of the escalation, in words (escalations/_table.html
    only prints them)."""

    escalation: Escalation
    step: Step | None
    clock: Clock | None

    @property
    def children(self) -> str:
        return children_names(self.escalation)

    @property
    def state(self) -> str:
        return self.escalation.get_state_display()

    @property
    def stage(self) -> str:
        return self.step.stage_name if self.step is not None else ""

    @property
    def url(self) -> str:
        raise NotImplementedError

    @property
    def who(self) -> str:
        raise NotImplementedError

    def html(self) -> SafeString:
        """The row as escalations/_table.html prints it (`list_row_html`); the clock as its
        HTML (Clock.html)."""
        return list_row_html(
            url=self.url,
            reference=self.escalation.reference,
            children=self.children,
            state=self.state,
            stage=self.stage or "—",
            who=self.who,
            due=self.clock.html() if self.step is not None and self.clock else "—",
        )


def list_row_html(
    *, url: str, reference: str, children: str, state: str, stage: str, who: str, due: str
) -> SafeString:
    """One row of a list of escalations (escalations/_table.html), built here rather than
    by the template: My escalations and Awaiting my response list fifty or more, and the
    template's loop cost more than the rest of the page's Python (the template it
    replaced is kept in the tests, which compare them)."""
    return table_row(url, reference, children, state, stage, who, due, indent="    ")


@dataclass(frozen=True)
class EscalationRow(_ListCells):
    """One line of a list of escalations: its open step, if any, and that step's clocks."""

    escalation: Escalation
    step: Step | None
    clock: Clock | None

    @property
    def url(self) -> str:
        return row_url("escalations:detail", self.escalation.pk)

    @property
    def who(self) -> str:
        """The step's addressee."""
        return (self.step.addressee_name if self.step is not None else "") or "—"


@dataclass(frozen=True)
class AwaitingRow(_ListCells):
    """One line of "awaiting my response": an open step, so always a step and its clocks."""

    escalation: Escalation
    step: Step
    clock: Clock

    @property
    def url(self) -> str:
        return row_url("escalations:respond", self.step.pk)

    @property
    def who(self) -> str:
        """Who raised the escalation."""
        return self.escalation.raised_by.display_name


class Printable:
    """A row a template prints. `{{ row.name }}` tries row["name"] before the attribute:
    on an object without `__getitem__` that first try raises, and catching it cost more
    than printing the value (some 2,000 a child's file). Answering it here makes a row as
    quick to read as a dict."""

    __slots__ = ()

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)


class StepRow(Printable):
    """One step of the record (escalations/_steps.html) with its clocks; on a stage
    addressed to several people, each of them with their own. What the template prints is
    read from the step here, each property once, not at every mention."""

    def __init__(self, step: Step, clock: Clock, addressees: tuple[AddresseeRow, ...] = ()):
        self.step = step
        self.clock = clock
        self.addressees = addressees
        self.clock_html = clock.html() if step.is_open else ""
        self.pk = step.pk
        self.sequence = step.sequence
        self.stage_name = step.stage_name
        self.is_open = step.is_open
        self.is_awaiting_chair = step.is_awaiting_chair
        self.binding = clock.binding
        raised_by = step.raised_by
        self.raised_by = raised_by.display_name if raised_by is not None else ""
        self.raised_at = step.raised_at
        if addressees:
            self.completion_label = step.completion_label
        else:
            self.addressee_name = step.addressee_name
            self.addressee_title = step.addressee_title
        self.copies_unfilled = step.copies_unfilled
        self.skipped_stage_names = step.skipped_stage_names
        self.skip_reason = step.skip_reason
        self.due_on = step.due_on
        self.extended_from = step.extended_from if step.due_on else None
        # "(10 working days from receipt)", as the page has always said it.
        days = step.response_days
        unit = "working" if step.day_type == DayType.WORKING else "calendar"
        self.timescale = f"{days} {unit} day{pluralize(days)}"
        self.timescale_reason = step.timescale_reason
        self.timescale_words = step.timescale_words if step.timescale_reason else ""
        self.cap_due_on = step.cap_due_on
        self.issue_due_on = step.issue_due_on
        self.was_issued_late = bool(step.issue_due_on and step.was_issued_late)
        self.statement_issue = step.statement_issue
        self.statement_actions = step.statement_actions
        self.statement_wanted_label = step.statement_wanted_label or "What is wanted"
        self.statement_wanted = step.statement_wanted
        self.responded_at = step.responded_at
        self.response = step.response
        self.meeting_date = step.meeting_date
        self.meeting_attendees = step.meeting_attendees
        self.chased_at = step.chased_at
        self.verdict = step.verdict
        if step.verdict:
            self.verdict_label = step.verdict_label
            self.verdict_display = step.get_verdict_display()
            self.verdict_at = step.verdict_at

    # The step's files and amendments as the record lists them, from the prefetch cache
    # (a related manager built for each read cost more than the rows).
    @cached_property
    def attachments(self) -> list[Attachment]:
        return attachments_of(self.step)

    @cached_property
    def amendments(self) -> list[StepAmendment]:
        return _loaded(self.step, "amendments")


# Where `load_the_record` lists each step's attachments.
RECORD_ATTACHMENTS = "record_attachments"


def attachments_of(step: Step) -> list[Attachment]:
    """The step's attachments: as `load_the_record` loaded them, else a query."""
    loaded: list[Attachment] | None = getattr(step, RECORD_ATTACHMENTS, None)
    return loaded if loaded is not None else _loaded(step, "attachments")


def _loaded(instance: Any, name: str) -> list[Any]:
    """`instance.<name>.all()` as a list, from the prefetch cache when the caller loaded it."""
    cache = getattr(instance, "_prefetched_objects_cache", {})
    return list(cache[name]) if name in cache else list(getattr(instance, name).all())


@dataclass(frozen=True)
class AddresseeRow(Printable):
    """One person a stage addressed to several people asks, where they stand by the
    Addressee predicates: replied (and when, with what), awaited (due, days left, overdue),
    or no longer asked (the stage was answered without them, or closed)."""

    addressee: Addressee
    answered: bool
    awaited: bool
    due_on: date | None
    days_left: int | None
    overdue: bool
    attachments: tuple[Attachment, ...] = ()

    @classmethod
    def of(
        cls, addressee: Addressee, today: date, nation: str, closures: frozenset[date]
    ) -> AddresseeRow:
        due = addressee.effective_due_on
        awaited = addressee.is_awaited
        days_left = None
        if awaited and due is not None and due >= today:
            days_left = working_days_between(today, due, nation=nation, closures=closures)
        return cls(
            addressee=addressee,
            answered=addressee.is_answered,
            awaited=awaited,
            due_on=due,
            days_left=days_left,
            overdue=addressee.is_overdue(today),
            attachments=tuple(
                a for a in attachments_of(addressee.step) if a.addressee_id == addressee.pk
            ),
        )


def addressee_rows(
    step: Step, today: date, nation: str, closures: frozenset[date]
) -> tuple[AddresseeRow, ...]:
    if not step.addresses_several:
        return ()
    rows = []
    for addressee in step.addressees.all():
        addressee.step = step  # the loaded step, not a query per row
        rows.append(AddresseeRow.of(addressee, today, nation, closures))
    return tuple(rows)


def escalation_rows(
    staff: StaffMember,
    escalations: Iterable[Escalation],
    today: date,
    *,
    sort: bool = True,
    closures: frozenset[date] | None = None,
) -> list[EscalationRow]:
    """Each escalation with its open step and clocks: open first, overdue first, soonest due
    (`sort=False`: in the order given, a page the query has put in that order).
    `closures`: the authority's closure days, when the caller has read them already."""
    return escalation_rows_of(staff.authority, escalations, today, sort=sort, closures=closures)


def escalation_rows_of(
    authority: LocalAuthority,
    escalations: Iterable[Escalation],
    today: date,
    *,
    sort: bool = True,
    closures: frozenset[date] | None = None,
) -> list[EscalationRow]:
    """`escalation_rows` by the authority's calendar, for a list nobody in particular reads
    (the quarterly report's stored figures)."""
    if closures is None:
        closures = authority.closure_dates()
    rows = []
    for escalation in escalations:
        step = escalation.open_step()
        clock = Clock.of(step, today, authority.nation, closures) if step else None
        rows.append(EscalationRow(escalation=escalation, step=step, clock=clock))
    if not sort:
        return rows
    rows.sort(
        key=lambda r: (
            not r.escalation.is_open,
            not (r.clock and r.clock.overdue),
            r.clock.effective if r.clock and r.clock.effective else date.max,
        )
    )
    return rows


# A page of My escalations: a chair's history runs to more than a thousand escalations.
MINE_PAGE_SIZE = 50


def _mine(staff: StaffMember) -> QuerySet[Escalation]:
    """What I raised, must answer, is about me, is on my own children or I was told of
    (QA: the authority's). The ways in are one UNION of indexed lookups: an OR across
    joins of the steps, addressees, children and notifications made PostgreSQL scan them
    all, and an OR of subqueries left it guessing at nearly every row (so it compiled the
    query with its JIT, seconds on every request)."""
    qs = Escalation.objects.filter(authority=staff.authority)
    if staff.is_quality_assurance:
        return qs
    raised = Escalation.objects.filter(raised_by=staff).values("pk").order_by()
    return qs.filter(pk__in=raised.union(_ways_in_besides_raising(staff), all=True))


def _ways_in_besides_raising(staff: StaffMember | int) -> QuerySet[Any]:
    """The pks of what `_mine` lists other than what the person raised: what they must
    answer, is about them, is on their own children or they were told of (a UNION of
    indexed lookups, a few rows)."""
    through = Escalation.children.through.objects
    ways_in = [
        Escalation.objects.filter(about_staff=staff).values("pk"),
        Step.objects.filter(responder=staff).values("escalation_id"),
        Addressee.objects.filter(staff=staff).values("step__escalation_id"),
        through.filter(child__social_worker=staff).values("escalation_id"),
        Notification.objects.filter(recipient=staff).values("escalation_id"),
    ]
    first, *rest = (way.order_by() for way in ways_in)
    return first.union(*rest, all=True)


def _mine_listed(
    *, authority: int, staff: int, besides: list[int], everyone: bool
) -> QuerySet[Escalation]:
    """What `my_escalations_listed` lists (`_mine`): the authority's, for a QA manager
    (`everyone`); else what `staff` raised or is found by the other ways in (`besides`)."""
    escalations = Escalation.objects.filter(authority=authority)
    if not everyone:
        escalations = escalations.filter(Q(raised_by=staff) | Q(pk__in=besides))
    return escalations


def _mine_open_query(
    *, authority: int, staff: int, besides: list[int], everyone: bool
) -> QuerySet[Any]:
    return (
        _mine_listed(authority=authority, staff=staff, besides=besides, everyone=everyone)
        .filter(state__in=OPEN_STATES)
        .order_by("-raised_at", "-pk")
        .values_list("pk", "state", "raised_by_id")
    )


def _ways_in_query(*, staff: int) -> QuerySet[Any]:
    return _ways_in_besides_raising(staff).values_list("pk")


# Compiled once per process (config.compiled): My escalations asks both on every page.
_WAYS_IN = CompiledQuery(_ways_in_query)
_MINE_OPEN = CompiledQuery(_mine_open_query, members=["besides"])


def _with_open_step(escalations: QuerySet[Escalation]) -> QuerySet[Escalation]:
    """What a row of the list shows: the children and the open step only (open_step()
    reads it from here), whoever it is addressed to."""
    return escalations.select_related(
        "policy", "current_stage", "raised_by__user"
    ).prefetch_related(
        "children",
        Prefetch(
            "steps",
            # No ordering: one open step each, and Step's default order joins the escalation.
            queryset=Step.objects.open()
            .order_by()
            .select_related("responder__user", "responder__role", "partner"),
        ),
    )


def _awaiting_my_decision(staff: StaffMember) -> Q:
    # The answered open step, as a probe of each row's (LIMIT 1) rather than an EXISTS,
    # which PostgreSQL hashed over every step awaiting a chair in every authority.
    answered = Step.objects.awaiting_chair().filter(escalation=OuterRef("pk")).order_by()
    return Q(raised_by=staff, state__in=OPEN_STATES) & Q(
        IsNull(Subquery(answered.values("pk")[:1]), False)
    )


def my_decisions(staff: StaffMember) -> QuerySet[Escalation]:
    """My escalations whose step has been answered and waits on my decision, as the one
    who raised it: the chair's own section at the top of My escalations (as many as the
    chair has open, so never paged)."""
    # Raised by them, so among _mine's ways in: no need for its UNION here.
    return _with_open_step(
        Escalation.objects.filter(authority=staff.authority).filter(_awaiting_my_decision(staff))
    )


def my_escalations(staff: StaffMember, today: date) -> QuerySet[Escalation]:
    """The landing list (less `my_decisions`), in the order it is shown, in SQL so that it
    can be paged: open first, then overdue first, soonest due, newest raised."""
    return _with_open_step(_my_escalations_in_order(staff, today))


# A row of My escalations as listed: (pk, state, raised_by_id), what a row reads of the
# escalation itself (`_LISTED_ESCALATION`, with the viewer's authority), read with its
# place in the list so that a page of them needs no query for the escalations. Plain
# tuples: a chair has a hundred or more open.
Listed = tuple[int, str, int]


def my_escalations_listed(staff: StaffMember, today: date) -> tuple[list[Listed], MineRest]:
    """`my_decisions` and `my_escalations`, in its order, as `Listed` rows: the pager's
    count and pages (`MineRest`), and the open rows sorted by what their open steps say,
    read with no joined rows (`escalations_in_order` loads a page's).

    Open first, so only the open rows are read whole and sorted here (a chair has a
    hundred or so open, of a history that runs to thousands); the closed ones follow,
    newest first, read a page at a time from the index. Read whole, a chair's history
    cost a query, a sort and a page's time in proportion to its length (137 ms for
    5,134 escalations at a million steps).
    """
    everyone = staff.is_quality_assurance
    besides: list[int] = []
    if not everyone:
        # `_mine` for anyone else: what they raised, or found by the other ways in (a
        # few pks). The same rows as `_mine`'s UNION, in plain queries: that UNION in a
        # filter PostgreSQL planned in parallel workers, whose start cost more than the
        # scan.
        besides = [pk for (pk,) in _WAYS_IN.rows(staff=staff.pk)]
    mine: dict[str, Any] = {
        "authority": staff.authority_id,
        "staff": staff.pk,
        "besides": besides,
        "everyone": everyone,
    }
    open_rows = cast(list[Listed], _MINE_OPEN.rows(**mine))
    escalations = _mine_listed(**mine)
    open_pks = [pk for pk, _state, _raiser in open_rows]
    read_whole = len(open_pks) <= 2 * MINE_PAGE_SIZE
    if read_whole:
        # With what a row shows of them (`_listed_open_steps`): the page's rows then read
        # no steps of their own. Not for more (a QA manager's run to thousands): the
        # sort reads only its columns, and a page its own rows' steps.
        open_step = listed_open_steps(open_pks)
    else:
        open_step = {
            step.escalation_id: step
            for step in (
                built(Step, _SORT_STEP_COLUMNS, values)
                for values in _SORT_STEPS.rows(escalations=open_pks)
            )
        }

    def rank(row: Listed) -> tuple[bool, bool, date]:
        """`_in_list_order` among the open: overdue first, soonest due (none last), then
        newest raised (the read's order; the sort keeps it)."""
        step = open_step.get(row[0])
        if step is None:
            return (True, True, date.min)
        due = step.effective_due_on
        return (not step.is_overdue(today), due is None, due or date.min)

    open_rows.sort(key=rank)
    deciding: list[Listed] = []
    others: list[Listed] = []
    me = staff.pk
    for row in open_rows:
        step = open_step.get(row[0])
        # `_awaiting_my_decision`: raised by them, open, its open step answered.
        mine_to_decide = row[2] == me and step is not None and step.is_awaiting_chair
        (deciding if mine_to_decide else others).append(row)
    closed = escalations.filter(state__in=CLOSED_STATES).order_by("-raised_at", "-pk")
    return deciding, MineRest(others, closed, open_step if read_whole else None)


def _sort_steps_query(*, escalations: list[int]) -> QuerySet[Any]:
    return (
        Step.objects.open()
        .filter(escalation_id__in=escalations)
        .order_by()
        .values_list(*_SORT_STEP_COLUMNS)
    )


# What My escalations' sort reads of the open steps (a chair at a large authority has
# hundreds open), as values compiled once (config.compiled) and built.
_SORT_STEP_COLUMNS = in_field_order(
    Step, ["id", "escalation_id", "due_on", "cap_due_on", "closed_at", "responded_at"]
)
_SORT_STEPS = CompiledQuery(_sort_steps_query, members=["escalations"])


class MineRest:
    """My escalations after what waits on the person's decision, as the pager reads it
    (its length and slices): the open rows, sorted already, then the closed ones, newest
    first, each page of them read from the database when asked for."""

    def __init__(
        self,
        open_rows: list[Listed],
        closed: QuerySet[Escalation],
        open_steps: dict[int, Step] | None = None,
    ) -> None:
        self.open_rows = open_rows
        self.closed = closed
        # Every open escalation's open step, read for the sort (`escalations_in_order`).
        self.open_steps = open_steps

    @cached_property
    def closed_count(self) -> int:
        return self.closed.count()

    def __len__(self) -> int:
        return len(self.open_rows) + self.closed_count

    @overload
    def __getitem__(self, index: int) -> Listed: ...

    @overload
    def __getitem__(self, index: slice) -> list[Listed]: ...

    def __getitem__(self, index: int | slice) -> Listed | list[Listed]:
        if isinstance(index, int):
            (row,) = self[index : index + 1] if index >= 0 else self[index:][:1]
            return row
        if index.step not in (None, 1):
            raise ValueError("My escalations are read a page at a time, in order.")
        start, stop, _step = index.indices(len(self))
        shown = self.open_rows[start:stop]
        first, last = max(start - len(self.open_rows), 0), max(stop - len(self.open_rows), 0)
        if last > first:
            shown += list(self.closed[first:last].values_list("pk", "state", "raised_by_id"))
        return shown

    def __iter__(self) -> Iterator[Listed]:
        return iter(self[:])


def escalations_in_order(
    listed: Sequence[Listed], authority_id: int, open_steps: dict[int, Step] | None = None
) -> list[Escalation]:
    """The escalations of a page of `my_escalations_listed` (of the authority), in that
    order, with what a row of the list shows: its children and open step (a row names no
    policy, stage or raiser, so none is joined: building those objects cost more than the
    query). The escalations themselves are built from `listed`, as
    `.only(*_LISTED_ESCALATION)` would read them: that query cost more than the others.
    `open_steps`: the open escalations' open steps, when the caller has read them
    (`_listed_open_steps`, by escalation pk)."""
    found: dict[int, Escalation] = {}
    for pk, state, raised_by_id in listed:
        # By name: Model.from_db (so built) takes a row's values in the model's field
        # order, not the order of the names given.
        read = {
            "id": pk,
            "state": state,
            "raised_by_id": raised_by_id,
            "authority_id": authority_id,
        }
        found[pk] = built(Escalation, _IN_ORDER_COLUMNS, [read[name] for name in _IN_ORDER_COLUMNS])
    children = listed_children(list(found))
    wanted = [pk for pk, state, _raiser in listed if state in OPEN_STATES]
    if open_steps is None or not set(wanted) <= open_steps.keys():
        open_steps = listed_open_steps(wanted)
    for pk, escalation in found.items():
        step = open_steps.get(pk)
        if step is not None:
            step.escalation = escalation
        set_loaded(escalation, "children", Child, children[pk])
        set_loaded(escalation, "steps", Step, [step] if step is not None else [])
    return list(found.values())


class _BuiltOnce:
    """The people and partner agencies a list's rows name, each built once (`built`)
    however many rows name them: a chair's hundred open steps go to a few dozen people."""

    _user = StaffMember._meta.get_field("user")

    def __init__(self) -> None:
        self.people: dict[int, StaffMember] = {}
        self.partners: dict[int, Partner] = {}

    def person(
        self,
        columns: Sequence[str],
        values: Sequence[Any],
        user_columns: Sequence[str],
        user_values: Sequence[Any],
    ) -> StaffMember:
        """The member of staff of a row's `values` (their id first), with their user."""
        person = self.people.get(values[0])
        if person is None:
            person = self.people[values[0]] = built(StaffMember, columns, values)
            self._user.set_cached_value(person, built(User, user_columns, user_values))
        return person

    def partner(self, columns: Sequence[str], values: Sequence[Any]) -> Partner:
        """The partner agency contact of a row's `values` (their id first)."""
        agency = self.partners.get(values[0])
        if agency is None:
            agency = self.partners[values[0]] = built(Partner, columns, values)
        return agency


def listed_open_steps(escalation_pks: Sequence[int]) -> dict[int, Step]:
    """{escalation pk: its open step}, with what a list's row shows of it (_LISTED_STEP),
    in one query. The steps, their addressees and those people's users are built from
    the rows here, each person once however many steps they are asked (a chair's hundred
    open steps go to a few dozen people): built by the ORM, with a person and a user for
    every step, they cost three times the query."""
    if not escalation_pks:
        return {}
    found: dict[int, Step] = {}
    once = _BuiltOnce()
    responder, partner = Step._meta.get_field("responder"), Step._meta.get_field("partner")
    steps, users = len(_STEP_COLUMNS), len(_USER_COLUMNS)
    for row in _LISTED_OPEN_STEPS.rows(escalations=list(escalation_pks)):
        step = built(Step, _STEP_COLUMNS, row[:steps])
        if step.responder_id is not None:
            user_values = row[steps : steps + users]
            person = once.person(
                _STAFF_COLUMNS, (step.responder_id, user_values[0]), _USER_COLUMNS, user_values
            )
            responder.set_cached_value(step, person)
        if step.partner_id is not None:
            partner.set_cached_value(step, once.partner(_PARTNER_COLUMNS, row[steps + users :]))
        found[step.escalation_id] = step
    return found


def _listed_open_steps_query(*, escalations: list[int]) -> QuerySet[Any]:
    return (
        Step.objects.open()
        .filter(escalation_id__in=escalations)
        .order_by()
        .values_list(
            *_STEP_COLUMNS,
            *(f"responder__user__{name}" for name in _USER_COLUMNS),
            *(f"partner__{name}" for name in _PARTNER_COLUMNS),
        )
    )


# What a list's row (_ListCells, Clock.of, the access log) reads of an escalation, its
# open step and that step's addressee: a row's cells read nothing else.
_LISTED_ESCALATION = ("state", "authority_id", "raised_by_id")
# What `escalations_in_order` builds an escalation from, in the model's field order.
_IN_ORDER_COLUMNS = in_field_order(Escalation, ["id", *_LISTED_ESCALATION])
_LISTED_STEP = (
    "escalation_id",
    "stage_name",
    "stage_order",
    "day_type",
    "due_on",
    "cap_due_on",
    "next_issue_due_on",
    "closed_at",
    "responded_at",
    "completion",
    "responder__user__username",
    "responder__user__first_name",
    "responder__user__last_name",
    "partner__name",
    "partner__organisation",
)
# The same, as the columns `_listed_open_steps` reads and builds its instances from.
_STEP_COLUMNS = in_field_order(
    Step,
    ["id", "responder_id", "partner_id", *(n for n in _LISTED_STEP if "__" not in n)],
)
_USER_COLUMNS = in_field_order(User, ["id", "username", "first_name", "last_name"])
_STAFF_COLUMNS = in_field_order(StaffMember, ["id", "user_id"])
_PARTNER_COLUMNS = in_field_order(Partner, ["id", "name", "organisation"])
_LISTED_OPEN_STEPS = CompiledQuery(_listed_open_steps_query, members=["escalations"])


def listed_children(
    pks: Sequence[int], fields: Sequence[str] = ("first_name", "last_name")
) -> dict[int, list[Child]]:
    """{escalation pk: its children, in Child's order (ties by pk)}, in one query of one
    instance per child with only the `fields` a list shows (`children_by_escalation`
    builds a link and a child each, with every column)."""
    grouped: dict[int, list[Child]] = {pk: [] for pk in pks}
    if not pks:
        return grouped
    columns = in_field_order(Child, ["id", *fields])
    for listed_on, *row in _LISTED_CHILDREN.rows(escalations=list(pks), columns=list(columns)):
        grouped[listed_on].append(built(Child, columns, row))
    return grouped


def _listed_children_query(*, escalations: list[int], columns: list[str]) -> QuerySet[Any]:
    return (
        Child.objects.filter(escalations__in=escalations)
        .order_by(*(Child._meta.ordering or ()), "pk")
        .values_list("escalations__id", *columns)
    )


_LISTED_CHILDREN = CompiledQuery(_listed_children_query, members=["escalations"])


def _my_escalations_in_order(staff: StaffMember, today: date) -> QuerySet[Escalation]:
    return _in_list_order(_mine(staff).exclude(_awaiting_my_decision(staff)), today)


def _in_list_order(escalations: QuerySet[Escalation], today: date) -> QuerySet[Escalation]:
    """Open first, then overdue first, soonest due, newest raised."""
    step = Step.objects.filter(escalation=OuterRef("pk")).order_by()
    is_open = Q(state__in=OPEN_STATES)
    return escalations.annotate(
        open_rank=Case(
            When(is_open, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        # A probe of each row's open step (LIMIT 1), not EXISTS: PostgreSQL hashed that,
        # reading every open step of every authority. Only an open escalation has an open
        # step (closing one closes its step), so a closed row is not probed: a chair's
        # history is mostly closed ones.
        overdue_step=Case(
            When(is_open, then=Subquery(step.filter(overdue_q(today)).values("pk")[:1])),
            default=None,
            output_field=BigIntegerField(),
        ),
        overdue_rank=Case(
            When(overdue_step__isnull=False, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        open_due=Case(
            When(
                is_open,
                then=Subquery(
                    step.open().order_by().annotate(due=effective_due()).values("due")[:1]
                ),
            ),
            default=None,
            output_field=DateField(),
        ),
    ).order_by("open_rank", "overdue_rank", F("open_due").asc(nulls_last=True), "-raised_at", "-pk")


def _awaiting_reply_ids(staff: StaffMember | int) -> QuerySet[Any]:
    """The pks of the open steps waiting for this person's own reply: addressed to them
    alone and not yet answered, or, on a stage addressed to several people, their own
    part still awaited. One UNION of two indexed lookups: an OR of the two subqueries
    scanned every step."""
    alone, several = _awaiting_reply_parts(staff)
    return alone.values("pk").union(several.values("step_id"), all=True)


def _awaiting_reply_parts(
    staff: StaffMember | int,
) -> tuple[StepQuerySet, QuerySet[Addressee]]:
    """The two lookups of `_awaiting_reply_ids`, unordered: the steps addressed to
    `staff` alone, and their parts of steps addressed to several (`step_id`)."""
    alone = Step.objects.awaiting_response().filter(responder=staff, completion="")
    several = Addressee.objects.awaited().filter(staff=staff)
    return alone.order_by(), several.order_by()


def awaiting_reply_from(staff: StaffMember) -> StepQuerySet:
    """Open steps waiting for this person's own reply (`_awaiting_reply_ids`)."""
    return Step.objects.filter(pk__in=_awaiting_reply_ids(staff))


# A page of Awaiting my response: a head of service at a large authority is asked
# hundreds of times at once.
AWAITING_PAGE_SIZE = 50


def awaiting_listed(staff: StaffMember) -> list[int]:
    """The pks of the open steps addressed to me with no response yet, most urgent first:
    the soonest deadline first (so the overdue first), those with none last, then by pk.
    Two queries of values compiled once (config.compiled): the pks (`_awaiting_reply_ids`)
    and their order; a page's rows are read by `awaiting_page`. Joined to the rows a
    page shows, the UNION as a subquery left PostgreSQL guessing, and it planned a
    parallel scan of every escalation."""
    found = [pk for (pk,) in _AWAITING_IDS.rows(staff=staff.pk)]
    if not found:
        return []
    return [pk for (pk,) in _AWAITING_ORDER.rows(steps=found)]


def _awaiting_ids_query(*, staff: int) -> QuerySet[Any]:
    return _awaiting_reply_ids(staff).values_list("pk")


def _awaiting_order_query(*, steps: list[int]) -> QuerySet[Any]:
    return (
        Step.objects.filter(pk__in=steps)
        .annotate(effective=effective_due())
        .order_by(F("effective").asc(nulls_last=True), "pk")
        .values_list("pk")
    )


def awaiting_page(pks: Sequence[int]) -> list[Step]:
    """The steps of a page of `awaiting_listed`, in its order, with what a row shows: the
    columns of a list's row (`_LISTED_STEP`), the escalation's state and raiser, and the
    raiser's name; built here from one query of values compiled once."""
    if not pks:
        return []
    found: dict[int, Step] = {}
    once = _BuiltOnce()
    escalation = Step._meta.get_field("escalation")
    raised_by = Escalation._meta.get_field("raised_by")
    steps, escalations = len(_STEP_COLUMNS), len(_AWAITING_ESCALATION_COLUMNS)
    for values in _AWAITING_PAGE.rows(steps=list(pks)):
        step = built(Step, _STEP_COLUMNS, values[:steps])
        case = built(Escalation, _AWAITING_ESCALATION_COLUMNS, values[steps : steps + escalations])
        user_values = values[steps + escalations :]
        raiser = once.person(
            _STAFF_COLUMNS, (case.raised_by_id, user_values[0]), _USER_COLUMNS, user_values
        )
        raised_by.set_cached_value(case, raiser)
        escalation.set_cached_value(step, case)
        found[step.pk] = step
    return [found[pk] for pk in pks if pk in found]


def _awaiting_page_query(*, steps: list[int]) -> QuerySet[Any]:
    return (
        Step.objects.filter(pk__in=steps)
        .order_by()
        .values_list(
            *_STEP_COLUMNS,
            *(f"escalation__{name}" for name in _AWAITING_ESCALATION_COLUMNS),
            *(f"escalation__raised_by__user__{name}" for name in _USER_COLUMNS),
        )
    )


# What an Awaiting row reads of the escalation (`_LISTED_ESCALATION`, with its pk).
_AWAITING_ESCALATION_COLUMNS = in_field_order(Escalation, ["id", *_LISTED_ESCALATION])
_AWAITING_IDS = CompiledQuery(_awaiting_ids_query)
_AWAITING_ORDER = CompiledQuery(_awaiting_order_query, members=["steps"])
_AWAITING_PAGE = CompiledQuery(_awaiting_page_query, members=["steps"])


def awaiting_rows(staff: StaffMember, steps: Iterable[Step], today: date) -> list[AwaitingRow]:
    """A page of `awaiting_page`, each with its clock and its escalation's children (in
    one query), in the order given."""
    closures = staff.authority.closure_dates()
    steps = list(steps)
    children = listed_children([s.escalation_id for s in steps])
    for step in steps:
        set_loaded(step.escalation, "children", Child, children[step.escalation_id])
    return [
        AwaitingRow(
            escalation=s.escalation,
            step=s,
            clock=Clock.of(s, today, staff.authority.nation, closures),
        )
        for s in steps
    ]


# Who a step names, each with their user and role (`load_the_record`).
STEP_PEOPLE = ("responder", "raised_by", "responded_by", "judged_by")


def load_the_record(
    escalations: Iterable[Escalation], *, also_people: Iterable[int] = ()
) -> dict[int, StaffMember]:
    """Every step of the escalations with all the record shows, read once for all of
    them, in the same fixed number of queries for one escalation or a list.

    The steps, their attachments and amendments (those only of steps that have any, which
    the steps' query says): each in one flat query grouped here, in
    the order a prefetch would give (`set_loaded`; the attachments as each step's
    `record_attachments`, read through `StepRow.attachments` and `AddresseeRow`): Django's
    prefetch builds a filtered queryset for every object it fills, which cost more than
    the rows. The people: who raised each escalation and whom it is about, and each
    step's addressee, sender, responder and judge, and who made each amendment, with their
    user, in one query (joined to the steps, twelve tables took PostgreSQL longer to plan
    than to run), their roles as the process holds them (`roles_by_pk`). And
    the addressees of the steps addressed to several people, the only ones with any:
    one query, none if no step is.

    `also_people`: more staff to read with them (the child's file's conference chairs);
    returns everyone read, by pk.
    """
    escalations = list(escalations)
    by_escalation: dict[int, list[Step]] = {e.pk: [] for e in escalations}
    by_pk: dict[int, Step] = {}
    attached: list[int] = []
    amended: list[int] = []
    once = _BuiltOnce()
    partner = Step._meta.get_field("partner")
    steps_end, partner_end = len(_RECORD_STEP_COLUMNS), -2
    for values in _RECORD_STEPS.rows(escalations=list(by_escalation)):
        row = built(Step, _RECORD_STEP_COLUMNS, values[:steps_end])
        if row.partner_id is not None:
            agency = once.partner(_RECORD_PARTNER_COLUMNS, values[steps_end:partner_end])
            partner.set_cached_value(row, agency)
        by_escalation[row.escalation_id].append(row)
        by_pk[row.pk] = row
        setattr(row, RECORD_ATTACHMENTS, [])
        any_attachment, any_amendment = values[partner_end:]
        if any_attachment:
            attached.append(row.pk)
        if any_amendment:
            amended.append(row.pk)
    amendments: dict[int, list[StepAmendment]] = {pk: [] for pk in by_pk}
    if attached:
        for attachment in Attachment.objects.filter(step_id__in=attached):
            getattr(by_pk[attachment.step_id], RECORD_ATTACHMENTS).append(attachment)
    made: list[StepAmendment] = []
    if amended:
        # Who made each: one of the people below.
        made = list(
            StepAmendment.objects.filter(step_id__in=amended).order_by("step_id", "made_at", "pk")
        )
        for amendment in made:
            amendments[amendment.step_id].append(amendment)
    for pk, step in by_pk.items():
        set_loaded(step, "amendments", StepAmendment, amendments[pk])
    for e in escalations:
        set_loaded(e, "steps", Step, by_escalation[e.pk])
        for step in by_escalation[e.pk]:
            step.escalation = e
    steps = list(by_pk.values())
    ids = {e.raised_by_id for e in escalations} | {e.about_staff_id for e in escalations}
    ids |= {getattr(s, f"{field}_id") for s in steps for field in STEP_PEOPLE}
    ids |= {a.made_by_id for a in made}
    ids |= set(also_people)
    ids.discard(None)
    # Their roles as the process holds them, not joined to every person.
    people = people_by_pk(ids)
    if people:
        roles = roles_by_pk({member.role_id for member in people.values()})
        for member in people.values():
            if member.role_id in roles:
                member.role = roles[member.role_id]
    for e in escalations:
        for field in ("raised_by", "about_staff"):
            person = people.get(getattr(e, f"{field}_id"))
            if person is not None:
                setattr(e, field, person)
    for s in steps:
        for field in STEP_PEOPLE:
            person = people.get(getattr(s, f"{field}_id"))
            if person is not None:
                setattr(s, field, person)
    for amendment in made:
        amendment.made_by = people[amendment.made_by_id]
    several = [s for s in steps if s.addresses_several]
    prefetch_related_objects(
        several,
        Prefetch(
            "addressees",
            queryset=Addressee.objects.select_related(
                "staff__user", "staff__role", "partner"
            ).order_by("step_id", "pk"),
        ),
    )
    return people


def _record_steps_query(*, escalations: list[int]) -> QuerySet[Any]:
    return (
        Step.objects.filter(escalation_id__in=escalations)
        # Whether there is any to read: most steps have neither, and a query for none
        # cost as much as one that finds some.
        .annotate(
            any_attachment=Exists(Attachment.objects.filter(step=OuterRef("pk"))),
            any_amendment=Exists(StepAmendment.objects.filter(step=OuterRef("pk"))),
        )
        .order_by("escalation_id", "sequence")
        .values_list(
            *_RECORD_STEP_COLUMNS,
            *(f"partner__{name}" for name in _RECORD_PARTNER_COLUMNS),
            "any_attachment",
            "any_amendment",
        )
    )


# Every column of the steps and of their partners (the record shows them all), read as
# values compiled once (config.compiled) and built by `load_the_record`: the query with
# its two EXISTS took longer to build and compile than to run.
_RECORD_STEP_COLUMNS = tuple(f.attname for f in Step._meta.concrete_fields)
_RECORD_PARTNER_COLUMNS = tuple(f.attname for f in Partner._meta.concrete_fields)
_RECORD_STEPS = CompiledQuery(_record_steps_query, members=["escalations"])


def people_by_pk(pks: Iterable[int | None]) -> dict[int, StaffMember]:
    """The staff of `pks` (None skipped) with their users, by pk, in one query compiled
    once (config.compiled): every column of both, as `select_related("user")` reads them."""
    wanted = sorted({pk for pk in pks if pk is not None})
    if not wanted:
        return {}
    once = _BuiltOnce()
    staff_end = len(_PERSON_COLUMNS)
    for values in _PEOPLE.rows(people=wanted):
        once.person(_PERSON_COLUMNS, values[:staff_end], _PERSON_USER_COLUMNS, values[staff_end:])
    return once.people


def _people_query(*, people: list[int]) -> QuerySet[Any]:
    return (
        StaffMember.objects.filter(pk__in=people)
        .order_by()
        .values_list(*_PERSON_COLUMNS, *(f"user__{name}" for name in _PERSON_USER_COLUMNS))
    )


_PERSON_COLUMNS = tuple(f.attname for f in StaffMember._meta.concrete_fields)
_PERSON_USER_COLUMNS = tuple(f.attname for f in User._meta.concrete_fields)
_PEOPLE = CompiledQuery(_people_query, members=["people"])


def step_rows_of(escalation: Escalation, today: date, closures: frozenset[date]) -> list[StepRow]:
    """The escalation's steps (loaded with `load_the_record`) with their clocks; no
    query when its policy's stages are prefetched too."""
    nation = escalation.authority.nation
    following = rules.next_stage(escalation) if escalation.is_open else None
    return [
        StepRow(
            step=s,
            clock=Clock.of(s, today, nation, closures, next_stage=following if s.is_open else None),
            addressees=addressee_rows(s, today, nation, closures),
        )
        for s in escalation.steps.all()
    ]


# What the summary calls the closing words, by how the escalation closed.
_OUTCOME_LABELS = {State.WITHDRAWN: "Reason withdrawn", State.FINAL_DECISION: "Final decision"}


class EscalationSummary(Printable):
    """What escalations/_summary.html (and the child's file's heading) prints of an
    escalation, read from it once."""

    def __init__(
        self, escalation: Escalation, children: Iterable[Child], categories: Iterable[Any]
    ):
        self.url = row_url("escalations:detail", escalation.pk)
        self.reference = escalation.reference
        self.state = escalation.get_state_display()
        self.children = [
            {"url": row_url("children:file", c.pk), "name": c.full_name, "reference": c.reference}
            for c in children
        ]
        self.immediate_safety = escalation.immediate_safety
        self.good_practice = escalation.nature == Nature.GOOD_PRACTICE
        self.policy = escalation.policy.name
        self.raised_by = escalation.raised_by.display_name
        self.raised_at = escalation.raised_at
        conference = escalation.conference
        self.conference = (
            {"kind": conference.get_kind_display(), "date": conference.date}
            if conference is not None
            else None
        )
        about = escalation.about_staff
        self.about_staff = about.display_name if about is not None else ""
        self.categories = [str(c) for c in categories]
        self.summary = escalation.summary
        self.desired_outcome = escalation.desired_outcome
        self.formal_cap_due_on = escalation.formal_cap_due_on
        if escalation.formal_cap_due_on:
            self.formal_started_at = escalation.formal_started_at
            self.formal_cap_working_days = escalation.policy.formal_cap_working_days
        self.outcome = escalation.outcome
        self.outcome_label = _OUTCOME_LABELS.get(escalation.state, "Outcome")
        self.outcome_for_child = escalation.outcome_for_child


def escalation_context(staff: StaffMember, escalation: Escalation, today: date) -> dict[str, Any]:
    """Everything the escalation page, its action pages and the printed record show."""
    closures = escalation.authority.closure_dates()
    # Loaded onto the escalation, so its open_step(), its children and the rules (its
    # ladder, each stage's raiser roles) read these rows, each once: flat reads grouped
    # here (`set_loaded`), as a prefetch costs more than the rows.
    set_loaded(
        escalation, "children", Child, children_by_escalation([escalation.pk])[escalation.pk]
    )
    escalation.policy = load_ladders([escalation.policy_id])[escalation.policy_id]
    load_the_record([escalation])
    step_rows = step_rows_of(escalation, today, closures)
    children = list(escalation.children.all())
    categories = categories_of([escalation.pk])[escalation.pk]
    actions = rules.allowed_actions(staff, escalation)
    return {
        "staff": staff,
        "escalation": escalation,
        "sentence": case_sentence(escalation, today, closures=closures),
        "can_chase": rules.chase_refusal(staff, escalation, today=today, closures=closures) is None,
        "can_record_discussion": rules.discussion_refusal(staff, escalation) is None,
        "children": children,
        "categories": categories,
        "summary": EscalationSummary(escalation, children, categories),
        "step_rows": step_rows,
        "open_step": escalation.open_step(),
        "can_escalate": rules.Action.ESCALATE in actions,
        "can_resolve": rules.Action.RESOLVE in actions,
        "can_final": rules.Action.FINAL_DECISION in actions,
        "can_withdraw": rules.Action.WITHDRAW in actions,
        "can_respond": rules.Action.RESPOND in actions,
        "can_extend": rules.extend_refusal(staff, escalation) is None,
        "can_readdress": rules.readdress_refusal(staff, escalation) is None,
    }


# --- where a case stands, in one sentence ----------------------------------------------


def _day(day: date) -> str:
    """'Thu 3 Dec': the date as people say it."""
    return f"{day:%a} {day.day} {day:%b}"


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def deadline_words(step: Step, today: date, *, nation: str, closures: frozenset[date]) -> str:
    """When the open step's answer is due, overdue phrased as overdue: '3 working days
    overdue (due Thu 3 Dec)', 'by Thu 3 Dec — 5 working days left'."""
    due = step.effective_due_on
    if due is None:
        return "(the policy sets no timescale for this stage)"
    calendar = counts_calendar_days(step)
    unit = "day" if calendar else "working day"
    off_day = not is_working_day(due, nation=nation, closures=closures)
    if step.is_overdue(today):
        late = days_between(due, today, calendar=calendar, nation=nation, closures=closures)
        when = f"due {_day(due)}, not a working day" if off_day else f"due {_day(due)}"
        if late < 1:
            return f"— overdue ({when})"
        return f"— {_count(late, unit)} overdue ({when})"
    on = f"{_day(due)} (not a working day)" if off_day else _day(due)
    if due == today:
        return f"by today, {on}"
    left = days_between(today, due, calendar=calendar, nation=nation, closures=closures)
    return f"by {on} — {_count(left, unit)} left"


def _and(names: list[str]) -> str:
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def issue_words(
    step: Step, following: Stage | None, today: date, *, nation: str, closures: frozenset[date]
) -> str:
    """The issue-by clock of the stage after an answered step, in words: 'issue Stage 2 by
    Tue 8 Dec — 2 working days left', or 'Stage 2 should have been issued by Tue 8 Dec — 1
    working day overdue'."""
    due = step.next_issue_due_on
    assert due is not None  # the caller asks only where the clock runs
    what = following.name if following is not None else "the next stage"
    if step.is_issue_overdue(today):
        late = working_days_between(due, today, nation=nation, closures=closures)
        return (
            f"{what} should have been issued by {_day(due)} — "
            f"{_count(max(late, 1), 'working day')} overdue"
        )
    if due == today:
        return f"issue {what} by today, {_day(due)}"
    left = working_days_between(today, due, nation=nation, closures=closures)
    return f"issue {what} by {_day(due)} — {_count(left, 'working day')} left"


CLOSED_WORDS = {
    State.RESOLVED: "Resolved",
    State.FINAL_DECISION: "Closed with a final decision",
    State.WITHDRAWN: "Withdrawn",
}


def decision_options(decider: StaffMember, escalation: Escalation) -> list[str]:
    """What the one who drives it may decide now, in words, from the rules."""
    actions = rules.allowed_actions(decider, escalation)
    options = []
    if rules.Action.RESOLVE in actions:
        options.append("resolve it")
    if rules.Action.ESCALATE in actions:
        following = rules.next_stage(escalation)
        options.append(f"escalate it to {following.name}" if following else "escalate it")
    if rules.Action.FINAL_DECISION in actions:
        options.append("record the final decision")
    return options


def case_sentence(
    escalation: Escalation, today: date, *, closures: frozenset[date] | None = None
) -> str:
    """Where the case stands: who must do what by when, or what the chair must decide.

    Staff names only (never a child's), so the e-mails can carry it too.
    """
    if not escalation.is_open:
        when = timezone.localdate(escalation.closed_at) if escalation.closed_at else None
        words = CLOSED_WORDS.get(State(escalation.state), escalation.get_state_display())
        return f"{words} on {_day(when)} {when.year}." if when else f"{words}."
    step = escalation.open_step()
    if step is None:
        return "No step is open."
    authority = escalation.authority
    closures = authority.closure_dates() if closures is None else closures
    several = list(step.addressees.all()) if step.addresses_several else []
    if several:
        awaited = [a for a in several if a.is_awaited]
        responder = f"{_and([a.name for a in awaited])} ({len(awaited)} of {len(several)} asked)"
    else:
        responder = f"{step.addressee_name}, {step.addressee_title},"
    if step.is_awaiting_chair:
        decider = escalation.raised_by
        answered = timezone.localdate(step.responded_at)
        if step.responded_by_id == decider.pk:
            said = f"The outcome of the discussion was recorded on {_day(answered)}"
        elif several:
            replied = [a.name for a in several if a.is_answered]
            said = f"{_and(replied)} replied (the stage was answered on {_day(answered)})"
        else:
            said = f"{step.addressee_name} responded on {_day(answered)}"
        options = decision_options(decider, escalation)
        decide = f"to decide whether to {_either(options)}" if options else "to decide"
        issue = ""
        if step.next_issue_due_on is not None:
            following = rules.next_stage(escalation)
            issue = " — " + issue_words(
                step, following, today, nation=authority.nation, closures=closures
            )
        return f"{said}: waiting for {decider.display_name} {decide}{issue}."
    if step.is_informal:
        verb = "to settle the concern informally"
    elif step.mode == "meeting":
        verb = "to hold the meeting and record its decision"
    else:
        verb = "to respond"
    due = deadline_words(step, today, nation=authority.nation, closures=closures)
    return f"Waiting for {responder} {verb} {due}."


# --- the to-do list: what each person must do now --------------------------------------

# A QA manager's "Overdue across the authority" lists this many, the longest overdue first.
T = TypeVar("T")
TODO_AUTHORITY_OVERDUE = 25
# Each of a person's own sections lists this many, most pressing first, and links to the
# page that lists them all (a chair at a large authority has hundreds open).
TODO_SECTION_ROWS = 25

# How close the formal cap must be, in working days, for the chair to be warned of it.
CAP_WARNING_WORKING_DAYS = 5


@dataclass(frozen=True)
class TodoAction:
    """One next step, in words: a link, or (post=True) a button that acts at once."""

    label: str
    url: str
    post: bool = False

    def html(self, reference: str, csrf_input: SafeString) -> SafeString:
        """The action as a to-do row's list item (the button names the row's reference
        for a screen reader): built here, as a template loop per row cost more than the
        row's other cells together. `csrf_input`: the request's hidden token field."""
        if self.post:
            return format_html(
                '<li><form method="post" action="{}">{}<input type="hidden" name="back" '
                'value="todo"><button type="submit" class="govuk-button '
                'govuk-button--secondary govuk-!-margin-bottom-0" data-module="govuk-button" '
                'data-prevent-double-click="true">{}<span class="govuk-visually-hidden"> ({})'
                "</span></button></form></li>",
                self.url,
                csrf_input,
                self.label,
                reference,
            )
        return format_html(
            '<li><a class="govuk-link" href="{}">{}<span class="govuk-visually-hidden"> ({})'
            "</span></a></li>",
            self.url,
            self.label,
            reference,
        )


@dataclass(frozen=True)
class TodoRow:
    escalation: Escalation
    step: Step | None
    when: str
    actions: list[TodoAction]
    overdue: bool = False
    # What the row shows, in words, read here once (the template only prints them).
    url: str = ""
    children: str = ""
    stage: str = ""
    addressee: str = ""

    def __post_init__(self) -> None:
        step = self.step
        shown = {
            "url": self.url or row_url("escalations:detail", self.escalation.pk),
            "children": children_names(self.escalation),
            "stage": step.stage_name if step is not None else "",
            "addressee": step.addressee_name if step is not None else "",
        }
        for field, value in shown.items():
            if not getattr(self, field):
                object.__setattr__(self, field, value)

    def html(self, csrf_input: SafeString) -> SafeString:
        """The row as escalations/todo.html prints it (`todo_row_html`), the actions as
        their list items (`TodoAction.html`)."""
        reference = self.escalation.reference
        return todo_row_html(
            url=self.url,
            reference=reference,
            children=self.children,
            stage=self.stage or "—",
            has_step=self.step is not None,
            addressee=self.addressee,
            overdue=self.overdue,
            when=self.when,
            # Each item escaped its own values (format_html): joined, they stay safe.
            actions=SafeString("".join(a.html(reference, csrf_input) for a in self.actions)),
        )


_OVERDUE_FLAG = SafeString('<strong class="govuk-tag govuk-tag--red">Overdue</strong><br>')


def todo_row_html(
    *,
    url: str,
    reference: str,
    children: str,
    stage: str,
    has_step: bool,
    addressee: str,
    overdue: bool,
    when: str,
    actions: SafeString,
) -> SafeString:
    """One row of a To do table, built here rather than by the template: a chair's list
    runs to some sixty rows, and the template's lookups cost more than the rest of the
    row's making (the template it replaced is kept in the tests, which compare them)."""
    addressed = (
        format_html('<br><span class="govuk-body-s">{}</span>', addressee) if has_step else ""
    )
    flag = _OVERDUE_FLAG if overdue else ""
    return format_html(
        '\n    <tr class="govuk-table__row">\n'
        '      <td class="govuk-table__cell app-nowrap"><a class="govuk-link" href="{}">{}</a></td>\n'
        '      <td class="govuk-table__cell">{}</td>\n'
        '      <td class="govuk-table__cell">{}{}</td>\n'
        '      <td class="govuk-table__cell">{}{}</td>\n'
        '      <td class="govuk-table__cell"><ul class="govuk-list govuk-!-margin-bottom-0">{}</ul></td>\n'
        "    </tr>\n  ",
        url,
        reference,
        children,
        stage,
        addressed,
        flag,
        when,
        actions,
    )


@dataclass(frozen=True)
class TodoSection:
    key: str
    heading: str
    rows: list[TodoRow]
    # A section shown in part: how many there are in all, and where the rest are listed.
    total: int = 0
    more_url: str = ""
    more_label: str = ""

    def cells(self, csrf_input: SafeString) -> dict[str, Any]:
        """The section as escalations/todo.html prints it (its rows `TodoRow.html`)."""
        return {
            "key": self.key,
            "heading": self.heading,
            "rows": [row.html(csrf_input) for row in self.rows],
            "total": self.total,
            "more_url": self.more_url,
            "more_label": self.more_label,
        }


def _steps_for_todo(pks: Iterable[int]) -> dict[int, Step]:
    """The open escalations' steps of `pks` with what a to-do row shows, by pk: every
    column of the step, its escalation, its addressee (with their user) or partner. The
    authority is the person's own, the current stage one of the policy's loaded ladder
    and the raiser, on a chair's own rows, the chair (`_load_for_rules` sets them): fewer
    joins to plan and fewer instances to build. The rows show the addressee's name, not
    their role. One query of values compiled once (config.compiled), built here, each
    person and partner once."""
    wanted = list(pks)
    if not wanted:
        return {}
    found: dict[int, Step] = {}
    once = _BuiltOnce()
    escalation = Step._meta.get_field("escalation")
    responder, partner = Step._meta.get_field("responder"), Step._meta.get_field("partner")
    ends = list(accumulate(len(c) for c in _TODO_PARTS))
    for values in _TODO_STEPS.rows(steps=wanted):
        step = built(Step, _TODO_STEP_COLUMNS, values[: ends[0]])
        escalation.set_cached_value(
            step, built(Escalation, _TODO_ESCALATION_COLUMNS, values[ends[0] : ends[1]])
        )
        if step.responder_id is not None:
            person = once.person(
                _PERSON_COLUMNS,
                values[ends[1] : ends[2]],
                _USER_COLUMNS,
                values[ends[2] : ends[3]],
            )
            responder.set_cached_value(step, person)
        if step.partner_id is not None:
            partner.set_cached_value(step, once.partner(_RECORD_PARTNER_COLUMNS, values[ends[3] :]))
        found[step.pk] = step
    return found


def _todo_steps_query(*, steps: list[int]) -> QuerySet[Any]:
    return (
        Step.objects.filter(pk__in=steps, escalation__state__in=OPEN_STATES)
        .order_by()
        .values_list(
            *_TODO_STEP_COLUMNS,
            *(f"escalation__{name}" for name in _TODO_ESCALATION_COLUMNS),
            *(f"responder__{name}" for name in _PERSON_COLUMNS),
            *(f"responder__user__{name}" for name in _USER_COLUMNS),
            *(f"partner__{name}" for name in _RECORD_PARTNER_COLUMNS),
        )
    )


def _short_columns(model: type[Model]) -> tuple[str, ...]:
    """The model's columns but its free texts: a to-do row shows none of them, and the
    rules read none (a hundred and fifty rows at a large authority's chair)."""
    return tuple(f.attname for f in model._meta.concrete_fields if not isinstance(f, TextField))


_TODO_STEP_COLUMNS = _short_columns(Step)
_TODO_ESCALATION_COLUMNS = _short_columns(Escalation)
# The columns of each model a to-do step's row holds, in the row's order (the addressee's
# user: the name the row shows).
_TODO_PARTS = (
    _TODO_STEP_COLUMNS,
    _TODO_ESCALATION_COLUMNS,
    _PERSON_COLUMNS,
    _USER_COLUMNS,
    _RECORD_PARTNER_COLUMNS,
)
_TODO_STEPS = CompiledQuery(_todo_steps_query, members=["steps"])


def _load_for_rules(
    staff: StaffMember, steps: Sequence[Step], ladders: dict[int, Policy] | None = None
) -> None:
    """What the rows and the rules read of each escalation (its children, ladder and
    open step): the same four queries for every section of the list together.
    `ladders`: the authority's, when the caller has read them (`load_ladders`)."""
    escalations = [s.escalation for s in steps]
    for escalation in escalations:
        if escalation.authority_id == staff.authority_id:
            escalation.authority = staff.authority
    # The open step only: what open_step(), and so the rules, read of the steps. A listed
    # step that is open is its escalation's open step (at most one: a constraint says
    # so), so only the others' are read.
    others = []
    for step in steps:
        if step.is_open:
            set_loaded(step.escalation, "steps", Step, [step])
        else:
            others.append(step.escalation)
    # One instance of each policy (a handful) for every row, with its ladder and the
    # stages' raiser roles: loaded once, not once per row.
    wanted = {e.policy_id for e in escalations}
    if ladders is None or not wanted <= ladders.keys():
        ladders = load_ladders(wanted)
    for escalation in escalations:
        escalation.policy = ladders[escalation.policy_id]
    children = listed_children(list({e.pk for e in escalations}))
    for escalation in escalations:
        set_loaded(escalation, "children", Child, children[escalation.pk])
    for escalation in escalations:
        if escalation.raised_by_id == staff.pk:
            escalation.raised_by = staff
        if escalation.current_stage_id is not None:
            current = next(
                (s for s in rules.ladder(escalation.policy) if s.pk == escalation.current_stage_id),
                None,
            )
            if current is not None:
                escalation.current_stage = current
    prefetch_related_objects(others, Prefetch("steps", queryset=Step.objects.open().order_by()))


def _allows(staff: StaffMember, escalation: Escalation, action: rules.Action) -> bool:
    """`action in rules.allowed_actions(...)`, asking the rules of that action alone."""
    return rules.action_refusal(staff, escalation, action) is None


def _decide_actions(staff: StaffMember, escalation: Escalation, urls: RowUrls) -> list[TodoAction]:
    pk = escalation.pk
    out = []
    if _allows(staff, escalation, rules.Action.RESOLVE):
        out.append(TodoAction("Resolve", urls("escalations:resolve", pk)))
    if _allows(staff, escalation, rules.Action.ESCALATE):
        following = rules.next_stage(escalation)
        label = f"Escalate to {following.name}" if following else "Escalate"
        out.append(TodoAction(label, urls("escalations:escalate", pk)))
    if _allows(staff, escalation, rules.Action.FINAL_DECISION):
        out.append(TodoAction("Record the final decision", urls("escalations:final_decision", pk)))
    return out


def _chase_actions(
    staff: StaffMember, step: Step, today: date, closures: frozenset[date], urls: RowUrls
) -> list[TodoAction]:
    escalation = step.escalation
    out = []
    if rules.chase_refusal(staff, escalation, today=today, closures=closures) is None:
        out.append(
            TodoAction(
                f"Send {step.addressee_name} a reminder",
                urls("escalations:chase", escalation.pk),
                post=True,
            )
        )
    if _allows(staff, escalation, rules.Action.ESCALATE):
        out.append(TodoAction("Escalate", urls("escalations:escalate", escalation.pk)))
    out.append(TodoAction("Open", urls("escalations:detail", escalation.pk)))
    return out


def _open_steps_of(escalations: QuerySet[Escalation], condition: Q) -> QuerySet[Any]:
    """The open escalations among `escalations` whose open step meets `condition`, with
    that step's pk as `open_step_pk`.

    Found from the escalations, by a probe of each one's open step (LIMIT 1: the one the
    unique `one_open_step_per_escalation` index finds). Joined from the steps instead,
    PostgreSQL read every open step of every authority to hash them: 8-15 ms on the
    load set, against 1-2 ms."""
    probe = Step.objects.filter(escalation=OuterRef("pk")).open().filter(condition).order_by()
    return (
        escalations.filter(state__in=OPEN_STATES)
        .order_by()
        .annotate(open_step_pk=Subquery(probe.values("pk")[:1]))
        .filter(open_step_pk__isnull=False)
    )


# Up to this many of a chair's own steps are read whole at once; more are ranked first.
TODO_READ_WHOLE = 3 * TODO_SECTION_ROWS


def _mine_sections(
    mine: Iterable[Step], today: date, horizon: date
) -> tuple[list[Step], list[Step], list[Step]]:
    """A chair's own open steps in their sections, each most pressing first: awaiting
    their verdict (the longest waiting first), overdue (the longest overdue first), and
    near the formal time limit (`horizon`; the nearest first)."""
    mine = list(mine)
    deciding = sorted(
        (s for s in mine if s.is_awaiting_chair), key=lambda s: (s.responded_at, s.pk)
    )
    overdue = sorted((s for s in mine if s.is_overdue(today)), key=_by_due)
    capped = sorted(
        (
            s
            for s in mine
            if s.escalation.formal_cap_due_on is not None
            and s.escalation.formal_cap_due_on <= horizon
        ),
        key=lambda s: (s.escalation.formal_cap_due_on, s.pk),
    )
    return deciding, overdue, capped


def _by_due(step: Step) -> tuple[date, int]:
    """The soonest deadline first (none last), then by pk."""
    return (step.effective_due_on or date.max, step.pk)


def _ranked_steps(pks: list[int]) -> list[Step]:
    """The steps of `pks` with only what `_mine_sections` ranks them by, and their
    escalations' formal time limits: one query of values compiled once, built here."""
    escalation = Step._meta.get_field("escalation")
    steps = len(_RANK_STEP_COLUMNS)
    ranked = []
    for values in _RANKED_STEPS.rows(steps=pks):
        step = built(Step, _RANK_STEP_COLUMNS, values[:steps])
        escalation.set_cached_value(
            step, built(Escalation, _RANK_ESCALATION_COLUMNS, values[steps:])
        )
        ranked.append(step)
    return ranked


def _ranked_steps_query(*, steps: list[int]) -> QuerySet[Any]:
    return (
        Step.objects.filter(pk__in=steps)
        .order_by()
        .values_list(
            *_RANK_STEP_COLUMNS, *(f"escalation__{name}" for name in _RANK_ESCALATION_COLUMNS)
        )
    )


_RANK_STEP_COLUMNS = in_field_order(
    Step,
    ["id", "escalation_id", "stage_order", "due_on", "cap_due_on", "responded_at", "closed_at"],
)
# The state too: an FSM escalation records it when built.
_RANK_ESCALATION_COLUMNS = in_field_order(Escalation, ["id", "state", "formal_cap_due_on"])
_RANKED_STEPS = CompiledQuery(_ranked_steps_query, members=["steps"])


# Which part of the list a step was found for, in `todo_sections`' one query of them all.
_MINE, _ANSWERING, _WAITING = 1, 2, 3


def _section(tag: int) -> Value:
    return Value(tag, output_field=IntegerField())


def _todo_found(
    *, staff: int, authority: int, today: date, horizon: date, policies: list[int]
) -> QuerySet[Any]:
    """(section, step pk) for every step `todo_sections` may list of a person's own:
    their own open escalations' steps awaiting their verdict, overdue or near the formal
    time limit (`horizon`); the steps awaiting their reply; and, of the `policies` with
    stages they raise, the steps awaiting a chair's verdict or overdue. One UNION ALL."""
    # A chair's own: found from their open escalations (escalation_raised_listed), each
    # one's open step probed (`_open_steps_of`): joined from the steps instead,
    # PostgreSQL hashed every open step of every authority (3-5 ms on the load set).
    alone, several = _awaiting_reply_parts(staff)
    listed = [
        _open_steps_of(
            Escalation.objects.filter(raised_by=staff),
            Q(AWAITING_CHAIR) | overdue_q(today) | Q(escalation__formal_cap_due_on__lte=horizon),
        )
        .annotate(section=_section(_MINE))
        .values_list("section", "open_step_pk"),
        alone.annotate(section=_section(_ANSWERING)).values_list("section", "pk"),
        several.annotate(section=_section(_ANSWERING)).values_list("section", "step_id"),
    ]
    if policies:
        listed.append(
            _open_steps_of(
                Escalation.objects.filter(authority=authority, policy_id__in=policies),
                Q(AWAITING_CHAIR) | overdue_q(today),
            )
            .annotate(section=_section(_WAITING))
            .values_list("section", "open_step_pk")
        )
    return listed[0].union(*listed[1:], all=True)


# Built and compiled once per process (config.compiled): building and compiling it
# cost three times the database's time for it.
_TODO_FOUND = CompiledQuery(_todo_found)


def todo_sections(staff: StaffMember, today: date) -> list[TodoSection]:
    """The person's to-do list, most pressing first; only sections with something in them.

    Chairs (whoever raised): responses awaiting their verdict, overdue steps to chase,
    informal discussions past their time, formal caps close or passed. Responders: what
    they must answer, overdue first. QA managers: stages they must raise, and everything
    overdue in the authority. A fixed number of queries whatever the number of rows (a
    chair's own sections share one, the prefetches are shared by all); the rules module
    decides every action offered.
    """
    nation, closures = staff.authority.nation, staff.authority.closure_dates()

    def late(step: Step) -> str:
        return deadline_words(step, today, nation=nation, closures=closures).lstrip("— ")

    sections: list[TodoSection] = []
    urls = RowUrls()

    def row(step: Step, when: str, actions: list[TodoAction], overdue: bool = False) -> TodoRow:
        escalation = step.escalation
        url = urls("escalations:detail", escalation.pk)
        return TodoRow(escalation, step, when, actions, overdue=overdue, url=url)

    def add(
        key: str,
        heading: str,
        rows: list[TodoRow],
        total: int = 0,
        more: str = "",
        more_label: str = "",
    ) -> None:
        if rows:
            sections.append(
                TodoSection(key, heading, rows, total=total, more_url=more, more_label=more_label)
            )

    def bounded(listed: list[T]) -> tuple[list[T], int]:
        """The first TODO_SECTION_ROWS of a section, and how many in all when there are
        more (0 when all are shown)."""
        if len(listed) <= TODO_SECTION_ROWS:
            return listed, 0
        return listed[:TODO_SECTION_ROWS], len(listed)

    mine_url, mine_label = reverse("escalations:mine"), "see them all in My escalations"

    # Which steps each section may list, as (section, pk) pairs in one query
    # (`_todo_found`); the authority's longest overdue in one more (a LIMIT, which SQLite
    # cannot put in a UNION); those steps with what the rows show in a third; and what
    # the rules read of them all in the queries of `_load_for_rules`, for all the
    # sections together. Read whole in the first query instead, a chair's own steps cost
    # the planner the joins of the rows on top of the probes (3-4 ms), paid too by those
    # who raised nothing.
    horizon = add_working_days(today, CAP_WARNING_WORKING_DAYS, nation=nation, closures=closures)
    # Stages someone other than the escalation's raiser raises: a QA manager's, or those
    # whose raiser roles (Stage.raiser_roles) this person holds (a chair's role there
    # means the escalation's own chair, who decides above).
    ladders: dict[int, Policy] | None = None
    policies: set[int] = set()
    if staff.is_quality_assurance or not staff.is_chair:
        # The authority's ladders first (a handful, with their raiser roles): which
        # policies have such a stage comes from them, and the rows' rules read them
        # after (`_load_for_rules`). Joining the stages and their roles to every step
        # made the query slow to plan and to run.
        ladders = load_ladders(authority=staff.authority)
        stages = [stage for policy in ladders.values() for stage in rules.ladder(policy)]
        role = staff.role_id
        raises = [s for s in stages if role in {r.pk for r in s.raiser_roles.all()}]
        if staff.is_quality_assurance or raises:
            policies = {
                stage.policy_id
                for stage in stages
                if stage.raised_by == RaisedBy.QA_MANAGER or stage in raises
            }
    pairs = _TODO_FOUND.rows(
        staff=staff.pk,
        authority=staff.authority_id,
        today=today,
        horizon=horizon,
        policies=sorted(policies),
    )
    mine_ids = [pk for section, pk in pairs if section == _MINE]
    answering_ids = [pk for section, pk in pairs if section == _ANSWERING]
    waiting_ids = [pk for section, pk in pairs if section == _WAITING]
    across_ids: list[int] = []
    total_overdue = 0
    if staff.is_quality_assurance:
        # The longest overdue only: at a large authority there are hundreds, all listed
        # by the tracker's overdue filter. Read from the authority's index of steps
        # awaiting a response (Step.authority), by deadline, with how many there are in
        # all (a window over them all, in the same query). Found from the escalations,
        # each one's open step probed, this read every open escalation of the authority
        # (4 ms on the load set).
        longest = list(
            Step.objects.filter(authority=staff.authority)
            .filter(overdue_q(today))
            .annotate(due=effective_due(), in_all=Window(Count("pk")))
            .order_by("due", "pk")
            .values_list("pk", "in_all")[:TODO_AUTHORITY_OVERDUE]
        )
        across_ids = [pk for pk, _in_all in longest]
        if len(longest) == TODO_AUTHORITY_OVERDUE:
            total_overdue = longest[0][1]

    # A chair's own steps are ranked into their sections by a few columns of each: read
    # alone first when there are more than the sections show (a chair at a large
    # authority has a hundred and fifty), so that only the rows shown are read whole.
    ranked = _ranked_steps(mine_ids) if len(mine_ids) > TODO_READ_WHOLE else None
    mine_shown = set(mine_ids)
    if ranked is not None:
        deciding_all, overdue, capped_all = _mine_sections(ranked, today, horizon)
        chase_all = [s for s in overdue if not s.is_informal]
        mine_shown = {
            s.pk
            for listed in (deciding_all, chase_all, capped_all)
            for s in listed[:TODO_SECTION_ROWS]
        }
        # The informal ones all: which of them are listed is the rules' to say.
        mine_shown |= {s.pk for s in overdue if s.is_informal}
    loaded = _steps_for_todo({*mine_shown, *answering_ids, *waiting_ids, *across_ids})
    _load_for_rules(staff, list(loaded.values()), ladders)

    def steps(ids: Iterable[int]) -> list[Step]:
        return [loaded[pk] for pk in ids if pk in loaded]

    def whole(listed: list[Step]) -> list[Step]:
        """The steps of a section as read whole (`listed` may be their ranked columns)."""
        return steps(s.pk for s in listed)

    if ranked is None:
        deciding_all, overdue, capped_all = _mine_sections(steps(mine_ids), today, horizon)
    deciding, deciding_total = bounded(deciding_all)
    chase, chase_total = bounded([s for s in overdue if not s.is_informal])
    informal, informal_total = bounded(
        [
            s
            for s in whole(overdue)
            if s.is_informal and rules.discussion_refusal(staff, s.escalation) is None
        ]
    )
    capped, capped_total = bounded(capped_all)
    deciding, chase, capped = whole(deciding), whole(chase), whole(capped)
    answering, answering_total = bounded(
        sorted(steps(answering_ids), key=lambda s: (not s.is_overdue(today), *_by_due(s)))
    )
    # Newest escalation first, as the steps' default order.
    waiting = sorted(steps(waiting_ids), key=lambda s: s.sequence)
    waiting.sort(key=lambda s: s.escalation.raised_at, reverse=True)
    across = steps(across_ids)

    add(
        "decide",
        "Responses waiting for your verdict",
        [
            row(
                s,
                answered_words(s, today, nation=nation, closures=closures),
                _decide_actions(staff, s.escalation, urls),
                overdue=s.is_issue_overdue(today),
            )
            for s in deciding
        ],
        deciding_total,
        mine_url,
        mine_label,
    )
    add(
        "chase",
        "Overdue: chase or escalate",
        [
            row(s, late(s), _chase_actions(staff, s, today, closures, urls), overdue=True)
            for s in chase
        ],
        chase_total,
        mine_url,
        mine_label,
    )
    add(
        "informal",
        "Informal discussions past their time",
        [
            row(
                s,
                late(s),
                [
                    TodoAction(
                        "Record the outcome of the discussion",
                        urls("escalations:discussion", s.escalation.pk),
                    )
                ],
                overdue=True,
            )
            for s in informal
        ],
        informal_total,
        mine_url,
        mine_label,
    )
    add(
        "cap",
        "Near the formal time limit",
        [
            row(
                s,
                _cap_words(s.escalation.formal_cap_due_on, today, nation, closures),
                [
                    TodoAction(
                        "Open it and decide before the limit",
                        urls("escalations:detail", s.escalation.pk),
                    )
                ],
                overdue=s.escalation.formal_cap_due_on < today,
            )
            for s in capped
            if s.escalation.formal_cap_due_on is not None
        ],
        capped_total,
        mine_url,
        mine_label,
    )
    add(
        "respond",
        "Waiting for your response",
        [
            row(
                s,
                late(s),
                [
                    TodoAction(
                        _respond_label(s, today),
                        urls("escalations:respond", s.pk),
                    )
                ],
                overdue=s.is_overdue(today),
            )
            for s in answering
        ],
        answering_total,
        reverse("escalations:awaiting"),
        "see them all in Awaiting my response",
    )
    if waiting:
        to_raise = []
        for s in waiting:
            following = rules.next_stage(s.escalation)
            if (
                following is not None
                and (following.raised_by == RaisedBy.QA_MANAGER or following.raiser_roles.all())
                and rules.stage_refusal(s.escalation, following, staff) is None
            ):
                to_raise.append((s, following))
        add(
            "raise",
            "Stages for you to raise",
            [
                row(
                    s,
                    answered_words(s, today, nation=nation, closures=closures)
                    if s.is_awaiting_chair
                    else late(s),
                    [
                        TodoAction(
                            f"Raise {following.name}",
                            urls("escalations:escalate", s.escalation.pk),
                        )
                    ],
                    overdue=s.is_overdue(today),
                )
                for s, following in to_raise
            ],
        )
    if staff.is_quality_assurance:
        add(
            "authority_overdue",
            "Overdue across the authority",
            [
                row(
                    s,
                    late(s),
                    _chase_actions(staff, s, today, closures, urls),
                    overdue=True,
                )
                for s in across
            ],
            total=total_overdue,
            more=reverse("reports:tracker") + "?overdue=1",
            more_label="see them all in the tracker",
        )
    return sections


def answered_words(step: Step, today: date, *, nation: str, closures: frozenset[date]) -> str:
    """An answered step on a to-do list: who answered when, and the issue-by clock of the
    next stage where one runs ('Issue Stage 2 by Tue 8 Dec — 2 working days left')."""
    answered = _day(timezone.localdate(step.responded_at))
    if step.addresses_several:
        replied = [a.name for a in step.addressees.all() if a.is_answered]
        words = f"{_and(replied)} replied (answered on {answered})"
    else:
        words = f"{step.addressee_name} responded on {answered}"
    if step.next_issue_due_on is None:
        return words
    issue = issue_words(
        step, rules.next_stage(step.escalation), today, nation=nation, closures=closures
    )
    return f"{words}. {issue[0].upper()}{issue[1:]}"


def _cap_words(cap: date, today: date, nation: str, closures: frozenset[date]) -> str:
    if cap < today:
        late = working_days_between(cap, today, nation=nation, closures=closures)
        return f"Formal limit passed {_count(max(late, 1), 'working day')} ago ({_day(cap)})"
    if cap == today:
        return f"Formal limit is today, {_day(cap)}"
    left = working_days_between(today, cap, nation=nation, closures=closures)
    return f"Formal limit {_day(cap)} — {_count(left, 'working day')} left"


def _respond_label(step: Step, today: date) -> str:
    due = step.effective_due_on
    if due is None or step.is_overdue(today):
        return "Respond"
    return "Respond today" if due == today else f"Respond by {_day(due)}"
