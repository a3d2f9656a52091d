"""Messages to customers (receipts, reminders) through one adapter: the console backend logs them,
the Africa's Talking backend sends them over its HTTP SMS API. Every attempt is recorded, so staff
can answer "did the customer get the SMS?".

The backend, username, API key, sender and sandbox flag are read from the settings store at each
message, so a change on the SMS settings page applies to the next SMS in every worker."""
import logging
import smtplib
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.core.mail import EmailMessage

from audit import trail
from hotspot.models import Customer
from siteconfig import mail, store

from .models import Notification

log = logging.getLogger(__name__)
# Africa's Talking's sandbox answers like the live API but delivers only to its web simulator.
SANDBOX_URL = "https://api.sandbox.africastalking.com/version1/messaging"


class SmsError(Exception):
    pass


@dataclass
class Sent:
    """What a run of messages (receipts, reminders) came to."""
    sent: int = 0
    skipped: int = 0
    failed: int = 0


def _console(to: str, text: str, sms) -> None:
    log.info("SMS to %s: %s", to, text)


def _africastalking(to: str, text: str, sms) -> None:
    data = {"username": sms.username, "to": f"+{to}", "message": text}
    if sms.sender_id:
        data["from"] = sms.sender_id
    url = SANDBOX_URL if sms.sandbox else settings.SMS_API_URL
    try:
        response = httpx.post(url, data=data, timeout=settings.SMS_TIMEOUT_SECONDS,
                              headers={"apiKey": sms.api_key, "Accept": "application/json"})
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
    sms = store.section("sms")
    backend = sms.backend
    record = Notification(channel=Notification.Channel.SMS, to=to, text=text, backend=backend,
                          status=Notification.Status.SENT, customer=customer)
    try:
        if not to:
            raise SmsError("No phone number")
        BACKENDS[backend](to, text, sms)
    except (SmsError, KeyError) as error:
        record.status = Notification.Status.FAILED
        record.error = (f"Unknown SMS backend {backend!r}" if isinstance(error, KeyError) else str(error))[:255]
        log.warning("SMS to %s not sent: %s", to, record.error)
    record.save()
    return record


def send_email(to: str, subject: str, text: str, customer: Customer | None = None) -> Notification:
    """Send one e-mail through the E-mail settings' server; never raises: a refusal or an unreachable
    server is recorded on the returned notification, like an SMS the provider refused."""
    record = Notification(channel=Notification.Channel.EMAIL, to=to[:254], text=f"{subject}\n\n{text}",
                          backend=store.get("email.host") or "log", status=Notification.Status.SENT, customer=customer)
    try:
        EmailMessage(subject=subject, body=text, to=[to]).send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as error:
        record.status = Notification.Status.FAILED
        record.error = mail.explain(error)[:255]
        log.warning("E-mail to %s not sent: %s", to, record.error)
    record.save()
    return record


def send_test(to: str) -> Notification:
    """The "Send test SMS" button: one SMS to ``to`` through the saved backend; audited on the SMS
    settings, sent or not, so "who tried the new key?" has an answer."""
    business = store.get("general.business_name")
    note = send_sms(to, f"{business}: a test SMS from the Settings page. If you can read this, SMS works.")
    outcome = "sent" if note.status == Notification.Status.SENT else f"not sent: {note.error}"
    trail.record("test_sent" if note.status == Notification.Status.SENT else "test_failed",
                 object_type="siteconfig.value", object_id="sms", label="SMS settings",
                 note=f"test SMS to {to} through {note.backend}: {outcome}")
    return note
