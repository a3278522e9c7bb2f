"""Building a ladder in admin (issue 11 item 8): compact stage rows with a page of every
setting, themes with their items in one save, closure days on their own page, and the
deadline preview. Dates are hand-computed (England: 25, 28 Dec 2026 and 1 Jan 2027 are
bank holidays)."""

from __future__ import annotations

from datetime import date
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from escalations import services
from policies import deadlines
from policies.models import (
    CalendarDayOff,
    ClosureDay,
    Completion,
    ConcernCategory,
    DayType,
    Policy,
    Role,
    Stage,
)
from tests.admin.forms import form_data
from tests.fixtures import at, first_category
from tests.policies.factories import LocalAuthorityFactory, PolicyFactory, StageFactory


@pytest.fixture
def admin_client_(client, db):
    user = get_user_model().objects.create_superuser(
        "root", "root@example.invalid", "pw-long-enough-1"
    )
    client.force_login(user)
    return client


def policy_url(policy: Policy) -> str:
    return reverse("admin:policies_policy_change", args=[policy.pk])


def stage_url(stage: Stage) -> str:
    return reverse("admin:policies_stage_change", args=[stage.pk])


def themes_prefix(page) -> str:
    return next(
        i.formset.prefix
        for i in page.context["inline_admin_formsets"]
        if i.formset.model is ConcernCategory
    )


# --- stage rows and the stage page ------------------------------------------------------


def test_the_ladder_page_shows_one_row_per_stage_linking_to_all_its_settings(
    admin_client_, ladders
):
    policy = ladders["rutland"]
    page = admin_client_.get(policy_url(policy))

    stages = next(i for i in page.context["inline_admin_formsets"] if i.formset.model is Stage)
    assert stages.opts.template.endswith("tabular.html")
    html = page.content.decode()
    for stage in policy.stages.all():
        assert f'href="{stage_url(stage)}"' in html


def test_the_stage_page_holds_every_stage_setting(admin_client_, ladders):
    stage = ladders["rutland"].stages.get(order=1)
    page = admin_client_.get(stage_url(stage))

    shown = set(page.context["adminform"].form.fields) | {"policy", "order"}
    editable = {
        f.name
        for f in Stage._meta.get_fields()
        if (f.concrete or f.many_to_many) and f.editable and not f.auto_created
    }
    assert editable <= shown


def test_the_informal_stage_page_leaves_out_the_formal_ladder_settings(admin_client_, ladders):
    informal = ladders["rutland"].stages.get(order=0)
    fields = set(admin_client_.get(stage_url(informal)).context["adminform"].form.fields)

    assert {"issue_within_days", "addresses_several", "chair_may_vary_timescale"} <= fields
    assert not fields & {"raiser_roles", "optional", "condition", "copy_posts", "final"}


def test_an_administrator_sets_the_new_stage_settings_on_the_stage_page(admin_client_, ladders):
    policy = ladders["rutland"]
    stage = policy.stages.get(order=2)
    qa = Role.objects.get(slug="qa-manager")
    data = form_data(admin_client_.get(stage_url(stage)))
    data |= {
        "addresses_several": "on",
        "completion": Completion.ANY,
        "partner_responders": "on",
        "optional": "on",
        "condition": "where the Team Manager is absent or disagrees",
        "chair_may_vary_timescale": "on",
        "issue_within_days": "3",
        "raiser_roles": [str(qa.pk)],
    }

    response = admin_client_.post(stage_url(stage), data)

    assert response.status_code == 302
    assert response["Location"] == policy_url(policy)
    stage.refresh_from_db()
    assert (stage.addresses_several, stage.completion, stage.issue_within_days) == (
        True,
        Completion.ANY,
        3,
    )
    assert stage.partner_responders and stage.optional and stage.chair_may_vary_timescale
    assert stage.condition == "where the Team Manager is absent or disagrees"
    assert list(stage.raiser_roles.all()) == [qa]


