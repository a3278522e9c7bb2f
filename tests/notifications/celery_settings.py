"""Settings for the Celery worker and beat that test_celery_integration.py starts.

config/settings.py as it is, plus the two things the test needs:

* a queue of its own, so the worker never takes another run's messages (or another run's
  worker this run's) on a shared Redis: beat and the sweep publish to it, the worker
  consumes it (-Q);
* a beat interval of a few seconds: SWEEP_INTERVAL_SECONDS refuses less than 30. Only the
  interval of the shipped schedule entry changes (its task and options are the real ones).
"""

import os

from config.settings import *  # noqa: F403
from config.settings import CELERY_BEAT_SCHEDULE as _SHIPPED_SCHEDULE

CELERY_TASK_DEFAULT_QUEUE = os.environ["TEST_CELERY_QUEUE"]
CELERY_BEAT_SCHEDULE = {
    name: {**entry, "schedule": float(os.environ["TEST_SWEEP_INTERVAL_SECONDS"])}
    for name, entry in _SHIPPED_SCHEDULE.items()
}
