"""An authority administrator sees and changes only their own authority in Django admin.

Generated from `admin.site._registry`: every registered model, for a record of the
administrator's own authority and one of another authority. Models that belong to no
authority (groups, lock-outs) are invisible to them; roles are shared and read-only.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models
from django.forms import model_to_dict
from django.urls import NoReverseMatch, reverse

from staff.admin_scope import AuthorityScopedAdmin
from staff.services import AUTHORITY_ADMIN_PERMISSIONS
from tests.admin.forms import form_data

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
LABELS = [model._meta.label for model, _ in REGISTRY]
PLATFORM_ONLY = {"auth.Group", "axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}
SHARED = {"policies.Role"}
SCOPED = [label for label in LABELS if label not in PLATFORM_ONLY | SHARED]
HIDDEN = {302, 403, 404}


def url(record: Any, view: str, *args: Any) -> str:
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def grant(user: Any, model: type[models.Model], *actions: str) -> None:
    """Give a permission the group lacks, to show it is the scope that refuses, not rights."""
    opts = model._meta
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label=opts.app_label,
            codename__in=[f"{action}_{opts.model_name}" for action in actions],
        )
    )


def listed_pks(response) -> set[Any]:
    return {row.pk for row in response.context["cl"].result_list}


def test_every_registered_admin_is_limited_to_an_authority():
    assert all(isinstance(model_admin, AuthorityScopedAdmin) for _, model_admin in REGISTRY)


def test_every_registered_model_has_a_record_in_each_authority(authorities):
    own, other = authorities
    assert set(own.records) == set(LABELS)
    assert set(other.records) == set(LABELS)
    assert all(record is not None for record in [*own.records.values(), *other.records.values()])


@pytest.mark.parametrize("label", SCOPED)
def test_the_list_shows_own_records_and_none_of_another_authority(
    admin_client_, authorities, label
):
    own, other = authorities
    response = admin_client_.get(url(own[label], "changelist"))

    assert response.status_code == 200
    assert own[label].pk in listed_pks(response)
    assert other[label].pk not in listed_pks(response)


@pytest.mark.parametrize("label", sorted(PLATFORM_ONLY))
def test_platform_records_are_invisible_even_with_the_permission(
    admin_client_, authority_admin, authorities, label
):
    own, _ = authorities
    record = own[label]
    grant(authority_admin, type(record), "view", "change")

    assert admin_client_.get(url(record, "changelist")).status_code == 403
    assert admin_client_.get(url(record, "change", record.pk)).status_code in HIDDEN


@pytest.mark.parametrize("label", SCOPED)
def test_own_change_page_opens_and_another_authoritys_pages_do_not(
    admin_client_, authorities, label
):
    own, other = authorities
    assert admin_client_.get(url(own[label], "change", own[label].pk)).status_code == 200
    record = other[label]
    pages = [url(record, "change", record.pk), url(record, "history", record.pk)]
    if hasattr(record, "history"):
        version = record.history.latest("history_date")
        pages.append(url(record, "simple_history", record.pk, version.history_id))

    for page in pages:
        response = admin_client_.get(page)
        assert response.status_code in HIDDEN, page


def snapshot(record: Any) -> dict[str, Any]:
    return model_to_dict(type(record)._default_manager.get(pk=record.pk))


def with_text_changed(record: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The posted form with every free-text field of the record itself edited."""
    changed = dict(data)
    for field in record._meta.concrete_fields:
        text = isinstance(field, (models.CharField, models.TextField)) and not field.choices
        if text and isinstance(changed.get(field.name), str):
            changed[field.name] += "changed"
    return changed


