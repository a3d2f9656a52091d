"""The support desk's money moves on a customer: an M-Pesa prompt to their phone for a package, and
their sign-in details sent again by SMS (after a password reset, or a lost receipt)."""
from django.utils import timezone

from audit import trail
from hotspot import services as hotspot
from hotspot.models import Customer, Package

from . import messages, notifications, payments
from .models import Notification, Payment


def prompt(customer: Customer, package: Package) -> Payment:
    """Ask M-Pesa to prompt the customer's own phone for ``package`` (they confirm with their PIN:
    staff never handle the money). Raises payments.PaymentError with the reason."""
    if not customer.phone:
        raise payments.PaymentError("The customer has no phone number to prompt.", "no_phone")
    return payments.start_stk(phone=customer.phone, package=package, customer=customer)


def send_credentials(customer: Customer) -> Notification:
    """The customer's username and password by SMS, in the business's words (SMS settings)."""
    current = hotspot.current_subscription(customer)
    lang = messages.language(customer)
    text = messages.compose(
        "credentials", lang, username=customer.username or "", password=customer.password,
        package=str(current.package) if current else "",
        expires=timezone.localtime(current.expires_at).strftime("%d/%m/%Y %H:%M") if current else "")
    sent = notifications.send_sms(customer.phone or "", text, customer=customer)
    trail.record("credentials_sent", customer, note=f"by SMS to {customer.phone or '(no phone)'}: {sent.status}")
    return sent
