"""Operational records: failed background jobs (for queue_stats and the health pages) and the
users-online samples behind the dashboard's chart."""
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


class UsersOnlineSample(models.Model):
    """How many customers were online at one moment (monitoring.sampling, every few minutes): the
    dashboard's 24-hour chart. Kept USERS_ONLINE_RETENTION_DAYS."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    users = models.PositiveIntegerField()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.users} online at {self.at:%Y-%m-%d %H:%M}"
