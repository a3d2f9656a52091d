"""MikroTik routers the ISP runs, and the log of every action taken on them."""
import ipaddress

from django.conf import settings
from django.db import models
from django.utils import timezone

from lib.secrets import EncryptedTextField

PLAIN_API_PORT, TLS_API_PORT = 8728, 8729


class Router(models.Model):
    class Status(models.TextChoices):
        ONLINE = "online", "Online"
        OFFLINE = "offline", "Offline"
        PROVISIONING = "provisioning", "Provisioning"
        ERROR = "error", "Error"

    name = models.CharField(max_length=100, unique=True)
    site = models.CharField(max_length=100, blank=True)
    host = models.CharField(max_length=255, help_text="API address (the tunnel address once WireGuard is up)")
    api_port = models.PositiveIntegerField(default=PLAIN_API_PORT)
    use_tls = models.BooleanField(default=False, help_text="api-ssl (usually port 8729) instead of the plain API")
    tls_certificate = models.TextField(
        blank=True, help_text="the router's own api-ssl certificate (PEM), trusted for this router only; "
                              "empty: certificates signed by a public CA")
    api_username = models.CharField(max_length=100, default="admin")
    api_password = EncryptedTextField(blank=True, default="")
    radius_secret = EncryptedTextField(blank=True, default="", help_text="shared with the router's /radius entry")
    # Learned from the router by the last successful connection test.
    identity = models.CharField(max_length=255, blank=True)
    version = models.CharField(max_length=64, blank=True)
    model = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFLINE, db_index=True)
    last_error = models.TextField(blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Set by a reboot we asked for; cleared by the first poll that finds the router back up.
    reboot_requested_at = models.DateTimeField(null=True, blank=True)
    # Held while the nightly job backs the router up (routers.nightly_backups), so two runs at once
    # never save two backups; a claim older than the job's deadline is a crashed run's, taken over.
    backup_claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceControlLog(models.Model):
    """One action on a router (added, changed, removed, tested…): who, what, and how it went. The
    router's name is kept so the history outlives the router."""

    class Outcome(models.TextChoices):
        OK = "ok", "OK"
        FAILED = "failed", "Failed"

    router = models.ForeignKey(Router, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")
    router_name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    action = models.CharField(max_length=32)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.router_name}: {self.action} {self.outcome}"


class ProvisioningJob(models.Model):
    """One run configuring a router for us; ``steps`` holds each step's name, status and message."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    router = models.ForeignKey(Router, on_delete=models.CASCADE, related_name="provisioning_jobs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    current_step = models.CharField(max_length=32, blank=True)
    steps = models.JSONField(default=list)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One run at a time per router: two would race on the same items.
            models.UniqueConstraint(fields=["router"], condition=models.Q(status__in=["queued", "running"]),
                                    name="one_active_provisioning_job_per_router"),
        ]

    def __str__(self) -> str:
        return f"provisioning {self.router_id} #{self.pk}: {self.status}"


class RouterSample(models.Model):
    """What one poll saw on a reachable router: load, memory, uptime, logged-in hotspot users and the
    byte counters of its physical ports (counters since boot; rates are the difference of two samples)."""

    router = models.ForeignKey(Router, on_delete=models.CASCADE, related_name="samples")
    taken_at = models.DateTimeField(default=timezone.now)
    cpu_load = models.PositiveSmallIntegerField(default=0)
    memory_used_pct = models.FloatField(default=0)
    uptime_seconds = models.PositiveBigIntegerField(default=0)
    active_users = models.PositiveIntegerField(default=0)
    rx_bytes = models.PositiveBigIntegerField(default=0)
    tx_bytes = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-taken_at", "-pk"]
        indexes = [
            models.Index(fields=["router", "taken_at"], name="router_sample_router_taken"),
            # All routers' last hour reads this index only (500 routers' hour is 30,000 entries next
            # to each other), never the heap pages that a minute's samples are spread over.
            models.Index(fields=["taken_at"], name="router_sample_taken_cover",
                         include=["router", "rx_bytes", "tx_bytes", "uptime_seconds", "active_users"]),
        ]

    def __str__(self) -> str:
        return f"{self.router_id} at {self.taken_at:%Y-%m-%d %H:%M:%S}"


class RouterSampleHour(models.Model):
    """One router's traffic in one hour (UTC, ``hour`` its start), summed from the minute samples
    (routers.traffic_hours) so the 7- and 30-day graphs and a year of history read one row per
    router-hour instead of sixty. Bytes are the positive counter differences whose later sample fell
    in the hour; ``seconds`` the time those differences cover (a reboot or a missed poll is a gap,
    not traffic), so the hour's average rate is bytes x 8 / seconds. Kept ROUTER_HOURLY_RETENTION_DAYS
    (13 months) while the minute samples keep ROUTER_SAMPLE_RETENTION_DAYS."""

    router = models.ForeignKey(Router, on_delete=models.CASCADE, related_name="sample_hours")
    hour = models.DateTimeField()
    rx_bytes = models.PositiveBigIntegerField(default=0)
    tx_bytes = models.PositiveBigIntegerField(default=0)
    seconds = models.PositiveIntegerField(default=0)
    # The highest one-interval rate seen in the hour: a 30-day graph of averages hides the peaks.
    rx_peak_bps = models.PositiveBigIntegerField(default=0)
    tx_peak_bps = models.PositiveBigIntegerField(default=0)
    users_peak = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-hour", "router"]
        default_permissions = ("view",)
        constraints = [models.UniqueConstraint(fields=["router", "hour"], name="router_sample_hour_once")]
        # The all-routers table sums a range of hours per router from this index alone.
        indexes = [models.Index(fields=["hour"], name="router_sample_hour_cover",
                                include=["router", "rx_bytes", "tx_bytes", "rx_peak_bps", "tx_peak_bps"])]

    def __str__(self) -> str:
        return f"{self.router_id} hour of {self.hour:%Y-%m-%d %H:00}"


class RouterTotalHour(models.Model):
    """Every router's traffic in one hour, summed from that hour's RouterSampleHour rows by the same
    job (routers.traffic_history.refresh_hours) and kept as long: the all-routers graph over 24 h,
    7 d or 30 d reads one row per hour instead of one per router-hour. ``rx_bps`` is the sum of each
    router's average rate in the hour (bytes x 8 / the seconds its samples cover), the graph's point."""

    hour = models.DateTimeField(unique=True)
    rx_bps = models.FloatField(default=0)
    tx_bps = models.FloatField(default=0)

    class Meta:
        ordering = ["-hour"]
        default_permissions = ()  # read through the traffic report (view_routersamplehour)

    def __str__(self) -> str:
        return f"all routers hour of {self.hour:%Y-%m-%d %H:00}"


class AccessPoint(models.Model):
    """A wireless access point cabled to one of a router's ports. The router is asked about it:
    its ARP table says whether the AP answers (online), and its bridge host table counts the
    devices learned on the AP's port (clients)."""

    class Status(models.TextChoices):
        ONLINE = "online", "Online"
        OFFLINE = "offline", "Offline"
        UNKNOWN = "unknown", "Unknown"

    router = models.ForeignKey(Router, on_delete=models.CASCADE, related_name="access_points")
    name = models.CharField(max_length=100)
    mac_address = models.CharField(max_length=17, unique=True, help_text="AA:BB:CC:DD:EE:FF")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    interface = models.CharField(max_length=64, blank=True, help_text="the router port the AP is cabled to")
    location = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.UNKNOWN)
    clients = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["router__name", "name"]

    def __str__(self) -> str:
        return self.name


