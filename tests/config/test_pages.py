"""The site's own pages and the base layout every page shares (templates/base.html)."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

VIEWPORT = (
    '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">'
)


def _title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip()


def test_the_accessibility_statement_is_open_without_signing_in(client, db):
    page = client.get(reverse("accessibility"))

    assert page.status_code == 200
    text = page.content.decode()
    for heading in ("What we tested, and how", "Known exceptions", "Reporting a problem"):
        assert heading in text


def test_the_accessibility_statement_is_open_before_the_second_factor(client, staff_of, settings):
    settings.REQUIRE_SECOND_FACTOR = True
    client.force_login(staff_of("rutland", "cp-chair").user)

    assert client.get(reverse("accessibility")).status_code == 200


def test_every_page_links_to_the_accessibility_statement_from_its_footer(client, db):
    footer = client.get(reverse("login")).content.decode().split('<footer class="govuk-footer">')[1]

    assert f'href="{reverse("accessibility")}"' in footer


def test_a_failed_sign_in_says_error_in_the_title_and_marks_both_fields(client, db):
    page = client.post(reverse("login"), {"username": "nobody", "password": "wrong"}).content
    page = page.decode()

    assert _title(page).startswith("Error: Sign in")
    assert page.count('aria-invalid="true" aria-describedby="sign-in-error"') == 2
    assert re.search(r'<p id="sign-in-error" class="govuk-error-message">.*Enter a correct', page)


def test_a_signed_in_page_has_one_navigation_landmark_named_menu(client, staff_of):
    client.force_login(staff_of("rutland", "cp-chair").user)

    page = client.get(reverse("escalations:mine")).content.decode()

    assert page.count("<nav") == 1
    assert '<nav aria-label="Menu"' in page
    assert '<section aria-label="Menu"' not in page


def test_who_is_signed_in_sits_in_a_landmark_named_your_account(client, staff_of):
    chair = staff_of("rutland", "cp-chair")
    client.force_login(chair.user)

    page = client.get(reverse("escalations:mine")).content.decode()

    account = re.search(
        r'<section class="app-account" aria-label="Your account">(.*?)</section>', page, re.S
    )
    assert account is not None
    assert chair.user.get_full_name() in account.group(1)
    assert ">Sign out</button>" in account.group(1)


def test_the_second_factor_pages_have_no_empty_menu(client, staff_of, settings):
    settings.REQUIRE_SECOND_FACTOR = True
    client.force_login(staff_of("rutland", "cp-chair").user)

    page = client.get(reverse("second_factor_setup"), follow=True).content.decode()

    assert "Set up your authenticator app" in page
    assert "<nav" not in page


@pytest.mark.parametrize(
    "template, context",
    [
        ("403.html", {}),
        ("404.html", {}),
        ("500.html", {}),
        ("413.html", {"limit_mb": "52.5", "file_mb": "10"}),
    ],
)
def test_the_error_pages_use_the_base_layout_with_the_viewport(template, context):
    # Rendered as Django renders the 500 and 413 pages: with no request at all.
    page = render_to_string(template, context)

    assert VIEWPORT in page
    assert '<header class="govuk-header"' in page
    assert '<footer class="govuk-footer">' in page


def test_a_missing_page_has_the_viewport(client, db):
    page = client.get("/no-such-page/")

    assert page.status_code == 404
    assert VIEWPORT in page.content.decode()


def test_the_children_table_is_in_a_named_focusable_scroll_region(client, staff_of, child_of):
    chair = staff_of("rutland", "cp-chair")
    child_of("rutland")
    client.force_login(chair.user)

    page = client.get(reverse("children:list")).content.decode()

    assert re.search(
        r'<div class="app-table-region" role="region" aria-label="Children you may see" '
        r'tabindex="0"><table',
        page,
    )


def test_after_responding_the_title_matches_the_heading(client, raised):
    client.force_login(raised.manager.user)

    page = client.post(
        reverse("escalations:respond", args=[raised.step.pk]),
        {"response": "Visits are booked for Monday."},
        follow=True,
    ).content.decode()

    assert '<h1 class="govuk-heading-l">Your step in this escalation</h1>' in page
    assert _title(page).startswith(f"Your step in this escalation – {raised.escalation.reference}")
