"""The deadline sweep (escalations/sweep.py: process_due) on the shipped ladders.

The clock is frozen with time-machine and `now` is passed to process_due, so every
alert's day can be checked by hand. The calendars used (England):

    November 2026            December 2026            January 2027
    Mo Tu We Th Fr Sa Su     Mo Tu We Th Fr Sa Su     Mo Tu We Th Fr Sa Su
                       1         1  2  3  4  5  6                  1  2  3
     2  3  4  5  6  7  8      7  8  9 10 11 12 13      4  5  6  7  8  9 10
     9 10 11 12 13 14 15     14 15 16 17 18 19 20     11 12 13 14 15 16 17
    16 17 18 19 20 21 22     21 22 23 24 25 26 27     18 19 20 21 22 23 24
    23 24 25 26 27 28 29     28 29 30 31
    30

Bank holidays: Fri 25 Dec (Christmas Day), Mon 28 Dec (Boxing Day, moved from the
Saturday), Fri 1 Jan. None between 2 November and 24 December.

The day a step is received does not count; a deadline is the end of its last day, so a
step is overdue from the day after it.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalations import services
from escalations.models import State, Step, Verdict
from escalations.sweep import SweepReport, process_due
from notifications.models import EmailStatus, Kind, Notification
from notifications.relay import relay_once
from policies.models import ClosureDay
from tests.concurrency import race
from tests.fixtures import LONDON, at, first_category
from tests.markers import postgres_only

# The relay the run_scheduler tests start sends in-process (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("no_broker")


def sweep(now: datetime) -> SweepReport:
    """One sweep at `now`, with the clock stopped there (delivery reads the clock)."""
    with time_machine.travel(now, tick=False):
        return process_due(now)


def sweep_daily(first: datetime, last: datetime) -> None:
    """A sweep every day (weekends and bank holidays too) from `first` to `last`."""
    day = first
    while day <= last:
        sweep(day)
        day += timedelta(days=1)


def alerts(kind: str, step: Step | None = None) -> list[Notification]:
    rows = Notification.objects.filter(kind=kind).order_by("occurrence", "recipient_id")
    return list(rows.filter(step=step) if step is not None else rows)


def recipients(kind: str, step: Step | None = None) -> set[int]:
    return {n.recipient_id for n in alerts(kind, step)}


def first_day_of_each_occurrence(kind: str, step: Step) -> dict[int, date]:
    days: dict[int, date] = {}
    for n in alerts(kind, step):
        day = n.created_at.astimezone(LONDON).date()
        days[n.occurrence] = min(days.get(n.occurrence, day), day)
    return days


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def christmas_step(ladders, staff_of, child_of) -> Step:
    """Gloucestershire Stage 1 (Team Manager, 4 working days), raised Mon 21 Dec.

    Mon 21 Dec + 4 working days (Tue 22, Wed 23, Thu 24, Tue 29) = Tue 29 Dec.
    The formal cap: Mon 21 Dec + 20 working days = Thu 21 Jan 2027.
    """
    policy = ladders["gloucestershire"]
    escalation = services.escalation_raise(
        actor=staff_of("gloucestershire", "cp-chair"),
        policy=policy,
        categories=first_category(policy),
        children=[child_of("gloucestershire")],
        summary="Core group meetings not held.",
        stage=policy.stages.get(order=1),
        responder=staff_of("gloucestershire", "team-manager"),
        now=at(2026, 12, 21),
    )
    step = escalation.steps.get()
    assert (step.due_on, step.cap_due_on) == (date(2026, 12, 29), date(2027, 1, 21))
    return step


@pytest.fixture
def chief_executive_step(ladders, staff_of, child_of) -> Step:
    """Gloucestershire, the cap biting before the last stage's own deadline.

    Raised at Stage 1 on Mon 2 Nov: cap Mon 2 Nov + 20 working days = Mon 30 Nov.
    Escalated to Stage 6 (Chief Executive) on Wed 25 Nov: + 4 working days (Thu 26,
    Fri 27, Mon 30, Tue 1 Dec) = Tue 1 Dec, a day after the cap.
    """
    policy = ladders["gloucestershire"]
    chair = staff_of("gloucestershire", "cp-chair")
    escalation = services.escalation_raise(
        actor=chair,
        policy=policy,
        categories=first_category(policy),
        children=[child_of("gloucestershire")],
        summary="Core group meetings not held.",
        stage=policy.stages.get(order=1),
        responder=staff_of("gloucestershire", "team-manager"),
        now=at(2026, 11, 2),
    )
    step = services.escalation_escalate(
        actor=chair,
        escalation=escalation,
        stage=policy.stages.get(order=6),
        responder=staff_of("gloucestershire", "chief-executive"),
        now=at(2026, 11, 25),
    )
    assert (step.due_on, step.cap_due_on) == (date(2026, 12, 1), date(2026, 11, 30))
    return step


@pytest.fixture
def stoke_informal_step(ladders, staff_of, child_of) -> Step:
    """Stoke-on-Trent's informal stage (5 working days), raised Mon 2 Nov: due Mon 9 Nov."""
    escalation = services.escalation_raise(
        actor=staff_of("stoke-on-trent", "cp-chair"),
        policy=ladders["stoke-on-trent"],
        categories=first_category(ladders["stoke-on-trent"]),
        children=[child_of("stoke-on-trent")],
        summary="Reports not shared with parents.",
        responder=staff_of("stoke-on-trent", "social-worker"),
        now=at(2026, 11, 2),
    )
    step = escalation.steps.get()
    assert (step.stage_order, step.due_on) == (0, date(2026, 11, 9))
    return step