class RouterService(models.Model):
    """A hotspot server or PPPoE server on a router. Two kinds of row:

    - learned (``managed=False``): one the operator set up by hand, as the router last showed it
      (written by the live-data job only, gone when the router no longer shows it);
    - managed (``managed=True``): one we run for the operator. Its desired state (ports, network,
      running / stopped / removing) is set by ``routers.router_services`` only, and provisioning
      makes the router match it; the live-data job fills in what the router shows of it but never
      deletes it. On the router its items are named after ``name`` (the properties below) and
      carry our tag: the hotspot server's name and the PPPoE server's service-name are ``name``.
    """

    class Kind(models.TextChoices):
        HOTSPOT = "hotspot", "Hotspot"
        PPPOE = "pppoe", "PPPoE"

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"
        # Marked for removal: the provisioning job takes our items off the router, then deletes the row.
        REMOVING = "removing", "Removing"

    router = models.ForeignKey(Router, on_delete=models.CASCADE, related_name="router_services")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=100)
    # Desired state (managed rows only).
    managed = models.BooleanField(default=False)
    interfaces = models.JSONField(default=list, blank=True, help_text="the physical ports it serves, e.g. [\"ether2\"]")
    network = models.CharField(max_length=43, blank=True, help_text="its clients' network, e.g. 10.5.50.0/24")
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # The last time provisioning made the router match the desired state (None: not yet applied,
    # or changed since: update_service clears it).
    provisioned_at = models.DateTimeField(null=True, blank=True)
    # What the router last showed.
    interface = models.CharField(max_length=64, blank=True)
    profile = models.CharField(max_length=100, blank=True)
    address_pool = models.CharField(max_length=100, blank=True)
    disabled = models.BooleanField(default=False)
    active_users = models.PositiveIntegerField(default=0)
    on_router = models.BooleanField(default=True, help_text="the router showed it at the last live-data fetch")
    seen_at = models.DateTimeField(null=True, blank=True, default=timezone.now)

    class Meta:
        ordering = ["router__name", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["router", "kind", "name"], name="one_service_per_router_kind_name"),
            models.UniqueConstraint(fields=["router", "name"], condition=models.Q(managed=True),
                                    name="one_managed_service_name_per_router"),
        ]

    def __str__(self) -> str:
        return f"{self.router_id} {self.kind} {self.name}"

    # Names of the router items a managed service owns (all tagged, see routers.tags).
    @property
    def bridge_name(self) -> str:
        return f"{self.name}-bridge"

    @property
    def pool_name(self) -> str:
        """The /ip/pool (and RADIUS Framed-Pool) of its clients."""
        return f"{self.name}-pool"

    @property
    def profile_name(self) -> str:
        """The hotspot server profile, or the PPP profile."""
        return f"{self.name}-profile"

    @property
    def dhcp_name(self) -> str:
        return f"{self.name}-dhcp"

    @property
    def ip_network(self) -> ipaddress.IPv4Network | None:
        try:
            return ipaddress.IPv4Network(self.network, strict=True) if self.network else None
        except ValueError:
            return None

    @property
    def gateway(self) -> str:
        """The router's address on the network (its first host), e.g. 10.5.50.1."""
        network = self.ip_network
        return str(network.network_address + 1) if network else ""

    @property
    def gateway_cidr(self) -> str:
        network = self.ip_network
        return f"{self.gateway}/{network.prefixlen}" if network else ""

    @property
    def fixed_first(self) -> ipaddress.IPv4Address | None:
        """The first address of the block kept out of the pool for fixed addresses (a customer's
        Framed-IP-Address): the network's top quarter, e.g. 10.5.50.192 of 10.5.50.0/24 (for a /30,
        whose quarter is its broadcast address, none: the pool keeps its hosts)."""
        network = self.ip_network
        if network is None:
            return None
        first = network.network_address + network.num_addresses * 3 // 4
        return first if first < network.broadcast_address and first > network.network_address + 2 else None

    @property
    def fixed_range(self) -> str:
        """The fixed addresses' block, e.g. 10.5.50.192-10.5.50.254 ("" when the network has none)."""
        first = self.fixed_first
        return f"{first}-{self.ip_network.broadcast_address - 1}" if first is not None else ""

    @property
    def pool_range(self) -> str:
        """The clients' addresses: the second host up to the fixed addresses' block, e.g.
        10.5.50.2-10.5.50.191 (the router never hands out a customer's fixed address)."""
        network = self.ip_network
        if network is None:
            return ""
        first = self.fixed_first
        last = first - 1 if first is not None else network.broadcast_address - 1
        return f"{network.network_address + 2}-{last}"

    @property
    def running(self) -> bool:
        """Whether the router shows it running (not disabled)."""
        return self.on_router and not self.disabled


