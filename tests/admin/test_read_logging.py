"""Every admin read of case data writes one access-log row (docs/architecture.md §5, §8)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from children.models import AccessLog

CASE_MODELS = [
    "children.Child",
    "children.SignificantEvent",
    "escalations.Escalation",
    "notifications.Notification",
]


def pages(record) -> list[str]:
    opts = record._meta
    prefix = f"admin:{opts.app_label}_{opts.model_name}"
    found = [
        reverse(f"{prefix}_change", args=[record.pk]),
        reverse(f"{prefix}_history", args=[record.pk]),
    ]
    if hasattr(record, "history"):
        version = record.history.latest("history_date")
        found.append(reverse(f"{prefix}_simple_history", args=[record.pk, version.history_id]))
    return found


@pytest.mark.parametrize("label", CASE_MODELS)
def test_each_admin_page_of_case_data_writes_one_access_log_row(
    superuser_client, authorities, label
):
    own, _ = authorities
    child = own["children.Child"]
    for page in pages(own[label]):
        before = AccessLog.objects.count()

        response = superuser_client.get(page)

        assert response.status_code == 200, page
        assert AccessLog.objects.count() == before + 1, page
        row = AccessLog.objects.latest("pk")
        assert row.user == response.wsgi_request.user
        assert row.child == child
        assert row.action.startswith("admin ")
