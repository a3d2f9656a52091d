"""Two-factor sign-in for staff: an authenticator app (TOTP) and ten recovery codes per staff member.

django-otp keeps the devices: one ``TOTPDevice`` and one ``StaticDevice`` (the recovery codes) per
user. An authenticator is unconfirmed until its first code is entered, and only confirmed ones are
asked for at sign-in. Wrong codes count against the same lockout as wrong passwords
(``services.throttles``), so a stolen password buys no more guesses than none.

Enrolled, turned off, reset by an Admin and recovery codes regenerated are audited; a wrong code is
a ``sign_in_failed`` entry like a wrong password. The TOTP key and the recovery codes go to no log
and no audit entry: only the enrolling user's own page shows them (the key while enrolling, the codes
once, as they are made).
"""
import base64
from urllib.parse import quote, urlencode

import segno
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit import trail
from audit.actors import Actor
from lib.network import address_or_none, address_subject, client_ip
from siteconfig import store

from . import services
from .models import User
from .roles import ADMIN

RECOVERY_CODE_COUNT = 10
WRONG_CODE = "That code is not right. Enter the current code from your authenticator app, or a recovery code."


class TwoFactorError(Exception):
    """A two-factor change that is refused, with a message for the person who asked."""


# --- who has it, who needs it ------------------------------------------------------------------------


def is_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def with_enrolment(staff: QuerySet) -> QuerySet:
    """``staff`` annotated with ``two_factor`` (a confirmed authenticator), in the same query."""
    return staff.annotate(two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))


def required_for(user: User) -> bool:
    """Whether the security setting obliges ``user`` (an Admin) to sign in with a code."""
    if not store.get("security.require_two_factor_for_admin"):
        return False
    return user.is_superuser or user.groups.filter(name=ADMIN).exists()


def must_enrol(user: User) -> bool:
    return required_for(user) and not is_enrolled(user)


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


# --- enrolling -------------------------------------------------------------------------------------


def start_enrolment(user: User) -> TOTPDevice:
    """A fresh, unconfirmed authenticator for ``user`` (an earlier unconfirmed one is dropped)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def unconfirmed(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def secret_text(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app by hand."""
    plain = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(plain[i:i + 4] for i in range(0, len(plain), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The key as an otpauth:// QR code, inline SVG markup (drawn here: no image from another host)."""
    issuer = (store.get("general.business_name") or "Hotspot ISP").replace(":", "")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": device.digits,
                       "period": device.step}, quote_via=quote)
    uri = f"otpauth://totp/{quote(issuer)}:{quote(device.user.username)}?{query}"
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#111827", light="#ffffff",
                                                  title="QR code for your authenticator app")


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Confirm the unconfirmed authenticator with its current code; returns the new recovery codes."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None:
            raise TwoFactorError("Start the set-up again: there is no authenticator waiting to be confirmed.")
        if not device.verify_token(_plain(code)):
            raise TwoFactorError("That code is not right. Check the app shows the code for this account and try "
                                 "again with the code it shows now.")
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
        codes = _new_recovery_codes(user)
        trail.record("two_factor_enrolled", user, label=user.username,
                     note=f"authenticator app and {RECOVERY_CODE_COUNT} recovery codes")
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    if not is_enrolled(user):
        raise TwoFactorError("Set up an authenticator app first.")
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        trail.record("recovery_codes_regenerated", user, label=user.username, note="the old codes stop working")
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def disable(user: User) -> None:
    """``user`` turns two-factor sign-in off (refused while the setting obliges them to keep it)."""
    if required_for(user):
        raise TwoFactorError("Admins must use two-factor sign-in here: it cannot be turned off.")
    with transaction.atomic():
        if _remove_devices(user):
            trail.record("two_factor_disabled", user, label=user.username)


def reset(actor: User, user: User) -> None:
    """An Admin removes a staff member's authenticator and recovery codes (a lost phone); they sign in
    with their password alone until they enrol again (at once, if the setting obliges them)."""
    if actor.pk == user.pk:
        raise TwoFactorError("Turn your own two-factor sign-in off on your two-factor page.")
    with transaction.atomic():
        if _remove_devices(user):
            trail.record("two_factor_reset", user, label=user.username, note="authenticator and recovery codes removed")


def _remove_devices(user: User) -> bool:
    had = is_enrolled(user)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return had


# --- the code at sign-in ---------------------------------------------------------------------------


def _plain(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _matching_device(user: User, code: str):
    """The device ``code`` is right for, using it up (a TOTP step or a recovery code works once)."""
    code = _plain(code)
    if len(code) > 16:  # longer than any code: no query for it
        return None
    with transaction.atomic():
        if code.isdigit() and len(code) in (6, 8):
            devices = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)
        elif code:
            devices = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True)
        else:
            return None
        return next((device for device in devices if device.verify_token(code)), None)


def _take(request: HttpRequest, user: User):
    """Count an attempt for ``user`` from this address before it is checked, as the password step does."""
    by_username, by_ip = services.throttles()
    ip = address_subject(client_ip(request))
    wait = by_ip.take(ip)
    if not wait:
        wait = by_username.take(user.username)
        if wait:  # refused for the username: not an attempt the address made
            by_ip.forgive(ip)
    return by_username, by_ip, ip, wait


def verify_code(request: HttpRequest, user: User, code: str, *, via: str = "page") -> services.LoginResult:
    """The second step of signing in ``user`` (whose password was right): counted before it is
    checked, against the same per-username and per-address limits as passwords."""
    by_username, by_ip, ip, wait = _take(request, user)
    device = None if wait or not user.is_active else _matching_device(user, code)
    if device is None:
        if not wait:
            wait = max(by_username.failed(user.username), by_ip.failed(ip))
        trail.record("sign_in_failed", user, label=user.username,
                     actor=Actor("system", "", "anonymous", address_or_none(client_ip(request))),
                     note=f"{via}: {'locked out' if wait else 'wrong two-factor code'}")
        if wait:
            return services.LoginResult(None, services.lockout_message(wait), wait)
        return services.LoginResult(None, WRONG_CODE)
    by_username.reset(user.username)
    by_ip.forgive(ip)
    kind = "a recovery code" if isinstance(device, StaticDevice) else "an authenticator code"
    trail.record("signed_in", user, actor=Actor.staff(user, address_or_none(client_ip(request))),
                 note=f"{via}, with {kind}")
    user.otp_device = device  # django_otp marks the session verified when it is signed in
    return services.LoginResult(user)


def confirm_identity(request: HttpRequest, user: User, password_or_code: str) -> str:
    """Before turning two-factor off or replacing the recovery codes: the password or a current code.
    Returns the error ("" when confirmed); wrong answers count against the sign-in lockout."""
    by_username, by_ip, ip, wait = _take(request, user)
    if wait:
        return services.lockout_message(wait)
    if password_or_code and (user.check_password(password_or_code) or _matching_device(user, password_or_code)):
        by_username.forgive(user.username)
        by_ip.forgive(ip)
        return ""
    wait = max(by_username.failed(user.username), by_ip.failed(ip))
    return services.lockout_message(wait) if wait else "That is neither your password nor a current code."
