"""Shared fixtures: the shipped ladders loaded into the test database, and staff for them."""

import asyncio
import copy
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings

from policies.ladder_files import LADDER_DIR, load_ladders, read_ladders
from policies.models import Policy
from staff.models import StaffMember
from tests.children.factories import ChildFactory
from tests.staff.factories import StaffMemberFactory

# raise_concern, world_of and the other helpers every test app shares.
pytest_plugins = ["tests.fixtures"]

# Real password hashing costs ~0.2 s a user; tests create hundreds.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _playwright_loop_set_aside(request) -> Iterator[None]:
    """Playwright's sync API marks its event loop as running in this thread between calls
    (playwright/_impl/_greenlets.py, wait_for_future), for the rest of the session once a
    browser test has run. Django then refuses async_to_sync in the request thread, so the
    status page and the async health views would 500 in whichever tests followed. Tests
    without the browser run as in production, with no loop in the thread; the marker is put
    back afterwards because Playwright's coroutines read it when they resume."""
    loop = asyncio._get_running_loop()
    if loop is None or "browser" in request.fixturenames:
        yield
        return
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)


@pytest.fixture
def no_broker(settings):
    """The embedded default: the relay sends e-mail in-process, whatever REDIS_URL the run
    was started with (a test that wants a broker sets one itself)."""
    settings.REDIS_URL = ""


@pytest.fixture(scope="session")
def shipped_ladders() -> list[dict]:
    return read_ladders(LADDER_DIR.glob("*.yaml"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, shipped_ladders):
    """Load the shipped ladders once into the test database; tests roll back over them."""
    with django_db_blocker.unblock():
        load_ladders(copy.deepcopy(shipped_ladders))


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
