"""Saving a record into another authority is refused with a message, never a 500."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from children.models import Child
from staff.admin_scope import OTHER_AUTHORITY_CHOICE
from tests.admin.forms import form_data

ADD_CHILD = reverse("admin:children_child_add")
CHILD_LIST = reverse("admin:children_child_changelist")


def child_post(client, **changes: str) -> tuple[object, dict]:
    data = form_data(client.get(ADD_CHILD))
    data.update(first_name="Nova", last_name="Brightwater", reference="NEW-1")
    data.update(changes)
    return client.post(ADD_CHILD, data), data


def field_errors(response, name: str) -> list[str]:
    return list(response.context["adminform"].form.errors.get(name, []))


@pytest.mark.parametrize("field", ["authority", "team", "social_worker"])
def test_an_authority_administrator_cannot_save_a_child_into_another_authority(
    admin_client_, authorities, field
):
    _, other = authorities
    foreign = {
        "authority": other["policies.LocalAuthority"],
        "team": other["staff.Team"],
        "social_worker": other["staff.StaffMember"],
    }[field]

    response, _ = child_post(admin_client_, **{field: str(foreign.pk)})

    assert response.status_code == 200
    assert field_errors(response, field) == [OTHER_AUTHORITY_CHOICE]
    assert not Child.objects.filter(reference="NEW-1").exists()


def test_an_authority_administrator_adds_a_child_to_their_own_authority(admin_client_, authorities):
    own, _ = authorities
    response, _ = child_post(
        admin_client_,
        team=str(own["staff.Team"].pk),
        social_worker=str(own["staff.StaffMember"].pk),
    )

    assert response.status_code == 302
    assert Child.objects.get(reference="NEW-1").authority == own["policies.LocalAuthority"]


@pytest.mark.parametrize("field", ["team", "social_worker"])
def test_a_superuser_cannot_give_a_child_another_authoritys_team_or_social_worker(
    superuser_client, authorities, field
):
    own, other = authorities
    foreign = {"team": other["staff.Team"], "social_worker": other["staff.StaffMember"]}[field]

    response, _ = child_post(
        superuser_client,
        authority=str(own["policies.LocalAuthority"].pk),
        **{field: str(foreign.pk)},
    )

    assert response.status_code == 200
    assert "belongs to another authority" in " ".join(field_errors(response, field))
    assert not Child.objects.filter(reference="NEW-1").exists()


def test_a_superuser_sees_every_authoritys_children(superuser_client, authorities):
    own, other = authorities
    listed = {c.pk for c in superuser_client.get(CHILD_LIST).context["cl"].result_list}

    assert {own["children.Child"].pk, other["children.Child"].pk} <= listed


def test_a_superuser_sees_whose_team_and_social_worker_each_choice_is(
    superuser_client, authorities
):
    own, other = authorities
    form = superuser_client.get(ADD_CHILD).context["adminform"].form
    teams = dict(form.fields["team"].choices)
    workers = dict(form.fields["social_worker"].choices)

    for authority in (own, other):
        name = authority["policies.LocalAuthority"].name
        team = authority["staff.Team"]
        worker = authority["staff.StaffMember"]
        assert teams[team.pk] == f"Safeguarding Team North ({name})"
        assert workers[worker.pk] == f"{worker} ({name})"


def test_an_authority_administrator_sees_their_team_once_without_an_authority(
    admin_client_, authorities
):
    form = admin_client_.get(ADD_CHILD).context["adminform"].form
    labels = [label for _, label in form.fields["team"].choices]

    assert labels.count("Safeguarding Team North") == 1


def test_an_authority_administrator_cannot_make_anyone_a_superuser_or_grant_rights(
    admin_client_, authority_admin, authorities
):
    own, _ = authorities
    permission = Permission.objects.get(codename="change_localauthority")
    for user in (own["auth.User"], authority_admin):
        page = reverse("admin:auth_user_change", args=[user.pk])
        data = form_data(admin_client_.get(page))
        data.update(is_superuser="on", is_staff="on", user_permissions=[str(permission.pk)])

        response = admin_client_.post(page, data)

        assert response.status_code == 302
        user.refresh_from_db()
        assert not user.is_superuser
        assert not user.user_permissions.exists()
    assert not own["auth.User"].is_staff
