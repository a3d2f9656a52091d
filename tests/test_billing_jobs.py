"""Billing jobs: invoices for PPPoE months, reminders sent once, the reconciliation report, the
SMS adapter against an HTTP provider, and staff money operations (cash, wallet, reversal)."""
import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import redis
from django.core.management import call_command
from django.utils import timezone

from audit.models import Entry
from billing import invoices, notifications, payments, receipts, reconciliation, reminders
from billing.models import Invoice, LedgerEntry, Notification, Payment, PaymentReminder
from hotspot import services, subscriptions
from hotspot.models import Package, ServiceType, Subscription

from .payments_kit import closing
from .staff_kit import make_staff

PHONE = "254712345678"


@pytest.fixture
def monthly(db):
    return services.save_package(Package(name="Home 10M", price=2500, validity_minutes=43200,
                                         service_type=ServiceType.PPPOE, rate_limit="10M/10M"))


@pytest.fixture
def hourly(db):
    return services.save_package(Package(name="1 Hour", price=10, validity_minutes=60))


def test_pppoe_months_are_invoiced_once_and_paying_extends_them(monthly):
    customer = services.create_customer(PHONE, service_type=ServiceType.PPPOE)
    now = timezone.now()
    sub = subscriptions.activate(customer, monthly, "staff", now=now - timedelta(days=25))
    assert invoices.issue_due(now=now - timedelta(days=20)) == []  # not yet within 7 days
    issued = invoices.issue_due(now=now)
    assert len(issued) == 1 and invoices.issue_due(now=now) == []
    invoice = issued[0]
    assert invoice.number == f"INV{invoice.pk:06d}" and invoice.amount == 2500 and invoice.due_at == sub.expires_at
    payments.record_cash(customer=customer, amount=Decimal("2500"), invoice=invoice, by=None)
    invoice.refresh_from_db()
    sub.refresh_from_db()
    assert invoice.status == "paid" and sub.expires_at == invoice.period_end
    assert payments.balance(customer) == 0


def test_reminders_go_once_and_only_the_nearest_lead(monthly, hourly, settings):
    settings.REMINDER_EXPIRY_LEAD_MINUTES = [1440, 60]
    customer = services.create_customer(PHONE)
    now = timezone.now()
    subscriptions.activate(customer, monthly, "staff", now=now - timedelta(days=29, hours=23, minutes=30))
    short = services.create_customer("254700000002")
    subscriptions.activate(short, hourly, "mpesa_stk", now=now - timedelta(minutes=10))  # 50 min left
    first = reminders.send_due(now=now)
    assert (first.sent, first.skipped) == (1, 1)  # 30 min left: the 60-min one, the day one skipped
    again = reminders.send_due(now=now)
    assert (again.sent, again.skipped) == (0, 0)
    sent = PaymentReminder.objects.get(sent_at__isnull=False)
    assert sent.customer == customer and sent.lead_minutes == 60 and "Home 10M" in sent.message
    assert Notification.objects.filter(to=PHONE).count() == 1
    assert not PaymentReminder.objects.filter(customer=short).exists()  # an hour's package: no reminder


def test_concurrent_reminder_runs_send_once(monthly, settings, transactional_db):
    settings.REMINDER_EXPIRY_LEAD_MINUTES = [1440]
    customer = services.create_customer(PHONE)
    now = timezone.now()
    subscriptions.activate(customer, monthly, "staff", now=now - timedelta(days=29))
    runs = [threading.Thread(target=closing(reminders.send_due), kwargs={"now": now}) for _ in range(5)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert Notification.objects.count() == 1 and PaymentReminder.objects.count() == 1


def test_invoice_reminders_and_overdue(monthly, settings):
    settings.REMINDER_INVOICE_LEAD_DAYS = [3, 1]
    customer = services.create_customer(PHONE, service_type=ServiceType.PPPOE)
    now = timezone.now()
    invoice = Invoice.objects.create(number="INV000001", customer=customer, package=monthly, amount=2500,
                                     period_start=now + timedelta(days=2), period_end=now + timedelta(days=32),
                                     due_at=now + timedelta(days=2))
    assert reminders.send_due(now=now).sent == 1
    assert reminders.send_due(now=now + timedelta(days=1, hours=12)).sent == 1  # the one-day reminder
    late = reminders.send_due(now=now + timedelta(days=3))
    invoice.refresh_from_db()
    assert late.sent == 1 and invoice.status == "overdue"
    assert list(PaymentReminder.objects.order_by("pk").values_list("kind", flat=True)) == [
        "invoice_due", "invoice_due", "invoice_overdue"]
    # Turning overdue is an audited change, once, whoever runs the job again.
    reminders.send_due(now=now + timedelta(days=4))
    overdue = Entry.objects.get(action="overdue")
    assert (overdue.object_type, overdue.object_id, overdue.changes) == (
        "billing.invoice", str(invoice.pk), {"status": ["issued", "overdue"]})


class Provider:
    """An SMS provider speaking Africa's Talking's messaging API."""

    def __init__(self, status="Success"):
        self.requests = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                provider.requests.append((self.headers.get("apiKey"), form))
                body = json.dumps({"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [
                    {"number": form["to"][0], "status": status, "statusCode": 101, "cost": "KES 0.80"}]}}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/version1/messaging"



