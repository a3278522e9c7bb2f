"""load_policies / export_policy: idempotent, faithful, and safe on bad files."""

import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from policies.ladder_files import LADDER_DIR, check_ladder, export_policy, read_ladder
from policies.models import ConcernCategory, LocalAuthority, Policy, Role, Stage

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
        for key in ("copy_case_line_roles", "copy_raiser_line_roles", "copy_posts"):
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
        children=[child_of("rutland")],
        summary="Visits not done.",
        stage=ladders["rutland"].stages.get(order=3),
        responder=staff_of("rutland", "head-of-service"),
    )
    edit(ladder_dir / "rutland.yaml", lambda d: d.update(stages=d["stages"][:2]))

    with pytest.raises(CommandError, match="escalations already use"):
        call_command("load_policies", str(ladder_dir))
    assert Stage.objects.filter(policy__slug="rutland").count() == 7
