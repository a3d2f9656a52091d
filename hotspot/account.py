"""The customer's own account pages (/portal/account/…): who is signed in, and the page frame.

A customer signs in with phone (or username) + password as on the portal's first page; the session
then holds their id and a fingerprint of their password, so a changed or reset password signs out
every other browser at its next request. Unlike the captive portal's pages, these live in an
ordinary phone browser that keeps cookies, so they use Django's session and CSRF protection.

The pages are built by the app that owns what they show: sign-in, password and devices here
(hotspot.views.portal_account), payments, wallet and invoices in billing (billing.views.portal_account),
tickets in monitoring (monitoring.views.portal_tickets). Each wraps its views in
``customer_required`` and renders with ``page``.
"""
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.utils.crypto import constant_time_compare, salted_hmac

from . import portal
from .account_text import ACCOUNT_TEXT
from .models import Customer

SESSION_KEY = "portal_account"
HOME = "/portal/account/"
SIGN_IN = "/portal/account/sign-in/"


def _fingerprint(customer: Customer) -> str:
    return salted_hmac("portal-account", f"{customer.pk}:{customer.password}").hexdigest()


def sign_in(request, customer: Customer) -> None:
    """Start the customer's session (a new session key and CSRF token: a planted one is never
    promoted, as django.contrib.auth.login does for staff)."""
    request.session.cycle_key()
    rotate_token(request)
    request.session[SESSION_KEY] = {"id": customer.pk, "key": _fingerprint(customer)}


def sign_out(request) -> None:
    request.session.pop(SESSION_KEY, None)


def customer_in(session) -> Customer | None:
    """The customer a session belongs to: None when nobody signed in, the account is gone or was
    closed (signing in refuses a closed one too), or its password changed since (the fingerprint no
    longer matches)."""
    held = session.get(SESSION_KEY) if session is not None else None
    if not isinstance(held, dict) or not isinstance(held.get("id"), int):
        return None
    customer = Customer.objects.filter(pk=held["id"], status=Customer.Status.ACTIVE).first()
    if customer is None or not constant_time_compare(str(held.get("key", "")), _fingerprint(customer)):
        return None
    return customer


def refresh(request, customer: Customer) -> None:
    """Keep this browser signed in after the customer changed their own password here."""
    request.session[SESSION_KEY] = {"id": customer.pk, "key": _fingerprint(customer)}


def safe_next(value: str) -> str:
    """Where to go after signing in: an account page, or the account's first page (never the
    sign-in page itself, which sends a signed-in customer on: a loop)."""
    value = (value or "").strip()
    if (value.startswith(HOME) and not value.startswith(SIGN_IN) and "\\" not in value and "//" not in value
            and value.isprintable()):
        return value
    return HOME


def customer_required(view):
    """The signed-in customer as ``request.customer``, or a redirect to the sign-in page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        customer = customer_in(request.session)
        if customer is None:
            sign_out(request)
            target = request.get_full_path() if request.method == "GET" else HOME
            return HttpResponseRedirect(f"{SIGN_IN}?{urlencode({'next': safe_next(target)})}")
        request.customer = customer
        return view(request, *args, **kwargs)

    return wrapped


def page(request, template: str, status: int = 200, **context):
    """templates/portal/account/``template`` in the customer's language, with the portal's frame
    (brand, colours, language switch) and the account's words beside the portal's."""
    lang = portal.language(request)
    context.setdefault("customer", getattr(request, "customer", None))
    if request.headers.get("X-Live"):
        # The account script's refetch of the open page leaves the one-time notices (messages) alone:
        # the event a post causes (a device's session ended) can reach the page before the post's
        # redirect does, and would otherwise use up the notice meant for the page it leads to.
        context["messages"] = ()
    context["a"] = {key: values[lang] for key, values in ACCOUNT_TEXT.items()}
    return portal.page(request, f"account/{template}", lang, status=status, **context)
