"""The image and docker-compose start every process through scripts/entrypoint.sh, the
script CI runs (scripts/ci-production.sh), so nothing CI proves can drift from them."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "scripts" / "entrypoint.sh"


def sub_commands() -> set[str]:
    # The case labels of the script's top-level `case "$command" in`.
    return set(re.findall(r"^  ([a-z]+)\)$", ENTRYPOINT.read_text(), flags=re.MULTILINE))


def app_services() -> dict[str, dict]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return {name: s for name, s in services.items() if s.get("build") == "."}


def test_every_app_service_runs_a_sub_command_of_the_entrypoint() -> None:
    services = app_services()

    assert {"migrate", "web", "relay", "worker", "beat"} <= set(services)
    for name, service in services.items():
        command = service["command"]
        assert isinstance(command, list), f"{name}: a shell string bypasses the entrypoint"
        assert command[0] in sub_commands(), f"{name}: {command}"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_service_has_a_healthcheck_through_the_entrypoint(name: str) -> None:
    check = app_services()[name]["healthcheck"]["test"]

    assert check == ["CMD", "/app/scripts/entrypoint.sh", "health", name]


def test_the_image_collects_static_files_and_starts_through_the_entrypoint() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "scripts/entrypoint.sh collectstatic" in dockerfile
    assert 'ENTRYPOINT ["/app/scripts/entrypoint.sh"]' in dockerfile
    assert "manage.py" not in dockerfile


def test_an_unknown_sub_command_is_refused_with_the_list() -> None:
    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(ENTRYPOINT), "serve"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 64
    assert "worker" in result.stderr
