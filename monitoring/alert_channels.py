"""Delivering one alert to one staff address: SMS and e-mail through the product's own senders
(billing.notifications, which records each attempt), Telegram through its Bot API.

``send`` returns when the message was handed over and raises ``DeliveryFailed`` with a message fit
for the alerts page otherwise; the bot token never appears in it, nor in the log (httpx logs each
request's URL, which holds the token: the filter below hides it)."""
import logging
import re

import httpx
from django.conf import settings

from billing.models import Notification
from billing.notifications import send_email, send_sms
from hotspot.phone import InvalidPhone, normalise_phone
from siteconfig import store

CHANNELS = ("sms", "email", "telegram")
# Telegram refuses longer messages (Bot API: "text: 1-4096 characters").
TELEGRAM_MAX_TEXT = 4096
# A private chat or group's numeric id (groups are negative), or a public channel's @username: what
# the preferences form accepts and what is sent.
CHAT_ID = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$", re.ASCII)
_BOT_PATH = re.compile(r"/bot[^/\s]+/")


class DeliveryFailed(Exception):
    """The channel did not take the message; the text says why in words for staff, never a secret.
    ``retry_after``: seconds the provider asked us to wait (Telegram's 429), else None."""

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _HideBotToken(logging.Filter):
    """httpx logs "HTTP Request: POST https://api.telegram.org/bot<token>/sendMessage ...": keep the
    line, drop the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "/bot" in text:
            record.msg, record.args = _BOT_PATH.sub("/bot…/", text), ()
        return True


logging.getLogger("httpx").addFilter(_HideBotToken())


def send(channel: str, address: str, text: str) -> None:
    """Deliver ``text`` to ``address`` (a phone number, an e-mail address, a Telegram chat id)."""
    if channel not in CHANNELS:
        raise DeliveryFailed(f"Unknown alert channel {channel!r} (one of {', '.join(CHANNELS)})")
    address = (address or "").strip()
    if not address:
        raise DeliveryFailed(f"No {channel} address to send to")
    {"sms": _sms, "email": _email, "telegram": _telegram}[channel](address, text)


def normalised(channel: str, address: str) -> str:
    """``address`` as the place it reaches, so staff sharing one (a Telegram group, a shared mailbox,
    the NOC's phone) are told once: a phone as 2547XXXXXXXX, an e-mail address and a channel's
    @username without case (Telegram's are case-insensitive)."""
    address = (address or "").strip()
    if channel == "sms":
        try:
            return normalise_phone(address)
        except InvalidPhone:
            return address
    if channel == "email" or address.startswith("@"):
        return address.lower()
    return address


def _sms(phone: str, text: str) -> None:
    try:
        phone = normalise_phone(phone)
    except InvalidPhone as error:
        raise DeliveryFailed(str(error)) from None
    note = send_sms(phone, text)
    if note.status != Notification.Status.SENT:
        raise DeliveryFailed(f"SMS to {phone} not sent: {note.error}")


def _email(to: str, text: str) -> None:
    if "@" not in to or any(c.isspace() for c in to):
        raise DeliveryFailed(f"{to[:80]!r} is not an e-mail address")
    # The first line says what happened ("Router Kilimani offline"): it is the subject too.
    subject = (text.strip().splitlines() or ["Alert"])[0][:150]
    note = send_email(to, subject, text)
    if note.status != Notification.Status.SENT:
        raise DeliveryFailed(f"E-mail to {to} not sent: {note.error}")


def _telegram(chat_id: str, text: str) -> None:
    token = store.get("alerts.telegram_token")
    if not token:
        raise DeliveryFailed("Telegram: no bot token set (Settings → Alerts)")
    if not CHAT_ID.match(chat_id):
        raise DeliveryFailed(f"Telegram: {chat_id[:40]!r} is not a chat ID (a number, or @channel)")
    url = f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{token}/sendMessage"
    try:
        response = httpx.post(url, json={"chat_id": chat_id, "text": text[:TELEGRAM_MAX_TEXT]},
                              timeout=settings.TELEGRAM_TIMEOUT_SECONDS)
    except httpx.TimeoutException:
        raise DeliveryFailed(f"Telegram did not answer within {settings.TELEGRAM_TIMEOUT_SECONDS} s") from None
    except httpx.HTTPError as error:
        # httpx's own words ("[Errno 111] Connection refused"), scrubbed in case one names the URL.
        reason = _BOT_PATH.sub("/bot…/", str(error)).replace(token, "…") or type(error).__name__
        raise DeliveryFailed(f"Telegram unreachable at {settings.TELEGRAM_API_URL}: {reason}"[:300]) from None
    _check_answer(response, chat_id, token)


def _check_answer(response: httpx.Response, chat_id: str, token: str) -> None:
    try:
        answer = response.json()
        ok, code = answer["ok"], answer.get("error_code", response.status_code)
        description = str(answer.get("description", "")).replace(token, "…")[:200]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DeliveryFailed(f"Telegram answered HTTP {response.status_code} without a Bot API answer") from None
    if ok is True:
        return
    if code == 401:
        raise DeliveryFailed(f"Telegram refused the bot token ({code} {description or 'Unauthorized'}): "
                             "check it in Settings → Alerts")
    if code == 429:
        retry = (answer.get("parameters") or {}).get("retry_after")
        retry = retry if isinstance(retry, int) and retry >= 0 else None
        raise DeliveryFailed(f"Telegram is limiting the bot ({code} {description or 'Too Many Requests'})"
                             + (f": retry after {retry} s" if retry is not None else ""), retry_after=retry)
    if code == 400 and "chat not found" in description.lower():
        raise DeliveryFailed(f"Telegram does not know chat {chat_id} ({code} {description}): the staff member "
                             "must open a chat with the bot and send it /start first")
    if code == 403:
        raise DeliveryFailed(f"Telegram: the bot may not write to chat {chat_id} ({code} {description})")
    raise DeliveryFailed(f"Telegram refused the message to chat {chat_id} ({code} {description})")
