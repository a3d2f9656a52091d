"""The customer's account, money side (/portal/account/): what is left, the wallet and its top-up by
M-Pesa, "buy again", payments with receipts and invoices; against the Daraja simulator, whose
callbacks reach the live server as Safaricom's would."""
import gzip
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from audit.models import Entry
from billing import payments
from billing.models import Invoice, LedgerEntry, Payment
from hotspot import services
from hotspot.models import Customer, Package, ServiceType

from .payments_kit import PHONE, settled

pytestmark = pytest.mark.django_db(transaction=True)
HOME = "/portal/account/"
OTHER_PHONE = "254722000999"


@pytest.fixture
def customer(db):
    return services.create_customer(PHONE, name="Wanjiru")


@pytest.fixture
def signed(client, customer):
    """The test client signed in as ``customer`` through the sign-in page, as a phone would."""
    response = client.post("/portal/account/sign-in/", {"phone": "0712 345 678", "password": customer.password})
    assert response.status_code == 302 and response["Location"] == HOME, response.content[:300]
    return client


@pytest.fixture
def monthly(db):
    return services.save_package(Package(name="Home 10M", price=2500, validity_minutes=43200,
                                         service_type=ServiceType.PPPOE, rate_limit="10M/10M"))


def wallet(page) -> str:
    """The balance as the page shows it."""
    return re.search(r'id="wallet">KES ([^<]+)<', page.content.decode()).group(1)


def open_invoice(customer, package, number="INV000042") -> Invoice:
    start = timezone.now() + timedelta(days=3)
    return Invoice.objects.create(number=number, customer=customer, package=package, amount=package.price,
                                  period_start=start, period_end=start + timedelta(days=30), due_at=start)


def top_up(client, amount, **extra):
    return client.post(f"{HOME}top-up/", {"amount": amount}, **extra)


# --- signing in -------------------------------------------------------------------------------------

def test_a_visitor_not_signed_in_is_sent_to_sign_in_and_starts_nothing(client, customer, daily):
    assert client.get(HOME)["Location"] == "/portal/account/sign-in/?next=%2Fportal%2Faccount%2F"
    for path in ("top-up/", "buy-again/"):
        response = client.post(f"{HOME}{path}", {"amount": "100"})
        assert response.status_code == 302 and response["Location"].startswith("/portal/account/sign-in/")
    assert client.get(f"{HOME}payments/1/receipt/").status_code == 302
    assert not Payment.objects.exists()


# --- the page ---------------------------------------------------------------------------------------

def test_the_page_shows_time_and_data_left_the_balance_and_the_history_in_english_and_kiswahili(
        signed, customer, finance_clerk):
    package = services.save_package(Package(name="Weekly 5GB", price=300, validity_minutes=7 * 1440 + 90,
                                            data_limit_mb=5120))
    paid = payments.record_cash(customer=customer, amount=Decimal("450"), by=finance_clerk, package=package)
    page = signed.get(HOME)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Weekly 5GB" in html and re.search(r"7 days 1 h (29|30) min", html)
    assert "5.0\xa0GB" in html  # nothing used yet
    assert wallet(page) == "150"
    assert f"/portal/account/payments/{paid.pk}/receipt/" in html and "Cash" in html and "Paid" in html
    assert 'href="/portal/account/tickets/"' in html
    swahili = signed.get(f"{HOME}?lang=sw").content.decode()
    assert "Muda uliobaki" in swahili and "Salio" in swahili and "Imelipwa" in swahili and "Ongeza salio" in swahili
    assert "Time left" not in swahili


def test_without_a_package_the_page_says_so_and_offers_no_buy_again(signed):
    html = signed.get(HOME).content.decode()
    assert "No active package on this account." in html and "No payments yet." in html
    assert 'action="/portal/account/buy-again/"' not in html


