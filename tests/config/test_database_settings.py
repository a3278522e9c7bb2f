"""The database connection's own settings (config/settings.py)."""

from __future__ import annotations

import pytest
from django.db import connection


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="JIT compilation is PostgreSQL's; SQLite has none"
)
@pytest.mark.django_db
def test_postgresqls_jit_compiler_is_off_for_the_apps_connections():
    # It compiled queries the planner costs highly but that run in milliseconds.
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="parallel query is PostgreSQL's; SQLite has none"
)
@pytest.mark.django_db
def test_postgresql_starts_no_parallel_workers_for_the_apps_queries():
    # Starting them cost more than the indexed lookups they were planned for.
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
