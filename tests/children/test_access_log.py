"""The access log: one row per page read, naming every child read, and keeping who read it.

Every case-data route is walked in tests/escalations/test_permissions.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from children.models import AccessLog
from escalations import services
from tests.fixtures import first_category


@pytest.fixture
def two_children(ladders, staff_of, child_of) -> dict[str, Any]:
    chair = staff_of("rutland", "cp-chair")
    children = [child_of("rutland"), child_of("rutland")]
    escalation = services.escalation_raise(
        actor=chair,
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=children,
        summary="Visits not done.",
        responder=staff_of("rutland", "service-manager"),
    )
    return {"chair": chair, "children": children, "escalation": escalation}


@pytest.mark.parametrize("name", ["escalations:detail", "escalations:record"])
def test_an_escalation_about_two_children_is_one_row_naming_both(two_children, name):
    client = Client()
    client.force_login(two_children["chair"].user)

    assert client.get(reverse(name, args=[two_children["escalation"].pk])).status_code == 200

    row = AccessLog.objects.get()
    assert row.escalation == two_children["escalation"]
    assert set(row.children.all()) == set(two_children["children"])


def test_a_deleted_users_rows_keep_their_name_and_username(ladders, staff_of, child_of):
    worker = staff_of("rutland", "social-worker")
    child = child_of("rutland", social_worker=worker)
    user = worker.user
    client = Client()
    client.force_login(user)
    assert client.get(reverse("children:file", args=[child.pk])).status_code == 200
    name, username = user.get_full_name(), user.username

    worker.delete()
    user.delete()

    row = AccessLog.objects.get(action="view child")
    assert row.user is None
    assert (row.name, row.username) == (name, username)
    assert list(row.children.all()) == [child]
