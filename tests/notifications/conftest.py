"""Fixtures shared by the notification tests."""

import pytest


@pytest.fixture(autouse=True)
def _embedded_relay(no_broker):
    """Every notification test relays in-process (tests/conftest.py: no_broker)."""
