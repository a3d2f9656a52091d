"""Customers, the packages they buy and their subscriptions."""
from django.conf import settings
from django.db import models
from django.utils import timezone

from .phone import phone_match


class ServiceType(models.TextChoices):
    HOTSPOT = "hotspot", "Hotspot"
    PPPOE = "pppoe", "PPPoE"


class PackageGroup(models.Model):
    """A shelf of packages (e.g. "Hourly", "Home fibre") for the portal and the admin lists."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name


class AfterAllowance(models.TextChoices):
    BLOCK = "block", "Cut off (reject until renewed)"
    THROTTLE = "throttle", "Slow down to the fair-use speed"


class PackageKind(models.TextChoices):
    PLAN = "plan", "Plan (a subscription)"
    # Added to the running subscription (hotspot.subscriptions._boost): data_limit_mb more MB for validity_minutes
    # (at most to the subscription's end), or without data_limit_mb full speed for validity_minutes.
    BOOST = "boost", "Boost (adds to the running plan)"


class Package(models.Model):
    """What a customer buys: a price, how long it lasts, and the policy RADIUS applies."""

    name = models.CharField(max_length=100, unique=True)
    group = models.ForeignKey(PackageGroup, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="packages")
    service_type = models.CharField(max_length=8, choices=ServiceType.choices, default=ServiceType.HOTSPOT)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    # One plain unit; a "month" is 30 days (43,200 minutes), as customers are told at purchase.
    validity_minutes = models.PositiveIntegerField()
    data_limit_mb = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited")
    rate_limit = models.CharField(max_length=64, blank=True,
                                  help_text='MikroTik "upload/download" from the router\'s view, e.g. 2M/5M')
    # Fair use: what happens once the data allowance (the period's or the day's) is used up.
    after_allowance = models.CharField(max_length=8, choices=AfterAllowance.choices, default=AfterAllowance.BLOCK)
    fup_rate_limit = models.CharField(max_length=64, blank=True,
                                      help_text="The speed once the allowance is used up (slow down), e.g. 512k/512k")
    daily_data_limit_mb = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no daily cap. Counts from midnight in the business time zone")
    kind = models.CharField(max_length=5, choices=PackageKind.choices, default=PackageKind.PLAN)
    devices = models.PositiveSmallIntegerField(default=1, help_text="Devices online at once")
    grace_minutes = models.PositiveIntegerField(default=0, help_text="Walled-garden time after expiry")
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_order", "price"]

    def __str__(self) -> str:
        return self.name

    @property
    def radius_group(self) -> str:
        """The RADIUS group whose policy every subscriber of this package gets."""
        return f"pkg-{self.pk}"

    @property
    def upload(self) -> str:
        return self.rate_limit.split(" ")[0].split("/")[0] if self.rate_limit else ""

    @property
    def download(self) -> str:
        first = self.rate_limit.split(" ")[0] if self.rate_limit else ""
        return first.split("/")[1] if "/" in first else first


class CustomerQuerySet(models.QuerySet):
    def search(self, q: str):
        """By name, username or phone, the phone in any form a person types it (0712…, +254712…, 712…)."""
        q = q.strip()
        if not q:
            return self
        match = models.Q(name__icontains=q) | models.Q(username=q.lower())
        by_phone = phone_match(q)
        return self.filter(match | by_phone if by_phone is not None else match)


class Customer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    objects = CustomerQuerySet.as_manager()

    # Empty for a voucher user until they give a number (phones are unique; NULLs are not compared).
    phone = models.CharField(max_length=12, unique=True, null=True, blank=True,
                             help_text="E.164 without +, e.g. 254712345678")
    name = models.CharField(max_length=150, blank=True)
    service_type = models.CharField(max_length=8, choices=ServiceType.choices, default=ServiceType.HOTSPOT)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    # RADIUS credentials. The password is kept as the router must see it (CHAP needs the clear
    # text, as FreeRADIUS's radcheck does); it is shown to staff only on the customer's page.
    username = models.CharField(max_length=32, unique=True, null=True)
    password = models.CharField(max_length=32, blank=True)
    notes = models.TextField(blank=True)
    # Receipts go here too when given (the E-mail settings' server).
    email = models.EmailField(blank=True, default="")
    # The portal's language at the customer's last purchase ("" until then): their SMS speak it.
    language = models.CharField(max_length=2, blank=True, default="", choices=settings.LANGUAGES)
    last_mac = models.CharField(max_length=17, blank=True)
    last_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or self.phone or self.username or f"customer {self.pk}"


class SubscriptionQuerySet(models.QuerySet):
    def active(self, now=None):
        """Running now: status active and not yet past its expiry (the expiry job may lag a minute)."""
        return self.filter(status=Subscription.Status.ACTIVE, expires_at__gt=now or timezone.now())


class Subscription(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        GRACE = "grace", "Grace"
        EXPIRED = "expired", "Expired"
        SUSPENDED = "suspended", "Suspended"
        CANCELLED = "cancelled", "Cancelled"

    objects = SubscriptionQuerySet.as_manager()

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    grace_until = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=20, blank=True, help_text="payment, voucher, staff ...")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["status", "expires_at"]), models.Index(fields=["status", "grace_until"]),
                   models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return f"{self.customer} · {self.package} ({self.status})"


class VoucherBatch(models.Model):
    """Codes printed or exported together, all for one package."""

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="voucher_batches")
    prefix = models.CharField(max_length=6, blank=True)
    count = models.PositiveIntegerField()
    valid_until = models.DateTimeField(help_text="Unused codes stop working after this")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.count} x {self.package} ({self.created_at:%d %b %Y})"


class Voucher(models.Model):
    class Status(models.TextChoices):
        UNUSED = "unused", "Unused"
        REDEEMED = "redeemed", "Redeemed"
        REVOKED = "revoked", "Revoked"

    batch = models.ForeignKey(VoucherBatch, on_delete=models.CASCADE, related_name="vouchers")
    code = models.CharField(max_length=24, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.UNUSED)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="vouchers")
    subscription = models.ForeignKey(Subscription, on_delete=models.SET_NULL, null=True, blank=True)
    mac = models.CharField(max_length=17, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["batch", "status"])]

    def __str__(self) -> str:
        return self.code


class Boost(models.Model):
    """A boost package bought for a running subscription (hotspot.subscriptions._boost): more data until ``until``,
    or (``megabytes`` empty) full speed until then. FreeRADIUS counts it from radius.DataBoost."""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="boosts")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="boosts")
    source = models.CharField(max_length=20, blank=True, help_text="payment, wallet ...")
    megabytes = models.PositiveIntegerField(null=True, blank=True)
    until = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.package} for {self.subscription}"
