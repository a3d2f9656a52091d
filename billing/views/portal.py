"""The captive portal, buying side: pick a package, pay with M-Pesa, wait, get connected.

The waiting page works three ways: a websocket tells it the moment the payment settles, a
status poll covers networks that block websockets, and without JavaScript the page refreshes
itself. Closing it loses nothing: "Already paid?" finds the payment again, from this browser by a
signed cookie set at purchase, from anywhere with the M-Pesa code (captive browsers may drop the
cookie; the code always works).
"""
from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_POST

from accounts.access import PUBLIC, access
from hotspot import portal
from hotspot.portal_text import language
from lib.network import address_or_none, client_ip
from lib.whole_numbers import ascii_whole_number

from .. import purchase
from ..models import Payment

PAID_COOKIE = "portal_paid"
PAID_COOKIE_SALT = "portal-paid-here"
PAID_REMEMBERED = 5  # the last few purchases from this browser are enough for "Already paid?"


def _paid_here(request) -> list[int]:
    """Payment ids this browser started, from the signed cookie (none if absent or forged)."""
    value = request.get_signed_cookie(PAID_COOKIE, default="", salt=PAID_COOKIE_SALT,
                                      max_age=purchase.RECOVER_WITHIN.total_seconds())
    return [number for part in value.split(",") if (number := ascii_whole_number(part)) is not None]


def _retry_after(refused: purchase.PurchaseRefused, response):
    if refused.retry_after:
        response["Retry-After"] = str(refused.retry_after)
    return response


def _remember(request, response, payment: Payment) -> None:
    """Let this browser, and only it, find the payment again without the M-Pesa code."""
    ids = [payment.pk, *(pk for pk in _paid_here(request) if pk != payment.pk)][:PAID_REMEMBERED]
    response.set_signed_cookie(PAID_COOKIE, ",".join(map(str, ids)), salt=PAID_COOKIE_SALT,
                               max_age=int(purchase.RECOVER_WITHIN.total_seconds()), path="/portal/",
                               httponly=True, samesite="Lax", secure=request.is_secure())


def _to_payment(request, payment: Payment, lang: str) -> HttpResponseRedirect:
    """303 to the payment's page, carrying the router's variables (cookies may not survive)."""
    router = portal.router_fields(request)
    query = {key.replace("_", "-"): value for key, value in router.items() if value}
    query["lang"] = lang
    return HttpResponseRedirect(f"/portal/pay/{purchase.token_for(payment)}/?{urlencode(query)}", status=303)


# CSRF: as for the portal's other forms (see hotspot.views.portal): captive browsers drop cookies,
# and nothing here grants access without a payment or a secret the customer types.
@access(PUBLIC)
@csrf_exempt
@require_POST
@gzip_page
def portal_buy(request):
    lang, router, mac = portal.device(request)
    if not portal.offered("buy"):
        return portal.closed(request, lang)
    try:
        payment = purchase.initiate(package_id=request.POST.get("package", ""), phone=request.POST.get("phone", ""),
                                    mac=mac, ip=address_or_none(router["ip"]), client_ip=client_ip(request),
                                    lang=lang)
    except purchase.PurchaseRefused as refused:
        return _retry_after(refused, portal.refuse(request, lang, refused.reason, status=refused.status,
                                                   phone=request.POST.get("phone", "")[:20],
                                                   chosen=request.POST.get("package", "")))
    response = _to_payment(request, payment, lang)
    _remember(request, response, payment)
    return response


@access(PUBLIC)
@gzip_page
def portal_payment(request, token: str):
    lang = language(request)
    payment = purchase.by_token(token)
    if payment is None:
        return portal.refuse(request, lang, "no_payment", status=404)
    purchase.state(payment)  # asks M-Pesa when the callback is late; settles the payment in place
    if payment.status == Payment.Status.COMPLETED and payment.subscription is not None:
        return portal.connect(request, lang, payment.customer, payment.subscription)
    if payment.status == Payment.Status.COMPLETED:  # money in the wallet, no package bought with it
        return portal.refuse(request, lang, "paid_to_wallet", status=200)
    if payment.status != Payment.Status.PENDING:
        reason = {"cancelled": "cancelled", "timed_out": "timed_out"}.get(payment.status, "payment_failed")
        return portal.refuse(request, lang, reason, status=200, phone=_local(payment.phone),
                             chosen=str(payment.package_id or ""))
    return portal.page(request, "waiting.html", lang, payment=payment, token=token,
                       phone=_local(payment.phone))


@access(PUBLIC)
@csrf_exempt
@require_POST
@gzip_page
def portal_recover(request):
    lang = language(request)
    if not portal.offered("already_paid"):
        return portal.closed(request, lang)
    try:
        payment = purchase.recover(phone=request.POST.get("phone", ""), code=request.POST.get("code", ""),
                                   paid_here=_paid_here(request), client_ip=client_ip(request))
    except purchase.PurchaseRefused as refused:
        return _retry_after(refused, portal.refuse(
            request, lang, refused.reason, status=refused.status if refused.status == 429 else 200,
            recover_phone=request.POST.get("phone", "")[:20], ask_code=True))
    return _to_payment(request, payment, lang)


def _local(phone: str) -> str:
    """254712345678 -> 0712 345 678, as people write it."""
    if len(phone) == 12 and phone.startswith("254"):
        local = "0" + phone[3:]
        return f"{local[:4]} {local[4:7]} {local[7:]}"
    return phone


