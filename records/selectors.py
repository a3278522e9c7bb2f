"""Reads for records: who may export a child's record, and the export itself.

The subject-access export holds everything about one child and nothing about another.
A sibling on the same escalation: the escalation, its steps and responses are about this
child too, so they are included; the other children are never named or identified (no
name, case reference, date of birth or id) — each escalation says only how many other
children it is about, and README.txt in the ZIP asks for its free text to be read
before release, since a person may have written a sibling's name into it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator

from children.models import AccessLog, AccessLogChild, Child, Conference
from children.selectors import ChildHistory, child_history
from escalations.loading import categories_of, load_ladders, set_loaded
from escalations.models import Addressee, Attachment, Escalation, Step
from escalations.selectors import (
    EscalationSummary,
    Printable,
    StepRow,
    listed_children,
    load_the_record,
    step_rows_of,
    visible_escalations,
)
from policies.models import ConcernCategory
from reports.rules import may_view_reports
from staff.models import StaffMember


def may_export_subject_access(staff: StaffMember) -> bool:
    """The people who see the authority's reports (QA managers and administrators), for
    the children of their own authority (`subject_access_candidates`)."""
    return may_view_reports(staff)


def subject_access_candidates(staff: StaffMember) -> QuerySet[Child]:
    """The children whose export this person could ask for: their authority's."""
    return Child.objects.filter(authority=staff.authority)


# --- for the child's next conference --------------------------------------------------

# How much of a response the conference page quotes: enough to recall it by, the rest is
# one click away on the escalation's own page.
EXCERPT_CHARS = 200


@dataclass(frozen=True)
class LatestResponse:
    """The most recent reply on an escalation: who gave it, when, and its opening words."""

    who: str
    at: datetime
    excerpt: str


@dataclass(frozen=True)
class ConferenceItem:
    """One escalation as the conference hears of it."""

    escalation: Escalation
    children: list[Child]
    categories: list[ConcernCategory]
    stage_name: str
    stage_status: str
    latest_response: LatestResponse | None


def _replies(step: Step) -> list[LatestResponse]:
    """Every reply on a step: each addressee's on a stage addressed to several people,
    else the step's own (a partner-agency contact answers without an account)."""
    if step.addresses_several:
        return [
            LatestResponse(a.name, a.responded_at, Truncator(a.response).chars(EXCERPT_CHARS))
            for a in step.addressees.all()
            if a.responded_at is not None
        ]
    if step.responded_at is None:
        return []
    who = step.responded_by.display_name if step.responded_by else step.addressee_name
    return [LatestResponse(who, step.responded_at, Truncator(step.response).chars(EXCERPT_CHARS))]


def _stage_status(escalation: Escalation, step: Step | None, today: date) -> str:
    """Where the stage stands, in words, from the loaded rows (no query)."""
    if step is None or not step.is_open:
        return escalation.get_state_display()
    if step.is_awaiting_chair:
        return f"Answered: waiting for {escalation.raised_by.display_name} to decide"
    if step.addresses_several:
        awaited = [a.name for a in step.addressees.all() if a.responded_at is None]
        who = ", ".join(awaited) or step.addressee_name
    else:
        who = step.addressee_name
    due = step.effective_due_on
    if due is None:
        return f"Waiting for {who} to respond"
    late = " (overdue)" if step.is_overdue(today) else ""
    return f"Waiting for {who} to respond by {due.day} {due:%b %Y}{late}"