def test_the_ladder_row_sums_up_the_settings_on_the_stage_page(admin_client_, ladders):
    policy = ladders["rutland"]
    stage = policy.stages.get(order=2)
    stage.addresses_several, stage.completion, stage.issue_within_days = True, "any", 3
    stage.save()

    html = admin_client_.get(policy_url(policy)).content.decode()

    assert "several people at once (any replies)" in html
    assert "issue within 3 working days" in html


def test_a_stage_of_a_policy_in_use_is_changed_only_when_confirmed(
    admin_client_, ladders, staff_of, child_of
):
    policy = ladders["rutland"]
    services.escalation_raise(
        actor=staff_of("rutland", "cp-chair"),
        policy=policy,
        categories=first_category(policy),
        children=[child_of("rutland")],
        summary="Visits not done.",
        stage=policy.stages.get(order=3),
        responder=staff_of("rutland", "head-of-service"),
        now=at(2026, 11, 2),
    )
    stage = policy.stages.get(order=3)
    data = form_data(admin_client_.get(stage_url(stage))) | {"response_days": "20"}

    refused = admin_client_.post(stage_url(stage), data)
    accepted = admin_client_.post(stage_url(stage), data | {"confirm_change_in_use": "on"})

    assert "Escalations already use this policy" in refused.content.decode()
    assert accepted.status_code == 302
    assert policy.stages.get(order=3).response_days == 20


def test_stages_are_added_and_removed_on_the_policy_page_only(admin_client_, ladders):
    stage = ladders["rutland"].stages.get(order=1)
    assert admin_client_.get(reverse("admin:policies_stage_add")).status_code == 403
    delete = admin_client_.get(reverse("admin:policies_stage_delete", args=[stage.pk]))
    assert delete.status_code == 403
    assert Stage.objects.filter(pk=stage.pk).exists()


# --- themes and their items in one save ---------------------------------------------------


def add_theme(data: dict, prefix: str, *, name: str, items: str, order: int = 9) -> None:
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    data |= {
        f"{prefix}-{index}-name": name,
        f"{prefix}-{index}-items_text": items,
        f"{prefix}-{index}-order": str(order),
    }


def test_a_theme_and_its_items_are_entered_in_one_save(admin_client_, ladders):
    policy = ladders["rutland"]
    page = admin_client_.get(policy_url(policy))
    data = form_data(page)
    add_theme(
        data, themes_prefix(page), name="Health", items="No health plan\n\n  Missed GP visits "
    )

    response = admin_client_.post(policy_url(policy), data)

    assert response.status_code == 302
    theme = policy.categories.get(name="Health", parent=None)
    assert list(theme.items.order_by("order").values_list("name", "order")) == [
        ("No health plan", 0),
        ("Missed GP visits", 1),
    ]


def test_editing_a_themes_lines_adds_reorders_and_removes_its_items(admin_client_, ladders):
    policy = ladders["rutland"]
    theme = policy.categories.filter(parent=None).first()
    first, second, *rest = theme.items.order_by("order")
    page = admin_client_.get(policy_url(policy))
    data = form_data(page)
    key = next(k for k, v in data.items() if k.endswith("-items_text") and first.name in v)
    data[key] = f"A new item\n{second.name}\n{first.name}"

    response = admin_client_.post(policy_url(policy), data)

    assert response.status_code == 302
    assert list(theme.items.order_by("order").values_list("name", flat=True)) == [
        "A new item",
        second.name,
        first.name,
    ]
    assert not ConcernCategory.objects.filter(pk__in=[i.pk for i in rest]).exists()


def test_an_item_listed_twice_is_refused(admin_client_, ladders):
    policy = ladders["rutland"]
    page = admin_client_.get(policy_url(policy))
    data = form_data(page)
    add_theme(data, themes_prefix(page), name="Health", items="GP\nGP")

    response = admin_client_.post(policy_url(policy), data)

    assert response.status_code == 200
    assert "“GP” is listed twice" in response.content.decode()
    assert not policy.categories.filter(name="Health").exists()


