"""RADIUS jobs (thin wrappers; each also a management command)."""
from celery import shared_task

from . import sessions


@shared_task(name="radius.tasks.close_sessions")
def close_sessions() -> dict:
    return sessions.close_sessions()
