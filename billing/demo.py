"""Demo money: six months of payments as records, and what still counts bought through the payment path.

History (hotspot.demo's plans that are over) is written in bulk: a completed payment per past
subscription, its two ledger entries, and the failed prompts a real till sees. Each customer's
live purchases go where production's go: an M-Pesa prompt settled by its callback body (billing.callbacks,
kept for the M-Pesa transactions page), a C2B confirmation, cash at the counter (payments.record_cash),
a PPPoE month's invoice issued (invoices.issue) and paid by prompt. Those run at the seed's moment and are then
dated back by the customer's age (date_back), RADIUS access rewritten from the moved rows."""
import json
import random
import string
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from audit.actors import Actor, acting_as
from hotspot import demo as hotspot_demo
from hotspot.models import Customer, Package, Subscription
from routers.models import Router

from . import callbacks, expenses, invoices, payments
from .models import Expense, Invoice, LedgerEntry, MpesaCallback, Payment

FAILURES = [(1032, "Request cancelled by user"), (1037, "DS timeout user cannot be reached"),
            (1, "The balance is insufficient for the transaction")]
HISTORY_FAILURES = [Payment.Status.CANCELLED, Payment.Status.FAILED, Payment.Status.TIMED_OUT]
Method = Payment.Method
SAFARICOM = "196.201.214.200"  # where Daraja's callbacks come from (one of Safaricom's documented addresses)


class Till:
    """Receipt numbers and CheckoutRequestIDs, unique and reproducible from the seed."""

    def __init__(self, rng: random.Random):
        self.rng, self.receipts, self.prompts = rng, set(), 0

    def receipt(self) -> str:
        while True:
            receipt = "T" + "".join(self.rng.choices(string.ascii_uppercase + string.digits, k=9))
            if receipt not in self.receipts:
                self.receipts.add(receipt)
                return receipt

    def checkout_id(self) -> str:
        self.prompts += 1
        return f"ws_CO_DEMO{self.prompts:08d}"


def _method(rng: random.Random) -> str:
    return Method.MPESA_STK if rng.random() < 0.85 else rng.choice([Method.MPESA_C2B, Method.CASH])


# --- history ----------------------------------------------------------------------------------------

def seed_history_subscriptions(plans: list[hotspot_demo.Plan], till: Till) -> list[Subscription]:
    """The subscriptions that are over, each paid one way or another (seed_history_payments)."""
    for plan in plans:
        for purchase in plan.history:
            purchase.source = _method(till.rng)
    return hotspot_demo.write_history(plans)


def seed_history_payments(subscriptions: list[Subscription], till: Till) -> int:
    """A completed payment for each past subscription, its ledger, and failed prompts; returns how many."""
    rng = till.rng
    rows = []
    for sub in subscriptions:
        paid_at = sub.starts_at - timedelta(seconds=rng.randint(5, 40))
        rows.append(Payment(
            customer=sub.customer, phone=sub.customer.phone, package=sub.package, subscription=sub,
            amount=sub.package.price, method=sub.source, status=Payment.Status.COMPLETED,
            mpesa_receipt=till.receipt() if sub.source != Method.CASH else None,
            created_at=paid_at - timedelta(seconds=20), completed_at=paid_at, receipt_sent_at=paid_at))
        if rng.random() < 0.08:  # a cancelled prompt or a timeout before the successful retry
            rows.append(Payment(
                customer=sub.customer, phone=sub.customer.phone, package=sub.package, amount=sub.package.price,
                method=Method.MPESA_STK, status=rng.choice(HISTORY_FAILURES),
                created_at=paid_at - timedelta(minutes=2)))
    Payment.objects.bulk_create(rows, batch_size=1000)
    # The wallet ledger as live payments write it: the money in, then the package bought with it.
    ledger = []
    for payment in rows:
        if payment.status == Payment.Status.COMPLETED:
            ledger += [
                LedgerEntry(customer=payment.customer, amount=payment.amount, kind=LedgerEntry.Kind.PAYMENT,
                            payment=payment, created_at=payment.completed_at,
                            description=f"{payment.get_method_display()} {payment.mpesa_receipt or ''}".strip()),
                LedgerEntry(customer=payment.customer, amount=-payment.amount, kind=LedgerEntry.Kind.PURCHASE,
                            payment=payment, created_at=payment.completed_at, description=payment.package.name),
            ]
    LedgerEntry.objects.bulk_create(ledger, batch_size=1000)
    return len(rows)


