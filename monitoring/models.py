"""Operational records: failed background jobs (for queue_stats and the health pages)."""
from django.db import models
from django.utils import timezone


class TaskFailure(models.Model):
    task_name = models.CharField(max_length=200, db_index=True)
    task_id = models.CharField(max_length=64, blank=True)
    queue = models.CharField(max_length=64, blank=True)
    exception = models.TextField()
    traceback = models.TextField(blank=True)
    failed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-failed_at"]

    def __str__(self) -> str:
        return f"{self.task_name} failed at {self.failed_at:%Y-%m-%d %H:%M}"