@pytest.fixture
def stoke_stage_1_step(stoke_informal_step, staff_of) -> Step:
    """Stoke Stage 1 (Service Manager) has no timescale; raised Tue 10 Nov.

    The formal process starts Tue 10 Nov: + 20 working days = Tue 8 Dec, the cap.
    """
    escalation = stoke_informal_step.escalation
    step = services.escalation_escalate(
        actor=escalation.raised_by,
        escalation=escalation,
        responder=staff_of("stoke-on-trent", "service-manager"),
        now=at(2026, 11, 10),
    )
    assert (step.stage_order, step.due_on, step.cap_due_on) == (1, None, date(2026, 12, 8))
    return step


@pytest.fixture
def childs_line(staff_of, child_of):
    """A child whose social worker's line runs Team Manager → Head of Service → AD."""

    def make(*, with_assistant_director: bool = True) -> dict:
        people = {}
        manager = None
        roles = ["assistant-director", "head-of-service", "team-manager", "social-worker"]
        if not with_assistant_director:
            roles = roles[1:]
        for role in roles:
            manager = people[role] = staff_of("gloucestershire", role, line_manager=manager)
        people["child"] = child_of("gloucestershire", social_worker=people["social-worker"])
        return people

    return make


@pytest.fixture
def head_of_service_step(ladders, staff_of, childs_line) -> Callable[..., tuple[Step, dict]]:
    """Gloucestershire Stage 3 (Head of Service) for a child with a line, raised Mon 21 Dec:
    due Tue 29 Dec, as for christmas_step."""

    def make(*, auto_escalate: bool, with_assistant_director: bool = True) -> tuple[Step, dict]:
        policy = ladders["gloucestershire"]
        policy.auto_escalate_when_overdue = auto_escalate
        policy.save()
        line = childs_line(with_assistant_director=with_assistant_director)
        escalation = services.escalation_raise(
            actor=staff_of("gloucestershire", "cp-chair"),
            policy=policy,
            categories=first_category(policy),
            children=[line["child"]],
            summary="The child protection plan is not being implemented.",
            stage=policy.stages.get(order=3),
            responder=line["head-of-service"],
            now=at(2026, 12, 21),
        )
        step = escalation.steps.get()
        assert step.due_on == date(2026, 12, 29)
        return step, line

    return make


# --- reminders ---------------------------------------------------------------------------


def test_no_reminder_two_working_days_before_the_deadline(christmas_step):
    sweep(at(2026, 12, 23))  # Wed 23 Dec: Thu 24 and Tue 29 are still to come.

    assert alerts(Kind.REMINDER) == []


def test_reminder_goes_to_the_responder_on_the_last_working_day_before_the_deadline(
    christmas_step,
):
    # Thu 24 Dec: Fri 25, the weekend and Mon 28 are not working days; Tue 29 is the deadline.
    sweep(at(2026, 12, 24))

    [reminder] = alerts(Kind.REMINDER)
    assert (reminder.step, reminder.recipient, reminder.occurrence) == (
        christmas_step,
        christmas_step.responder,
        0,
    )


