"""Django admin, the administrators' whole workplace, passes axe at serious and critical.

The pages are generated from the admin's own registry (tests/browser/pages.py): the
index, and for every registered model its list, its add form, the change form of a record
(with a row in each inline) and that record's history, as an authority administrator (only
what that administrator may open), and the admin login. The superuser's walk, with the
form errors and 320 px reflow, is in test_accessibility_every_page.py.
The records are tests/admin's: one of every registered model in each of two authorities.
"""

# Fixtures from tests/admin, imported by name and so "redefined" as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.admin.conftest import OWN, authorities, authority_admin  # noqa: F401
from tests.browser.pages import admin_pages, sign_in_to_admin
from tests.children.factories import ConferenceFactory, PlanFactory


@pytest.fixture
def records(authorities):
    """The own authority's records, the child with a row in each of its inlines."""
    own = authorities[0]
    assert own.slug == OWN
    PlanFactory(child=own["children.Child"])
    ConferenceFactory(child=own["children.Child"])
    return own.records


def _walk(page, site: str, pages, check_accessibility) -> list[str]:
    problems = []
    for name, path in pages:
        response = page.goto(f"{site}{path}")
        if response.status != 200:
            problems.append(f"{name} ({path}) answered {response.status}")
            continue
        try:
            check_accessibility(page, name)
        except AssertionError as exc:
            problems.append(str(exc))
    return problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_admin_login_page_passes_axe_and_has_a_heading(site, new_context, check_accessibility):
    page = new_context(bypass_csp=True).new_page()
    page.goto(f"{site}{reverse('admin:login')}")

    assert page.get_by_role("heading", level=1).count() == 1
    check_accessibility(page, "admin login")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_admin_page_passes_axe_for_an_authority_administrator(
    site,
    records,
    authority_admin,
    new_context,
    check_accessibility,
):
    page = new_context(bypass_csp=True).new_page()
    sign_in_to_admin(page, site, authority_admin)

    pages = list(admin_pages(authority_admin, records))
    problems = _walk(page, site, pages, check_accessibility)

    assert len(pages) > 20
    assert not problems, "\n".join(problems)