class RouterBackup(models.Model):
    """A backup file saved on the router at our request (it stays on the router; restore loads it)."""

    router = models.ForeignKey(Router, on_delete=models.CASCADE, related_name="backups")
    name = models.CharField(max_length=200, help_text="file name on the router, without .backup")
    size = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.router_id}: {self.name}"


class WireGuardServer(models.Model):
    """Our end of the routers' WireGuard tunnels (one row). The pool is fixed when the row is made:
    routers hold addresses from it, so changing WIREGUARD_NETWORK later would strand them."""

    private_key = EncryptedTextField()
    public_key = models.CharField(max_length=44)
    network = models.CharField(max_length=43, help_text="the tunnel pool; its first host is our address")
    listen_port = models.PositiveIntegerField()
    endpoint = models.CharField(max_length=255, help_text="host name or address the routers dial")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="one_wireguard_server")]

    def __str__(self) -> str:
        return f"wireguard server {self.network}"


class RouterVpnConfig(models.Model):
    """A router's WireGuard tunnel to us: its keys, its address in the pool, the API user the
    onboarding script creates on it, and where the router was reached before the tunnel."""

    router = models.OneToOneField(Router, on_delete=models.CASCADE, related_name="vpn")
    private_key = EncryptedTextField()
    public_key = models.CharField(max_length=44, unique=True)
    tunnel_address = models.GenericIPAddressField(protocol="IPv4", unique=True)
    api_username = models.CharField(max_length=100)
    api_password = EncryptedTextField()
    previous_host = models.CharField(max_length=255, blank=True, help_text="the API host before the tunnel")
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the router's API host became the tunnel address.
    activated_at = models.DateTimeField(null=True, blank=True)
    # From `wg show <interface> latest-handshakes` on our server (manage.py wireguard_handshakes).
    last_handshake_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tunnel_address"]

    def __str__(self) -> str:
        return f"{self.router_id} via {self.tunnel_address}"

    @property
    def active(self) -> bool:
        return self.activated_at is not None
