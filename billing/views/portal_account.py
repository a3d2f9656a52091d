"""The customer's account, money side (/portal/account/): what is left of the subscription, fair use
(used and left, the speed now, boosts on sale), the wallet and its top-up by M-Pesa, "buy again",
payments with their receipts, and invoices.

The forms post, then redirect back here (a refusal renders the page again, saying why); what a
payment's callback changes later (balance, payments, invoices, time left) is in data-live blocks
that the page's script fetches again when the customer's websocket announces the payment.
"""
import re

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_POST, require_safe

from accounts.access import PUBLIC, access
from hotspot import account, devices, fair_use
from hotspot import services as hotspot
from hotspot.account_text import ACCOUNT_TEXT
from hotspot.models import Package, PackageKind
from hotspot.portal_text import language, words
from lib.network import client_ip
from lib.whole_numbers import ascii_whole_number

from .. import payments, purchase
from ..models import Payment

HISTORY = 20  # payments listed; older ones are on the receipts the customer already has
INVOICES = 12  # a year of monthly bills


def _say(request, reason: str) -> str:
    """A refusal in the customer's language: the account's own words, else the portal's."""
    lang = language(request)
    if reason in ACCOUNT_TEXT:
        text = ACCOUNT_TEXT[reason][lang]
    else:
        text = words(lang).get(reason, words(lang)["payment_failed"])
    return text.format(min=purchase.TOP_UP_MIN, max=f"{purchase.TOP_UP_MAX:,}")


def _home(request, status: int = 200, **context):
    customer = request.customer
    seconds, data_left, subscription = hotspot.left(customer)
    balance = payments.balance(customer)
    again = purchase.last_package(customer)
    history = list(customer.payments.select_related("package", "invoice").order_by("-created_at", "-pk")[:HISTORY])
    bills = list(customer.invoices.order_by("-period_start")[:INVOICES])
    _worded(language(request), history, bills)
    # Fair use: where the allowances stand and the speed now; boosts on sale once slowed or nearly.
    standing = fair_use.standing(subscription) if subscription is not None else None
    boosts = list(Package.objects.filter(kind=PackageKind.BOOST, is_active=True).order_by("price", "pk")) \
        if standing is not None and standing.near else []
    now = timezone.now()
    waiting = next((p for p in history if p.status == Payment.Status.PENDING and p.window_ends_at
                    and p.window_ends_at > now), None)
    # live_url: a refused form is shown at its POST-only address; the live refresh reads the page itself.
    return account.page(request, "home.html", status=status, section="home", live_url=account.HOME,
                        subscription=subscription, days=seconds // 86400, hours=seconds % 86400 // 3600,
                        minutes=seconds % 3600 // 60, data_left=data_left,
                        devices=devices.for_customer(customer), balance=balance,
                        again=again if again is not None and again.is_active else None,
                        again_from_wallet=again is not None and balance >= again.price,
                        standing=standing, boosts=boosts, payments=history, waiting=waiting, invoices=bills,
                        limits=_say(request, "top_up_limits"),
                        **context)


def _worded(lang: str, history, bills) -> None:
    """Each payment's and invoice's status, method and purpose in the customer's words."""
    def say(key, otherwise):
        return ACCOUNT_TEXT[key][lang] if key in ACCOUNT_TEXT else otherwise

    for payment in history:
        payment.shown_status = say("status_reversed" if payment.reversed_at else f"status_{payment.status}",
                                   payment.get_status_display())
        payment.shown_method = say(f"method_{payment.method}", payment.get_method_display())
        # Money with nothing bought (a top-up, a Paybill payment) stayed in the wallet.
        payment.shown_for = (f"{say('invoice_number', '')} {payment.invoice.number}" if payment.invoice
                             else str(payment.package or say("top_up_item", "")))
    for invoice in bills:
        invoice.shown_status = say(f"invoice_{invoice.status}", invoice.get_status_display())


def _refused(request, refused: purchase.PurchaseRefused, **context):
    """The page again, saying why; a rate limit keeps its 429 and Retry-After."""
    context.setdefault("error", _say(request, refused.reason))
    response = _home(request, status=refused.status, **context)
    if refused.retry_after:
        response["Retry-After"] = str(refused.retry_after)
    return response


def _done(request, notice: str):
    """Back to the account page, which says ``notice`` once (post/redirect/get)."""
    messages.success(request, _say(request, notice))
    return HttpResponseRedirect(account.HOME, status=303)


@access(PUBLIC)
@require_safe
@account.customer_required
@gzip_page
def account_home(request):
    return _home(request)


@access(PUBLIC)
@require_POST
@account.customer_required
@gzip_page
def account_top_up(request):
    typed = request.POST.get("amount", "")
    try:
        purchase.top_up(request.customer, typed, client_ip(request), language(request))
    except purchase.PurchaseRefused as refused:
        typed = typed[:20]  # shown again in the field
        if refused.reason in ("bad_amount", "amount_out_of_range"):  # beside the field, not above the page
            return _refused(request, refused, amount=typed, amount_error=_say(request, refused.reason), error=None)
        return _refused(request, refused, amount=typed)
    return _done(request, "prompt_sent")


@access(PUBLIC)
@require_POST
@account.customer_required
@gzip_page
def account_buy_again(request):
    try:
        payment = purchase.buy_again(request.customer, client_ip(request), language(request))
    except purchase.PurchaseRefused as refused:
        return _refused(request, refused)
    # From the wallet it is done already; by M-Pesa it waits for the customer's PIN.
    return _done(request, "bought_from_wallet" if payment.status == Payment.Status.COMPLETED else "prompt_sent")


@access(PUBLIC)
@require_POST
@account.customer_required
@gzip_page
def account_buy_boost(request, pk: int):
    try:
        payment = purchase.buy_boost(request.customer, pk, client_ip(request), language(request))
    except purchase.PurchaseRefused as refused:
        return _refused(request, refused)
    return _done(request, "bought_from_wallet" if payment.status == Payment.Status.COMPLETED else "prompt_sent")


@access(PUBLIC)
@require_POST
@account.customer_required
@gzip_page
def account_invoice_pay(request, pk: int):
    try:
        purchase.pay_invoice(request.customer, pk, client_ip(request), language(request))
    except purchase.PurchaseRefused as refused:
        return _refused(request, refused)
    return _done(request, "prompt_sent")


@access(PUBLIC)
@account.customer_required
@gzip_page
def account_receipt(request, pk: int):
    """A printable receipt for one of the signed-in customer's own completed payments (``?download=1``:
    as a file to download); anyone else's payment, or one not (yet) paid, is not found."""
    number = ascii_whole_number(str(pk))
    payment = (Payment.objects.select_related("package", "invoice", "subscription__package")
               .filter(pk=number or 0, customer=request.customer, status=Payment.Status.COMPLETED).first())
    if payment is None:
        return account.page(request, "receipt.html", status=404, section="home", error=_say(request, "no_receipt"))
    _worded(language(request), [payment], [])
    if request.GET.get("download") != "1":
        return account.page(request, "receipt.html", section="home", payment=payment)
    # The same receipt as a file of its own (its style inline; no menu, no script) to keep or send on.
    response = account.page(request, "receipt.html", section="home", payment=payment, standalone=True)
    name = re.sub(r"[^A-Za-z0-9]", "", payment.mpesa_receipt or "") or str(payment.pk)
    response["Content-Disposition"] = f'attachment; filename="receipt-{name}.html"'
    return response