# --- the payment path -------------------------------------------------------------------------------

def _prompt(customer: Customer, till: Till, package: Package | None = None, invoice: Invoice | None = None) -> Payment:
    """The pending payment start_stk records before Daraja prompts the phone (the demo has no Daraja)."""
    now = timezone.now()
    package = invoice.package if invoice is not None else package
    return Payment.objects.create(
        customer=customer, phone=customer.phone, package=package, invoice=invoice,
        amount=invoice.amount if invoice is not None else package.price, method=Method.MPESA_STK,
        checkout_request_id=till.checkout_id(), merchant_request_id=f"DEMO-{till.prompts}", created_at=now,
        window_ends_at=now + timedelta(seconds=settings.MPESA_PAYMENT_WINDOW_SECONDS))


def _stk_callback(payment: Payment, code: int, desc: str, receipt: str = "") -> dict:
    """The body Daraja posts when the customer answers the prompt (as billing.daraja_simulator writes it)."""
    callback = {"MerchantRequestID": payment.merchant_request_id, "CheckoutRequestID": payment.checkout_request_id,
                "ResultCode": code, "ResultDesc": desc}
    if code == 0:
        callback["CallbackMetadata"] = {"Item": [
            {"Name": "Amount", "Value": float(payment.amount)}, {"Name": "MpesaReceiptNumber", "Value": receipt},
            {"Name": "PhoneNumber", "Value": int(payment.phone)}]}
    return {"Body": {"stkCallback": callback}}


def _posted(handle, body: dict) -> Payment:
    """Hand a body to the callback handler as the view does (kept, then settled); its payment."""
    record = handle(json.dumps(body).encode(), SAFARICOM)
    if record.payment_id is None:
        raise RuntimeError(f"demo callback not settled: {record.outcome} {record.detail}")
    return Payment.objects.get(pk=record.payment_id)


def pay_by_prompt(customer: Customer, till: Till, package: Package | None = None,
                  invoice: Invoice | None = None) -> Payment:
    """A prompt the customer accepts: its callback credits it."""
    payment = _prompt(customer, till, package, invoice)
    return _posted(callbacks.handle_stk, _stk_callback(payment, 0, "The service request is processed successfully.",
                                                       till.receipt()))


def refuse_prompt(customer: Customer, till: Till, package: Package) -> Payment:
    """A prompt the customer cancels, cannot be reached on, or cannot afford."""
    payment = _prompt(customer, till, package)
    return _posted(callbacks.handle_stk, _stk_callback(payment, *till.rng.choice(FAILURES)))


def pay_to_paybill(customer: Customer, till: Till, package: Package) -> Payment:
    """C2B to the paybill, account "<username>#<package>": its confirmation records and credits it."""
    return _posted(callbacks.handle_c2b_confirmation, {
        "TransactionType": "Pay Bill", "TransID": till.receipt(), "TransTime": timezone.now().strftime("%Y%m%d%H%M%S"),
        "TransAmount": f"{package.price:.2f}", "BusinessShortCode": "174379",
        "BillRefNumber": f"{customer.username}#{package.pk}", "MSISDN": customer.phone, "FirstName": ""})


def pay(customer: Customer, till: Till, package: Package, cashier) -> Payment:
    method = _method(till.rng)
    if method == Method.CASH:
        with acting_as(Actor.staff(cashier)):
            return payments.record_cash(customer=customer, amount=package.price, by=cashier, package=package)
    if method == Method.MPESA_C2B:
        return pay_to_paybill(customer, till, package)
    return pay_by_prompt(customer, till, package)


