"""Payments received from customers."""
from django.db import models
from django.utils import timezone

from hotspot.models import Customer, Package, Subscription


class Payment(models.Model):
    class Method(models.TextChoices):
        MPESA_STK = "mpesa_stk", "M-Pesa (STK push)"
        MPESA_C2B = "mpesa_c2b", "M-Pesa (paybill/till)"
        CASH = "cash", "Cash"
        VOUCHER = "voucher", "Voucher"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        TIMED_OUT = "timed_out", "Timed out"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    phone = models.CharField(max_length=12, blank=True)
    package = models.ForeignKey(Package, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    subscription = models.ForeignKey(Subscription, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="payments")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    method = models.CharField(max_length=10, choices=Method.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    mpesa_receipt = models.CharField(max_length=20, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "completed_at"])]
        permissions = [("view_revenue", "Can see revenue totals and reports")]

    def __str__(self) -> str:
        return f"{self.amount} {self.get_method_display()} ({self.status})"
