import os

from celery import Celery
from celery.signals import setup_logging

from operations.log_format import configure_celery_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("escalation_manager")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The worker and beat log in the web processes' JSON shape (settings.LOGGING).
setup_logging.connect(configure_celery_logging, weak=False)
