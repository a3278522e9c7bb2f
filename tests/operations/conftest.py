import pytest


@pytest.fixture(autouse=True)
def no_broker(settings):
    """No Redis unless a test sets REDIS_URL itself (whatever the run was started with)."""
    settings.REDIS_URL = ""
