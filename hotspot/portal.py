"""The captive portal's shared parts: what the router passed along, the page in the customer's
language, refusals, the hand-over to the router's login, the status link's token, and the slowdown
on guessed codes and passwords. The portal's pages (hotspot.views.portal, and the purchase pages in
billing.views.portal) are built from these.

The router redirects to /portal/ with its variables (mac, ip, link-login-only, link-orig). The
customer redeems a voucher, signs in with phone + password or buys a package; the page then hands
the RADIUS credentials to the router by a form posted to link-login-only (a button, submitted for
them when JavaScript runs). Pages are small, self-contained and work without JavaScript: the
router's variables travel in hidden fields because captive mini-browsers often drop cookies.
"""
from urllib.parse import urlencode

from ada_url import URL
from django.conf import settings
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import render

from lib.network import address_or_none, address_subject, client_ip
from lib.throttle import Slowdown
from siteconfig import store

from . import portal_page, router_urls, services
from .models import Package, PackageKind, ServiceType
from .portal_text import language, words

STATUS_SALT = "portal-status"
STATUS_TOKEN_DAYS = 60


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


def device(request) -> tuple[str, dict, str]:
    """The customer's language, the router's variables and the device's MAC as RADIUS writes it."""
    router = router_fields(request)
    return language(request), router, router["mac"].upper().replace(":", "-")


def _switch_url(request, lang: str, router: dict) -> str:
    """The same page in the other language; after a form post, the first page of its part (the
    portal's, or the account's: a refused account form must not send the customer to the captive
    portal)."""
    # Pairs encoded as QueryDict.urlencode would (quote_plus), without building one on every first page.
    query = [(key.replace("_", "-"), value) for key, value in router.items() if value]
    for kept in ("t", "voucher", "next"):
        if request.method == "GET" and request.GET.get(kept):
            query.append((kept, request.GET[kept]))
    query.append(("lang", "sw" if lang == "en" else "en"))
    first = "/portal/account/" if request.path.startswith("/portal/account/") else "/portal/"
    path = request.path if request.method == "GET" else first
    return f"{path}?{urlencode(query)}"


def page(request, template, lang, status=200, **context):
    """templates/portal/``template`` in ``lang``, with the router's variables for its forms and the
    business's portal settings (welcome text, colour, terms, which sections show); the business
    name, support phone and logo come with every page (``brand``, siteconfig.context_processors)."""
    router = router_fields(request)
    context.update(t=words(lang), lang=lang, router=router, switch_url=_switch_url(request, lang, router),
                   portal=store.section("portal"))
    response = render(request, f"portal/{template}", context, status=status)
    if request.GET.get("lang") == lang:
        response.set_cookie("portal_lang", lang, max_age=365 * 86400, samesite="Lax")
    return response


def first_page(request, lang):
    """The portal's first page, from the rendering kept for its language and state
    (hotspot.portal_page), with this request's router variables, language link and voucher."""
    router = router_fields(request)
    html = portal_page.first_page(lang, router, _switch_url(request, lang, router),
                                  request.GET.get("voucher", "")[:30], on_sale)
    response = HttpResponse(html)
    if request.GET.get("lang") == lang:
        response.set_cookie("portal_lang", lang, max_age=365 * 86400, samesite="Lax")
    return response


def on_sale():
    # Boosts add to a running package: never offered as a first purchase.
    return (Package.objects.filter(is_active=True, service_type=ServiceType.HOTSPOT).exclude(kind=PackageKind.BOOST)
            .order_by("display_order", "price"))


def offered(part: str) -> bool:
    """Whether the portal shows ``part`` (buy, voucher, sign_in, already_paid): portal settings."""
    return bool(store.get(f"portal.show_{part}"))


def closed(request, lang: str):
    """A post to a part the business has hidden: the first page again, saying so."""
    return refuse(request, lang, "closed", status=403)


def refuse(request, lang: str, reason: str, status: int = 400, **context):
    """The first page again, saying why (in the customer's language)."""
    context.setdefault("packages", on_sale())
    return page(request, "index.html", lang, status=status, error=words(lang)[reason], **context)


def status_token(username: str) -> str:
    """The signed token in the status page's link, so a customer can look without signing in."""
    return signing.dumps(username, salt=STATUS_SALT)


def status_username(token: str) -> str | None:
    """Whose status ``token`` shows, or None when it is forged or older than STATUS_TOKEN_DAYS."""
    try:
        return signing.loads(token, salt=STATUS_SALT, max_age=STATUS_TOKEN_DAYS * 86400)
    except signing.BadSignature:
        return None


def connect(request, lang, customer, subscription):
    """The page that hands the customer's RADIUS credentials to the router's login."""
    router = router_fields(request)
    services.seen(customer, router["mac"].upper().replace(":", "-"), address_or_none(router["ip"]))
    response = page(request, "connect.html", lang, customer=customer, subscription=subscription,
                    token=status_token(customer.username))
    if router["link_login_only"]:  # the form posts to the router: this page's CSP allows that origin alone
        response._csp_update = {"form-action": [URL(router["link_login_only"]).origin]}
    return response


def guess_slowdown() -> Slowdown:
    """Wrong voucher codes and portal sign-ins, per client address: the one thing about who asks
    that the network reports; the mac and ip fields are the client's own claim (see settings)."""
    return Slowdown("portal-guess", settings.PORTAL_VOUCHER_FAILURES_PER_IP,
                    settings.PORTAL_VOUCHER_WINDOW_MINUTES * 60, settings.PORTAL_VOUCHER_SLOWDOWN_SECONDS)


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