def next_conference(
    staff: StaffMember, child: Child, today: date
) -> tuple[Conference | None, list[ConferenceItem]]:
    """The child's previous conference (the last held on or before `today`) and the
    escalations this person may see about the child raised since it — every one, when
    no conference is recorded — oldest first, each with its stage, latest response and
    outcome. A fixed number of queries however many escalations there are."""
    previous = child.conferences.filter(date__lte=today).order_by("-date").first()
    escalations = (
        visible_escalations(staff)
        .filter(children=child)
        .select_related(
            "policy", "current_stage", "raised_by__user", "about_staff__user", "conference"
        )
        .prefetch_related(
            "children",
            Prefetch("categories", queryset=ConcernCategory.objects.select_related("parent")),
            Prefetch(
                "steps",
                queryset=Step.objects.select_related(
                    "responder__user", "responder__role", "partner", "responded_by__user"
                )
                .prefetch_related(
                    Prefetch(
                        "addressees",
                        queryset=Addressee.objects.select_related("staff__user", "partner"),
                    )
                )
                .order_by("sequence"),
            ),
        )
        .order_by("raised_at")
    )
    if previous is not None:
        escalations = escalations.filter(raised_at__date__gt=previous.date)
    items = []
    for escalation in escalations:
        steps = list(escalation.steps.all())
        last = steps[-1] if steps else None
        replies = [reply for step in steps for reply in _replies(step)]
        items.append(
            ConferenceItem(
                escalation=escalation,
                children=list(escalation.children.all()),
                categories=list(escalation.categories.all()),
                stage_name=(
                    last.stage_name
                    if last is not None
                    else (escalation.current_stage.name if escalation.current_stage else "")
                ),
                stage_status=_stage_status(escalation, last, today),
                latest_response=max(replies, key=lambda r: r.at, default=None),
            )
        )
    return previous, items


# --- the child's file -------------------------------------------------------------------


@dataclass(frozen=True)
class FileEscalation(Printable):
    """One escalation on the child's file: its summary and every step with its clocks."""

    escalation: Escalation
    children: list[Child]
    categories: list[ConcernCategory]
    step_rows: list[StepRow]
    summary: EscalationSummary


# Escalations a page of the child's file shows, each with its whole record: a child's
# history runs to a dozen or more, and each costs as much to show as an escalation page.
CHILD_FILE_PAGE_SIZE = 5


@dataclass(frozen=True)
class ChildFilePage:
    """One page of the child's file: the child's plans, conferences and significant
    events, and a page of the escalations about them, each with its whole record."""

    history: ChildHistory
    page: Page
    escalations: list[FileEscalation]


def child_file_page(
    staff: StaffMember, child: Child, today: date, page: str | None
) -> ChildFilePage:
    """The child's history and one page of the escalations about the child this person
    may see: the open ones first (what is live heads the file), then newest first; `page`
    as the address gave it (anything that is not a page number shows the first page,
    past the end the last)."""
    # Read whole and paged here: one child's escalations run to tens at most (the load
    # set's busiest child has 15), and one read of their rows costs less than a count
    # and a page, each asking the visibility rule again. The open ones put first here
    # (a stable sort), not by the database.
    escalations = list(
        visible_escalations(staff)
        .filter(children=child)
        .select_related("conference")
        .order_by("-raised_at", "-pk")
    )
    escalations.sort(key=lambda e: not e.is_open)
    shown = Paginator(escalations, CHILD_FILE_PAGE_SIZE).get_page(page)
    history = child_history(child)
    # The conferences' chairs and the child's social worker are read with the record's
    # people.
    worker = child.social_worker_id
    records, people = file_escalations(
        staff,
        list(shown.object_list),
        today,
        also_people=history.chair_ids | ({worker} if worker is not None else set()),
    )
    for conference in history.conferences:
        chair = people.get(conference.chair_id) if conference.chair_id is not None else None
        if chair is not None:
            conference.chair = chair
    if worker is not None and worker in people:
        child.social_worker = people[worker]
    return ChildFilePage(history, shown, records)