def test_reminder_is_sent_once_however_often_the_sweep_runs(christmas_step):
    sweep_daily(
        at(2026, 12, 24), at(2026, 12, 29)
    )  # Thu 24 Dec … Tue 29 Dec, bank holidays and weekend included

    assert len(alerts(Kind.REMINDER)) == 1


def test_an_office_closure_day_is_skipped_when_finding_the_day_before_the_deadline(
    ladders, staff_of, child_of
):
    policy = ladders["gloucestershire"]
    ClosureDay.objects.create(authority=policy.authority, date=date(2026, 12, 29))
    escalation = services.escalation_raise(
        actor=staff_of("gloucestershire", "cp-chair"),
        policy=policy,
        categories=first_category(policy),
        children=[child_of("gloucestershire")],
        summary="Core group meetings not held.",
        stage=policy.stages.get(order=1),
        responder=staff_of("gloucestershire", "team-manager"),
        now=at(2026, 12, 21),
    )
    # Mon 21 Dec + 4 working days (Tue 22, Wed 23, Thu 24, Wed 30: Tue 29 is closed) = Wed 30.
    assert escalation.steps.get().due_on == date(2026, 12, 30)

    sweep(at(2026, 12, 23))
    assert alerts(Kind.REMINDER) == []
    sweep(at(2026, 12, 24))  # the last working day before Wed 30 Dec
    assert len(alerts(Kind.REMINDER)) == 1


def test_a_responded_step_gets_no_reminder(christmas_step):
    services.step_respond(
        actor=christmas_step.responder,
        step=christmas_step,
        response="Booked.",
        now=at(2026, 12, 22),
    )

    sweep(at(2026, 12, 24))

    assert alerts(Kind.REMINDER) == []


# --- overdue -------------------------------------------------------------------------------


def test_no_overdue_alert_on_the_deadline_itself(christmas_step):
    sweep(at(2026, 12, 29, 17))  # Tue 29 Dec: due by the end of today

    assert alerts(Kind.OVERDUE) == []


def test_overdue_alert_goes_to_the_chair_and_the_responder_the_day_after_the_deadline(
    christmas_step,
):
    sweep(at(2026, 12, 30, 7))  # Wed 30 Dec

    assert recipients(Kind.OVERDUE) == {
        christmas_step.escalation.raised_by_id,
        christmas_step.responder_id,
    }
    assert {n.occurrence for n in alerts(Kind.OVERDUE)} == {0}


def test_overdue_alert_repeats_every_five_working_days_and_not_more_often(christmas_step):
    # Working days late: Wed 30 Dec 1, Thu 31 2, Mon 4 Jan 3, Tue 5 4, Wed 6 5, Thu 7 6,
    # Fri 8 7, Mon 11 8, Tue 12 9, Wed 13 10, Thu 14 11 (Fri 1 Jan is a bank holiday).
    # Alerts on the 1st, 6th and 11th working day late.
    sweep_daily(at(2026, 12, 30), at(2027, 1, 14))

    assert first_day_of_each_occurrence(Kind.OVERDUE, christmas_step) == {
        0: date(2026, 12, 30),
        1: date(2027, 1, 7),
        2: date(2027, 1, 14),
    }
    assert len(alerts(Kind.OVERDUE)) == 6  # each to the chair and the responder


def test_the_policy_sets_how_often_the_overdue_alert_repeats(christmas_step):
    policy = christmas_step.escalation.policy
    policy.overdue_repeat_working_days = 2
    policy.save()

    # Every 2 working days: the 1st (Wed 30 Dec), 3rd (Mon 4 Jan) and 5th (Wed 6 Jan).
    sweep_daily(at(2026, 12, 30), at(2027, 1, 6))

    assert first_day_of_each_occurrence(Kind.OVERDUE, christmas_step) == {
        0: date(2026, 12, 30),
        1: date(2027, 1, 4),
        2: date(2027, 1, 6),
    }


def test_a_policy_with_no_repeat_sends_the_overdue_alert_once(christmas_step):
    policy = christmas_step.escalation.policy
    policy.overdue_repeat_working_days = None
    policy.save()

    sweep_daily(at(2026, 12, 30), at(2027, 1, 14))

    assert first_day_of_each_occurrence(Kind.OVERDUE, christmas_step) == {0: date(2026, 12, 30)}
    assert len(alerts(Kind.OVERDUE)) == 2


