"""The billing admin pages: payments, M-Pesa transactions, invoices, wallets, payment methods and
reports, each seen by the role that uses it (Faith in finance, Samuel in support, Amani the admin)."""
import csv
import io
import json
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import FINANCE, SUPPORT
from billing import payments, report_rollups, wallets
from billing.daraja_simulator import DarajaSimulator
from billing.models import Invoice, LedgerEntry, MpesaCallback, Notification, Payment
from hotspot import services
from hotspot.models import Customer, Package, ServiceType, Subscription

pytestmark = pytest.mark.django_db
NAIROBI = ZoneInfo("Africa/Nairobi")
Status, Method = Payment.Status, Payment.Method


def make_package(name="Daily 1GB", price=50, minutes=1440, **extra) -> Package:
    return services.save_package(Package(name=name, price=price, validity_minutes=minutes, rate_limit="2M/5M",
                                         **extra))


def make_customer(phone="0712 000 001", name="") -> Customer:
    return services.create_customer(phone, name=name)


def make_payment(customer=None, amount="50", status=Status.COMPLETED, method=Method.MPESA_STK, at=None,
                 **fields) -> Payment:
    """A payment row as the settled past left it (the pages only read these)."""
    at = at or timezone.now()
    return Payment.objects.create(
        customer=customer, phone=(customer.phone if customer else "") or "", amount=Decimal(amount), method=method,
        status=status, created_at=at, completed_at=at if status == Status.COMPLETED else None, **fields)


def nairobi(*args) -> datetime:
    return datetime(*args, tzinfo=NAIROBI)


@pytest.fixture
def faith(signed_in):
    client = signed_in(FINANCE)
    return client


@pytest.fixture
def samuel(signed_in):
    client = signed_in(SUPPORT)
    return client


# --- payments -------------------------------------------------------------------------------------

def test_it_filters_payments_by_status_method_days_and_search(faith):
    wanjiru = make_customer("0712 000 001", "Wanjiru")
    otieno = make_customer("0722 000 002", "Otieno")
    make_payment(wanjiru, "50", mpesa_receipt="TAB123XYZ9", checkout_request_id="ws_CO_111",
                 at=nairobi(2025, 3, 1, 0, 30))
    make_payment(otieno, "100", status=Status.FAILED, at=nairobi(2025, 3, 2, 23, 50))
    make_payment(otieno, "70", method=Method.CASH, at=nairobi(2025, 3, 3, 9))

    def shown(query: str) -> set[str]:
        html = faith.get(f"/payments/?{query}").content.decode()
        return {amount for amount in ("50.00", "100.00", "70.00") if f">{amount}</td>" in html}

    assert shown("") == {"50.00", "100.00", "70.00"}
    assert shown("status=failed") == {"100.00"}
    assert shown("method=cash") == {"70.00"}
    # Nairobi days: 00:30 on 1 March is still 28 February in UTC, and "to" includes its whole day.
    assert shown("from=2025-03-01&to=2025-03-01") == {"50.00"}
    assert shown("from=2025-03-02&to=2025-03-02") == {"100.00"}
    assert shown("q=0712000001") == shown("q=+254712000001") == {"50.00"}
    assert shown("q=tab123xyz9") == shown("q=ws_CO_111") == shown("q=wanj") == {"50.00"}
    assert shown(f"q={otieno.username}") == {"100.00", "70.00"}
    assert shown(f"customer={wanjiru.pk}") == {"50.00"}


def test_a_bad_filter_value_is_reported_and_ignored(faith):
    make_payment(make_customer())
    response = faith.get("/payments/?from=yesterday&status=nonsense")
    html = response.content.decode()
    assert response.status_code == 200 and "Enter a valid date." in html and ">50.00</td>" in html


