"""Buying from the captive portal: one workflow behind the portal's forms and the purchase API.

Initiation is rate-limited per phone number (no one gets flooded with prompts) and per client IP
(allowing for a whole hotspot behind one NAT). A payment is found again by a signed token (the
waiting page, and the API's status_token), by its CheckoutRequestID (the API: status only), or
after the page was closed by the phone number plus either proof that this browser started it (a
signed cookie set at purchase) or the M-Pesa confirmation code from the customer's SMS. Never by
anything the client merely types about itself: a MAC address is visible to everyone on the same
WiFi, so phone + MAC would hand a stranger someone's paid account.

The customer is the actor of what they start here (the audit trail's entries), once known: an
existing account by its phone number, or the one whose wallet password was given. A first purchase
from a new number creates the account in billing.payments, so its entries name the request.
"""
import hmac
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from audit.actors import Actor, acting_as
from hotspot import services as hotspot
from hotspot import subscriptions
from hotspot.models import Customer, Package, PackageKind
from hotspot.phone import InvalidPhone, normalise_phone
from lib.network import address_or_none, address_subject
from lib.throttle import Slowdown, Throttle
from lib.whole_numbers import ascii_whole_number

from . import payments, verification
from .models import Payment

TOKEN_SALT = "portal-payment"
RECOVER_WITHIN = timedelta(hours=24)
# A wallet top-up, in whole shillings: M-Pesa's own floor is KES 1, but a prompt for less than this
# costs the business more in fees and SMS than it brings; the ceiling is M-Pesa's per-payment limit.
TOP_UP_MIN, TOP_UP_MAX = 10, 70_000
Status = Payment.Status


class PurchaseRefused(Exception):
    """``reason`` keys the portal's words; ``status`` is the HTTP status the API answers;
    ``retry_after`` (seconds) comes with a 429."""

    def __init__(self, reason: str, status: int = 400, detail: str = "", retry_after: int = 0):
        super().__init__(detail or reason)
        self.reason, self.status, self.detail, self.retry_after = reason, status, detail or reason, retry_after


def throttles() -> tuple[Throttle, Slowdown]:
    """Prompts per phone number (a lockout: one person) and per client address (a slowdown: the
    address may be a whole hotspot, whose customers must still be able to buy)."""
    window = settings.PURCHASE_WINDOW_MINUTES * 60
    return (Throttle("purchase-phone", settings.PURCHASE_LIMIT_PER_PHONE, window, window),
            Slowdown("purchase-ip", settings.PURCHASE_LIMIT_PER_IP, window, settings.PURCHASE_IP_SLOWDOWN_SECONDS))


def lookups() -> Slowdown:
    """Wrong CheckoutRequestIDs, phone numbers, codes and wallet passwords, per client address: a
    slowdown, not a lockout, since the address may be a whole hotspot behind its NAT."""
    return Slowdown("purchase-lookup", settings.PURCHASE_LOOKUPS_PER_IP, settings.PURCHASE_LOOKUP_WINDOW_MINUTES * 60,
                    settings.PURCHASE_LOOKUP_SLOWDOWN_SECONDS)


def _looked_up(client_ip: str, find, detail: str = "Too many attempts; try again in {wait} seconds"):
    """``find()`` as one guessing attempt from ``client_ip``: counted before it runs (a parallel
    burst gets no more tries than the budget), given back when it finds what was asked."""
    guard, client_ip = lookups(), address_subject(client_ip)
    wait = guard.take(client_ip)
    if wait:
        raise PurchaseRefused("too_many", 429, detail.format(wait=wait), retry_after=wait)
    found = find()
    guard.forgive(client_ip)
    return found


def phone_or_refuse(raw: str) -> str:
    try:
        return normalise_phone(raw)
    except InvalidPhone:
        raise PurchaseRefused("bad_phone", 422, "Enter a Kenyan mobile number like 0712 345 678") from None


def _push(client_ip: str, phone: str, lang: str = "", **what) -> Payment:
    by_phone, by_ip = throttles()
    actor_ip, client_ip = address_or_none(client_ip), address_subject(client_ip)
    # Every prompt counts, answered or not, and is counted before it is sent: a burst of
    # requests gets no more prompts than the limit.
    wait = by_ip.take(client_ip)
    if not wait:
        wait = by_phone.take(phone)
        if wait:
            by_ip.forgive(client_ip)
    if wait:
        later = f"{wait} seconds" if wait < 120 else f"{round(wait / 60)} minutes"
        raise PurchaseRefused("too_many", 429, f"Too many payment requests; try again in {later}", wait)
    customer = what.get("customer") or Customer.objects.filter(phone=phone).first()
    try:
        if customer is None:
            payment = payments.start_stk(phone=phone, **what)
        else:
            with acting_as(Actor.customer(customer, actor_ip)):
                payment = payments.start_stk(phone=phone, **what)
    except payments.PaymentError as error:
        status = 503 if error.reason == "mpesa_unavailable" else 409
        raise PurchaseRefused(error.reason, status, str(error)) from error
    if lang:  # the receipt, and the reminders after it, in the language the customer bought in
        hotspot.speaks(payment.customer, lang)
    return payment


