"""list_notifications --status all lists every notification, sent ones too."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from notifications.models import EmailStatus, Notification
from notifications.relay import relay_once
from tests.fixtures import MONDAY


def test_status_all_lists_sent_notifications_too(raise_concern):
    raise_concern("rutland")
    relay_once(now=MONDAY)
    assert Notification.objects.filter(email_status=EmailStatus.SENT).exists()
    total = Notification.objects.count()

    out = StringIO()
    call_command("list_notifications", "--status", "all", stdout=out)

    lines = out.getvalue().splitlines()
    assert len([line for line in lines if " sent " in line]) == total
    assert lines[-1] == f"{total} notification(s) in all."
