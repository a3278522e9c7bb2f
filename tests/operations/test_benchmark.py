"""manage.py benchmark on a tiny generated set: it runs, prints the table, leaves no trace.
No timing assertions: the figures depend on the machine."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import NoReverseMatch, reverse

from children.models import AccessLog
from notifications.models import Notification

PAGES = (
    "My escalations",
    "Quarterly report",
    "QA dashboard",
    "Child's file",
    "Tracker",
    "Awaiting my response",
    "Escalation page",
    "Notifications",
    "To do",
)


@pytest.fixture
def generated(ladders) -> None:
    call_command(
        "generate_load_data", "--children", "30", "--steps", "100", "--seed", "7", stdout=StringIO()
    )


def run(*args: str) -> str:
    out = StringIO()
    call_command(
        "benchmark", "--requests", "2", "--warmup", "0", "--repeat", "1", *args, stdout=out
    )
    return out.getvalue()


def test_the_benchmark_prints_a_row_for_every_page_of_the_table(generated):
    out = run()
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| page | signed in as | queries |")
    for page in PAGES:
        assert any(line.startswith(f"| {page} |") for line in table), page
    # Each page row carries its ratio to the bare view.
    assert all("×** |" in line for line in table if line.startswith(PAGES))


def test_the_benchmark_measures_the_sweep_and_says_what_the_machine_was(generated):
    out = run()
    assert "| Sweep, first run (" in out
    assert "| Sweep, re-run (nothing new) |" in out
    assert "cores, load average" in out
    assert "CSV peak Python memory" in out


def test_the_benchmark_leaves_nothing_behind(generated):
    run()
    assert not Notification.objects.exists()
    assert not AccessLog.objects.exists()


def test_the_bare_view_is_not_in_the_products_urls(generated):
    run()
    with pytest.raises(NoReverseMatch):
        reverse("benchmark_bare")


def test_the_benchmark_refuses_an_unknown_authority(generated):
    with pytest.raises(CommandError, match="No authority"):
        run("--authority", "atlantis")


def test_the_benchmark_refuses_an_empty_database(ladders):
    with pytest.raises(CommandError, match="No escalations"):
        run()