def _on_sale(package_id) -> Package:
    number = ascii_whole_number(str(package_id))
    package = Package.objects.filter(pk=number, is_active=True).first() if number is not None else None
    if package is None:
        raise PurchaseRefused("no_package", 404, "No such package on sale")
    return package


def _boostable(package: Package, customer: Customer | None) -> Package:
    """A boost adds to a running subscription (hotspot.subscriptions._boost): refused, before any
    prompt, to a customer with none."""
    if package.kind == PackageKind.BOOST and (customer is None or subscriptions.running(customer) is None):
        raise PurchaseRefused("needs_subscription", 409, "A boost adds to a running package: buy a package first")
    return package


def initiate(*, package_id, phone: str, mac: str = "", ip: str | None = None, client_ip: str,
             lang: str = "") -> Payment:
    phone = phone_or_refuse(phone)
    package = _boostable(_on_sale(package_id), Customer.objects.filter(phone=phone).first())
    return _push(client_ip, phone, lang, package=package, mac=mac, ip=ip)


def renew(*, phone: str, package_id=None, mac: str = "", ip: str | None = None, client_ip: str,
          lang: str = "") -> Payment:
    """The customer's last package again (or the one named), paid by a prompt to their phone."""
    phone = phone_or_refuse(phone)
    customer = Customer.objects.filter(phone=phone).first()
    last = customer.subscriptions.select_related("package").order_by("-created_at").first() if customer else None
    if package_id is not None:
        return initiate(package_id=package_id, phone=phone, mac=mac, ip=ip, client_ip=client_ip, lang=lang)
    if last is None:
        raise PurchaseRefused("nothing_to_renew", 404, "This phone number has not bought a package before")
    if not last.package.is_active:
        raise PurchaseRefused("no_package", 409, f"{last.package} is no longer on sale; choose another package")
    _boostable(last.package, customer)
    return _push(client_ip, phone, lang, package=last.package, customer=customer, mac=mac, ip=ip)


def top_up(customer: Customer, amount, client_ip: str, lang: str = "") -> Payment:
    """A prompt to the signed-in customer's phone for ``amount`` whole shillings (as typed: "1,000"
    is read as 1000) into their wallet; nothing is bought with it."""
    number = ascii_whole_number(str(amount).strip().replace(",", "").replace(" ", ""))
    if number is None:
        raise PurchaseRefused("bad_amount", 422, "Enter the amount in whole shillings, like 100")
    if not TOP_UP_MIN <= number <= TOP_UP_MAX:
        raise PurchaseRefused("amount_out_of_range", 422, f"Top up between KES {TOP_UP_MIN} and {TOP_UP_MAX:,}")
    return _push(client_ip, _phone_of(customer), lang, customer=customer, amount=number)


def buy_again(customer: Customer, client_ip: str, lang: str = "") -> Payment:
    """The customer's last package again: from the wallet when it holds the price (completed at
    once), else by a prompt to their phone (pending)."""
    package = last_package(customer)
    if package is None:
        raise PurchaseRefused("nothing_to_renew", 404, "This account has not bought a package before")
    if not package.is_active:
        raise PurchaseRefused("no_package", 409, f"{package} is no longer on sale; choose another package")
    return _wallet_or_prompt(customer, _boostable(package, customer), client_ip, lang)


def buy_boost(customer: Customer, package_id, client_ip: str, lang: str = "") -> Payment:
    """A boost on sale, from the account page, paid as "buy again" is: from the wallet when it holds
    the price, else by a prompt. Refused before any prompt without a running plan."""
    package = _on_sale(package_id)
    if package.kind != PackageKind.BOOST:  # the account page's boost form buys boosts only
        raise PurchaseRefused("no_package", 404, "No such boost on sale")
    return _wallet_or_prompt(customer, _boostable(package, customer), client_ip, lang)


def _wallet_or_prompt(customer: Customer, package: Package, client_ip: str, lang: str) -> Payment:
    """Completed at once from the wallet when it holds the price, else pending on a prompt to the
    customer's phone (the same throttles and exactly-once callback as every prompt)."""
    if payments.balance(customer) >= package.price:
        try:
            with acting_as(Actor.customer(customer, address_or_none(client_ip))):
                return payments.buy_from_wallet(customer, package)
        except payments.PaymentError as error:
            if error.reason != "insufficient_balance":  # spent meanwhile: the prompt below pays instead
                raise PurchaseRefused(error.reason, 409, str(error)) from error
    return _push(client_ip, _phone_of(customer), lang, package=package, customer=customer)


def pay_invoice(customer: Customer, invoice_id, client_ip: str, lang: str = "") -> Payment:
    """A prompt to the customer's phone for one of their own open invoices."""
    number = ascii_whole_number(str(invoice_id))
    invoice = customer.invoices.select_related("package", "customer").filter(pk=number).first() if number else None
    if invoice is None:
        raise PurchaseRefused("no_invoice", 404, "No such invoice on this account")
    if not invoice.is_open:  # refused before _push counts a prompt against the phone
        raise PurchaseRefused("invoice_closed", 409, f"Invoice {invoice.number} is already settled")
    return _push(client_ip, _phone_of(customer), lang, invoice=invoice, customer=customer)


