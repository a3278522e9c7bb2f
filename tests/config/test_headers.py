"""Nothing with case data stays in a shared PC's browser cache, or a proxy's."""

import pytest
from django.test import Client
from django.urls import reverse


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_not_stored(response) -> None:
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "url",
    [
        lambda c: reverse("escalations:mine"),
        lambda c: reverse("escalations:detail", args=[c.escalation.pk]),
        lambda c: reverse("escalations:record", args=[c.escalation.pk]),
        lambda c: reverse("children:list"),
        lambda c: reverse("children:file", args=[c.child.pk]),
    ],
    ids=["mine", "detail", "record", "child-list", "child-file"],
)
def test_case_pages_are_not_stored(case, url):
    assert_not_stored(signed_in(case.chair.user).get(url(case)))


def test_the_response_page_is_not_stored(case):
    response = signed_in(case.manager.user).get(reverse("escalations:respond", args=[case.step.pk]))
    assert_not_stored(response)


def test_an_attachment_is_not_stored(case):
    url = reverse("escalations:attachment", args=[case.attachment.pk])
    assert_not_stored(signed_in(case.chair.user).get(url))


def test_the_csv_export_is_not_stored(case):
    response = signed_in(case.qa.user).get(reverse("reports:tracker_csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert_not_stored(response)


def test_every_response_is_not_stored_except_static_files(client, db):
    # db: the sign-in page lists the councils' single sign-on buttons.
    assert "no-store" in client.get(reverse("login"))["Cache-Control"]
    assert "no-store" in client.get("/no-such-page/")["Cache-Control"]

    static = client.get("/static/govuk/govuk-frontend.min.css")
    assert "no-store" not in static.get("Cache-Control", "")
