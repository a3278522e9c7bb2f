"""run_sweep and run_scheduler: --now runs them as at another moment (the demo clock),
and they say what they did."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from escalations import services
from notifications.models import EmailStatus, Kind, Notification
from tests.fixtures import World, at


@pytest.fixture
def overdue_on_the_10th(world_of, raise_concern) -> World:
    """Rutland's Stage 1 from Mon 2 Nov 2026 (due Mon 9 Nov): overdue on Thu 10 Dec."""
    world = world_of("rutland")
    escalation = raise_concern(
        "rutland",
        actor=world.chair,
        responder=world.north.service,
        children=[world.child],
        now=at(2026, 10, 26),
    )
    services.escalation_escalate(
        actor=world.chair, escalation=escalation, responder=world.north.manager, now=at(2026, 11, 2)
    )
    return world


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_run_sweep_now_runs_as_at_that_moment_and_reports_what_it_created(overdue_on_the_10th):
    output = run("run_sweep", "--now", "2026-12-10T09:00")
    overdue = Notification.objects.filter(kind=Kind.OVERDUE)
    assert overdue.count() == 2
    assert {n.created_at for n in overdue} == {at(2026, 12, 10, 9)}
    assert output.splitlines()[0] == "Sweep as at Thu 10 Dec 2026 09:00:"
    assert "overdue: 2 notification(s) created" in output
    assert "2 notification(s) created." in output


def test_run_sweep_now_takes_a_date_alone_as_nine_oclock(overdue_on_the_10th):
    run("run_sweep", "--now", "2026-12-10")
    assert Notification.objects.filter(kind=Kind.OVERDUE).first().created_at == at(2026, 12, 10, 9)


@pytest.mark.parametrize("value", ["tomorrow", "10/12/2026", "2026-13-40T09:00"])
def test_run_sweep_refuses_a_bad_now_in_plain_words(db, value):
    with pytest.raises(CommandError) as refused:
        run("run_sweep", "--now", value)
    assert str(refused.value) == (
        f"--now {value!r} is not a date and time: give it as YYYY-MM-DDTHH:MM, "
        "for example --now 2026-12-10T09:00."
    )


def test_run_scheduler_now_sweeps_and_sends_as_at_that_moment(overdue_on_the_10th, settings):
    settings.REDIS_URL = ""
    mail.outbox.clear()
    run("run_scheduler", "--now", "2026-12-10T09:00")
    assert not Notification.objects.exclude(email_status=EmailStatus.SENT).exists()
    assert any("overdue" in m.subject for m in mail.outbox)


def test_run_scheduler_refuses_now_with_loop(db):
    with pytest.raises(CommandError, match="cannot be combined with --loop"):
        run("run_scheduler", "--loop", "--now", "2026-12-10T09:00")
