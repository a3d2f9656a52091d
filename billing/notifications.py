"""Messages to customers (receipts, reminders) through one adapter: the console backend logs them,
the Africa's Talking backend sends them over its HTTP SMS API. Every attempt is recorded, so staff
can answer "did the customer get the SMS?"."""
import logging
from dataclasses import dataclass

import httpx
from django.conf import settings

from hotspot.models import Customer

from .models import Notification

log = logging.getLogger(__name__)


class SmsError(Exception):
    pass


@dataclass
class Sent:
    """What a run of messages (receipts, reminders) came to."""
    sent: int = 0
    skipped: int = 0
    failed: int = 0


def _console(to: str, text: str) -> None:
    log.info("SMS to %s: %s", to, text)


def _africastalking(to: str, text: str) -> None:
    data = {"username": settings.SMS_USERNAME, "to": f"+{to}", "message": text}
    if settings.SMS_SENDER_ID:
        data["from"] = settings.SMS_SENDER_ID
    try:
        response = httpx.post(settings.SMS_API_URL, data=data, timeout=settings.SMS_TIMEOUT_SECONDS,
                              headers={"apiKey": settings.SMS_API_KEY, "Accept": "application/json"})
    except httpx.HTTPError as error:
        raise SmsError(f"SMS provider unreachable: {error}") from error
    if response.status_code >= 300:
        raise SmsError(f"SMS provider answered {response.status_code}: {response.text[:150]}")
    try:
        recipients = response.json()["SMSMessageData"]["Recipients"]
    except (ValueError, KeyError, TypeError):
        raise SmsError(f"SMS provider answered without recipients: {response.text[:150]}") from None
    refused = [r for r in recipients if str(r.get("status", "")).lower() != "success"]
    if not recipients or refused:
        raise SmsError(f"SMS not accepted: {(refused or ['no recipient'])[0]}"[:250])


BACKENDS = {"console": _console, "africastalking": _africastalking}


def send_sms(to: str, text: str, customer: Customer | None = None) -> Notification:
    """Send one SMS; never raises: a provider failure is recorded on the returned notification."""
    backend = settings.SMS_BACKEND
    record = Notification(channel=Notification.Channel.SMS, to=to, text=text, backend=backend,
                          status=Notification.Status.SENT, customer=customer)
    try:
        if not to:
            raise SmsError("No phone number")
        BACKENDS[backend](to, text)
    except (SmsError, KeyError) as error:
        record.status = Notification.Status.FAILED
        record.error = (f"Unknown SMS_BACKEND {backend!r}" if isinstance(error, KeyError) else str(error))[:255]
        log.warning("SMS to %s not sent: %s", to, record.error)
    record.save()
    return record