def test_a_receipt_is_owed_with_the_payment_and_sent_once(hourly, transactional_db):
    customer = services.create_customer(PHONE)
    payment = payments.record_cash(customer=customer, amount=Decimal("10"), package=hourly, by=None)
    note = Notification.objects.get()  # tests run Celery eagerly: the wake swept at commit
    assert note.to == PHONE and "Received KES 10" in note.text and customer.password in note.text
    payment.refresh_from_db()
    assert payment.receipt_sent_at is not None and not receipts.owed().exists()
    runs = [threading.Thread(target=closing(receipts.send_due)) for _ in range(4)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert Notification.objects.count() == 1


def test_receipts_wait_in_the_outbox_when_no_worker_takes_the_wake(hourly, settings,
                                                                  django_capture_on_commit_callbacks):
    """A worker that is down (or a lost wake) costs time, never the receipt; and a burst of
    payments queues one sweep, not a task per payment."""
    from celery import current_app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queued = broker.llen("billing")
    current_app.conf.task_always_eager = False
    try:
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(3):
                customer = services.create_customer(f"25470000000{n}")
                payments.record_cash(customer=customer, amount=Decimal("10"), package=hourly, by=None)
    finally:
        current_app.conf.task_always_eager = True
    assert broker.llen("billing") == queued + 1  # three payments, one wake
    assert not Notification.objects.exists() and receipts.owed().count() == 3
    call_command("send_receipts")
    assert Notification.objects.count() == 3 and not receipts.owed().exists()
    assert Notification.objects.filter(text__contains="valid until").count() == 3
    broker.delete("billing")


@pytest.mark.parametrize("status,expected", [("Success", "sent"), ("InvalidPhoneNumber", "failed")])
def test_the_http_sms_backend(settings, db, status, expected):
    provider = Provider(status)
    settings.SMS_BACKEND, settings.SMS_API_URL = "africastalking", provider.url
    settings.SMS_USERNAME, settings.SMS_API_KEY = "sandbox", "at-key"
    note = notifications.send_sms(PHONE, "Habari")
    provider.server.shutdown()
    assert note.status == expected
    key, form = provider.requests[0]
    assert key == "at-key" and form["to"] == ["+254712345678"] and form["message"] == ["Habari"]


def test_an_unreachable_provider_is_recorded_not_raised(settings, db):
    settings.SMS_BACKEND, settings.SMS_API_URL = "africastalking", "http://127.0.0.1:9/x"
    assert notifications.send_sms(PHONE, "Habari").status == "failed"


def test_cash_wallet_and_reversal_keep_the_ledger_true(hourly, monthly):
    clerk = make_staff("faith")
    customer = services.create_customer(PHONE)
    cash = payments.record_cash(customer=customer, amount=Decimal("25"), package=hourly, by=clerk)
    assert cash.status == "completed" and payments.balance(customer) == 15
    assert Subscription.objects.get(customer=customer).package == hourly
    with pytest.raises(payments.PaymentError):
        payments.record_cash(customer=customer, amount=Decimal("5"), package=hourly, by=clerk)
    with pytest.raises(payments.PaymentError):
        payments.buy_from_wallet(customer, monthly)
    payments.buy_from_wallet(customer, hourly)
    assert payments.balance(customer) == 5
    payments.reverse(cash, by=clerk, reason="Customer asked for a refund")
    with pytest.raises(payments.PaymentError):
        payments.reverse(cash, by=clerk, reason="again")
    # The 25 came in and went out again; the two packages bought from the wallet (10 each) stand.
    assert payments.balance(customer) == -20
    assert LedgerEntry.objects.filter(kind="reversal").count() == 1


def test_reconciliation_flags_what_does_not_add_up(hourly, capsys):
    customer = services.create_customer(PHONE)
    ok = payments.record_cash(customer=customer, amount=Decimal("10"), package=hourly, by=None)
    orphan = Payment.objects.create(customer=customer, phone=PHONE, package=hourly, amount=10, method="mpesa_stk",
                                    status="completed", completed_at=timezone.now(), mpesa_receipt="TORPHAN001")
    report = reconciliation.build(timezone.localdate())
    kinds = {(m.kind, m.payment_id) for m in report.mismatches}
    assert ("paid, no subscription", orphan.pk) in kinds and ("ledger", orphan.pk) in kinds
    assert not any(pid == ok.pk for _, pid in kinds)
    assert report.total == Decimal("20.00")
    with pytest.raises(SystemExit):
        call_command("reconcile_payments", "--date", timezone.localdate().isoformat())
    assert "paid, no subscription" in capsys.readouterr().out
