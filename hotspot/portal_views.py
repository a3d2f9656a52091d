"""The captive portal, login side: where a router's hotspot sends a new device.

The router redirects to /portal/ with its variables (mac, ip, link-login-only, link-orig). The
customer redeems a voucher or signs in with phone + password; the page then hands the RADIUS
credentials to the router by a form posted to link-login-only (a button, submitted for them when
JavaScript runs). Pages are small, self-contained and work without JavaScript: the router's
variables travel in hidden fields because captive mini-browsers often drop cookies.
"""
import hmac

from ada_url import URL
from django.core import signing
from django.http import JsonResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_POST

from accounts.access import PUBLIC, access
from lib.network import address_or_none, address_subject, client_ip
from radius import sessions as radius_sessions

from . import router_urls, services, vouchers
from .models import Customer, Package, ServiceType
from .phone import InvalidPhone, normalise_phone
from .portal_text import language, words
from .voucher_api import guess_slowdown

STATUS_SALT = "portal-status"


def router_fields(request) -> dict:
    """What the router passed along (mac, ip, its login URL, the page the customer wanted): read
    once per request, since checking the login URL may ask the database, and a page, a refusal and
    the login all ask. The URLs are judged as a browser reads them and kept only in their
    normalised form (hotspot.router_urls): what the page renders is what was checked."""
    if not hasattr(request, "_portal_router"):
        source = request.POST if request.method == "POST" else request.GET

        def given(name):
            return source.get(name, source.get(name.replace("_", "-"), ""))

        request._portal_router = {"mac": given("mac")[:500], "ip": given("ip")[:500],
                                  "link_login_only": router_urls.login_url(given("link_login_only")),
                                  "link_orig": router_urls.destination(given("link_orig"))}
    return dict(request._portal_router)


def _switch_url(request, lang: str, router: dict) -> str:
    """The same page in the other language; after a form post, the portal's first page."""
    query = QueryDict(mutable=True)
    query.update({key.replace("_", "-"): value for key, value in router.items() if value})
    for kept in ("t", "voucher"):
        if request.method == "GET" and request.GET.get(kept):
            query[kept] = request.GET[kept]
    query["lang"] = "sw" if lang == "en" else "en"
    path = request.path if request.method == "GET" else "/portal/"
    return f"{path}?{query.urlencode()}"


def page(request, template, lang, status=200, **context):
    router = router_fields(request)
    context.update(t=words(lang), lang=lang, router=router, switch_url=_switch_url(request, lang, router))
    response = render(request, f"portal/{template}", context, status=status)
    if request.GET.get("lang") == lang:
        response.set_cookie("portal_lang", lang, max_age=365 * 86400, samesite="Lax")
    return response


def on_sale():
    return (Package.objects.filter(is_active=True, service_type=ServiceType.HOTSPOT)
            .order_by("display_order", "price"))


@access(PUBLIC)
@gzip_page
def portal(request):
    lang = language(request)
    return page(request, "index.html", lang, packages=on_sale(), voucher=request.GET.get("voucher", "")[:30])


def connect(request, lang, customer, subscription):
    router = router_fields(request)
    services.seen(customer, router["mac"].upper().replace(":", "-"), address_or_none(router["ip"]))
    token = signing.dumps(customer.username, salt=STATUS_SALT)
    response = page(request, "connect.html", lang, customer=customer, subscription=subscription, token=token)
    if router["link_login_only"]:  # the form posts to the router: this page's CSP allows that origin alone
        response._csp_update = {"form-action": [URL(router["link_login_only"]).origin]}
    return response


def refuse(request, lang: str, reason: str, status: int = 400, **context):
    """The first page again, saying why (in the customer's language)."""
    context.setdefault("packages", on_sale())
    return page(request, "index.html", lang, status=status, error=words(lang)[reason], **context)


def device(request) -> tuple[str, dict, str]:
    router = router_fields(request)
    return language(request), router, router["mac"].upper().replace(":", "-")


