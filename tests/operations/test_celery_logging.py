"""The Celery worker and beat log in the web processes' JSON shape."""

from __future__ import annotations

import io
import json
import logging

from celery import Celery

from config.celery import app
from operations.log_format import JsonFormatter, RequestContextFilter


def test_the_worker_and_beat_hand_their_logging_to_djangos_json_config():
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = []
    try:
        # What `celery worker` and `celery beat` call at start-up.
        app.log.already_setup = False
        app.log.setup_logging_subsystem(loglevel="INFO")

        [handler] = root.handlers
        assert isinstance(handler.formatter, JsonFormatter)
        assert any(isinstance(f, RequestContextFilter) for f in handler.filters)
    finally:
        root.handlers = saved


def test_a_task_logs_one_json_line_with_the_tasks_id_and_name():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("tests.celery_task")
    logger.addHandler(handler)
    worker_app = Celery("logging-test", set_as_current=False)
    worker_app.conf.task_always_eager = True

    @worker_app.task(name="tests.say_hello")
    def say_hello() -> None:
        logger.warning("hello from a task")

    try:
        result = say_hello.apply()
    finally:
        logger.removeHandler(handler)

    [line] = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["message"] == "hello from a task"
    assert line["task_id"] == result.id == line["request_id"]
    assert line["task_name"] == "tests.say_hello"