def test_a_responded_step_gets_no_overdue_alert(christmas_step):
    services.step_respond(
        actor=christmas_step.responder,
        step=christmas_step,
        response="Booked.",
        now=at(2026, 12, 29),
    )

    sweep(at(2026, 12, 30))

    assert alerts(Kind.OVERDUE) == []


def test_a_resolved_escalation_gets_no_alerts_at_all(christmas_step):
    escalation = christmas_step.escalation
    services.escalation_resolve(
        actor=escalation.raised_by,
        escalation=escalation,
        outcome="Meeting held.",
        now=at(2026, 12, 22),
    )

    sweep_daily(at(2026, 12, 23), at(2027, 1, 25))  # past the step's deadline and the cap

    # Only what the chair's own actions caused: the step, and the closing notice to its
    # addressee. The sweep adds nothing.
    assert set(Notification.objects.values_list("kind", flat=True)) == {
        Kind.STEP_RAISED,
        Kind.ESCALATION_CLOSED,
    }


# --- the formal cap --------------------------------------------------------------------------


def test_no_cap_alert_on_the_cap_day_itself(chief_executive_step):
    sweep(at(2026, 11, 30, 17))  # Mon 30 Nov, the cap

    assert alerts(Kind.CAP_BREACHED) == []


def test_cap_alert_goes_to_the_chair_and_the_responder_when_the_cap_passes_before_the_stage_deadline(
    chief_executive_step,
):
    sweep(at(2026, 12, 1))  # Tue 1 Dec: past the cap, though Stage 6's own deadline is today

    assert recipients(Kind.CAP_BREACHED, chief_executive_step) == {
        chief_executive_step.escalation.raised_by_id,
        chief_executive_step.responder_id,
    }


def test_cap_alert_is_sent_once_per_escalation(chief_executive_step):
    sweep_daily(at(2026, 12, 1), at(2026, 12, 14))

    assert len(alerts(Kind.CAP_BREACHED)) == 2  # the chair and the responder, once


def test_cap_alert_comes_the_day_after_a_cap_counted_over_christmas(christmas_step):
    # Mon 21 Dec + 20 working days (22-24 Dec, 29-31 Dec, 4-8, 11-15 and 18-21 Jan) = Thu 21 Jan.
    sweep(at(2027, 1, 21))
    assert alerts(Kind.CAP_BREACHED) == []

    sweep(at(2027, 1, 22))

    assert recipients(Kind.CAP_BREACHED, christmas_step) == {
        christmas_step.escalation.raised_by_id,
        christmas_step.responder_id,
    }


def test_a_stage_with_no_timescale_gets_no_reminder_or_overdue_alert(stoke_stage_1_step):
    sweep_daily(
        at(2026, 11, 10), at(2026, 12, 14)
    )  # Tue 10 Nov … Mon 14 Dec, past the cap (Tue 8 Dec)

    assert alerts(Kind.REMINDER, stoke_stage_1_step) == []
    assert alerts(Kind.OVERDUE, stoke_stage_1_step) == []


def test_the_cap_still_applies_to_a_stage_with_no_timescale(stoke_stage_1_step):
    sweep(at(2026, 12, 8))  # Tue 8 Dec, the cap
    assert alerts(Kind.CAP_BREACHED) == []

    sweep(at(2026, 12, 9))  # Wed 9 Dec

    assert recipients(Kind.CAP_BREACHED, stoke_stage_1_step) == {
        stoke_stage_1_step.escalation.raised_by_id,
        stoke_stage_1_step.responder_id,
    }


# --- the informal stage ----------------------------------------------------------------------


def test_no_informal_dispute_on_the_informal_deadline_itself(stoke_informal_step):
    sweep(at(2026, 11, 9, 17))  # Mon 9 Nov

    assert alerts(Kind.INFORMAL_DISPUTE) == []


def test_an_informal_stage_unresolved_past_its_time_is_a_dispute_for_the_chair_not_an_overdue(
    stoke_informal_step,
):
    sweep(at(2026, 11, 10))  # Tue 10 Nov

    [dispute] = alerts(Kind.INFORMAL_DISPUTE)
    assert dispute.recipient == stoke_informal_step.escalation.raised_by
    assert alerts(Kind.OVERDUE) == []


