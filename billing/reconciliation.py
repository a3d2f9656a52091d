"""The daily reconciliation: payments against subscriptions, the ledger and the callbacks, with
every mismatch an operator must look at."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum

from hotspot.models import Subscription
from siteconfig import time_zone

from . import wallets
from .models import LedgerEntry, MpesaCallback, Payment

Status = Payment.Status
PAID_SOURCES = [Payment.Method.MPESA_STK, Payment.Method.MPESA_C2B, Payment.Method.CASH, "invoice", "wallet"]


@dataclass
class Mismatch:
    kind: str
    text: str
    payment_id: int | None = None
    callback_id: int | None = None


@dataclass
class Report:
    day: date
    start: datetime
    end: datetime
    by_method: list = field(default_factory=list)   # (method label, count, total) of completed payments
    by_status: dict = field(default_factory=dict)   # status -> count of payments started that day
    callbacks: dict = field(default_factory=dict)   # outcome label -> count
    settled_by_query: int = 0
    total: Decimal = Decimal("0.00")
    mismatches: list = field(default_factory=list)
    wallets_checked_at: datetime | None = None  # None: no check stored yet (a page's report)

    def lines(self) -> list[str]:
        out = [f"Reconciliation for {self.day:%Y-%m-%d} ({self.start.tzinfo})",
               f"Received: KES {self.total:,.2f}"]
        out += [f"  {label}: {count} payments, KES {total:,.2f}" for label, count, total in self.by_method]
        out.append("Payments started: " + ", ".join(f"{k} {v}" for k, v in self.by_status.items()) or "none")
        out.append("Callbacks: " + (", ".join(f"{k} {v}" for k, v in self.callbacks.items()) or "none"))
        out.append(f"Settled by STK query (callback lost or late): {self.settled_by_query}")
        out.append(f"Mismatches: {len(self.mismatches)}")
        out += [f"  [{m.kind}] {m.text}" for m in self.mismatches]
        return out


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The business day ``day`` in the saved time zone (general.time_zone), as [start, end)."""
    zone = time_zone.current()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def build(day: date, now: datetime | None = None, wallet_check: str = "whole") -> Report:
    """The day's report. ``wallet_check``: "whole" compares every wallet with its ledger (the jobs
    and commands, and stores the result), "stored" reads the last such check brought up to date
    (billing.wallets.last_check: a page)."""
    start, end = day_bounds(day)
    report = Report(day=day, start=start, end=end)
    completed = Payment.objects.filter(status=Status.COMPLETED, completed_at__gte=start, completed_at__lt=end)
    money = completed.exclude(method=Payment.Method.WALLET)
    labels = dict(Payment.Method.choices)
    for row in money.values("method").annotate(n=Count("pk"), total=Sum("amount")).order_by("method"):
        report.by_method.append((labels.get(row["method"], row["method"]), row["n"], row["total"]))
    report.total = money.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    started = Payment.objects.filter(created_at__gte=start, created_at__lt=end)
    report.by_status = {labels_status: n for labels_status, n in
                        started.values_list("status").annotate(n=Count("pk")).order_by("status")}
    outcomes = dict(MpesaCallback.Outcome.choices)
    report.callbacks = {outcomes.get(o, o): n for o, n in MpesaCallback.objects.filter(
        received_at__gte=start, received_at__lt=end).values_list("outcome").annotate(n=Count("pk")).order_by("outcome")}
    report.settled_by_query = completed.filter(method=Payment.Method.MPESA_STK, result_desc="Paid (query)").count()
    _mismatches(report, completed, start, end, now, wallet_check)
    return report