def test_the_page_is_small_with_a_full_history_and_its_queries_do_not_grow(
        signed, customer, monthly, django_assert_num_queries):
    # The queries of a new account, then of one with years of payments and invoices.
    with django_assert_num_queries(12) as fresh:
        signed.get(HOME)
    for n in range(60):
        Payment.objects.create(customer=customer, phone=PHONE, package=monthly, amount=monthly.price,
                               method=Payment.Method.MPESA_STK, status=Payment.Status.COMPLETED,
                               mpesa_receipt=f"TK{n:08d}", completed_at=timezone.now())
    for n in range(36):
        start = timezone.now() - timedelta(days=30 * n)
        Invoice.objects.create(number=f"INV{n:06d}", customer=customer, package=monthly, amount=monthly.price,
                               period_start=start, period_end=start + timedelta(days=30), due_at=start,
                               status=Invoice.Status.PAID if n else Invoice.Status.ISSUED)
    with django_assert_num_queries(len(fresh.captured_queries)):
        page = signed.get(HOME, HTTP_ACCEPT_ENCODING="gzip")
    assert page["Content-Encoding"] == "gzip" and len(page.content) < 30 * 1024
    html = gzip.decompress(page.content).decode()
    assert html.count("/receipt/") == 20 and "TK00000059" in html and "TK00000039" not in html
    assert html.count("INV0") == 12


# --- receipts ---------------------------------------------------------------------------------------

def test_a_receipt_is_the_customers_own_completed_payment_and_no_one_elses(signed, customer, finance_clerk, daily):
    mine = payments.record_cash(customer=customer, amount=Decimal("50"), by=finance_clerk, package=daily)
    Payment.objects.filter(pk=mine.pk).update(mpesa_receipt="TK1234ABCD")
    receipt = signed.get(f"{HOME}payments/{mine.pk}/receipt/")
    html = receipt.content.decode()
    assert receipt.status_code == 200 and "TK1234ABCD" in html and "Daily 1GB" in html and "KES 50" in html
    assert customer.password not in html  # a receipt is passed around; the password is not on it
    assert f'href="/portal/account/payments/{mine.pk}/receipt/?download=1" download>Download this receipt' in html
    # Downloaded: the same receipt as a file of its own, without the account's menu or script.
    kept = signed.get(f"{HOME}payments/{mine.pk}/receipt/?download=1")
    assert kept.status_code == 200 and kept["Content-Disposition"] == 'attachment; filename="receipt-TK1234ABCD.html"'
    file = kept.content.decode()
    assert "TK1234ABCD" in file and "KES 50" in file and customer.password not in file
    assert "<script" not in file and "sign-out" not in file and "Download this receipt" not in file
    assert "Pakua risiti hii" in signed.get(f"{HOME}payments/{mine.pk}/receipt/?lang=sw").content.decode()
    other = services.create_customer(OTHER_PHONE)
    theirs = payments.record_cash(customer=other, amount=Decimal("50"), by=finance_clerk, package=daily)
    waiting = Payment.objects.create(customer=customer, phone=PHONE, amount=20, method=Payment.Method.MPESA_STK)
    signed.get(f"{HOME}?lang=en")
    for pk in (theirs.pk, waiting.pk, 99999999, 2**63):
        missing = signed.get(f"{HOME}payments/{pk}/receipt/")
        assert missing.status_code == 404 and "No such receipt on your account." in missing.content.decode()
        assert signed.get(f"{HOME}payments/{pk}/receipt/?download=1").status_code == 404


# --- top-up -----------------------------------------------------------------------------------------

def test_a_top_up_prompts_the_phone_and_the_wallet_rises_once_however_often_mpesa_calls_back(
        signed, customer, mpesa):
    mpesa.script(PHONE, callbacks=3, answer_after=1.0)
    response = top_up(signed, "1,000")
    assert response.status_code == 303 and response["Location"] == HOME
    page = signed.get(HOME)
    assert "Check your phone" in page.content.decode() and wallet(page) == "0"
    assert "Waiting for your M-Pesa PIN: KES 1,000" in page.content.decode()
    payment = settled(Payment.objects.get())
    assert (payment.status, payment.amount, payment.package, payment.subscription) == ("completed", 1000, None, None)
    assert payment.phone == PHONE and payment.customer == customer
    assert LedgerEntry.objects.filter(payment=payment).count() == 1 and payments.balance(customer) == 1000
    again = signed.get(HOME)
    assert wallet(again) == "1,000" and "Check your phone" not in again.content.decode()
    assert '<p class="muted" data-live id="wallet-waiting"></p>' in again.content.decode()
    assert payment.mpesa_receipt in again.content.decode() and "Balance top-up" in again.content.decode()