def take_guess(request) -> int:
    """Count a code or password about to be tried against the client's address, before trying
    it (a parallel burst cannot outrun the count); seconds to wait, 0 to go ahead."""
    return guess_slowdown().take(address_subject(client_ip(request)))


def not_a_guess(request) -> None:
    """The attempt succeeded, or guessed nothing: it does not count against the address."""
    guess_slowdown().forgive(address_subject(client_ip(request)))


def too_many(request, lang: str, wait: int):
    response = refuse(request, lang, "too_many", status=429)
    response["Retry-After"] = str(wait)
    return response


# No CSRF token on the portal's forms: captive mini-browsers often drop cookies between pages,
# which would refuse every customer, and these anonymous forms grant nothing an attacker could
# borrow (a code or a password must be typed; attempts are rate-limited).
@access(PUBLIC)
@csrf_exempt
@require_POST
@gzip_page
def portal_voucher(request):
    lang, router, mac = device(request)
    wait = take_guess(request)
    if wait:
        return too_many(request, lang, wait)
    try:
        subscription = vouchers.redeem(request.POST.get("code", ""), mac=mac, ip=address_or_none(router["ip"]))
    except vouchers.VoucherError as refused:
        return refuse(request, lang, refused.reason, voucher=request.POST.get("code", "")[:30])
    not_a_guess(request)
    return connect(request, lang, subscription.customer, subscription)


@access(PUBLIC)
@csrf_exempt
@require_POST
@gzip_page
def portal_login(request):
    lang, router, mac = device(request)
    wait = take_guess(request)
    if wait:
        return too_many(request, lang, wait)
    try:
        phone = normalise_phone(request.POST.get("phone", ""))
    except InvalidPhone:
        not_a_guess(request)
        return refuse(request, lang, "bad_phone")
    customer = Customer.objects.filter(phone=phone, status=Customer.Status.ACTIVE).first()
    password = request.POST.get("password", "")
    if customer is None or not hmac.compare_digest(customer.password.encode(), password.strip().lower().encode()):
        return refuse(request, lang, "wrong_login")
    not_a_guess(request)
    subscription = services.current_subscription(customer)
    if subscription is None:
        return refuse(request, lang, "no_access")
    return connect(request, lang, customer, subscription)


def _left(customer):
    """(seconds, bytes or None, subscription) left for ``customer`` now."""
    subscription = services.current_subscription(customer)
    if subscription is None:
        return 0, 0, None
    seconds = max(0, int((subscription.expires_at - timezone.now()).total_seconds()))
    limit = subscription.package.data_limit_mb
    if not limit:
        return seconds, None, subscription
    used = radius_sessions.usage(customer.username, since=subscription.starts_at).total_octets
    return seconds, max(0, limit * 2**20 - used), subscription


@access(PUBLIC)
@gzip_page
def portal_status(request):
    lang = language(request)
    try:
        username = signing.loads(request.GET.get("t", ""), salt=STATUS_SALT, max_age=60 * 86400)
    except signing.BadSignature:
        username = None
    customer = Customer.objects.filter(username=username).first() if username else None
    if customer is None:
        return refuse(request, lang, "no_access")
    seconds, data, subscription = _left(customer)
    return page(request, "status.html", lang, customer=customer, subscription=subscription,
                 days=seconds // 86400, hours=seconds % 86400 // 3600, minutes=seconds % 3600 // 60,
                 data_left=data)


@access(PUBLIC)
def captive_api(request):
    """RFC 8908: what the asking device's OS may show: captive or not, time and data left."""
    ip = client_ip(request)
    session = radius_sessions.open_sessions().filter(framed_ip_address=ip).first() if address_or_none(ip) else None
    customer = Customer.objects.filter(username=session.username).first() if session else None
    body = {"captive": True, "user-portal-url": request.build_absolute_uri("/portal/")}
    if customer is not None:
        seconds, data, subscription = _left(customer)
        if subscription is not None:
            body.update({"captive": False, "seconds-remaining": seconds, "can-extend-session": True})
            if data is not None:
                body["bytes-remaining"] = data
    response = JsonResponse(body, content_type="application/captive+json")
    response["Cache-Control"] = "private, no-store"
    return response
