"""Failed e-mails sent again: the service, the admin action, the command; and the banner
that tells administrators something failed or is stuck in their authority."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from escalations import services
from notifications.models import EmailStatus, Notification
from notifications.relay import relay_once
from notifications.services import notification_resend
from staff.services import authority_admin_grant
from tests.fixtures import first_category

NOW = datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/London"))
LATER = NOW + timedelta(days=2)


@pytest.fixture
def raise_in(ladders, staff_of, child_of):
    """raise_in("rutland") -> the pending "step raised" row of a new escalation there."""

    def make(slug: str) -> Notification:
        escalation = services.escalation_raise(
            actor=staff_of(slug, "cp-chair"),
            policy=ladders[slug],
            categories=first_category(ladders[slug]),
            children=[child_of(slug)],
            summary="Core group meetings not held.",
            responder=staff_of(slug, ladders[slug].stages.order_by("order").first().role.slug),
            now=NOW,
        )
        return escalation.notifications.get()

    return make


def failed(notification: Notification) -> Notification:
    """As a day of refused sends leaves it (test_delivery.py shows the day itself)."""
    Notification.objects.filter(pk=notification.pk).update(
        email_status=EmailStatus.FAILED,
        attempts=31,
        last_error="mail server: SMTPRecipientsRefused on attempt 31",
        next_attempt_at=NOW + timedelta(days=1, hours=1),
    )
    notification.refresh_from_db()
    return notification


@pytest.fixture
def failed_in_rutland(raise_in) -> Notification:
    return failed(raise_in("rutland"))


def relay(now: datetime = LATER) -> None:
    with time_machine.travel(now, tick=False):
        relay_once(now=now)


# --- the service -----------------------------------------------------------------------------


def test_resending_makes_a_failed_row_go_again(failed_in_rutland):
    assert notification_resend(notification=failed_in_rutland, actor=None, now=LATER) is True

    relay()

    failed_in_rutland.refresh_from_db()
    assert (failed_in_rutland.email_status, failed_in_rutland.sent_at) == (EmailStatus.SENT, LATER)
    assert [m.to for m in mail.outbox] == [[failed_in_rutland.recipient.user.email]]


def test_resending_restarts_the_day_of_retries(failed_in_rutland):
    notification_resend(notification=failed_in_rutland, actor=None, now=LATER)

    failed_in_rutland.refresh_from_db()
    assert (
        failed_in_rutland.email_status,
        failed_in_rutland.next_attempt_at,
        failed_in_rutland.retry_window_from,
        failed_in_rutland.attempts,
    ) == (EmailStatus.PENDING, LATER, LATER, 0)


def test_resending_is_logged_by_ids_only(failed_in_rutland, staff_of, caplog):
    actor = staff_of("rutland", "service-manager").user

    with caplog.at_level(logging.INFO, logger="notifications"):
        notification_resend(notification=failed_in_rutland, actor=actor, now=LATER)

    assert f"Notification {failed_in_rutland.pk} set to be sent again by user {actor.pk}" in (
        caplog.text
    )
    assert "@" not in caplog.text


def test_a_row_that_is_not_failed_is_not_resent(raise_in):
    pending = raise_in("rutland")

    assert notification_resend(notification=pending, actor=None, now=LATER) is False
    pending.refresh_from_db()
    assert (pending.next_attempt_at, pending.retry_window_from) == (NOW, NOW)


# --- the command -----------------------------------------------------------------------------


def resend_notifications(*args: str) -> list[str]:
    out = StringIO()
    with time_machine.travel(LATER, tick=False):
        call_command("resend_notifications", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_command_resends_every_failed_row(raise_in):
    rows = [failed(raise_in("rutland")), failed(raise_in("gloucestershire"))]
    pending = raise_in("rutland")

    lines = resend_notifications("--failed")

    assert lines == [
        *(f"#{n.pk} resent: pending again, sent within seconds" for n in rows),
        "2 notification(s) resent.",
    ]
    relay()
    assert len(mail.outbox) == 3  # the two resent, and the one that was pending anyway
    assert pending.pk not in [int(line[1:].split()[0]) for line in lines[:-1]]


def test_the_command_resends_the_rows_named_and_says_which_it_left(failed_in_rutland, raise_in):
    pending = raise_in("rutland")

    lines = resend_notifications("--id", str(failed_in_rutland.pk), "--id", str(pending.pk))

    assert lines == [
        f"#{failed_in_rutland.pk} resent: pending again, sent within seconds",
        f"#{pending.pk} left alone: it is pending, not failed",
        "1 notification(s) resent.",
    ]


def test_the_command_refuses_an_unknown_number_and_resends_nothing(failed_in_rutland):
    with pytest.raises(CommandError, match="No notification numbered #999999"):
        resend_notifications("--id", str(failed_in_rutland.pk), "--id", "999999")

    failed_in_rutland.refresh_from_db()
    assert failed_in_rutland.email_status == EmailStatus.FAILED


# --- the admin action and the banner ---------------------------------------------------------


@pytest.fixture
def rutland_admin(staff_of) -> Client:
    user = staff_of("rutland", "service-manager").user
    authority_admin_grant(user=user)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def gloucestershire_admin(staff_of) -> Client:
    user = staff_of("gloucestershire", "service-manager").user
    authority_admin_grant(user=user)
    client = Client()
    client.force_login(user)
    return client


CHANGELIST = "admin:notifications_notification_changelist"


def resend_in_admin(client: Client, *rows: Notification):
    return client.post(
        reverse(CHANGELIST),
        {"action": "resend", "_selected_action": [n.pk for n in rows]},
        follow=True,
    )


def test_the_admin_action_resends_a_failed_row_and_logs_it(rutland_admin, failed_in_rutland):
    response = resend_in_admin(rutland_admin, failed_in_rutland)

    assert "1 e-mail(s) will be sent again within seconds." in response.content.decode()
    failed_in_rutland.refresh_from_db()
    assert failed_in_rutland.email_status == EmailStatus.PENDING
    entry = LogEntry.objects.get(object_id=str(failed_in_rutland.pk))
    assert (entry.action_flag, entry.change_message) == (
        CHANGE,
        "Set the e-mail to be sent again.",
    )
    relay(datetime.now(tz=NOW.tzinfo) + timedelta(seconds=1))
    assert len(mail.outbox) == 1


def test_the_admin_action_cannot_reach_another_authoritys_row(
    gloucestershire_admin, failed_in_rutland
):
    resend_in_admin(gloucestershire_admin, failed_in_rutland)

    failed_in_rutland.refresh_from_db()
    assert failed_in_rutland.email_status == EmailStatus.FAILED
    assert not LogEntry.objects.exists()


BANNER = 'id="delivery-problems"'


def test_an_administrator_sees_the_banner_on_the_admin_index(rutland_admin, failed_in_rutland):
    page = rutland_admin.get(reverse("admin:index")).content.decode()

    assert BANNER in page
    assert "1 e-mail failed after a day of retries." in page


def test_an_administrator_sees_the_banner_on_the_apps_pages(rutland_admin, failed_in_rutland):
    page = rutland_admin.get(reverse("notifications:list")).content.decode()

    assert BANNER in page


def test_the_banner_counts_stuck_rows(rutland_admin, raise_in):
    raise_in("rutland")  # pending since NOW, nobody relaying: stuck after 5 minutes

    with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
        page = rutland_admin.get(reverse("admin:index")).content.decode()

    assert "1 e-mail is stuck waiting to be sent." in page


def test_no_banner_for_an_administrator_of_another_authority(
    gloucestershire_admin, failed_in_rutland
):
    assert BANNER not in gloucestershire_admin.get(reverse("admin:index")).content.decode()


def test_no_banner_for_someone_who_is_not_an_administrator(client, failed_in_rutland, staff_of):
    client.force_login(staff_of("rutland", "cp-chair").user)

    assert BANNER not in client.get(reverse("notifications:list")).content.decode()


def test_no_banner_when_nothing_failed_or_is_stuck(rutland_admin, raise_in):
    raise_in("rutland")

    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        page = rutland_admin.get(reverse("admin:index")).content.decode()

    assert BANNER not in page
