"""Shared fixtures: the shipped ladders loaded into the test database, and staff for them."""

import copy
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections

from config.compiled import CompiledQuery
from policies.ladder_files import LADDER_DIR, load_ladders, read_ladders
from policies.models import Policy
from staff.models import StaffMember
from tests import playwright_loop
from tests.children.factories import ChildFactory
from tests.staff.factories import StaffMemberFactory

# raise_concern, world_of and the other helpers every test app shares.
pytest_plugins = ["tests.fixtures"]

# Real password hashing costs ~0.2 s a user; tests create hundreds.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Every query compiled once (config/compiled.py) is checked against the ORM's own SQL for
# the values of each call, in every test that runs one.
CompiledQuery.verify_every_call = True


# Tables no session fixture fills: between tests they hold no committed row.
_NEVER_COMMITTED = (
    "auth_user",
    "staff_staffmember",
    "staff_identityprovider",
    "escalations_escalation",
    "operations_sweeprun",
)
_recent: deque[str] = deque(maxlen=6)
_committed_probe: list[Any] = []  # a connection of its own, opened on first use


def _committed_rows() -> dict[str, int]:
    """Rows committed in the test database, seen from outside any test's transaction."""
    name = connection.settings_dict["NAME"] or ""
    if connection.vendor != "postgresql" or not name.startswith("test_"):
        return {}  # SQLite's in-memory test database cannot be seen from a second connection
    if not _committed_probe:
        probe = psycopg.connect(**connection.get_connection_params(), autocommit=True)
        probe.execute("SET lock_timeout = '10s'")  # never wait long on a test's locks
        _committed_probe.append(probe)
    counts = {
        table: _committed_probe[0].execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        for table in _NEVER_COMMITTED
    }
    return {table: n for table, n in counts.items() if n}


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """A test starts on an empty database: rows an earlier test committed (it wrote outside
    its transaction, or something wrote after its flush) would make this one pass or fail
    by the order the tests ran in. Named here, with what ran before on this worker."""
    if "browser" in getattr(item, "fixturenames", ()):
        playwright_loop.put_back()
    leaked = _committed_rows()
    ran_before = "\n  ".join(_recent) or "(nothing)"
    _recent.append(item.nodeid)
    if leaked:
        # Cleared so one leak fails one test, not every test after it on this worker.
        with suppress(psycopg.Error):  # a lock held past lock_timeout: leave the rows
            _committed_probe[0].execute("TRUNCATE " + ", ".join(_NEVER_COMMITTED) + " CASCADE")
        pytest.fail(
            f"committed rows left by an earlier test: {leaked}. Ran before, on this "
            f"worker:\n  {ran_before}",
            pytrace=False,
        )
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    playwright_loop.set_aside()


@pytest.fixture
def no_broker(settings):
    """The embedded default: the relay sends e-mail in-process, whatever REDIS_URL the run
    was started with (a test that wants a broker sets one itself)."""
    settings.REDIS_URL = ""


@pytest.fixture(scope="session")
def shipped_ladders() -> list[dict]:
    return read_ladders(LADDER_DIR.glob("*.yaml"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, shipped_ladders) -> Iterator[None]:
    """Load the shipped ladders once into the test database; tests roll back over them."""
    with django_db_blocker.unblock():
        load_ladders(copy.deepcopy(shipped_ladders))
    yield
    # Before the test database is dropped, which an open connection would block: the
    # probe's, and the main thread's (the browser tests' own: tests/playwright_loop.py).
    while _committed_probe:
        _committed_probe.pop().close()
    connections.close_all()


@pytest.fixture
def ladders(db, shipped_ladders) -> dict[str, Policy]:
    # Transactional tests flush the database afterwards: load again when that happened.
    if not Policy.objects.exists():
        load_ladders(copy.deepcopy(shipped_ladders))
    return {p.slug: p for p in Policy.objects.select_related("authority")}


@pytest.fixture
def staff_of(ladders) -> Callable[..., StaffMember]:
    """staff_of("rutland", "team-manager") -> a new staff member of that authority and role."""

    def make(authority_slug: str, role: str, **kwargs) -> StaffMember:
        authority = next(
            p.authority for p in ladders.values() if p.authority.slug == authority_slug
        )
        return StaffMemberFactory(authority=authority, role=role, **kwargs)

    return make


@pytest.fixture
def child_of(ladders) -> Callable[..., object]:
    def make(authority_slug: str, **kwargs):
        authority = next(
            p.authority for p in ladders.values() if p.authority.slug == authority_slug
        )
        return ChildFactory(authority=authority, **kwargs)

    return make
