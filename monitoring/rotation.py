"""Log rotation: rows of the system log, the audit trail, the sent notifications and the failed-job
records past their retention are deleted, in batches, so the tables stay the size the pages were measured at.

Each batch is a short DELETE of at most ``batch`` rows by primary key, so inserts (new log records,
new entries) carry on between batches without waiting on a long lock. What was removed is itself
recorded (an audit entry) and announced to the admin pages (``log.rotation.completed``).
"""
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from audit import trail
from audit.models import Entry, LogRecord
from billing.models import Notification
from lib import live

from .models import TaskFailure

EVENT = "log.rotation.completed"
BATCH = 10_000


@dataclass
class Rotated:
    system_log: int = 0
    activity: int = 0
    notifications: int = 0
    failed_jobs: int = 0


def _tables() -> list[tuple[str, type, str, int]]:
    return [("system_log", LogRecord, "at", settings.SYSTEM_LOG_RETENTION_DAYS),
            ("activity", Entry, "at", settings.AUDIT_RETENTION_DAYS),
            ("notifications", Notification, "created_at", settings.NOTIFICATION_RETENTION_DAYS),
            ("failed_jobs", TaskFailure, "failed_at", settings.FAILED_JOB_RETENTION_DAYS)]


def delete_older(model, field: str, cutoff: datetime, batch: int = BATCH) -> int:
    """Delete ``model``'s rows with ``field`` before ``cutoff``, ``batch`` rows per statement."""
    deleted = 0
    while True:
        ids = list(model.objects.filter(**{f"{field}__lt": cutoff}).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        # A queryset delete (one DELETE … WHERE id IN …), never the append-only Entry.delete().
        deleted += model.objects.filter(pk__in=ids).delete()[0]


def rotate(now: datetime | None = None, batch: int = BATCH) -> Rotated:
    now = now or timezone.now()
    result = Rotated()
    for name, model, field, days in _tables():
        setattr(result, name, delete_older(model, field, now - timedelta(days=days), batch))
    removed = asdict(result)
    if any(removed.values()):
        trail.record("rotated", object_type="monitoring.logs", label="logs past retention",
                     changes={name: [count, 0] for name, count in removed.items() if count},
                     note=", ".join(f"{count} {name.replace('_', ' ')}" for name, count in removed.items() if count))
    live.publish(live.ADMIN, EVENT, removed)
    return result
