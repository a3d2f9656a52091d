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
        # Seeing the list is not taking every customer's credentials home: downloading is its own right.
        permissions = [("download_databasebackup", "Can download database backups")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} backup of {self.created_at:%Y-%m-%d %H:%M} ({self.state})"


# --- alerts (monitoring.alerts) ------------------------------------------------------------------------


class AlertKind(models.TextChoices):
    """What the evaluator watches; each kind is one rule (monitoring.alerts.rules)."""

    ROUTER_OFFLINE = "router_offline", "Router offline"
    CALLBACKS_SILENT = "callbacks_silent", "M-Pesa callbacks not arriving"
    BAD_CALLBACKS = "bad_callbacks", "Bad M-Pesa callbacks"
    JOB_FAILED = "job_failed", "Background job failed"
    BACKUP = "backup", "Database backup"
    RADIUS_DOWN = "radius_down", "FreeRADIUS not answering"
    DISK_LOW = "disk_low", "Disk space low"


class AlertRule(models.Model):
    """One rule's stored state: when it was last evaluated and what was failing then. Its row is
    what an evaluator claims (SKIP LOCKED), so two evaluators at once never evaluate it twice."""

    kind = models.CharField(max_length=20, choices=AlertKind.choices, unique=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    failing = models.JSONField(default=list, blank=True, help_text="the subjects failing at the last evaluation")
    error = models.TextField(blank=True, help_text="why the rule could not be evaluated the last time")

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()


class Incident(models.Model):
    """Something failing (a router, M-Pesa's callbacks, a job...), from when a rule first saw it until
    it resolved. One that fails again soon after resolving is reopened, not opened anew."""

    class Told(models.TextChoices):
        OPEN = "open", "Told it is failing"
        RESOLVED = "resolved", "Told it resolved"

    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    subject = models.CharField(max_length=200, help_text='what fails, as the rule names it ("router:12")')
    label = models.CharField(max_length=200, help_text="what fails, in words (the router's name)")
    detail = models.TextField(blank=True, help_text="the rule's latest words on it")
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_failing_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    flaps = models.PositiveIntegerField(default=0, help_text="how often it failed again soon after resolving")
    # What the subscribers were last told, and when: the reminders, the "failing again" notice and a
    # flapping incident's held resolution follow from these.
    told = models.CharField(max_length=10, choices=Told.choices, default=Told.OPEN)
    told_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    acknowledged_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["kind", "subject"], condition=models.Q(resolved_at__isnull=True),
                                               name="one_open_incident_per_subject")]
        indexes = [models.Index(fields=["kind", "subject", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def time_to_resolve(self):
        return self.resolved_at - self.opened_at if self.resolved_at else None


class AlertSubscription(models.Model):
    """One staff member's alerts: which kinds reach them on which channel, where each channel
    reaches them, and whether they get the daily digest."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_subscription")
    # "kind:channel" pairs, e.g. "router_offline:telegram".
    routes = models.JSONField(default=list, blank=True)
    phone = models.CharField(max_length=15, blank=True, help_text="for SMS, 2547XXXXXXXX")
    email = models.EmailField(blank=True)
    telegram_chat_id = models.CharField(max_length=40, blank=True)
    digest_channel = models.CharField(max_length=10, blank=True, help_text="blank: no daily digest")
    digest_sent_on = models.DateField(null=True, blank=True, help_text="the business day of the last digest")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"alerts of {self.user}"

    def address(self, channel: str) -> str:
        return {"sms": self.phone, "email": self.email, "telegram": self.telegram_chat_id}.get(channel, "")

    def wants(self, kind: str, channel: str) -> bool:
        return f"{kind}:{channel}" in self.routes


class AlertMessage(models.Model):
    """One message to one staff address (an outbox): written in the evaluator's transaction, so "sent
    once" is provable, and delivered after commit by whoever claims it first."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        AGAIN = "again", "Failing again"
        REMINDER = "reminder", "Reminder"
        RESOLVED = "resolved", "Resolved"
        DIGEST = "digest", "Daily digest"
        TEST = "test", "Test"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    channel = models.CharField(max_length=10)
    address = models.CharField(max_length=254)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"),
                                name="alert_message_due")]
        constraints = [models.UniqueConstraint(fields=["incident", "recipient", "channel"],
                                               condition=models.Q(kind="opened"), name="one_opened_message_each")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.channel} to {self.address} ({self.state})"


class TicketCounter(models.Model):
    """The last ticket number handed out in a year: one row per year, bumped by an upsert in the
    ticket's own transaction (monitoring.tickets.numbering), so two staff opening tickets at the
    same moment never get the same number and a number is never handed out twice."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Ticket(models.Model):
    """A customer's problem, as staff record and follow it (monitoring.tickets.services changes it;
    monitoring.tickets.access.visible_to says who sees which)."""

    class Category(models.TextChoices):
        NO_INTERNET = "no_internet", "No internet"
        SLOW = "slow", "Slow"
        PAYMENT = "payment", "Payment not credited"
        BILLING = "billing", "Billing"
        ROUTER = "router", "Router / access point"
        OTHER = "other", "Other"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending customer"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    number = models.CharField(max_length=20, unique=True)  # T-2026-00042: per-year sequence, never reused
    customer = models.ForeignKey("hotspot.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="tickets")
    phone = models.CharField(max_length=20, blank=True, help_text="a walk-in's phone when no customer")
    subject = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="tickets_assigned")
    router = models.ForeignKey("routers.Router", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    payment = models.ForeignKey("billing.Payment", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(null=True, blank=True, help_text="SLA: created_at + the priority's hours")
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-updated_at", "-pk"]
        # Without it a role sees only its own kinds of ticket (monitoring.tickets.access.visible_to).
        permissions = [("view_all_tickets", "Can see every ticket, whatever its category or assignee")]
        indexes = [
            models.Index(fields=["status", "-updated_at"], name="ticket_queue"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            models.Index(fields=["category", "status"], name="ticket_category_status"),
            # The queue's own order, for every list without a status (bench/tickets.py at 200,000);
            # the search box's trigram indexes are PostgreSQL's only (migration 0009).
            models.Index(fields=["-updated_at", "-id"], name="ticket_recent"),
            # The overdue filter (open past due_at) counted from the index alone.
            models.Index(fields=["status", "due_at"], name="ticket_due"),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.subject}"

    @property
    def is_active(self) -> bool:
        """Open or waiting for the customer: the SLA still runs."""
        return self.status in (self.Status.OPEN, self.Status.PENDING)

    @property
    def is_overdue(self) -> bool:
        """Open past its due time (monitoring.tickets.sla: pending the customer is never overdue)."""
        return self.status == self.Status.OPEN and self.due_at is not None and self.due_at < timezone.now()

    @property
    def contact_phone(self) -> str:
        """Where SMS about this ticket go: the customer's phone, else the walk-in's."""
        return (self.customer.phone if self.customer_id else "") or self.phone


class TicketMessage(models.Model):
    """One entry of a ticket's thread. Notes and events are staff-only: never sent, never shown to
    the customer."""

    class Kind(models.TextChoices):
        REPLY = "reply", "Staff reply"
        NOTE = "note", "Internal note"
        CUSTOMER = "customer", "Customer message"
        EVENT = "event", "Change"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    body = models.TextField(max_length=5000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_message_thread")]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on ticket {self.ticket_id}"


class TicketAttachment(models.Model):
    """An image attached to a ticket message. The bytes live in the database, like siteconfig.Logo:
    the production stack has no shared media volume. Only checked images are stored
    (monitoring.tickets.services.attach)."""

    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)  # from the magic bytes, not the upload's claim
    size = models.PositiveIntegerField()
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        default_permissions = ()

    def __str__(self) -> str:
        return self.name


class InboundSms(models.Model):
    """Every post the SMS provider (Africa's Talking) made to the inbound webhook, kept as received,
    forged and malformed ones too (monitoring.inbound_sms routes it to a ticket and records how)."""

    class Status(models.TextChoices):
        ATTACHED = "attached", "Attached to a ticket"
        UNMATCHED = "unmatched", "No ticket for the sender"
        FORGED = "forged", "Wrong webhook token"
        REJECTED = "rejected", "Malformed post"

    received_at = models.DateTimeField(default=timezone.now)
    # The provider's message id; one row per id so a retried post is stored once. Only posts that
    # carried the right token keep it: a forger must not claim an id before the real post arrives.
    provider_id = models.CharField(max_length=64, blank=True)
    sender = models.CharField(max_length=20, blank=True, help_text="E.164, empty when not a phone number")
    to = models.CharField(max_length=20, blank=True, help_text="our shortcode or number")
    text = models.TextField(blank=True)
    link_id = models.CharField(max_length=64, blank=True)
    raw = models.TextField(blank=True, help_text="the form as posted, cut at a few kilobytes")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_sms")
    message = models.ForeignKey(TicketMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = "inbound SMS"
        verbose_name_plural = "inbound SMS"
        constraints = [
            models.UniqueConstraint(fields=["provider_id"], condition=~models.Q(provider_id=""),
                                    name="inbound_sms_provider_id"),
        ]
        indexes = [models.Index(fields=["status", "-received_at"], name="inbound_sms_status")]

    def __str__(self) -> str:
        return f"SMS from {self.sender or '?'} ({self.get_status_display()})"


class ExportJob(models.Model):
    """A large export made by a worker (monitoring.exports): the file, private to whoever asked,
    removed with its row a day later (EXPORT_KEEP_HOURS). Kept here, at the top of the layers, because
    the job reads what any app exports (billing's payments today): the apps keep their CSV writers
    and their synchronous downloads, and link here by URL name when the rows are too many."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=32)
    # The list page's filters as it was asked (a query string's lists), read again by the worker.
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=120, blank=True, help_text="The download's name")
    size_bytes = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} export #{self.pk}"

    @property
    def progress(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
