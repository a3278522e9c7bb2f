"""A real OpenID Connect provider for the single sign-on tests, in its own process.

Fixtures for tests/sso (through its conftest) and tests/browser/test_single_sign_on.py,
which imports them (the browser tests must share tests/browser's one Chromium).

tests/sso/provider/ is a tiny Django project running django-oidc-provider: started once a
session with `runserver` on a free port of 127.0.0.1, with its own SQLite database, the
app registered as its client and a few people (see PEOPLE). Nothing in the app is mocked:
its sign-in goes through the provider's login page, token, JWKS and userinfo endpoints.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from staff.models import IdentityProvider, StaffMember

PROVIDER_DIR = Path(__file__).parent / "provider"
CLIENT_ID = "escalation-manager"
CLIENT_SECRET = "test-client-secret-not-a-real-one"
SECRET_ENV = "SSO_CLIENT_SECRET_TEST_COUNCIL"
PROVIDER_PASSWORD = "provider-password-1"
DOMAIN = "rutland.example"
# username -> e-mail and whether the provider says they did MFA. "lee" has no staff record.
PEOPLE = {"pat": ("pat@rutland.example", True), "kim": ("kim@rutland.example", False)}
PEOPLE["lee"] = ("lee@rutland.example", False)
TEST_SERVER_CALLBACK = "http://testserver/accounts/sso/callback/"
START_SECONDS = 60


@dataclass
class TestProvider:
    url: str
    people: dict[str, dict[str, str]]
    run: Callable[..., str]

    def allow_redirect(self, uri: str) -> None:
        self.run(*_seed_args([uri]))


def _seed_args(redirect_uris: list[str]) -> list[str]:
    args = ["seed_provider", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
    args += ["--password", PROVIDER_PASSWORD]
    for uri in redirect_uris:
        args += ["--redirect-uri", uri]
    for username, (email, mfa) in PEOPLE.items():
        args += ["--person", f"{username}:{email}" + (":mfa" if mfa else "")]
    return args


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory) -> Iterator[TestProvider]:
    workdir = tmp_path_factory.mktemp("oidc-provider")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "provider_site.settings",
        "TEST_PROVIDER_DB": str(workdir / "provider.sqlite3"),
    }

    def run(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, "manage.py", *args],
            cwd=PROVIDER_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode:
            pytest.fail(f"test provider: manage.py {args[0]} failed:\n{done.stderr}")
        return done.stdout

    run("migrate", "--verbosity", "0")
    people = json.loads(run(*_seed_args([TEST_SERVER_CALLBACK])).strip().splitlines()[-1])
    port = _free_port()
    log_path = workdir / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=PROVIDER_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/openid"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"the test provider stopped:\n{log_path.read_text()}")
            try:
                if requests.get(f"{url}/.well-known/openid-configuration", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the test provider did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield TestProvider(url=url, people=people, run=run)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture
def identity_provider(ladders, oidc_provider, monkeypatch) -> IdentityProvider:
    """Rutland's provider: the test provider, its secret in the environment as in production."""
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    authority = next(p.authority for p in ladders.values() if p.authority.slug == "rutland")
    return IdentityProvider.objects.create(
        authority=authority,
        display_name="Rutland test council",
        discovery_url=oidc_provider.url,
        client_id=CLIENT_ID,
        client_secret_env=SECRET_ENV,
        email_domains=DOMAIN,
    )


@pytest.fixture
def staff_for(staff_of) -> Callable[..., StaffMember]:
    """staff_for("pat") -> a Rutland social worker with that provider person's e-mail."""

    def make(username: str, **kwargs: Any) -> StaffMember:
        return staff_of("rutland", "social-worker", user__email=PEOPLE[username][0], **kwargs)

    return make


def _follow_provider(session: requests.Session, location: str, username: str, password: str):
    """Through the provider's pages, as a browser would, until it sends the person back."""
    for _ in range(10):
        if location.startswith("http://testserver/"):
            return location.removeprefix("http://testserver")
        response = session.get(location, allow_redirects=False, timeout=10)
        if response.status_code == 200 and 'name="password"' in response.text:
            response = session.post(
                response.url,
                data={
                    "username": username,
                    "password": password,
                    "csrfmiddlewaretoken": session.cookies["csrftoken"],
                },
                allow_redirects=False,
                timeout=10,
            )
        assert response.status_code == 302, f"{response.status_code} from {response.url}"
        location = urljoin(response.url, response.headers["Location"])
    raise AssertionError("the provider never sent the person back")


@pytest.fixture
def sign_in_with_provider() -> Callable[..., HttpResponse]:
    """sign_in_with_provider(client, idp, "pat") -> the app's response to the provider's return."""

    def sign_in(
        client: Client,
        idp: IdentityProvider,
        username: str,
        password: str = PROVIDER_PASSWORD,
    ) -> HttpResponse:
        start = client.get(reverse("sso_start", args=[idp.pk]))
        assert start.status_code == 302, start.content.decode()
        back = _follow_provider(requests.Session(), start["Location"], username, password)
        return client.get(back)

    return sign_in