@pytest.fixture
def item_in_use(ladders, staff_of, child_of) -> ConcernCategory:
    policy = ladders["rutland"]
    item = policy.categories.filter(parent__isnull=False).order_by("order").first()
    escalation = services.escalation_raise(
        actor=staff_of("rutland", "cp-chair"),
        policy=policy,
        categories=first_category(policy),
        children=[child_of("rutland")],
        summary="Visits not done.",
        stage=policy.stages.get(order=3),
        responder=staff_of("rutland", "head-of-service"),
        now=at(2026, 11, 2),
    )
    escalation.categories.add(item)
    return item


def test_an_item_recorded_on_escalations_cannot_be_removed(admin_client_, item_in_use):
    policy = item_in_use.policy
    data = form_data(admin_client_.get(policy_url(policy))) | {"confirm_change_in_use": "on"}
    key = next(k for k, v in data.items() if k.endswith("-items_text") and item_in_use.name in v)
    data[key] = data[key].replace(item_in_use.name, "").strip()

    response = admin_client_.post(policy_url(policy), data)

    assert response.status_code == 200
    assert "is recorded on escalations and cannot be removed or renamed" in (
        response.content.decode()
    )
    assert ConcernCategory.objects.filter(pk=item_in_use.pk).exists()


def test_a_theme_whose_item_is_recorded_on_escalations_cannot_be_deleted(
    admin_client_, item_in_use
):
    policy = item_in_use.policy
    page = admin_client_.get(policy_url(policy))
    data = form_data(page) | {"confirm_change_in_use": "on"}
    prefix = themes_prefix(page)
    index = next(
        i
        for i in range(int(data[f"{prefix}-TOTAL_FORMS"]))
        if data.get(f"{prefix}-{i}-id") == str(item_in_use.parent_id)
    )
    data[f"{prefix}-{index}-DELETE"] = "on"

    response = admin_client_.post(policy_url(policy), data)

    assert response.status_code == 200
    assert "is recorded on escalations and cannot be deleted" in response.content.decode()
    assert ConcernCategory.objects.filter(pk=item_in_use.pk).exists()


# --- closure days on their own page ------------------------------------------------------


def test_closure_days_are_listed_per_authority(admin_client_, ladders):
    rutland, glos = ladders["rutland"].authority, ladders["gloucestershire"].authority
    ours = ClosureDay.objects.create(authority=rutland, date=date(2026, 12, 29))
    theirs = ClosureDay.objects.create(authority=glos, date=date(2026, 12, 29))

    page = admin_client_.get(
        reverse("admin:policies_closureday_changelist"),
        {"authority__id__exact": rutland.pk, "date__year": "2026"},
    )

    listed = {row.pk for row in page.context["cl"].result_list}
    assert ours.pk in listed and theirs.pk not in listed


def test_the_authority_page_links_to_its_closure_days(admin_client_, ladders):
    authority = ladders["rutland"].authority
    ClosureDay.objects.create(authority=authority, date=date(2026, 12, 29))

    html = admin_client_.get(
        reverse("admin:policies_localauthority_change", args=[authority.pk])
    ).content.decode()

    assert f"?authority__id__exact={authority.pk}" in html
    assert "1 closure day — list and edit" in html


def test_a_run_of_closure_days_is_added_in_one_save_without_weekends_or_bank_holidays(
    admin_client_, ladders
):
    authority = ladders["rutland"].authority
    response = admin_client_.post(
        reverse("admin:policies_closureday_add"),
        {
            "authority": authority.pk,
            "date": "2026-12-24",
            "last_day": "2027-01-01",
            "description": "Christmas shutdown",
        },
    )

    assert response.status_code == 302
    # 25 Dec, 28 Dec and 1 Jan are bank holidays; 26 and 27 Dec a weekend.
    assert sorted(authority.closure_days.values_list("date", flat=True)) == [
        date(2026, 12, 24),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
    ]


