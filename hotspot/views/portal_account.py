"""The customer account's own doors (/portal/account/…): signing in and out, the password, and
signing one of the customer's devices off the network. The pages around them (payments, tickets)
are billing's and monitoring's; the session and the frame are hotspot.account's."""
import hmac

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_POST

from accounts.access import PUBLIC, access
from lib.network import address_or_none, client_ip
from lib.throttle import Slowdown
from radius.models import CoaAttempt

from .. import account, devices, services
from ..account_text import ACCOUNT_TEXT
from ..models import Customer
from ..phone import InvalidPhone, normalise_phone
from ..portal import not_a_guess, take_guess
from ..portal_text import language, words
from .portal import USERNAME


def _said(request, key: str) -> str:
    return ACCOUNT_TEXT[key][language(request)]


# Guesses at one account's password, from any number of addresses (the per-address limit,
# hotspot.portal.take_guess, is no bar to a guesser with many): ACCOUNT_GUESSES an hour, then one
# every ACCOUNT_GUESS_SECONDS. Fewer than an address gets: one customer mistypes a few times at most.
ACCOUNT_GUESSES, ACCOUNT_GUESS_WINDOW_SECONDS, ACCOUNT_GUESS_SECONDS = 10, 3600, 60


def _account_guesses() -> Slowdown:
    return Slowdown("account-guess", ACCOUNT_GUESSES, ACCOUNT_GUESS_WINDOW_SECONDS, ACCOUNT_GUESS_SECONDS)


def _take_account_guess(request, subject: str) -> int:
    """Count a password about to be tried against ``subject``'s account; seconds to wait, 0 to go
    ahead. A refusal tried no password, so it gives the address's guess back."""
    wait = _account_guesses().take(subject)
    if wait:
        not_a_guess(request)
    return wait


def _too_many(request, template: str, wait: int, **context):
    response = account.page(request, template, status=429, error=words(language(request))["too_many"], **context)
    response["Retry-After"] = str(wait)
    return response


def _named(request) -> tuple[Customer | None, str]:
    """The customer the form names (None when nobody is) and the account whose guesses count: the
    customer's id, so their phone and username share one count, or the normalised phone or username
    typed when nobody has it (answered like any account). (None, "") for neither a phone nor a username."""
    who = request.POST.get("phone", "").strip()
    try:
        found = {"phone": normalise_phone(who)}
    except InvalidPhone:
        if not USERNAME.fullmatch(who):
            return None, ""
        found = {"username": who.lower()}
    customer = Customer.objects.filter(**found).first()
    return customer, f"customer:{customer.pk}" if customer is not None else "typed:" + next(iter(found.values()))


def _right_password(customer: Customer | None, password: str) -> bool:
    return customer is not None and hmac.compare_digest(customer.password.encode(),
                                                        password.strip().lower().encode())


@access(PUBLIC)
@gzip_page
def sign_in(request):
    target = account.safe_next(request.POST.get("next") or request.GET.get("next", ""))
    if request.method != "POST":
        if account.customer_in(request.session) is not None:
            return HttpResponseRedirect(target)
        notice = _said(request, "signed_out") if "signed-out" in request.GET else None
        return account.page(request, "sign_in.html", next=target, notice=notice)
    context = {"next": target, "who": request.POST.get("phone", "")[:40]}
    wait = take_guess(request)
    if wait:
        return _too_many(request, "sign_in.html", wait, **context)
    customer, subject = _named(request)
    if not subject:
        not_a_guess(request)  # a malformed number guesses nobody's password
        return account.page(request, "sign_in.html", status=400, error=words(language(request))["bad_phone"],
                            **context)
    wait = _take_account_guess(request, subject)
    if wait:
        return _too_many(request, "sign_in.html", wait, **context)
    if not _right_password(customer, request.POST.get("password", "")):
        return account.page(request, "sign_in.html", status=400, error=words(language(request))["wrong_login"],
                            **context)
    not_a_guess(request)
    _account_guesses().reset(subject)  # the customer is in: the guesses at their account are forgiven
    if customer.status != Customer.Status.ACTIVE:
        return account.page(request, "sign_in.html", status=403, error=_said(request, "account_closed"), **context)
    account.sign_in(request, customer)
    return HttpResponseRedirect(target)


@access(PUBLIC)
@require_POST
def sign_out(request):
    account.sign_out(request)
    return HttpResponseRedirect(f"{account.SIGN_IN}?signed-out")


def _password_form(request, status=200, **context):
    return account.page(request, "password.html", status=status, section="password",
                        hint=_said(request, "password_hint"), **context)


@access(PUBLIC)
@gzip_page
@account.customer_required
def password(request):
    if request.method != "POST":
        done = _said(request, "password_changed") if "changed" in request.GET else None
        return _password_form(request, notice=done)
    new, again = request.POST.get("new", ""), request.POST.get("again", "")
    if new.strip().lower() != again.strip().lower():
        return _password_form(request, status=400, error=_said(request, "password_mismatch"))
    subject = f"customer:{request.customer.pk}"  # the same count as signing in to this account
    wait = take_guess(request) or _take_account_guess(request, subject)  # the current password is a guess
    if wait:
        return _too_many(request, "password.html", wait, section="password", hint=_said(request, "password_hint"))
    try:
        services.change_password(request.customer, request.POST.get("current", ""), new,
                                 ip=address_or_none(client_ip(request)))
    except services.PasswordRefused as refused:
        if refused.reason != "password_wrong":
            not_a_guess(request)
            _account_guesses().forgive(subject)
        return _password_form(request, status=400, error=_said(request, refused.reason))
    not_a_guess(request)
    _account_guesses().reset(subject)
    account.refresh(request, request.customer)  # this browser stays in; the others' fingerprints no longer match
    return HttpResponseRedirect("/portal/account/password/?changed")


@access(PUBLIC)
@require_POST
@account.customer_required
def device_sign_out(request):
    mac = request.POST.get("mac", "")[:40]
    attempts = devices.sign_out(request.customer, mac, ip=address_or_none(client_ip(request)))
    if not attempts:
        messages.error(request, _said(request, "device_not_yours"))
    elif all(attempt.outcome == CoaAttempt.Outcome.ACK for attempt in attempts):
        messages.success(request, _said(request, "device_signed_out"))
    else:  # a NAK or silence: the router may still end it (radius.coa's fallback), but it did not say so
        messages.error(request, _said(request, "device_not_confirmed"))
    return HttpResponseRedirect(account.HOME)