def test_an_informal_dispute_is_raised_once(stoke_informal_step):
    sweep_daily(at(2026, 11, 10), at(2026, 11, 30))

    assert len(alerts(Kind.INFORMAL_DISPUTE)) == 1


def test_an_answered_informal_stage_the_chair_has_not_resolved_is_still_a_dispute(
    stoke_informal_step,
):
    # Stoke §4: "If there is no satisfactory resolution within the agreed timescales (ie 5
    # working days) the formal dispute will be raised": an answer alone does not resolve it.
    services.step_respond(
        actor=stoke_informal_step.responder,
        step=stoke_informal_step,
        response="We will look at it.",
        now=at(2026, 11, 5),
    )

    sweep(at(2026, 11, 10))  # Tue 10 Nov

    [dispute] = alerts(Kind.INFORMAL_DISPUTE)
    assert dispute.recipient == stoke_informal_step.escalation.raised_by


def test_no_alerts_go_out_on_a_weekend_and_they_catch_up_on_the_next_working_day(
    christmas_step,
):
    # Due Tue 29 Dec; overdue from Wed 30 Dec. Sat 2 and Sun 3 Jan are not working days.
    sweep(at(2027, 1, 2))
    sweep(at(2027, 1, 3))
    assert alerts(Kind.OVERDUE) == []

    sweep(at(2027, 1, 4))  # Mon 4 Jan
    assert recipients(Kind.OVERDUE) == {
        christmas_step.escalation.raised_by_id,
        christmas_step.responder_id,
    }


# --- escalating by itself ------------------------------------------------------------------


def test_an_overdue_step_is_not_escalated_by_the_sweep(head_of_service_step):
    step, _line = head_of_service_step(auto_escalate=False)

    sweep_daily(at(2026, 12, 30), at(2027, 1, 14))

    assert Step.objects.filter(escalation=step.escalation).count() == 1
    step.refresh_from_db()
    assert step.is_open
    step.escalation.refresh_from_db()
    assert step.escalation.state == State.AWAITING_RESPONSE


def test_with_auto_escalation_an_overdue_step_moves_to_the_next_stage_in_the_childs_line(
    head_of_service_step,
):
    step, line = head_of_service_step(auto_escalate=True)
    assistant_director = line["assistant-director"]

    report = sweep(at(2026, 12, 30))  # Wed 30 Dec: a working day late

    assert report.auto_escalated == 1
    step.refresh_from_db()
    assert (step.verdict, step.closed_at) == (Verdict.NO_RESPONSE, at(2026, 12, 30))
    new_step = Step.objects.get(escalation=step.escalation, closed_at__isnull=True)
    assert (new_step.stage_order, new_step.stage_name) == (4, "Stage 4: Assistant Director")
    assert (new_step.responder, new_step.raised_at) == (assistant_director, at(2026, 12, 30))
    # Wed 30 Dec + 4 working days (Thu 31, Mon 4, Tue 5, Wed 6 Jan) = Wed 6 Jan.
    assert new_step.due_on == date(2027, 1, 6)
    assert recipients(Kind.STEP_RAISED, new_step) == {assistant_director.pk}


def test_auto_escalation_happens_once_for_an_overdue_step(head_of_service_step):
    step, _line = head_of_service_step(auto_escalate=True)

    sweep(at(2026, 12, 30))
    second = sweep(at(2026, 12, 30, 11))
    sweep(at(2026, 12, 31))

    assert second.auto_escalated == 0
    assert Step.objects.filter(escalation=step.escalation).count() == 2


def test_auto_escalation_leaves_the_step_when_no_one_in_the_childs_line_holds_the_next_role(
    head_of_service_step,
):
    step, _line = head_of_service_step(auto_escalate=True, with_assistant_director=False)

    report = sweep(at(2026, 12, 30))

    assert report.auto_escalated == 0
    assert Step.objects.filter(escalation=step.escalation).count() == 1
    assert len(alerts(Kind.OVERDUE, step)) == 2


# --- idempotence -----------------------------------------------------------------------------


def overdue_emails_to(address: str) -> int:
    return sum(1 for m in mail.outbox if m.to == [address] and str(Kind.OVERDUE.label) in m.subject)


def relay(now: datetime) -> None:
    with time_machine.travel(now, tick=False):
        relay_once(now=now)