def test_a_run_of_closure_days_ending_before_it_starts_is_refused(admin_client_, ladders):
    authority = ladders["rutland"].authority
    response = admin_client_.post(
        reverse("admin:policies_closureday_add"),
        {"authority": authority.pk, "date": "2026-12-24", "last_day": "2026-12-20"},
    )

    assert response.status_code == 200
    assert "The last day must be on or after the date." in response.content.decode()
    assert not authority.closure_days.exists()


# --- the deadline preview -----------------------------------------------------------------


@pytest.fixture
def ladder(db) -> Policy:
    """Stage 1: 5 working days, issued within 3; Stage 2: 10 calendar days; Stage 3: none."""
    policy = PolicyFactory(
        authority=LocalAuthorityFactory(nation="ENG"), formal_cap_working_days=20
    )
    StageFactory(policy=policy, order=1, name="Stage 1", response_days=5, issue_within_days=3)
    StageFactory(
        policy=policy, order=2, name="Stage 2", response_days=10, day_type=DayType.CALENDAR
    )
    StageFactory(policy=policy, order=3, name="Stage 3", response_days=None)
    return policy


def preview(client, policy: Policy, on: str, at_time: str = "10:00"):
    return client.get(policy_url(policy), {"preview-on": on, "preview-at": at_time})


def rows(page) -> dict[str, tuple]:
    return {
        row.stage.name: (row.due_on, row.due_on_day_off, row.issue_by)
        for row in page.context["deadline_preview"].stages
    }


def test_the_preview_shows_each_stage_deadline_and_issue_by_date(admin_client_, ladder):
    page = preview(admin_client_, ladder, "2026-12-17")  # a Thursday

    # Stage 1: Fri 18, Mon 21, Tue 22, Wed 23, Thu 24; issue by the 3rd: Tue 22.
    # Stage 2: 17 + 10 days = Sun 27 Dec, kept where it falls.
    assert rows(page) == {
        "Stage 1": (date(2026, 12, 24), False, date(2026, 12, 22)),
        "Stage 2": (date(2026, 12, 27), True, None),
        "Stage 3": (None, False, None),
    }
    html = page.content.decode()
    assert "Thu 24 Dec 2026" in html and "Tue 22 Dec 2026 (3 working days)" in html
    assert "10 calendar days" in html
    assert "Sun 27 Dec 2026 — not a working day" in html


def test_the_preview_shows_the_formal_cap(admin_client_, ladder):
    page = preview(admin_client_, ladder, "2026-12-17")

    # 20 working days from Thu 17 Dec, past 25 and 28 Dec and 1 Jan: Tue 19 Jan 2027.
    assert page.context["deadline_preview"].cap == date(2027, 1, 19)
    assert "must finish by <strong>Tue 19 Jan 2027</strong> (20 working days)" in (
        page.content.decode()
    )


def test_the_preview_moves_a_calendar_deadline_off_a_day_off_when_the_policy_says_so(
    admin_client_, ladder
):
    ladder.calendar_day_off = CalendarDayOff.NEXT_WORKING_DAY
    ladder.save()

    page = preview(admin_client_, ladder, "2026-12-17")

    # Sun 27 Dec; Mon 28 Dec is a bank holiday: Tue 29 Dec.
    assert rows(page)["Stage 2"] == (date(2026, 12, 29), False, None)
    assert "moves a calendar-day deadline that lands on a day off" in page.content.decode()


def test_a_preview_picked_on_a_day_off_counts_from_the_next_working_day(admin_client_, ladder):
    page = preview(admin_client_, ladder, "2026-12-26")  # Boxing Day, a Saturday

    assert "the clocks count from <strong>Tue 29 Dec 2026</strong>" in page.content.decode()
    # Tue 29 is the day of receipt: Wed 30, Thu 31, Mon 4, Tue 5, Wed 6.
    assert rows(page)["Stage 1"][0] == date(2027, 1, 6)


