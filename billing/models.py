"""Money: payments, every M-Pesa body received, the wallet ledger, invoices and reminders."""
import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone

from hotspot.models import Customer, Package, Subscription
from hotspot.phone import phone_match
from lib.any_of import AnyOf
from lib.whole_numbers import ascii_whole_number

# What a receipt or a CheckoutRequestID looks like (letters and digits, "_" and "-", no space): a search
# for one is answered by the unique index alone when it names a payment.
IDENTIFIER = re.compile(r"(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_-]{6,64}", re.ASCII)
# Up to this many customers a search names are passed to the payments query as ids (PostgreSQL hashes
# a long IN list), so the customers' table is searched once, not again inside each payments query.
SEARCH_CUSTOMERS = 10_000


def of_customers_matching(q: str) -> Q:
    """Rows whose ``customer_id`` is one of the customers ``q`` names (Customer.search: username, name,
    phone), found in their own table first, so that a billing search filters by an indexed column of
    its own table: the ids as one array (lib.any_of), or for a name more customers share than
    SEARCH_CUSTOMERS, a subquery the planner can hash while it walks the newest rows (they then match
    densely)."""
    if any(character.isalpha() for character in q):
        customers = Customer.objects.search(q)
    else:  # digits name a phone (or a username), never part of a name: no scan of every name
        by_phone = phone_match(q)
        customers = Customer.objects.filter(Q(username=q.lower()) | by_phone if by_phone else Q(username=q.lower()))
    customers = customers.values_list("pk", flat=True)
    ids = list(customers[:SEARCH_CUSTOMERS + 1])
    return Q(AnyOf(F("customer_id"), ids)) if len(ids) <= SEARCH_CUSTOMERS else Q(customer_id__in=customers)


class PaymentQuerySet(models.QuerySet):
    def completed(self):
        """Money that arrived: what revenue, receipts and the dashboard count."""
        return self.filter(status=Payment.Status.COMPLETED)

    def search(self, q: str):
        """The payments a person means by ``q``: an M-Pesa receipt, a CheckoutRequestID, the customer's
        username or part of their name, a payment number (42 or #42), or the phone in any form they type it.

        In steps, each on an index (issue 23: one OR across the joined customer table walked all
        payments): a receipt or CheckoutRequestID is looked up exactly first and, when it names a
        payment, is the answer; otherwise the customers are found in their own table, and the
        payments are one query on payments' own columns (ids, customer ids, the payer's phone)."""
        q = q.strip()
        if not q:
            return self
        identifiers = Q(mpesa_receipt=q.upper()) | Q(checkout_request_id=q)
        if IDENTIFIER.fullmatch(q):
            named = list(self.filter(identifiers).values_list("pk", flat=True)[:2])
            if named:
                return self.filter(pk__in=named)
        match = identifiers | of_customers_matching(q)
        if (number := ascii_whole_number(q.lstrip("#"))) is not None:
            match |= Q(pk=number)
        by_phone = phone_match(q, "phone")
        return self.filter(match | by_phone if by_phone is not None else match)


