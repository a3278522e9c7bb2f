"""load_policies / export_policy: idempotent, faithful, and safe on bad files."""

import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from policies.ladder_files import (
    LADDER_DIR,
    check_ladder,
    export_policy,
    load_ladders,
    read_ladder,
)
from policies.models import (
    CalendarDayOff,
    Completion,
    ConcernCategory,
    LocalAuthority,
    Policy,
    Role,
    Stage,
)
from tests.fixtures import first_category

SHIPPED = sorted(LADDER_DIR.glob("*.yaml"))


def history_rows() -> int:
    return sum(m.history.count() for m in (Policy, Stage, LocalAuthority))


@pytest.fixture(autouse=True)
def empty_database(django_db_blocker, request):
    """Start from no policies at all (rolled back after each test), to see what a load writes."""
    if "db" not in request.fixturenames and "ladders" not in request.fixturenames:
        request.getfixturevalue("db")
    ConcernCategory.objects.all().delete()
    Stage.objects.all().delete()
    Policy.objects.all().delete()
    LocalAuthority.objects.all().delete()
    Role.objects.all().delete()


@pytest.fixture
def ladder_dir(tmp_path: Path) -> Path:
    for path in SHIPPED:
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.django_db
def test_loading_twice_changes_nothing_the_second_time(capsys):
    call_command("load_policies")
    rows, history = Stage.objects.count(), history_rows()
    capsys.readouterr()

    call_command("load_policies")

    assert "nothing changed" in capsys.readouterr().out
    assert Stage.objects.count() == rows
    assert history_rows() == history


@pytest.mark.django_db
def test_every_shipped_policy_is_loaded():
    call_command("load_policies")
    assert Policy.objects.count() == len(SHIPPED)


@pytest.mark.django_db
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_exported_policy_matches_its_file(path: Path):
    call_command("load_policies")
    expected = read_ladder(path)
    policy = Policy.objects.get(slug=expected["slug"])

    exported = check_ladder(yaml.safe_load(export_policy(policy)), "export")

    # Roles: the export lists only those the policy uses.
    used = set(exported["roles"])
    expected["roles"] = {k: v for k, v in expected["roles"].items() if k in used}
    expected["raisers"] = sorted(expected["raisers"])
    # Many-to-many role lists come back in the database's order.
    for stage in [*expected["stages"], *exported["stages"]]:
        for key in (
            "also_roles",
            "raiser_roles",
            "copy_case_line_roles",
            "copy_raiser_line_roles",
            "copy_posts",
        ):
            stage[key] = sorted(stage[key])
    assert exported == expected


@pytest.mark.django_db
def test_export_command_writes_a_file_that_loads_back(tmp_path: Path):
    call_command("load_policies")
    out = tmp_path / "rutland.yaml"
    call_command("export_policy", "rutland", "--output", str(out))
    assert read_ladder(out)["slug"] == "rutland"


@pytest.mark.django_db
def test_export_of_an_unknown_slug_names_the_known_ones():
    call_command("load_policies")
    with pytest.raises(CommandError, match=r"No policy with the slug 'nowhere'\. Known: .*rutland"):
        call_command("export_policy", "nowhere")


