"""Production refuses to start without a broker: the relay hands e-mail to the workers."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "DJANGO_ENV": "production",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-production-test-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "DJANGO_ALLOWED_HOSTS": "escalations.council.example",
    "SITE_BASE_URL": "https://escalations.council.example",
    "DATABASE_URL": "postgres://escalations@127.0.0.1:5432/escalations",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def start(**overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", *PRODUCTION)}
    env.update(PRODUCTION, **overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_redis_url_refuses_to_start_naming_the_variable():
    result = start()

    assert result.returncode != 0
    assert "ImproperlyConfigured: REDIS_URL must point at the Redis broker" in result.stderr


def test_production_with_an_empty_redis_url_refuses_to_start():
    result = start(REDIS_URL="")

    assert result.returncode != 0
    assert "REDIS_URL must point at the Redis broker" in result.stderr


def test_production_with_redis_url_starts():
    result = start(REDIS_URL="redis://redis:6379/0")

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "started"
