"""Outgoing e-mail through the SMTP server saved on the E-mail settings page (``EMAIL_BACKEND``).

Each connection reads host, port, STARTTLS, user, password and from address from the settings
store, so a change applies to the next e-mail in every process. Without a host the message is
written to the log instead (as Django's console backend would), so the quick start needs no server.
"""
import logging
import smtplib
import socket
import ssl

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends import smtp

from audit import trail

from . import store

log = logging.getLogger(__name__)


class MailError(Exception):
    """The SMTP server could not be reached or refused; the message says which, never the password."""


class EmailBackend(smtp.EmailBackend):
    def __init__(self, fail_silently=False, **kwargs):
        email = store.section("email")
        super().__init__(host=email.host or None, port=email.port, username=email.user, password=email.password,
                         use_tls=email.use_tls, use_ssl=False, timeout=settings.EMAIL_TIMEOUT,
                         fail_silently=fail_silently)
        # The parent falls back to settings.EMAIL_HOST for a blank host; a host cleared on the page
        # means "write to the log".
        self.host = email.host
        self.from_address = email.from_address

    def send_messages(self, email_messages):
        for message in email_messages:
            # Built with Django's default sender: the one saved on the page instead.
            if message.from_email == settings.DEFAULT_FROM_EMAIL:
                message.from_email = self.from_address
        if not self.host:
            for message in email_messages:
                log.info("E-mail not sent (no SMTP host set) to %s: %s\n%s", ", ".join(message.recipients()),
                         message.subject, message.body)
            return len(email_messages)
        return super().send_messages(email_messages)


def explain(error: Exception) -> str:
    """What went wrong, in words for the settings page; the server's own answer where it gave one."""
    email = store.section("email")
    where = f"{email.host}:{email.port}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"{where} refused the user name or password: {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        (address, (code, answer)), *_ = error.recipients.items()
        return f"{where} refused the recipient {address}: {code} {_text(answer)}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{where} answered {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return f"{where} does not offer STARTTLS: turn it off, or use the server's TLS port"
    if isinstance(error, ssl.SSLError):
        return f"TLS with {where} failed: {error.reason or error}"
    if isinstance(error, socket.timeout | TimeoutError):
        return f"{where} did not answer within {settings.EMAIL_TIMEOUT} s"
    if isinstance(error, OSError):
        return f"Could not connect to {where}: {error.strerror or error}"
    return f"{where}: {error}"


def _text(answer) -> str:
    return (answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer))[:200]


def send_test(to: str) -> str:
    """Send a test e-mail to ``to`` through the saved server; returns what happened (MailError when it
    failed). Audited on the e-mail settings, sent or not, so "who tried the new server?" has an answer."""
    email = store.section("email")
    general = store.section("general")
    message = EmailMessage(subject=f"{general.business_name}: test e-mail",
                           body="This is a test e-mail from the Settings page. If you can read it, e-mail works.",
                           from_email=email.from_address, to=[to])
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as error:
        reason = explain(error)
        trail.record("test_failed", object_type="siteconfig.value", object_id="email", label="E-mail settings",
                     note=f"test e-mail to {to}: {reason}"[:255])
        raise MailError(reason) from None
    done = f"Test e-mail sent to {to} through {email.host}:{email.port}." if email.host else (
        f"No SMTP host is set: the test e-mail to {to} was written to the log, not sent.")
    trail.record("test_sent", object_type="siteconfig.value", object_id="email", label="E-mail settings",
                 note=done[:255])
    return done

