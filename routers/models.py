"""MikroTik routers the ISP runs."""
from django.db import models
from django.utils import timezone


class Router(models.Model):
    class Status(models.TextChoices):
        ONLINE = "online", "Online"
        OFFLINE = "offline", "Offline"
        PROVISIONING = "provisioning", "Provisioning"
        ERROR = "error", "Error"

    name = models.CharField(max_length=100, unique=True)
    site = models.CharField(max_length=100, blank=True)
    host = models.CharField(max_length=255, help_text="API address (the tunnel address once WireGuard is up)")
    api_port = models.PositiveIntegerField(default=8728)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFLINE, db_index=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