@pytest.mark.parametrize("typed, says", [
    ("0", "Top up from KES 10 to KES 70,000."), ("-1", "Enter the amount in whole shillings"),
    ("1e9", "Enter the amount in whole shillings"), ("abc", "Enter the amount in whole shillings"),
    ("", "Enter the amount in whole shillings"), ("9", "Top up from KES 10"),
    ("70001", "Top up from KES 10"), ("1000000000", "Top up from KES 10"), ("99.50", "whole shillings"),
    ("١٠٠", "whole shillings"), ("9" * 5000, "whole shillings")])
def test_a_bad_amount_is_a_form_error_beside_the_field(signed, mpesa, typed, says):
    response = top_up(signed, typed)
    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(r'<p class="field-err" id="top-up-error" role="alert">[^<]*' + re.escape(says), html)
    assert 'aria-invalid="true"' in html
    assert not Payment.objects.exists()


def test_a_nul_in_the_amount_is_refused_at_the_door_not_a_server_error(signed, mpesa):
    response = top_up(signed, "100\x00")
    assert response.status_code == 400 and "cannot be stored" in response.content.decode()
    assert not Payment.objects.exists()


def test_a_bad_amount_is_explained_in_kiswahili(signed, mpesa):
    signed.get(f"{HOME}?lang=sw")  # the switch sets the language cookie
    html = top_up(signed, "5").content.decode()
    assert "Ongeza salio kuanzia KES 10 hadi KES 70,000." in html


def test_prompts_are_limited_per_phone_and_the_page_says_when_to_try_again(signed, mpesa, settings):
    settings.PURCHASE_LIMIT_PER_PHONE = 1
    mpesa.script(PHONE, callbacks=0)
    assert top_up(signed, "100").status_code == 303
    refused = top_up(signed, "100")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many attempts" in refused.content.decode() and 'value="100"' in refused.content.decode()
    assert Payment.objects.count() == 1


def test_mpesa_down_is_said_on_the_page(signed, settings, db):
    settings.MPESA_BASE_URL = "http://127.0.0.1:9"  # nothing listens: Daraja unreachable
    settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET = "k", "s"
    refused = top_up(signed, "100")
    assert refused.status_code == 503 and "M-Pesa is not answering right now" in refused.content.decode()
    assert Payment.objects.get().status == Payment.Status.FAILED


# --- buy again --------------------------------------------------------------------------------------

def test_buy_again_pays_from_the_wallet_when_it_holds_the_price(signed, customer, finance_clerk, daily):
    # 120 at the counter: Daily 1GB bought with 50 of it, 70 left in the wallet.
    payments.record_cash(customer=customer, amount=Decimal("120"), by=finance_clerk, package=daily)
    first = Payment.objects.get(method=Payment.Method.WALLET)
    page = signed.get(HOME).content.decode()
    assert "Buy again" in page and "Paid from your balance" in page
    response = signed.post(f"{HOME}buy-again/")
    assert response.status_code == 303
    bought = Payment.objects.filter(method=Payment.Method.WALLET).exclude(pk=first.pk).get()
    assert bought.status == "completed" and bought.package == daily and payments.balance(customer) == 20
    assert bought.subscription == first.subscription  # extended
    after = signed.get(HOME)
    assert "Done: paid from your balance." in after.content.decode() and wallet(after) == "20"
    assert "Paid by an M-Pesa prompt to your phone" in after.content.decode()  # 20 no longer covers 50


def test_buy_again_prompts_the_phone_when_the_wallet_is_short(signed, customer, finance_clerk, daily, mpesa):
    first = payments.record_cash(customer=customer, amount=Decimal("50"), by=finance_clerk, package=daily)
    mpesa.script(PHONE, answer_after=0.2)
    assert signed.post(f"{HOME}buy-again/").status_code == 303
    assert "Check your phone" in signed.get(HOME).content.decode()
    prompt = settled(Payment.objects.get(method=Payment.Method.MPESA_STK))
    assert prompt.status == "completed" and prompt.package == daily and prompt.subscription == first.subscription
    assert payments.balance(customer) == 0


def test_buy_again_of_a_package_no_longer_on_sale_is_refused(signed, customer, finance_clerk, daily):
    payments.record_cash(customer=customer, amount=Decimal("200"), by=finance_clerk, package=daily)
    services.set_package_active(daily, False)
    assert 'action="/portal/account/buy-again/"' not in signed.get(HOME).content.decode()
    before = Payment.objects.count()
    refused = signed.post(f"{HOME}buy-again/")
    assert refused.status_code == 409 and Payment.objects.count() == before
    assert "That package is no longer on sale." in refused.content.decode()
    assert payments.balance(customer) == 150


