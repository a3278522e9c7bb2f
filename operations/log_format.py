"""JSON log lines, one object a line, with the request (or Celery task) they belong to.

Used by the web processes (settings.LOGGING), and by the Celery worker and beat
(config/celery.py hands their logging to the same settings), so every process logs the
same shape. Only ids go in: a user's id, never their name or e-mail.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar, Token
from typing import Any

from django.utils.functional import empty
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

_request_id: ContextVar[str] = ContextVar("request_id", default="")
_request: ContextVar[Any] = ContextVar("request", default=None)

# Django attaches the request itself to its own log records (django.request,
# django.server); printed, it carries the query string, which can hold a searched name.
DROPPED = (*RESERVED_ATTRS, "request")


def bind_request(request: Any, request_id: str) -> tuple[Token[Any], Token[str]]:
    return _request.set(request), _request_id.set(request_id)


def unbind_request(tokens: tuple[Token[Any], Token[str]]) -> None:
    _request.reset(tokens[0])
    _request_id.reset(tokens[1])


def user_id_of(request: Any, *, resolve: bool = False) -> int | None:
    """The signed-in user's id; None when signed out or, unless `resolve`, while the user
    has not been looked up yet (a log line must not cost a session query)."""
    user = request.__dict__.get("user") if request is not None else None
    if user is None:
        # Before the authentication middleware, or static files served ahead of it.
        return None
    if not resolve and getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


def _current_task() -> Any:
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - celery is a dependency
        return None
    return current_task if current_task and current_task.request.id else None


class RequestContextFilter(logging.Filter):
    """Puts request_id and user_id (or, in a Celery task, the task's id and name) on every
    record, so each line can be traced to the request or task that wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx/5xx response (django.request) after the middleware has
        # finished, with the request attached: take the ids from it.
        request = getattr(record, "request", None)
        if not hasattr(request, "request_id"):
            request = _request.get()
        if not getattr(record, "request_id", ""):
            record.request_id = getattr(request, "request_id", "") or _request_id.get()
        if getattr(record, "user_id", None) is None:
            record.user_id = user_id_of(request)
        task = _current_task()
        if task is not None:
            record.task_id = task.request.id
            record.task_name = task.name
            if not getattr(record, "request_id", ""):  # set above; LogRecord does not declare it
                record.request_id = task.request.id
        return True


class JsonFormatter(_JsonFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["levelname", "name", "message"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("reserved_attrs", DROPPED)
        super().__init__(*args, **kwargs)


def configure_celery_logging(**kwargs: Any) -> None:
    """Celery's setup_logging signal: with a receiver connected, Celery leaves logging
    alone (no root-logger takeover, no task formatter of its own) and we apply Django's
    LOGGING, the web processes' JSON shape."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