@pytest.mark.parametrize("label", [*SCOPED, *sorted(SHARED)])
def test_posting_a_change_or_delete_to_another_authoritys_record_changes_nothing(
    admin_client_, authority_admin, superuser_client, authorities, label
):
    _, other = authorities
    record = other[label]
    grant(authority_admin, type(record), "view", "change", "delete")
    page = superuser_client.get(url(record, "change", record.pk))
    data = with_text_changed(record, form_data(page) if "adminform" in page.context else {})
    data["confirm_change_in_use"] = "on"  # a policy in use asks for this before any change
    before = snapshot(record)

    admin_client_.post(url(record, "change", record.pk), data)
    admin_client_.post(url(record, "delete", record.pk), {"post": "yes"})
    admin_client_.post(
        url(record, "changelist"),
        {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
    )

    assert snapshot(record) == before


def relation_fields() -> list[tuple[str, str]]:
    """(model, field) for every relation an autocomplete could be asked about, roles aside."""
    found = []
    for model, _ in REGISTRY:
        for field in model._meta.get_fields():
            target = field.remote_field.model if field.is_relation else None
            if (
                field.concrete
                and target in admin.site._registry
                and target._meta.label not in SHARED
                and admin.site._registry[target].search_fields
            ):
                found.append((model._meta.label, field.name))
    return found


@pytest.mark.parametrize(("label", "field_name"), relation_fields())
def test_autocomplete_offers_nothing_of_another_authority(
    admin_client_, authority_admin, authorities, label, field_name
):
    own, other = authorities
    model = own[label]._meta.model
    target = model._meta.get_field(field_name).remote_field.model
    grant(authority_admin, target, "view")

    response = admin_client_.get(
        "/admin/autocomplete/",
        {
            "app_label": model._meta.app_label,
            "model_name": model._meta.model_name,
            "field_name": field_name,
        },
    )

    ok = response.status_code == 200
    offered = {item["id"] for item in response.json()["results"]} if ok else set()
    assert str(other[target._meta.label].pk) not in offered


def picker_querysets(response) -> list[Any]:
    """The choices of every visible picker (an inline row's hidden own-id field is no picker)."""
    forms = [response.context["adminform"].form]
    for inline in response.context.get("inline_admin_formsets", []):
        forms.extend([inline.formset.empty_form, *inline.formset.forms])
    return [
        field.queryset
        for form in forms
        for field in form.fields.values()
        if hasattr(field, "queryset") and not field.widget.is_hidden
    ]


def editable_with_pickers() -> list[str]:
    """Models the group may add or change whose form picks a record of some authority."""
    found = []
    for model, _ in REGISTRY:
        opts = model._meta
        actions = AUTHORITY_ADMIN_PERMISSIONS.get(opts.app_label, {}).get(opts.model_name, ())
        targets = {
            f.remote_field.model._meta.label
            for f in opts.get_fields()
            if f.is_relation and f.concrete and f.editable
        }
        # Stages are edited within their policy (the Policy case covers the stage inline).
        in_policy_only = opts.label == "policies.Stage"
        if {"add", "change"} & set(actions) and targets & set(SCOPED) and not in_policy_only:
            found.append(opts.label)
    return found


@pytest.mark.parametrize("label", editable_with_pickers())
def test_pickers_on_the_add_and_change_forms_offer_nothing_of_another_authority(
    admin_client_, authorities, label
):
    own, other = authorities
    record = own[label]
    pages = [url(record, "change", record.pk)]
    with contextlib.suppress(NoReverseMatch):
        pages.append(url(record, "add"))
    foreign = {type(r): r for r in other.records.values()}
    checked = 0

    for page in pages:
        response = admin_client_.get(page)
        if response.status_code != 200:
            continue
        for queryset in picker_querysets(response):
            if queryset.model._meta.label in SCOPED:
                checked += 1
                assert not queryset.filter(pk=foreign[queryset.model].pk).exists(), page

    assert checked


def test_roles_are_shown_but_not_changed_even_with_the_permission(
    admin_client_, authority_admin, authorities
):
    own, _ = authorities
    role = own["policies.Role"]
    grant(authority_admin, type(role), "add", "change", "delete")

    assert admin_client_.get(url(role, "changelist")).status_code == 200
    assert admin_client_.get(url(role, "add")).status_code == 403
    page = admin_client_.get(url(role, "change", role.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]


def test_an_authority_administrator_may_not_add_or_delete_their_authority(
    admin_client_, authority_admin, authorities
):
    own, _ = authorities
    authority = own["policies.LocalAuthority"]
    grant(authority_admin, type(authority), "add", "delete")

    assert admin_client_.get(url(authority, "add")).status_code == 403
    response = admin_client_.post(url(authority, "delete", authority.pk), {"post": "yes"})
    assert response.status_code == 403
    assert type(authority).objects.filter(pk=authority.pk).exists()
