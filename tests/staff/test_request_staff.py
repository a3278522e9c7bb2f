"""StaffMiddleware: `request.staff` is the signed-in person's active staff record, read
once per request, and the pages that need one refuse a request without it."""

from __future__ import annotations

from django.urls import reverse

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