def _mismatches(report: Report, completed, start, end, now, wallet_check: str) -> None:
    add = report.mismatches.append
    # The package's name is in each line: joined, not a query per payment; and read as values, not
    # model rows (a bad day has thousands: issue 23's data set lists ~5,000 mismatches on one day).
    for pk, amount, package in completed.filter(Q(package__isnull=False) | Q(invoice__isnull=False),
                                                subscription__isnull=True).values_list("pk", "amount", "package__name"):
        add(Mismatch("paid, no subscription", f"Payment {pk} (KES {amount}) bought {package} but no "
                     "subscription records it", payment_id=pk))
    for p in completed.filter(customer__isnull=True):
        add(Mismatch("unassigned money", f"Payment {p.pk} (KES {p.amount}, {p.note}) has no customer", payment_id=p.pk))
    credited = {row["payment"]: row["total"] for row in LedgerEntry.objects.filter(
        payment__in=completed.exclude(method=Payment.Method.WALLET), kind=LedgerEntry.Kind.PAYMENT)
        .values("payment").annotate(total=Sum("amount"))}
    for pk, amount in completed.exclude(method=Payment.Method.WALLET).filter(customer__isnull=False).values_list(
            "pk", "amount"):
        if credited.get(pk) != amount:
            add(Mismatch("ledger", f"Payment {pk}: ledger credit {credited.get(pk)} != amount {amount}", payment_id=pk))
    from django.utils import timezone
    now = now or timezone.now()
    for p in Payment.objects.filter(status=Status.PENDING, created_at__gte=start, created_at__lt=end,
                                    window_ends_at__lt=now - timedelta(minutes=10)):
        add(Mismatch("stuck pending", f"Payment {p.pk} is still pending past its window", payment_id=p.pk))
    flagged = MpesaCallback.objects.filter(received_at__gte=start, received_at__lt=end, outcome__in=[
        MpesaCallback.Outcome.AMOUNT_MISMATCH, MpesaCallback.Outcome.UNKNOWN, MpesaCallback.Outcome.UNMATCHED])
    for c in flagged:
        add(Mismatch(c.get_outcome_display().lower(), f"Callback {c.pk} {c.checkout_request_id}: {c.detail}",
                     payment_id=c.payment_id, callback_id=c.pk))
    # A money body not settled yet (given up, or from an address outside the allowlist) is listed in
    # every day's report from the day it came until it is settled: it may be a receipt credited to nobody.
    unsettled = MpesaCallback.objects.filter(received_at__lt=end, kind__in=MpesaCallback.MONEY_KINDS, outcome__in=[
        *MpesaCallback.UNSETTLED, MpesaCallback.Outcome.GAVE_UP, MpesaCallback.Outcome.FORBIDDEN]).order_by("pk")
    for c in unsettled:
        add(Mismatch("callback not settled", f"Callback {c.pk} ({c.get_kind_display()}, "
                     f"{c.received_at:%Y-%m-%d %H:%M}, {c.get_outcome_display().lower()}, {c.attempts} attempts) "
                     f"{_receipt_of(c)}: {c.detail}", payment_id=c.payment_id, callback_id=c.pk))
    contradicted = MpesaCallback.objects.filter(received_at__gte=start, received_at__lt=end,
                                                outcome=MpesaCallback.Outcome.DUPLICATE,
                                                detail__contains="not credited")
    for c in contradicted:
        add(Mismatch("success after failure", f"Callback {c.pk}: {c.detail}", payment_id=c.payment_id,
                     callback_id=c.pk))
    # Not a day's figure: a stored balance off its ledger is listed every day until check_wallets --fix.
    # A page reads the hourly check's result (the whole ledger is too long to read while it waits).
    checked = wallets.check(now) if wallet_check == "whole" else wallets.last_check()
    report.wallets_checked_at = checked and checked.at
    for wrong in checked.found if checked else []:
        add(Mismatch("wallet balance", f"{wrong.text}: check_wallets --fix sets it from the ledger"))
    if checked and checked.unchecked:
        add(Mismatch("wallet balance", f"More than {wallets.RECHECK_MOST:,} wallets moved since the check of "
                     f"{checked.at:%Y-%m-%d %H:%M}: check_wallets compares them all"))
    paid_subs = Subscription.objects.filter(created_at__gte=start, created_at__lt=end, source__in=PAID_SOURCES,
                                            payments__isnull=True)
    for s in paid_subs.select_related("customer", "package"):
        add(Mismatch("subscription, no payment", f"Subscription {s.pk} ({s.customer} {s.package}, source "
                     f"{s.source}) has no payment", None))


def _receipt_of(callback: MpesaCallback) -> str:
    """The receipt an unsettled body names, read loosely (it may not parse), for staff to look up."""
    match = re.search(r'"TransID"\s*:\s*"([^"]{1,20})"', callback.body) or re.search(
        r'"MpesaReceiptNumber"\s*,\s*"Value"\s*:\s*"([^"]{1,20})"', callback.body)
    return f"receipt {match.group(1)}" if match else (callback.checkout_request_id or "no receipt")