def test_an_htmx_search_renders_only_the_results(faith):
    make_payment(make_customer())
    html = faith.get("/payments/?q=0712000001", HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="results">') and "<html" not in html and ">50.00</td>" in html


def test_totals_are_for_those_who_see_revenue(signed_in):
    customer = make_customer()
    make_payment(customer, "1500")
    make_payment(customer, "1250.50")
    make_payment(customer, "900", status=Status.FAILED)
    client = signed_in(FINANCE)
    html = client.get("/payments/").content.decode()
    assert "data-totals" in html and "KES 2,750.50" in html and "<strong>2</strong> payments" in html
    client = signed_in(SUPPORT)  # Support sees the customer's payments, never totals
    html = client.get(f"/customers/{customer.pk}/payments/").content.decode()
    assert "data-totals" not in html and "2,750.50" not in html and ">1,500.00</td>" in html


def test_the_csv_holds_exactly_the_filtered_payments(faith):
    customer = make_customer(name="=HYPERLINK(evil)")
    make_payment(customer, "1234.5", mpesa_receipt="TAB123XYZ9", at=nairobi(2025, 3, 1, 0, 30))
    make_payment(customer, "99", status=Status.FAILED, at=nairobi(2025, 3, 1, 8))
    response = faith.get("/payments/export.csv?status=completed")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="payments-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    row = rows[0]
    assert row["amount_kes"] == "1234.50" and row["mpesa_receipt"] == "TAB123XYZ9" and row["status"] == "completed"
    assert row["created_at"] == "2025-03-01 00:30:00"  # Nairobi time, as staff read it
    assert row["customer"] == "'=HYPERLINK(evil)"  # a spreadsheet must not run it


def test_the_payment_list_runs_the_same_queries_for_one_row_or_thirty(faith, django_assert_num_queries):
    package = make_package()
    customer = make_customer()
    make_payment(customer, package=package)
    # session, user, permissions (2), the role names in the top bar, count, rows, totals, session save (3)
    with django_assert_num_queries(11):
        faith.get("/payments/")
    for n in range(29):
        make_payment(make_customer(f"07220000{n:02d}"), package=package, mpesa_receipt=f"TAB{n:07d}")
    with django_assert_num_queries(11):
        html = faith.get("/payments/").content.decode()
    assert html.count('href="/payments/') >= 30


def test_every_list_costs_the_same_for_one_row_or_thirty(faith):
    """Lists of callbacks, invoices and wallets must not grow a query per row."""
    pages = ["/payments/mpesa/", "/invoices/", "/wallet/"]

    def counts() -> list[int]:
        result = []
        for url in pages:
            with CaptureQueriesContext(connection) as queries:
                assert faith.get(url).status_code == 200
            result.append(len(queries))
        return result

    monthly = make_package("Home 10M", 2500, 43200)

    def add_one(n: int) -> None:
        customer = make_customer(f"07330000{n:02d}", f"Home {n}")
        payment = make_payment(customer, "2500", checkout_request_id=f"ws_CO_{n}")
        MpesaCallback.objects.create(kind="stk", body="{}", payment=payment, outcome="credited")
        LedgerEntry.objects.create(customer=customer, amount=Decimal("2500"), kind="payment", payment=payment)
        start = timezone.now() + timedelta(days=n + 1)
        Invoice.objects.create(number=f"INV{n:06d}", customer=customer, package=monthly, amount=monthly.price,
                               period_start=start, period_end=start + timedelta(days=30), due_at=start)

    add_one(0)
    one = counts()
    for n in range(1, 30):
        add_one(n)
    assert counts() == one


def _list_rows(n: int, finance_clerk) -> Customer:
    """``n`` rows for every billing list, each row with what its page shows of its relations: payments
    with a customer, package and invoice, their callbacks, invoices of many customers, wallet entries by
    staff. Returns the customer whose wallet and payments the per-customer lists show."""
    package, monthly = make_package(), make_package("Home 10M", 2500, 43200)
    wanjiru = make_customer("0744 000 000", "Wanjiru")
    for k in range(n):
        customer = make_customer(f"07440001{k:02d}", f"Home {k}")
        start = timezone.now() + timedelta(days=30 * k)
        invoice = Invoice.objects.create(number=f"INV{k:06d}", customer=customer, package=monthly,
                                         amount=monthly.price, period_start=start,
                                         period_end=start + timedelta(days=30), due_at=start)
        payment = make_payment(customer, "2500", invoice=invoice, checkout_request_id=f"ws_CO_{k}")
        MpesaCallback.objects.create(kind="stk", body="{}", payment=payment, outcome="credited")
        LedgerEntry.objects.create(customer=customer, amount=Decimal("2500"), kind="payment", payment=payment)
        mine = make_payment(wanjiru, "50", package=package, mpesa_receipt=f"TQL{k:07d}")
        LedgerEntry.objects.create(customer=wanjiru, amount=Decimal("50"), kind="payment", payment=mine,
                                   created_by=finance_clerk)
    return wanjiru


# Every billing list with its query count, the same for 2 rows or 40 (one page): session, user, permissions
# (2), the role names in the top bar and saving the session (3) on every page, 8 in all; then the page's own.
LIST_QUERIES = {
    "/payments/": 11,                  # count, rows, totals
    "/payments/mpesa/": 10,            # count, rows
    "/invoices/": 11,                  # what is owed, count, rows
    "/wallet/": 11,                    # held in all wallets, count, rows
    "/wallet/{pk}/": 13,               # the customer, balance, count, rows, the packages to buy
    "/customers/{pk}/payments/": 11,   # the customer, count, rows
}


@pytest.mark.parametrize("rows", [2, 40])
@pytest.mark.parametrize("url", LIST_QUERIES)
def test_every_billing_list_costs_the_same_queries_for_two_rows_or_forty(faith, finance_clerk, url, rows,
                                                                          django_assert_num_queries):
    wanjiru = _list_rows(rows, finance_clerk)
    with django_assert_num_queries(LIST_QUERIES[url]):
        html = faith.get(url.format(pk=wanjiru.pk)).content.decode()
    assert html.count("<tr><td") >= rows


def test_a_payment_shows_its_callbacks_ledger_and_messages(faith):
    customer = make_customer(name="Wanjiru")
    payment = make_payment(customer, "50", mpesa_receipt="TAB123XYZ9", checkout_request_id="ws_CO_777")
    MpesaCallback.objects.create(kind="stk", body=json.dumps({"Body": {"stkCallback": {"ResultCode": 0}}}),
                                 payment=payment, outcome="credited", source_ip="196.201.214.200")
    MpesaCallback.objects.create(kind="stk", body='{"late": true}', checkout_request_id="ws_CO_777",
                                 outcome="unknown")
    LedgerEntry.objects.create(customer=customer, amount=Decimal("50"), kind="payment", payment=payment,
                               description="M-Pesa (STK push) TAB123XYZ9")
    Notification.objects.create(channel="sms", to=customer.phone, text="Received KES 50, receipt TAB123XYZ9",
                                backend="console", status="sent", customer=customer)
    html = faith.get(f"/payments/{payment.pk}/").content.decode()
    assert "ws_CO_777" in html and "196.201.214.200" in html and "&quot;ResultCode&quot;: 0" in html
    assert "<details>" in html and "Unknown CheckoutRequestID" in html
    assert "M-Pesa (STK push) TAB123XYZ9" in html and "Received KES 50, receipt TAB123XYZ9" in html
    assert "Refund / reverse" in html and "Ask M-Pesa now" not in html  # settled: nothing to ask


def test_support_sees_the_customers_payments_but_not_the_payment_pages_or_buttons(samuel):
    customer = make_customer()
    payment = make_payment(customer, "50", checkout_request_id="ws_CO_777", mpesa_receipt="TAB777XYZ1")
    MpesaCallback.objects.create(kind="stk", body='{"secret-ish": 1}', payment=payment, outcome="credited")
    html = samuel.get(f"/customers/{customer.pk}/payments/").content.decode()
    assert "TAB777XYZ1" in html and "secret-ish" not in html and f"/payments/{payment.pk}/" not in html
    assert "Ask M-Pesa now" not in html and "Refund / reverse" not in html
    assert samuel.get(f"/payments/{payment.pk}/").status_code == 403


def test_asking_mpesa_about_a_push_never_acknowledged_times_it_out(faith):
    customer = make_customer()
    payment = make_payment(customer, "50", status=Status.PENDING,
                           window_ends_at=timezone.now() - timedelta(minutes=1))
    assert "Ask M-Pesa now" in faith.get(f"/payments/{payment.pk}/").content.decode()
    response = faith.post(f"/payments/{payment.pk}/verify/", follow=True)
    assert response.redirect_chain == [(f"/payments/{payment.pk}/", 302)]
    assert f"M-Pesa on payment {payment.pk}: timed out (no CheckoutRequestID)." in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == Status.TIMED_OUT
    assert "Ask M-Pesa now" not in response.content.decode()  # no ID: nothing left to ask about
    again = faith.post(f"/payments/{payment.pk}/verify/", follow=True).content.decode()
    assert "not due" in again


def test_verify_and_reverse_take_post_only(faith):
    payment = make_payment(make_customer())
    assert faith.get(f"/payments/{payment.pk}/verify/").status_code == 405
    assert faith.get(f"/payments/{payment.pk}/reverse/").status_code == 405


def test_reversing_writes_the_opposite_of_every_ledger_entry(faith, finance_clerk):
    package = make_package()
    customer = make_customer()
    payment = payments.record_cash(customer=customer, amount=Decimal("50"), by=finance_clerk, package=package)
    originals = list(payment.ledger.values_list("kind", "amount"))
    assert sorted(originals) == [("payment", Decimal("50.00")), ("purchase", Decimal("-50.00"))]
    response = faith.post(f"/payments/{payment.pk}/reverse/", {"reason": "refunded at the counter"}, follow=True)
    assert f"Payment {payment.pk} is reversed" in response.content.decode()
    reversals = list(payment.ledger.filter(kind=LedgerEntry.Kind.REVERSAL))
    assert sorted(e.amount for e in reversals) == sorted(-amount for _, amount in originals)
    assert all(e.created_by == finance_clerk and "reversed: refunded at the counter" in e.description
               for e in reversals)
    payment.refresh_from_db()
    assert payment.reversed_at and payment.note == "Reversed: refunded at the counter"
    twice = faith.post(f"/payments/{payment.pk}/reverse/", {"reason": "again"}, follow=True).content.decode()
    assert "Only a completed payment that has not been reversed" in twice
    assert payment.ledger.filter(kind=LedgerEntry.Kind.REVERSAL).count() == 2


def test_reversing_money_left_in_the_wallet_takes_it_out(faith, finance_clerk):
    customer = make_customer()
    payment = payments.record_cash(customer=customer, amount=Decimal("80"), by=finance_clerk)
    assert payments.balance(customer) == Decimal("80.00")
    faith.post(f"/payments/{payment.pk}/reverse/", {"reason": "counted twice"})
    assert payments.balance(customer) == 0


def test_a_reversal_needs_a_reason(faith):
    customer = make_customer()
    payment = payments.record_cash(customer=customer, amount=Decimal("50"), by=None)
    html = faith.post(f"/payments/{payment.pk}/reverse/", {"reason": "  "}, follow=True).content.decode()
    assert "Say why the payment is reversed" in html and not LedgerEntry.objects.filter(kind="reversal").exists()


# --- cash -----------------------------------------------------------------------------------------

def test_cash_for_a_package_completes_it_and_the_change_stays_in_the_wallet(faith, finance_clerk):
    package = make_package()
    customer = make_customer(name="Wanjiru")
    response = faith.post("/payments/cash/", {"customer": "0712 000 001", "amount": "80", "package": package.pk,
                                              "note": "paid at the shop"})
    payment = Payment.objects.get(method=Method.CASH)
    assert response.status_code == 302 and response.url == f"/payments/{payment.pk}/"
    assert payment.status == Status.COMPLETED and payment.recorded_by == finance_clerk
    assert payment.note == "paid at the shop" and payment.amount == Decimal("80.00")
    assert Subscription.objects.get(customer=customer).package == package
    assert payments.balance(customer) == Decimal("30.00")
    assert "Recorded KES 80.00 cash from Wanjiru." in faith.get(response.url).content.decode()


def test_cash_can_pay_an_open_invoice_by_its_number(faith):
    monthly = make_package("Home 10M", 2500, 43200)
    customer = make_customer()
    start = timezone.now() + timedelta(days=3)
    invoice = Invoice.objects.create(number="INV000042", customer=customer, package=monthly, amount=monthly.price,
                                     period_start=start, period_end=start + timedelta(days=30), due_at=start)
    response = faith.post("/payments/cash/", {"customer": customer.username, "amount": "2500",
                                              "invoice": "inv000042"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


@pytest.mark.parametrize("data,error", [
    ({"customer": "0799 999 999", "amount": "50"}, "No customer has this phone number or username."),
    ({"customer": "nobody", "amount": "50"}, "No customer has this phone number or username."),
    ({"customer": "0712000001", "amount": "fifty"}, "Enter a number."),
    ({"customer": "0712000001", "amount": "-5"}, "Ensure this value is greater than or equal to 0.01."),
    ({"customer": "0712000001", "amount": "20", "package": "PACKAGE"}, "Daily 1GB costs KES 50.00."),
    ({"customer": "0712000001", "amount": "50", "invoice": "INV999999"}, "No invoice has this number."),
])
def test_bad_cash_input_is_a_form_error_not_a_payment(faith, data, error):
    package = make_package()
    make_customer()
    if data.get("package") == "PACKAGE":
        data = {**data, "package": package.pk}
    response = faith.post("/payments/cash/", data)
    assert response.status_code == 200 and error in response.content.decode()
    assert not Payment.objects.exists()


def test_the_cash_form_prefills_the_customer(faith):
    html = faith.get("/payments/cash/?customer=c123").content.decode()
    assert 'value="c123"' in html


# --- M-Pesa transactions --------------------------------------------------------------------------

def test_the_callback_log_filters_and_searches(faith):
    payment = make_payment(make_customer(), checkout_request_id="ws_CO_1")
    MpesaCallback.objects.create(kind="stk", body='{"stkCallback": "ws_CO_1"}', checkout_request_id="ws_CO_1",
                                 outcome="credited", payment=payment, source_ip="196.201.214.200")
    MpesaCallback.objects.create(kind="c2b_confirmation", body='{"BillRefNumber": "nobody-here"}',
                                 outcome="unmatched")
    everything = faith.get("/payments/mpesa/").content.decode()
    assert "196.201.214.200" in everything and f'href="/payments/{payment.pk}/"' in everything
    unmatched = faith.get("/payments/mpesa/?outcome=unmatched").content.decode()
    assert "nobody-here" in unmatched and "ws_CO_1" not in unmatched
    assert "nobody-here" not in faith.get("/payments/mpesa/?q=ws_CO_1").content.decode()
    assert "nobody-here" in faith.get("/payments/mpesa/?q=nobody").content.decode()
    assert "nobody-here" not in faith.get("/payments/mpesa/?kind=stk").content.decode()


# --- invoices -------------------------------------------------------------------------------------

@pytest.fixture
def monthly():
    return make_package("Home 10M", 2500, 43200, service_type=ServiceType.PPPOE)


def make_invoice(customer, package, number, status=Invoice.Status.ISSUED, days=3) -> Invoice:
    start = timezone.now() + timedelta(days=days)
    return Invoice.objects.create(number=number, customer=customer, package=package, amount=package.price,
                                  period_start=start, period_end=start + timedelta(days=30), due_at=start,
                                  status=status)


def test_the_invoice_list_totals_what_is_owed(faith, monthly):
    customer = make_customer(name="Kamau")
    make_invoice(customer, monthly, "INV000001")
    make_invoice(customer, monthly, "INV000002", Invoice.Status.OVERDUE, days=-2)
    make_invoice(customer, monthly, "INV000003", Invoice.Status.PAID, days=-32)
    html = faith.get("/invoices/").content.decode()
    assert "<strong>2</strong> invoices, <strong>KES 5,000.00</strong> owed" in html
    assert "<strong>KES 2,500.00</strong> overdue" in html
    paid = faith.get("/invoices/?status=paid").content.decode()
    assert "INV000003" in paid and "INV000001" not in paid
    assert "INV000002" in faith.get("/invoices/?q=inv000002").content.decode()


def test_cancelling_an_invoice_returns_to_the_list_as_it_was(faith, monthly):
    invoice = make_invoice(make_customer(), monthly, "INV000001")
    response = faith.post(f"/invoices/{invoice.pk}/cancel/", {"next": "/invoices/?status=issued"})
    assert response.status_code == 302 and response.url == "/invoices/?status=issued"
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CANCELLED
    again = faith.post(f"/invoices/{invoice.pk}/cancel/", {"next": "https://evil.example/"}, follow=True)
    assert again.redirect_chain[-1][0] == "/invoices/" and "Invoice INV000001 is cancelled." in again.content.decode()


def test_issuing_due_invoices_now(faith, monthly):
    customer = services.create_customer("0733 000 111", name="Kamau", service_type=ServiceType.PPPOE)
    now = timezone.now()
    Subscription.objects.create(customer=customer, package=monthly, status=Subscription.Status.ACTIVE,
                                starts_at=now - timedelta(days=27), expires_at=now + timedelta(days=3))
    html = faith.post("/invoices/issue/", follow=True).content.decode()
    invoice = Invoice.objects.get()
    assert f"Issued 1 invoice: {invoice.number}." in html and invoice.customer == customer
    assert "No invoices to issue" in faith.post("/invoices/issue/", follow=True).content.decode()


def test_sending_an_invoice_prompt_to_the_customers_phone(faith, monthly, settings):
    invoice = make_invoice(make_customer("0712 345 678"), monthly, "INV000001")
    with DarajaSimulator() as simulator:
        settings.MPESA_BASE_URL = simulator.base_url
        settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET = "simulator-key", "simulator-secret"
        simulator.script("254712345678", callbacks=0, answer_after=60)
        html = faith.post(f"/invoices/{invoice.pk}/request-payment/", follow=True).content.decode()
    payment = Payment.objects.get()
    assert payment.invoice == invoice and payment.status == Status.PENDING and payment.checkout_request_id
    assert f"Sent an M-Pesa prompt for INV000001 (KES 2,500.00) to 254712345678; payment {payment.pk}" in html


def test_a_prompt_that_cannot_be_sent_is_a_message_not_an_error(faith, monthly, settings):
    invoice = make_invoice(make_customer(), monthly, "INV000001")
    settings.MPESA_BASE_URL = "http://127.0.0.1:9"  # nothing listens
    response = faith.post(f"/invoices/{invoice.pk}/request-payment/", follow=True)
    assert response.status_code == 200 and "No prompt sent for INV000001" in response.content.decode()
    paid = make_invoice(make_customer("0722 000 002"), monthly, "INV000002", Invoice.Status.PAID)
    html = faith.post(f"/invoices/{paid.pk}/request-payment/", follow=True).content.decode()
    assert "No prompt sent for INV000002: Invoice INV000002 is paid." in html


# --- wallets --------------------------------------------------------------------------------------

def test_wallet_balances_in_one_list(faith):
    rich = make_customer("0712 000 001", "Rich")
    broke = make_customer("0712 000 002", "Broke")
    owes = make_customer("0712 000 003", "Owes")
    for customer, amounts in ((rich, ["1000", "250.5"]), (broke, ["50", "-50"]), (owes, ["-20"])):
        for amount in amounts:
            LedgerEntry.objects.create(customer=customer, amount=Decimal(amount), kind="adjustment")
    html = faith.get("/wallet/").content.decode()
    assert ">1,250.50</td>" in html and ">-20.00</td>" in html and "Broke" not in html
    assert "KES 1,230.50" in html  # held in all wallets
    assert "Broke" in faith.get("/wallet/?show=all").content.decode()
    found = faith.get("/wallet/?q=0712000001").content.decode()
    assert "Rich" in found and "Owes" not in found


def test_a_wallet_shows_its_running_balance_and_buys_a_package(faith, finance_clerk):
    package = make_package()
    customer = make_customer()
    payments.record_cash(customer=customer, amount=Decimal("120"), by=finance_clerk)
    html = faith.get(f"/wallet/{customer.pk}/").content.decode()
    assert "wallet: KES 120.00" in html and ">+120.00</td>" in html
    response = faith.post(f"/wallet/{customer.pk}/buy/", {"package": package.pk}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain == [(f"/wallet/{customer.pk}/", 302)]
    assert "bought Daily 1GB from the wallet" in html and "wallet: KES 70.00" in html
    # Newest first, each with the balance after it.
    assert html.index(">-50.00</td><td class=\"num\">70.00</td>") < html.index(">+120.00</td><td class=\"num\">120.00")
    assert Subscription.objects.get(customer=customer).package == package


def test_a_wallet_too_small_for_the_package_says_so(faith):
    package = make_package()
    customer = make_customer()
    response = faith.post(f"/wallet/{customer.pk}/buy/", {"package": package.pk})
    assert response.status_code == 200
    assert "The wallet holds KES 0.00; Daily 1GB costs KES 50.00." in response.content.decode()
    assert not Payment.objects.exists()


# --- payment methods ------------------------------------------------------------------------------

def test_the_methods_page_never_shows_a_secret(signed_in, settings):
    settings.MPESA_CALLBACK_TOKEN = "tok-9f8e7d6c5b4a39281706"
    settings.MPESA_CONSUMER_SECRET = "consumer-secret-5566"
    settings.MPESA_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
    settings.MPESA_CONSUMER_KEY = "consumer-key-7788"
    settings.MPESA_CALLBACK_BASE_URL = "https://isp.example.com"
    settings.MPESA_BASE_URL = "https://api.safaricom.co.ke"
    make_payment(make_customer(), "50", method=Method.CASH)
    client = signed_in(SUPPORT)  # M-Pesa settings are Finance's (accounts/roles.py)
    assert client.get("/payments/methods/").status_code == 403
    client = signed_in(FINANCE)
    html = client.get("/payments/methods/").content.decode()
    for secret in ("tok-9f8e7d6c5b4a39281706", "consumer-secret-5566", "consumer-key-7788",
                   settings.MPESA_PASSKEY, "9f8e7d6c"):
        assert secret not in html
    assert "https://isp.example.com/api/payments/callback/••••••••" in html
    assert "https://isp.example.com/api/payments/c2b/confirmation/••••••••" in html
    assert "Simulator" not in html and "CustomerPayBillOnline" in html
    assert "<strong>1</strong> payment, <strong>KES 50.00</strong>" in html


def test_the_methods_page_says_when_mpesa_is_the_simulator(faith, settings):
    settings.MPESA_BASE_URL = "http://localhost:8900"
    assert "The in-project simulator" in faith.get("/payments/methods/").content.decode()


# --- reports --------------------------------------------------------------------------------------

def test_the_report_shows_revenue_per_day_and_method(faith):
    customer = make_customer()
    make_payment(customer, "1000", at=nairobi(2025, 3, 1, 0, 30))
    make_payment(customer, "500", method=Method.CASH, at=nairobi(2025, 3, 1, 12))
    make_payment(customer, "200", method=Method.WALLET, at=nairobi(2025, 3, 2, 12))  # spends money counted before
    make_payment(customer, "300", at=nairobi(2025, 2, 28, 23, 59))
    report_rollups.refresh()  # ended days are read from PaymentDay, as the beat job keeps it
    html = faith.get("/payments/reports/?month=2025-03&day=2025-03-01").content.decode()
    assert "Revenue, March 2025" in html and "<strong>KES 1,500.00</strong> from 2 payments" in html
    assert 'title="Sat 1 Mar: KES 1,500.00 from 2 payments"' in html and 'style="height: 100%"' in html
    assert html.count('class="bar"') == 31
    assert "Reconciliation, Saturday 1 March 2025" in html and "Everything matches" not in html


def test_reconciliation_links_each_mismatch_to_its_payment(faith):
    yesterday = timezone.localdate() - timedelta(days=1)
    noon = datetime(yesterday.year, yesterday.month, yesterday.day, 12, tzinfo=NAIROBI)
    unassigned = make_payment(None, "75", method=Method.MPESA_C2B, at=noon, note="Account 'nobody'")
    html = faith.get("/payments/reports/").content.decode()
    assert "(yesterday)" in html and "unassigned money" in html
    assert f'<a href="/payments/{unassigned.pk}/">payment {unassigned.pk}</a>' in html


def _report_rows(n: int, day) -> None:
    """``n`` of everything the payment reports page shows per row: PaymentDay rows for each day of
    ``day``'s month × ``n`` packages × ``n`` routers × every method, and on ``day`` each kind of
    mismatch ``n`` times (paid without a subscription, unassigned money, a ledger credit off its
    payment, stuck pending, a flagged and an unsettled callback, a subscription without a payment,
    a wallet off its ledger)."""
    from billing.models import PaymentDay, Wallet
    from routers.models import Router

    first = day.replace(day=1)
    packages = [make_package(f"Pack {k}", 10 + k) for k in range(n)]
    routers = [Router.objects.create(name=f"Site {k}", host=f"10.0.0.{k + 1}") for k in range(n)]
    PaymentDay.objects.bulk_create(
        PaymentDay(day=first + timedelta(days=d), package=package, router=router, method=method, payments=2,
                   amount=Decimal("20.00"))
        for d in range(28) for package in packages for router in routers for method in Method.values)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=NAIROBI)
    for k in range(n):
        customer = make_customer(f"07550000{k:02d}")
        make_payment(customer, "10", package=packages[k], at=noon)  # no subscription, no ledger credit
        make_payment(None, "20", method=Method.MPESA_C2B, at=noon, note=f"Account 'x{k}'")
        make_payment(customer, "30", status=Status.PENDING, at=noon, window_ends_at=noon)
        MpesaCallback.objects.create(kind="stk", body="{}", received_at=noon, outcome="unmatched",
                                     checkout_request_id=f"ws_CO_{k}")
        MpesaCallback.objects.create(kind="c2b_confirmation", body='{"TransID": "TX%07d"}' % k, received_at=noon)
        Subscription.objects.create(customer=customer, package=packages[k], source="cash", starts_at=noon,
                                    expires_at=noon + timedelta(days=1), created_at=noon)
        LedgerEntry.objects.create(customer=customer, amount=Decimal("5"), kind="adjustment")
        Wallet.objects.filter(customer=customer).update(balance=Decimal("999"))


REPORT_QUERIES, METHODS_QUERIES = 27, 12


@pytest.mark.parametrize("rows", [1, 6])
def test_the_payment_reports_cost_the_same_queries_for_one_row_or_many(faith, rows, django_assert_num_queries):
    """Issue 23's data made the reconciliation ask for a payment's package once per mismatch
    (2,503 queries for one day): a month of PaymentDay rows over many packages, routers and methods
    and every kind of mismatch on the day must cost the same queries as one of each."""
    day = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=10)  # a closed day last month
    _report_rows(rows, day)
    wallets.check()  # the hourly job: the page reads its result
    # session, user, permissions (2), the role names, session save (3); revenue per day (rollup + live),
    # per method (rollup + live), the reconciliation's 15 (5 figures, 10 kinds of mismatch)
    with django_assert_num_queries(REPORT_QUERIES):
        html = faith.get(f"/payments/reports/?month={day:%Y-%m}&day={day:%Y-%m-%d}").content.decode()
    for kind in ("paid, no subscription", "unassigned money", "ledger", "stuck pending",
                 "no customer for the account number", "callback not settled", "wallet balance",
                 "subscription, no payment"):
        assert html.count(f'<span class="badge bad">{kind}</span>') == rows, kind
    # The methods page's last 30 days: ended days from the rollup, the partial first day and today live.
    with django_assert_num_queries(METHODS_QUERIES):
        assert faith.get("/payments/methods/").status_code == 200