class Payment(models.Model):
    class Method(models.TextChoices):
        MPESA_STK = "mpesa_stk", "M-Pesa (STK push)"
        MPESA_C2B = "mpesa_c2b", "M-Pesa (paybill/till)"
        CASH = "cash", "Cash"
        VOUCHER = "voucher", "Voucher"
        WALLET = "wallet", "Wallet balance"

    objects = PaymentQuerySet.as_manager()

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        TIMED_OUT = "timed_out", "Timed out"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    phone = models.CharField(max_length=12, blank=True)
    package = models.ForeignKey(Package, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    invoice = models.ForeignKey("Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    subscription = models.ForeignKey(Subscription, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="payments")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    method = models.CharField(max_length=10, choices=Method.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    mpesa_receipt = models.CharField(max_length=20, unique=True, null=True, blank=True)
    checkout_request_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    merchant_request_id = models.CharField(max_length=64, blank=True)
    result_code = models.IntegerField(null=True, blank=True)
    result_desc = models.CharField(max_length=255, blank=True)
    # The device that asked (captive portal), to log it in when the money arrives.
    mac = models.CharField(max_length=17, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # Until when the customer may still answer the prompt; past it, an unanswered payment times out.
    window_ends_at = models.DateTimeField(null=True, blank=True)
    last_queried_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    # Empty on a completed payment: its receipt is still owed (billing/receipts.py, an outbox).
    receipt_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["id"], condition=Q(status="completed", receipt_sent_at__isnull=True),
                         name="billing_payment_receipt_owed"),
            models.Index(fields=["status", "completed_at"]),
            # The list's order (newest first, the id breaking ties), alone and under its filters and the
            # customer's payments: each read as a walk down its index that stops after a page.
            models.Index(fields=["created_at", "id"], name="billing_payment_recent"),
            models.Index(fields=["customer", "created_at", "id"], name="billing_payment_customer"),
            models.Index(fields=["status", "created_at", "id"], name="billing_payment_status"),
            models.Index(fields=["method", "created_at", "id"], name="billing_payment_method"),
            models.Index(fields=["phone", "created_at"]),
            models.Index(fields=["last_queried_at"], condition=Q(status="pending"), name="billing_payment_pending"),
            # The report rollups find the payments reversed since their last run (billing.payment_rollup).
            models.Index(fields=["reversed_at"], condition=Q(reversed_at__isnull=False),
                         name="billing_payment_reversed"),
        ]
        permissions = [("view_revenue", "Can see revenue totals and reports"),
                       ("reverse_payment", "Can refund or reverse a payment")]

    def __str__(self) -> str:
        return f"{self.amount} {self.get_method_display()} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status != self.Status.PENDING


class MpesaCallback(models.Model):
    """Every body M-Pesa posted to us, kept as received before it is processed."""

    class Kind(models.TextChoices):
        STK = "stk", "STK callback"
        C2B_CONFIRMATION = "c2b_confirmation", "C2B confirmation"
        C2B_VALIDATION = "c2b_validation", "C2B validation"

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received (not yet processed)"
        CREDITED = "credited", "Credited"
        FAILED = "failed", "Payment failed"
        DUPLICATE = "duplicate", "Duplicate (already settled)"
        UNKNOWN = "unknown", "Unknown CheckoutRequestID"
        AMOUNT_MISMATCH = "amount_mismatch", "Amount differs from what was asked"
        MALFORMED = "malformed", "Malformed body"
        FORBIDDEN = "forbidden", "Source address not allowed"
        BAD_TOKEN = "bad_token", "Wrong callback token"
        UNMATCHED = "unmatched", "No customer for the account number"
        ACCEPTED = "accepted", "Validation accepted"
        REJECTED = "rejected", "Validation rejected"
        ERROR = "error", "Processing error (the retry job takes it again)"
        GAVE_UP = "gave_up", "Not processed after every retry (staff must settle)"

    # The bodies that carry money (re-processed, spooled, reconciled); validations only ask.
    MONEY_KINDS = (Kind.STK, Kind.C2B_CONFIRMATION)
    # Stored but not yet settled: processing may still record an outcome over these, never over others.
    UNSETTLED = (Outcome.RECEIVED, Outcome.ERROR)

    kind = models.CharField(max_length=16, choices=Kind.choices)
    body = models.TextField()
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    checkout_request_id = models.CharField(max_length=64, blank=True)
    # The M-Pesa receipt the body carries (STK MpesaReceiptNumber, C2B TransID), set when processing
    # reads it: the log is searched by receipt through an index, not by scanning bodies.
    mpesa_receipt = models.CharField(max_length=20, blank=True, default="")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED)
    detail = models.CharField(max_length=255, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="callbacks")
    # Re-processing (billing/callback_sweeps.py): how often it was tried, and not before when again.
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["received_at"]), models.Index(fields=["checkout_request_id"]),
                   models.Index(fields=["mpesa_receipt"], name="billing_callback_receipt"),
                   models.Index(fields=["outcome", "received_at"]),
                   models.Index(fields=["retry_at"], condition=Q(outcome__in=["received", "error"]),
                                name="billing_callback_unsettled")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.received_at:%Y-%m-%d %H:%M:%S} {self.outcome}"


