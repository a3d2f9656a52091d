"""One audit entry per state change: append-only; retention removes entries by age, nothing else."""
from django.db import models
from django.utils import timezone


class AppendOnly(Exception):
    """An audit entry was about to be changed or deleted one by one."""


class Entry(models.Model):
    class ActorKind(models.TextChoices):
        STAFF = "staff", "Staff"
        CUSTOMER = "customer", "Customer"
        MPESA = "mpesa", "M-Pesa"
        JOB = "job", "Job"
        ROUTER = "router", "Router"
        SYSTEM = "system", "System"

    at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    # No foreign keys: an entry outlives the staff member, customer or object it names.
    actor_id = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=60, help_text="app_label.model, e.g. hotspot.customer")
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    # {field: [before, after]}; a secret's values are never stored, only that it changed.
    changes = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "entries"
        permissions = [("view_all_entries", "Can read every audit entry, not only those about what they may view")]
        indexes = [
            models.Index(fields=["-at", "-id"], name="audit_entry_newest"),
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_entry_object"),
            models.Index(fields=["actor_kind", "actor_id", "-at"], name="audit_entry_actor"),
            # The activity page's actor filter (a name or an id) within the types a role may read.
            models.Index(fields=["actor_name", "object_type", "-at"], name="audit_entry_actor_name"),
            models.Index(fields=["actor_id", "object_type", "-at"], name="audit_entry_actor_id"),
            # Entries found by their label: a RADIUS session's, labelled with its user name, on the
            # customer's page.
            models.Index(fields=["object_type", "object_label", "-at"], name="audit_entry_label"),
            models.Index(fields=["action", "-at"], name="audit_entry_action"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or self.actor_kind} {self.action} {self.object_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("audit entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit entries are removed by retention only")


class LogRecord(models.Model):
    """A log record the application wrote at WARNING or above (and the jobs' INFO summaries), kept so
    an operator can read it without shell access; stdout gets every record as before."""

    at = models.DateTimeField(default=timezone.now)
    level = models.PositiveSmallIntegerField()  # logging's numbers: 20 INFO, 30 WARNING, 40 ERROR, 50 CRITICAL
    logger = models.CharField(max_length=200)
    message = models.TextField()
    exception = models.TextField(blank=True)
    # The request's method and path, or the job's task name: where it happened.
    context = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["-at", "-id"], name="audit_log_newest"),
                   models.Index(fields=["level", "-at"], name="audit_log_level")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.level_name} {self.logger}: {self.message[:80]}"

    @property
    def level_name(self) -> str:
        import logging

        return logging.getLevelName(self.level)
