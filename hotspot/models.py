"""Customers, the packages they buy and their subscriptions."""
from django.conf import settings
from django.db import models
from django.utils import timezone

from lib.network import mac_spellings

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
        """By name, username or phone, the phone in any form a person types it (0712…, +254712…, 712…);
        a MAC (any common spelling) by the device the customer last came from."""
        q = q.strip()
        if not q:
            return self
        if (spellings := mac_spellings(q)) is not None:  # its digits are no phone number
            return self.filter(last_mac__in=spellings)
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
    # PPPoE (hotspot.pppoe): the router's PPPoE service whose pool addresses the customer (RADIUS
    # Framed-Pool), or a fixed address in that service's network (Framed-IP-Address) instead.
    pppoe_service = models.ForeignKey("routers.RouterService", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="pppoe_customers", limit_choices_to={"kind": "pppoe"})
    static_ip = models.GenericIPAddressField(protocol="IPv4", unique=True, null=True, blank=True,
                                             help_text="PPPoE: the fixed address the customer always gets")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        # A MAC typed in the customer search finds its customer by this (CustomerQuerySet.search).
        indexes = [models.Index(fields=["last_mac"], name="hotspot_customer_last_mac")]

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


# --- report rollups (hotspot.usage_rollup, hotspot.login_rollup; kept by lib.rollups) -------------
# Summary rows the reports read instead of radacct and radpostauth. Days are business days: midnight
# to midnight in the business time zone (siteconfig.time_zone) as it was when the row was written.


class RollupWatermark(models.Model):
    """How far one rollup has read its sources: every source row changed before ``reached_at`` (less the
    rollup's overlap, re-read each run) is in its summary rows. One row per rollup, every app's
    (billing's too: hotspot is the lowest app with rollups), written only by lib.rollups under the
    rollup's lock. No row: the rollup has never run and its first refresh rebuilds from the start."""

    name = models.CharField(max_length=40, primary_key=True)
    reached_at = models.DateTimeField()
    # What the last run did, for an operator asking whether the job is alive.
    last_run_at = models.DateTimeField(default=timezone.now)
    last_run_rows = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.name} to {self.reached_at:%Y-%m-%d %H:%M:%S}"


class SessionMark(models.Model):
    """What the usage rollup last saw of one accounting session (a radacct row): its counters then and
    when the router reported them. The next observation's counters minus these are the delta it adds
    to UsageDay, spread over the business days between the two report times; so a session crossing
    midnight has its bytes split by the interim updates seen. The marks also fix the session's
    customer, router and package at its first observation, so a later renewal does not move
    usage already counted. Every run reads again the sessions its marks saw open (by id), so a
    stop, or the stale-session sweep's close, is seen whatever its time. Marks of sessions seen
    stopped are dropped a day later (the overlap re-reads them until then), and those whose radacct
    row is gone (retention)."""

    radacct_id = models.BigIntegerField(primary_key=True)
    username = models.TextField()
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 db_constraint=False)
    router = models.ForeignKey("routers.Router", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", db_constraint=False)
    package = models.ForeignKey(Package, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                db_constraint=False)
    seen_at = models.DateTimeField(help_text="The router's report time of the counters below")
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    stopped = models.BooleanField(default=False)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["stopped", "seen_at"], name="hotspot_sessionmark_seen")]