class LedgerEntry(models.Model):
    """One movement of a customer's wallet: the balance is the sum, never an edited number (Wallet
    keeps that sum as a figure, updated by the database with every entry written)."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment received"
        PURCHASE = "purchase", "Package bought"
        INVOICE = "invoice", "Invoice settled"
        REVERSAL = "reversal", "Refund / reversal"
        ADJUSTMENT = "adjustment", "Adjustment"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="ledger")
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="Credit positive, debit negative")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger")
    description = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["customer", "created_at"])]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.amount:+} {self.kind}"


class Wallet(models.Model):
    """A customer's balance kept as a figure, so pages need not sum the ledger: the database adds
    every ledger entry's amount to it in the statement that writes the entry (triggers created by
    migration 0006, which also filled it from the ledger). The ledger stays the truth:
    billing.wallets.mismatches() compares the two and fix() sets the figure from the ledger.
    No row means a balance of zero (rows appear with a customer's first entry that moves it)."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="wallet")
    balance = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        # /wallet/ lists the wallets holding (or owing) money, largest first: read in this index's order.
        indexes = [models.Index(fields=["-balance", "-customer"], condition=~Q(balance=0), name="billing_wallet_held")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.balance}"


class Invoice(models.Model):
    """A monthly bill for a PPPoE customer: issued before the period, due when it starts."""

    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"
        PAID = "paid", "Paid"
        OVERDUE = "overdue", "Overdue"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="invoices")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    issued_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ISSUED)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [models.UniqueConstraint(fields=["customer", "period_start"], name="one_invoice_per_period")]
        indexes = [models.Index(fields=["status", "due_at"]),
                   # The list's order, alone and under a status filter; the search's number__iexact.
                   models.Index(fields=["issued_at", "id"], name="billing_invoice_recent"),
                   models.Index(fields=["status", "issued_at", "id"], name="billing_invoice_status"),
                   models.Index(Upper("number"), name="billing_invoice_number_upper")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.ISSUED, self.Status.OVERDUE)


class PaymentReminder(models.Model):
    """A reminder sent once: the unique constraints are what make "once" hold under concurrency."""

    class Kind(models.TextChoices):
        EXPIRY = "expiry", "Subscription about to expire"
        INVOICE_DUE = "invoice_due", "Invoice due soon"
        INVOICE_OVERDUE = "invoice_overdue", "Invoice overdue"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reminders")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="reminders")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    lead_minutes = models.IntegerField(help_text="How long before the due time it was meant for")
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "kind", "lead_minutes"], name="one_reminder_per_sub_lead",
                                    condition=Q(subscription__isnull=False)),
            models.UniqueConstraint(fields=["invoice", "kind", "lead_minutes"], name="one_reminder_per_invoice_lead",
                                    condition=Q(invoice__isnull=False)),
        ]


class AllowanceAlert(models.Model):
    """An SMS that a subscription used 80 % or 100 % of its period's data allowance, once per period:
    the unique constraint is what makes "once" hold when the job runs twice or beside itself."""

    class Threshold(models.IntegerChoices):
        NEAR = 80, "80 % used"
        USED_UP = 100, "Used up"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="allowance_alerts")
    # The period it belongs to: the subscription's starts_at then (a renewal of the same row moves it).
    since = models.DateTimeField()
    threshold = models.PositiveSmallIntegerField(choices=Threshold.choices)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["subscription", "since", "threshold"],
                                               name="one_allowance_alert_per_period")]


