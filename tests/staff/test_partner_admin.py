"""The partner directory in admin: each authority's administrators keep their own."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from staff.models import Partner
from staff.services import authority_admin_grant


def make_partner(authority, email: str) -> Partner:
    return Partner.objects.create(
        authority=authority,
        name="Pat Police",
        job_title="Detective Inspector",
        organisation=f"{authority.name} Police",
        email=email,
    )


@pytest.fixture
def rutland_admin(ladders, staff_of) -> Client:
    user = staff_of("rutland", "service-manager").user
    authority_admin_grant(user=user)
    client = Client()
    client.force_login(user)
    return client


def test_an_authority_administrator_lists_only_their_own_partners(ladders, rutland_admin):
    own = make_partner(ladders["rutland"].authority, "pat@rutland-police.example")
    make_partner(ladders["gloucestershire"].authority, "pat@glos-police.example")

    response = rutland_admin.get(reverse("admin:staff_partner_changelist"))

    assert response.status_code == 200
    assert [p.pk for p in response.context["cl"].result_list] == [own.pk]


def test_an_authority_administrator_cannot_open_another_authoritys_partner(ladders, rutland_admin):
    theirs = make_partner(ladders["gloucestershire"].authority, "pat@glos-police.example")

    response = rutland_admin.get(reverse("admin:staff_partner_change", args=[theirs.pk]))

    assert response.status_code in (302, 404)


def test_an_authority_administrator_adds_a_partner_to_their_own_directory(ladders, rutland_admin):
    rutland = ladders["rutland"].authority

    response = rutland_admin.post(
        reverse("admin:staff_partner_add"),
        {
            "authority": rutland.pk,
            "name": "Hana Health",
            "job_title": "Designated Nurse",
            "organisation": "Rutland NHS",
            "email": "hana@nhs.example",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert Partner.objects.get(email="hana@nhs.example").authority == rutland


def test_the_same_address_twice_in_one_directory_is_refused_in_words(ladders, rutland_admin):
    rutland = ladders["rutland"].authority
    make_partner(rutland, "pat@rutland-police.example")

    response = rutland_admin.post(
        reverse("admin:staff_partner_add"),
        {
            "authority": rutland.pk,
            "name": "Pat Again",
            "job_title": "Inspector",
            "organisation": "Rutland Police",
            "email": "pat@rutland-police.example",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