@pytest.mark.django_db
def test_a_missing_field_is_named_with_its_file_and_nothing_is_loaded(ladder_dir: Path):
    edit(ladder_dir / "rutland.yaml", lambda d: d["stages"][1].pop("response_days"))

    with pytest.raises(CommandError) as exc:
        call_command("load_policies", str(ladder_dir))

    assert "rutland.yaml: stages[1].response_days: is missing" in str(exc.value)
    assert "Nothing was loaded" in str(exc.value)
    assert not Policy.objects.exists()
    assert not LocalAuthority.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["stages"][0].update(response_days=-1),
            "stages[0].response_days: must be a whole",
        ),
        (lambda d: d["stages"][0].update(response_days="five"), "stages[0].response_days"),
        (
            lambda d: d["stages"][0].update(day_type="fortnights"),
            "stages[0].day_type: 'fortnights'",
        ),
        (
            lambda d: d["stages"][0].update(role="wizard"),
            "stages[0].role: role 'wizard' is not listed",
        ),
        (
            lambda d: d["stages"][3].update(copy={"case_line": ["nobody"]}),
            "stages[3].copy.case_line[0]: role 'nobody'",
        ),
        (
            lambda d: d["stages"][3].update(copy={"everyone": True}),
            "stages[3].copy.everyone: is not a relationship",
        ),
        (
            lambda d: d["stages"][3].update(cc=["team-manager"]),
            "stages[3].cc: copies name relationships to the case, not whole roles",
        ),
        (lambda d: d.update(stages=[]), "stages: must list the formal stages"),
        (lambda d: d["authority"].update(nation="FRA"), "authority.nation: 'FRA'"),
        (lambda d: d.update(effective_from="last year"), "effective_from: 'last year'"),
        (lambda d: d["bypass"].update(allowed="sometimes"), "bypass.allowed"),
        (lambda d: d["stages"][1].update(name=d["stages"][0]["name"]), "is used twice"),
        (
            lambda d: d["stages"][0].update(direct_entry="yes"),
            "stages[0].direct_entry: must be true or false",
        ),
    ],
)
def test_bad_values_are_refused_with_the_file_and_field(ladder_dir: Path, change, message):
    edit(ladder_dir / "rutland.yaml", change)
    with pytest.raises(CommandError, match=r"rutland\.yaml") as exc:
        call_command("load_policies", str(ladder_dir))
    assert message in str(exc.value)
    assert not Policy.objects.exists()


@pytest.mark.django_db
def test_a_file_that_is_not_yaml_is_refused_with_its_line(ladder_dir: Path):
    (ladder_dir / "broken.yaml").write_text("slug: x\nstages: [\n  - : :\n")
    with pytest.raises(CommandError, match=r"broken.yaml: line \d+: is not valid YAML"):
        call_command("load_policies", str(ladder_dir))
    assert not Policy.objects.exists()


@pytest.mark.django_db
def test_a_role_named_differently_in_two_files_is_refused(ladder_dir: Path):
    edit(ladder_dir / "rutland.yaml", lambda d: d["roles"].update({"team-manager": "Boss"}))
    with pytest.raises(CommandError, match=r"roles\.team-manager: 'Boss' differs"):
        call_command("load_policies", str(ladder_dir))


@pytest.mark.django_db
def test_two_files_with_one_slug_are_refused(ladder_dir: Path):
    shutil.copy(ladder_dir / "rutland.yaml", ladder_dir / "rutland-copy.yaml")
    with pytest.raises(CommandError, match="slug: 'rutland' is also used by"):
        call_command("load_policies", str(ladder_dir))


@pytest.mark.django_db
def test_a_path_that_does_not_exist_is_refused_plainly(tmp_path: Path):
    with pytest.raises(CommandError, match="no such file or folder"):
        call_command("load_policies", str(tmp_path / "missing.yaml"))


@pytest.mark.django_db
def test_a_changed_file_updates_only_what_changed(ladder_dir: Path, capsys):
    call_command("load_policies", str(ladder_dir))
    stage = Stage.objects.get(policy__slug="rutland", order=1)
    before = stage.history.count()
    edit(ladder_dir / "rutland.yaml", lambda d: d["stages"][0].update(response_days=7))
    capsys.readouterr()

    call_command("load_policies", str(ladder_dir))

    out = capsys.readouterr().out
    assert "updated: policy rutland stage 1 (response_days)" in out
    stage.refresh_from_db()
    assert stage.response_days == 7
    assert stage.history.count() == before + 1


