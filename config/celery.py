"""The Celery app: configuration comes from Django settings (CELERY_*), tasks from each app's tasks.py."""
import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("hotspot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _in_the_business_time_zone(**kwargs):
    """Every task's dates and day boundaries follow the saved time zone, as a request's do."""
    from siteconfig import time_zone

    time_zone.activate()
