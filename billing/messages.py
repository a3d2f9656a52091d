"""The words of every SMS to a customer: the templates saved on the SMS settings page filled with a
payment's, subscription's or invoice's values, in the customer's language.

A customer's messages speak the portal language of their last purchase (``Customer.language``,
remembered by billing/purchase.py); one who never bought in the portal gets the portal's default
(``general.language``).
"""
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from hotspot import fair_use
from hotspot.models import AfterAllowance, Subscription
from siteconfig import store
from siteconfig.message_templates import MESSAGES, render

from .models import AllowanceAlert, Invoice, Payment

# Kiswahili month abbreviations are not what strftime gives in English: dates go by number.
DATE_FORMATS = {"en": "%d %b %H:%M", "sw": "%d/%m/%Y %H:%M"}


def language(customer=None) -> str:
    return (customer.language if customer is not None else "") or store.get("general.language")


def _moment(moment: datetime, lang: str) -> str:
    return timezone.localtime(moment).strftime(DATE_FORMATS.get(lang, DATE_FORMATS["en"]))


def _money(amount: Decimal) -> str:
    return f"{store.get('general.currency')} {amount:,.0f}"


def compose(name: str, lang: str, **values) -> str:
    """Message ``name`` in ``lang`` with ``values`` (the business and support phone are added)."""
    message = MESSAGES[name]
    general = store.section("general")
    template = store.get(f"sms.{name}_{lang}")
    return render(message, template, lang, {"business": general.business_name,
                                            "support_phone": general.support_phone, **values})


def receipt(payment: Payment) -> str:
    customer = payment.customer
    lang = language(customer)
    paid = {"amount": _money(payment.amount),
            "receipt": f"M-Pesa {payment.mpesa_receipt}" if payment.mpesa_receipt else payment.get_method_display()}
    if payment.subscription is None:
        return compose("topup", lang, **paid)
    bought = {"package": str(payment.package or payment.subscription.package),
              "expires": _moment(payment.subscription.expires_at, lang)}
    return " ".join((compose("receipt", lang, **paid, **bought),
                     compose("credentials", lang, username=customer.username or "", password=customer.password,
                             **bought)))


RECEIPT_SUBJECTS = {"en": "{business}: receipt for {amount}", "sw": "{business}: risiti ya {amount}"}


def receipt_subject(payment: Payment) -> str:
    lang = language(payment.customer)
    return RECEIPT_SUBJECTS.get(lang, RECEIPT_SUBJECTS["en"]).format(
        business=store.get("general.business_name"), amount=_money(payment.amount))


def expiry(subscription: Subscription) -> str:
    lang = language(subscription.customer)
    return compose("expiry", lang, package=str(subscription.package), username=subscription.customer.username or "",
                   expires=_moment(subscription.expires_at, lang))


def invoice_due(invoice: Invoice) -> str:
    lang = language(invoice.customer)
    return compose("invoice", lang, invoice=invoice.number, amount=_money(invoice.amount),
                   package=str(invoice.package), due=_moment(invoice.due_at, lang))


def invoice_overdue(invoice: Invoice) -> str:
    return compose("overdue", language(invoice.customer), invoice=invoice.number, amount=_money(invoice.amount))


def _data(octets: int) -> str:
    """Bytes as a customer counts them: "750 MB", "1.5 GB"."""
    return f"{octets / 2**30:.1f} GB".replace(".0 GB", " GB") if octets >= 2**30 else f"{octets // 2**20} MB"


def allowance_reached(subscription: Subscription, threshold: int, standing: fair_use.Standing) -> str:
    """The 80 % or 100 % SMS of ``subscription``'s period allowance (``standing``: its count now); at
    100 % the words say whether the plan slows down or stops."""
    lang = language(subscription.customer)
    package = subscription.package
    values = {"package": str(package), "allowance": _data((package.data_limit_mb or 0) * 2**20)}
    if threshold < AllowanceAlert.Threshold.USED_UP:
        return compose("data_80", lang, left=_data(standing.period_left or 0), **values)
    if package.after_allowance == AfterAllowance.THROTTLE and package.fup_rate_limit:
        return compose("data_100", lang, speed=fair_use.speed(package.fup_rate_limit), **values)
    return compose("data_100_block", lang, **values)
