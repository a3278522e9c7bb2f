"""The production deployment, over HTTP: what a council's proxy and browsers would get.

These run only against the real server that scripts/ci-production.sh starts (production
settings, PostgreSQL, collected static files, gunicorn, the demo data), which passes its
address in PRODUCTION_SERVER_URL; elsewhere they are skipped. Every request carries
X-Forwarded-Proto: https, as the council's TLS-terminating proxy sends it, except the one
that checks plain http is sent to https.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import re
import struct
import time
from base64 import b32decode
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urlencode, urlsplit

import pytest

from demo.management.commands.seed_demo import DEMO_PASSWORD

SERVER_URL = os.environ.get("PRODUCTION_SERVER_URL", "")
pytestmark = pytest.mark.skipif(
    not SERVER_URL, reason="runs only against the server scripts/ci-production.sh starts"
)

ONE_YEAR = 31536000


def totp(key_b32: str, *, at: float, step: int = 30, digits: int = 6) -> str:
    """RFC 6238, as an authenticator app computes it from the key the set-up page shows."""
    key = b32decode(key_b32 + "=" * (-len(key_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def header(self, name: str) -> str:
        return self.headers.get(name, "")

    def cookies(self) -> dict[str, str]:
        """Set-Cookie lines by cookie name, attributes included."""
        lines = self.headers.get_all("Set-Cookie") or []
        return {line.split("=", 1)[0]: line for line in lines}

    def form_value(self, name: str) -> str:
        match = re.search(rf'name="{name}" value="([^"]*)"', self.body)
        assert match, f"no {name} field in the page"
        return unescape(match.group(1))


@dataclass
class Browser:
    """A browser behind the council's proxy: keeps cookies (they are Secure, so a stock
    cookie jar would not send them over this local http), follows nothing by itself."""

    proxied: bool = True
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Response:
        address = urlsplit(SERVER_URL)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        headers = {"Host": address.netloc}
        if self.proxied:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # The CSRF check over https compares the origin with the site's own.
            headers["Origin"] = f"https://{address.netloc}"
            headers["Referer"] = f"https://{address.netloc}{path}"
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            response = Response(raw.status, raw.headers, raw.read().decode("utf-8", "replace"))
        finally:
            connection.close()
        for line in response.headers.get_all("Set-Cookie") or []:
            name, value = line.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Response:
        return self.request("POST", path, form)

    def sign_in_with_password(self, username: str, next_path: str = "/escalations/") -> Response:
        page = self.get(f"/accounts/login/?next={next_path}")
        return self.post(
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": page.form_value("csrfmiddlewaretoken"),
                "username": username,
                "password": DEMO_PASSWORD,
                "next": next_path,
            },
        )

    def enter_code(self, page_path: str, page: Response, code: str) -> Response:
        return self.post(
            page_path,
            {
                "csrfmiddlewaretoken": page.form_value("csrfmiddlewaretoken"),
                "code": code,
                "next": page.form_value("next"),
            },
        )

    def set_up_authenticator(self) -> str:
        """After the password: scan the key off the set-up page, confirm it; returns the key."""
        setup_path = "/accounts/second-factor/setup/?next=/escalations/"
        page = self.get(setup_path)
        assert page.status == 200, page.status
        match = re.search(r'<code class="app-key">([A-Z2-7 ]+)</code>', page.body)
        assert match, "no key on the set-up page"
        key = match.group(1).replace(" ", "")
        done = self.enter_code(setup_path, page, totp(key, at=time.time()))
        assert done.status == 302, "the code computed from the page's key was refused"
        assert done.header("Location") == "/escalations/"
        return key


def open_a_case(browser: Browser) -> Response:
    mine = browser.get("/escalations/")
    assert mine.status == 200, mine.status
    links = re.findall(r'href="(/escalations/\d+/)"', mine.body)
    assert links, "the demo chair has no escalations listed"
    return browser.get(links[0])


def test_plain_http_is_sent_to_https() -> None:
    response = Browser(proxied=False).get("/accounts/login/")

    assert response.status == 301
    assert response.header("Location").startswith("https://")


def test_load_balancer_probe_gets_the_health_endpoint_over_plain_http() -> None:
    assert Browser(proxied=False).get("/health/live/").status == 200
    assert Browser(proxied=False).get("/health/").status == 200


def test_sign_in_page_is_served_with_the_security_headers() -> None:
    response = Browser().get("/accounts/login/")

    assert response.status == 200
    assert response.header("Strict-Transport-Security") == (
        f"max-age={ONE_YEAR}; includeSubDomains; preload"
    )
    policy = response.header("Content-Security-Policy")
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "no-store" in response.header("Cache-Control")
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert response.header("X-Frame-Options") == "DENY"
    assert response.header("Referrer-Policy") == "same-origin"


def test_csrf_cookie_is_secure() -> None:
    cookie = Browser().get("/accounts/login/").cookies()["csrftoken"]

    assert "; Secure" in cookie
    assert "HttpOnly" in cookie


def test_static_files_are_served_under_their_hashed_names() -> None:
    browser = Browser()
    page = browser.get("/accounts/login/").body
    stylesheet = re.search(r'href="(/static/govuk/govuk-frontend\.min\.[0-9a-f]{12}\.css)"', page)
    favicon = re.search(r'href="(/static/govuk/images/favicon\.[0-9a-f]{12}\.svg)"', page)
    assert stylesheet, "the page does not link the stylesheet by its hashed (manifest) name"
    assert favicon, "the page does not link the favicon by its hashed (manifest) name"

    css = browser.get(stylesheet.group(1))
    icon = browser.get(favicon.group(1))

    assert css.status == 200
    assert css.header("Content-Type").startswith("text/css")
    assert "govuk-template" in css.body
    assert "immutable" in css.header("Cache-Control")
    assert icon.status == 200


def test_password_alone_opens_no_case_page() -> None:
    browser = Browser()
    signed_in = browser.sign_in_with_password("stoke-on-trent.cp-chair")
    assert signed_in.status == 302

    response = browser.get("/escalations/")

    assert response.status == 302
    assert response.header("Location").startswith("/accounts/second-factor/")


def test_session_cookie_is_secure_http_only_and_same_site() -> None:
    signed_in = Browser().sign_in_with_password("mosaic-authority.cp-chair")

    cookie = signed_in.cookies()["sessionid"]
    assert "; Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_first_sign_in_sets_up_the_authenticator_and_then_opens_a_case_page() -> None:
    browser = Browser()
    signed_in = browser.sign_in_with_password("rutland.cp-chair")
    assert signed_in.status == 302
    assert browser.get(signed_in.header("Location")).status == 302  # on to the set-up page

    browser.set_up_authenticator()
    case = open_a_case(browser)

    assert case.status == 200
    assert "Escalation " in case.body
    assert "no-store" in case.header("Cache-Control")
    assert case.header("Strict-Transport-Security")


def test_later_sign_in_asks_for_the_current_code() -> None:
    first = Browser()
    first.sign_in_with_password("gloucestershire.cp-chair")
    key = first.set_up_authenticator()

    browser = Browser()
    signed_in = browser.sign_in_with_password("gloucestershire.cp-chair")
    asked = browser.get(signed_in.header("Location"))
    code_path = asked.header("Location")
    assert code_path.startswith("/accounts/second-factor/?")
    page = browser.get(code_path)
    # A code counts once, and set-up used the current one: the app shows the next within 30 s.
    done = browser.enter_code(code_path, page, totp(key, at=time.time() + 30))

    assert page.status == 200
    assert done.status == 302
    assert open_a_case(browser).status == 200