def last_package(customer: Customer) -> Package | None:
    """The package of the customer's newest subscription (what "buy again" offers), on sale or not."""
    last = customer.subscriptions.select_related("package").order_by("-created_at").first()
    return last.package if last is not None else None


def _phone_of(customer: Customer) -> str:
    if not customer.phone:  # an account staff made without a number: nothing to prompt
        raise PurchaseRefused("no_phone", 409, "This account has no phone number for M-Pesa")
    return phone_or_refuse(customer.phone)


def from_wallet(*, package_id, phone: str, password: str, client_ip: str) -> Payment:
    """Spend the wallet on a package; the account's password proves it is the customer's."""
    customer = _looked_up(client_ip, lambda: _customer_with_password(phone, password))
    package = _boostable(_on_sale(package_id), customer)
    try:
        with acting_as(Actor.customer(customer, address_or_none(client_ip))):
            return payments.buy_from_wallet(customer, package)
    except payments.PaymentError as error:
        raise PurchaseRefused(error.reason, 409, str(error)) from error


def _customer_with_password(phone: str, password: str) -> Customer:
    customer = Customer.objects.filter(phone=phone_or_refuse(phone), status=Customer.Status.ACTIVE).first()
    if customer is None or not hmac.compare_digest(customer.password.encode(), password.strip().lower().encode()):
        raise PurchaseRefused("wrong_login", 401, "Wrong phone number or password")
    return customer


# --- finding a payment again ----------------------------------------------------------------------

def token_for(payment: Payment) -> str:
    return signing.dumps(payment.pk, salt=TOKEN_SALT)


def by_token(token: str) -> Payment | None:
    try:
        payment_id = signing.loads(token, salt=TOKEN_SALT, max_age=7 * 86400)
    except signing.BadSignature:
        return None
    return Payment.objects.select_related("customer", "subscription__package", "package").filter(pk=payment_id).first()


def by_checkout_id(checkout_request_id: str, client_ip: str) -> Payment:
    def find():
        payment = Payment.objects.select_related("customer", "subscription__package").filter(
            checkout_request_id=checkout_request_id[:64]).first() if checkout_request_id else None
        if payment is None:
            raise PurchaseRefused("no_payment", 404, "No payment with this checkout_request_id")
        return payment

    return _looked_up(client_ip, find, "Too many lookups; try again in {wait} seconds")


def recover(*, phone: str, code: str = "", paid_here=(), client_ip: str) -> Payment:
    """"Already paid?": the payment this browser started (``paid_here``: payment ids from the
    signed cookie set at purchase), or the one whose M-Pesa code from the SMS is given."""
    return _looked_up(client_ip, lambda: _recovered(phone, code, paid_here))


def _recovered(phone: str, code: str, paid_here) -> Payment:
    phone = phone_or_refuse(phone)
    code = code.strip().upper()[:20]
    recent = Payment.objects.filter(phone=phone, created_at__gte=timezone.now() - RECOVER_WITHIN).exclude(
        status__in=[Status.FAILED, Status.CANCELLED])
    if code:
        found = Payment.objects.filter(mpesa_receipt=code, status=Status.COMPLETED).first()
        if found is not None and (found.phone == phone or (found.customer and found.customer.phone == phone)):
            return found
    elif paid_here:
        found = recent.filter(pk__in=list(paid_here)).order_by("-created_at").first()
        if found is not None:
            return found
    if code:
        raise PurchaseRefused("code_mismatch", 404, "This M-Pesa code does not match a payment from this number")
    if recent.exists():
        raise PurchaseRefused("need_code", 404, "Enter the M-Pesa confirmation code from your SMS")
    raise PurchaseRefused("no_payment", 404, "No recent payment from this number")


def started_here(payment: Payment, token: str) -> bool:
    """Whether ``token`` (the status_token the initiate answer gave) is this payment's own."""
    found = by_token(token) if token else None
    return found is not None and found.pk == payment.pk


def state(payment: Payment, credentials: bool = True) -> dict:
    """Where a payment stands, for the waiting page and the status API. The account's username
    and password only with ``credentials``: the caller has shown it started (or paid for) the
    purchase. A pending payment whose callback is late is asked about (at most once per 15 s), so
    a lost callback never leaves the customer waiting for the next beat."""
    if payment.status in (Status.PENDING, Status.TIMED_OUT) and payment.created_at <= timezone.now() - timedelta(
            seconds=settings.MPESA_QUERY_AFTER_SECONDS):
        verification.verify(payment.pk)
        payment.refresh_from_db()
    body = {"payment_id": payment.pk, "checkout_request_id": payment.checkout_request_id, "status": payment.status,
            "amount": str(payment.amount)}
    if payment.status == Status.COMPLETED and payment.customer is not None and credentials:
        body.update(username=payment.customer.username, password=payment.customer.password)
        if payment.subscription is not None:
            body["expires_at"] = payment.subscription.expires_at.isoformat()
    elif payment.status != Status.PENDING:
        body["reason"] = payment.result_desc
    return body
