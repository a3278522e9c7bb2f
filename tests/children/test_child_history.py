"""child_history: a child's plans, conferences and significant events, read together."""

import html
from datetime import date

import pytest
from django.urls import reverse

from children.models import SignificantEvent
from children.selectors import child_history
from tests.children.factories import ConferenceFactory, PlanFactory

SLUG = "rutland"


@pytest.fixture
def child(child_of):
    return child_of(SLUG, first_name="Poppy", last_name="Example")


@pytest.fixture
def history(child, staff_of):
    """Two plans, three conferences (one chaired by nobody recorded), two events, and an
    other child's of each, which must not show."""
    chair = staff_of(SLUG, "cp-chair", user__first_name="Chris", user__last_name="Chair")
    PlanFactory(child=child, start_date=date(2025, 1, 6), end_date=date(2025, 9, 1))
    PlanFactory(child=child, category="emotional", start_date=date(2026, 3, 2))
    ConferenceFactory(child=child, date=date(2025, 1, 6), chair=chair)
    ConferenceFactory(child=child, kind="rcpc", date=date(2026, 3, 2), chair=chair)
    ConferenceFactory(child=child, kind="rcpc", date=date(2025, 7, 1))
    SignificantEvent.objects.create(child=child, date=date(2026, 4, 1), description="Moved.")
    SignificantEvent.objects.create(child=child, date=date(2026, 5, 1), description="New school.")
    other = PlanFactory(start_date=date(2026, 1, 1)).child
    ConferenceFactory(child=other)
    SignificantEvent.objects.create(child=other, date=date(2026, 1, 1), description="Other.")
    return chair


def test_the_child_s_history_is_read_in_one_query_newest_first(
    child, history, django_assert_num_queries
):
    with django_assert_num_queries(1):
        read = child_history(child)

    assert [(p.category, p.start_date, p.end_date) for p in read.plans] == [
        ("emotional", date(2026, 3, 2), None),
        ("neglect", date(2025, 1, 6), date(2025, 9, 1)),
    ]
    assert [(c.kind, c.date, c.chair_id) for c in read.conferences] == [
        ("rcpc", date(2026, 3, 2), history.pk),
        ("rcpc", date(2025, 7, 1), None),
        ("icpc", date(2025, 1, 6), history.pk),
    ]
    assert [(e.date, e.description) for e in read.events] == [
        (date(2026, 5, 1), "New school."),
        (date(2026, 4, 1), "Moved."),
    ]
    assert read.chair_ids == {history.pk}
    assert all(row.child is child for row in [*read.plans, *read.conferences, *read.events])


def test_the_child_s_file_lists_the_history_with_the_chairs_names(child, history, client):
    client.force_login(history.user)

    page = html.unescape(client.get(reverse("children:file", args=[child.pk])).content.decode())

    assert "Emotional abuse plan from 02 Mar 2026 (current)" in page
    assert "Neglect plan from 06 Jan 2025 to 1 Sep 2025" in page
    assert (
        "Review child protection conference on 02 Mar 2026, chaired by Chris Chair</li>"
        "<li>Review child protection conference on 01 Jul 2025</li>"
        "<li>Initial child protection conference on 06 Jan 2025, chaired by Chris Chair"
    ) in page
    assert "1 May 2026: New school.</li><li>1 Apr 2026: Moved." in page
    assert "Other." not in page
