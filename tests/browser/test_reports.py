"""A QA manager opens the dashboard, follows a drill-down to the tracker, and exports it."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from escalations import services
from tests.fixtures import first_category


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_qa_manager_follows_a_dashboard_number_to_the_escalations_behind_it(
    site, ladders, staff_of, child_of, new_context, sign_in, screenshot
):
    policy = ladders["gloucestershire"]
    chair = staff_of("gloucestershire", "cp-chair")
    formal = services.escalation_raise(
        actor=chair,
        policy=policy,
        categories=first_category(policy),
        children=[child_of("gloucestershire")],
        summary="No core group since the conference.",
        stage=policy.stages.get(order=1),
        responder=staff_of("gloucestershire", "team-manager"),
        now=timezone.now(),
    )
    informal = services.escalation_raise(
        actor=chair,
        policy=policy,
        categories=first_category(policy),
        children=[child_of("gloucestershire")],
        summary="Report not shared with the family.",
        responder=staff_of("gloucestershire", "social-worker"),
        now=timezone.now(),
    )
    qa = staff_of("gloucestershire", "qa-manager")

    page = sign_in(new_context(), qa)
    page.get_by_role("link", name="Reports").click()
    assert "Escalations dashboard" in page.locator("h1").inner_text()
    screenshot(page, "dashboard")

    # At 200% zoom (a 1280 px window is 640 CSS px wide): no sideways scroll, and each
    # chart's bar sits in the row of its label and figure.
    page.set_viewport_size({"width": 640, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for row in page.locator("table.app-bars tbody tr:has(svg)").all():
        label = row.locator("th").bounding_box()
        bar = row.locator("svg").bounding_box()
        figure = row.locator("td").last.bounding_box()
        assert label and bar and figure
        for box in (bar, figure):
            # Vertically within the label's row.
            assert box["y"] < label["y"] + label["height"] and label["y"] < box["y"] + box["height"]
    screenshot(page, "dashboard-200-percent")
    page.set_viewport_size({"width": 1280, "height": 900})

    # "Went formal: 1" links to the tracker filtered to exactly that escalation.
    page.get_by_role("row", name="Went formal 1", exact=True).get_by_role("link").click()
    page.wait_for_url(re.compile("/reports/tracker/"))
    listed = page.locator("#main-content table").last.inner_text()
    assert formal.reference in listed
    assert informal.reference not in listed
    screenshot(page, "tracker")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    csv_text = download.value.path().read_text(encoding="utf-8-sig")
    assert formal.reference in csv_text
    assert informal.reference not in csv_text
