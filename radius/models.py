"""The FreeRADIUS 3.2 PostgreSQL schema, table for table and column for column.

FreeRADIUS reads and writes these tables directly (rlm_sql); Django names the columns in Python
but never renames them in SQL. tests/test_radius_schema.py compares the migrated schema with the
schema.sql FreeRADIUS ships. Our additions are extra indexes (listed there) and the side tables
at the end of this module, never extra columns on FreeRADIUS's tables.
"""
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class _AttributeRow(models.Model):
    """radcheck / radreply / radgroupcheck / radgroupreply share one shape."""

    attribute = models.TextField(db_column="attribute", db_default="")
    op = models.CharField(db_column="op", max_length=2)
    value = models.TextField(db_column="value", db_default="")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.attribute} {self.op} {self.value}"


class RadCheck(_AttributeRow):
    id = models.AutoField(primary_key=True)
    username = models.TextField(db_column="username", db_default="")
    op = models.CharField(db_column="op", max_length=2, db_default="==")

    class Meta:
        db_table = "radcheck"
        indexes = [models.Index(fields=["username", "attribute"], name="radcheck_username")]


class RadReply(_AttributeRow):
    id = models.AutoField(primary_key=True)
    username = models.TextField(db_column="username", db_default="")
    op = models.CharField(db_column="op", max_length=2, db_default="=")

    class Meta:
        db_table = "radreply"
        indexes = [models.Index(fields=["username", "attribute"], name="radreply_username")]


class RadGroupCheck(_AttributeRow):
    id = models.AutoField(primary_key=True)
    groupname = models.TextField(db_column="groupname", db_default="")
    op = models.CharField(db_column="op", max_length=2, db_default="==")

    class Meta:
        db_table = "radgroupcheck"
        indexes = [models.Index(fields=["groupname", "attribute"], name="radgroupcheck_groupname")]


class RadGroupReply(_AttributeRow):
    id = models.AutoField(primary_key=True)
    groupname = models.TextField(db_column="groupname", db_default="")
    op = models.CharField(db_column="op", max_length=2, db_default="=")

    class Meta:
        db_table = "radgroupreply"
        indexes = [models.Index(fields=["groupname", "attribute"], name="radgroupreply_groupname")]


class RadUserGroup(models.Model):
    id = models.AutoField(primary_key=True)
    username = models.TextField(db_column="username", db_default="")
    groupname = models.TextField(db_column="groupname", db_default="")
    priority = models.IntegerField(db_column="priority", db_default=0)

    class Meta:
        db_table = "radusergroup"
        indexes = [models.Index(fields=["username"], name="radusergroup_username")]

    def __str__(self) -> str:
        return f"{self.username} in {self.groupname}"


OPEN = Q(acct_stop_time__isnull=True)


class RadAcctQuerySet(models.QuerySet):
    def open(self):
        """Sessions FreeRADIUS has not seen stop: the partial indexes below are built on this."""
        return self.filter(acct_stop_time__isnull=True)


