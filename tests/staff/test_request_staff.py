"""StaffMiddleware: `request.staff` is the signed-in person's active staff record, read
once per request, and the pages that need one refuse a request without it."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policies.models import ClosureDay
from staff.selectors import people_below
from tests.staff.factories import UserFactory


def test_a_signed_in_persons_staff_record_is_on_the_request(client, staff_of):
    chair = staff_of("rutland", "cp-chair")
    client.force_login(chair.user)

    response = client.get(reverse("notifications:list"))

    assert response.status_code == 200
    assert response.wsgi_request.staff == chair
    # Read with what every page shows of it.
    assert "role" in response.wsgi_request.staff._state.fields_cache


def test_a_signed_out_visitor_has_no_staff_record(client, db):
    response = client.get(reverse("login"))

    assert response.wsgi_request.staff is None


def test_an_inactive_staff_record_counts_as_none(client, staff_of):
    leaver = staff_of("rutland", "social-worker", is_active=False)
    client.force_login(leaver.user)

    response = client.get(reverse("notifications:list"))

    assert response.wsgi_request.staff is None
    assert response.status_code == 403
    assert "not linked to a staff record" in response.content.decode()


def test_an_administrator_without_a_staff_record_is_sent_to_the_admin(client, db):
    client.force_login(UserFactory(is_staff=True))

    response = client.get(reverse("notifications:list"))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_the_staff_record_brings_its_authoritys_closure_days(client, staff_of):
    chair = staff_of("rutland", "cp-chair")
    for day in (date(2026, 12, 24), date(2026, 12, 29)):
        ClosureDay.objects.create(authority=chair.authority, date=day)
    client.force_login(chair.user)

    request_staff = client.get(reverse("notifications:list")).wsgi_request.staff

    with CaptureQueriesContext(connection) as queries:
        closures = request_staff.authority.closure_dates()
    assert closures == {date(2026, 12, 24), date(2026, 12, 29)}
    assert len(queries) == 0


def test_an_authority_without_closure_days_has_none_on_the_request(client, staff_of):
    chair = staff_of("rutland", "cp-chair")
    client.force_login(chair.user)

    request_staff = client.get(reverse("notifications:list")).wsgi_request.staff

    assert request_staff.authority.closure_dates() == frozenset()


def test_a_closure_day_added_later_is_seen_by_the_next_request(client, staff_of):
    chair = staff_of("rutland", "cp-chair")
    client.force_login(chair.user)
    client.get(reverse("notifications:list"))

    ClosureDay.objects.create(authority=chair.authority, date=date(2026, 12, 24))
    request_staff = client.get(reverse("notifications:list")).wsgi_request.staff

    assert request_staff.authority.closure_dates() == {date(2026, 12, 24)}


def test_the_line_of_someone_who_manages_nobody_is_read_with_their_record(client, staff_of):
    chair = staff_of("rutland", "cp-chair")
    client.force_login(chair.user)
    request_staff = client.get(reverse("notifications:list")).wsgi_request.staff

    with CaptureQueriesContext(connection) as queries:
        line = people_below(request_staff)

    assert line == set()
    assert len(queries) == 0


def test_a_managers_line_is_read_through_every_level(client, staff_of):
    head = staff_of("rutland", "service-manager")
    manager = staff_of("rutland", "team-manager", line_manager=head)
    worker = staff_of("rutland", "social-worker", line_manager=manager)
    client.force_login(head.user)

    request_staff = client.get(reverse("notifications:list")).wsgi_request.staff

    assert people_below(request_staff) == {manager.pk, worker.pk}
