"""One JSON line per request with its id and the user's id, never a name or an e-mail."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the configured console handler (settings.LOGGING) writes."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def request_lines(stream: io.StringIO) -> list[dict]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line["logger"] == "operations.requests"]


def test_each_request_is_one_json_line_with_its_id_and_the_users_id(log_lines, staff_of):
    staff = staff_of("rutland", "cp-chair")
    client = Client()
    client.force_login(staff.user)

    response = client.get("/children/", {"q": staff.user.last_name})

    [line] = request_lines(log_lines)
    assert line["request_id"] == response["X-Request-ID"]
    assert line["user_id"] == staff.user.pk
    assert (line["method"], line["route"], line["status"]) == ("GET", "children/", 200)
    assert line["level"] == "INFO" and "timestamp" in line


def test_no_name_email_or_search_words_in_any_line(log_lines, staff_of):
    staff = staff_of("rutland", "cp-chair")
    user = staff.user
    client = Client()
    client.force_login(user)

    client.get("/children/", {"q": "Quillfeather"})
    client.get("/no-such-page/?q=Quillfeather")  # a 404, logged by Django too

    text = log_lines.getvalue()
    assert text, "nothing was logged"
    for secret in ("Quillfeather", user.first_name, user.last_name, user.email, user.username):
        assert secret not in text


def test_a_signed_out_request_has_no_user_id(log_lines):
    Client().get("/accounts/login/")

    [line] = request_lines(log_lines)
    assert line["user_id"] is None


def test_djangos_own_error_line_carries_the_request_id(log_lines):
    response = Client().get("/no-such-page/")

    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    [warning] = [line for line in lines if line["logger"] == "django.request"]
    assert warning["request_id"] == response["X-Request-ID"]


def test_a_proxys_request_id_is_kept_and_a_strange_one_replaced(log_lines):
    kept = Client().get("/accounts/login/", headers={"X-Request-ID": "lb-1234abcd"})
    replaced = Client().get("/accounts/login/", headers={"X-Request-ID": "<script>"})

    assert kept["X-Request-ID"] == "lb-1234abcd"
    assert replaced["X-Request-ID"] != "<script>"
    assert [line["request_id"] for line in request_lines(log_lines)] == [
        "lb-1234abcd",
        replaced["X-Request-ID"],
    ]
