"""Fixtures shared by the notification tests."""

import pytest


@pytest.fixture(autouse=True)
def no_broker(settings):
    """The embedded default: the relay sends e-mail in-process, whatever REDIS_URL the run
    was started with (a test that wants a broker sets one itself)."""
    settings.REDIS_URL = ""