def test_two_sweeps_make_one_notification_and_one_email_each(christmas_step):
    for _ in range(2):
        sweep(at(2026, 12, 30))
        relay(at(2026, 12, 30))

    chair, responder = christmas_step.escalation.raised_by, christmas_step.responder
    assert len(alerts(Kind.OVERDUE)) == 2
    assert overdue_emails_to(chair.user.email) == 1
    assert overdue_emails_to(responder.user.email) == 1
    # Every row (the step raised, the two overdue alerts) e-mailed exactly once.
    assert set(Notification.objects.values_list("email_status", flat=True)) == {EmailStatus.SENT}
    assert len(mail.outbox) == Notification.objects.count() == 3


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_make_one_notification_and_one_email_each(ladders, staff_of, child_of):
    policy = ladders["gloucestershire"]
    chair = staff_of("gloucestershire", "cp-chair")
    steps = []
    for _ in range(3):
        escalation = services.escalation_raise(
            actor=chair,
            policy=policy,
            categories=first_category(policy),
            children=[child_of("gloucestershire")],
            summary="Core group meetings not held.",
            stage=policy.stages.get(order=1),
            responder=staff_of("gloucestershire", "team-manager"),
            now=at(2026, 12, 21),
        )
        steps.append(escalation.steps.get())
    relay(at(2026, 12, 21))
    mail.outbox.clear()  # the "step raised" e-mails

    with time_machine.travel(at(2026, 12, 30), tick=False):
        results = race(lambda: process_due(at(2026, 12, 30)), lambda: process_due(at(2026, 12, 30)))
    relay(at(2026, 12, 30))

    assert all(isinstance(r, SweepReport) for r in results), results
    assert sum(r.created[Kind.OVERDUE] for r in results) == 6
    assert len(alerts(Kind.OVERDUE)) == 6
    for step in steps:
        assert overdue_emails_to(step.responder.user.email) == 1
    assert overdue_emails_to(chair.user.email) == 3  # one for each escalation
    assert len(mail.outbox) == 6
    assert set(Notification.objects.values_list("email_status", flat=True)) == {EmailStatus.SENT}


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_escalate_an_overdue_step_once(head_of_service_step):
    step, line = head_of_service_step(auto_escalate=True)

    with time_machine.travel(at(2026, 12, 30), tick=False):
        results = race(lambda: process_due(at(2026, 12, 30)), lambda: process_due(at(2026, 12, 30)))

    assert all(isinstance(r, SweepReport) for r in results), results
    assert sum(r.auto_escalated for r in results) == 1
    [new_step] = Step.objects.filter(escalation=step.escalation, closed_at__isnull=True)
    assert (new_step.stage_order, new_step.responder) == (4, line["assistant-director"])
    assert Step.objects.filter(escalation=step.escalation).count() == 2


# --- a fixed number of statements, however many steps are due -------------------------------


@pytest.fixture
def due_cases(ladders, staff_of, child_of) -> Callable[..., None]:
    """due_cases(n, batch) -> n cases each of a reminder, an overdue alert, an informal
    dispute and a cap breach, all due on the batch's sweep day: batch 1 on Wed 30 Dec,
    batch 2 on Thu 31 Dec (when batch 1's alerts are all already in the outbox)."""
    glos, stoke = ladders["gloucestershire"], ladders["stoke-on-trent"]
    glos_chair = staff_of("gloucestershire", "cp-chair")
    glos_manager = staff_of("gloucestershire", "team-manager")
    stoke_chair = staff_of("stoke-on-trent", "cp-chair")
    stoke_worker = staff_of("stoke-on-trent", "social-worker")
    stoke_manager = staff_of("stoke-on-trent", "service-manager")
    # Gloucestershire Stage 1 is 4 working days: raised Mon 21 Dec it is overdue on Wed 30
    # Dec, raised Wed 23 Dec it is due Thu 31 Dec (a reminder on the 30th); a day later each.
    glos_days = {1: (at(2026, 12, 21), at(2026, 12, 23)), 2: (at(2026, 12, 22), at(2026, 12, 24))}

    def make(n: int, batch: int) -> None:
        overdue_on, reminder_on = glos_days[batch]
        for raised_at in [overdue_on] * n + [reminder_on] * n:
            services.escalation_raise(
                actor=glos_chair,
                policy=glos,
                categories=first_category(glos),
                children=[child_of("gloucestershire")],
                summary="Core group meetings not held.",
                stage=glos.stages.get(order=1),
                responder=glos_manager,
                now=raised_at,
            )
        for capped in [False] * n + [True] * n:
            # Stoke's informal stage (5 working days) raised in November is a dispute by
            # December; escalated to Stage 1 (no timescale) its cap of 20 working days
            # has passed by then too.
            escalation = services.escalation_raise(
                actor=stoke_chair,
                policy=stoke,
                categories=first_category(stoke),
                children=[child_of("stoke-on-trent")],
                summary="Reports not shared with parents.",
                responder=stoke_worker,
                now=at(2026, 11, 2) + timedelta(days=batch - 1),
            )
            if capped:
                services.escalation_escalate(
                    actor=stoke_chair,
                    escalation=escalation,
                    responder=stoke_manager,
                    now=at(2026, 11, 10),
                )

    return make


