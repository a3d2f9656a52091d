"""The captive portal's pages (/portal/…): the first page, a voucher, a phone + password sign-in,
what is left, and the RFC 8908 captive API. Buying a package is billing's (billing.views.portal);
the parts both use are in hotspot.portal."""
import hmac
import re

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_POST

from accounts.access import PUBLIC, access
from lib.network import address_or_none, client_ip
from radius import sessions as radius_sessions

from .. import fair_use, services, vouchers
from ..models import Customer, Package, PackageKind
from ..phone import InvalidPhone, normalise_phone
from ..portal import (
    closed,
    connect,
    device,
    first_page,
    not_a_guess,
    offered,
    page,
    refuse,
    status_username,
    take_guess,
    too_many,
)
from ..portal_text import language


@access(PUBLIC)
@gzip_page
def portal(request):
    return first_page(request, language(request))


# No CSRF token on the portal's forms: captive mini-browsers often drop cookies between pages,
# which would refuse every customer, and these anonymous forms grant nothing an attacker could
# borrow (a code or a password must be typed; attempts are rate-limited).
@access(PUBLIC)
@csrf_exempt
@require_POST
@gzip_page
def portal_voucher(request):
    lang, router, mac = device(request)
    if not offered("voucher"):
        return closed(request, lang)
    wait = take_guess(request)
    if wait:
        return too_many(request, lang, wait)
    try:
        subscription = vouchers.redeem(request.POST.get("code", ""), mac=mac, ip=address_or_none(router["ip"]),
                                       client_address=address_or_none(client_ip(request)))
    except vouchers.VoucherError as refused:
        return refuse(request, lang, refused.reason, voucher=request.POST.get("code", "")[:30])
    not_a_guess(request)
    return connect(request, lang, subscription.customer, subscription)


# A RADIUS username as the receipt SMS gives it; anything else is neither a phone nor a username.
USERNAME = re.compile(r"[A-Za-z0-9]{3,32}")


@access(PUBLIC)
@csrf_exempt
@require_POST
@gzip_page
def portal_login(request):
    lang, router, mac = device(request)
    if not offered("sign_in"):
        return closed(request, lang)
    wait = take_guess(request)
    if wait:
        return too_many(request, lang, wait)
    # The phone number, or the username the receipt SMS gave ("Login c5155 / hfx2umb9").
    who = request.POST.get("phone", "").strip()
    try:
        account = {"phone": normalise_phone(who)}
    except InvalidPhone:
        if not USERNAME.fullmatch(who):
            not_a_guess(request)
            return refuse(request, lang, "bad_phone")
        account = {"username": who.lower()}
    customer = Customer.objects.filter(**account, status=Customer.Status.ACTIVE).first()
    password = request.POST.get("password", "")
    if customer is None or not hmac.compare_digest(customer.password.encode(), password.strip().lower().encode()):
        return refuse(request, lang, "wrong_login")
    not_a_guess(request)
    subscription = services.current_subscription(customer)
    if subscription is None:
        return refuse(request, lang, "no_access")
    return connect(request, lang, customer, subscription)


@access(PUBLIC)
@gzip_page
def portal_status(request):
    lang = language(request)
    username = status_username(request.GET.get("t", ""))
    customer = Customer.objects.filter(username=username).first() if username else None
    if customer is None:
        return refuse(request, lang, "no_access")
    seconds, data, subscription = services.left(customer)
    standing = fair_use.standing(subscription) if subscription is not None else None
    # Slowed or nearly: "Buy a boost", leading to the account page's boosts (bought signed in).
    boost_on_sale = standing is not None and standing.near and Package.objects.filter(
        kind=PackageKind.BOOST, is_active=True).exists()
    return page(request, "status.html", lang, customer=customer, subscription=subscription,
                 days=seconds // 86400, hours=seconds % 86400 // 3600, minutes=seconds % 3600 // 60,
                 data_left=data, standing=standing, boost_on_sale=boost_on_sale)


@access(PUBLIC)
def captive_api(request):
    """RFC 8908: what the asking device's OS may show: captive or not, time and data left."""
    ip = client_ip(request)
    session = radius_sessions.open_sessions().filter(framed_ip_address=ip).first() if address_or_none(ip) else None
    customer = Customer.objects.filter(username=session.username).first() if session else None
    body = {"captive": True, "user-portal-url": request.build_absolute_uri("/portal/")}
    if customer is not None:
        seconds, data, subscription = services.left(customer)
        if subscription is not None:
            body.update({"captive": False, "seconds-remaining": seconds, "can-extend-session": True})
            if data is not None:
                body["bytes-remaining"] = data
    response = JsonResponse(body, content_type="application/captive+json")
    response["Cache-Control"] = "private, no-store"
    return response