@pytest.mark.django_db
def test_removing_a_stage_that_escalations_used_is_refused(
    ladder_dir: Path, ladders, staff_of, child_of
):
    from escalations import services

    services.escalation_raise(
        actor=staff_of("rutland", "cp-chair"),
        policy=ladders["rutland"],
        categories=first_category(ladders["rutland"]),
        children=[child_of("rutland")],
        summary="Visits not done.",
        stage=ladders["rutland"].stages.get(order=3),
        responder=staff_of("rutland", "head-of-service"),
    )
    edit(ladder_dir / "rutland.yaml", lambda d: d.update(stages=d["stages"][:2]))

    with pytest.raises(CommandError, match="escalations already use"):
        call_command("load_policies", str(ladder_dir))
    assert Stage.objects.filter(policy__slug="rutland").count() == 7


# --- the newer settings (issue 11): every one is a key, exported and loaded back --------

EXAMPLES = sorted((LADDER_DIR / "examples").glob("*.yaml"))


def load_text(text: str) -> None:
    load_ladders([check_ladder(yaml.safe_load(text), "export")])


def forget_policies() -> None:
    """Empty the policy tables, so a load starts from nothing (as on a new installation)."""
    ConcernCategory.objects.all().delete()
    Stage.objects.all().delete()
    Policy.objects.all().delete()


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*SHIPPED, *EXAMPLES], ids=lambda p: p.stem)
def test_export_then_load_then_export_is_identical(path: Path):
    call_command("load_policies", str(path))
    slug = read_ladder(path)["slug"]
    first = export_policy(Policy.objects.get(slug=slug))
    forget_policies()

    load_text(first)

    assert export_policy(Policy.objects.get(slug=slug)) == first


@pytest.fixture
def rutland_with_every_new_setting(db) -> Policy:
    call_command("load_policies", str(LADDER_DIR / "rutland.yaml"))
    policy = Policy.objects.get(slug="rutland")
    policy.calendar_day_off = CalendarDayOff.NEXT_WORKING_DAY
    policy.immediate_safety_role = Role.objects.get(slug="team-manager")
    policy.immediate_safety_route = "At once to the Team Manager."
    policy.immediate_safety_response_days = 0
    policy.save()
    informal = policy.stages.get(order=0)
    informal.chair_may_vary_timescale = True
    informal.issue_within_days = 2
    informal.save()
    stage = policy.stages.get(order=1)
    stage.chair_may_vary_timescale = True
    stage.issue_within_days = 3
    stage.addresses_several = True
    stage.completion = Completion.CHAIR
    stage.partner_responders = True
    stage.optional = True
    stage.condition = "where the Team Manager is absent or disagrees"
    stage.save()
    stage.raiser_roles.set([Role.objects.get(slug="service-manager")])
    return policy


@pytest.mark.django_db
def test_export_writes_every_new_setting(rutland_with_every_new_setting):
    data = yaml.safe_load(export_policy(rutland_with_every_new_setting))

    assert data["calendar_day_off"] == "next_working_day"
    assert data["immediate_safety"]["response_days"] == 0
    assert data["informal"]["chair_may_vary_timescale"] is True
    assert data["informal"]["issue_within_days"] == 2
    assert {
        key: data["stages"][0][key]
        for key in (
            "chair_may_vary_timescale",
            "issue_within_days",
            "raiser_roles",
            "addresses_several",
            "completion",
            "partner_responders",
            "optional",
            "condition",
        )
    } == {
        "chair_may_vary_timescale": True,
        "issue_within_days": 3,
        "raiser_roles": ["service-manager"],
        "addresses_several": True,
        "completion": "chair",
        "partner_responders": True,
        "optional": True,
        "condition": "where the Team Manager is absent or disagrees",
    }


@pytest.mark.django_db
def test_every_new_setting_loads_back_from_an_export(rutland_with_every_new_setting):
    text = export_policy(rutland_with_every_new_setting)
    forget_policies()

    load_text(text)

    policy = Policy.objects.get(slug="rutland")
    stage = policy.stages.get(order=1)
    assert (policy.calendar_day_off, policy.immediate_safety_response_days) == (
        CalendarDayOff.NEXT_WORKING_DAY,
        0,
    )
    assert policy.stages.get(order=0).issue_within_days == 2
    assert (stage.issue_within_days, stage.completion, stage.condition) == (
        3,
        Completion.CHAIR,
        "where the Team Manager is absent or disagrees",
    )
    assert stage.chair_may_vary_timescale and stage.addresses_several and stage.optional
    assert list(stage.raiser_roles.values_list("slug", flat=True)) == ["service-manager"]
    assert export_policy(policy) == text


