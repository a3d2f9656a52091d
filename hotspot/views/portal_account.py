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


def _too_many(request, template: str, wait: int, **context):
    response = account.page(request, template, status=429, error=words(language(request))["too_many"], **context)
    response["Retry-After"] = str(wait)
    return response


def _signing_in(request):
    """The customer the form names, when its password is theirs: (customer or None, refusal word)."""
    who, password = request.POST.get("phone", "").strip(), request.POST.get("password", "")
    try:
        found = {"phone": normalise_phone(who)}
    except InvalidPhone:
        if not USERNAME.fullmatch(who):
            return None, "bad_phone"
        found = {"username": who.lower()}
    customer = Customer.objects.filter(**found).first()
    if customer is None or not hmac.compare_digest(customer.password.encode(), password.strip().lower().encode()):
        return None, "wrong_login"
    return customer, ""


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
    customer, refusal = _signing_in(request)
    if refusal == "bad_phone":
        not_a_guess(request)  # a malformed number guesses nobody's password
    if customer is None:
        return account.page(request, "sign_in.html", status=400, error=words(language(request))[refusal], **context)
    not_a_guess(request)
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
    wait = take_guess(request)  # the current password is a guess until it is right
    if wait:
        return _too_many(request, "password.html", wait, section="password", hint=_said(request, "password_hint"))
    try:
        services.change_password(request.customer, request.POST.get("current", ""), new,
                                 ip=address_or_none(client_ip(request)))
    except services.PasswordRefused as refused:
        if refused.reason != "password_wrong":
            not_a_guess(request)
        return _password_form(request, status=400, error=_said(request, refused.reason))
    not_a_guess(request)
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