def test_a_sweep_asks_as_many_queries_with_200_steps_due_as_with_12(due_cases):
    due_cases(3, batch=1)  # 12 due steps
    with CaptureQueriesContext(connection) as few:
        small = sweep(at(2026, 12, 30))
    due_cases(50, batch=2)  # 200 more
    with CaptureQueriesContext(connection) as many:
        large = sweep(at(2026, 12, 31))

    expected = {Kind.REMINDER: 1, Kind.OVERDUE: 2, Kind.INFORMAL_DISPUTE: 1, Kind.CAP_BREACHED: 2}
    assert small.created == {kind: 3 * n for kind, n in expected.items()}
    assert large.created == {kind: 50 * n for kind, n in expected.items()}
    assert len(many.captured_queries) == len(few.captured_queries)


# --- the operator commands -------------------------------------------------------------------


def run_command(name: str, *args: str) -> list[str]:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue().splitlines()


def test_run_sweep_prints_what_it_did(christmas_step):
    with time_machine.travel(at(2026, 12, 30), tick=False):
        lines = run_command("run_sweep")

    assert lines == [
        "Sweep as at Wed 30 Dec 2026 10:00:",
        "  overdue: 2 notification(s) created",
        "2 notification(s) created. They wait in the outbox until the relay sends them: "
        "`dev.py run` (or `manage.py run_scheduler`) does that.",
    ]


def test_run_sweep_sends_no_email_itself(christmas_step):
    with time_machine.travel(at(2026, 12, 30), tick=False):
        run_command("run_sweep")

    # The relay is the one path to e-mail: the "step raised" and both overdue rows wait.
    assert mail.outbox == []
    assert set(Notification.objects.values_list("email_status", flat=True)) == {EmailStatus.PENDING}


def test_run_sweep_again_says_nothing_was_due(christmas_step):
    with time_machine.travel(at(2026, 12, 30), tick=False):
        run_command("run_sweep")
    with time_machine.travel(at(2026, 12, 30, 11), tick=False):
        lines = run_command("run_sweep")

    assert lines == ["Sweep as at Wed 30 Dec 2026 11:00:", "  no notifications due"]


@pytest.fixture
def signal_handlers_restored() -> Iterator[None]:
    """run_scheduler installs SIGINT/SIGTERM handlers; put pytest's back afterwards, and
    stop the test (instead of hanging) if the command does not return."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def too_long(*_: object) -> None:
        raise TimeoutError("run_scheduler did not return")

    previous_alarm = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous_alarm)
        for sig, handler in saved.items():
            signal.signal(sig, handler)


# Transactional: the command closes stale connections first, which a test's wrapping
# transaction would not survive on PostgreSQL.
@pytest.mark.django_db(transaction=True)
def test_run_scheduler_without_loop_runs_one_sweep_and_returns(
    christmas_step, signal_handlers_restored
):
    with time_machine.travel(at(2026, 12, 30), tick=False):
        lines = run_command("run_scheduler")

    # One sweep, then one relay pass: the "step raised" e-mail (waiting since Mon 21 Dec)
    # and the two overdue alerts.
    assert lines == [
        "10:00:00 overdue: 2 notification(s) created",
        "10:00:00 relay: 3 e-mail(s) sent",
    ]
    assert len(alerts(Kind.OVERDUE)) == 2
    assert len(mail.outbox) == 3
