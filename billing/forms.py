"""Forms for the billing pages: the lists' filters, cash at the counter, reversals, wallet purchases,
and the report's month and day.

Filter forms are lib.listing.ListFilter: bound to request.GET, they never refuse a page (a value that
does not parse is reported beside its field and left out of the filter).
"""
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q

from hotspot.models import Customer, Package
from hotspot.phone import InvalidPhone, normalise_phone
from lib.listing import ListFilter
from siteconfig import time_zone

from . import wallets
from .models import IDENTIFIER, Invoice, MpesaCallback, Payment, of_customers_matching
from .reconciliation import day_bounds

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BusinessDay(forms.DateField):
    """A day in the years the business can have records for: 0001-01-01 or 9999-12-31 pushed the
    day's Nairobi bounds past Python's calendar (OverflowError, a 500 on every filtered page)."""

    default_validators = [MinValueValidator(date(2000, 1, 1)), MaxValueValidator(date(2999, 12, 31))]


def _search_box(placeholder: str) -> forms.CharField:
    return forms.CharField(label="Search", required=False, max_length=100,
                           widget=forms.TextInput(attrs={"type": "search", "placeholder": placeholder}))


def _choice(label: str, choices, anything: str) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=[("", anything), *choices])


def find_customer(text: str) -> Customer | None:
    """The customer a person means by a phone number or a username."""
    text = text.strip()
    if not text:
        return None
    try:
        found = Customer.objects.filter(phone=normalise_phone(text)).first()
    except InvalidPhone:
        found = None
    return found or Customer.objects.filter(username=text.lower()).first()


class PackageChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Package.objects.filter(is_active=True).order_by("display_order", "price"), **kwargs)

    def label_from_instance(self, package):
        return f"{package.name} · KES {package.price:,.2f}"


class FilterForm(ListFilter):
    """A list filter with an optional From/To range of Nairobi calendar days ("To" included)."""

    date_range = False

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        if self.date_range:  # "from" is a Python keyword, so these two can't be class attributes
            self.fields["from"] = BusinessDay(label="From", required=False, widget=DATE)
            self.fields["to"] = BusinessDay(label="To", required=False, widget=DATE)
            self.full_clean()  # ListFilter cleaned the form before these two fields were there

    def within(self, rows, field: str):
        first, last = self.value("from"), self.value("to")
        if first:
            rows = rows.filter(**{f"{field}__gte": day_bounds(first)[0]})
        if last:
            rows = rows.filter(**{f"{field}__lt": day_bounds(last)[1]})
        return rows

    @property
    def active(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.fields)


class PaymentFilterForm(FilterForm):
    date_range = True
    q = _search_box("Phone, receipt, name, username or CheckoutRequestID")
    status = _choice("Status", Payment.Status.choices, "Any status")
    method = _choice("Method", Payment.Method.choices, "Any method")
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def apply(self, payments):
        if self.value("status"):
            payments = payments.filter(status=self.value("status"))
        if self.value("method"):
            payments = payments.filter(method=self.value("method"))
        if self.value("customer"):
            payments = payments.filter(customer_id=self.value("customer"))
        return self.within(payments, "created_at").search(self.value("q", ""))

    def chosen_customer(self) -> Customer | None:
        return Customer.objects.filter(pk=self.value("customer")).first() if self.value("customer") else None