def test_the_preview_counts_an_authoritys_closure_days(admin_client_, ladder):
    ClosureDay.objects.create(authority=ladder.authority, date=date(2026, 12, 23))

    page = preview(admin_client_, ladder, "2026-12-17")

    # Wed 23 is closed: Fri 18, Mon 21, Tue 22, Thu 24, Tue 29.
    assert rows(page)["Stage 1"][0] == date(2026, 12, 29)


def test_the_preview_asks_the_functions_the_services_use(admin_client_, ladder):
    with (
        mock.patch("policies.preview.stage_deadline", wraps=deadlines.stage_deadline) as due,
        mock.patch(
            "policies.preview.formal_cap_deadline", wraps=deadlines.formal_cap_deadline
        ) as cap,
    ):
        page = preview(admin_client_, ladder, "2026-12-17")

    asked = [call.kwargs["stage"].name for call in due.call_args_list]
    assert sorted(set(asked)) == ["Stage 1", "Stage 2", "Stage 3"]
    assert cap.call_count == 1
    moment = at(2026, 12, 17)
    for stage in ladder.stages.all():
        _, expected = deadlines.stage_deadline(
            stage=stage, authority=ladder.authority, received_at=moment
        )
        assert rows(page)[stage.name][0] == expected


def test_the_preview_asks_the_issue_by_clocks_one_home(admin_client_, ladder):
    with mock.patch(
        "policies.preview.issue_by_deadline", wraps=deadlines.issue_by_deadline
    ) as issue_by:
        page = preview(admin_client_, ladder, "2026-12-17")

    assert [call.kwargs["start"] for call in issue_by.call_args_list] == [date(2026, 12, 17)] * 3
    assert rows(page)["Stage 1"][2] == deadlines.issue_by_deadline(
        stage=ladder.stages.get(order=1), authority=ladder.authority, start=date(2026, 12, 17)
    )


def test_a_calendar_issue_by_date_on_a_day_off_moves_where_the_policy_says_so(
    admin_client_, ladder
):
    # A calendar-day issue-by clock of 10 days from Thu 17 Dec lands on Sun 27 Dec; the
    # policy moves it past Mon 28 Dec (a bank holiday) to Tue 29 Dec, in the issue-by
    # clock's one home and so in the preview.
    ladder.calendar_day_off = CalendarDayOff.NEXT_WORKING_DAY
    ladder.save()
    stage = ladder.stages.get(order=2)
    stage.issue_within_days = 10
    stage.save()
    computed = deadlines.issue_by_deadline(
        stage=stage, authority=ladder.authority, start=date(2026, 12, 17)
    )

    page = preview(admin_client_, ladder, "2026-12-17")

    assert computed == rows(page)["Stage 2"][2] == date(2026, 12, 29)


@pytest.mark.parametrize(
    ("on", "at_time", "message"),
    [
        ("2026-02-30", "10:00", "Enter a real date, for example 2026-11-02"),
        ("next week", "10:00", "Enter a real date"),
        ("0999-01-01", "10:00", "Pick a date between the years 2000 and 2100."),
        ("", "10:00", "Enter the date to preview"),
        ("2026-12-17", "25:99", "Enter a time of day"),
    ],
)
def test_a_bad_preview_date_gets_a_plain_message(admin_client_, ladder, on, at_time, message):
    page = preview(admin_client_, ladder, on, at_time)

    assert page.status_code == 200
    assert message in page.content.decode()
    assert page.context["deadline_preview"] is None


def test_the_page_offers_the_preview_without_computing_one_until_asked(admin_client_, ladder):
    page = admin_client_.get(policy_url(ladder))

    assert page.status_code == 200
    assert 'id="deadline-preview"' in page.content.decode()
    assert page.context["deadline_preview"] is None