class Notification(models.Model):
    """A message sent to a customer (receipt, reminder) and what the provider said."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "E-mail"

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    channel = models.CharField(max_length=5, choices=Channel.choices)
    to = models.CharField(max_length=254)
    text = models.TextField()
    backend = models.CharField(max_length=32)
    status = models.CharField(max_length=6, choices=Status.choices)
    error = models.CharField(max_length=255, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="notifications")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]


# --- report rollups (billing.payment_rollup, billing.customer_rollup; kept by lib.rollups) ---------
# Summary rows the reports, the dashboard and the payments page read instead of scanning payments.
# Days are business days: midnight to midnight in the business time zone (siteconfig.time_zone).


class PaymentDayQuerySet(models.QuerySet):
    def revenue(self):
        """The rows that are revenue: every method but the wallet, whose purchases spend money already
        counted when it came in (as billing.revenue and reconciliation count)."""
        return self.exclude(method=Payment.Method.WALLET)


class PaymentDay(models.Model):
    """Completed payments per business day (of completed_at) × package × router × method.

    ``payments``/``amount``: the completed payments that day, whatever happened to them later.
    ``refunds``/``refunded``: those of them later refunded or reversed (reversed_at set), counted on the
    payment's day, so a reversal changes the day the money came in (the only change a closed day
    sees); net revenue is amount − refunded. Wallet purchases are rows too (method "wallet"), not
    revenue: read revenue through ``PaymentDay.objects.revenue()``.
    ``router``: the router of the customer's session nearest the payment (the latest started no later
    than 15 minutes after it was completed and no earlier than 31 days before: the sign-in it paid
    for, or the session it renewed); empty when the customer had none. Written only by billing.payment_rollup."""

    objects = PaymentDayQuerySet.as_manager()

    day = models.DateField()
    package = models.ForeignKey(Package, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    router = models.ForeignKey("routers.Router", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    method = models.CharField(max_length=10, choices=Payment.Method.choices)
    payments = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    refunds = models.PositiveIntegerField(default=0)
    refunded = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["day", "package", "router", "method"],
                                               name="one_payment_day_per_key")]
        indexes = [models.Index(fields=["day"], name="billing_paymentday_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.method}: {self.payments} for {self.amount}"


class ReportTotal(models.Model):
    """What a report sums, summed ahead: a rollup's rows (PaymentDay, hotspot.UsageDay) per day and per
    month (``grain``), with router and package each kept or summed away (``kept``, a bit set of ROUTER
    and PACKAGE). A year grouped by router reads about 20,000 of these instead of 730,000 payment days
    or 10,000,000 usage days; a month's row for the months a range covers whole, day rows for its ends.

    Kept by the database, not by Python: statement triggers on the rollup tables (billing migration
    0011) add the rows each INSERT brings and take off those each DELETE takes (PostgreSQL only; on
    SQLite the reports read the rollup rows themselves). ``rows``: how many rollup rows a total sums;
    at 0 it is deleted."""

    DAY, MONTH = "d", "m"
    ROUTER, PACKAGE = 1, 2

    grain = models.CharField(max_length=1, choices=[(DAY, "day"), (MONTH, "month")])
    kept = models.PositiveSmallIntegerField()
    day = models.DateField()  # a month's first day for the month grain
    router = models.ForeignKey("routers.Router", on_delete=models.DO_NOTHING, null=True, blank=True,
                               related_name="+", db_constraint=False, db_index=False)
    package = models.ForeignKey(Package, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+",
                                db_constraint=False, db_index=False)
    rows = models.IntegerField(default=0)

    class Meta:
        abstract = True


class PaymentTotal(ReportTotal):
    """PaymentDay summed ahead (see ReportTotal); the method is always kept (revenue leaves the wallet out)."""

    method = models.CharField(max_length=10, choices=Payment.Method.choices)
    payments = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    refunds = models.BigIntegerField(default=0)
    refunded = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grain", "kept", "day", "router", "package", "method"],
                                               nulls_distinct=False, name="one_payment_total_per_key")]
        indexes = [models.Index(fields=["grain", "kept", "router", "day"], name="billing_paymenttotal_router"),
                   models.Index(fields=["grain", "kept", "package", "day"], name="billing_paymenttotal_package")]


class UsageTotal(ReportTotal):
    """hotspot.UsageDay summed ahead (see ReportTotal); devices are not summed (a device counts once a day)."""

    sessions = models.BigIntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grain", "kept", "day", "router", "package"],
                                               nulls_distinct=False, name="one_usage_total_per_key")]
        indexes = [models.Index(fields=["grain", "kept", "router", "day"], name="billing_usagetotal_router"),
                   models.Index(fields=["grain", "kept", "package", "day"], name="billing_usagetotal_package")]


class CustomerUsageMonth(models.Model):
    """hotspot.UsageDay summed per month (its first day) x username x package, whatever the router: the
    usage report's top customers over a long range read a row per customer (and package used) for each
    month it covers whole (100,000 a month) and UsageDay's rows only for its ends, instead of every
    day's rows; the top customers of one package read that package's rows alone. Kept by statement
    triggers on hotspot_usageday as UsageTotal is (billing migrations 0012, 0015; PostgreSQL only).
    ``rows``: how many UsageDay rows it sums; at 0 it is deleted.

    One row per (month, username, package), a row without a package included: a unique index NULLS
    NOT DISTINCT, made by migration 0015 on PostgreSQL (the triggers' upsert names it); not declared
    here, since SQLite has no such index and nothing writes the table there. ``package`` is not a
    database foreign key: the triggers follow a package's deletion through UsageDay's SET NULL."""

    month = models.DateField()
    username = models.TextField()
    package = models.ForeignKey(Package, on_delete=models.DO_NOTHING, null=True, related_name="+",
                                db_constraint=False, db_index=False)
    rows = models.IntegerField(default=0)
    sessions = models.BigIntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["month"], name="billing_usermonth_sums",
                                include=["username", "sessions", "seconds", "bytes_in", "bytes_out"]),
                   # one package's customers: the usage report's top customers with a package chosen
                   models.Index(fields=["package", "month"], name="billing_usermonth_package",
                                include=["username", "rows", "sessions", "seconds", "bytes_in", "bytes_out"])]


class CustomerUsageRunning(models.Model):
    """Each customer's downloads (UsageDay.bytes_out) added up month by month: ``downloaded[i]`` (1-based)
    is everything they downloaded up to the end of month ``first_month + i - 1``, months counted as
    year x 12 + month - 1 from their first month with use to their last; after it the total stays the
    last element's. What a customer downloaded over any run of whole months is then two subscripts of
    one row, so the usage report ranks 100,000 customers over a year from 100,000 rows instead of a
    row per customer and month (monitoring.reports.usage.top_customers). Kept by the same statement
    triggers as CustomerUsageMonth (billing migrations 0013, 0015): what a statement changed in a month
    is added from that month on. So a row may start before its customer's first month with use left
    and hold zeros there, or be all zeros once their use is all deleted: the totals are the same.
    PostgreSQL only: on SQLite the table is not created and nothing reads it."""

    username = models.TextField(unique=True)
    first_month = models.IntegerField()
    downloaded = ArrayField(models.BigIntegerField())


class CustomerUsageRecent(models.Model):
    """Each customer's downloads added up day by day: ``downloaded[i]`` (1-based) is everything they
    downloaded from ``first_day`` (the first day of the month before the row was written) through
    ``first_day + i - 1``, to their last day with use; after it the total stays the last element's.
    What a customer downloaded over any range inside the window (the last 30 days, last month) is
    two subscripts of one row, so the usage report ranks every customer over it from one row each.
    Kept by statement triggers on hotspot_usageday (billing migration 0014); PostgreSQL only."""

    username = models.TextField(unique=True)
    first_day = models.DateField(db_index=True)
    downloaded = ArrayField(models.BigIntegerField())


class CustomerDay(models.Model):
    """Customers coming, coming back and going, per business day. A customer's purchase is a completed
    payment of theirs (any method, the wallet's too) not later reversed; its day is that of completed_at.

    - ``active``: customers with a purchase that day.
    - ``new``: of those, customers whose first purchase ever is that day.
    - ``returning``: of those, customers who had bought before that day (active = new + returning).
    - ``churned``: customers whose last purchase was CHURN_DAYS (30) days before that day and who have
      not bought since: the day they count as gone. A customer who comes back later is counted again
      as returning on that day (and churned again 30 days after their last purchase).
    Written only by billing.customer_rollup."""

    CHURN_DAYS = 30

    day = models.DateField(primary_key=True)
    active = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    returning = models.PositiveIntegerField(default=0)
    churned = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.new} new, {self.returning} returning, {self.churned} churned"


class CohortMonth(models.Model):
    """The monthly cohort table: customers whose first purchase (as CustomerDay counts purchases) fell in
    ``cohort`` (the first day of that business month) and who bought in ``month``; ``amount`` what
    they paid that month, wallet purchases excluded (revenue). Retention of a cohort in a month is
    customers / the cohort's row for its own month. Written only by billing.customer_rollup."""

    cohort = models.DateField()
    month = models.DateField()
    customers = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        ordering = ["cohort", "month"]
        constraints = [models.UniqueConstraint(fields=["cohort", "month"], name="one_cohort_month")]

    def __str__(self) -> str:
        return f"cohort {self.cohort:%Y-%m} in {self.month:%Y-%m}: {self.customers}"


class Expense(models.Model):
    """Money the business spent (rent of a site, backhaul, power, airtime), recorded by Finance for the
    profit report (revenue − expenses, per month and per site). ``router`` is the site it was spent
    for, empty for the business as a whole. ``receipt``: a scan or photo, optional, checked by its
    first bytes before it is kept (billing.expenses.read_receipt). Changes go through
    billing.expenses, which audits them."""

    class Category(models.TextChoices):
        RENT = "rent", "Rent"
        BANDWIDTH = "bandwidth", "Bandwidth / backhaul"
        POWER = "power", "Power"
        EQUIPMENT = "equipment", "Equipment"
        SALARIES = "salaries", "Salaries"
        AIRTIME = "airtime", "Airtime and SMS"
        OTHER = "other", "Other"

    date = models.DateField()
    category = models.CharField(max_length=12, choices=Category.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    router = models.ForeignKey("routers.Router", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="expenses", verbose_name="site")
    note = models.CharField(max_length=255, blank=True)
    receipt = models.FileField(upload_to="expenses/%Y/%m/", blank=True, max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["date"], name="billing_expense_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_category_display()} {self.amount}"