class UsageDay(models.Model):
    """Hotspot and PPPoE use per business day × customer (username) × router (NAS) × package.

    - ``sessions``: sessions that started that day (radacct rows by acctstarttime).
    - ``devices``: distinct device MACs (callingstationid) of the sessions active that day (started
      before its end, last report or stop on or after its start).
    - ``seconds``, ``bytes_in`` (from the customer: acctinputoctets), ``bytes_out`` (to the customer):
      the counters' growth between two observations of a session, spread over the business days
      between the two report times in proportion to the time of each. The rollup observes every
      open session each run (every 5 minutes) and routers report every interim interval, so a
      session crossing midnight is split exactly up to the traffic of one interim interval around
      midnight, which is shared between the days by time. A session first seen closed (or a range
      rebuilt by rebuild_reports) is spread from its start to its stop. Each day's total therefore
      equals radacct's counters summed over the sessions, split this way.
    - ``router``: the Router owning the NAS address (its host or its NAS row); empty for an address no
      router owns. ``package``: the package of the customer's subscription when the session was
      first seen (the latest started at or before the session's start). ``customer``: by username.

    One row per (day, username, router, package); hotspot.usage_rollup is the only writer."""

    day = models.DateField()
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="usage_days", db_index=False)  # hotspot_usageday_customer leads with it
    username = models.TextField()
    router = models.ForeignKey("routers.Router", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="usage_days")
    package = models.ForeignKey(Package, on_delete=models.SET_NULL, null=True, blank=True, related_name="usage_days",
                                db_index=False)  # hotspot_usageday_package_sums leads with it
    sessions = models.PositiveIntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)
    devices = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "username"]
        constraints = [models.UniqueConstraint(fields=["day", "username", "router", "package"],
                                               name="one_usage_day_per_key")]
        # The report pages sum a range's rows (a month is ~800k at 100,000 customers): the sums ride in
        # the day index so PostgreSQL reads them from it (index-only) instead of the wide table.
        indexes = [models.Index(fields=["day"], name="hotspot_usageday_day_sums",
                                include=["router", "package", "sessions", "seconds", "bytes_in", "bytes_out"]),
                   models.Index(fields=["customer", "day"], name="hotspot_usageday_customer"),
                   models.Index(fields=["username", "day"], name="hotspot_usageday_username"),
                   # The usage report's customers of one package: the package's rows of a range with
                   # what is summed per username, index-only (30 days of a popular package at full
                   # scale, 204,000 rows: 425 -> 130 ms against the day index and the table).
                   models.Index(fields=["package", "day"], name="hotspot_usageday_package_sums",
                                include=["username", "sessions", "seconds", "bytes_in", "bytes_out"])]

    def __str__(self) -> str:
        return f"{self.username} on {self.day}"


class LoginHour(models.Model):
    """Sign-ins FreeRADIUS answered (radpostauth) per business day × hour (0-23, business time) × router ×
    reason: ``accepted`` on the rows with reason "" and ``rejected`` on the others; ``users`` the
    distinct usernames in the row (not additive across rows: a day's unique users are LoginDay's).

    Reasons for a reject (radpostauth keeps only the answer, so the reason is read from our tables
    at the time of the attempt): "unknown" (no customer has that username), "no_package" (the
    customer had no subscription running then: none started, or past its expiry and grace),
    "refused" (a customer with a running package: wrong password, device limit or allowance used).
    ``router``: for an accept, the router of the session the same device started within a minute
    after it (radpostauth as FreeRADIUS writes it names no NAS); empty for rejects and accepts
    with no session. Written only by hotspot.login_rollup."""

    class Reason(models.TextChoices):
        ACCEPTED = "", "Accepted"
        UNKNOWN = "unknown", "Unknown user"
        NO_PACKAGE = "no_package", "No package running"
        REFUSED = "refused", "Refused (password, devices or allowance)"

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    router = models.ForeignKey("routers.Router", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="login_hours")
    reason = models.CharField(max_length=12, choices=Reason.choices, blank=True, default="")
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    users = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "hour"]
        constraints = [models.UniqueConstraint(fields=["day", "hour", "router", "reason"],
                                               name="one_login_hour_per_key")]
        indexes = [models.Index(fields=["day", "hour"], name="hotspot_loginhour_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}h: {self.accepted} accepted, {self.rejected} rejected"


class LoginDay(models.Model):
    """Distinct usernames that signed in per business day: the row with no router counts the whole
    network (``users``: any answer, ``users_accepted``, ``users_rejected``); a row per router counts the
    accepted users matched to it as in LoginHour (its ``users_rejected`` is 0). Written only by
    hotspot.login_rollup with LoginHour."""

    day = models.DateField()
    # A removed router's rows go with it: its users are in the network's row already.
    router = models.ForeignKey("routers.Router", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="login_days")
    users = models.PositiveIntegerField(default=0)
    users_accepted = models.PositiveIntegerField(default=0)
    users_rejected = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["day", "router"], name="one_login_day_per_router")]
        indexes = [models.Index(fields=["day"], name="hotspot_loginday_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.users} users"