class RadAcct(models.Model):
    """One accounting session, written by FreeRADIUS (Start, Interim-Update, Stop).

    On PostgreSQL the table is partitioned by month of acctstarttime (migration 0009,
    radius.partitions): its primary key there is (radacctid, acctstarttime) and acctuniqueid is kept
    unique by a trigger; radacctid alone is still unique, so it stays this model's primary key."""

    objects = RadAcctQuerySet.as_manager()

    id = models.BigAutoField(primary_key=True, db_column="radacctid")
    acct_session_id = models.TextField(db_column="acctsessionid")
    acct_unique_id = models.TextField(db_column="acctuniqueid")
    username = models.TextField(db_column="username", null=True)
    realm = models.TextField(db_column="realm", null=True)
    nas_ip_address = models.GenericIPAddressField(db_column="nasipaddress")
    nas_port_id = models.TextField(db_column="nasportid", null=True)
    nas_port_type = models.TextField(db_column="nasporttype", null=True)
    # NOT NULL in PostgreSQL, where it is the partition key (migration 0009); FreeRADIUS always writes it.
    acct_start_time = models.DateTimeField(db_column="acctstarttime", null=True)
    acct_update_time = models.DateTimeField(db_column="acctupdatetime", null=True)
    acct_stop_time = models.DateTimeField(db_column="acctstoptime", null=True)
    acct_interval = models.BigIntegerField(db_column="acctinterval", null=True)
    acct_session_time = models.BigIntegerField(db_column="acctsessiontime", null=True)
    acct_authentic = models.TextField(db_column="acctauthentic", null=True)
    connect_info_start = models.TextField(db_column="connectinfo_start", null=True)
    connect_info_stop = models.TextField(db_column="connectinfo_stop", null=True)
    acct_input_octets = models.BigIntegerField(db_column="acctinputoctets", null=True)
    acct_output_octets = models.BigIntegerField(db_column="acctoutputoctets", null=True)
    called_station_id = models.TextField(db_column="calledstationid", null=True)
    calling_station_id = models.TextField(db_column="callingstationid", null=True)
    acct_terminate_cause = models.TextField(db_column="acctterminatecause", null=True)
    service_type = models.TextField(db_column="servicetype", null=True)
    framed_protocol = models.TextField(db_column="framedprotocol", null=True)
    framed_ip_address = models.GenericIPAddressField(db_column="framedipaddress", null=True)
    framed_ipv6_address = models.GenericIPAddressField(db_column="framedipv6address", null=True)
    # inet, like FreeRADIUS's schema, although the values are prefixes: read, never validated here.
    framed_ipv6_prefix = models.GenericIPAddressField(db_column="framedipv6prefix", null=True)
    framed_interface_id = models.TextField(db_column="framedinterfaceid", null=True)
    delegated_ipv6_prefix = models.GenericIPAddressField(db_column="delegatedipv6prefix", null=True)
    class_attribute = models.TextField(db_column="class", null=True)

    class Meta:
        db_table = "radacct"
        ordering = ["-acct_start_time"]
        permissions = [("disconnect_session", "Can disconnect a customer's session")]
        constraints = [models.UniqueConstraint(fields=["acct_unique_id"], name="radacct_acctuniqueid_key")]
        indexes = [
            # FreeRADIUS's own.
            models.Index(fields=["acct_unique_id"], condition=OPEN, name="radacct_active_session_idx"),
            models.Index(fields=["nas_ip_address", "acct_start_time"], condition=OPEN, name="radacct_bulk_close"),
            models.Index(fields=["acct_start_time", "username"], name="radacct_start_user_idx"),
            models.Index(fields=["class_attribute"], name="radacct_calss_idx"),
            # Ours: Simultaneous-Use and "open sessions of a user" without visiting every open row,
            # usage per user since a date (quotas, history), and the stale-session sweep.
            models.Index(fields=["username"], condition=OPEN, name="radacct_open_user_idx"),
            models.Index(fields=["username", "acct_start_time"], name="radacct_user_start_idx"),
            models.Index(fields=["acct_update_time"], condition=OPEN, name="radacct_open_update_idx"),
            # The usage rollup's sessions stopped since its last run whose Start never arrived (their
            # start is older than the run's overlap); closed rows only, so Interim-Updates never write it.
            models.Index(fields=["acct_stop_time"], condition=Q(acct_stop_time__isnull=False),
                         name="radacct_stopped_idx"),
            # The session search (radius.forms.SessionSearch) matches these exactly: a session id
            # from a router's log, a device's MAC.
            models.Index(fields=["acct_session_id"], name="radacct_sessionid_idx"),
            models.Index(fields=["calling_station_id"], name="radacct_callingstation_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.username} on {self.nas_ip_address} ({self.acct_session_id})"

    @property
    def is_open(self) -> bool:
        return self.acct_stop_time is None

    @property
    def total_octets(self) -> int:
        return (self.acct_input_octets or 0) + (self.acct_output_octets or 0)


class RadPostAuth(models.Model):
    """The outcome of each authentication, written by FreeRADIUS's post-auth."""

    id = models.BigAutoField(primary_key=True)
    username = models.TextField(db_column="username")
    password = models.TextField(db_column="pass", null=True)
    reply = models.TextField(db_column="reply", null=True)
    called_station_id = models.TextField(db_column="calledstationid", null=True)
    calling_station_id = models.TextField(db_column="callingstationid", null=True)
    auth_date = models.DateTimeField(db_column="authdate", db_default=Now())
    class_attribute = models.TextField(db_column="class", null=True)

    class Meta:
        db_table = "radpostauth"
        ordering = ["-auth_date"]
        indexes = [
            models.Index(fields=["username"], name="radpostauth_username_idx"),
            models.Index(fields=["class_attribute"], name="radpostauth_class_idx"),
            # The auth log lists newest first by authdate: FreeRADIUS's threads (and a buffered
            # writer) insert out of time order, so the id is no clock.
            models.Index(fields=["auth_date", "id"], name="radpostauth_authdate_idx"),
            # The auth-log search by a device's MAC (radius.forms.AuthLogSearch).
            models.Index(fields=["calling_station_id"], name="radpostauth_callingstation_idx"),
        ]


class Nas(models.Model):
    """A RADIUS client (a router). FreeRADIUS loads this table at start (read_clients)."""

    id = models.AutoField(primary_key=True)
    nasname = models.TextField(db_column="nasname", help_text="IP address the router sends RADIUS from")
    shortname = models.TextField(db_column="shortname")
    type = models.TextField(db_column="type", db_default="other")
    ports = models.IntegerField(db_column="ports", null=True)
    secret = models.TextField(db_column="secret")
    server = models.TextField(db_column="server", null=True)
    community = models.TextField(db_column="community", null=True)
    description = models.TextField(db_column="description", null=True)

    class Meta:
        db_table = "nas"
        ordering = ["shortname"]
        verbose_name = "NAS"
        verbose_name_plural = "NAS devices"
        indexes = [models.Index(fields=["nasname"], name="nas_nasname")]
        # FreeRADIUS keeps the first client at an address and drops the rest ("Failed to add
        # duplicate client"): a second row could only hold a secret nobody uses.
        constraints = [models.UniqueConstraint(fields=["nasname"], name="nas_nasname_unique")]

    def __str__(self) -> str:
        return f"{self.shortname} ({self.nasname})"


class NasReload(models.Model):
    """When a NAS last sent Accounting-On/Off; its older open sessions are closed by a job."""

    nas_ip_address = models.GenericIPAddressField(primary_key=True, db_column="nasipaddress")
    reload_time = models.DateTimeField(db_column="reloadtime")

    class Meta:
        db_table = "nasreload"


# --- our side tables ------------------------------------------------------------------------------


class NasCoaPort(models.Model):
    """Where a NAS listens for RFC 5176 Disconnect/CoA (MikroTik: /radius incoming, port 3799)."""

    nas = models.OneToOneField(Nas, on_delete=models.CASCADE, primary_key=True, related_name="coa")
    port = models.PositiveIntegerField(default=3799)

    def __str__(self) -> str:
        return f"{self.nas.nasname}:{self.port}"


class CoaAttempt(models.Model):
    """One Disconnect-Request or CoA-Request we sent, and what the NAS answered."""

    class Kind(models.TextChoices):
        DISCONNECT = "disconnect", "Disconnect"
        COA = "coa", "Change of authorization"

    class Outcome(models.TextChoices):
        ACK = "ack", "Acknowledged"
        NAK = "nak", "Refused"
        TIMEOUT = "timeout", "No answer"
        ERROR = "error", "Not sent"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    session = models.ForeignKey(RadAcct, on_delete=models.SET_NULL, null=True, blank=True, db_constraint=False,
                                related_name="coa_attempts")
    username = models.TextField()
    acct_session_id = models.TextField(blank=True)
    nas_ip_address = models.GenericIPAddressField()
    attributes = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    error_cause = models.PositiveIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)
    tries = models.PositiveSmallIntegerField(default=1)
    requested_by = models.CharField(max_length=150, blank=True, help_text="staff username or job name")
    # When the NAS did not acknowledge a Disconnect, the routers app may end the session over the
    # router's own API instead (coa.register_disconnect_fallback): None = not tried, else how many
    # sessions it ended there (0: the router had none left, or could not be reached; see detail).
    api_kicked = models.PositiveSmallIntegerField(null=True, blank=True)
    # When the NAS did not acknowledge a CoA changing the rate, the routers app may set the session's
    # queue over the API instead (coa.register_rate_fallback): None = not tried, else queues changed.
    api_changed = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["username", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.username}@{self.nas_ip_address}: {self.outcome}"

    @property
    def ended(self) -> bool:
        """The session is gone: the NAS acknowledged, or the API fallback removed it."""
        return self.outcome == self.Outcome.ACK or bool(self.api_kicked)

    @property
    def applied(self) -> bool:
        """A CoA took effect: the NAS acknowledged, the API changed the session's queue, or the API
        ended the session (it signs in again under what RADIUS now says)."""
        return self.outcome == self.Outcome.ACK or bool(self.api_changed) or bool(self.api_kicked)


class SessionSlowdown(models.Model):
    """An open session slowed to its package's fair-use rate (radius.fair_use). One row per session,
    claimed before the CoA-Request leaves: however many jobs run at once, a session is slowed once."""

    session = models.OneToOneField(RadAcct, on_delete=models.DO_NOTHING, db_constraint=False,
                                   related_name="slowdown")
    username = models.TextField()
    rate = models.CharField(max_length=64)
    attempt = models.ForeignKey(CoaAttempt, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"{self.username} slowed to {self.rate}"


class DataBoost(models.Model):
    """Data added to a user's allowance, or full speed, until ``until`` (a boost bought in hotspot):
    radius_data_allowance (migration 0007) adds the rows of the user's current allowance (those of
    its ``since``), so FreeRADIUS at sign-in and the fair-use job count them alike."""

    username = models.TextField()
    since = models.BigIntegerField(help_text="The allowance's start (Hotspot-Quota-Since): boosts end with it")
    extra_bytes = models.BigIntegerField(default=0)
    full_speed = models.BooleanField(default=False)
    until = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["username", "since"])]

    def __str__(self) -> str:
        return f"{self.username} +{self.extra_bytes} until {self.until}"