@pytest.mark.django_db
def test_a_file_without_the_newer_keys_loads_with_their_defaults(ladder_dir: Path):
    newer = (
        "chair_may_vary_timescale",
        "issue_within_days",
        "raiser_roles",
        "addresses_several",
        "completion",
        "optional",
        "condition",
    )

    def strip(d):
        d.pop("calendar_day_off", None)
        if d.get("immediate_safety"):
            d["immediate_safety"].pop("response_days", None)
        for stage in [d["informal"], *d["stages"]]:
            for key in newer:
                stage.pop(key, None)

    edit(ladder_dir / "rutland.yaml", strip)

    call_command("load_policies", str(ladder_dir / "rutland.yaml"))

    policy = Policy.objects.get(slug="rutland")
    stage = policy.stages.get(order=1)
    assert policy.calendar_day_off == CalendarDayOff.KEEP
    assert policy.immediate_safety_response_days is None
    assert (stage.issue_within_days, stage.completion, stage.condition) == (None, "all", "")
    assert not (stage.chair_may_vary_timescale or stage.addresses_several or stage.optional)
    assert not stage.raiser_roles.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["stages"][0].update(external_responders=True),
            "stages[0].external_responders: was replaced by `partner_responders: true`",
        ),
        (
            lambda d: d["stages"][0].update(optinal=True),
            "stages[0].optinal: is not a key of this format",
        ),
        (lambda d: d.update(colour="blue"), "rutland.yaml: colour: is not a key of this format"),
        (
            lambda d: d.update(immediate_safety_response_days=0),
            "immediate_safety_response_days: write it under immediate_safety as `response_days`",
        ),
        (
            lambda d: d["informal"].update(optional=True),
            "informal.optional: is a setting of the formal stages only",
        ),
        (
            lambda d: d["stages"][0].update(completion="most"),
            "stages[0].completion: 'most' must be one of: all, any, chair",
        ),
        (
            lambda d: d["stages"][0].update(issue_within_days=-2),
            "stages[0].issue_within_days: must be a whole number of days",
        ),
        (
            lambda d: d["stages"][0].update(raiser_roles=["wizard"]),
            "stages[0].raiser_roles[0]: role 'wizard' is not listed under roles",
        ),
        (
            lambda d: d["stages"][0].update(raiser_roles="team-manager"),
            "stages[0].raiser_roles: must be a list of role slugs",
        ),
        (
            lambda d: d["stages"][0].update(addresses_several="yes"),
            "stages[0].addresses_several: must be true or false",
        ),
        (
            lambda d: d["stages"][0].update(optional=1),
            "stages[0].optional: must be true or false",
        ),
        (
            lambda d: d["stages"][0].update(chair_may_vary_timescale="no"),
            "stages[0].chair_may_vary_timescale: must be true or false",
        ),
        (
            lambda d: d["stages"][0].update(condition=["absent"]),
            "stages[0].condition: must be text",
        ),
        (
            lambda d: d.update(calendar_day_off="sometimes"),
            "calendar_day_off: 'sometimes' must be one of: keep, next_working_day",
        ),
        (
            lambda d: d.update(
                immediate_safety={
                    "role": "team-manager",
                    "route": "At once.",
                    "response_days": "now",
                }
            ),
            "immediate_safety.response_days: must be a whole number of days",
        ),
    ],
)
def test_bad_newer_settings_are_refused_with_the_file_and_field(ladder_dir: Path, change, message):
    edit(ladder_dir / "rutland.yaml", change)
    with pytest.raises(CommandError, match=r"rutland\.yaml") as exc:
        call_command("load_policies", str(ladder_dir))
    assert message in str(exc.value)
    assert not Policy.objects.exists()
