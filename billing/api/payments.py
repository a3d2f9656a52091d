"""API /api/payments: the list, recording cash, one payment with its callbacks and ledger, asking
M-Pesa about it now."""
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from django.db.models import Q
from ninja import Field, FilterLookup, FilterSchema, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access, perm
from hotspot.models import Customer, Package
from hotspot.phone import InvalidPhone, normalise_phone
from lib.api_types import Moment
from lib.paging import EXACT_UP_TO, count_estimated, page

from .. import payments, verification
from ..models import Invoice, Payment

payments_router = Router(tags=["payments"])


class PaymentOut(Schema):
    id: int
    customer_id: int | None
    customer_username: str | None
    phone: str
    package_id: int | None
    package_name: str | None
    amount: Decimal
    method: str
    status: str
    mpesa_receipt: str | None
    checkout_request_id: str | None
    result_code: int | None
    result_desc: str
    created_at: datetime
    completed_at: datetime | None
    reversed_at: datetime | None
    subscription_id: int | None

    @staticmethod
    def resolve_customer_username(payment: Payment) -> str | None:
        return payment.customer.username if payment.customer_id else None

    @staticmethod
    def resolve_package_name(payment: Payment) -> str | None:
        return payment.package.name if payment.package_id else None


class PaymentPage(Schema):
    count: int
    count_estimated: bool = count_estimated()
    results: list[PaymentOut]


class CallbackOut(Schema):
    id: int
    kind: str
    outcome: str
    detail: str
    received_at: datetime
    source_ip: str | None


class LedgerOut(Schema):
    id: int
    kind: str
    amount: Decimal
    description: str
    created_at: datetime


class PaymentDetail(PaymentOut):
    note: str
    callbacks: list[CallbackOut]
    ledger: list[LedgerOut]

    @staticmethod
    def resolve_callbacks(payment: Payment):
        return payment.callbacks.order_by("received_at", "pk")

    @staticmethod
    def resolve_ledger(payment: Payment):
        return payment.ledger.order_by("created_at", "pk")


class CashIn(Schema):
    customer_id: int
    amount: Decimal = Field(gt=0, max_digits=10, decimal_places=2, description="KES")
    package_id: int | None = Field(None, description="buy this package with it (the rest stays in the wallet)")
    invoice_id: int | None = Field(None, description="settle this invoice of the customer's with it")
    note: str = Field("", max_length=255)


class VerifyOut(Schema):
    result: str
    payment: PaymentOut


class Message(Schema):
    detail: str


class PaymentFilter(FilterSchema):
    status: Payment.Status | None = None
    method: Payment.Method | None = None
    phone: str | None = None
    customer_id: int | None = None
    since: Annotated[Moment | None, FilterLookup("created_at__gte")] = None
    until: Annotated[Moment | None, FilterLookup("created_at__lt")] = None
    q: str | None = None

    def filter_phone(self, phone: str | None) -> Q:
        if not phone:  # FilterSchema asks a filter_ method even for an absent value
            return Q()
        try:
            return Q(phone=normalise_phone(phone))
        except InvalidPhone as error:
            raise HttpError(422, str(error)) from None

    def filter_q(self, q: str | None) -> Q:
        return Q()  # the search is the queryset's (Payment.objects.search), applied in filter()

    def filter(self, found):
        return super().filter(found).search(self.q or "")


def _payments():
    return Payment.objects.select_related("customer", "package")


def _payment(payment_id: int) -> Payment:
    payment = _payments().filter(pk=payment_id).first()
    if payment is None:
        raise HttpError(404, f"No payment with id {payment_id}")
    return payment


VIEW = perm("billing.view_payment")


@payments_router.get("", auth=api_access(VIEW), response=PaymentPage, summary="Payments, newest first")
def list_payments(request, filters: Query[PaymentFilter], limit: int = 50, offset: int = 0):
    return page(filters.filter(_payments().order_by("-created_at", "-pk")), limit, offset, estimate_past=EXACT_UP_TO)


@payments_router.post("", auth=api_access(perm("billing.add_payment")),
                      response={201: PaymentOut, 404: Message, 409: Message}, summary="Record a cash payment")
def record_cash(request, data: CashIn):
    customer = Customer.objects.filter(pk=data.customer_id).first()
    if customer is None:
        raise HttpError(404, f"No customer with id {data.customer_id}")
    package = invoice = None
    if data.package_id is not None:
        package = Package.objects.filter(pk=data.package_id).first()
        if package is None:
            raise HttpError(404, f"No package with id {data.package_id}")
    if data.invoice_id is not None:
        invoice = Invoice.objects.filter(pk=data.invoice_id, customer=customer).first()
        if invoice is None:
            raise HttpError(404, f"No invoice with id {data.invoice_id} for this customer")
    try:
        payment = payments.record_cash(customer=customer, amount=data.amount, by=request.user, package=package,
                                       invoice=invoice, note=data.note)
    except payments.PaymentError as refused:
        raise HttpError(409, str(refused)) from None
    return Status(201, _payment(payment.pk))


@payments_router.get("/{payment_id}", auth=api_access(VIEW), response={200: PaymentDetail, 404: Message},
                     summary="One payment, with every callback about it and its ledger entries")
def get_payment(request, payment_id: int):
    return _payment(payment_id)


@payments_router.post("/{payment_id}/verify", auth=api_access(perm("billing.change_payment")),
                      response={200: VerifyOut, 404: Message}, summary="Ask M-Pesa about this payment now")
def verify_payment(request, payment_id: int):
    _payment(payment_id)
    result = verification.verify(payment_id, force=True)
    return {"result": result, "payment": _payment(payment_id)}