def seed_live(plans: list[hotspot_demo.Plan], till: Till, cashier) -> dict[int, timedelta]:
    """Each customer's live purchase through the payment path, now; returns how far back each
    customer's purchase belongs (their age, for date_back). A PPPoE customer renewing pays the
    invoice of the month before (issued days before its end, as issue_due does)."""
    rng, now, ages = till.rng, timezone.now(), {}
    for plan in (plan for plan in plans if plan.live):
        customer, purchase = plan.customer, plan.live[0]
        ages[customer.pk] = now - purchase.starts_at
        if rng.random() < 0.08:
            refuse_prompt(customer, till, purchase.package)
        before = customer.subscriptions.order_by("-expires_at").first() if plan.service_type == "pppoe" else None
        if before is not None and purchase.starts_at - before.expires_at < timedelta(days=1):
            issued = before.expires_at - timedelta(days=settings.INVOICE_ISSUE_DAYS_BEFORE)
            pay_by_prompt(customer, till, invoice=invoices.issue(before, now=issued))
        else:
            pay(customer, till, purchase.package, cashier)
    return ages


def seed_top_ups(plans: list[hotspot_demo.Plan], till: Till) -> int:
    """A few connected customers buy again just now: the same package extends what runs, another
    is queued after it (after date_back, so the extension starts from the dated end)."""
    rng, topped = till.rng, 0
    daily = Package.objects.get(name="Daily")
    for plan in (plan for plan in plans if plan.live and plan.service_type == "hotspot"):
        if rng.random() < 0.08 and plan.customer.subscriptions.active().exists():
            pay_by_prompt(plan.customer, till, plan.live[0].package if rng.random() < 0.5 else daily)
            topped += 1
    return topped


def date_back(ages: dict[int, timedelta], bought_since: datetime) -> None:
    """Move what was bought live since ``bought_since`` back by each customer's age: the
    subscriptions (hotspot.demo.date_back), the payments and ledger, an invoice's payment date;
    the receipts of those payments went out at the time."""
    hotspot_demo.date_back(ages, bought_since)
    for customer_id, age in ages.items():
        mine = {"customer_id": customer_id}
        Payment.objects.filter(**mine, created_at__gte=bought_since).update(
            created_at=F("created_at") - age, completed_at=F("completed_at") - age,
            window_ends_at=F("window_ends_at") - age, receipt_sent_at=F("completed_at") - age)
        LedgerEntry.objects.filter(**mine, created_at__gte=bought_since).update(created_at=F("created_at") - age)
        MpesaCallback.objects.filter(payment__customer_id=customer_id, received_at__gte=bought_since).update(
            received_at=F("received_at") - age)
    for invoice in Invoice.objects.filter(customer__in=list(ages), paid_at__gte=bought_since):
        Invoice.objects.filter(pk=invoice.pk).update(paid_at=F("paid_at") - ages[invoice.customer_id])


# What each demo site costs a month (rent, power) and the whole business's backhaul, in KES: the
# profit report then shows a site or two that pays for itself and one that does not.
SITE_RENT = (Decimal("6000.00"), Decimal("4500.00"), Decimal("3500.00"), Decimal("2500.00"))
SITE_POWER = Decimal("1200.00")
BACKHAUL = Decimal("15000.00")
EXPENSE_MONTHS = 6


def seed_expenses(today, by) -> int:
    """Six months of the business's costs, recorded as Finance records them (billing.expenses, audited):
    each site's rent on the 1st and power on the 20th, the backhaul on the 5th, and a new access point
    bought last month. Only days up to ``today``; returns how many."""
    sites = list(Router.objects.order_by("pk")[:len(SITE_RENT)])
    first = today.replace(day=1)
    made = []
    for back in range(EXPENSE_MONTHS):
        month = first
        for _ in range(back):
            month = (month - timedelta(days=1)).replace(day=1)
        made += [(month, Expense.Category.RENT, rent, site, f"{site.site or site.name} rent, {month:%B}")
                 for site, rent in zip(sites, SITE_RENT, strict=False)]
        made.append((month.replace(day=5), Expense.Category.BANDWIDTH, BACKHAUL, None, f"Fibre backhaul, {month:%B}"))
        made += [(month.replace(day=20), Expense.Category.POWER, SITE_POWER, site, "Electricity token")
                 for site in sites[:2]]
        if back == 1 and sites:
            made.append((month.replace(day=12), Expense.Category.EQUIPMENT, Decimal("9500.00"), sites[-1],
                         "Outdoor access point"))
    rows = [row for row in made if row[0] <= today]
    for day, category, amount, site, note in rows:
        expenses.create(by=by, date=day, category=category, amount=amount, router=site, note=note)
    return len(rows)