class CallbackFilterForm(FilterForm):
    """The M-Pesa log's filters. A search is a CheckoutRequestID or a receipt first (indexed fields,
    the whole log); when neither names a body, the bodies are scanned for the text, over the days
    chosen with From/To or else the last BODY_DAYS days only (``body_from``: the first day scanned,
    for the page to say so and offer the days before)."""

    date_range = True
    q = _search_box("CheckoutRequestID, receipt or text in the body")
    kind = _choice("Kind", MpesaCallback.Kind.choices, "Any kind")
    outcome = _choice("Outcome", MpesaCallback.Outcome.choices, "Any outcome")
    id = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    BODY_DAYS = 7
    EARLIER_DAYS = 28  # what the page offers to scan next
    body_from: date | None = None

    def apply(self, callbacks):
        for name in ("kind", "outcome", "id"):
            if self.value(name):
                callbacks = callbacks.filter(**{name: self.value(name)})
        callbacks = self.within(callbacks, "received_at")
        q = self.value("q", "").strip()
        if not q:
            return callbacks
        named = callbacks.filter(Q(checkout_request_id=q) | Q(mpesa_receipt=q.upper()))
        if named.exists():
            return named
        if not self.value("from"):
            last = self.value("to") or time_zone.today()
            self.body_from = last - timedelta(days=self.BODY_DAYS - 1)
            callbacks = callbacks.filter(received_at__gte=day_bounds(self.body_from)[0])
        return callbacks.filter(body__icontains=q)

    def earlier(self) -> date | None:
        """The From day that scans the EARLIER_DAYS before the ones scanned too."""
        return self.body_from - timedelta(days=self.EARLIER_DAYS) if self.body_from else None


class InvoiceFilterForm(FilterForm):
    q = _search_box("Invoice number, name, username or phone")
    status = _choice("Status", Invoice.Status.choices, "Any status")

    def apply(self, invoices):
        if self.value("status"):
            invoices = invoices.filter(status=self.value("status"))
        q = self.value("q", "").strip()
        if not q:
            return invoices
        # An invoice number first (UPPER(number) is indexed); else the customers' invoices, in two steps.
        if IDENTIFIER.fullmatch(q):
            named = list(invoices.filter(number__iexact=q).values_list("pk", flat=True)[:2])
            if named:
                return invoices.filter(pk__in=named)
        return invoices.filter(Q(number__iexact=q) | of_customers_matching(q))


class WalletFilterForm(FilterForm):
    q = _search_box("Phone, name or username")
    show = forms.ChoiceField(label="Show", required=False,
                             choices=[("", "With a balance"), ("all", "All customers")])

    def apply(self, customers) -> wallets.Ranking:
        """``customers`` with their ``balance``, largest first."""
        q = self.value("q", "").strip()
        return wallets.Ranking(customers.search(q) if q else customers, searched=bool(q),
                               everyone=self.value("show") == "all")


class CashPaymentForm(forms.Form):
    customer = forms.CharField(max_length=32, help_text="Their phone number or username")
    amount = forms.DecimalField(label="Amount (KES)", max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    package = PackageChoiceField(required=False, empty_label="None: the money stays in the wallet",
                                 help_text="Bought at once; any amount above its price stays in the wallet")
    invoice = forms.CharField(label="Invoice number", max_length=20, required=False,
                              help_text="An open invoice of this customer, paid in full")
    note = forms.CharField(max_length=255, required=False)

    def clean_customer(self):
        customer = find_customer(self.cleaned_data["customer"])
        if customer is None:
            raise forms.ValidationError("No customer has this phone number or username.")
        return customer

    def clean_invoice(self):
        number = self.cleaned_data["invoice"].strip()
        if not number:
            return None
        invoice = Invoice.objects.filter(number__iexact=number).first()
        if invoice is None:
            raise forms.ValidationError("No invoice has this number.")
        return invoice

    def clean(self):
        data = super().clean()
        invoice, customer = data.get("invoice"), data.get("customer")
        if invoice and data.get("package"):
            self.add_error("package", "Choose a package or an invoice, not both.")
        if invoice and customer and invoice.customer_id != customer.pk:
            self.add_error("invoice", f"Invoice {invoice.number} is another customer's.")
        return data


class ReverseForm(forms.Form):
    reason = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"placeholder": "e.g. refunded in cash"}),
                             help_text="Access already given stays; suspend the subscription if it should end.")


class WalletPurchaseForm(forms.Form):
    package = PackageChoiceField(empty_label="Choose a package")


class ReportForm(FilterForm):
    month = BusinessDay(required=False, input_formats=["%Y-%m"])
    day = BusinessDay(label="Reconcile day", required=False)

    def chosen(self, today: date) -> tuple[date, date]:
        """(first day of the month shown, day reconciled): this month and yesterday unless chosen."""
        month = self.value("month", today).replace(day=1)
        return month, self.value("day") or today - timedelta(days=1)