def file_escalations(
    staff: StaffMember,
    escalations: list[Escalation],
    today: date,
    *,
    also_people: Iterable[int] = (),
) -> tuple[list[FileEscalation], dict[int, StaffMember]]:
    """The escalations (of the staff member's authority), each with its whole record, in
    the order given, and the people read for them (with `also_people`), by pk. A fixed
    number of queries however many there are (the page once built the escalation page's
    context for each: seven queries an escalation).

    Each relation is read in one flat query and grouped here, in the order its prefetch
    would give: Django's prefetch builds a filtered queryset for every object it fills
    (some two hundred on a child's file), which cost more than the rows."""
    pks = [e.pk for e in escalations]
    # What the summaries show of each child: their names and reference.
    children = listed_children(pks, ("first_name", "last_name", "reference"))
    categories = categories_of(pks)
    # visible_escalations: the staff's authority. Each policy (a handful) once with its
    # ladder (`load_ladders`), the current stage taken from it, and the people once for
    # all (`load_the_record`): joined to the escalations, PostgreSQL took longer to plan
    # the query than to run it.
    policies = load_ladders({e.policy_id for e in escalations})
    for escalation in escalations:
        escalation.authority = staff.authority
        escalation.policy = policies[escalation.policy_id]
        set_loaded(escalation, "children", Child, children[escalation.pk])
        set_loaded(escalation, "categories", ConcernCategory, categories[escalation.pk])
        stages = {s.pk: s for s in escalation.policy.stages.all()}
        if escalation.current_stage_id in stages:
            escalation.current_stage = stages[escalation.current_stage_id]
    people = load_the_record(escalations, also_people=also_people)
    closures = staff.authority.closure_dates()
    return [
        FileEscalation(
            escalation=e,
            children=children[e.pk],
            categories=categories[e.pk],
            step_rows=step_rows_of(e, today, closures),
            summary=EscalationSummary(e, children[e.pk], categories[e.pk]),
        )
        for e in escalations
    ], people


