"""Operational records: failed background jobs, kept until an operator retries or dismisses them
(the health pages, /health/jobs/, the queue API and the jobs' commands read them), and the
users-online samples behind the dashboard's chart."""
from django.conf import settings
from django.db import models
from django.utils import timezone


class TaskFailure(models.Model):
    class State(models.TextChoices):
        FAILED = "failed", "Failed"
        RETRIED = "retried", "Retried"
        DISMISSED = "dismissed", "Dismissed"

    task_name = models.CharField(max_length=200, db_index=True)
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    queue = models.CharField(max_length=64, blank=True)
    # The arguments as JSON, to send the task again; when they are not JSON (a model instance, a
    # date), their repr is kept for the reader and the failure cannot be retried.
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    arguments_repr = models.TextField(blank=True)
    exception_type = models.CharField(max_length=200, blank=True)
    exception = models.TextField()
    traceback = models.TextField(blank=True)
    attempt = models.PositiveIntegerField(default=1, help_text="1 for the first run; each retry of it adds one")
    failed_at = models.DateTimeField(default=timezone.now, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.FAILED, db_index=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    handled_by_name = models.CharField(max_length=150, blank=True, help_text="who retried or dismissed it")
    new_task_id = models.CharField(max_length=64, blank=True, db_index=True, help_text="the retry's task id")

    class Meta:
        ordering = ["-failed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.task_name} failed at {self.failed_at:%Y-%m-%d %H:%M}"

    @property
    def retryable(self) -> bool:
        return self.state == self.State.FAILED and not self.arguments_repr

    @property
    def arguments(self) -> str:
        """The call as a reader sees it: ``(1, 'a'), {'k': 2}``."""
        if self.arguments_repr:
            return self.arguments_repr
        parts = [", ".join(repr(a) for a in self.args)] if self.args else []
        parts += [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return ", ".join(parts)


class UsersOnlineSample(models.Model):
    """How many customers were online at one moment (monitoring.sampling, every few minutes): the
    dashboard's 24-hour chart. Kept USERS_ONLINE_RETENTION_DAYS."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    users = models.PositiveIntegerField()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.users} online at {self.at:%Y-%m-%d %H:%M}"


class DatabaseBackup(models.Model):
    """One dump of the whole database (monitoring.backups): nightly from beat or asked for by an
    Admin. The archive and its manifest (JSON, beside it) live under settings.BACKUP_DIR; the row
    says how far the job got, whether the archive verified and whether it was copied off-site."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        NIGHTLY = "nightly", "Nightly"
        MANUAL = "manual", "Manual"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NIGHTLY)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    file_name = models.CharField(max_length=255, blank=True, help_text="relative to settings.BACKUP_DIR")
    engine = models.CharField(max_length=20, blank=True, help_text='"postgresql" or "sqlite"')
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0..100")
    detail = models.TextField(blank=True, help_text="what failed, or the verification summary")
    manifest = models.JSONField(default=dict, blank=True,
                                help_text="when, size, checksum, migrations, row counts")
    offsite_state = models.CharField(max_length=10, blank=True,
                                     help_text='"" not configured, "copied" or "failed"')
    offsite_key = models.CharField(max_length=500, blank=True)
    offsite_detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} backup of {self.created_at:%Y-%m-%d %H:%M} ({self.state})"