# --- invoices ---------------------------------------------------------------------------------------

def test_an_open_invoice_is_paid_by_a_prompt_and_shows_paid(client, mpesa, monthly):
    customer = services.create_customer(PHONE, service_type=ServiceType.PPPOE)
    client.post("/portal/account/sign-in/", {"phone": PHONE, "password": customer.password})
    invoice = open_invoice(customer, monthly)
    page = client.get(HOME).content.decode()
    assert "INV000042" in page and f'action="/portal/account/invoices/{invoice.pk}/pay/"' in page
    mpesa.script(PHONE, answer_after=0.2)
    assert client.post(f"{HOME}invoices/{invoice.pk}/pay/").status_code == 303
    payment = settled(Payment.objects.get())
    invoice.refresh_from_db()
    assert payment.invoice == invoice and invoice.status == Invoice.Status.PAID and payment.subscription
    after = client.get(HOME).content.decode()
    assert f'action="/portal/account/invoices/{invoice.pk}/pay/"' not in after
    assert re.search(r"INV000042.*?Paid", after, re.S)
    # Paid already, or someone else's: refused, and no prompt.
    assert client.post(f"{HOME}invoices/{invoice.pk}/pay/").status_code == 409
    theirs = open_invoice(services.create_customer(OTHER_PHONE), monthly, number="INV000043")
    for pk in (theirs.pk, 2**63):
        refused = client.post(f"{HOME}invoices/{pk}/pay/")
        assert refused.status_code == 404 and "No such invoice on this account." in refused.content.decode()
    assert Payment.objects.count() == 1
    # A settled invoice's Pay counts no prompt against the phone: the limit still allows every top-up.
    for _ in range(settings.PURCHASE_LIMIT_PER_PHONE + 1):
        assert client.post(f"{HOME}invoices/{invoice.pk}/pay/").status_code == 409
    mpesa.script(PHONE, callbacks=0)
    assert top_up(client, "100").status_code == 303


def test_a_refused_form_keeps_the_live_refresh_on_the_account_page(signed):
    refused = top_up(signed, "5")
    assert refused.status_code == 422
    assert 'data-live-url="/portal/account/"' in refused.content.decode()
    assert signed.get(HOME).status_code == 200


def test_the_account_answers_only_the_methods_it_has(signed, client):
    assert signed.put(HOME).status_code == 405
    assert signed.get(f"{HOME}top-up/").status_code == 405
    signed.post("/portal/account/sign-out/")
    assert client.get(f"{HOME}buy-again/").status_code == 405  # not sent round the sign-in page first


# --- the audit trail --------------------------------------------------------------------------------

def test_the_customer_is_the_actor_of_what_they_start_here(signed, customer, finance_clerk, daily, monthly, mpesa):
    mpesa.script(PHONE, callbacks=0)
    ip = {"REMOTE_ADDR": "10.5.50.77"}
    assert top_up(signed, "100", **ip).status_code == 303
    payments.record_cash(customer=customer, amount=Decimal("100"), by=finance_clerk, package=daily)
    counter = set(Payment.objects.values_list("pk", flat=True))
    assert signed.post(f"{HOME}buy-again/", **ip).status_code == 303
    invoice = open_invoice(customer, monthly)
    assert signed.post(f"{HOME}invoices/{invoice.pk}/pay/", **ip).status_code == 303
    topped = Payment.objects.get(package=None, method=Payment.Method.MPESA_STK)
    from_wallet = Payment.objects.exclude(pk__in=counter).get(method=Payment.Method.WALLET)
    for obj, action in ((topped, "created"), (from_wallet, "credited"), (invoice, "payment_requested")):
        entry = Entry.objects.get(object_type=obj._meta.label_lower, object_id=str(obj.pk), action=action)
        assert (entry.actor_kind, entry.actor_id, entry.ip) == ("customer", str(customer.pk), "10.5.50.77"), action


def test_an_account_without_a_phone_number_is_told_why_no_prompt_comes(client, db):
    customer = services.create_customer("0733000111")
    Customer.objects.filter(pk=customer.pk).update(phone="")
    client.post("/portal/account/sign-in/", {"phone": customer.username, "password": customer.password})
    refused = top_up(client, "100")
    assert refused.status_code == 409 and "has no phone number for M-Pesa" in refused.content.decode()