def _cell(value: object) -> str:
    """Excel runs cells that start with = + - @ (or a tab/CR) as formulas: neutralise them."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _table(columns: list[tuple[str, Callable[[Any], object]]], items: Iterable[Any]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # so Excel reads UTF-8
    writer = csv.writer(out)
    writer.writerow([header for header, _ in columns])
    for item in items:
        writer.writerow([_cell(value(item)) for _, value in columns])
    return out.getvalue()


def _name(staff: StaffMember | None) -> str:
    return staff.display_name if staff is not None else ""


def subject_access_files(*, child: Child) -> dict[str, str]:
    """{file name: CSV text}: the child, plans, conferences, events, the record's history,
    escalations, steps, attachments (the list, not the files) and the access log."""
    escalations = list(
        Escalation.objects.filter(children=child)
        .select_related("policy", "current_stage", "raised_by__user", "about_staff__user")
        .prefetch_related("categories", "children")
        .order_by("raised_at", "pk")
    )
    steps = list(
        Step.objects.filter(escalation__in=escalations)
        .select_related(
            "escalation",
            "responder__user",
            "responder__role",
            "partner",
            "responded_by__user",
            "raised_by__user",
        )
        .order_by("escalation__raised_at", "escalation_id", "sequence")
    )
    attachments = (
        Attachment.objects.filter(step__in=steps)
        .select_related("step__escalation", "uploaded_by__user", "uploaded_by_partner")
        .order_by("uploaded_at", "pk")
    )
    logs = (
        AccessLog.objects.filter(
            Q(child=child) | Q(pk__in=AccessLogChild.objects.filter(child=child).values("log_id"))
        )
        .select_related("escalation")
        .order_by("at", "pk")
    )
    files = {
        "child.csv": _table(
            [
                ("Case reference", lambda c: c.reference),
                ("First name", lambda c: c.first_name),
                ("Last name", lambda c: c.last_name),
                ("Date of birth", lambda c: c.date_of_birth),
                ("Team", lambda c: c.team.name if c.team else ""),
                ("Social worker", lambda c: _name(c.social_worker)),
            ],
            [child],
        ),
        "child_history.csv": _table(
            [
                ("Changed", lambda h: h.history_date),
                ("Change", lambda h: h.get_history_type_display()),
                ("First name", lambda h: h.first_name),
                ("Last name", lambda h: h.last_name),
                ("Date of birth", lambda h: h.date_of_birth),
                ("Case reference", lambda h: h.reference),
            ],
            child.history.order_by("history_date", "history_id"),
        ),
        "plans.csv": _table(
            [
                ("Category", lambda p: p.get_category_display()),
                ("Start", lambda p: p.start_date),
                ("End", lambda p: p.end_date),
            ],
            child.plans.all(),
        ),
        "conferences.csv": _table(
            [
                ("Kind", lambda c: c.get_kind_display()),
                ("Date", lambda c: c.date),
                ("Chair", lambda c: _name(c.chair)),
            ],
            child.conferences.select_related("chair__user"),
        ),
        "significant_events.csv": _table(
            [
                ("Date", lambda e: e.date),
                ("Description", lambda e: e.description),
                ("Recorded by", lambda e: _name(e.recorded_by)),
            ],
            child.significant_events.select_related("recorded_by__user"),
        ),
        "escalations.csv": _table(
            [
                ("Reference", lambda e: e.reference),
                ("Policy", lambda e: e.policy.name),
                ("Nature", lambda e: e.get_nature_display()),
                ("Status", lambda e: e.get_state_display()),
                ("Current stage", lambda e: e.current_stage.name if e.current_stage else ""),
                ("Raised", lambda e: e.raised_at),
                ("Raised by", lambda e: _name(e.raised_by)),
                ("About (reverse procedure)", lambda e: _name(e.about_staff)),
                ("Themes", lambda e: "; ".join(c.name for c in e.categories.all())),
                ("Summary", lambda e: e.summary),
                ("Desired outcome", lambda e: e.desired_outcome),
                ("Immediate safety", lambda e: "Yes" if e.immediate_safety else "No"),
                ("Closed", lambda e: e.closed_at),
                ("Outcome", lambda e: e.outcome),
                ("Outcome for the child", lambda e: e.outcome_for_child),
                (
                    "Other children on this escalation (not named)",
                    lambda e: sum(1 for c in e.children.all() if c.pk != child.pk),
                ),
            ],
            escalations,
        ),
        "steps.csv": _table(
            [
                ("Escalation", lambda s: s.escalation.reference),
                ("Step", lambda s: s.sequence),
                ("Stage", lambda s: s.stage_name),
                ("Raised", lambda s: s.raised_at),
                ("Raised by", lambda s: _name(s.raised_by)),
                ("Addressed to", lambda s: s.addressee_name),
                ("Due", lambda s: s.due_on),
                ("Formal cap", lambda s: s.cap_due_on),
                ("Statement: the issue", lambda s: s.statement_issue),
                ("Statement: done so far", lambda s: s.statement_actions),
                ("Statement: wanted", lambda s: s.statement_wanted),
                ("Response", lambda s: s.response),
                ("Responded", lambda s: s.responded_at),
                # A partner-agency contact answers without an account: their own step's.
                (
                    "Responded by",
                    lambda s: (
                        _name(s.responded_by)
                        or (s.addressee_name if s.partner_id and s.responded_at else "")
                    ),
                ),
                ("Meeting date", lambda s: s.meeting_date),
                ("Meeting attendees", lambda s: s.meeting_attendees),
                ("Verdict", lambda s: s.get_verdict_display()),
                ("Closed", lambda s: s.closed_at),
                ("Skipped stages", lambda s: s.skipped_stage_names),
                ("Reason for skipping", lambda s: s.skip_reason),
            ],
            steps,
        ),
        "attachments.csv": _table(
            [
                ("Escalation", lambda a: a.step.escalation.reference),
                ("Step", lambda a: a.step.sequence),
                ("File name", lambda a: a.original_name),
                ("Type", lambda a: a.content_type),
                ("Size (bytes)", lambda a: a.size),
                (
                    "Uploaded by",
                    lambda a: (
                        _name(a.uploaded_by)
                        or (a.uploaded_by_partner.name if a.uploaded_by_partner else "")
                    ),
                ),
                ("Uploaded", lambda a: a.uploaded_at),
            ],
            attachments,
        ),
        "access_log.csv": _table(
            [
                ("When", lambda r: r.at),
                ("Who", lambda r: r.name),
                ("Username", lambda r: r.username),
                ("What", lambda r: r.action),
                ("Escalation", lambda r: r.escalation.reference if r.escalation else ""),
            ],
            logs,
        ),
    }
    return files


README = """Subject-access export: everything this system holds about one child.

Made {made} for case reference {reference}.

Escalations about more than one child (for example siblings) are included, since they
are about this child too. The other children are not named or identified in these
files: escalations.csv says only how many there were. The free text (summaries,
responses, statements) is as people wrote it and may mention someone else: read it
before release and redact what is about another person.

Attachments are listed in attachments.csv; the files themselves are not in this ZIP.
"""


def subject_access_zip(*, child: Child) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            README.format(
                made=timezone.localtime().strftime("%Y-%m-%d %H:%M"), reference=child.reference
            ),
        )
        for name, text in subject_access_files(child=child).items():
            archive.writestr(name, text)
    return buffer.getvalue()
