"""The health endpoint (for the load balancer and monitoring) and the administrators'
status page: the same checks, the second in words."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from health_check.base import HealthCheck, HealthCheckResult
from health_check.views import HealthCheckView

from operations.checks import health_checks, liveness_checks


class HealthView(HealthCheckView):
    """For monitoring and alerting. Open to anyone (no sign-in, no second factor): counts
    and times only."""

    def get_checks(self) -> list[HealthCheck]:
        return health_checks()


class LivenessView(HealthCheckView):
    """For the load balancer: the node and its database only."""

    def get_checks(self) -> list[HealthCheck]:
        return liveness_checks()


async def _run(checks: list[HealthCheck]) -> list[HealthCheckResult]:
    return list(await asyncio.gather(*(check.get_result() for check in checks)))


def status_page(request: HttpRequest) -> HttpResponse:
    """For administrators (wrapped in the admin site's own is_staff check in config/urls)."""
    results = async_to_sync(_run)(health_checks())
    rows = [
        {
            "title": result.check.title,
            "healthy": result.error is None,
            "detail": result.check.detail,
            "problem": result.error.message if result.error else "",
        }
        for result in results
    ]
    return render(
        request,
        "operations/status.html",
        {
            **admin.site.each_context(request),
            "title": "System status",
            "rows": rows,
            "healthy": all(row["healthy"] for row in rows),
            "sweep_alert_minutes": settings.SWEEP_ALERT_MINUTES,
        },
    )
