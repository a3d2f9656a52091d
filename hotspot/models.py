"""Customers, the packages they buy and their subscriptions."""
from django.db import models
from django.utils import timezone


class ServiceType(models.TextChoices):
    HOTSPOT = "hotspot", "Hotspot"
    PPPOE = "pppoe", "PPPoE"


class Package(models.Model):
    name = models.CharField(max_length=100, unique=True)
    service_type = models.CharField(max_length=8, choices=ServiceType.choices, default=ServiceType.HOTSPOT)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    validity_minutes = models.PositiveIntegerField()
    data_limit_mb = models.PositiveIntegerField(null=True, blank=True)
    rate_limit = models.CharField(max_length=32, blank=True, help_text='MikroTik "rx/tx", e.g. 2M/5M')
    devices = models.PositiveSmallIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "price"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    phone = models.CharField(max_length=12, unique=True, help_text="E.164 without +, e.g. 254712345678")
    name = models.CharField(max_length=150, blank=True)
    service_type = models.CharField(max_length=8, choices=ServiceType.choices, default=ServiceType.HOTSPOT)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or self.phone


class Subscription(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        GRACE = "grace", "Grace"
        EXPIRED = "expired", "Expired"
        SUSPENDED = "suspended", "Suspended"
        CANCELLED = "cancelled", "Cancelled"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.customer} · {self.package} ({self.status})"
